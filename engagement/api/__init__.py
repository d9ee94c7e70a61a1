"""The pharmacy engagement REST API, mounted at /api/engagement/ (see urls.py)."""

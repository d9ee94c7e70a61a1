"""The campaigns app's REST API, mounted at /api/campaigns/ (see urls.py)."""

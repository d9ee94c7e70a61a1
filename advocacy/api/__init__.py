"""The advocacy app's REST API, mounted at /api/advocacy/ (see urls.py)."""

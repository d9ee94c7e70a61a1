"""The rcm REST API: claims, follow-ups and documents at /api/rcm/ (urls.py), and the
automation endpoints at /api/automation/ (automation_urls.py)."""

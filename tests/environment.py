"""Loaded by pytest before Django's settings (see `addopts` in pyproject.toml).

The settings module refuses to start without SECRET_KEY when DEBUG is off, which is right for
servers but not for a developer typing `pytest`. pytest-django switches DEBUG off again for the
tests themselves, so this only decides which defaults the settings module loads with.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-only-key-not-secret-" + "x" * 40)

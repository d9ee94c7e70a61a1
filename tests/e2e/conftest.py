"""Browser tests: Debian's Chromium, driven by Playwright, against a live server.

One server for the whole run (`site` fixture): its own database (a SQLite file, or
`<name>_e2e` beside the PostgreSQL database of DATABASE_URL), migrated and loaded with the small
demo, served by `manage.py runserver` on a free port of 127.0.0.1 exactly as `make run` serves
it. Tests sign in with the demo logins and assert on what the user sees; they share the demo
data, so each one finds its own rows (a free slot, an unworked claim) instead of assuming one.

Playwright only drives the browser: it never downloads one. Without /usr/bin/chromium
(`apt-get install chromium chromium-driver`) the tests are skipped, unless
OPSINTEL_REQUIRE_BROWSER=1 (CI) makes that a failure.

Every page a test opens must leave no error in the browser console: a Content-Security-Policy
violation, a failed static file or a script error fails the test that caused it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e import browser as tools

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OPSINTEL_CHROMIUM", "/usr/bin/chromium")
SERVER_START_SECONDS = 300


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class Site:
    url: str
    env: dict

    def manage(self, *args):
        """Run a management command against the site's database (e.g. to reset a row)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _e2e_database_url(tmp_dir):
    """A database of the site's own, never the one pytest-django is testing in."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp_dir / 'e2e.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_e2e"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name))


def _wait_until_up(url, server, log):
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped (exit {server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"the server did not answer /healthz in {SERVER_START_SECONDS}s")


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver"
        if os.environ.get("OPSINTEL_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def site(tmp_path_factory, chromium_path):
    tmp_dir = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": _e2e_database_url(tmp_dir),
        # Tasks run in-process, as in `make run`: the pages' "run now" buttons finish at once.
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for command in (["migrate", "--no-input"], ["seed_demo", "--size", "small"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip
    port = _free_port()
    log = tmp_dir / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield Site(url=url, env=env)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots():
    """var/screenshots/, emptied once a run: CI keeps it as an artefact; git ignores it."""
    folder = ROOT / "var" / "screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def new_page(browser, site):
    """new_page(viewport=PHONE) → a page in a fresh browser context (its own cookies).

    At the end of the test every page must have left the console free of errors."""
    pages = []

    def make(*, viewport=tools.DESKTOP):
        context = browser.new_context(
            base_url=site.url, viewport=viewport, accept_downloads=True, locale="en-US"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.console_problems = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and page.console_problems.append(
                    f"{page.url}: {message.text} ({message.location.get('url') or 'no resource'})"
                )
            ),
        )
        page.on("pageerror", lambda error: page.console_problems.append(f"{page.url}: {error}"))
        pages.append(page)
        return page

    yield make
    problems = [problem for page in pages for problem in page.console_problems]
    for page in pages:
        page.context.close()
    assert not problems, "the browser console reported:\n" + "\n".join(problems)


@pytest.fixture
def signed_in(new_page):
    """signed_in("care-manager") → a page signed in as that demo login."""

    def make(username, *, viewport=tools.DESKTOP):
        page = new_page(viewport=viewport)
        tools.sign_in(page, username)
        return page

    return make

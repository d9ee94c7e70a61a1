"""The README's quick start, run the way a newcomer runs it.

The commands are read from the README's first code block, not copied here, so the test
follows the README. They run in a clean copy of the repository (the files git tracks, no
virtualenv, no database, no `.env`) with an environment stripped of this project's variables:

- `make run` must install into .venv, migrate, load the demo and serve: the test waits for
  /healthz, signs in with a demo login the README names, and sees the apps;
- `make test` must install the test tools and run tests (narrowed with PYTEST_ARGS to one
  module, or it would run this test again).

Creating the virtualenv is most of the time (pip's wheel cache makes it a minute or two).
"""

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START_SECONDS = 900
# What a fresh machine does not have: none of the project's settings.
PROJECT_VARIABLES = re.compile(
    r"^(DEBUG|SECRET_KEY|DATABASE_URL|DJANGO_SETTINGS_MODULE|CELERY_.*|REDIS_URL|OPSINTEL_.*|"
    r"VIRTUAL_ENV|PYTEST_.*|PORT|HOST|"
    # An outer `make test PYTEST_ARGS=…` hands its variables down through these.
    r"MAKEFLAGS|MFLAGS|MAKELEVEL|MAKEOVERRIDES)$"
)


def quick_start_commands():
    """The commands of the README's first code block, comments dropped."""
    block = re.search(r"```\w*\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def clean_copy(destination):
    """The repository as a fresh clone has it: tracked files (and new files not ignored)."""
    git = shutil.which("git") or "git"
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, server, log):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = log.read_text()[-4000:]
            pytest.fail(f"`make run` stopped (exit {server.returncode}):\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return response.read().decode()
        except OSError:
            time.sleep(1)
    pytest.fail(f"`make run` did not serve {url} in {START_SECONDS}s:\n{log.read_text()[-4000:]}")


def sign_in(base, username, password):
    """Sign in through the login form as a browser would; returns the page it lands on."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = opener.open(base + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (our own http:// address)
        base + "/accounts/login/", data=body, headers={"Referer": base + "/accounts/login/"}
    )
    return opener.open(request).read().decode()


@pytest.fixture
def newcomer(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know which files a clone has")
    checkout = tmp_path / "opsintel"
    clean_copy(checkout)
    env = {name: value for name, value in os.environ.items() if not PROJECT_VARIABLES.match(name)}
    return checkout, env


def test_readme_starts_with_the_two_commands():
    assert quick_start_commands() == ["make run", "make test"]


def test_quick_start_runs_in_a_clean_checkout(newcomer):
    checkout, env = newcomer
    run, test = quick_start_commands()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = checkout / "make-run.log"
    with log.open("w") as output:
        # PORT only moves the server off 8000, which a developer's own `make run` may hold.
        server = subprocess.Popen(
            run.split(), cwd=checkout, env={**env, "PORT": str(port)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        assert wait_for(base + "/healthz", server, log).startswith('{"status": "ok"')
        readme = README.read_text(encoding="utf-8")
        password = re.search(r"password `([^`]+)`", readme).group(1)
        username = re.search(r"Sign in as `([^`]+)`", readme).group(1)
        landing = sign_in(base, username, password)
        assert f"Sign out {username}" in landing
        for app in ("Campaigns", "Leader Hub", "Advocacy", "AR follow-up", "Pharmacy engagement"):
            assert app in landing, f"{username} does not see {app} after `make run`"
        assert "demo" in log.read_text().lower(), "`make run` printed no demo logins"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    result = subprocess.run(
        test.split(), cwd=checkout, capture_output=True, text=True, timeout=START_SECONDS,
        env={**env, "PYTEST_ARGS": "-q -p no:cacheprovider tests/opsintel/test_healthz.py"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]

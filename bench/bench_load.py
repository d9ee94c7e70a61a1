# ruff: noqa: S603 (subprocesses of our own tools: python, gunicorn, locust; no shell)
"""Load test: the main read pages and APIs of the five apps through gunicorn + PostgreSQL.

The script creates a throw-away PostgreSQL database (LOAD_BENCH_PG, default
postgres@127.0.0.1:5432, database opsintel_bench_load), migrates it, loads the demo data with
`seed_demo --size LOAD_BENCH_SIZE`, collects the static files into a temporary folder and starts
gunicorn on 127.0.0.1 at a free port with LOAD_BENCH_WORKERS workers (default 3) and DEBUG off,
as production runs it (a generated SECRET_KEY, ALLOWED_HOSTS=127.0.0.1; only the HTTPS redirect
and secure-cookie flags are off, since the loopback has no TLS).

Then LOAD_BENCH_USERS simulated people (default 8; every one of the personas below at least once)
sign in through the login form (CSRF token, session cookie) and get an API bearer token from
/api/token/, and request the pages and APIs of their app in a weighted mix, without pause, for at
most LOAD_BENCH_SECONDS (default 60) or LOAD_BENCH_MAX_REQUESTS requests (default 20,000),
whichever comes first. The driver is locust (`bench/locustfile.py`, headless) when it is
installed, otherwise a small generator in this file (threads + http.client); LOAD_BENCH_DRIVER=
builtin forces the latter. Redirects are not followed: anything but a 2xx is an error, printed
with its URL, and the error count must be 0 (the script exits 1 otherwise).

Figures: requests, requests/s, p50/p95/p99 overall against the same percentiles of /healthz
(the cheapest request through the same stack: the baseline), the error count, then one line per
endpoint. Stops gunicorn and drops the database at the end.

Size: `seed_demo --size medium` took 6.5-8.5 minutes on the 2-core machine, so the default is
small; LOAD_BENCH_SIZE=medium runs the issue's scale. LOAD_BENCH_REUSE_DB=name runs against an
existing, already seeded database and neither migrates, seeds nor drops it.

Run with `.venv/bin/python bench/bench_load.py` (or `make bench`).
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

PG_SERVER = os.environ.get("LOAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_load"
REUSE_DB = os.environ.get("LOAD_BENCH_REUSE_DB", "")
SIZE = os.environ.get("LOAD_BENCH_SIZE", "small")
WORKERS = int(os.environ.get("LOAD_BENCH_WORKERS", "3"))
USERS = int(os.environ.get("LOAD_BENCH_USERS", "8"))
SECONDS = int(os.environ.get("LOAD_BENCH_SECONDS", "60"))
MAX_REQUESTS = int(os.environ.get("LOAD_BENCH_MAX_REQUESTS", "20000"))
DRIVER = os.environ.get("LOAD_BENCH_DRIVER", "")
PASSWORD = os.environ.get("DEMO_PASSWORD", "opsintel-demo")
HEALTHZ = "/healthz"


# The scenario (shared with bench/locustfile.py) --------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """A demo login, the page its object ids are read from, and its weighted requests.

    A path may hold `{id}`: the first id that `discover` (a regex with one group) finds on the
    `discover_page`, i.e. an object this user can see. Paths under /api/ and /v1/ are sent with
    the bearer token, pages with the session cookie."""

    app: str
    username: str
    requests: tuple  # ((path, weight), ...)
    discover_page: str = ""
    discover: str = ""
    weight: int = 1


PERSONAS = (
    Persona(
        "campaigns",
        "care-manager",
        (
            ("/", 1),
            ("/campaigns/dashboard/", 3),
            ("/campaigns/list/", 2),
            ("/campaigns/{id}/", 3),
            ("/campaigns/{id}/export/crm.csv", 1),
            ("/api/campaigns/campaigns/", 1),
            ("/api/campaigns/interventions/", 1),
            (HEALTHZ, 1),
        ),
        "/campaigns/list/",
        r'href="/campaigns/(\d+)/"',
    ),
    Persona(
        "campaigns",
        "coordinator-01",
        (("/campaigns/my-list/", 3), ("/campaigns/mobile/", 1)),
    ),
    Persona(
        "leaderhub",
        "market-manager",
        (
            ("/leader-hub/markets/", 3),
            ("/leader-hub/providers/{id}/", 3),
            ("/v1/leader-hub-metrics/providers/{id}", 1),
            ("/v1/leader-hub-metrics/providers/{id}/provider-visits", 1),
            (HEALTHZ, 1),
        ),
        "/leader-hub/markets/",
        r'href="/leader-hub/providers/(\d+)/"',
        weight=2,
    ),
    Persona(
        "advocacy",
        "operations-leader",
        (
            ("/advocacy/dashboards/executive/", 2),
            ("/advocacy/dashboards/operations/", 2),
            ("/advocacy/dashboards/root-cause/", 1),
            ("/advocacy/cases/", 3),
            ("/advocacy/cases/{id}/", 2),
            ("/advocacy/risk/", 1),
            ("/api/advocacy/kpis/", 1),
            ("/api/advocacy/cases/", 1),
            (HEALTHZ, 1),
        ),
        "/advocacy/cases/",
        r'href="/advocacy/cases/(\d+)/"',
        weight=2,
    ),
    Persona(
        "rcm",
        "ar-manager",
        (
            ("/rcm/claims/", 3),
            ("/rcm/claims/{id}/", 2),
            ("/rcm/dashboard/", 2),
            ("/api/rcm/claims/", 1),
            (HEALTHZ, 1),
        ),
        "/rcm/claims/",
        r'href="/rcm/claims/(\d+)/"',
    ),
    Persona("rcm", "general-agent", (("/rcm/queue/", 3),)),
    Persona(
        "engagement",
        "pharmacy-manager",
        (
            ("/engagement/schedule/", 3),
            ("/engagement/dashboard/", 2),
            ("/engagement/tasks/", 2),
            ("/engagement/patients/", 1),
            ("/engagement/patients/{id}/", 1),
            ("/api/engagement/appointments/", 1),
            ("/api/engagement/kpis/", 1),
            (HEALTHZ, 1),
        ),
        "/engagement/patients/",
        r'href="/engagement/patients/(\d+)/"',
        weight=2,
    ),
)


def is_api(path):
    return path.startswith(("/api/", "/v1/"))


def csrf_token_from(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the login page")
    return match.group(1)


def discovered_id(persona, html):
    match = re.search(persona.discover, html)
    if not match:
        raise RuntimeError(f"{persona.username}: no id on {persona.discover_page}")
    return match.group(1)


def personas_for(users):
    """`users` personas: each once, then by weight, in a fixed order."""
    pool = [p for p in PERSONAS for _ in range(p.weight)]
    return [*PERSONAS, *(pool[i % len(pool)] for i in range(max(0, users - len(PERSONAS))))]


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


# The built-in driver: threads + http.client -----------------------------------------------------


class Session:
    """One simulated person: a keep-alive connection, cookies, a bearer token."""

    def __init__(self, host, port, persona):
        self.host, self.port, self.persona = host, port, persona
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies = {}
        self.token = ""
        self.object_id = ""

    def request(self, method, path, body=None, headers=None):
        headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, cookie_value = value.split(";", 1)[0].split("=", 1)
                self.cookies[cookie_name.strip()] = cookie_value.strip()
        return response.status, content

    def sign_in(self):
        status, content = self.request("GET", "/accounts/login/")
        token = csrf_token_from(content.decode())
        form = urlencode(
            {
                "csrfmiddlewaretoken": token,
                "username": self.persona.username,
                "password": PASSWORD,
            }
        )
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{self.host}:{self.port}/accounts/login/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.persona.username}: sign-in answered {status}")
        body = json.dumps({"username": self.persona.username, "password": PASSWORD})
        status, content = self.request(
            "POST", "/api/token/", body=body, headers={"Content-Type": "application/json"}
        )
        if status != 200:
            raise RuntimeError(f"{self.persona.username}: /api/token/ answered {status}")
        self.token = json.loads(content)["access"]
        if self.persona.discover_page:
            status, content = self.request("GET", self.persona.discover_page)
            self.object_id = discovered_id(self.persona, content.decode())

    def get(self, template):
        path = template.replace("{id}", self.object_id)
        headers = {"Authorization": f"Bearer {self.token}"} if is_api(path) else {}
        status, _ = self.request("GET", path, headers=headers)
        return path, status


def run_builtin(host, port):
    import random

    lock = threading.Lock()
    samples = {}  # endpoint name -> [seconds, ...]
    errors = []
    counter = {"sent": 0}
    clock = {}

    def start_clock():
        clock["started"] = time.monotonic()
        clock["stop_at"] = clock["started"] + SECONDS

    # Everyone signs in first (password hashing is slow on purpose); then the clock starts.
    signed_in = threading.Barrier(USERS + 1, action=start_clock)

    def person(index, persona):
        rng = random.Random(index)  # the same mix every run
        session = Session(host, port, persona)
        try:
            session.sign_in()
        except Exception as exc:  # reported as an error, not a crash
            with lock:
                errors.append(("sign-in", persona.username, repr(exc)))
            signed_in.wait()
            return
        signed_in.wait()
        templates = [t for t, _ in persona.requests]
        weights = [w for _, w in persona.requests]
        while time.monotonic() < clock["stop_at"]:
            with lock:
                if counter["sent"] >= MAX_REQUESTS:
                    return
                counter["sent"] += 1
            template = rng.choices(templates, weights)[0]
            started = time.perf_counter()
            try:
                path, status = session.get(template)
            except Exception as exc:  # a dropped connection is an error too
                path, status = template, repr(exc)
            elapsed = time.perf_counter() - started
            with lock:
                samples.setdefault(template, []).append(elapsed)
                if not (isinstance(status, int) and 200 <= status < 300):
                    errors.append((template, path, status))

    threads = [
        threading.Thread(target=person, args=(i, p), daemon=True)
        for i, p in enumerate(personas_for(USERS))
    ]
    for thread in threads:
        thread.start()
    signed_in.wait()
    started = clock["started"]
    for thread in threads:
        thread.join(SECONDS + 120)
    duration = time.monotonic() - started
    rows = []
    for name, times in sorted(samples.items()):
        times.sort()
        failures = sum(1 for e in errors if e[0] == name)
        rows.append(
            {
                "name": name,
                "count": len(times),
                "failures": failures,
                "p50": percentile(times, 0.50) * 1000,
                "p95": percentile(times, 0.95) * 1000,
                "p99": percentile(times, 0.99) * 1000,
                "rps": len(times) / duration,
            }
        )
    everything = sorted(t for times in samples.values() for t in times)
    total = {
        "name": "Aggregated",
        "count": len(everything),
        "failures": len(errors),
        "p50": percentile(everything, 0.50) * 1000,
        "p95": percentile(everything, 0.95) * 1000,
        "p99": percentile(everything, 0.99) * 1000,
        "rps": len(everything) / duration,
    }
    return rows, total, [f"{e[2]} {e[1]}" for e in errors]


# The locust driver ------------------------------------------------------------------------------


def locust_available():
    if DRIVER == "builtin":
        return False
    return (BIN / "locust").exists()


def run_locust(host, port, folder):
    prefix = folder / "locust"
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(USERS),
        "-r",
        str(USERS),
        "--run-time",  # the outer bound: the locustfile stops SECONDS after the sign-ins
        f"{SECONDS + 180}s",
        "--stop-timeout",
        "10",
        "--host",
        f"http://{host}:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {
        **os.environ,
        "LOAD_BENCH_MAX_REQUESTS": str(MAX_REQUESTS),
        "LOAD_BENCH_SECONDS": str(SECONDS),
        "LOAD_BENCH_USERS": str(USERS),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        raise RuntimeError(f"locust wrote no statistics (exit {result.returncode})")
    import csv

    def number(text):
        return float(text) if text and text != "N/A" else float("nan")

    rows, total = [], None
    with stats_file.open() as handle:
        for line in csv.DictReader(handle):
            if line["Name"] != "Aggregated" and not int(line["Request Count"] or 0):
                continue
            row = {
                "name": line["Name"],
                "count": int(line["Request Count"]),
                "failures": int(line["Failure Count"]),
                "p50": number(line["50%"]),
                "p95": number(line["95%"]),
                "p99": number(line["99%"]),
                "rps": float(line["Requests/s"]),
            }
            if line["Name"] == "Aggregated":
                total = row
            elif line["Type"] == "GET":
                rows.append(row)
    errors = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open() as handle:
            for line in csv.DictReader(handle):
                errors.append(f"{line['Occurrences']}x {line['Method']} {line['Error']}")
    exceptions_file = Path(f"{prefix}_exceptions.csv")
    if exceptions_file.exists():
        with exceptions_file.open() as handle:
            for line in csv.DictReader(handle):
                errors.append(f"{line['Count']}x exception {line['Message']}")
    if result.returncode not in (0, 1):
        print(result.stderr[-3000:])
    return rows, total, errors


# The server -------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url, folder):
    """Production settings (DEBUG off), on a loopback without TLS; static files in `folder`."""
    (folder / "bench_load_settings.py").write_text(
        f"from opsintel.settings import *  # noqa: F403\nSTATIC_ROOT = {str(folder / 'static')!r}\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"}
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="bench_load_settings",
        PYTHONPATH=f"{folder}{os.pathsep}{ROOT}",
    )
    return env


def manage(env, *args):
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True)


@contextlib.contextmanager
def gunicorn(env, port, folder):
    log = folder / "gunicorn.log"
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "opsintel.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--error-logfile",
            str(log),
            "--timeout",
            "60",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", HEALTHZ, headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}:\n{log.read_text()}")
            time.sleep(0.5)
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Main -------------------------------------------------------------------------------------------


def admin_connection():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def report(rows, total, errors, driver, duration):
    baseline = next((r for r in rows if r["name"] == HEALTHZ), None)

    def against(key):
        if not baseline or not baseline[key]:
            return ""
        ratio = total[key] / baseline[key]
        return f" (baseline {HEALTHZ} {baseline[key]:.0f} ms, ratio {ratio:.1f}x)"

    print(
        f"load_driver: {driver}, {USERS} users, {WORKERS} gunicorn workers, "
        f"{duration:.0f} s (bound {SECONDS} s / {MAX_REQUESTS:,} requests)"
    )
    print(f"load_requests: {total['count']:,} requests")
    print(f"load_throughput: {total['rps']:.1f} req/s")
    for key in ("p50", "p95", "p99"):
        print(f"load_latency_{key}: {total[key]:.0f} ms{against(key)}")
    print(f"load_errors: {max(len(errors), total['failures'])} errors (must be 0)")
    for error in errors:
        print(f"  error: {error}")
    width = max(len(r["name"]) for r in rows)
    for row in sorted(rows, key=lambda r: -r["p95"]):
        print(
            f"load_endpoint {row['name']:<{width}}: {row['count']:>6} req "
            f"{row['rps']:6.1f} req/s  p50 {row['p50']:6.0f}  p95 {row['p95']:6.0f}  "
            f"p99 {row['p99']:6.0f} ms  errors {row['failures']}"
        )


def main():
    started = time.perf_counter()
    database = REUSE_DB or DB_NAME
    if not REUSE_DB:
        with admin_connection() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {DB_NAME}")
    failed = True
    try:
        with tempfile.TemporaryDirectory(prefix="opsintel-load-") as tmp:
            folder = Path(tmp)
            env = server_env(f"{PG_SERVER}/{database}", folder)
            if not REUSE_DB:
                manage(env, "migrate", "--no-input", "--verbosity", "0")
                seeding = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "manage.py"),
                        "seed_demo",
                        "--size",
                        SIZE,
                        "--force",
                    ],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                print(
                    f"seed: seed_demo --size {SIZE} in {time.perf_counter() - seeding:.0f} s "
                    f"(throw-away {DB_NAME})"
                )
            else:
                print(f"seed: reusing database {REUSE_DB} as it is")
            manage(env, "collectstatic", "--no-input", "--verbosity", "0")
            port = free_port()
            with gunicorn(env, port, folder) as log:
                load_started = time.monotonic()
                if locust_available():
                    driver = "locust"
                    rows, total, errors = run_locust("127.0.0.1", port, folder)
                else:
                    driver = "builtin (threads + http.client)"
                    rows, total, errors = run_builtin("127.0.0.1", port)
                duration = time.monotonic() - load_started
                server_errors = [
                    line for line in log.read_text().splitlines() if "Traceback" in line
                ]
            report(rows, total, errors, driver, duration)
            if server_errors:
                print(f"gunicorn log: {len(server_errors)} tracebacks")
            failed = bool(errors) or bool(total["failures"]) or bool(server_errors)
    finally:
        if not REUSE_DB:
            with admin_connection() as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

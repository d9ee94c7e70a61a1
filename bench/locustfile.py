"""Locust scenario for bench/bench_load.py: one user class per demo persona (bench_load.PERSONAS).

Each simulated person signs in through the login form (CSRF token, session cookie), gets a
bearer token from /api/token/ for the API paths, reads an object id it can see from its list
page, then requests its weighted mix without pause. Redirects are not followed and anything but
a 2xx is a failure carrying the URL. The run stops by itself after LOAD_BENCH_MAX_REQUESTS
requests, or SECONDS after the last sign-in (LOAD_BENCH_USERS tells how many to wait for;
--run-time is the outer bound). Normally started by bench/bench_load.py; by hand:

    .venv/bin/locust -f bench/locustfile.py --headless -u 8 -r 8 --run-time 60s \
        --host http://127.0.0.1:PORT
"""

import os
import sys
from pathlib import Path

import gevent
from locust import HttpUser, constant, events

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import (
    PASSWORD,
    PERSONAS,
    csrf_token_from,
    discovered_id,
    is_api,
)

MAX_REQUESTS = int(os.environ.get("LOAD_BENCH_MAX_REQUESTS", "20000"))
SECONDS = int(os.environ.get("LOAD_BENCH_SECONDS", "60"))
USERS = int(os.environ.get("LOAD_BENCH_USERS", "0"))  # 0: don't wait for the sign-ins
_state = {"runner": None, "signed_in": 0, "measuring": USERS == 0, "sent": 0}


@events.init.add_listener
def remember_runner(environment, **_kwargs):
    _state["runner"] = environment.runner


def quit_runner():
    if _state["runner"] is not None:
        _state["runner"].quit()


def signed_in():
    """Everyone has signed in (password hashing is slow on purpose): forget the sign-in
    requests, then measure for SECONDS (--run-time is only the outer bound)."""
    _state["signed_in"] += 1
    if _state["signed_in"] == USERS:
        if not _state["runner"].stats.total.num_failures:  # failed sign-ins stay reported
            _state["runner"].stats.reset_all()
        _state["measuring"] = True
        gevent.spawn_later(SECONDS, quit_runner)


@events.request.add_listener
def stop_after_max_requests(**_kwargs):
    if not _state["measuring"]:
        return
    _state["sent"] += 1
    if _state["sent"] == MAX_REQUESTS:
        gevent.spawn(quit_runner)


class PersonaUser(HttpUser):
    abstract = True
    persona = None
    wait_time = constant(0)

    def check(self, response, expected=range(200, 300)):
        if response.status_code in expected:
            response.success()
        else:
            response.failure(f"{response.status_code} {response.request.url}")

    def on_start(self):
        try:
            self.sign_in()
        finally:  # a failed sign-in is reported as a failure; the run goes on without waiting
            signed_in()

    def sign_in(self):
        persona = self.persona
        self.object_id = ""
        self.token = ""
        with self.client.get(
            "/accounts/login/", name="sign-in form", allow_redirects=False, catch_response=True
        ) as response:
            self.check(response)
            token = csrf_token_from(response.text) if response.ok else ""
        with self.client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": persona.username, "password": PASSWORD},
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self.check(response, expected=(302,))
        with self.client.post(
            "/api/token/",
            json={"username": persona.username, "password": PASSWORD},
            name="api token",
            catch_response=True,
        ) as response:
            self.check(response)
            if response.ok:
                self.token = response.json()["access"]
        if persona.discover_page:
            with self.client.get(
                persona.discover_page, allow_redirects=False, catch_response=True
            ) as response:
                self.check(response)
                try:
                    self.object_id = discovered_id(persona, response.text)
                except RuntimeError as error:
                    response.failure(str(error))
                    self.object_id = "0"


def make_task(template):
    def task(user):
        path = template.replace("{id}", user.object_id)
        headers = {"Authorization": f"Bearer {user.token}"} if is_api(path) else {}
        with user.client.get(
            path, name=template, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            user.check(response)

    task.__name__ = f"get {template}"
    return task


for _persona in PERSONAS:
    _name = "User_" + _persona.username.replace("-", "_")
    globals()[_name] = type(
        _name,
        (PersonaUser,),
        {
            "persona": _persona,
            "weight": _persona.weight,
            "tasks": {make_task(t): w for t, w in _persona.requests},
        },
    )

"""Login throttling never locks the rightful owner out (issue 11, defect 11).

Past LOGIN_FAILURES wrong passwords for one username from one client, every further try
waits a bounded delay and a wrong password answers 429; the right password still logs in
(and clears the count) in every scheme: the session login form, Basic auth, and the token
creation that the awx CLI does over Basic.  The count is per username and client address.
"""
from __future__ import annotations

import time

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import ensure_admin

try:
    from conftest import ADMIN_PASSWORD, Client
except ImportError:  # pragma: no cover - package-style import
    from .conftest import ADMIN_PASSWORD, Client

ATTACKER = "10.9.8.7"
OTHER = "10.1.2.3"


@pytest.fixture()
def state(tmp_path):
    st = open_state(Settings({"DATA_DIR": str(tmp_path / "data")}, environ={}))
    ensure_admin(st, ADMIN_PASSWORD)
    # the delay is real but short here; test_delay_is_applied_and_bounded measures it
    st.auth.limiter.step, st.auth.limiter.max_delay = 0.01, 0.02
    yield st
    st.store.close()


@pytest.fixture()
def app(state):
    return create_app(state=state)


def _login(app, username: str, password: str, addr: str = ATTACKER):
    """The awxkit sequence (GET /api/ for csrftoken, then the form POST) from ``addr``."""
    http = app.test_client()
    env = {"REMOTE_ADDR": addr}
    assert http.get("/api/", environ_base=env).status_code == 200
    csrf = http.get_cookie("csrftoken").value
    resp = http.post("/api/login/", data={"username": username, "password": password, "next": "/api/"},
                     headers={"X-CSRFToken": csrf}, environ_base=env)
    return http, resp


def _me(app, username: str, password: str, addr: str = ATTACKER):
    return Client(app, username, password).get("/api/v2/me/", environ_base={"REMOTE_ADDR": addr})


def _session(resp) -> bool:
    return any(c.startswith("awx_sessionid=") for c in resp.headers.getlist("Set-Cookie"))


def _sessions(state) -> int:
    return state.store.count("sessions")


def test_twenty_wrong_then_right_password_logs_in(app, state):
    statuses = [_login(app, "admin", f"wrong-{i}")[1].status_code for i in range(20)]
    # the first LOGIN_FAILURES are plain failures, the rest are throttled
    assert statuses == [401] * 10 + [429] * 10
    assert _sessions(state) == 0
    http, resp = _login(app, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 302 and _session(resp)
    assert _sessions(state) == 1
    me = http.get("/api/v2/me/", environ_base={"REMOTE_ADDR": ATTACKER})
    assert me.status_code == 200 and me.get_json()["results"][0]["username"] == "admin"
    # success cleared the count: the next wrong password is a plain 401 again
    assert _login(app, "admin", "wrong-again")[1].status_code == 401


def test_wrong_passwords_stay_throttled_past_the_limit(app, state):
    for _ in range(10):
        assert _me(app, "admin", "bad").status_code == 401
    for _ in range(5):
        resp = _me(app, "admin", "bad")
        assert resp.status_code == 429
        assert resp.get_json()["detail"].startswith("Request was throttled.")
        assert 0 < int(resp.headers["Retry-After"]) <= state.settings.LOGIN_WINDOW + 1
    # the throttled form login shows the form again without a session
    _, resp = _login(app, "admin", "bad")
    assert resp.status_code == 429 and not _session(resp) and "<form" in resp.get_data(as_text=True)
    assert _sessions(state) == 0


def test_basic_and_token_creation_work_for_the_owner_when_throttled(app, state):
    for _ in range(12):
        _me(app, "admin", "bad")
    resp = _me(app, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 200 and resp.get_json()["results"][0]["username"] == "admin"
    for _ in range(12):
        _me(app, "admin", "bad")
    # `awx login`: POST /api/v2/users/N/personal_tokens/ (or /tokens/) over Basic
    resp = Client(app, "admin", ADMIN_PASSWORD).post("/api/v2/tokens/", {"description": "cli", "scope": "write"},
                                                     environ_base={"REMOTE_ADDR": ATTACKER})
    assert resp.status_code == 201, resp.get_json()
    token = resp.get_json()["token"]
    assert state.store.count("tokens") == 1
    me = Client(app, token=token).get("/api/v2/me/")
    assert me.status_code == 200 and me.get_json()["results"][0]["username"] == "admin"


def test_the_count_is_per_username_and_client(app, state):
    uid = state.store.insert("users", {"username": "bob", "password": "", "is_superuser": 0})
    assert uid
    for _ in range(11):
        _me(app, "admin", "bad", ATTACKER)
    assert _me(app, "admin", "bad", ATTACKER).status_code == 429
    # the same username from another address, another username from the same address
    assert _me(app, "admin", "bad", OTHER).status_code == 401
    assert _me(app, "bob", "bad", ATTACKER).status_code == 401
    assert _login(app, "admin", "bad", OTHER)[1].status_code == 401


def test_delay_is_applied_and_bounded(app, state):
    limiter = state.auth.limiter
    limiter.step, limiter.max_delay = 0.2, 0.3
    for _ in range(10):
        _me(app, "admin", "bad")
    took = []
    for _ in range(3):
        start = time.monotonic()
        assert _me(app, "admin", "bad").status_code == 429
        took.append(time.monotonic() - start)
    # 0.2 s, then 0.4 s capped at 0.3 s (plus the password check itself)
    assert 0.2 <= took[0] < 1.5
    assert all(0.3 <= t < 1.6 for t in took[1:])
    start = time.monotonic()
    assert _me(app, "admin", ADMIN_PASSWORD).status_code == 200
    assert 0.3 <= time.monotonic() - start < 1.6
    # once the count is cleared there is no delay at all
    start = time.monotonic()
    assert _me(app, "admin", ADMIN_PASSWORD).status_code == 200
    assert time.monotonic() - start < 0.3


def test_an_unknown_username_costs_the_same_hashing_as_a_wrong_password(app, monkeypatch):
    """No username enumeration by timing: both refusals run the password KDF exactly once."""
    import hashlib

    calls: list[int] = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    _me(app, "nobody-yet", "x", addr=OTHER)     # the decoy hash is made once per process
    calls.clear()
    wrong = _me(app, "admin", "still-not-the-password", addr=OTHER)
    wrong_calls, calls[:] = len(calls), []
    unknown = _me(app, "no-such-user", "whatever", addr=OTHER)
    assert wrong.status_code == unknown.status_code == 401 and wrong.json == unknown.json
    assert wrong_calls == len(calls) == 1

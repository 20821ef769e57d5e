"""In-process fixtures for controller tests: the real Flask app on a real SQLite file.

``app`` is shared per test module (fast); ``admin`` is a client authenticated as the
superuser; ``make_user`` creates a user through the API and returns a client acting as it.
"""
from __future__ import annotations

import base64
import itertools
import json as jsonlib
from typing import Any

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize

ADMIN_PASSWORD = "admin-test-pw"
_names = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A name no other test in the module uses."""
    return f"{prefix}-{next(_names)}"


class Client:
    """Flask test client speaking JSON, with Basic, Bearer or no authentication."""

    def __init__(self, app, username: str | None = None, password: str | None = None,
                 token: str | None = None) -> None:
        self.app = app
        self.http = app.test_client()
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            cred = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {cred}"

    def request(self, method: str, path: str, json: Any = None, **kw: Any):
        headers = {**self.headers, **kw.pop("headers", {})}
        if json is not None:
            kw["data"] = jsonlib.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        return self.http.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)

    def options(self, path: str, **kw: Any):
        return self.request("OPTIONS", path, **kw)


@pytest.fixture(scope="module")
def app_state(tmp_path_factory):
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data"))}, environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    yield state
    state.store.close()


@pytest.fixture(scope="module")
def app(app_state):
    return create_app(state=app_state)


@pytest.fixture(scope="module")
def jobs(app_state, request):
    """The job dispatcher of the module's app: ``JOB_WORKERS`` (a module constant, default 2)
    worker threads running real ansible-runner jobs, stopped after the module."""
    dispatcher = app_state.start_jobs(workers=getattr(request.module, "JOB_WORKERS", 2))
    yield dispatcher
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def admin(app) -> Client:
    return Client(app, "admin", ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def anon(app) -> Client:
    return Client(app)


@pytest.fixture(scope="module")
def make_user(app, admin):
    """make_user(**fields) -> (user_id, Client acting as that user)."""
    def make(username: str | None = None, password: str = "user-pw-1", **fields: Any):
        username = username or unique("user")
        resp = admin.post("/api/v2/users/", {"username": username, "password": password, **fields})
        assert resp.status_code == 201, resp.json
        return resp.json["id"], Client(app, username, password)
    return make


@pytest.fixture(scope="module")
def make_org(admin):
    def make(name: str | None = None, **fields: Any) -> dict:
        resp = admin.post("/api/v2/organizations/", {"name": name or unique("org"), **fields})
        assert resp.status_code == 201, resp.json
        return resp.json
    return make

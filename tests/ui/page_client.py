"""Test-client helpers of the page tests (no browser): an app on a fresh data dir, an API client
(Basic auth, JSON, shaped like ``tests/controller/conftest.py``'s so ``tests/support/jobs.py``
helpers take it) and a UI client that logs in through the login form and sends the CSRF token
with every form it posts."""
from __future__ import annotations

import base64
import json as jsonlib
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from werkzeug.datastructures import MultiDict

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize

PASSWORD = "pages-admin-pw"


def fresh_app(tmp_path_factory, jobs: bool = False) -> Iterator:
    """An in-process app on an empty data dir (only the admin), with a one-worker job
    dispatcher running real ansible-runner jobs when ``jobs``; for ``yield from``."""
    data = tmp_path_factory.mktemp("data")
    state = open_state(Settings({"DATA_DIR": str(data), "ALLOW_LOCAL_SCM_URLS": "true"}, environ={}))
    initialize(state, PASSWORD, demo=False)
    app = create_app(state=state)
    app.data_dir = Path(data)
    if jobs:
        state.start_jobs(workers=1)
    try:
        yield app
    finally:
        if jobs:
            state.stop_jobs()
        state.store.close()


def page_fixtures(jobs: bool = False) -> tuple:
    """The module-scoped ``app`` (``fresh_app``), ``api`` (admin JSON client) and ``ui`` (admin
    UI client) fixtures of a page-test module: ``app, api, ui = page_fixtures(jobs=True)``."""
    @pytest.fixture(scope="module", name="app")
    def app_fixture(tmp_path_factory):
        yield from fresh_app(tmp_path_factory, jobs=jobs)

    @pytest.fixture(scope="module", name="api")
    def api_fixture(app):
        return Api(app)

    @pytest.fixture(scope="module", name="ui")
    def ui_fixture(app):
        return Ui(app)
    return app_fixture, api_fixture, ui_fixture


class Api:
    """JSON client with Basic auth; responses are Flask's (``.status_code``, ``.json``)."""

    def __init__(self, app, username: str = "admin", password: str = PASSWORD) -> None:
        self.http = app.test_client()
        self.headers = {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}

    def request(self, method: str, path: str, json: Any = None):
        kw: dict[str, Any] = {}
        if json is not None:
            kw = {"data": jsonlib.dumps(json), "content_type": "application/json"}
        return self.http.open(path, method=method, headers=self.headers, **kw)

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, json: Any = None):
        return self.request("POST", path, json)

    def patch(self, path: str, json: Any = None):
        return self.request("PATCH", path, json)

    def one(self, path: str) -> dict:
        resp = self.get(path)
        assert resp.status_code == 200, resp.text
        return resp.json


class Ui:
    """A browser-like test client logged in through the UI's login form."""

    def __init__(self, app, username: str = "admin", password: str = PASSWORD) -> None:
        self.http = app.test_client()
        page = self.http.get("/ui/login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        resp = self.http.post("/api/login/", data={"username": username, "password": password, "next": "/ui/",
                                                   "csrfmiddlewaretoken": token})
        assert resp.status_code == 302, resp.text
        self.user_id: int | None = None

    def get(self, path: str):
        return self.http.get(path)

    def post(self, path: str, data: dict | list | None = None, csrf: bool = True):
        """POST a form; ``data`` may be a list of pairs (repeated keys: a multiple select)."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            pairs.append(("csrfmiddlewaretoken", self.http.get_cookie("csrftoken").value))
        return self.http.post(path, data=MultiDict(pairs))


def make_user(api: Api, app, username: str, password: str = "user-pw-123", superuser: bool = False) -> Ui:
    resp = api.post("/api/v2/users/", {"username": username, "password": password, "is_superuser": superuser})
    assert resp.status_code == 201, resp.text
    client = Ui(app, username, password)
    client.user_id = resp.json["id"]
    return client


def field_error(html: str, field: str) -> str:
    """The text of ``<p class="field-error" id="e-<field>">`` (AssertionError when absent)."""
    found = re.search(rf'<p class="field-error" id="e-{re.escape(field)}"[^>]*>(.*?)</p>', html, re.S)
    assert found, f"no error beside {field}"
    return found.group(1)


def input_value(html: str, field: str) -> str:
    """The value of ``<input ... id="f-<field>" ... value="...">`` as rendered."""
    tag = re.search(rf'<input[^>]*id="f-{re.escape(field)}"[^>]*>', html)
    assert tag, f"no input f-{field}"
    found = re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else ""


def textarea_value(html: str, field: str) -> str:
    """The text of ``<textarea ... id="f-<field>">`` as rendered."""
    found = re.search(rf'<textarea[^>]*id="f-{re.escape(field)}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea f-{field}"
    return found.group(1)

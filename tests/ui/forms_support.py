"""Shared pieces of the form-engine tests (test_forms, test_access_tab, test_lists): an
in-process app with the demo content, logged-in test clients, an admin API client."""
from __future__ import annotations

import base64
import re

import pytest

from .helpers import demo_app

PASSWORD = "forms-admin-pw"


def login(app, username: str = "admin", password: str = PASSWORD):
    """A test client logged in through the UI's own login form (session + CSRF cookies)."""
    client = app.test_client()
    page = client.get("/ui/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    resp = client.post("/api/login/", data={"username": username, "password": password, "next": "/ui/",
                                            "csrfmiddlewaretoken": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/ui/", resp.text
    return client


def post(client, path: str, data: dict):
    """A UI form post with the CSRF token the page's cookie holds."""
    return client.post(path, data={**data, "csrfmiddlewaretoken": client.get_cookie("csrftoken").value})


def created_id(resp) -> int:
    """The id a create redirected to (/ui/<plural>/<pk>)."""
    assert resp.status_code == 302, resp.text[:3000]
    return int(resp.headers["Location"].split("?")[0].rstrip("/").rsplit("/", 1)[1])


def field_error(html: str, name: str) -> str:
    """The text of the error shown beside field ``name`` (its input points at it); "" if none."""
    found = re.search(rf'<p class="field-error" id="e-{re.escape(name)}">([^<]*)</p>', html)
    if not found:
        return ""
    assert re.search(rf'id="f-{re.escape(name)}"[^>]*aria-describedby="e-{re.escape(name)}"', html), \
        f"the input f-{name} does not point at its error"
    return found.group(1)


def input_value(html: str, name: str) -> str | None:
    """The value an ``<input id="f-NAME">`` shows (textarea: its text)."""
    found = re.search(rf'<input [^>]*id="f-{re.escape(name)}"[^>]*value="([^"]*)"', html)
    if found:
        return found.group(1)
    found = re.search(rf'<textarea id="f-{re.escape(name)}"[^>]*>([^<]*)</textarea>', html)
    return found.group(1) if found else None


def form_fixtures() -> tuple:
    """The module-scoped ``app`` (demo content, admin password ``PASSWORD``) and ``admin`` (a
    logged-in UI client) fixtures of a form-engine test module: ``app, admin = form_fixtures()``."""
    @pytest.fixture(scope="module", name="app")
    def app_fixture(tmp_path_factory):
        yield from demo_app(tmp_path_factory, PASSWORD)

    @pytest.fixture(scope="module", name="admin")
    def admin_fixture(app):
        return login(app)
    return app_fixture, admin_fixture


class Api:
    """The admin's JSON API over the same app (Basic auth), for state checks."""

    def __init__(self, app, username: str = "admin", password: str = PASSWORD) -> None:
        self.app = app
        self.header = {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}

    def get(self, path: str):
        resp = self.app.test_client().get(path, headers=self.header)
        return resp.get_json() if resp.status_code == 200 else resp.status_code

    def post(self, path: str, body: dict, method: str = "POST"):
        resp = self.app.test_client().open(path, method=method, json=body, headers=self.header)
        assert resp.status_code in (200, 201, 204), resp.text
        return resp.get_json()

    def user(self, username: str, password: str) -> dict:
        return self.post("/api/v2/users/", {"username": username, "password": password})

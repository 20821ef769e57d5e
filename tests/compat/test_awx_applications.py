"""OAuth2 applications with the real clients: awx.awx 24.6.1's ``application`` and ``token``
modules through ``ansible-playbook``, and ``awx applications`` of the real CLI.

The module looks the application up by name within its organization, sends the fields given, and
on creation reports the ``client_id``/``client_secret`` the server answered; a second run with the
same options must report ``changed=0``.  ``awx.awx.token`` with ``application:`` resolves the
application by name and POSTs ``/tokens/`` with its id: the token is bound to it and works.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.api import expect

from .awx_collection import describe, run_play
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def _run(controller, work: Path, tag: str, tasks: list[dict]):
    return run_play(controller, work, tag, tasks, name="applications with awx.awx")


def _app_task(name: str, org: str, **extra) -> dict:
    return {"name": "application", "awx.awx.application": {
        "name": name, "organization": org, "authorization_grant_type": "password",
        "client_type": "confidential", "description": "CI", **extra}, "register": "app"}


def _app_rows(api, name: str) -> list[dict]:
    return expect(api.get("/api/v2/applications/", params={"name": name}), 200)["results"]


def test_awx_application_and_token_modules(controller, api, tmp_path):
    name = unique("app")
    out = tmp_path / "out.json"
    save = {"name": "save", "ansible.builtin.copy": {"dest": str(out), "content": "{{ {'app': app, 'token': tok} | to_json }}"}}
    token = {"name": "token", "awx.awx.token": {"application": name, "scope": "read", "description": "from awx.awx"},
             "register": "tok"}
    first = _run(controller, tmp_path, "first", [_app_task(name, "Default"), token, save])
    assert "changed=3" in first.stdout, describe(first)
    result = json.loads(out.read_text())
    [app] = _app_rows(api, name)
    assert app["organization"] == 1 and app["authorization_grant_type"] == "password"
    assert app["client_type"] == "confidential" and app["description"] == "CI"
    assert result["app"]["client_id"] == app["client_id"] and app["client_secret"] == "$encrypted$"
    assert len(result["app"]["client_secret"]) == 128   # the one-time secret the module reported
    # the token the module made is bound to the application and works as Bearer
    plain = result["token"]["ansible_facts"]["controller_token"]["token"]
    token_id = result["token"]["ansible_facts"]["controller_token"]["id"]
    stored = expect(api.get(f"/api/v2/tokens/{token_id}/"), 200)
    assert stored["application"] == app["id"] and stored["scope"] == "read"
    with controller.client(token=plain) as bearer:
        me = expect(bearer.get("/api/v2/me/"), 200)
    assert me["results"][0]["username"] == controller.admin_username

    second = _run(controller, tmp_path, "second", [_app_task(name, "Default")])
    assert "changed=0" in second.stdout, describe(second)

    third = _run(controller, tmp_path, "update", [_app_task(name, "Default", description="CI v2",
                                                            skip_authorization=True)])
    assert "changed=1" in third.stdout, describe(third)
    [app] = _app_rows(api, name)
    assert app["description"] == "CI v2" and app["skip_authorization"] is True

    gone = _run(controller, tmp_path, "absent", [{"name": "absent", "awx.awx.application": {
        "name": name, "organization": "Default", "state": "absent"}}])
    assert "changed=1" in gone.stdout, describe(gone)
    assert _app_rows(api, name) == []
    # its token went with it
    assert api.get(f"/api/v2/tokens/{token_id}/").status_code == 404


def test_awx_cli_applications(awx, api):
    name = unique("cli-app")
    created = awx.json("applications", "create", "--name", name, "--organization", "Default",
                       "--client_type", "public", "--authorization_grant_type", "authorization-code",
                       "--redirect_uris", "https://ci.example/callback")
    [app] = _app_rows(api, name)
    assert created["id"] == app["id"] and app["redirect_uris"] == "https://ci.example/callback"
    assert app["client_type"] == "public" and len(app["client_id"]) == 40
    listed = awx.json("applications", "list", "--name", name)
    assert [a["id"] for a in listed["results"]] == [app["id"]]
    awx.json("applications", "modify", str(app["id"]), "--description", "from the CLI")
    assert expect(api.get(f"/api/v2/applications/{app['id']}/"), 200)["description"] == "from the CLI"
    awx.run("applications", "delete", str(app["id"]))
    assert _app_rows(api, name) == []


def test_awx_login_with_an_application_uses_the_password_grant(awx, api, controller):
    """``awx login --conf.client_id X --conf.client_secret Y`` POSTs /api/o/token/ (password grant,
    client credentials in HTTP Basic) and prints the access token, bound to the application."""
    created = expect(api.post("/api/v2/applications/", json={
        "name": unique("login-app"), "organization": 1, "client_type": "confidential",
        "authorization_grant_type": "password"}), 201)
    proc = awx.run("-f", "json", "login", "--conf.client_id", created["client_id"],
                   "--conf.client_secret", created["client_secret"])
    assert proc.returncode == 0, describe(proc)
    token = json.loads(proc.stdout)["token"]
    with controller.client(token=token) as bearer:
        me = expect(bearer.get("/api/v2/me/"), 200)
    assert me["results"][0]["username"] == controller.admin_username
    tokens = expect(api.get(f"/api/v2/applications/{created['id']}/tokens/"), 200)["results"]
    assert len(tokens) == 1 and tokens[0]["user"] == me["results"][0]["id"]
    # a wrong secret gets no token
    bad = awx.run("-f", "json", "login", "--conf.client_id", created["client_id"], "--conf.client_secret", "wrong")
    assert "Error retrieving an OAuth2.0 token (<class 'awxkit.exceptions.Unauthorized'>)" in bad.stdout, describe(bad)

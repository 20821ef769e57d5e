"""The real ``awx`` CLI (awxkit 24.6.1) against a live controller: auth,
organizations, users, teams and role grants.

Every CLI action is checked by reading the state back through the HTTP API
(admin Basic auth), not only by the CLI's exit code.
"""

from __future__ import annotations

import pytest

from tests.support.api import expect

from .clients import unique

pytestmark = pytest.mark.compat


def api_create(api, path: str, **body):
    return expect(api.post(path, json=body), 201)


def names(listing: dict, key: str = "name") -> list:
    assert isinstance(listing, dict) and "results" in listing, listing
    return [item[key] for item in listing["results"]]


# --- authentication -----------------------------------------------------------------------

def test_login_mints_a_token_that_the_cli_and_api_accept(awx, controller, api):
    out = awx.json("login")  # POST /api/v2/users/admin/personal_tokens/ with Basic auth
    assert isinstance(out, dict) and isinstance(out.get("token"), str) and out["token"], out
    token = out["token"]

    # The token authenticates plain HTTP requests as the admin ...
    with controller.client(token=token) as bearer:
        me = expect(bearer.get("/api/v2/me/"), 200)
    assert [u["username"] for u in me["results"]] == [controller.admin_username]

    # ... and the CLI, for reads and writes.
    me = awx.json("me", token=token)
    assert [u["username"] for u in me["results"]] == [controller.admin_username]

    name = unique("org-by-token")
    created = awx.json("organizations", "create", "--name", name, token=token)
    assert created["name"] == name
    assert expect(api.get(f"/api/v2/organizations/{created['id']}/"), 200)["name"] == name
    expect(api.delete(f"/api/v2/organizations/{created['id']}/"), 204)


def test_login_with_a_description_records_it(awx, api):
    description = unique("cli token")
    out = awx.json("login", "--description", description)
    assert out.get("token"), out
    tokens = expect(api.get("/api/v2/tokens/", params={"description": description}), 200)
    assert [t["description"] for t in tokens["results"]] == [description]
    assert out["token"] not in str(tokens), "a token's plaintext must only appear in the POST response"


def test_a_bad_token_is_refused(awx):
    proc = awx.fails("organizations", "list", token="not-a-real-token")
    assert "Valid credentials were not provided" in proc.stdout + proc.stderr


def test_a_bad_password_is_refused(awx, controller):
    proc = awx.fails("organizations", "list",
                     username=controller.admin_username, password="wrong-password")
    assert "Valid credentials were not provided" in proc.stdout + proc.stderr


def test_login_with_a_bad_password_prints_no_token(awx, controller):
    proc = awx.run("-f", "json", "login", username=controller.admin_username, password="wrong")
    # awxkit 24.6.1 exits 0 here and prints an error instead of {"token": ...}
    assert '"token"' not in proc.stdout
    assert "Error retrieving an OAuth2.0 token" in proc.stdout + proc.stderr


# --- organizations -------------------------------------------------------------------------

def test_organization_create_list_get_modify_delete(awx, api):
    name = unique("org")

    created = awx.json("organizations", "create", "--name", name, "--description", "first")
    assert created["name"] == name and created["type"] == "organization", created
    org_id = created["id"]
    stored = expect(api.get(f"/api/v2/organizations/{org_id}/"), 200)
    assert (stored["name"], stored["description"]) == (name, "first")

    listing = awx.json("organizations", "list")
    assert name in names(listing)

    filtered = awx.json("organizations", "list", "--name", name)
    assert names(filtered) == [name], "the --name filter must reach the server (OPTIONS actions.GET)"
    assert filtered["count"] == 1

    by_name = awx.json("organizations", "get", name)
    assert (by_name["id"], by_name["name"]) == (org_id, name)
    by_id = awx.json("organizations", "get", str(org_id))
    assert by_id["name"] == name

    modified = awx.json("organizations", "modify", name, "--description", "d")
    assert modified["description"] == "d"
    assert expect(api.get(f"/api/v2/organizations/{org_id}/"), 200)["description"] == "d"

    proc = awx.run("organizations", "delete", name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expect(api.get(f"/api/v2/organizations/{org_id}/"), 404)
    awx.fails("organizations", "get", str(org_id))


def test_organization_duplicate_name_is_an_error(awx, api):
    name = unique("org-dup")
    api_create(api, "/api/v2/organizations/", name=name)
    proc = awx.fails("organizations", "create", "--name", name)
    assert "already exists" in proc.stdout + proc.stderr
    listing = expect(api.get("/api/v2/organizations/", params={"name": name}), 200)
    assert listing["count"] == 1


# --- users ----------------------------------------------------------------------------------

def test_user_create_list_and_log_in_as_them(awx, api):
    username = unique("user")
    password = unique("Pw")

    created = awx.json("users", "create", "--username", username,
                       "--password", password, "--first_name", "F")
    assert created["username"] == username and created["first_name"] == "F", created
    user_id = created["id"]

    listing = awx.json("users", "list")
    assert username in names(listing, "username")
    filtered = awx.json("users", "list", "--username", username)
    assert names(filtered, "username") == [username]

    stored = expect(api.get(f"/api/v2/users/{user_id}/"), 200)
    assert (stored["username"], stored["first_name"]) == (username, "F")
    assert stored.get("is_superuser") is False
    assert password not in str(stored), "the password must never be echoed"
    assert password not in str(created)

    # The password really was set: the new user can log in with the CLI.
    me = awx.json("me", username=username, password=password)
    assert names(me, "username") == [username]


# --- teams and role grants -----------------------------------------------------------------

def test_team_create_with_organization_by_name(awx, api):
    org = api_create(api, "/api/v2/organizations/", name=unique("X2"))
    team_name = unique("T")

    created = awx.json("teams", "create", "--name", team_name, "--organization", org["name"])
    assert created["name"] == team_name and created["organization"] == org["id"], created

    stored = expect(api.get(f"/api/v2/teams/{created['id']}/"), 200)
    assert (stored["name"], stored["organization"]) == (team_name, org["id"])
    assert team_name in names(awx.json("teams", "list"))


def _team_member_ids(api, team_id: int) -> list[int]:
    return [u["id"] for u in expect(api.get(f"/api/v2/teams/{team_id}/users/"), 200)["results"]]


def test_users_grant_and_revoke_team_membership(awx, api):
    org = api_create(api, "/api/v2/organizations/", name=unique("X2"))
    team = api_create(api, "/api/v2/teams/", name=unique("T"), organization=org["id"])
    user = api_create(api, "/api/v2/users/", username=unique("member"), password=unique("Pw"))
    assert user["id"] not in _team_member_ids(api, team["id"])

    proc = awx.run("users", "grant", "--team", team["name"], "--role", "member", user["username"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert user["id"] in _team_member_ids(api, team["id"])

    proc = awx.run("users", "revoke", "--team", team["name"], "--role", "member", user["username"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert user["id"] not in _team_member_ids(api, team["id"])


def test_users_grant_organization_admin_by_ids(awx, api):
    org = api_create(api, "/api/v2/organizations/", name=unique("org-admin"))
    user = api_create(api, "/api/v2/users/", username=unique("orgadmin"), password=unique("Pw"))

    proc = awx.run("users", "grant", "--organization", str(org["id"]), "--role", "admin", str(user["id"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    admins = expect(api.get(f"/api/v2/organizations/{org['id']}/admins/"), 200)
    assert user["id"] in [u["id"] for u in admins["results"]]

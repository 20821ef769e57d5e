"""Three AWX 24.6.1 access rules, each checked twice: what OPTIONS offers (``actions`` has or
lacks POST/PUT) and what the request itself does (status and the stored rows), so the two agree
where AWX's do.

* A read-scoped OAuth token writes nothing, superuser or not, and OPTIONS offers it no POST
  or PUT (``APIView.check_permissions``, re-run per method by AWX's metadata).
* Team creation follows MANAGE_ORGANIZATION_AUTH (``TeamAccess.can_add``); the /teams/ OPTIONS
  asks ``can_add({})``, which does not (AWX's own disagreement, kept).
* /users/N/credentials/ asks ``UserAccess.can_admin(..., check_setting=False)``: the setting
  does not apply, and an organization admin must administer every organization of the owner.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.controller.conftest import Client, unique

FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def _actions(client: Client, url: str) -> dict:
    resp = client.options(url)
    assert resp.status_code == 200, resp.json
    return resp.json["actions"]


def _token(client: Client, app, scope: str) -> Client:
    """A client acting through a new personal token of ``client``'s user with ``scope``."""
    resp = client.post("/api/v2/tokens/", {"description": unique("tok"), "scope": scope})
    assert resp.status_code == 201, resp.json
    return Client(app, token=resp.json["token"])


def _org_admin(admin: Client, make_user, org: dict) -> tuple[int, Client]:
    uid, client = make_user()
    role = org["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    return uid, client


def _member(admin: Client, org: dict, uid: int) -> None:
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": uid}).status_code == 204


def _team_names(admin: Client, org: dict) -> set[str]:
    teams = admin.get(f"/api/v2/teams/?organization={org['id']}&page_size=200").json["results"]
    return {t["name"] for t in teams}


def _credential_names(admin: Client, uid: int) -> set[str]:
    creds = admin.get(f"/api/v2/users/{uid}/credentials/?page_size=200").json["results"]
    return {c["name"] for c in creds}


@pytest.fixture()
def org_auth_off(admin: Client) -> Iterator[None]:
    """MANAGE_ORGANIZATION_AUTH off for one test, through the API (reset afterwards)."""
    resp = admin.patch("/api/v2/settings/system/", {"MANAGE_ORGANIZATION_AUTH": False})
    assert resp.status_code == 200, resp.json
    yield
    assert admin.delete("/api/v2/settings/system/").status_code == 204


@pytest.fixture(scope="module")
def machine(admin: Client) -> int:
    return admin.get("/api/v2/credential_types/?namespace=ssh").json["results"][0]["id"]


# -- 1. read-scoped tokens --------------------------------------------------------------------
@pytest.mark.parametrize("who", ["superuser", "org_admin"])
def test_read_token_is_offered_no_write_and_writes_nothing(app, admin, make_user, make_org, who):
    org = make_org()
    owner = admin if who == "superuser" else _org_admin(admin, make_user, org)[1]
    read = _token(owner, app, "read")
    detail, teams = f"/api/v2/organizations/{org['id']}/", f"/api/v2/organizations/{org['id']}/teams/"
    for url, method in (("/api/v2/teams/", "POST"), (teams, "POST"), (detail, "PUT")):
        actions = _actions(read, url)
        assert "GET" in actions and method not in actions, (url, actions.keys())
    # the refused requests change nothing
    name = unique("team")
    for url in ("/api/v2/teams/", teams):
        resp = read.post(url, {"name": name, "organization": org["id"]})
        assert resp.status_code == 403 and resp.json == FORBIDDEN
    assert read.patch(detail, {"description": "changed"}).status_code == 403
    assert name not in _team_names(admin, org)
    assert admin.get(detail).json["description"] == ""


def test_read_token_is_shown_no_capability(app, admin, make_org, org_auth_off):
    """AWX ``get_user_capabilities``: a read token takes no action, so every capability is
    false, a superuser's too; with MANAGE_ORGANIZATION_AUTH off a team answers whether the
    user is a superuser (AWX checks that first)."""
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).json
    read, write = _token(admin, app, "read"), _token(admin, app, "write")
    url = f"/api/v2/organizations/?id={org['id']}"
    assert read.get(url).json["results"][0]["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False}
    assert write.get(url).json["results"][0]["summary_fields"]["user_capabilities"] == {"edit": True, "delete": True}
    caps = read.get(team["url"]).json["summary_fields"]["user_capabilities"]
    assert caps == {"edit": True, "delete": True}


def test_settings_offer_put_to_a_superusers_write_token_only(app, admin):
    url = "/api/v2/settings/system/"
    read, write = _token(admin, app, "read"), _token(admin, app, "write")
    assert "PUT" not in _actions(read, url) and "PUT" in _actions(write, url)
    before = admin.get(url).json["KEEP_DAYS"]
    resp = read.patch(url, {"KEEP_DAYS": before + 1})
    assert (resp.status_code, resp.json) == (403, FORBIDDEN)
    assert admin.get(url).json["KEEP_DAYS"] == before


@pytest.mark.parametrize("scope", ["write", "read write"])
def test_write_token_is_offered_what_it_may_do(app, admin, make_user, make_org, scope):
    org = make_org()
    write = _token(_org_admin(admin, make_user, org)[1], app, scope)
    detail, teams = f"/api/v2/organizations/{org['id']}/", f"/api/v2/organizations/{org['id']}/teams/"
    assert "POST" in _actions(write, teams) and "PUT" in _actions(write, detail)
    name = unique("team")
    assert write.post(teams, {"name": name}).status_code == 201
    assert write.patch(detail, {"description": "changed"}).status_code == 200
    assert name in _team_names(admin, org)
    assert admin.get(detail).json["description"] == "changed"


# -- 2. team creation and MANAGE_ORGANIZATION_AUTH -----------------------------------------------
def test_org_admin_creates_teams_while_setting_is_on(admin, make_user, make_org):
    org, other = make_org(), make_org()
    uid, org_admin = _org_admin(admin, make_user, org)
    sub = f"/api/v2/organizations/{org['id']}/teams/"
    assert "POST" in _actions(org_admin, "/api/v2/teams/") and "POST" in _actions(org_admin, sub)
    names = unique("team"), unique("team")
    assert org_admin.post("/api/v2/teams/", {"name": names[0], "organization": org["id"]}).status_code == 201
    assert org_admin.post(sub, {"name": names[1]}).status_code == 201
    assert set(names) <= _team_names(admin, org)
    # not in an organization they only belong to
    _member(admin, other, uid)
    assert "POST" not in _actions(org_admin, f"/api/v2/organizations/{other['id']}/teams/")
    resp = org_admin.post("/api/v2/teams/", {"name": unique("team"), "organization": other["id"]})
    assert resp.status_code == 403 and _team_names(admin, other) == set()


def test_setting_off_leaves_team_creation_to_superusers(admin, make_user, make_org, org_auth_off):
    org = make_org()
    _, org_admin = _org_admin(admin, make_user, org)
    sub = f"/api/v2/organizations/{org['id']}/teams/"
    # the sub-list asks can_add({"organization": org}): no POST offered, none accepted
    assert "POST" not in _actions(org_admin, sub)
    name = unique("team")
    resp = org_admin.post(sub, {"name": name})
    assert resp.status_code == 403 and resp.json == FORBIDDEN
    # /teams/ OPTIONS asks can_add({}), which AWX answers without the setting: POST is offered
    # to an organization admin, and the POST itself refused
    assert "POST" in _actions(org_admin, "/api/v2/teams/")
    resp = org_admin.post("/api/v2/teams/", {"name": name, "organization": org["id"]})
    assert resp.status_code == 403 and resp.json == FORBIDDEN
    assert name not in _team_names(admin, org)
    # a superuser still may
    assert "POST" in _actions(admin, sub)
    assert admin.post(sub, {"name": name}).status_code == 201
    assert name in _team_names(admin, org)


# -- 3. /users/N/credentials/ and check_setting --------------------------------------------------
def test_setting_off_leaves_changing_teams_to_superusers(admin, make_user, make_org, machine, org_auth_off):
    """AWX TeamAccess.can_change / can_delete: with the setting off a team's own admin may
    neither change nor delete it, nor give it a credential (CredentialAccess asks can_change of
    the owner team); a superuser still may."""
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).json
    uid, team_admin = make_user()
    role = team["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    seen = team_admin.get(team["url"]).json
    assert seen["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False}
    assert "PUT" not in _actions(team_admin, team["url"])
    resp = team_admin.patch(team["url"], {"description": "changed"})
    assert (resp.status_code, resp.json) == (403, FORBIDDEN)
    assert team_admin.delete(team["url"]).status_code == 403
    creds = f"{team['url']}credentials/"
    resp = team_admin.post(creds, {"name": unique("cred"), "credential_type": machine, "inputs": {}})
    assert (resp.status_code, resp.json) == (403, FORBIDDEN)
    stored = admin.get(team["url"]).json
    assert stored["description"] == team["description"]
    assert admin.get(f"{creds}?page_size=200").json["count"] == 0
    assert admin.patch(team["url"], {"description": "by a superuser"}).status_code == 200
    assert admin.get(team["url"]).json["description"] == "by a superuser"


def test_team_admin_changes_the_team_while_setting_is_on(admin, make_user, make_org):
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).json
    uid, team_admin = make_user()
    role = team["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    assert team_admin.get(team["url"]).json["summary_fields"]["user_capabilities"] == {"edit": True, "delete": True}
    assert "PUT" in _actions(team_admin, team["url"])
    assert team_admin.patch(team["url"], {"description": "changed"}).status_code == 200
    assert admin.get(team["url"]).json["description"] == "changed"


def test_user_credentials_ignore_the_setting(admin, make_user, make_org, machine, org_auth_off):
    org = make_org()
    _, org_admin = _org_admin(admin, make_user, org)
    uid, user = make_user()
    _member(admin, org, uid)
    url = f"/api/v2/users/{uid}/credentials/"
    # the owner themselves (AWX: self.user == user_obj), with the setting off too
    assert "POST" in _actions(user, url)
    mine = unique("cred")
    assert user.post(url, {"name": mine, "credential_type": machine}).status_code == 201
    # their organization's admin (can_admin with check_setting=False) ...
    assert "POST" in _actions(org_admin, url)
    given = unique("cred")
    assert org_admin.post(url, {"name": given, "credential_type": machine}).status_code == 201
    assert {mine, given} <= _credential_names(admin, uid)
    # ... though the setting still keeps the user's own record from them
    assert "PUT" not in _actions(org_admin, f"/api/v2/users/{uid}/")
    assert org_admin.patch(f"/api/v2/users/{uid}/", {"first_name": "X"}).status_code == 403


def test_user_credentials_need_admin_of_every_organization(admin, make_user, make_org, machine):
    org, elsewhere = make_org(), make_org()
    _, org_admin = _org_admin(admin, make_user, org)
    both, _ = make_user()
    _member(admin, org, both)
    _member(admin, elsewhere, both)
    auditor, _ = make_user(is_system_auditor=True)
    _member(admin, org, auditor)
    # admin (so, through its role, member) of another organization, never added as a member
    admins_elsewhere, _ = make_user()
    _member(admin, org, admins_elsewhere)
    role = elsewhere["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{admins_elsewhere}/roles/", {"id": role}).status_code == 204
    for uid in (both, auditor, admins_elsewhere):
        url = f"/api/v2/users/{uid}/credentials/"
        assert "POST" not in _actions(org_admin, url)
        name = unique("cred")
        resp = org_admin.post(url, {"name": name, "credential_type": machine})
        assert resp.status_code == 403 and resp.json == FORBIDDEN
        assert name not in _credential_names(admin, uid)
        # UserAccess.can_change asks the same can_admin
        assert "PUT" not in _actions(org_admin, f"/api/v2/users/{uid}/")
        assert org_admin.patch(f"/api/v2/users/{uid}/", {"first_name": "X"}).status_code == 403
    # once the other organization is theirs too, both are allowed
    _org_admin(admin, make_user, elsewhere)   # another admin there changes nothing
    role = elsewhere["summary_fields"]["object_roles"]["admin_role"]["id"]
    me = org_admin.get("/api/v2/me/").json["results"][0]["id"]
    assert admin.post(f"/api/v2/users/{me}/roles/", {"id": role}).status_code == 204
    url = f"/api/v2/users/{both}/credentials/"
    assert "POST" in _actions(org_admin, url)
    name = unique("cred")
    assert org_admin.post(url, {"name": name, "credential_type": machine}).status_code == 201
    assert name in _credential_names(admin, both)
    assert org_admin.patch(f"/api/v2/users/{both}/", {"first_name": "X"}).status_code == 200

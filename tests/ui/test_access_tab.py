"""Each object's access tab in-process: who holds which role, grant and revoke for users and
teams, a user's and a team's own roles; the same rules as the API (buttons hidden from who may
not use them, and a forged post refused), each change checked through the API afterwards."""
from __future__ import annotations

import re

import pytest

from .forms_support import Api, form_fixtures, login, post


app, admin = form_fixtures()


@pytest.fixture(scope="module")
def api(app):
    return Api(app)


def role_id(api, path: str, field: str) -> int:
    return api.get(path)["summary_fields"]["object_roles"][field]["id"]


def role_names(api, path: str) -> set[tuple[str, str]]:
    return {(r["summary_fields"]["resource_name"], r["name"]) for r in api.get(path)["results"]}


def test_grant_a_team_execute_on_a_template_lets_its_members_launch(app, admin, api):
    jt = api.get("/api/v2/job_templates/?name=Demo+Job+Template")["results"][0]
    team = api.post("/api/v2/teams/", {"name": "access-operators", "organization": 1})
    member = api.user("access-op", "access-op-pw-1")
    api.post(f"/api/v2/teams/{team['id']}/users/", {"id": member["id"]})
    page = admin.get(f"/ui/templates/{jt['id']}/access")
    assert page.status_code == 200 and "<h1>Demo Job Template</h1>" in page.text
    assert "<title>Access | Demo Job Template | Templates | Turret</title>" in page.text
    execute = role_id(api, f"/api/v2/job_templates/{jt['id']}/", "execute_role")
    assert f'<option value="{execute}"' in page.text and 'data-action="grant"' in page.text
    resp = post(admin, f"/ui/templates/{jt['id']}/access", {"action": "grant", "kind": "team", "role": str(execute),
                                                             "team": str(team["id"])})
    assert resp.status_code == 302
    assert ("Demo Job Template", "Execute") in role_names(api, f"/api/v2/teams/{team['id']}/roles/")
    shown = admin.get(f"/ui/templates/{jt['id']}/access").text
    assert re.search(rf'data-role="{execute}"[^>]*>.*?data-team="{team["id"]}"', shown, re.S)
    op = login(app, "access-op", "access-op-pw-1")
    assert f"/ui/templates/{jt['id']}/launch" in op.get("/ui/templates").text
    # the team's own tab lists the role it holds, and revokes it
    team_tab = admin.get(f"/ui/teams/{team['id']}/access").text
    assert "Roles this team holds" in team_tab and "Revoke Execute on Demo Job Template" in team_tab
    post(admin, f"/ui/teams/{team['id']}/access", {"action": "revoke", "role": str(execute), "team": str(team["id"])})
    assert ("Demo Job Template", "Execute") not in role_names(api, f"/api/v2/teams/{team['id']}/roles/")
    assert op.get(f"/ui/templates/{jt['id']}/launch").status_code in (403, 404)


def test_grant_and_revoke_a_user_role_and_the_users_own_tab(admin, api):
    inv = api.post("/api/v2/inventories/", {"name": "access-inv", "organization": 1})
    user = api.user("access-user", "access-user-pw-1")
    admin_role = role_id(api, f"/api/v2/inventories/{inv['id']}/", "admin_role")
    missing = post(admin, f"/ui/inventories/{inv['id']}/access", {"action": "grant", "kind": "user",
                                                                   "role": str(admin_role), "user": ""})
    assert missing.status_code == 400 and '<p class="field-error" id="e-user">Choose a user.</p>' in missing.text
    resp = post(admin, f"/ui/inventories/{inv['id']}/access", {"action": "grant", "kind": "user",
                                                                "role": str(admin_role), "user": str(user["id"])})
    assert resp.status_code == 302
    assert ("access-inv", "Admin") in role_names(api, f"/api/v2/users/{user['id']}/roles/")
    own = admin.get(f"/ui/users/{user['id']}/access").text
    assert "Roles this user holds" in own and "Revoke Admin on access-inv" in own
    assert admin.get(f"/ui/users/{user['id']}/roles").text.count("Revoke Admin on access-inv") == 1   # old address
    post(admin, f"/ui/users/{user['id']}/access", {"action": "revoke", "role": str(admin_role),
                                                   "user": str(user["id"])})
    assert ("access-inv", "Admin") not in role_names(api, f"/api/v2/users/{user['id']}/roles/")


def test_a_user_who_may_not_grant_sees_no_buttons_and_a_forged_grant_is_refused(app, api):
    inv = api.post("/api/v2/inventories/", {"name": "access-guarded", "organization": 1})
    reader = api.user("access-reader", "access-reader-pw-1")
    read_role = role_id(api, f"/api/v2/inventories/{inv['id']}/", "read_role")
    admin_role = role_id(api, f"/api/v2/inventories/{inv['id']}/", "admin_role")
    api.post(f"/api/v2/users/{reader['id']}/roles/", {"id": read_role})
    client = login(app, "access-reader", "access-reader-pw-1")
    page = client.get(f"/ui/inventories/{inv['id']}/access")
    assert page.status_code == 200 and "access-reader" in page.text          # they see who holds what
    assert 'data-action="grant"' not in page.text and 'data-action="revoke"' not in page.text
    forged = post(client, f"/ui/inventories/{inv['id']}/access", {"action": "grant", "kind": "user",
                                                                   "role": str(admin_role),
                                                                   "user": str(reader["id"])})
    assert forged.status_code == 403 and "<h1>Permission denied</h1>" in forged.text
    assert ("access-guarded", "Admin") not in role_names(api, f"/api/v2/users/{reader['id']}/roles/")
    # a role of another object cannot be granted through this object's tab
    other = api.post("/api/v2/inventories/", {"name": "access-other", "organization": 1})
    foreign = role_id(api, f"/api/v2/inventories/{other['id']}/", "admin_role")
    admin = login(app)
    wrong = post(admin, f"/ui/inventories/{inv['id']}/access", {"action": "grant", "kind": "user",
                                                                 "role": str(foreign), "user": str(reader["id"])})
    assert wrong.status_code == 404 and "<h1>Not found</h1>" in wrong.text
    assert ("access-other", "Admin") not in role_names(api, f"/api/v2/users/{reader['id']}/roles/")


def test_an_organization_membership_role_is_not_offered_to_teams_and_refused_beside_the_field(admin, api):
    team = api.post("/api/v2/teams/", {"name": "access-team-x", "organization": 1})
    member_role = role_id(api, "/api/v2/organizations/1/", "member_role")
    page = admin.get("/ui/organizations/1/access").text
    team_form = page.split("To a team", 1)[1].split("</form>", 1)[0]
    assert f'<option value="{member_role}"' not in team_form                  # user_only: not for teams
    resp = post(admin, "/ui/organizations/1/access", {"action": "grant", "kind": "team", "role": str(member_role),
                                                      "team": str(team["id"])})
    assert resp.status_code == 400 and "cannot assign an Organization participation role" in resp.text
    assert 'id="e-team"' in resp.text
    assert api.get(f"/api/v2/teams/{team['id']}/roles/")["count"] == 0

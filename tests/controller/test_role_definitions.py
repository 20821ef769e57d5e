"""AWX's newer RBAC API: role definitions and user/team role assignments over Turret's object roles.

One store, two views: a grant made through ``/role_user_assignments/`` is the object role of the
old API (``/roles/N/users/``, effective access), and a grant made through the old API shows as an
assignment of the managed definition of that role; revoking through either removes both.
"""
from __future__ import annotations

import pytest

from conftest import unique
from controller.resources.role_definitions import seed_role_definitions
from controller.store import rbac
from controller.store import role_definitions as rd_sql


def definition(admin, name: str) -> dict:
    [found] = admin.get("/api/v2/role_definitions/", query_string={"name": name}).json["results"]
    return found


def role_id(admin, path: str, field: str) -> int:
    return admin.get(path).json["summary_fields"]["object_roles"][field]["id"]


def assignments(admin, kind: str = "user", **filters) -> list[dict]:
    return admin.get(f"/api/v2/role_{kind}_assignments/", query_string=filters).json["results"]


@pytest.fixture(scope="module")
def world(admin, make_org):
    org = make_org()
    inv = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"]}).json
    other = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"]}).json
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).json
    return {"org": org, "inv": inv, "other": other, "team": team}


def test_managed_definitions_are_the_object_roles_with_awx_names(admin):
    listed = admin.get("/api/v2/role_definitions/?page_size=200").json["results"]
    by_name = {d["name"]: d for d in listed}
    assert {"Organization Admin", "Organization Member", "Organization Audit", "Organization Inventory Admin",
            "Inventory Admin", "Inventory Use", "Inventory Adhoc", "Inventory Update", "JobTemplate Execute",
            "JobTemplate Admin", "Project Use", "Credential Use", "Team Member",
            "WorkflowJobTemplate Approve"} <= set(by_name)
    assert by_name["JobTemplate Execute"]["permissions"] == ["awx.execute_jobtemplate", "awx.view_jobtemplate"]
    assert by_name["Inventory Admin"]["permissions"] == [
        "awx.adhoc_inventory", "awx.change_inventory", "awx.delete_inventory", "awx.update_inventory",
        "awx.use_inventory", "awx.view_inventory"]
    assert by_name["Organization Member"]["permissions"] == ["awx.member_organization", "awx.view_organization"]
    assert "awx.add_inventory" in by_name["Organization Inventory Admin"]["permissions"]
    assert all(d["managed"] is True and d["type"] == "role_definition" for d in listed)
    assert by_name["Inventory Use"]["content_type"] == "awx.inventory"
    choices = dict(admin.options("/api/v2/role_definitions/").json["actions"]["POST"]["content_type"]["choices"])
    assert choices["awx.jobtemplate"] == "Job Template"


def test_managed_definitions_cannot_change(admin):
    managed = definition(admin, "Inventory Use")
    resp = admin.patch(managed["url"], {"description": "mine"})
    assert resp.status_code == 400 and resp.json == {"detail": "Role is managed by the system"}
    resp = admin.delete(managed["url"])
    assert resp.status_code == 400 and resp.json == {"detail": "Role is managed by the system"}
    after = admin.get(managed["url"]).json
    assert {k: after[k] for k in ("name", "description", "permissions", "modified")} == \
        {k: managed[k] for k in ("name", "description", "permissions", "modified")}


def test_an_assignment_is_the_object_role_grant(admin, make_user, world):
    uid, user = make_user()
    inv = world["inv"]
    assert user.get(f"/api/v2/inventories/{inv['id']}/").status_code == 403
    rd = definition(admin, "Inventory Use")
    resp = admin.post("/api/v2/role_user_assignments/", {"role_definition": rd["id"], "object_id": inv["id"],
                                                          "user": uid})
    assert resp.status_code == 201, resp.json
    made = resp.json
    assert (made["type"], made["content_type"], made["object_id"], made["user"], made["role_definition"]) == \
        ("role_user_assignment", "awx.inventory", str(inv["id"]), uid, rd["id"])
    assert made["related"]["content_object"] == f"/api/v2/inventories/{inv['id']}/"
    assert made["summary_fields"]["role_definition"]["name"] == "Inventory Use"
    # the old API shows the same grant, and it takes effect
    use_role = role_id(admin, f"/api/v2/inventories/{inv['id']}/", "use_role")
    assert [u["id"] for u in admin.get(f"/api/v2/roles/{use_role}/users/").json["results"]] == [uid]
    assert user.get(f"/api/v2/inventories/{inv['id']}/").status_code == 200
    # what awx.awx's get_one sends finds it
    assert [a["id"] for a in assignments(admin, role_definition=rd["id"], object_id=inv["id"], user=uid)] == \
        [made["id"]]
    # immutable, as AWX
    assert admin.patch(made["url"], {"object_id": world["other"]["id"]}).status_code == 405
    # deleting it revokes the role
    assert admin.delete(made["url"]).status_code == 204
    assert admin.get(f"/api/v2/roles/{use_role}/users/").json["results"] == []
    assert user.get(f"/api/v2/inventories/{inv['id']}/").status_code == 403
    assert admin.get(made["url"]).status_code == 404


def test_an_old_api_grant_shows_as_an_assignment(admin, make_user, world):
    uid, _user = make_user()
    inv = world["inv"]
    admin_role = role_id(admin, f"/api/v2/inventories/{inv['id']}/", "admin_role")
    assert admin.post(f"/api/v2/roles/{admin_role}/users/", {"id": uid}).status_code == 204
    [shown] = assignments(admin, user=uid)
    assert (shown["role_definition"], shown["object_id"], shown["content_type"]) == \
        (definition(admin, "Inventory Admin")["id"], str(inv["id"]), "awx.inventory")
    # revoking through the old API removes the assignment
    assert admin.post(f"/api/v2/roles/{admin_role}/users/", {"id": uid, "disassociate": True}).status_code == 204
    assert assignments(admin, user=uid) == []


def test_team_assignments_both_ways(admin, make_user, world):
    uid, member = make_user()
    team, inv = world["team"], world["other"]
    member_role = role_id(admin, "/api/v2/teams/%d/" % team["id"], "member_role")
    admin.post(f"/api/v2/roles/{member_role}/users/", {"id": uid})
    rd = definition(admin, "Inventory Adhoc")
    resp = admin.post("/api/v2/role_team_assignments/", {"role_definition": rd["id"], "object_id": inv["id"],
                                                          "team": team["id"]})
    assert resp.status_code == 201, resp.json
    adhoc_role = role_id(admin, f"/api/v2/inventories/{inv['id']}/", "adhoc_role")
    assert [t["id"] for t in admin.get(f"/api/v2/roles/{adhoc_role}/teams/").json["results"]] == [team["id"]]
    assert member.get(f"/api/v2/inventories/{inv['id']}/").status_code == 200   # through the team
    assert admin.delete(resp.json["url"]).status_code == 204
    assert admin.get(f"/api/v2/roles/{adhoc_role}/teams/").json["results"] == []
    # the old API's team grant shows as an assignment
    update_role = role_id(admin, f"/api/v2/inventories/{inv['id']}/", "update_role")
    assert admin.post(f"/api/v2/roles/{update_role}/teams/", {"id": team["id"]}).status_code == 204
    [shown] = assignments(admin, "team", team=team["id"])
    assert shown["role_definition"] == definition(admin, "Inventory Update")["id"]
    # participation roles stay user-only, as in the old API
    member = definition(admin, "Organization Member")
    resp = admin.post("/api/v2/role_team_assignments/", {"role_definition": member["id"],
                                                          "object_id": world["org"]["id"], "team": team["id"]})
    assert resp.status_code == 400 and "participation role" in resp.json["role_definition"][0]


def test_custom_definitions_validate_like_awx(admin):
    post = admin.post
    bad_perm = post("/api/v2/role_definitions/", {"name": unique("rd"), "content_type": "awx.inventory",
                                                  "permissions": ["awx.execute_jobtemplate"]})
    assert bad_perm.status_code == 400
    assert bad_perm.json == {"permissions": ['Permissions "execute_jobtemplate" are not valid for inventory roles']}
    no_view = post("/api/v2/role_definitions/", {"name": unique("rd"), "content_type": "awx.inventory",
                                                 "permissions": ["awx.use_inventory"]})
    assert no_view.status_code == 400 and "needs to include view" in no_view.json["permissions"][0]
    system = post("/api/v2/role_definitions/", {"name": unique("rd"), "permissions": ["awx.view_inventory"]})
    assert system.status_code == 400 and "content_type" in system.json
    bad_type = post("/api/v2/role_definitions/", {"name": unique("rd"), "content_type": "awx.nothing",
                                                  "permissions": []})
    assert bad_type.status_code == 400 and bad_type.json["content_type"] == ['"awx.nothing" is not a valid choice.']


def test_a_custom_definition_equal_to_a_role_is_assigned_as_that_role(admin, make_user, world):
    uid, user = make_user()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": world["org"]["id"]}).json
    resp = admin.post("/api/v2/role_definitions/", {"name": unique("join-team"), "content_type": "awx.team",
                                                    "permissions": ["view_team", "awx.member_team"]})
    assert resp.status_code == 201, resp.json
    custom = resp.json
    assert (custom["managed"], custom["permissions"]) == (False, ["awx.view_team", "awx.member_team"])
    made = admin.post("/api/v2/role_user_assignments/", {"role_definition": custom["id"], "object_id": team["id"],
                                                          "user": uid})
    assert made.status_code == 201, made.json
    member_role = role_id(admin, "/api/v2/teams/%d/" % team["id"], "member_role")
    assert [u["id"] for u in admin.get(f"/api/v2/roles/{member_role}/users/").json["results"]] == [uid]
    assert [a["role_definition"] for a in assignments(admin, user=uid)] == [custom["id"]]
    assert user.get(f"/api/v2/teams/{team['id']}/").status_code == 200
    # a different permission set on an assigned definition would change the role: refused
    resp = admin.patch(custom["url"], {"permissions": ["awx.view_team"]})
    assert resp.status_code == 400 and "Remove its assignments first" in resp.json["permissions"][0]
    # deleting the definition revokes what it granted
    assert admin.delete(custom["url"]).status_code == 204
    assert admin.get(f"/api/v2/roles/{member_role}/users/").json["results"] == []
    assert assignments(admin, user=uid) == []
    assert user.get(f"/api/v2/teams/{team['id']}/").status_code == 403


def test_a_custom_definition_no_role_matches_is_refused_when_assigned(admin, make_user, world):
    uid, _user = make_user()
    custom = admin.post("/api/v2/role_definitions/", {"name": unique("edit-only"), "content_type": "awx.inventory",
                                                      "permissions": ["awx.view_inventory", "awx.change_inventory"]})
    assert custom.status_code == 201, custom.json
    resp = admin.post("/api/v2/role_user_assignments/", {"role_definition": custom.json["id"],
                                                          "object_id": world["inv"]["id"], "user": uid})
    assert resp.status_code == 400
    message = resp.json["role_definition"][0]
    assert "matches no role of awx.inventory" not in message and "match no role of awx.inventory" in message
    assert "Inventory Admin" in message and "Inventory Use" in message
    assert assignments(admin, user=uid) == []
    # PATCH keeps the content type (fixed once created) and may rename
    renamed = admin.patch(custom.json["url"], {"name": unique("renamed"), "content_type": "awx.project"})
    assert renamed.status_code == 200 and renamed.json["content_type"] == "awx.inventory"


def test_who_may_define_and_assign(admin, make_user, world):
    aid, inv_admin = make_user()
    uid, plain = make_user()
    inv, other = world["inv"], world["other"]
    inv_admin_role = role_id(admin, "/api/v2/inventories/%d/" % inv["id"], "admin_role")
    admin.post(f"/api/v2/roles/{inv_admin_role}/users/", {"id": aid})
    org_member = role_id(admin, "/api/v2/organizations/%d/" % world["org"]["id"], "member_role")
    for who in (aid, uid):   # organization members see each other (who may be granted what they can see)
        admin.post(f"/api/v2/roles/{org_member}/users/", {"id": who})
    # everyone reads definitions; only superusers define them
    assert plain.get("/api/v2/role_definitions/").json["count"] == admin.get("/api/v2/role_definitions/").json["count"]
    resp = plain.post("/api/v2/role_definitions/", {"name": unique("rd"), "content_type": "awx.inventory",
                                                    "permissions": ["awx.view_inventory"]})
    assert resp.status_code == 403
    rd = definition(admin, "Inventory Read")
    # a plain user may not grant; the inventory's admin may, on that inventory only
    body = {"role_definition": rd["id"], "object_id": inv["id"], "user": uid}
    assert plain.post("/api/v2/role_user_assignments/", body).status_code in (400, 403)
    assert assignments(admin, user=uid, role_definition=rd["id"]) == []
    made = inv_admin.post("/api/v2/role_user_assignments/", body)
    assert made.status_code == 201, made.json
    refused = inv_admin.post("/api/v2/role_user_assignments/", {**body, "object_id": other["id"]})
    assert refused.status_code == 400
    assert refused.json["object_id"] == [f'Invalid pk "{other["id"]}" - object does not exist.']
    # users see assignments on what they can see (and their own)
    mine = plain.get("/api/v2/role_user_assignments/", query_string={"role_definition": rd["id"]}).json
    assert [a["id"] for a in mine["results"]] == [made.json["id"]]
    seen = {(a["content_type"], a["object_id"])
            for a in inv_admin.get("/api/v2/role_user_assignments/?page_size=200").json["results"]}
    assert ("awx.inventory", str(inv["id"])) in seen and ("awx.inventory", str(other["id"])) not in seen
    # the grantee cannot revoke it; the object admin can
    assert plain.delete(made.json["url"]).status_code == 403
    assert [a["id"] for a in assignments(admin, user=uid, role_definition=rd["id"])] == [made.json["id"]]
    assert inv_admin.delete(made.json["url"]).status_code == 204
    assert assignments(admin, user=uid, role_definition=rd["id"]) == []


def test_ansible_ids_are_refused_and_object_required(admin, make_user, world):
    uid, _ = make_user()
    rd = definition(admin, "Inventory Read")
    resp = admin.post("/api/v2/role_user_assignments/", {"role_definition": rd["id"], "object_id": world["inv"]["id"],
                                                          "user": uid, "object_ansible_id": "abc"})
    assert resp.status_code == 400 and "resource registry" in resp.json["object_ansible_id"][0]
    resp = admin.post("/api/v2/role_user_assignments/", {"role_definition": rd["id"], "user": uid})
    assert resp.status_code == 400 and resp.json == {"object_id": ["Object must be specified for this role assignment"]}
    assert assignments(admin, user=uid) == []


def test_deleting_the_object_or_the_user_removes_assignments(admin, make_user, make_org):
    org = make_org()
    inv = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"]}).json
    uid, _ = make_user()
    vid, _ = make_user()
    rd = definition(admin, "Inventory Use")
    for who in (uid, vid):
        assert admin.post("/api/v2/role_user_assignments/", {"role_definition": rd["id"], "object_id": inv["id"],
                                                              "user": who}).status_code == 201
    assert admin.delete(f"/api/v2/users/{vid}/").status_code == 204
    assert [a["user"] for a in assignments(admin, object_id=inv["id"], role_definition=rd["id"])] == [uid]
    assert admin.delete(f"/api/v2/inventories/{inv['id']}/").status_code in (202, 204)
    assert assignments(admin, user=uid) == []


def test_activity_stream_records_assignments(admin, make_user, world):
    uid, _ = make_user()
    rd = definition(admin, "Inventory Read")
    made = admin.post("/api/v2/role_user_assignments/", {"role_definition": rd["id"], "object_id": world["inv"]["id"],
                                                          "user": uid}).json
    entries = admin.get("/api/v2/activity_stream/", query_string={"object1": "role_user_assignment"}).json["results"]
    assert any(e["operation"] == "create" and e["summary_fields"]["role_user_assignment"][0]["id"] == made["id"]
               for e in entries)


def test_start_up_aligns_assignments_with_grants(app_state, admin, make_user, world):
    """Grants made while the triggers were absent (a database from before them: no mark of a
    sync either) show after a start; once aligned and marked, a start re-syncs only when the
    managed definitions change (the triggers keep the rows in line in between)."""
    uid, _ = make_user()
    store = app_state.store
    role = rbac.role_id(store, "inventory", world["other"]["id"], "read_role")
    with store.transaction():
        store.execute('DROP TRIGGER "turret_rbac_user_grant"')
        store.execute("DELETE FROM meta WHERE key = ?", (rd_sql._META_KEY,))
        rbac.add_member(store, role, uid)
    assert assignments(admin, user=uid) == []
    seed_role_definitions(app_state)
    [shown] = assignments(admin, user=uid)
    assert shown["role_definition"] == definition(admin, "Inventory Read")["id"]
    assert seed_role_definitions(app_state) == 0     # idempotent: nothing rewritten
    assert not rd_sql.install(store, definitions_changed=False)
    assert rd_sql.install(store, definitions_changed=True)
    assert [a["id"] for a in assignments(admin, user=uid)] == [shown["id"]]

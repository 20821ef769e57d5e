"""turret.controller.role_definition, role_user_assignment and role_team_assignment against a live
controller: check mode writes nothing, create, the same again unchanged, update, absent (twice), and
the grants they make are the object roles of the old API."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

ORG, INV, TEAM, USER = "RDOrg", "RDInv", "RDTeam", "rd-user"


@pytest.fixture(scope="module")
def world(controller):
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": ORG}).json()
        inv = api.post("/api/v2/inventories/", {"name": INV, "organization": org["id"]}).json()
        team = api.post("/api/v2/teams/", {"name": TEAM, "organization": org["id"]}).json()
        user = api.post("/api/v2/users/", {"username": USER, "password": "pw-rd-1"}).json()
    return {"org": org, "inv": inv, "team": team, "user": user}


def role_members(api, inv_id: int, field: str, kind: str) -> list[int]:
    role = api.get(f"/api/v2/inventories/{inv_id}/").json()["summary_fields"]["object_roles"][field]["id"]
    return [o["id"] for o in api.get(f"/api/v2/roles/{role}/{kind}/").json()["results"]]


def test_role_definition_lifecycle(world, api, play):
    args = {"name": "inventory-use", "content_type": "awx.inventory",
            "permissions": ["awx.view_inventory", "awx.use_inventory"]}
    check = play([{"turret.controller.role_definition": args, "check_mode": True}])
    assert check[0]["changed"] is True and check[0]["id"] is None
    assert api.get("/api/v2/role_definitions/", params={"name": "inventory-use"}).json()["count"] == 0
    p = play([
        {"turret.controller.role_definition": args, "diff": True},
        {"turret.controller.role_definition": args},
        {"turret.controller.role_definition": {**args, "description": "use one inventory"}},
        {"turret.controller.role_definition": {**args, "content_type": "awx.project"}},
    ])
    created, again, updated, other_type = p.results
    assert created["changed"] is True and again["changed"] is False and again["id"] == created["id"]
    assert updated["changed"] is True and other_type["changed"] is False   # content_type is fixed once created
    stored = api.get(f"/api/v2/role_definitions/{created['id']}/").json()
    assert (stored["description"], stored["content_type"], stored["permissions"], stored["managed"]) == \
        ("use one inventory", "awx.inventory", ["awx.view_inventory", "awx.use_inventory"], False)
    gone = play([{"turret.controller.role_definition": {"name": "inventory-use", "state": "absent"}},
                 {"turret.controller.role_definition": {"name": "inventory-use", "state": "absent"}}])
    assert [r["changed"] for r in gone.results] == [True, False]
    assert api.get(f"/api/v2/role_definitions/{created['id']}/").status_code == 404


def test_role_definition_refuses_a_managed_change(world, api, play):
    [result] = play([{"turret.controller.role_definition": {
        "name": "Inventory Use", "content_type": "awx.inventory", "permissions": ["awx.view_inventory"]}}]).results
    assert result.get("failed") and "Role is managed by the system" in result["msg"], result
    managed = api.get("/api/v2/role_definitions/", params={"name": "Inventory Use"}).json()["results"][0]
    assert managed["permissions"] == ["awx.use_inventory", "awx.view_inventory"]


MODULES = {"user": "turret.controller.role_user_assignment", "team": "turret.controller.role_team_assignment"}


@pytest.mark.parametrize("actor", ["user", "team"])
def test_assignment_lifecycle(actor, world, api, play):
    inv = world["inv"]["id"]
    who = USER if actor == "user" else TEAM
    field = "use_role" if actor == "user" else "adhoc_role"
    definition = "Inventory Use" if actor == "user" else "Inventory Adhoc"
    module = MODULES[actor]
    args = {"role_definition": definition, "object_id": inv, actor: who}
    check = play([{module: args, "check_mode": True}])
    assert check[0]["changed"] is True and role_members(api, inv, field, actor + "s") == []
    p = play([{module: args, "diff": True}, {module: args}])
    created, again = p.results
    assert created["changed"] is True and again["changed"] is False and again["id"] == created["id"], p.results
    assert role_members(api, inv, field, actor + "s") == [world[actor]["id"]]
    stored = api.get(f"/api/v2/role_{actor}_assignments/{created['id']}/").json()
    assert (stored["object_id"], stored[actor], stored["content_type"]) == (str(inv), world[actor]["id"],
                                                                           "awx.inventory")
    gone = play([{module: {**args, "state": "absent"}}, {module: {**args, "state": "absent"}}])
    assert [r["changed"] for r in gone.results] == [True, False]
    assert role_members(api, inv, field, actor + "s") == []


def test_assignment_of_an_unassignable_definition_fails_with_the_server_message(world, api, play):
    api.post("/api/v2/role_definitions/", {"name": "edit-no-delete", "content_type": "awx.inventory",
                                           "permissions": ["awx.view_inventory", "awx.change_inventory"]})
    [result] = play([{"turret.controller.role_user_assignment": {
        "role_definition": "edit-no-delete", "object_id": world["inv"]["id"], "user": USER}}]).results
    assert result.get("failed") and "cannot be assigned" in result["msg"], result
    assert role_members(api, world["inv"]["id"], "admin_role", "users") == []

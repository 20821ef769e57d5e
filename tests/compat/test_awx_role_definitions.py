"""The real ``awx.awx`` 24.6.1 ``role_definition``, ``role_user_assignment`` and ``role_team_assignment``
modules (and the ``awx`` CLI) against a live controller.

A playbook creates a custom role definition and assigns a managed and the custom definition to a user
and a team; run twice, the second run reports ``changed=0``; then the definition's description changes
and everything is removed.  Stored state is read back through both RBAC APIs: an assignment made by
awx.awx is the object role of ``/api/v2/roles/``.

Client-side facts this relies on: the assignment modules look an assignment up with
``GET role_*_assignments/?role_definition=N&object_id=N&user=N`` and create it when the list is
empty (they need the role definition to exist, for state=absent too); role_definition compares
``permissions`` as a list, in the order given.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import expect

from .awx_collection import run_play
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def tasks(names: dict, state: str = "present", description: str = "launch one template") -> list[dict]:
    return [
        {"name": "custom definition", "awx.awx.role_definition": {
            "name": names["rd"], "content_type": "awx.jobtemplate", "description": description,
            "permissions": ["awx.view_jobtemplate", "awx.execute_jobtemplate"], "state": state}},
        {"name": "managed definition to a user", "awx.awx.role_user_assignment": {
            "role_definition": "Inventory Use", "object_id": names["inv_id"], "user": names["user"], "state": state}},
        {"name": "custom definition to a team", "awx.awx.role_team_assignment": {
            "role_definition": names["rd"], "object_id": names["jt_id"], "team": names["team"], "state": state}},
    ]


def run(controller, names: dict, work: Path, tag: str, skip_team: bool = False, **kwargs) -> str:
    body = tasks(names, **kwargs)[:2] if skip_team else tasks(names, **kwargs)
    if kwargs.get("state") == "absent":
        body.reverse()      # assignments go before the definition they use
    return run_play(controller, work, tag, body, name="rbac with awx.awx").stdout


@pytest.fixture(scope="module")
def names(controller, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("awx-rbac")
    folder = unique("folder")
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        inv = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": org["id"]}), 201)
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        jt = expect(api.post("/api/v2/job_templates/", json={"name": unique("jt"), "project": project["id"],
                                                             "inventory": inv["id"], "playbook": "site.yml"}), 201)
        team = expect(api.post("/api/v2/teams/", json={"name": unique("team"), "organization": org["id"]}), 201)
        user = expect(api.post("/api/v2/users/", json={"username": unique("user"), "password": "pw-rbac-1"}), 201)
    return {"rd": unique("launch-jt"), "inv_id": inv["id"], "jt_id": jt["id"], "team": team["name"],
            "team_id": team["id"], "user": user["username"], "user_id": user["id"], "work": work}


def object_role(api, path: str, field: str) -> int:
    return expect(api.get(path), 200)["summary_fields"]["object_roles"][field]["id"]


def test_awx_collection_role_definitions_and_assignments(controller, api, names):
    work = names["work"]
    first = run(controller, names, work, "first")
    assert "changed=3" in first, first
    second = run(controller, names, work, "second")
    assert "changed=0" in second, second

    [rd] = expect(api.get("/api/v2/role_definitions/", params={"name": names["rd"]}), 200)["results"]
    assert (rd["content_type"], rd["permissions"], rd["managed"]) == \
        ("awx.jobtemplate", ["awx.view_jobtemplate", "awx.execute_jobtemplate"], False)
    # the user assignment is the inventory's use role, the team one the template's execute role
    use_role = object_role(api, f"/api/v2/inventories/{names['inv_id']}/", "use_role")
    assert [u["id"] for u in expect(api.get(f"/api/v2/roles/{use_role}/users/"), 200)["results"]] == [names["user_id"]]
    execute = object_role(api, f"/api/v2/job_templates/{names['jt_id']}/", "execute_role")
    assert [t["id"] for t in expect(api.get(f"/api/v2/roles/{execute}/teams/"), 200)["results"]] == [names["team_id"]]
    [team_assignment] = expect(api.get("/api/v2/role_team_assignments/", params={"team": names["team_id"]}),
                               200)["results"]
    assert (team_assignment["role_definition"], team_assignment["object_id"]) == (rd["id"], str(names["jt_id"]))

    changed = run(controller, names, work, "update", description="run the one template")
    assert "changed=1" in changed, changed
    assert expect(api.get(rd["url"]), 200)["description"] == "run the one template"

    gone = run(controller, names, work, "absent", state="absent")
    assert "changed=3" in gone, gone
    assert api.get(rd["url"]).status_code == 404
    assert expect(api.get(f"/api/v2/roles/{use_role}/users/"), 200)["results"] == []
    assert expect(api.get(f"/api/v2/roles/{execute}/teams/"), 200)["results"] == []
    # awx.awx's assignment modules fail (against AWX too) when the definition they name is gone
    again = run(controller, names, work, "absent-again", state="absent", skip_team=True)
    assert "changed=0" in again, again


def test_awx_cli_lists_definitions_and_creates_assignments(awx, api, names):
    [listed] = awx.json("role_definitions", "list", "--name", "Inventory Read")["results"]
    assert listed["managed"] is True and listed["content_type"] == "awx.inventory"
    made = awx.json("role_user_assignments", "create", "--role_definition", str(listed["id"]),
                    "--object_id", str(names["inv_id"]), "--user", str(names["user_id"]))
    assert (made["role_definition"], made["object_id"], made["user"]) == \
        (listed["id"], str(names["inv_id"]), names["user_id"])
    read_role = object_role(api, f"/api/v2/inventories/{names['inv_id']}/", "read_role")
    assert [u["id"] for u in expect(api.get(f"/api/v2/roles/{read_role}/users/"), 200)["results"]] == [names["user_id"]]
    awx.run("role_user_assignments", "delete", str(made["id"])).check_returncode()
    assert expect(api.get(f"/api/v2/roles/{read_role}/users/"), 200)["results"] == []

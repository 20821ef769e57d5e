"""The real awx.awx 24.6.1 modules ``instance``, ``instance_group`` and ``execution_environment``
(and ``job_template`` with ``execution_environment`` + ``instance_groups``), and the real ``awx``
CLI's ``instance_groups`` / ``execution_environments`` commands, against a live controller.

Each play runs through ``ansible-playbook``: the first run changes, the same play again reports
``changed=0``, an update changes what it says, ``state: absent`` deletes.  Stored state is read
back through the API.
"""
from __future__ import annotations

import json
import socket

import pytest

from tests.support.api import expect

from .awx_collection import describe, run_play, run_recorded
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]
HOST = socket.gethostname()


@pytest.fixture(scope="module")
def names(controller, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("awx-instances")
    folder = unique("folder")
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.ping: }]\n")
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        inv = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": org["id"]}), 201)
    return {"org": org["name"], "project": project["name"], "inv": inv["name"], "work": work,
            "ig": unique("ig"), "ee": unique("ee"), "jt": unique("jt")}


def test_instance_module_modifies_the_controller(controller, api, names):
    tasks = [{"awx.awx.instance": {"hostname": HOST, "capacity_adjustment": 0.5, "enabled": True}}]
    first = run_play(controller, names["work"], "instance-1", tasks)
    assert "changed=1" in first.stdout, describe(first)
    again = run_play(controller, names["work"], "instance-2", tasks)
    assert "changed=0" in again.stdout, describe(again)
    [inst] = expect(api.get("/api/v2/instances/", params={"hostname": HOST}), 200)["results"]
    assert inst["capacity_adjustment"] == 0.5 and inst["enabled"] is True
    low, high = sorted((inst["cpu_capacity"], inst["mem_capacity"]))
    assert inst["capacity"] == int(low + (high - low) * 0.5)
    run_play(controller, names["work"], "instance-3",
             [{"awx.awx.instance": {"hostname": HOST, "capacity_adjustment": 1.0}}])


def test_groups_environments_and_templates(controller, api, names):
    create = [
        {"awx.awx.instance_group": {"name": names["ig"], "instances": [HOST], "max_concurrent_jobs": 2}},
        {"awx.awx.execution_environment": {"name": names["ee"], "image": "quay.io/example/ee:1",
                                           "organization": names["org"]}},
        {"awx.awx.job_template": {"name": names["jt"], "organization": names["org"], "project": names["project"],
                                  "inventory": names["inv"], "playbook": "site.yml",
                                  "execution_environment": names["ee"],
                                  "instance_groups": [names["ig"], "default"]}},
    ]
    first = run_play(controller, names["work"], "create-1", create)
    assert "changed=3" in first.stdout, describe(first)
    again = run_play(controller, names["work"], "create-2", create)
    assert "changed=0" in again.stdout, describe(again)

    [group] = expect(api.get("/api/v2/instance_groups/", params={"name": names["ig"]}), 200)["results"]
    assert group["max_concurrent_jobs"] == 2 and group["instances"] == 1
    members = expect(api.get(f"/api/v2/instance_groups/{group['id']}/instances/"), 200)["results"]
    assert [m["hostname"] for m in members] == [HOST]
    [ee] = expect(api.get("/api/v2/execution_environments/", params={"name": names["ee"]}), 200)["results"]
    assert ee["image"] == "quay.io/example/ee:1" and ee["pull"] == "missing"   # the module's default
    [jt] = expect(api.get("/api/v2/job_templates/", params={"name": names["jt"]}), 200)["results"]
    assert jt["execution_environment"] == ee["id"]
    groups = expect(api.get(f"/api/v2/job_templates/{jt['id']}/instance_groups/"), 200)["results"]
    assert [g["name"] for g in groups] == [names["ig"], "default"]      # ordered, as AWX
    launch = expect(api.get(f"/api/v2/job_templates/{jt['id']}/launch/"), 200)["defaults"]["instance_groups"]
    assert [g["name"] for g in launch] == [names["ig"], "default"]

    update = [{"awx.awx.execution_environment": {"name": names["ee"], "image": "quay.io/example/ee:2",
                                                 "pull": "always"}},
              {"awx.awx.instance_group": {"name": names["ig"], "max_forks": 10}}]
    upd = run_play(controller, names["work"], "update", update)
    assert "changed=2" in upd.stdout, describe(upd)
    ee = expect(api.get(f"/api/v2/execution_environments/{ee['id']}/"), 200)
    assert (ee["image"], ee["pull"]) == ("quay.io/example/ee:2", "always")
    assert expect(api.get(f"/api/v2/instance_groups/{group['id']}/"), 200)["max_forks"] == 10

    delete = [{"awx.awx.job_template": {"name": names["jt"], "organization": names["org"], "state": "absent"}},
              {"awx.awx.execution_environment": {"name": names["ee"], "state": "absent"}},
              {"awx.awx.instance_group": {"name": names["ig"], "state": "absent"}}]
    gone = run_play(controller, names["work"], "delete", delete)
    assert "changed=3" in gone.stdout, describe(gone)
    assert expect(api.get("/api/v2/instance_groups/", params={"name": names["ig"]}), 200)["count"] == 0
    assert expect(api.get("/api/v2/execution_environments/", params={"name": names["ee"]}), 200)["count"] == 0


def test_awx_cli_lists_groups_and_creates_environments(awx, api):
    listed = awx.json("instance_groups", "list")
    assert {"controlplane", "default"} <= {g["name"] for g in listed["results"]}
    name = unique("cli-ee")
    created = awx.json("execution_environments", "create", "--name", name, "--image", "venv:/opt/example")
    assert created["name"] == name and created["image"] == "venv:/opt/example"
    stored = expect(api.get(f"/api/v2/execution_environments/{created['id']}/"), 200)
    assert stored["image"] == "venv:/opt/example" and stored["managed"] is False
    assert {i["hostname"] for i in awx.json("instances", "list")["results"]} == {HOST}


def _lost_worker(controller, name: str, queue: str) -> None:
    """A worker instance as the fleet monitor leaves a worker that is gone for good: registered
    (serving ``queue``), then lost (``unavailable``); written in the live controller's store."""
    from controller import open_state
    from controller.config import Settings
    from controller.services import instances as nodes
    from controller.services.bootstrap import system_context

    state = open_state(Settings({"DATA_DIR": str(controller.data_dir)}, environ={}))
    try:
        ctx = system_context(state)
        inst = nodes.register_worker(ctx, name, {"cpu": "2", "memory": str(4 << 30), "queues": queue})
        assert inst is not None
        nodes.lose_worker(ctx, inst)
    finally:
        state.store.close()


def test_instance_module_deprovisions_a_gone_worker(controller, api, names):
    """awx.awx.instance ``node_state: deprovisioning`` removes a gone worker's instance and its
    memberships; for the controller's own (managed) node it fails with AWX's message."""
    name, queue = unique("gone-worker"), unique("gone-queue")
    _lost_worker(controller, name, queue)
    [inst] = expect(api.get("/api/v2/instances/", params={"hostname": name}), 200)["results"]
    assert inst["node_state"] == "unavailable"
    [ig] = expect(api.get("/api/v2/instance_groups/", params={"name": queue}), 200)["results"]
    assert ig["instances"] == 1
    results, _ = run_recorded(controller, names["work"], "deprovision", [
        {"name": "gone", "awx.awx.instance": {"hostname": name, "node_state": "deprovisioning"}},
        {"name": "managed", "awx.awx.instance": {"hostname": HOST, "node_state": "deprovisioning"}}])
    assert results["gone"].get("changed") is True and not results["gone"].get("failed"), results["gone"]
    assert expect(api.get("/api/v2/instances/", params={"hostname": name}), 200)["results"] == []
    assert expect(api.get(f"/api/v2/instance_groups/{ig['id']}/"), 200)["instances"] == 0
    assert results["managed"].get("failed") is True
    assert "Cannot deprovision managed nodes." in json.dumps(results["managed"]), results["managed"]
    [own] = expect(api.get("/api/v2/instances/", params={"hostname": HOST}), 200)["results"]
    assert own["node_state"] == "ready"

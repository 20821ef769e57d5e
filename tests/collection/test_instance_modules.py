"""turret.controller.instance against a live controller: the controller's own instance is
changed (capacity_adjustment, enabled) idempotently, and neither created nor deleted; instance
groups hold it through the module's exact ``instances`` list; job templates, organizations and
inventories keep their ordered ``instance_groups`` and their execution environments."""
from __future__ import annotations

import json
import socket
import sys

from .conftest import failed_cleanly

HOST = socket.gethostname()


def test_instance_is_modified_not_created(api, play):
    t = "turret.controller.instance"
    p = play([{t: {"hostname": HOST, "capacity_adjustment": 0.0}, "diff": True},
              {t: {"hostname": HOST, "capacity_adjustment": 0.0}},
              {t: {"hostname": HOST, "enabled": False}},
              {t: {"hostname": HOST, "enabled": True, "capacity_adjustment": 1.0}},
              {t: {"hostname": "no-such-node", "enabled": True}}])
    changed = [r.get("changed") for r in p.results[:4]]
    assert changed == [True, False, True, True]
    inst = api.get("/api/v2/instances/", params={"hostname": HOST}).json()["results"][0]
    assert inst["enabled"] is True and inst["capacity_adjustment"] == 1.0
    assert inst["capacity"] == max(inst["cpu_capacity"], inst["mem_capacity"])
    failed_cleanly(p.results[4], "405")


def test_groups_hold_the_instance_and_templates_order_them(api, play):
    ig, ee = "turret.controller.instance_group", "turret.controller.execution_environment"
    p = play([{ig: {"name": "mod-a", "instances": [HOST]}},
              {ig: {"name": "mod-b"}},
              {ig: {"name": "mod-a", "instances": [HOST]}},
              {ee: {"name": "mod-ee", "image": "venv:/opt/nothing"}},
              {"turret.controller.organization": {"name": "mod-org", "instance_groups": ["mod-b", "mod-a"],
                                                  "default_environment": "mod-ee"}},
              {"turret.controller.organization": {"name": "mod-org", "instance_groups": ["mod-b", "mod-a"],
                                                  "default_environment": "mod-ee"}},
              {ig: {"name": "mod-a", "instances": []}}])
    assert [r["changed"] for r in p.results] == [True, True, False, True, True, False, True]
    org = api.get("/api/v2/organizations/", params={"name": "mod-org"}).json()["results"][0]
    assert org["default_environment"] == p.results[3]["id"]
    groups = api.get(f"/api/v2/organizations/{org['id']}/instance_groups/").json()["results"]
    assert {g["name"] for g in groups} == {"mod-a", "mod-b"}
    group_a = api.get("/api/v2/instance_groups/", params={"name": "mod-a"}).json()["results"][0]
    assert group_a["instances"] == 0


def test_job_launch_prompts_for_environment_and_groups(controller, api, play):
    """job_launch resolves both prompts by name; the job records the environment at launch and
    runs in the prompted group."""
    folder = controller.data_dir / "projects" / "ig-launch"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    local = json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
    org = api.post("/api/v2/organizations/", {"name": "ig-launch-org"}).json()
    inv = api.post("/api/v2/inventories/", {"name": "ig-launch-inv", "organization": org["id"],
                                            "variables": local}).json()
    api.post("/api/v2/hosts/", {"name": "localhost", "inventory": inv["id"]}).raise_for_status()
    proj = api.post("/api/v2/projects/", {"name": "ig-launch-proj", "organization": org["id"],
                                          "local_path": "ig-launch"}).json()
    api.post("/api/v2/job_templates/", {"name": "ig-launch-jt", "project": proj["id"], "inventory": inv["id"],
                                        "playbook": "hello.yml", "ask_instance_groups_on_launch": True,
                                        "ask_execution_environment_on_launch": True}).raise_for_status()
    p = play([{"turret.controller.instance_group": {"name": "ig-launch", "instances": [HOST]}},
              {"turret.controller.execution_environment": {"name": "ig-launch-ee", "image": f"venv:{sys.prefix}"}},
              {"turret.controller.job_launch": {"name": "ig-launch-jt", "execution_environment": "ig-launch-ee",
                                                "instance_groups": ["ig-launch"], "wait": True}}])
    group, ee, launched = p.results
    job = api.get(f"/api/v2/jobs/{launched['id']}/").json()
    assert job["status"] == "successful"
    assert job["execution_environment"] == ee["id"] and job["instance_group"] == group["id"]
    assert job["execution_node"] == HOST

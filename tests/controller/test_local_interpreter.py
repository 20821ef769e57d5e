"""Turret's default interpreter for a local-connection host (``{{ ansible_playbook_python }}``,
the interpreter running ansible-playbook) applies only where the inventory names none: an
interpreter set on the host, on any group holding it (through children) or on ``all`` wins, and
a host made local by a group gets the default too.  Real job on localhost for the effect."""
from __future__ import annotations

import json
import os
import sys

from controller.jobs.job_run import yaml_inventory
from controller.jobs.staging import PLAYBOOK_PYTHON
from tests.support.jobs import events, launch, make_jt, make_org, make_project, uniq, wait_job

WHICH = ("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: which python\n"
         "      setup: gather_subset=min\n")


def interpreters(script: dict) -> dict:
    inventory, _ids = yaml_inventory(script)
    return {h: v.get("ansible_python_interpreter") for h, v in inventory["all"]["hosts"].items()}


def test_the_default_goes_only_where_no_level_names_an_interpreter():
    script = {"_meta": {"hostvars": {"own": {"ansible_connection": "local"}, "by_group": {}, "pinned": {},
                                     "ssh": {}, "alone": {}, "mine": {"ansible_connection": "local",
                                                                      "ansible_python_interpreter": "/x"}}},
              "all": {"vars": {"ansible_connection": "local"}, "children": ["web", "remote", "ungrouped"]},
              "web": {"hosts": ["by_group", "pinned"], "vars": {"ansible_connection": "local"}, "children": ["py"]},
              "py": {"hosts": ["pinned"], "vars": {"ansible_python_interpreter": "/opt/py"}},
              "remote": {"hosts": ["ssh"], "vars": {"ansible_connection": "ssh"}},
              "ungrouped": {"hosts": ["own", "mine"]}}
    assert interpreters(script) == {"own": PLAYBOOK_PYTHON, "by_group": PLAYBOOK_PYTHON, "pinned": None,
                                    "ssh": None, "alone": PLAYBOOK_PYTHON, "mine": "/x"}
    # an interpreter on all: nobody gets the default
    script["all"]["vars"]["ansible_python_interpreter"] = "/usr/bin/python3"
    assert set(interpreters(script).values()) == {None, "/x"}


def test_the_connection_is_settled_by_ansibles_group_precedence():
    """Levels that disagree are settled as Ansible does (checked against ansible-inventory): a
    deeper group over ``all`` and its parents, then ``ansible_group_priority``, then the name."""
    def connection_is_local(groups: dict, all_vars: dict) -> bool:
        script = {"_meta": {"hostvars": {"h": {}}}, "all": {"vars": all_vars, "children": list(groups)},
                  **{name: {"hosts": ["h"], "vars": v} for name, v in groups.items()}}
        return interpreters(script)["h"] == PLAYBOOK_PYTHON

    assert connection_is_local({"local": {"ansible_connection": "local"}}, {"ansible_connection": "ssh"})
    assert not connection_is_local({"aa": {"ansible_connection": "local"}, "zz": {"ansible_connection": "ssh"}}, {})
    assert connection_is_local({"aa": {"ansible_connection": "local", "ansible_group_priority": 10},
                                "zz": {"ansible_connection": "ssh"}}, {})
    nested = {"_meta": {"hostvars": {"h": {}}}, "all": {"children": ["parent"]},
              "parent": {"vars": {"ansible_connection": "ssh"}, "children": ["child"]},
              "child": {"hosts": ["h"], "vars": {"ansible_connection": "local"}}}
    assert interpreters(nested)["h"] == PLAYBOOK_PYTHON


def test_a_groups_interpreter_and_a_groups_connection_reach_the_job(admin, jobs, app_state, tmp_path):
    org = make_org(admin)
    other = tmp_path / "python-link"
    os.symlink(sys.executable, other)       # the same interpreter under another path: visible in facts
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    local = admin.post("/api/v2/groups/", {"name": "local", "inventory": inv["id"],
                                           "variables": json.dumps({"ansible_connection": "local"})}).json
    pinned = admin.post("/api/v2/groups/", {"name": "pinned", "inventory": inv["id"],
                                            "variables": json.dumps({"ansible_python_interpreter": str(other)})}).json
    for name, groups in (("plain", (local,)), ("pin", (local, pinned))):
        host = admin.post("/api/v2/hosts/", {"name": name, "inventory": inv["id"]}).json
        for group in groups:
            assert admin.post(f"/api/v2/groups/{group['id']}/hosts/", {"id": host["id"]}).status_code == 204
    project = make_project(admin, app_state.settings.data_dir, org, {"which.yml": WHICH})
    job = wait_job(admin, launch(admin, make_jt(admin, project, inv, "which.yml"))["id"], timeout=120)
    assert job["status"] == "successful", job["job_explanation"]
    found = {e["host_name"]: e["event_data"]["res"]["ansible_facts"]["ansible_python"]["executable"]
             for e in events(admin, job["id"]) if e["event"] == "runner_on_ok" and e["task"] == "which python"}
    assert found == {"plain": sys.executable, "pin": str(other)}

"""The action modules against a live controller that runs real jobs: job_launch, job_wait,
job_list, job_cancel, ad_hoc_command, project (wait) + project_update from a local git
repository, inventory_source + inventory_source_update, and role."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


from .conftest import failed_cleanly

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
PLAYBOOKS = {
    "hello.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n",
    "fail.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail: {msg: boom}\n",
    "sleep.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: sleep 60\n",
}

CONTROLLER_ENV = {"TURRET_ALLOW_LOCAL_SCM_URLS": "true"}   # this module's live controller (tests/conftest.py) allows local git URLs


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A local git repository with playbooks and an inventory file."""
    path = tmp_path_factory.mktemp("repo")
    for name, text in PLAYBOOKS.items():
        (path / name).write_text(text)
    (path / "hosts.yml").write_text(yaml_hosts())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(git + args, cwd=path, check=True)
    return path


def yaml_hosts() -> str:
    return "all:\n  hosts:\n    imported1:\n      ansible_connection: local\n    imported2: {}\n"


@pytest.fixture(scope="module")
def world(controller, repo):
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": "JOrg"}).json()
        inv = api.post("/api/v2/inventories/", {"name": "JInv", "organization": org["id"],
                                                "variables": json.dumps(LOCAL)}).json()
        api.post("/api/v2/hosts/", {"name": "jh1", "inventory": inv["id"]}).raise_for_status()
    return {"org": org, "inv": inv, "url": f"file://{repo}"}


def test_project_wait_and_update(world, play, api):
    t = {"name": "JProj", "organization": "JOrg", "scm_type": "git", "scm_url": world["url"], "scm_branch": "main"}
    p = play([
        {"turret.controller.project": t, "check_mode": True},
        {"turret.controller.project": t},
        {"turret.controller.project": t},
        {"turret.controller.project_update": {"name": "JProj", "organization": "JOrg"}, "check_mode": True},
        {"turret.controller.project_update": {"name": "JProj++JOrg", "timeout": 120}},
        {"turret.controller.project_update": {"name": "no-such-project"}},
    ])
    check, created, again, check_update, update, missing = p.results
    assert check["changed"] and check["id"] is None
    assert created["changed"] and created["update"]["status"] == "successful", created
    assert again["changed"] is False and "update" not in again
    assert check_update["changed"] and check_update["id"] is None
    assert update["changed"] and update["status"] == "successful", update
    updates = api.get(f"/api/v2/projects/{created['id']}/project_updates/").json()["count"]
    assert updates == 2  # the one on create and the explicit one; check mode started none
    failed_cleanly(missing, "no projects found")
    pbs = api.get(f"/api/v2/projects/{created['id']}/playbooks/").json()
    assert "hello.yml" in pbs


def test_job_templates_launch_wait_list_cancel(world, play, api):
    jt = {"project": "JProj", "inventory": "JInv++JOrg"}
    p = play([
        {"turret.controller.job_template": {"name": "hello", "playbook": "hello.yml", **jt}},
        {"turret.controller.job_template": {"name": "fail", "playbook": "fail.yml", **jt}},
        {"turret.controller.job_template": {"name": "sleep", "playbook": "sleep.yml", **jt,
                                            "ask_variables_on_launch": True}},
        {"turret.controller.job_launch": {"name": "hello"}, "check_mode": True},      # 3
        {"turret.controller.job_launch": {"name": "hello"}},                           # 4
        {"turret.controller.job_wait": {"job_id": "{{ r4.id }}", "timeout": 120}},     # 5
        {"turret.controller.job_launch": {"name": "hello", "wait": True, "timeout": 120}},  # 6
        {"turret.controller.job_launch": {"name": "fail", "wait": True, "timeout": 120}},   # 7
        {"turret.controller.job_list": {"status": "successful", "job_template": "hello"}},   # 8
        {"turret.controller.job_cancel": {"job_id": "{{ r4.id }}"}},                   # 9
        {"turret.controller.job_cancel": {"job_id": "{{ r4.id }}", "fail_if_not_running": True}},  # 10
        {"turret.controller.job_launch": {"name": "sleep", "extra_vars": {"x": 1}}},   # 11
        {"turret.controller.job_cancel": {"job_id": "{{ r11.id }}"}, "check_mode": True},  # 12
        {"turret.controller.job_cancel": {"job_id": "{{ r11.id }}"}},                  # 13
        {"turret.controller.job_wait": {"job_id": "{{ r11.id }}", "timeout": 120}},    # 14
        {"turret.controller.job_launch": {"name": "no-such-template"}},                # 15
        {"turret.controller.job_list": {"all_pages": True}},                           # 16
    ])
    r = p.results
    assert all(x["changed"] for x in r[:3])
    assert r[3]["changed"] and r[3]["id"] is None
    assert r[4]["changed"] and r[4]["id"]
    assert r[5]["status"] == "successful" and r[5]["changed"] is False
    assert r[6]["status"] == "successful" and r[6]["job"]["event_processing_finished"]
    failed_cleanly(r[7], "ended failed")
    ids = [j["id"] for j in r[8]["results"]]
    assert r[4]["id"] in ids and r[6]["id"] in ids and r[7]["id"] not in ids
    assert r[9]["changed"] is False
    failed_cleanly(r[10], "already successful")
    assert r[12]["changed"] is True
    assert r[13]["changed"] is True
    failed_cleanly(r[14], "canceled")
    failed_cleanly(r[15], "no job_templates found")
    assert r[16]["count"] == 4 == len(r[16]["results"])  # 4 launches; check mode launched nothing
    job = api.get(f"/api/v2/jobs/{r[11]['id']}/").json()
    assert job["status"] == "canceled"


def test_ad_hoc_command(world, play, api):
    p = play([
        {"turret.controller.ad_hoc_command": {"inventory": "JInv", "module_name": "ping"}, "check_mode": True},
        {"turret.controller.ad_hoc_command": {"inventory": "JInv", "module_name": "ping", "timeout": 120}},
        {"turret.controller.ad_hoc_command": {"inventory": "JInv", "module_name": "raw", "module_args": "id"}},
    ])
    check, ok, bad = p.results
    assert check["changed"] and check["id"] is None
    assert ok["status"] == "successful", ok
    failed_cleanly(bad, "module_name")
    assert api.get("/api/v2/ad_hoc_commands/").json()["count"] == 1


def test_inventory_source_and_update(world, play, api):
    src = {"name": "from git", "inventory": "JInv", "source": "scm", "source_project": "JProj",
           "source_path": "hosts.yml", "overwrite": True}
    p = play([
        {"turret.controller.inventory_source": src},
        {"turret.controller.inventory_source": src},
        {"turret.controller.inventory_source_update": {"name": "from git", "inventory": "JInv"}, "check_mode": True},
        {"turret.controller.inventory_source_update": {"name": "from git", "inventory": "JInv", "timeout": 120}},
    ])
    created, again, check, update = p.results
    assert created["changed"] and again["changed"] is False
    assert check["changed"] and check["id"] is None
    assert update["status"] == "successful", update
    hosts = {h["name"] for h in api.get(f"/api/v2/inventories/{world['inv']['id']}/hosts/").json()["results"]}
    assert {"imported1", "imported2"} <= hosts


def test_role_grant_and_revoke(world, play, api):
    p = play([
        {"turret.controller.user": {"username": "rita", "password": "rita-pw-1"}},
        {"turret.controller.team": {"name": "JTeam", "organization": "JOrg"}},
        {"turret.controller.role": {"user": "rita", "role": "member", "target_team": "JTeam"}, "check_mode": True},
        {"turret.controller.role": {"user": "rita", "role": "member", "target_team": "JTeam"}, "diff": True},
        {"turret.controller.role": {"user": "rita", "role": "member", "target_team": "JTeam"}},
        {"turret.controller.role": {"team": "JTeam", "role": "use", "inventory": "JInv"}},
        {"turret.controller.role": {"team": "JTeam", "role": "use", "inventory": "JInv", "state": "absent"}},
        {"turret.controller.role": {"team": "JTeam", "role": "use", "inventory": "JInv", "state": "absent"}},
        {"turret.controller.role": {"team": "JTeam", "role": "nonsense", "inventory": "JInv"}},
        {"turret.controller.role": {"team": "JTeam", "role": "admin", "organization": "JOrg"}},
    ])
    r = p.results
    assert r[2]["changed"] is True
    assert r[3]["changed"] is True and r[3]["diff"]["after"]["users"]
    assert r[4]["changed"] is False
    assert r[5]["changed"] is True and r[6]["changed"] is True and r[7]["changed"] is False
    failed_cleanly(r[8], "has no role 'nonsense'")
    failed_cleanly(r[9])  # organization admin is user-only: the server refuses it
    members = api.get(f"/api/v2/teams/{r[1]['id']}/users/").json()["results"]
    assert [u["username"] for u in members] == ["rita"]

"""The bulk modules (bulk_host_create, bulk_host_delete, bulk_job_launch) against a live
controller running real jobs: check mode writes nothing, a run writes everything, a refused
request fails cleanly and writes nothing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


from .conftest import failed_cleanly

pytestmark = pytest.mark.slow
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


@pytest.fixture(scope="module")
def world(controller):
    folder = Path(controller.data_dir) / "projects" / "bulkproj"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": "BOrg"}).json()
        inv = api.post("/api/v2/inventories/", {"name": "BInv", "organization": org["id"],
                                                "variables": json.dumps(LOCAL)}).json()
        project = api.post("/api/v2/projects/", {"name": "BProj", "organization": org["id"],
                                                 "local_path": "bulkproj"}).json()
        jt = api.post("/api/v2/job_templates/", {"name": "BJT", "project": project["id"], "inventory": inv["id"],
                                                 "playbook": "hello.yml", "ask_limit_on_launch": True}).json()
    return {"org": org, "inv": inv, "jt": jt}


def _names(api, inv: dict) -> set[str]:
    return {h["name"] for h in api.get(f"/api/v2/inventories/{inv['id']}/hosts/").json()["results"]}


def test_bulk_host_create_and_delete(world, play, api):
    hosts = [{"name": "b1", "variables": {"port": 1}}, {"name": "b2", "enabled": False}]
    p = play([
        {"turret.controller.bulk_host_create": {"inventory": "BInv", "hosts": hosts}, "check_mode": True},
        {"turret.controller.bulk_host_create": {"inventory": "BInv++BOrg", "hosts": hosts}},
        {"turret.controller.bulk_host_create": {"inventory": "BInv", "hosts": [{"name": "b3"}, {"name": "b1"}]}},
    ])
    check, created, duplicate = p.results
    assert check["changed"] and check["hosts"] == []
    assert created["changed"] and [h["name"] for h in created["hosts"]] == ["b1", "b2"]
    failed_cleanly(duplicate, "Duplicates found")
    assert _names(api, world["inv"]) == {"b1", "b2"}      # b3 was not written either
    b1 = api.get(f"/api/v2/hosts/{created['hosts'][0]['id']}/").json()
    assert json.loads(b1["variables"]) == {"port": 1}
    ids = [h["id"] for h in created["hosts"]]
    p = play([
        {"turret.controller.bulk_host_delete": {"hosts": ids}, "check_mode": True},
        {"turret.controller.bulk_host_delete": {"hosts": ids + [999999]}},
        {"turret.controller.bulk_host_delete": {"hosts": ids}},
    ])
    check, missing, deleted = p.results
    assert check["changed"] and check["deleted"] == {}
    failed_cleanly(missing, "Hosts do not exist")
    assert deleted["changed"] and deleted["deleted"] == {str(i): f"The host b{n} was deleted"
                                                         for n, i in enumerate(ids, 1)}
    assert _names(api, world["inv"]) == set()


def test_bulk_job_launch_waits_for_the_bulk_job(world, play, api):
    api.post("/api/v2/hosts/", {"name": "bh", "inventory": world["inv"]["id"]}).raise_for_status()
    jobs = [{"unified_job_template": world["jt"]["id"], "limit": "bh", "identifier": "one"},
            {"unified_job_template": world["jt"]["id"], "identifier": "two"}]
    p = play([
        {"turret.controller.bulk_job_launch": {"name": "bulk run", "jobs": jobs}, "check_mode": True},
        {"turret.controller.bulk_job_launch": {"name": "bulk run", "jobs": jobs, "organization": "BOrg",
                                               "timeout": 120}},
        {"turret.controller.bulk_job_launch": {"jobs": [{"unified_job_template": 999999}], "wait": False}},
    ])
    check, ran, refused = p.results
    assert check["changed"] and check["id"] is None and check["launch"]["jobs"][0]["limit"] == "bh"
    assert ran["changed"] and ran["status"] == "successful", ran
    assert ran["job"]["type"] == "workflow_job" and ran["job"]["name"] == "bulk run"
    nodes = api.get(f"/api/v2/workflow_jobs/{ran['id']}/workflow_nodes/").json()["results"]
    assert sorted(n["identifier"] for n in nodes) == ["one", "two"]
    failed_cleanly(refused, "not found")
    assert api.get("/api/v2/workflow_jobs/").json()["count"] == 1

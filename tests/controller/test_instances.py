"""Instances and instance groups (AWX §7.7): the controller as its own instance with AWX's
capacity figures, the seeded groups, health checks, group limits, ordered group lists on
templates/inventories/organizations and AWX's precedence, recorded on real jobs."""
from __future__ import annotations

import os
import time

import pytest

from controller.services import instances as nodes
from tests.support.jobs import launch, make_jt, make_stage, uniq, wait_job, wait_status

SLEEP = """- hosts: all
  gather_facts: false
  tasks:
    - command: sleep {{ pause | default(0) }}
"""
JOB_WORKERS = 3


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"sleep.yml": SLEEP})


def _group(admin, **fields) -> dict:
    resp = admin.post("/api/v2/instance_groups/", {"name": uniq("ig"), **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _me(admin) -> dict:
    found = admin.get(f"/api/v2/instances/?hostname={nodes.node_name()}").json
    assert found["count"] == 1, found
    return found["results"][0]


def test_the_controller_is_an_instance_with_awx_capacity(admin):
    inst = _me(admin)
    cpus = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert inst["node_type"] == "hybrid" and inst["enabled"] is True and inst["managed"] is True
    assert inst["cpu"] == cpus and inst["memory"] == memory
    assert inst["cpu_capacity"] == cpus * 4
    assert inst["mem_capacity"] == max(1, (memory - 2 * 1024 ** 3) // 1024 ** 2 // 100)
    assert inst["capacity"] == max(inst["cpu_capacity"], inst["mem_capacity"])   # adjustment 1.0
    assert inst["uuid"] == admin.get("/api/v2/ping/").json["install_uuid"]
    assert inst["last_seen"] and inst["last_health_check"]
    groups = {g["name"] for g in inst["summary_fields"]["instance_groups"]}
    assert groups == {"controlplane", "default"}


def test_capacity_adjustment_and_enabled_change_capacity(admin):
    inst = _me(admin)
    low, high = sorted((inst["cpu_capacity"], inst["mem_capacity"]))
    resp = admin.patch(inst["url"], {"capacity_adjustment": 0.0})
    assert resp.status_code == 200 and resp.json["capacity"] == low
    resp = admin.patch(inst["url"], {"capacity_adjustment": 0.5})
    assert resp.json["capacity"] == int(low + (high - low) * 0.5)
    resp = admin.patch(inst["url"], {"enabled": False})
    assert resp.json["capacity"] == 0 and resp.json["percent_capacity_remaining"] == 0
    default = admin.get("/api/v2/instance_groups/?name=default").json["results"][0]
    assert default["capacity"] == 0
    admin.patch(inst["url"], {"enabled": True, "capacity_adjustment": 1.0})
    assert admin.get(inst["url"]).json["capacity"] == high
    assert admin.post("/api/v2/instances/", {"hostname": "other"}).status_code == 405
    assert admin.delete(inst["url"]).status_code == 405


def test_capacity_formula_and_the_capacity_setting():
    """AWX: between the smaller and the larger capacity by the adjustment; 0 when disabled or a
    hop node; Turret's CAPACITY setting, when set, is the capacity."""
    inst = {"enabled": True, "node_type": "hybrid", "cpu_capacity": 8, "mem_capacity": 40}
    assert nodes.capacity({**inst, "capacity_adjustment": 1.0}) == 40
    assert nodes.capacity({**inst, "capacity_adjustment": 0.0}) == 8
    assert nodes.capacity({**inst, "capacity_adjustment": 0.5}) == 24
    assert nodes.capacity({**inst, "capacity_adjustment": 0.5}, configured=7) == 7
    assert nodes.capacity({**inst, "enabled": False}, configured=7) == 0
    assert nodes.capacity({**inst, "node_type": "hop"}) == 0


def test_health_check_really_measures_again(admin, app_state):
    inst = _me(admin)
    app_state.store.update("instances", inst["id"], {"cpu": 0, "cpu_capacity": 0, "last_health_check": None})
    assert admin.get(inst["url"]).json["cpu_capacity"] == 0
    resp = admin.post(f"{inst['url']}health_check/", {})
    assert resp.status_code == 200, resp.json
    assert resp.json["cpu_capacity"] == len(os.sched_getaffinity(0)) * 4
    stored = admin.get(inst["url"]).json
    assert stored["cpu"] == len(os.sched_getaffinity(0)) and stored["last_health_check"]


def test_ping_reads_the_stored_instances_and_groups(admin, anon):
    inst = _me(admin)
    group = _group(admin)
    assert admin.post(f"/api/v2/instance_groups/{group['id']}/instances/", {"id": inst["id"]}).status_code == 204
    body = anon.get("/api/v2/ping/").json
    assert body["instances"][0]["node"] == inst["hostname"]
    assert body["instances"][0]["capacity"] == inst["capacity"]
    named = {g["name"]: g for g in body["instance_groups"]}
    assert named[group["name"]]["instances"] == [inst["hostname"]]
    assert named["default"]["capacity"] == inst["capacity"]


def test_groups_crud_and_awx_refusals(admin):
    group = _group(admin, max_concurrent_jobs=2, max_forks=10, policy_instance_list=[])
    assert group["is_container_group"] is False and group["max_forks"] == 10 and group["instances"] == 0
    resp = admin.post("/api/v2/instance_groups/", {"name": uniq("cg"), "is_container_group": True})
    assert resp.status_code == 400 and "Kubernetes" in resp.json["is_container_group"][0]
    for name in ("controlplane", "default"):
        seeded = admin.get(f"/api/v2/instance_groups/?name={name}").json["results"][0]
        assert admin.delete(seeded["url"]).status_code == 403
        assert admin.patch(seeded["url"], {"name": "renamed"}).status_code == 400
    assert [g["id"] for g in admin.get("/api/v2/instance_groups/?name__in=controlplane,default&order_by=id")
            .json["results"]] == [1, 2]
    assert admin.delete(group["url"]).status_code == 204


def test_ordered_groups_on_templates_and_org_admin_visibility(admin, make_user, stage):
    first, second = _group(admin), _group(admin)
    jt = make_jt(admin, stage["project"], stage["inventory"], "sleep.yml")
    for g in (second, first):
        assert admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": g["id"]}).status_code == 204
    listed = admin.get(f"/api/v2/job_templates/{jt['id']}/instance_groups/").json["results"]
    assert [g["id"] for g in listed] == [second["id"], first["id"]]      # AWX: association order
    defaults = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json["defaults"]["instance_groups"]
    assert [g["id"] for g in defaults] == [second["id"], first["id"]]      # association order
    uid, user = make_user()
    assert user.get(first["url"]).status_code == 403
    admin.post(f"/api/v2/organizations/{stage['org']['id']}/instance_groups/", {"id": first["id"]})
    admin.post(f"/api/v2/organizations/{stage['org']['id']}/admins/", {"id": uid})
    assert user.get(first["url"]).status_code == 200
    assert user.get(second["url"]).status_code == 403
    assert user.post("/api/v2/instance_groups/", {"name": uniq("ig")}).status_code == 403


@pytest.mark.slow
def test_precedence_and_recording_on_real_jobs(admin, jobs, app_state):
    """template > inventory > organization > default; a prompt wins; prevent_instance_group_fallback
    on the template stops at its groups.  The job records its group and node."""
    org_g, inv_g, jt_g, prompt_g = (_group(admin) for _ in range(4))
    inst = _me(admin)
    for g in (org_g, inv_g, jt_g, prompt_g):
        admin.post(f"/api/v2/instance_groups/{g['id']}/instances/", {"id": inst["id"]})
    stage = make_stage(admin, app_state.settings.data_dir, {"sleep.yml": SLEEP})
    org, inv = stage["org"], stage["inventory"]
    jt = make_jt(admin, stage["project"], inv, "sleep.yml", ask_instance_groups_on_launch=True)
    default = admin.get("/api/v2/instance_groups/?name=default").json["results"][0]

    def group_of(body=None) -> int:
        job = wait_job(admin, launch(admin, jt, body)["id"])
        assert job["status"] == "successful" and job["execution_node"] == inst["hostname"]
        return job["instance_group"]

    assert group_of() == default["id"]
    admin.post(f"/api/v2/organizations/{org['id']}/instance_groups/", {"id": org_g["id"]})
    assert group_of() == org_g["id"]
    admin.post(f"/api/v2/inventories/{inv['id']}/instance_groups/", {"id": inv_g["id"]})
    assert group_of() == inv_g["id"]
    admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": jt_g["id"]})
    assert group_of() == jt_g["id"]
    assert group_of({"instance_groups": [prompt_g["id"]]}) == prompt_g["id"]
    job = admin.get(f"/api/v2/jobs/?instance_group={prompt_g['id']}").json["results"][0]
    assert job["summary_fields"]["instance_group"]["name"] == prompt_g["name"]
    assert admin.get(f"/api/v2/instance_groups/{jt_g['id']}/jobs/").json["count"] == 1
    assert admin.get(f"/api/v2/instance_groups/{jt_g['id']}/").json["jobs_total"] == 1
    # the template's groups unusable: its prevent flag keeps the job off the inventory's groups
    admin.post(f"/api/v2/instance_groups/{jt_g['id']}/instances/", {"id": inst["id"], "disassociate": True})
    assert group_of() == inv_g["id"]
    admin.patch(jt["url"], {"prevent_instance_group_fallback": True})
    assert group_of() == jt_g["id"]
    # the inventory's flag stops the walk before the organization's groups
    admin.patch(jt["url"], {"prevent_instance_group_fallback": False})
    admin.post(f"/api/v2/instance_groups/{inv_g['id']}/instances/", {"id": inst["id"], "disassociate": True})
    assert group_of() == org_g["id"]
    assert admin.patch(f"/api/v2/inventories/{inv['id']}/", {"prevent_instance_group_fallback": True}) \
        .json["prevent_instance_group_fallback"] is True
    assert group_of() == jt_g["id"]      # no group of the walk has an instance: the first preferred one
    assert admin.post(f"/api/v2/job_templates/{jt['id']}/launch/",
                      {"instance_groups": [999999]}).status_code == 400


@pytest.mark.slow
def test_max_concurrent_jobs_keeps_a_job_pending(admin, jobs, stage):
    group = _group(admin, max_concurrent_jobs=1)
    admin.post(f"/api/v2/instance_groups/{group['id']}/instances/", {"id": _me(admin)["id"]})
    jt = make_jt(admin, stage["project"], stage["inventory"], "sleep.yml", allow_simultaneous=True,
                 extra_vars='{"pause": 3}')
    admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": group["id"]})
    first = launch(admin, jt)
    wait_status(admin, first["id"], ("running",))
    second = launch(admin, jt)
    shown = admin.get(f"/api/v2/instance_groups/{group['id']}/").json
    assert shown["jobs_running"] == 1 and shown["consumed_capacity"] == 2
    time.sleep(1.5)
    assert admin.get(f"/api/v2/jobs/{second['id']}/").json["status"] == "pending"
    done_first, done_second = wait_job(admin, first["id"]), wait_job(admin, second["id"])
    assert done_second["started"] >= done_first["finished"]
    assert done_second["instance_group"] == group["id"]

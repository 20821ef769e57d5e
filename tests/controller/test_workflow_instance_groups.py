"""A workflow node's instance groups are a prompt of the job it spawns (AWX: the node's
``instance_groups`` apply when its job template asks for them), copied to the workflow job's
node at launch and recorded on the job as the group it ran in."""
from __future__ import annotations

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, uniq, wait_finished

OK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: ok}\n"


def _group(admin) -> dict:
    resp = admin.post("/api/v2/instance_groups/", {"name": uniq("ig")})
    assert resp.status_code == 201, resp.json
    inst = admin.get("/api/v2/instances/").json["results"][0]
    assert admin.post(f"/api/v2/instance_groups/{resp.json['id']}/instances/", {"id": inst["id"]}).status_code == 204
    return resp.json


def _workflow_job_of(admin, app_state, org, jt, groups: list[dict]) -> tuple[dict, dict]:
    wf = admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"]}).json
    node = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                      {"unified_job_template": jt["id"], "identifier": "only"}).json
    for g in groups:
        resp = admin.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/instance_groups/", {"id": g["id"]})
        assert resp.status_code == 204, resp.json
    wj = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}).json
    wj = wait_finished(admin, f"/api/v2/workflow_jobs/{wj['id']}/", timeout=90, processed=False)
    job_node = admin.get(f"/api/v2/workflow_jobs/{wj['id']}/workflow_nodes/").json["results"][0]
    return job_node, admin.get(f"/api/v2/jobs/{job_node['job']}/").json


def test_node_instance_groups_reach_the_job_when_the_template_asks(admin, app_state, jobs):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"ok.yml": OK})
    inv = make_inventory(admin, org, ["h1"])
    asks = make_jt(admin, project, inv, "ok.yml", ask_instance_groups_on_launch=True)
    first, second = _group(admin), _group(admin)

    job_node, job = _workflow_job_of(admin, app_state, org, asks, [second, first])
    listed = admin.get(f"/api/v2/workflow_job_nodes/{job_node['id']}/instance_groups/").json["results"]
    assert [g["id"] for g in listed] == [second["id"], first["id"]]      # copied, order kept
    assert job["status"] == "successful"
    assert job["instance_group"] == second["id"]                         # the first prompted group
    assert job["execution_node"]


def test_node_instance_groups_are_ignored_when_the_template_does_not_ask(admin, app_state, jobs):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"ok.yml": OK})
    inv = make_inventory(admin, org, ["h1"])
    plain = make_jt(admin, project, inv, "ok.yml")
    group = _group(admin)
    default = admin.get("/api/v2/instance_groups/?name=default").json["results"][0]

    _, job = _workflow_job_of(admin, app_state, org, plain, [group])
    assert job["status"] == "successful"
    assert job["instance_group"] == default["id"]

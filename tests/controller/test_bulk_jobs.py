"""Bulk job launch (/api/v2/bulk/job_launch/) with real ansible-runner jobs: one workflow job
named after the request whose nodes run the jobs with their prompts; all-or-nothing refusals;
who sees the bulk job."""
from __future__ import annotations

import pytest

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, uniq, wait_finished

pytestmark = pytest.mark.slow

ECHO = ("- hosts: all\n  gather_facts: false\n  tasks:\n    - set_stats:\n        aggregate: false\n"
        "        data:\n          color_seen: \"{{ color | default('none') }}\"\n"
        "          food_seen: \"{{ food | default('none') }}\"\n"
        "          probe_seen: \"{{ probe | default('none') }}\"\n")


@pytest.fixture(scope="module")
def stage(admin, app_state):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"echo.yml": ECHO})
    inventory = make_inventory(admin, org, ("h1", "h2"))
    asks = make_jt(admin, project, inventory, "echo.yml", ask_limit_on_launch=True, ask_variables_on_launch=True,
                   ask_labels_on_launch=True)
    fixed = make_jt(admin, project, inventory, "echo.yml")
    return {"org": org, "project": project, "inventory": inventory, "asks": asks, "fixed": fixed}


def _grant(admin, uid: int, obj: dict, role: str) -> None:
    resp = admin.post(f"/api/v2/users/{uid}/roles/", {"id": obj["summary_fields"]["object_roles"][role]["id"]})
    assert resp.status_code == 204, resp.json


def _workflow_jobs(admin) -> int:
    return admin.get("/api/v2/workflow_jobs/").json["count"]


def _jobs_of(admin, wj_id: int) -> dict[str, dict]:
    """{node identifier: the node's job} of workflow job ``wj_id``."""
    nodes = admin.get(f"/api/v2/workflow_jobs/{wj_id}/workflow_nodes/").json["results"]
    return {n["identifier"]: admin.get(f"/api/v2/jobs/{n['summary_fields']['job']['id']}/").json for n in nodes}


def test_bulk_launch_runs_each_job_with_its_prompts(admin, jobs, app_state, stage):
    label = admin.post("/api/v2/labels/", {"name": uniq("label"), "organization": stage["org"]["id"]}).json
    own = {key: admin.post(f"/api/v2/job_templates/{stage[key]['id']}/labels/",
                           {"name": uniq(f"own-{key}"), "organization": stage["org"]["id"]}).json
           for key in ("asks", "fixed")}
    resp = admin.post("/api/v2/bulk/job_launch/", {
        "name": "nightly", "description": "two at once",
        "jobs": [{"unified_job_template": stage["asks"]["id"], "identifier": "asks", "limit": "h1",
                  "extra_data": {"color": "red"}, "labels": [label["id"]]},
                 {"unified_job_template": stage["fixed"]["id"], "identifier": "fixed", "limit": "h2",
                  "extra_data": {"color": "blue"}, "labels": [label["id"]]}],
        "extra_vars": {"food": "grape", "probe": "{{ lookup('pipe', 'id') }}"}})
    assert resp.status_code == 201, resp.json
    wj = resp.json
    assert wj["type"] == "workflow_job" and wj["name"] == "nightly" and wj["description"] == "two at once"
    assert wj["workflow_job_template"] is None and wj["launch_type"] == "manual"
    row = app_state.store.get("workflow_jobs", wj["id"])
    assert row["is_bulk_job"] == 1 and row["launched_by_id"] == 1
    done = wait_finished(admin, f"/api/v2/workflow_jobs/{wj['id']}/", timeout=120, processed=False)
    assert done["status"] == "successful", done
    ran = _jobs_of(admin, wj["id"])
    assert set(ran) == {"asks", "fixed"}
    for job in ran.values():
        assert job["status"] == "successful"
        job = wait_finished(admin, f"/api/v2/jobs/{job['id']}/")
    # the template that asks takes the node's limit and vars; the other keeps its own
    assert ran["asks"]["limit"] == "h1" and ran["fixed"]["limit"] == ""
    # labels are additive (AWX): the asking template's job has its own and the node's; the other
    # template ignores the node's and keeps its own
    assert {lb["id"] for lb in admin.get(f"/api/v2/jobs/{ran['asks']['id']}/labels/").json["results"]} == \
        {own["asks"]["id"], label["id"]}
    assert [lb["id"] for lb in admin.get(f"/api/v2/jobs/{ran['fixed']['id']}/labels/").json["results"]] == \
        [own["fixed"]["id"]]
    asks_stats = app_state.store.get("jobs", ran["asks"]["id"])["artifacts"]
    fixed_stats = app_state.store.get("jobs", ran["fixed"]["id"])["artifacts"]
    assert '"color_seen":"red"' in asks_stats.replace(" ", "") and '"food_seen":"grape"' in asks_stats.replace(" ", "")
    assert '"color_seen":"none"' in fixed_stats.replace(" ", "")
    # a value from the request is data, never templated (written !unsafe)
    assert "lookup('pipe'" in asks_stats
    assert ran["asks"]["summary_fields"]["source_workflow_job"]["id"] == wj["id"]


def test_bulk_launch_refusals_create_nothing(admin, jobs, make_user, stage):
    before = _workflow_jobs(admin)
    approval = admin.post("/api/v2/workflow_approval_templates/", {"name": uniq("approve")})
    cases = [
        ({"jobs": []}, {"jobs": ["This list may not be empty."]}),
        ({"jobs": [{"limit": "x"}]}, {"jobs": [{"unified_job_template": ["This field is required."]}]}),
        ({"jobs": [{"unified_job_template": stage["asks"]["id"]}, {"unified_job_template": 999999}]},
         {"non_field_errors": ["Unified Job Templates {999999} not found or you don't have permissions to access it"]}),
        ({"jobs": [{"unified_job_template": stage["asks"]["id"], "identifier": "x"},
                   {"unified_job_template": stage["fixed"]["id"], "identifier": "x"}]},
         {"non_field_errors": ["Identifier x not unique"]}),
        ({"jobs": [{"unified_job_template": stage["asks"]["id"]}] * 101},
         {"non_field_errors": ["Number of requested jobs exceeds system setting BULK_JOB_MAX_LAUNCH"]}),
        ({"jobs": [{"unified_job_template": stage["asks"]["id"], "job_type": "nope"}]},
         {"jobs": [{"job_type": ['"nope" is not a valid choice.']}]}),
    ]
    if approval.status_code == 201:
        cases.append(({"jobs": [{"unified_job_template": approval.json["id"]}]},
                      {"non_field_errors": ["Template types Workflow Approval Template not allowed in bulk jobs"]}))
    for body, error in cases:
        resp = admin.post("/api/v2/bulk/job_launch/", body)
        assert (resp.status_code, resp.json) == (400, error), body
    # a member of the organization who may run one template but not the other
    uid, user = make_user()
    roles = stage["org"]["summary_fields"]["object_roles"]
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles["member_role"]["id"]})
    _grant(admin, uid, stage["asks"], "execute_role")
    resp = user.post("/api/v2/bulk/job_launch/", {"jobs": [{"unified_job_template": stage["asks"]["id"]},
                                                           {"unified_job_template": stage["fixed"]["id"]}]})
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": [f"Job Templates {{{stage['fixed']['id']}}} not found or you don't have "
                                              "permissions to access it"]}
    other = make_org(admin)
    resp = user.post("/api/v2/bulk/job_launch/", {"jobs": [{"unified_job_template": stage["asks"]["id"]}],
                                                   "organization": other["id"]})
    assert resp.json == {"non_field_errors": [f"Organization {other['id']} not found or you don't have permissions "
                                              "to access it"]}
    assert _workflow_jobs(admin) == before


def test_bulk_job_is_seen_by_its_launcher_and_organization_admins(admin, jobs, make_user, stage):
    uid, launcher = make_user()
    roles = stage["org"]["summary_fields"]["object_roles"]
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles["member_role"]["id"]})
    _grant(admin, uid, stage["asks"], "execute_role")
    _grant(admin, uid, stage["inventory"], "use_role")
    resp = launcher.post("/api/v2/bulk/job_launch/", {"jobs": [{"unified_job_template": stage["asks"]["id"],
                                                               "limit": "h1"}]})
    assert resp.status_code == 201, resp.json
    wj = resp.json
    assert wj["name"] == "Bulk Job Launch"
    org_admin_id, org_admin = make_user()
    admin.post(f"/api/v2/users/{org_admin_id}/roles/", {"id": roles["admin_role"]["id"]})
    _stranger_id, stranger = make_user()
    assert launcher.get(f"/api/v2/workflow_jobs/{wj['id']}/").status_code == 200
    assert org_admin.get(f"/api/v2/workflow_jobs/{wj['id']}/").status_code == 200
    assert stranger.get(f"/api/v2/workflow_jobs/{wj['id']}/").status_code == 403
    assert wj["id"] in [r["id"] for r in org_admin.get("/api/v2/workflow_jobs/").json["results"]]
    assert stranger.get("/api/v2/workflow_jobs/").json["count"] == 0
    done = wait_finished(admin, f"/api/v2/workflow_jobs/{wj['id']}/", timeout=120, processed=False)
    assert done["status"] == "successful", done

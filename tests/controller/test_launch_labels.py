"""Labels given at launch are added to the template's (AWX 24.6.1 ``copy_m2m_relationships``:
"labels are additive"), on every launch path: a job template launch, its relaunch, a workflow
job template launch, a workflow node's job, a nested workflow node; ignored prompts stay
ignored; ``GET launch/`` lists the template's labels among the defaults.  (A schedule firing and
bulk job launch: tests/controller/test_schedule_prompts_m2m.py, test_bulk_jobs.py.)  Jobs run
for real; each test reads the stored labels through ``/jobs/N/labels/``."""
from __future__ import annotations

import pytest

from tests.support.jobs import FINISHED, created, launch, make_stage, make_jt, uniq, wait_job, wait_until

pytestmark = pytest.mark.slow

OK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=ok\n"


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"ok.yml": OK})


def new_label(admin, stage: dict, prefix: str = "lbl") -> dict:
    return created(admin.post("/api/v2/labels/", {"name": uniq(prefix), "organization": stage["org"]["id"]}))


def own_label(admin, stage: dict, sub_list: str) -> dict:
    """A new label attached to ``sub_list`` (``/api/v2/<kind>/<id>/labels/``)."""
    return created(admin.post(f"{sub_list}labels/", {"name": uniq("own"), "organization": stage["org"]["id"]}))


def labels_of(admin, path: str) -> set[int]:
    return {x["id"] for x in admin.get(f"{path}labels/").json["results"]}


def jt_with_label(admin, stage: dict, **asks) -> tuple[dict, dict]:
    jt = make_jt(admin, stage["project"], stage["inventory"], "ok.yml", **asks)
    return jt, own_label(admin, stage, f"/api/v2/job_templates/{jt['id']}/")


def wait_wf(admin, pk: int) -> dict:
    return wait_until(lambda: (lambda w: w if w["status"] in FINISHED else None)(
        admin.get(f"/api/v2/workflow_jobs/{pk}/").json), 120, f"workflow job {pk}")


def node_jobs(admin, wj_id: int) -> dict[str, int]:
    """{node identifier: its job id} of workflow job ``wj_id``."""
    nodes = admin.get(f"/api/v2/workflow_jobs/{wj_id}/workflow_nodes/").json["results"]
    return {n["identifier"]: n["job"] for n in nodes}


def test_launch_defaults_list_the_templates_labels(admin, stage):
    jt, own = jt_with_label(admin, stage, ask_labels_on_launch=True)
    defaults = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json["defaults"]
    assert defaults["labels"] == [{"id": own["id"], "name": own["name"]}]
    bare = make_jt(admin, stage["project"], stage["inventory"], "ok.yml")
    assert "labels" not in admin.get(f"/api/v2/job_templates/{bare['id']}/launch/").json["defaults"]


def test_prompted_labels_are_added_to_the_templates(admin, jobs, stage):
    jt, own = jt_with_label(admin, stage, ask_labels_on_launch=True)
    extra = new_label(admin, stage)
    body = launch(admin, jt, {"labels": [extra["id"]]})
    assert body["ignored_fields"] == {}
    assert labels_of(admin, f"/api/v2/jobs/{body['id']}/") == {own["id"], extra["id"]}
    assert labels_of(admin, f"/api/v2/job_templates/{jt['id']}/") == {own["id"]}   # the template is untouched
    # an empty prompt removes nothing; a template label given again is not doubled
    empty = launch(admin, jt, {"labels": []})
    again = launch(admin, jt, {"labels": [own["id"], extra["id"]]})
    assert labels_of(admin, f"/api/v2/jobs/{empty['id']}/") == {own["id"]}
    assert admin.get(f"/api/v2/jobs/{again['id']}/labels/").json["count"] == 2
    for job in (body, empty, again):
        assert wait_job(admin, job["id"])["status"] == "successful"


def test_labels_the_template_does_not_ask_for_are_ignored(admin, jobs, stage):
    jt, own = jt_with_label(admin, stage)
    extra = new_label(admin, stage)
    body = launch(admin, jt, {"labels": [extra["id"]]})
    assert body["ignored_fields"] == {"labels": [extra["id"]]}
    assert labels_of(admin, f"/api/v2/jobs/{body['id']}/") == {own["id"]}
    wait_job(admin, body["id"])


def test_a_relaunch_adds_the_original_prompt_to_the_templates_current_labels(admin, jobs, stage):
    jt, own = jt_with_label(admin, stage, ask_labels_on_launch=True)
    extra = new_label(admin, stage)
    first = launch(admin, jt, {"labels": [extra["id"]]})
    wait_job(admin, first["id"])
    later = own_label(admin, stage, f"/api/v2/job_templates/{jt['id']}/")
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 201, resp.json
    assert labels_of(admin, f"/api/v2/jobs/{resp.json['id']}/") == {own["id"], later["id"], extra["id"]}
    wait_job(admin, resp.json["id"])


def test_a_workflow_launch_adds_its_prompted_labels(admin, jobs, stage):
    wf = created(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": stage["org"]["id"],
                                                                "ask_labels_on_launch": True}))
    bare = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/launch/").json["defaults"]
    assert "labels" not in bare and bare["inventory"] == {"name": None, "id": None}   # AWX's get_defaults
    own = own_label(admin, stage, f"/api/v2/workflow_job_templates/{wf['id']}/")
    defaults = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/launch/").json["defaults"]
    assert defaults["labels"] == [{"id": own["id"], "name": own["name"]}]
    extra = new_label(admin, stage)
    resp = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {"labels": [extra["id"]]})
    assert resp.status_code == 201 and resp.json["ignored_fields"] == {}, resp.json
    assert labels_of(admin, f"/api/v2/workflow_jobs/{resp.json['id']}/") == {own["id"], extra["id"]}
    relaunched = created(admin.post(f"/api/v2/workflow_jobs/{resp.json['id']}/relaunch/", {}))
    assert labels_of(admin, f"/api/v2/workflow_jobs/{relaunched['id']}/") == {own["id"], extra["id"]}
    for wj in (resp.json, relaunched):
        wait_wf(admin, wj["id"])


def test_a_nodes_labels_are_added_to_its_templates(admin, jobs, stage):
    """A template node's labels reach the job node (AWX create_workflow_job_node) and its job
    gets them with the template's; a nested workflow node's reach the nested workflow job."""
    jt, own = jt_with_label(admin, stage, ask_labels_on_launch=True)
    inner = created(admin.post("/api/v2/workflow_job_templates/", {
        "name": uniq("inner"), "organization": stage["org"]["id"], "ask_labels_on_launch": True}))
    inner_own = own_label(admin, stage, f"/api/v2/workflow_job_templates/{inner['id']}/")
    wf = created(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"),
                                                                "organization": stage["org"]["id"]}))
    extra = new_label(admin, stage)
    for ident, ujt in (("run", jt["id"]), ("nested", inner["id"])):
        node = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                                  {"unified_job_template": ujt, "identifier": ident}))
        assert admin.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/labels/",
                          {"id": extra["id"]}).status_code == 204
    wj = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}))
    done = wait_wf(admin, wj["id"])
    assert done["status"] == "successful", done
    spawned = node_jobs(admin, wj["id"])
    assert labels_of(admin, f"/api/v2/jobs/{spawned['run']}/") == {own["id"], extra["id"]}
    assert labels_of(admin, f"/api/v2/workflow_jobs/{spawned['nested']}/") == {inner_own["id"], extra["id"]}
    nodes = admin.get(f"/api/v2/workflow_jobs/{wj['id']}/workflow_nodes/").json["results"]
    assert all(labels_of(admin, f"/api/v2/workflow_job_nodes/{n['id']}/") == {extra["id"]} for n in nodes)

"""Who may relaunch a job, and what a relaunch refuses to replay (AWX 24.6.1's
``JobAccess.can_start`` with ``JobLaunchConfigAccess.can_add`` / ``has_unprompted``,
``vars_are_encrypted``; ``JobRelaunch``'s 403 before 400).  A user who may only execute the
template never reruns a colleague's job with the colleague's prompted inventory or credential;
survey password defaults are nobody's secret; a job whose secret answers were forgotten is
refused instead of running without them; prompted objects deleted since the launch are dropped.
Jobs run for real on localhost."""
from __future__ import annotations

import json

import pytest

from tests.support.jobs import (
    created, events, launch, make_credential, make_inventory, make_jt, make_stage, set_survey,
    type_id, uniq, wait_job,
)

pytestmark = pytest.mark.slow

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: show
      debug: msg="ran"
"""
DEFAULT_PW = "dflt-5a7e91"
DEFAULT_PLAY = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: the default was replayed
      assert:
        that: secret == '{DEFAULT_PW}'
        quiet: true
"""
TYPED_PW = "typed-0c44d2"
PROMPTED_DENIED = {"detail": "Job was launched with prompted fields you do not have access to."}


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"a.yml": PLAY, "default.yml": DEFAULT_PLAY}, hosts=("h1",))


def grant(admin, uid: int, obj: dict, role: str) -> None:
    """Give user ``uid`` the ``role`` of ``obj`` (an API body with its object roles)."""
    role_id = admin.get(obj["url"]).json["summary_fields"]["object_roles"][role]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id}).status_code == 204


def job_count(admin) -> int:
    return admin.get("/api/v2/jobs/?page_size=1").json["count"]


def ids(admin, path: str) -> set[int]:
    return {x["id"] for x in admin.get(path).json["results"]}


def relaunched(client, job_id: int, body=None) -> dict:
    resp = client.post(f"/api/v2/jobs/{job_id}/relaunch/", {} if body is None else body)
    assert resp.status_code == 201, resp.json
    assert resp.json["launch_type"] == "relaunch"
    return resp.json


def password_survey(admin, jt: dict, default: str = "") -> None:
    set_survey(admin, jt, [{"type": "password", "question_name": "Secret", "question_description": "",
                            "variable": "secret", "required": False, "default": default}])


def test_prompted_inventory_and_credential_need_their_use_role(admin, jobs, stage, make_user):
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml",
                 ask_inventory_on_launch=True, ask_credential_on_launch=True)
    other_inv = make_inventory(admin, stage["org"], ("h1",))
    cred = make_credential(admin, stage["org"], type_id(admin, "ssh"), {"username": "prompted-user"})
    first = launch(admin, jt, {"inventory": other_inv["id"], "credentials": [cred["id"]]})
    wait_job(admin, first["id"])
    uid, runner = make_user()
    grant(admin, uid, jt, "execute_role")
    before = job_count(admin)
    resp = runner.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 403 and resp.json == PROMPTED_DENIED
    grant(admin, uid, other_inv, "use_role")          # the credential is still not theirs
    resp = runner.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 403 and resp.json == PROMPTED_DENIED
    assert job_count(admin) == before                 # nothing was created

    grant(admin, uid, cred, "use_role")
    body = relaunched(runner, first["id"])
    assert body["inventory"] == other_inv["id"] and body["summary_fields"]["created_by"]["id"] == uid
    assert ids(admin, f"/api/v2/jobs/{body['id']}/credentials/") == {cred["id"]}
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful" and "prompted-user" in job["job_args"]

    # the template no longer asks for credentials: the use roles are not enough any more
    # (AWX's has_unprompted); the organization's execute role still is
    assert admin.patch(jt["url"], {"ask_credential_on_launch": False}).status_code == 200
    resp = runner.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 403 and resp.json == PROMPTED_DENIED
    grant(admin, uid, stage["org"], "execute_role")
    again = relaunched(runner, first["id"])
    assert wait_job(admin, again["id"])["status"] == "successful"


def test_a_job_whose_secret_answers_were_forgotten_is_refused(admin, jobs, stage, app_state):
    """Jobs run before survey passwords were kept had their ``secret_vars`` blanked."""
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml")
    password_survey(admin, jt)
    first = launch(admin, jt, {"extra_vars": {"secret": TYPED_PW}})
    assert wait_job(admin, first["id"])["status"] == "successful"
    app_state.store.update("jobs", first["id"], {"secret_vars": ""})
    before = job_count(admin)
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 400 and resp.json == {"variables_needed_to_start": ["'secret' value missing"]}
    assert admin.delete(jt["url"]).status_code == 204     # the copy path never runs "$encrypted$" either
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 400 and resp.json == {"variables_needed_to_start": ["'secret' value missing"]}
    assert job_count(admin) == before


def test_a_survey_password_default_is_nobodys_secret(admin, jobs, stage, make_user, app_state):
    jt = make_jt(admin, stage["project"], stage["inventory"], "default.yml")
    password_survey(admin, jt, default=DEFAULT_PW)
    defaulted = launch(admin, jt)                                      # nobody typed a password
    typed = launch(admin, jt, {"extra_vars": {"secret": TYPED_PW}})
    assert wait_job(admin, defaulted["id"])["status"] == "successful"
    assert wait_job(admin, typed["id"])["status"] == "failed"         # not the default
    scheduled = relaunched(admin, defaulted["id"])
    wait_job(admin, scheduled["id"])
    app_state.store.update("jobs", scheduled["id"], {"created_by": None})   # as a schedule's job
    uid, runner = make_user()
    grant(admin, uid, jt, "execute_role")
    for job in (defaulted, scheduled):
        body = relaunched(runner, job["id"])
        assert json.loads(body["extra_vars"]) == {"secret": "$encrypted$"}
        ran = wait_job(admin, body["id"])
        assert ran["status"] == "successful", ran["job_explanation"]     # the assert saw the default
        assert DEFAULT_PW not in json.dumps(ran) and DEFAULT_PW not in json.dumps(events(admin, body["id"]))
    before = job_count(admin)
    resp = runner.post(f"/api/v2/jobs/{typed['id']}/relaunch/", {})
    assert resp.status_code == 403
    assert resp.json == {"detail": "Job was launched with secret prompts provided by another user."}
    assert job_count(admin) == before


def test_prompted_objects_deleted_since_the_launch_are_dropped(admin, jobs, stage, app_state):
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml",
                 ask_credential_on_launch=True, ask_labels_on_launch=True)
    cred = make_credential(admin, stage["org"], type_id(admin, "ssh"), {"username": "gone-user"})
    kept, gone = (created(admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": stage["org"]["id"]}))
                  for _ in range(2))
    first = launch(admin, jt, {"credentials": [cred["id"]], "labels": [kept["id"], gone["id"]]})
    wait_job(admin, first["id"])
    assert admin.delete(cred["url"]).status_code == 204
    # labels are never deleted through the API (405): the orphaned-label cleanup removes them
    app_state.store.delete_where("job_labels", "label_id = ?", [gone["id"]])
    app_state.store.delete("labels", gone["id"])
    body = relaunched(admin, first["id"])
    assert ids(admin, f"/api/v2/jobs/{body['id']}/credentials/") == set()
    assert ids(admin, f"/api/v2/jobs/{body['id']}/labels/") == {kept["id"]}
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful" and "gone-user" not in job["job_args"]


def test_the_access_check_comes_before_the_body(admin, jobs, stage, make_user):
    """AWX checks ``can_start`` when it looks the job up, before it reads the body."""
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml")
    first = launch(admin, jt)
    wait_job(admin, first["id"])
    uid, reader = make_user()
    grant(admin, uid, jt, "read_role")
    before = job_count(admin)
    for body in ([1], "text", {}):
        resp = reader.post(f"/api/v2/jobs/{first['id']}/relaunch/", body)
        assert resp.status_code == 403
        assert resp.json == {"detail": "You do not have permission to perform this action."}
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", [1])
    assert resp.status_code == 400 and resp.json == {"detail": "JSON parse error - not a JSON object"}
    assert job_count(admin) == before


def test_a_workflow_relaunch_checks_its_prompts_as_awx(admin, jobs, stage, make_user):
    """AWX's ``WorkflowJobAccess.can_start``: execute on the workflow template is not enough to
    replay an inventory another user prompted; with its use role the relaunch goes through;
    once the workflow stops asking for the inventory the saved prompt is refused."""
    org = stage["org"]
    wf = created(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"],
                                                                 "ask_inventory_on_launch": True}))
    other_inv = make_inventory(admin, org, ("h1",))
    first = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {"inventory": other_inv["id"]}))
    uid, user = make_user()
    grant(admin, uid, wf, "execute_role")
    count = admin.get(f"/api/v2/workflow_jobs/?workflow_job_template={wf['id']}").json["count"]
    denied = user.post(f"/api/v2/workflow_jobs/{first['id']}/relaunch/", {})
    assert denied.status_code == 403 and denied.json == {"detail": "Job was launched with prompts you lack access to."}
    assert admin.get(f"/api/v2/workflow_jobs/?workflow_job_template={wf['id']}").json["count"] == count
    grant(admin, uid, other_inv, "use_role")
    again = created(user.post(f"/api/v2/workflow_jobs/{first['id']}/relaunch/", {}))
    assert admin.get(f"/api/v2/workflow_jobs/{again['id']}/").json["inventory"] == other_inv["id"]
    assert admin.patch(wf["url"], {"ask_inventory_on_launch": False}).status_code == 200
    stale = user.post(f"/api/v2/workflow_jobs/{first['id']}/relaunch/", {})
    assert stale.status_code == 403 and stale.json == {"detail": "Job was launched with prompts no longer accepted."}

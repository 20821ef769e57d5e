"""``POST /jobs/N/relaunch/`` as AWX 24.6.1 does it (``JobRelaunch.post``,
``UnifiedJob.copy_unified_job``, ``JobRelaunchSerializer``): while the job template exists, the
relaunch is the template *as it is now* with the prompts the job was launched with (AWX keeps
them in the job's launch config; docs/prompting.md: "relaunch will use the up-to-date credential
on the template"); once the template is deleted, the old job itself is copied (fields,
credentials, labels, extra variables).  Survey passwords survive both ways without ever showing;
the credential passwords the old job needs are checked first; retry on failed hosts needs the
play recap.  Jobs run for real on localhost."""
from __future__ import annotations

import json

import pytest

from tests.support.jobs import (
    attach_credential, awx_stdout, created, events, launch, make_credential, make_jt, make_stage, set_survey,
    type_id, uniq, wait_job,
)

pytestmark = pytest.mark.slow

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: play-{tag}
      debug: msg="{tag} run={{{{ run | default('none') }}}} base={{{{ base | default('none') }}}}"
"""
SECRET_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: check the secret
      assert:
        that: secret == 'sv-91f2c0de'
        quiet: true
"""
BROKEN = "- hosts: all\n  tasks: [\n"
SECRET = "sv-91f2c0de"


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir,
                      {"a.yml": PLAY.format(tag="A"), "b.yml": PLAY.format(tag="B"),
                       "secret.yml": SECRET_PLAY, "broken.yml": BROKEN}, hosts=("h1", "h2"))


def machine(admin, stage: dict, username: str, **inputs) -> dict:
    return make_credential(admin, stage["org"], type_id(admin, "ssh"), {"username": username, **inputs})


def label(admin, stage: dict) -> dict:
    return created(admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": stage["org"]["id"]}))


def ids(admin, path: str) -> set[int]:
    return {x["id"] for x in admin.get(path).json["results"]}


def relaunch(admin, job_id: int, body: dict | None = None) -> dict:
    resp = admin.post(f"/api/v2/jobs/{job_id}/relaunch/", body or {})
    assert resp.status_code == 201, resp.json
    assert resp.json["job"] == resp.json["id"] != job_id and resp.json["launch_type"] == "relaunch"
    return resp.json


def test_relaunch_replays_the_prompts_on_the_template_as_it_is_now(admin, jobs, stage):
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml", forks=3, extra_vars='{"base": "old"}',
                 ask_limit_on_launch=True, ask_variables_on_launch=True, ask_labels_on_launch=True)
    old_cred, new_cred = machine(admin, stage, "user-old"), machine(admin, stage, "user-new")
    attach_credential(admin, jt, old_cred)
    prompted, later = label(admin, stage), label(admin, stage)
    first = launch(admin, jt, {"limit": "h1", "extra_vars": {"run": "first"}, "labels": [prompted["id"]]})
    assert wait_job(admin, first["id"])["status"] == "successful"
    # the template is edited after the run
    assert admin.patch(jt["url"], {"playbook": "b.yml", "forks": 7, "limit": "h2",
                                   "extra_vars": '{"base": "new"}'}).status_code == 200
    assert admin.post(f"{jt['url']}credentials/", {"id": old_cred["id"], "disassociate": True}).status_code == 204
    attach_credential(admin, jt, new_cred)
    assert admin.post(f"{jt['url']}labels/", {"id": later["id"]}).status_code == 204

    body = relaunch(admin, first["id"])
    # the template's current options, the launch's prompts on top (limit, vars, labels)
    assert (body["playbook"], body["forks"], body["limit"]) == ("b.yml", 7, "h1")
    assert json.loads(body["extra_vars"]) == {"base": "new", "run": "first"}
    assert body["job_template"] == jt["id"]
    assert ids(admin, f"/api/v2/jobs/{body['id']}/credentials/") == {new_cred["id"]}
    assert ids(admin, f"/api/v2/jobs/{body['id']}/labels/") == {prompted["id"], later["id"]}
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful" and "user-new" in job["job_args"] and "user-old" not in job["job_args"]
    out = awx_stdout(events(admin, body["id"]))
    assert "play-B" in out and "B run=first base=new" in out and "h2" not in out


def test_relaunch_of_a_job_whose_template_is_gone_copies_the_job(admin, jobs, stage, make_user):
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml", forks=4, limit="h2",
                 extra_vars='{"base": "kept", "run": "orig"}')
    cred, own = machine(admin, stage, "user-copy"), label(admin, stage)
    attach_credential(admin, jt, cred)
    assert admin.post(f"{jt['url']}labels/", {"id": own["id"]}).status_code == 204
    first = launch(admin, jt)
    old = wait_job(admin, first["id"])
    assert admin.delete(jt["url"]).status_code == 204
    assert admin.get(f"/api/v2/jobs/{first['id']}/").json["job_template"] is None

    _uid, stranger = make_user()
    denied = stranger.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    # AWX looks the job up unfiltered and answers 403 (not 404) to a user who may not start it
    assert denied.status_code == 403 and denied.json == {"detail": "You do not have permission to perform this action."}
    assert admin.get(f"/api/v2/jobs/?id={first['id']}").json["count"] == 1
    body = relaunch(admin, first["id"])
    for field in ("name", "playbook", "project", "inventory", "forks", "limit", "job_type", "organization",
                  "execution_environment", "extra_vars"):
        assert body[field] == old[field], field
    assert body["job_template"] is None and body["unified_job_template"] is None
    assert ids(admin, f"/api/v2/jobs/{body['id']}/credentials/") == {cred["id"]}
    assert ids(admin, f"/api/v2/jobs/{body['id']}/labels/") == {own["id"]}
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful" and "user-copy" in job["job_args"]
    out = awx_stdout(events(admin, body["id"]))
    assert "A run=orig base=kept" in out and "h1" not in out


def test_a_survey_password_is_replayed_and_never_shown(admin, jobs, stage):
    jt = make_jt(admin, stage["project"], stage["inventory"], "secret.yml")
    set_survey(admin, jt, [{"type": "password", "question_name": "Secret", "question_description": "",
                            "variable": "secret", "required": True, "default": ""}])
    first = launch(admin, jt, {"extra_vars": {"secret": SECRET}})
    assert wait_job(admin, first["id"])["status"] == "successful"
    again = relaunch(admin, first["id"])
    assert SECRET not in json.dumps(again) and json.loads(again["extra_vars"]) == {"secret": "$encrypted$"}
    assert wait_job(admin, again["id"])["status"] == "successful"   # the assert task saw the password
    assert admin.delete(jt["url"]).status_code == 204
    orphan = relaunch(admin, again["id"])                            # the copied job keeps it too
    assert SECRET not in json.dumps(orphan) and json.loads(orphan["extra_vars"]) == {"secret": "$encrypted$"}
    for job_id in (again["id"], orphan["id"]):
        job = wait_job(admin, job_id)
        assert job["status"] == "successful", job["job_explanation"]
        assert SECRET not in json.dumps(job) and SECRET not in json.dumps(events(admin, job_id))


def test_the_old_jobs_credential_passwords_are_required(admin, jobs, stage):
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml")
    attach_credential(admin, jt, machine(admin, stage, "asker", password="ASK"))
    first = launch(admin, jt, {"credential_passwords": {"ssh_password": "pw-1"}})
    wait_job(admin, first["id"])
    assert admin.get(f"/api/v2/jobs/{first['id']}/relaunch/").json["passwords_needed_to_start"] == ["ssh_password"]
    for body in ({}, {"credential_passwords": {"ssh_password": ""}}):
        resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", body)
        assert resp.status_code == 400
        assert resp.json == {"credential_passwords": ["Missing passwords needed to start: ssh_password"]}
    bad = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {"hosts": "some"})
    assert bad.json == {"hosts": ['"some" is not a valid choice.'],
                        "credential_passwords": ["Missing passwords needed to start: ssh_password"]}
    # a top-level key is taken as the password (AWX's JobRelaunch.post)
    body = relaunch(admin, first["id"], {"ssh_password": "pw-2"})
    assert "pw-2" not in json.dumps(body)
    assert wait_job(admin, body["id"])["status"] == "successful"


def test_retry_on_failed_hosts_needs_the_play_recap(admin, jobs, stage):
    jt = make_jt(admin, stage["project"], stage["inventory"], "broken.yml")
    first = launch(admin, jt)
    assert wait_job(admin, first["id"])["status"] == "failed"
    assert not [e for e in events(admin, first["id"]) if e["event"] == "playbook_on_stats"]
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {"hosts": "failed"})
    assert resp.status_code == 400
    assert resp.json == {"hosts": "Cannot retry on failed hosts, playbook stats not available."}
    assert admin.get(f"/api/v2/jobs/?job_template={jt['id']}").json["count"] == 1   # nothing created
    # hosts: null is "all"
    plain = relaunch(admin, first["id"], {"hosts": None})
    assert plain["limit"] == "" and wait_job(admin, plain["id"])["status"] == "failed"


def test_a_job_whose_project_or_inventory_is_gone_cannot_be_relaunched(admin, jobs, app_state):
    stage = make_stage(admin, app_state.settings.data_dir, {"a.yml": PLAY.format(tag="A")})
    jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml")
    first = launch(admin, jt)
    wait_job(admin, first["id"])
    assert admin.delete(f"/api/v2/inventories/{stage['inventory']['id']}/").status_code in (202, 204)
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 400 and resp.json == {"errors": ["Job Template Inventory is missing or undefined."]}
    assert admin.delete(f"/api/v2/projects/{stage['project']['id']}/").status_code in (202, 204)
    resp = admin.post(f"/api/v2/jobs/{first['id']}/relaunch/", {})
    assert resp.status_code == 400 and resp.json == {"errors": ["Job Template Project is missing or undefined."]}


def test_who_may_relaunch(admin, jobs, stage, make_user):
    """AWX's JobAccess.can_start: another user's survey password answers are never replayed for
    a non-admin; a job whose template is gone needs the organization's execute role."""
    jt = make_jt(admin, stage["project"], stage["inventory"], "secret.yml")
    set_survey(admin, jt, [{"type": "password", "question_name": "Secret", "question_description": "",
                            "variable": "secret", "required": True, "default": ""}])
    secret_job = launch(admin, jt, {"extra_vars": {"secret": SECRET}})
    plain_jt = make_jt(admin, stage["project"], stage["inventory"], "a.yml")
    plain_job = launch(admin, plain_jt)
    uid, runner = make_user()
    for template in (jt, plain_jt):
        roles = template["summary_fields"]["object_roles"]
        assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles["execute_role"]["id"]}).status_code == 204
    wait_job(admin, secret_job["id"])
    wait_job(admin, plain_job["id"])
    resp = runner.post(f"/api/v2/jobs/{secret_job['id']}/relaunch/", {})
    assert resp.status_code == 403
    assert resp.json == {"detail": "Job was launched with secret prompts provided by another user."}
    mine = relaunch(runner, plain_job["id"])
    assert wait_job(admin, mine["id"])["status"] == "successful"

    assert admin.delete(plain_jt["url"]).status_code == 204
    org_roles = admin.get(f"/api/v2/organizations/{stage['org']['id']}/").json["summary_fields"]["object_roles"]
    # an organization auditor sees the orphaned job but may not run it; its execute role may
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": org_roles["auditor_role"]["id"]}).status_code == 204
    denied = runner.post(f"/api/v2/jobs/{plain_job['id']}/relaunch/", {})
    assert denied.status_code == 403 and denied.json == {"detail": "You do not have permission to perform this action."}
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": org_roles["execute_role"]["id"]}).status_code == 204
    copied = relaunch(runner, plain_job["id"])
    assert copied["job_template"] is None and wait_job(admin, copied["id"])["status"] == "successful"

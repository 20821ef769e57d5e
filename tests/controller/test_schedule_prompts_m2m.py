"""Schedules' list prompts (AWX 24.6.1 launch configurations): the ``credentials/`` and
``labels/`` sub-lists (attach, detach, AWX's refusals and messages, stored rows) and a fired
schedule running a real job with the schedule's credentials (replacing the template's type by
type) and labels (added to the template's: AWX's labels are additive)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from controller.jobs.scheduler import tick
from tests.controller.conftest import unique
from tests.support.jobs import make_credential, make_jt, type_id, wait_job
from tests.support.schedules import created, scheduler_fixtures, world_fixtures

PLAY = ("- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - debug: msg=\"one={{ lookup('env', 'WHO_ONE') }} two={{ lookup('env', 'WHO_TWO') }}\"\n")
RULE = "DTSTART:{} RRULE:FREQ=DAILY;INTERVAL=1"


ctx, quiet_schedules = scheduler_fixtures()


org, project, inventory = world_fixtures(PLAY, hosts=("h1",))


def env_type(admin, var: str) -> dict:
    """A cloud credential type injecting its ``who`` input as environment variable ``var``."""
    return created(admin.post("/api/v2/credential_types/", {
        "name": unique(var), "kind": "cloud", "inputs": {"fields": [{"id": "who", "label": "Who"}]},
        "injectors": {"env": {var: "{{ who }}"}}}))


@pytest.fixture(scope="module")
def types(admin):
    return env_type(admin, "WHO_ONE"), env_type(admin, "WHO_TWO")


def schedule(admin, jt: dict, start: str = "20300101T000000Z") -> dict:
    return created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                              {"name": unique("sched"), "rrule": RULE.format(start)}))


def linked(app_state, table: str, column: str, schedule_id: int) -> list[int]:
    return [r[0] for r in app_state.store.query(f"SELECT {column} FROM {table} WHERE schedule_id = ? ORDER BY rowid",
                                                (schedule_id,))]


def attach(client, s: dict, sub: str, body: dict):
    return client.post(f"/api/v2/schedules/{s['id']}/{sub}/", body)


def test_credentials_attach_detach_and_awx_refusals(admin, app_state, org, project, inventory, types):
    one, two = types
    mine = make_credential(admin, org, one["id"], {"who": "schedule-one"})
    same_type = make_credential(admin, org, one["id"], {"who": "other-one"})
    on_template = make_credential(admin, org, two["id"], {"who": "template-two"})
    jt = make_jt(admin, project, inventory, "play.yml", ask_credential_on_launch=True)
    assert admin.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": on_template["id"]}).status_code == 204
    s = schedule(admin, jt)
    assert s["related"]["credentials"] == f"/api/v2/schedules/{s['id']}/credentials/"
    assert s["related"]["labels"] == f"/api/v2/schedules/{s['id']}/labels/"

    assert attach(admin, s, "credentials", {"id": mine["id"]}).status_code == 204
    listed = admin.get(f"/api/v2/schedules/{s['id']}/credentials/").json
    assert [c["id"] for c in listed["results"]] == [mine["id"]]
    assert linked(app_state, "schedule_credentials", "credential_id", s["id"]) == [mine["id"]]

    refused = attach(admin, s, "credentials", {"id": same_type["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": f"This launch configuration already provides a {one['name']} credential."})
    refused = attach(admin, s, "credentials", {"id": on_template["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": f"Related template already uses {on_template['name']} credential."})
    asks = make_credential(admin, org, type_id(admin, "ssh"), {"username": "u", "password": "ASK"})
    refused = attach(admin, s, "credentials", {"id": asks["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": "Credential that requires user input on launch cannot be used in saved launch configuration."})
    # vault credentials are exclusive per vault id only
    vault = type_id(admin, "vault")
    for vid in ("dev", "prod"):
        cred = make_credential(admin, org, vault, {"vault_password": "pw", "vault_id": vid})
        assert attach(admin, s, "credentials", {"id": cred["id"]}).status_code == 204
    assert len(linked(app_state, "schedule_credentials", "credential_id", s["id"])) == 3

    plain = schedule(admin, make_jt(admin, project, inventory, "play.yml"))
    refused = attach(admin, plain, "credentials", {"id": mine["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": "Related template is not configured to accept credentials on launch."})
    assert linked(app_state, "schedule_credentials", "credential_id", plain["id"]) == []

    assert attach(admin, s, "credentials", {"id": mine["id"], "disassociate": True}).status_code == 204
    assert mine["id"] not in linked(app_state, "schedule_credentials", "credential_id", s["id"])


def test_project_schedules_take_no_credentials(admin, org, types):
    git = created(admin.post("/api/v2/projects/", {"name": unique("git"), "organization": org["id"],
                                                    "scm_type": "git", "scm_url": "https://example.invalid/r.git"}))
    s = created(admin.post(f"/api/v2/projects/{git['id']}/schedules/",
                           {"name": unique("p"), "rrule": RULE.format("20300101T000000Z")}))
    cred = make_credential(admin, org, types[0]["id"], {"who": "x"})
    refused = attach(admin, s, "credentials", {"id": cred["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": "Related template cannot accept credentials on launch."})


def test_attaching_a_credential_needs_its_use_role(admin, make_user, org, project, inventory, types):
    uid, user = make_user()
    jt = make_jt(admin, project, inventory, "play.yml", ask_credential_on_launch=True)
    roles = admin.get(jt["url"]).json["summary_fields"]["object_roles"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles["admin_role"]["id"]}).status_code == 204
    s = schedule(admin, jt)
    cred = make_credential(admin, org, types[0]["id"], {"who": "x"})
    cred_roles = admin.get(cred["url"]).json["summary_fields"]["object_roles"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": cred_roles["read_role"]["id"]}).status_code == 204
    assert attach(user, s, "credentials", {"id": cred["id"]}).status_code == 403
    assert admin.get(f"/api/v2/schedules/{s['id']}/credentials/").json["count"] == 0
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": cred_roles["use_role"]["id"]}).status_code == 204
    assert attach(user, s, "credentials", {"id": cred["id"]}).status_code == 204
    assert admin.get(f"/api/v2/schedules/{s['id']}/credentials/").json["count"] == 1


def test_labels_attach_by_id_or_name_and_detach(admin, app_state, org, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml", ask_labels_on_launch=True)
    s = schedule(admin, jt)
    first = created(admin.post("/api/v2/labels/", {"name": unique("lab"), "organization": org["id"]}))
    assert attach(admin, s, "labels", {"id": first["id"]}).status_code == 204
    # an existing name + organization attaches that label; a new one is created and attached
    assert attach(admin, s, "labels", {"name": first["name"], "organization": org["id"]}).status_code == 204
    new = attach(admin, s, "labels", {"name": "nightly", "organization": org["id"]})
    assert new.status_code == 201 and new.json["name"] == "nightly"
    assert linked(app_state, "schedule_labels", "label_id", s["id"]) == [first["id"], new.json["id"]]
    names = [x["name"] for x in admin.get(f"/api/v2/schedules/{s['id']}/labels/").json["results"]]
    assert sorted(names) == sorted([first["name"], "nightly"])
    assert attach(admin, s, "labels", {"id": first["id"], "disassociate": True}).status_code == 204
    assert linked(app_state, "schedule_labels", "label_id", s["id"]) == [new.json["id"]]


def test_options_and_sub_list_options_are_declared(admin, project, inventory):
    s = schedule(admin, make_jt(admin, project, inventory, "play.yml"))
    for sub in ("credentials", "labels"):
        resp = admin.options(f"/api/v2/schedules/{s['id']}/{sub}/")
        assert resp.status_code == 200 and "POST" in resp.json.get("actions", {}), (sub, resp.json)


@pytest.mark.slow
def test_a_fired_schedule_runs_with_its_credentials_and_labels(admin, app_state, ctx, jobs, org, project,
                                                               inventory, types):
    one, two = types
    t_one = make_credential(admin, org, one["id"], {"who": "template-one"})
    t_two = make_credential(admin, org, two["id"], {"who": "template-two"})
    s_one = make_credential(admin, org, one["id"], {"who": "schedule-one"})
    jt = make_jt(admin, project, inventory, "play.yml", ask_credential_on_launch=True, ask_labels_on_launch=True)
    for cred in (t_one, t_two):
        assert admin.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": cred["id"]}).status_code == 204
    jt_label = created(admin.post(f"/api/v2/job_templates/{jt['id']}/labels/",
                                  {"name": unique("jt"), "organization": org["id"]}))
    s = schedule(admin, jt, start="20310101T000000Z")
    assert attach(admin, s, "credentials", {"id": s_one["id"]}).status_code == 204
    label = created(attach(admin, s, "labels", {"name": unique("sched"), "organization": org["id"]}))

    [fired] = tick(ctx, datetime(2031, 1, 1, 0, 0, 5, tzinfo=timezone.utc))
    job = wait_job(admin, fired["job"])
    assert (job["status"], job["launch_type"], job["schedule"]) == ("successful", "scheduled", s["id"])
    creds = {c["id"] for c in admin.get(f"/api/v2/jobs/{job['id']}/credentials/").json["results"]}
    assert creds == {s_one["id"], t_two["id"]}       # the schedule's replaces the template's of its type
    labels = {x["id"] for x in admin.get(f"/api/v2/jobs/{job['id']}/labels/").json["results"]}
    assert labels == {jt_label["id"], label["id"]}   # the schedule's labels add to the template's
    assert {x["id"] for x in admin.get(f"/api/v2/job_templates/{jt['id']}/labels/").json["results"]} == \
        {jt_label["id"]}                              # and the template keeps its own
    stdout = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode()
    assert "one=schedule-one two=template-two" in stdout


def test_a_template_no_longer_asking_ignores_the_schedules_lists(admin, ctx, org, project, inventory, types):
    cred = make_credential(admin, org, types[0]["id"], {"who": "schedule"})
    jt = make_jt(admin, project, inventory, "play.yml", ask_credential_on_launch=True, ask_labels_on_launch=True)
    s = schedule(admin, jt, start="20310201T000000Z")
    assert attach(admin, s, "credentials", {"id": cred["id"]}).status_code == 204
    created(attach(admin, s, "labels", {"name": unique("l"), "organization": org["id"]}))
    jt_label = created(admin.post(f"/api/v2/job_templates/{jt['id']}/labels/",
                                  {"name": unique("own"), "organization": org["id"]}))
    assert admin.patch(jt["url"], {"ask_credential_on_launch": False, "ask_labels_on_launch": False}).status_code == 200
    [fired] = tick(ctx, datetime(2031, 2, 1, 0, 0, 5, tzinfo=timezone.utc))
    job = admin.get(f"/api/v2/jobs/{fired['job']}/").json
    assert admin.get(f"/api/v2/jobs/{job['id']}/credentials/").json["count"] == 0
    # the ignored labels add nothing: the job has the template's own
    assert [x["id"] for x in admin.get(f"/api/v2/jobs/{job['id']}/labels/").json["results"]] == [jt_label["id"]]
    assert job["status"] != "error", job.get("job_explanation")


def test_a_workflow_schedules_labels_reach_its_workflow_job(admin, ctx, org):
    wfjt = created(admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"],
                                                                  "ask_labels_on_launch": True}))
    s = created(admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/schedules/",
                           {"name": unique("wfs"), "rrule": RULE.format("20310301T000000Z")}))
    label = created(attach(admin, s, "labels", {"name": unique("wl"), "organization": org["id"]}))
    own = created(admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/labels/",
                             {"name": unique("wown"), "organization": org["id"]}))
    cred = make_credential(admin, org, type_id(admin, "ssh"), {"username": "u"})
    refused = attach(admin, s, "credentials", {"id": cred["id"]})
    assert (refused.status_code, refused.json) == (400, {
        "msg": "Related template cannot accept credentials on launch."})
    [fired] = tick(ctx, datetime(2031, 3, 1, 0, 0, 5, tzinfo=timezone.utc))
    assert fired["job_type"] == "workflow_job"
    labels = admin.get(f"/api/v2/workflow_jobs/{fired['job']}/labels/").json["results"]
    assert {x["id"] for x in labels} == {label["id"], own["id"]}   # added to the template's

"""Notification parity with AWX 24.6.1 (review of today): who may attach a template where,
what a template's messages and configuration may hold, deleting a template with pending
sends, how send records and the test action look, which jobs notify."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from controller.jobs import control
from controller.jobs import launch as launch_module
from controller.notifications import job_context
from controller.notifications.channels.webhook import webhook_payload
from controller.notifications.job_context import url_base
from controller.notifications.messages import render
from controller.notifications.types import TYPES, Message
from controller.services.bootstrap import system_context
from controller.store import now_iso
from tests.support.jobs import make_jt, make_project
from tests.support.receivers import HttpSink

from conftest import unique  # tests/controller/conftest.py


@pytest.fixture(scope="module")
def org(make_org):
    return make_org()


def webhook_body(org_id: int, **extra) -> dict:
    return {"name": unique("nt"), "organization": org_id, "notification_type": "webhook",
            "notification_configuration": {"url": "http://127.0.0.1:9/hook", "headers": {}}, **extra}


def _grant(admin, user_id: int, plural: str, pk: int, role: str) -> None:
    roles = admin.get(f"/api/v2/{plural}/{pk}/").json["summary_fields"]["object_roles"]
    resp = admin.post(f"/api/v2/users/{user_id}/roles/", {"id": roles[role]["id"]})
    assert resp.status_code == 204, resp.json


def _attached(admin, url: str) -> list[int]:
    return [r["id"] for r in admin.get(url).json["results"]]


# -- 1. attach/detach: change on the template, read (or AWX's named roles) on the owner ----------
def test_a_notification_admin_who_reads_a_job_template_attaches_and_detaches(admin, app_state, org, make_user):
    project = make_project(admin, app_state.settings.data_dir, org, {"x.yml": "- hosts: all\n  tasks: []\n"})
    jt = make_jt(admin, project, None, "x.yml", ask_inventory_on_launch=True)["id"]
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    uid, user = make_user()
    _grant(admin, uid, "organizations", org["id"], "notification_admin_role")
    _grant(admin, uid, "job_templates", jt, "read_role")
    url = f"/api/v2/job_templates/{jt}/notification_templates_started/"
    resp = user.post(url, {"id": nt})
    assert resp.status_code == 204, resp.json
    assert _attached(admin, url) == [nt]
    assert user.post(url, {"id": nt, "disassociate": True}).status_code == 204
    assert _attached(admin, url) == []
    # a project needs its admin role: reading it is not enough
    purl = f"/api/v2/projects/{project['id']}/notification_templates_error/"
    _grant(admin, uid, "projects", project["id"], "use_role")
    assert user.post(purl, {"id": nt}).status_code == 403
    assert _attached(admin, purl) == []
    _grant(admin, uid, "projects", project["id"], "admin_role")
    assert user.post(purl, {"id": nt}).status_code == 204
    assert _attached(admin, purl) == [nt]


def test_an_organization_takes_templates_from_its_auditors_not_its_members(admin, org, make_user):
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    url = f"/api/v2/organizations/{org['id']}/notification_templates_approvals/"
    uid, user = make_user()
    _grant(admin, uid, "organizations", org["id"], "notification_admin_role")
    _grant(admin, uid, "organizations", org["id"], "member_role")
    assert user.post(url, {"id": nt}).status_code == 403
    assert _attached(admin, url) == []
    _grant(admin, uid, "organizations", org["id"], "auditor_role")
    resp = user.post(url, {"id": nt})
    assert resp.status_code == 204, resp.json
    assert _attached(admin, url) == [nt]


def test_a_job_template_admin_who_cannot_change_the_template_may_not_attach(admin, app_state, org, make_user):
    project = make_project(admin, app_state.settings.data_dir, org, {"x.yml": "- hosts: all\n  tasks: []\n"})
    jt = make_jt(admin, project, None, "x.yml", ask_inventory_on_launch=True)["id"]
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    uid, user = make_user()
    _grant(admin, uid, "job_templates", jt, "admin_role")
    _grant(admin, uid, "organizations", org["id"], "auditor_role")   # reads the template, cannot change it
    assert user.get(f"/api/v2/notification_templates/{nt}/").status_code == 200
    url = f"/api/v2/job_templates/{jt}/notification_templates_success/"
    assert user.post(url, {"id": nt}).status_code == 403
    assert _attached(admin, url) == []
    assert admin.post(url, {"id": nt}).status_code == 204
    assert user.post(url, {"id": nt, "disassociate": True}).status_code == 403
    assert _attached(admin, url) == [nt]


# -- 2. a webhook body need only render: AWX sends what its webhook backend makes of the text ----
def test_webhook_bodies_need_only_render(admin, org):
    messages = {"success": {"body": "{{ job.id }}"}, "started": {"body": "hello"},
                "workflow_approval": {"running": {"body": "review {{ approval_node_name }}"}}}
    resp = admin.post("/api/v2/notification_templates/", webhook_body(org["id"], messages=messages))
    assert resp.status_code == 201, resp.json
    assert resp.json["messages"]["success"] == {"body": "{{ job.id }}"}
    assert resp.json["messages"]["workflow_approval"]["running"] == {"body": "review {{ approval_node_name }}"}
    sns = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": "awssns",
        "notification_configuration": {}, "messages": {"error": {"body": "hello"}}})
    assert sns.status_code == 201, sns.json


def test_a_webhook_sends_the_object_its_body_parses_to_else_the_text_or_nothing():
    ntype = TYPES["webhook"]
    subject, body = render({"success": {"message": "done", "body": "{{ job.id }}"}}, ntype, "success",
                           {"job": {"id": 42}})
    assert (subject, body) == ("done", "42")
    assert webhook_payload(body) == "42"   # AWX's format_body keeps a JSON value that is no object
    assert webhook_payload("hello") == {}
    assert webhook_payload('{"id": 42}') == {"id": 42}
    assert webhook_payload("") == {}
    assert webhook_payload({"body": "x"}) == {"body": "x"}


# -- 6, 7. send records as AWX shows them; the test action answers with the whole record ----------
CONFIGS = {
    "email": {"host": "127.0.0.1", "port": 9, "username": "", "password": "", "use_tls": False, "use_ssl": False,
              "sender": "t@example.com", "recipients": ["r@example.com"]},
    "slack": {"token": "xoxb-secret-1", "channels": ["#ops"]},
    "pagerduty": {"subdomain": "acme", "token": "pd-secret-1", "service_key": "svc", "client_name": "turret"},
    "awssns": {},
    "webhook": {"url": "http://127.0.0.1:9/hook", "headers": {}},
}


def _tested(admin, org: dict, ntype: str) -> tuple[int, dict]:
    nt = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": ntype,
        "notification_configuration": CONFIGS[ntype]})
    assert nt.status_code == 201, nt.json
    resp = admin.post(f"/api/v2/notification_templates/{nt.json['id']}/test/")
    assert resp.status_code == 202, resp.json
    return nt.json["id"], resp.json


@pytest.mark.parametrize("ntype, subject, body", [
    ("email", True, "text"), ("pagerduty", True, "text"), ("slack", True, None),
    ("webhook", False, "object"), ("awssns", False, "text"),
])
def test_a_send_record_shows_subject_and_body_as_awx_does(admin, app_state, org, ntype, subject, body):
    nt, answer = _tested(admin, org, ntype)
    nid = answer["notification"]
    record = admin.get(f"/api/v2/notifications/{nid}/").json
    text = f"Test Notification {nt} {url_base(app_state.settings)}"
    assert ("subject" in record) is subject
    if subject:
        assert record["subject"] == f"Notification Test {nt} {url_base(app_state.settings)}"
    if body is None:
        assert "body" not in record
    else:
        assert record["body"] == ({"body": text} if body == "object" else text)
    (listed,) = admin.get(f"/api/v2/notification_templates/{nt}/notifications/").json["results"]
    assert listed.keys() == record.keys()
    stored = app_state.store.get("notifications", nid)
    assert stored["subject"] == f"Notification Test {nt} {url_base(app_state.settings)}"   # kept, only hidden


def test_the_test_action_answers_with_the_whole_send_record(admin, org):
    nt, answer = _tested(admin, org, "email")
    nid = answer["notification"]
    record = admin.get(f"/api/v2/notifications/{nid}/").json
    assert answer["id"] == nid and answer["url"] == f"/api/v2/notifications/{nid}/"
    assert answer["notification_template"] == nt and answer["status"] == "pending"
    assert {k: v for k, v in answer.items() if k != "notification"} == record
    options = admin.options(f"/api/v2/notification_templates/{nt}/test/").json
    assert options["name"] == "Notification Template Test"


# -- 4. keys beyond AWX's init_parameters are not type-checked on save (AWX int()s ids at send) --
def test_grafana_ids_given_as_text_are_accepted_and_sent_as_numbers(admin, app_state, org):
    resp = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": "grafana",
        "notification_configuration": {"grafana_url": "http://127.0.0.1:9", "grafana_key": "glsa-1",
                                       "dashboardId": "12", "panelId": "3"}})
    assert resp.status_code == 201, resp.json
    config = resp.json["notification_configuration"]
    assert (config["dashboardId"], config["panelId"], config["grafana_key"]) == ("12", "3", "$encrypted$")
    with HttpSink() as sink:
        sent = TYPES["grafana"].send({"grafana_url": sink.url, "grafana_key": "k", "dashboardId": "12",
                                      "panelId": "3"}, Message(subject="Job 1 ok", body=""))
    assert sent == 1
    assert (sink.last.json()["dashboardId"], sink.last.json()["panelId"]) == (12, 3)


def test_awx_s_own_fields_and_turret_only_types_are_still_type_checked(admin, org):
    resp = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": "grafana",
        "notification_configuration": {"grafana_url": 5, "grafana_key": "k"}})
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": ["Configuration field 'grafana_url' incorrect type, expected string."]}
    resp = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": "dingtalk",
        "notification_configuration": {"webhook_url": "http://127.0.0.1:9/robot", "is_at_all": "yes"}})
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": ["Configuration field 'is_at_all' incorrect type, expected bool."]}


# -- 5. a template with a pending send under eight hours old cannot be deleted --------------------
def test_a_template_with_a_recent_pending_send_is_not_deleted(admin, app_state, org):
    nt, answer = _tested(admin, org, "webhook")
    resp = admin.delete(f"/api/v2/notification_templates/{nt}/")
    assert resp.status_code == 405
    assert resp.json == {"error": "Delete not allowed while there are pending notifications"}
    assert app_state.store.get("notification_templates", nt) is not None
    long_ago = (datetime.now(timezone.utc) - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    app_state.store.update("notifications", answer["notification"], {"created": long_ago})
    assert admin.delete(f"/api/v2/notification_templates/{nt}/").status_code == 204
    assert app_state.store.get("notification_templates", nt) is None


def test_a_concluded_send_does_not_hold_a_delete(admin, app_state, org):
    nt, answer = _tested(admin, org, "webhook")
    app_state.store.update("notifications", answer["notification"], {"status": "failed"})
    assert admin.delete(f"/api/v2/notification_templates/{nt}/").status_code == 204
    assert app_state.store.get("notification_templates", nt) is None


# -- 8. a job that never ran notifies nobody (but a workflow node's launch that failed does) -------
@pytest.fixture(scope="module")
def noisy_jt(admin, app_state, org) -> dict:
    """A job template whose error events notify a webhook template (attached to it and to its
    organization)."""
    project = make_project(admin, app_state.settings.data_dir, org, {"x.yml": "- hosts: all\n  tasks: []\n"})
    jt = make_jt(admin, project, None, "x.yml", ask_inventory_on_launch=True)
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    for plural, pk in (("job_templates", jt["id"]), ("organizations", org["id"])):
        assert admin.post(f"/api/v2/{plural}/{pk}/notification_templates_error/", {"id": nt}).status_code == 204
    return app_state.store.get("job_templates", jt["id"])


def _sends(app_state, job_id: int) -> list[tuple[str, str]]:
    rows = app_state.store.page("notifications", "job_type = ? AND job = ?", ["job", job_id], "id", 50, 0)
    return [(r["event"], r["status"]) for r in rows]


def test_cancelling_a_pending_job_sends_nothing(admin, app_state, noisy_jt):
    ctx = system_context(app_state)
    stamp = now_iso()
    pk = control.create_job(ctx, "job", {
        "name": noisy_jt["name"], "job_template": noisy_jt["id"], "project": noisy_jt["project"],
        "organization": noisy_jt["organization"], "playbook": "x.yml", "status": "pending",
        "launch_type": "manual", "created": stamp, "modified": stamp})
    resp = admin.post(f"/api/v2/jobs/{pk}/cancel/")
    assert resp.status_code == 202, resp.json
    assert app_state.store.get("jobs", pk)["status"] == "canceled"
    assert _sends(app_state, pk) == []


def test_a_schedule_s_launch_that_could_not_start_sends_nothing(app_state, noisy_jt):
    ctx = system_context(app_state)
    scheduled = launch_module.record_failed_launch(ctx, noisy_jt, "Missing inventory.")
    assert scheduled["status"] == "error" and _sends(app_state, scheduled["id"]) == []
    by_node = launch_module.record_failed_launch(ctx, noisy_jt, "Missing inventory.", launch_type="workflow")
    assert _sends(app_state, by_node["id"]) == [("error", "pending")]


# -- 9. /notifications/ searches subject, type and body ---------------------------------------------
def test_send_records_are_searched_by_subject_type_and_body(admin, org):
    nt, answer = _tested(admin, org, "pagerduty")
    nid = answer["notification"]

    def found(term: str) -> bool:
        listed = admin.get(f"/api/v2/notifications/?search={term}&page_size=200").json["results"]
        return nid in [r["id"] for r in listed]
    assert found(f"Notification Test {nt} ") and found(f"Test Notification {nt} ") and found("pagerduty")
    assert not found("svc")   # recipients (the service key) are not searched


# -- 10. job_metadata: extra_vars as the stored text, times as isoformat() -------------------------
def test_job_metadata_carries_the_stored_extra_vars_text_and_isoformat_times(app_state, noisy_jt):
    ctx = system_context(app_state)
    text = '{"region": "eu", "token": "$encrypted$"}'
    pk = control.create_job(ctx, "job", {
        "name": noisy_jt["name"], "job_template": noisy_jt["id"], "project": noisy_jt["project"],
        "organization": noisy_jt["organization"], "playbook": "x.yml", "status": "successful",
        "launch_type": "manual", "extra_vars": text, "started": "2026-01-01T00:00:00.000000Z",
        "finished": "2026-01-01T00:00:05.250000Z", "created": now_iso(), "modified": now_iso()})
    meta = json.loads(job_context.build(ctx, "job", app_state.store.get("jobs", pk))["job_metadata"])
    assert meta["extra_vars"] == text
    assert (meta["started"], meta["finished"]) == ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:05.250000+00:00")


# -- 11. small shapes -----------------------------------------------------------------------------
@pytest.mark.parametrize("ntype", ["webhook", "awssns"])
def test_json_bodied_types_have_no_default_subject(admin, ntype):
    defaults = admin.options("/api/v2/notification_templates/").json["actions"]["POST"]["messages"][ntype]
    assert defaults["success"] == {"body": "{{ job_metadata }}"}
    assert all("message" not in defaults[e] for e in ("started", "success", "error"))
    assert all(list(v) == ["body"] for v in defaults["workflow_approval"].values())
    subject, body = render(None, TYPES[ntype], "error", {"job_metadata": '{"id": 5}'})
    assert (subject, body) == ("", '{"id": 5}')
    subject, body = render(None, TYPES[ntype], "workflow_approval",
                           {"approval_node_name": "Gate", "workflow_url": "http://x/wf/1"}, "denied")
    assert subject == "" and json.loads(body) == {"body": 'The approval node "Gate" was denied. http://x/wf/1'}


def test_templates_and_send_records_have_no_activity_stream_link(admin, org):
    nt, answer = _tested(admin, org, "email")
    assert "activity_stream" not in admin.get(f"/api/v2/notification_templates/{nt}/").json["related"]
    assert "activity_stream" not in admin.get(f"/api/v2/notifications/{answer['notification']}/").json["related"]
    assert admin.get(f"/api/v2/notification_templates/{nt}/activity_stream/").status_code == 404


# -- 12. an ad hoc command notifies the organizations of the hosts it ran on ---------------------
def test_an_ad_hoc_command_notifies_the_organization_of_the_hosts_it_ran_on(admin, app_state, make_org):
    org = make_org()
    nt = {}
    for group in ("started", "success", "error"):
        nt[group] = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
        url = f"/api/v2/organizations/{org['id']}/notification_templates_{group}/"
        assert admin.post(url, {"id": nt[group]}).status_code == 204
    resp = admin.patch(f"/api/v2/notification_templates/{nt['error']}/",
                       {"messages": {"error": {"message": "{{ job_friendly_name }} #{{ job.id }}"}}})
    assert resp.status_code == 200, resp.json
    inv = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"]}).json
    host = admin.post("/api/v2/hosts/", {"name": unique("h"), "inventory": inv["id"]}).json
    ctx = system_context(app_state)

    def command(status: str) -> int:
        stamp = now_iso()
        return control.create_job(ctx, "ad_hoc_command", {
            "inventory": inv["id"], "module_name": "ping", "status": status, "launch_type": "manual",
            "started": stamp, "created": stamp, "modified": stamp})

    def sends(pk: int) -> list[tuple[int, str]]:
        rows = app_state.store.page("notifications", "job_type = ? AND job = ?", ["ad_hoc_command", pk], "id", 9, 0)
        return [(r["notification_template"], r["event"]) for r in rows]

    ran = command("running")
    control.job_started(ctx, "ad_hoc_command", ran)   # no event yet: no host, nobody to notify (AWX)
    app_state.store.insert("ad_hoc_command_events", {"ad_hoc_command": ran, "event": "runner_on_ok",
                                                     "host": host["id"], "host_name": host["name"], "counter": 1})
    app_state.store.update("ad_hoc_commands", ran, {"status": "failed", "finished": now_iso()})
    control.job_ended(ctx, "ad_hoc_command", ran)
    assert sends(ran) == [(nt["error"], "error")]
    record = app_state.store.page("notifications", "job = ?", [ran], "id", 1, 0)[0]
    assert record["subject"] == f"AdHoc Command #{ran}"
    meta = json.loads(json.loads(record["body"]))
    assert meta["id"] == ran and meta["status"] == "failed" and meta["url"].endswith(f"/ad_hoc_commands/{ran}/")
    no_host = command("running")
    app_state.store.update("ad_hoc_commands", no_host, {"status": "successful", "finished": now_iso()})
    control.job_ended(ctx, "ad_hoc_command", no_host)
    assert sends(no_host) == []

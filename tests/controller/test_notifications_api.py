"""Notification templates and notifications through the API (issue 14 item 1): AWX's fields,
validation errors and defaults, secrets encrypted at rest and shown as ``$encrypted$``, the
``test`` action delivered to a local HTTP sink, the attach relations of every attach point,
and AWX's access rules (organization notification admins and auditors)."""
from __future__ import annotations

import base64
import json

import pytest

from controller.config import Settings
from controller.notifications.delivery import Sender
from controller.notifications.job_context import url_base
from controller.secrets import Vault
from tests.support.receivers import HttpSink
from tests.support.jobs import make_jt, make_project, wait_until

from conftest import unique  # tests/controller/conftest.py

SECRET = "webhook-pass-Zq81"


@pytest.fixture(scope="module")
def sender(app_state):
    """A sender thread on the module's data directory (the app alone starts none)."""
    s = Sender(app_state, poll=0.1, backoff=(0.2,), max_attempts=2)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def org(make_org):
    return make_org()


def webhook_body(org_id: int, url: str = "http://127.0.0.1:9/hook", **config) -> dict:
    return {"name": unique("nt"), "organization": org_id, "notification_type": "webhook",
            "notification_configuration": {"url": url, "headers": {"X-Team": "ops"}, "username": "bot",
                                           "password": SECRET, **config}}


def stored_config(app_state, pk: int) -> dict:
    return json.loads(app_state.store.get("notification_templates", pk)["notification_configuration"])


def test_create_fills_awx_defaults_and_encrypts_secrets(admin, app_state, org):
    resp = admin.post("/api/v2/notification_templates/", webhook_body(org["id"]))
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["notification_configuration"] == {
        "url": "http://127.0.0.1:9/hook", "headers": {"X-Team": "ops"}, "username": "bot",
        "password": "$encrypted$", "http_method": "POST", "disable_ssl_verification": False}
    assert body["messages"] == {"started": None, "success": None, "error": None, "workflow_approval": None}
    assert set(body["related"]) >= {"test", "notifications", "copy", "organization"}
    assert body["summary_fields"]["recent_notifications"] == []
    stored = stored_config(app_state, body["id"])
    assert stored["password"].startswith("$encrypted$UTF8$AESCBC$") and SECRET not in json.dumps(stored)
    assert Vault(app_state.settings.data_dir / "secret.key").decrypt(stored["password"]) == SECRET
    detail = admin.get(f"/api/v2/notification_templates/{body['id']}/").json
    assert detail["notification_configuration"]["password"] == "$encrypted$"
    history = admin.get("/api/v2/activity_stream/?order_by=-id&page_size=50").json["results"]
    assert any(e["operation"] == "create" and body["name"] in json.dumps(e) for e in history)
    assert SECRET not in json.dumps(history)


def test_encrypted_placeholder_keeps_the_stored_secret(admin, app_state, org):
    pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    before = stored_config(app_state, pk)["password"]
    config = {**admin.get(f"/api/v2/notification_templates/{pk}/").json["notification_configuration"],
              "headers": {"X-Team": "infra"}}
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/", {"notification_configuration": config})
    assert resp.status_code == 200, resp.json
    after = stored_config(app_state, pk)
    assert after["password"] == before and after["headers"] == {"X-Team": "infra"}
    config.update(password="new-secret-77", url="http://127.0.0.1:9/other")
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/", {"notification_configuration": config})
    assert resp.status_code == 200, resp.json
    vault = Vault(app_state.settings.data_dir / "secret.key")
    assert vault.decrypt(stored_config(app_state, pk)["password"]) == "new-secret-77"


REENTER = "Enter the secret again when you change where it is sent ({})."


@pytest.mark.parametrize("change, field", [
    ({"url": "http://attacker.example/"}, "url"),
    ({"url": "http://attacker.example/", "headers": {}}, "url"),
    ({"disable_ssl_verification": True}, "disable_ssl_verification"),
])
def test_a_kept_secret_never_follows_a_changed_endpoint(admin, app_state, org, change, field):
    """Moving a template's endpoint while keeping its stored password (sent back as $encrypted$)
    would hand the password to the new endpoint: the password must be entered again.  Leaving
    the password out sets AWX's default (empty): nothing stored travels either."""
    pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    before = stored_config(app_state, pk)
    config = admin.get(f"/api/v2/notification_templates/{pk}/").json["notification_configuration"]
    assert config["password"] == "$encrypted$"
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/", {"notification_configuration": {**config, **change}})
    assert resp.status_code == 400
    assert resp.json == {"notification_configuration": [REENTER.format(field)]}
    assert stored_config(app_state, pk) == before
    without = {k: v for k, v in config.items() if k != "password"}
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/", {"notification_configuration": {**without, **change}})
    assert resp.status_code == 200, resp.json
    assert stored_config(app_state, pk)["password"] == ""


def test_a_kept_secret_never_follows_a_changed_type(admin, app_state, org):
    pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/", {
        "notification_type": "email",
        "notification_configuration": {"host": "attacker.example", "port": 25, "username": "bot",
                                       "password": "$encrypted$", "use_tls": False, "use_ssl": False,
                                       "sender": "a@example.com", "recipients": ["b@example.com"]}})
    assert resp.status_code == 400
    assert resp.json == {"notification_configuration": [REENTER.format("notification_type, host, port, use_ssl, "
                                                                       "use_tls")]}
    assert admin.get(f"/api/v2/notification_templates/{pk}/").json["notification_type"] == "webhook"


@pytest.mark.parametrize("config, message", [
    ({"url": "http://x/"}, "Missing required fields for Notification Configuration: ['headers']."),
    ({"url": "http://x/", "headers": {}, "http_method": "GET"}, "HTTP method must be either 'POST' or 'PUT'."),
    ({"url": 5, "headers": {}}, "Configuration field 'url' incorrect type, expected string."),
    ({"url": "http://x/", "headers": [], "disable_ssl_verification": "no"},
     "Configuration field 'headers' incorrect type, expected object."),
])
def test_configuration_errors_are_awx_s(admin, org, config, message):
    resp = admin.post("/api/v2/notification_templates/", {"name": unique("nt"), "organization": org["id"],
                                                            "notification_type": "webhook",
                                                            "notification_configuration": config})
    assert resp.status_code == 400
    assert message in resp.json["non_field_errors"], resp.json


def test_email_recipients_may_not_be_empty(admin, org):
    resp = admin.post("/api/v2/notification_templates/", {
        "name": unique("nt"), "organization": org["id"], "notification_type": "email",
        "notification_configuration": {"host": "127.0.0.1", "port": 25, "username": "", "password": "",
                                       "use_tls": False, "use_ssl": False, "sender": "t@example.com",
                                       "recipients": []}})
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": ["No values specified for field 'recipients'"]}


@pytest.mark.parametrize("messages, error", [
    ({"started": {"message": "line one\nline two"}},
     "Messages cannot contain newlines (found newline in started event)"),
    ({"success": {"message": "{{ job.nope }}"}}, "Field 'nope' unavailable"),
    ({"error": {"message": "{{ job.id "}}, "Unable to render message '{{ job.id ': unexpected end of template, "
                                          "expected 'end of print statement'."),
    ({"finished": {"message": "x"}},
     "Event 'finished' invalid, must be one of 'started', 'success', 'error', or 'workflow_approval'"),
    ({"started": {"subject": "x"}}, "Message type 'subject' invalid, must be either 'message' or 'body'"),
    ({"workflow_approval": {"waiting": {"message": "x"}}},
     "Workflow Approval event 'waiting' invalid, must be one of 'running', 'approved', 'timed_out', or 'denied'"),
    ({"started": {"message": "{{ job.__class__.__mro__ }}"}}, "Security error due to field '__class__'"),
    ({"started": {"message": "{{ job.update({'id': 1}) }}"}}, "Security error due to field 'update'"),
    ({"success": {"body": "{{ job.nope }}"}},
     "Webhook body for 'success' is not valid. The following gave an error (nope)."),
])
def test_messages_are_validated_on_save(admin, org, messages, error):
    resp = admin.post("/api/v2/notification_templates/", {**webhook_body(org["id"]), "messages": messages})
    assert resp.status_code == 400
    assert error in resp.json["messages"], resp.json


def test_valid_messages_are_stored_and_merged_on_update(admin, org):
    body = {"success": {"message": "{{ job.name }} ok", "body": '{"id": {{ job.id }}, "meta": {{ job_metadata }}}'},
            "workflow_approval": {"running": {"message": "review {{ approval_node_name }}", "body": '{"u": 1}'}}}
    resp = admin.post("/api/v2/notification_templates/", {**webhook_body(org["id"]), "messages": body})
    assert resp.status_code == 201, resp.json
    pk = resp.json["id"]
    resp = admin.patch(f"/api/v2/notification_templates/{pk}/",
                       {"messages": {"success": {"message": "changed {{ job.id }}"}, "error": None}})
    assert resp.status_code == 200, resp.json
    assert resp.json["messages"] == {
        "success": {"message": "changed {{ job.id }}", "body": body["success"]["body"]},
        "error": None, "started": None, "workflow_approval": body["workflow_approval"]}


def test_test_action_delivers_to_a_local_sink(admin, app_state, org, sender):
    with HttpSink() as sink:
        pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"], url=sink.url + "/hook")).json["id"]
        resp = admin.post(f"/api/v2/notification_templates/{pk}/test/")
        assert resp.status_code == 202 and resp.json["notification"] == resp.json["id"]
        nid = resp.json["notification"]
        assert resp.headers["Location"] == f"/api/v2/notifications/{nid}/"
        done = wait_until(lambda: admin.get(f"/api/v2/notifications/{nid}/").json["status"] != "pending", 10,
                          "the test notification to be sent")
        assert done
        record = admin.get(f"/api/v2/notifications/{nid}/").json
        assert len(sink.requests) == 1
        got = sink.requests[0]
    assert record["status"] == "successful" and record["notifications_sent"] == 1 and record["error"] == ""
    assert record["notification_template"] == pk and record["notification_type"] == "webhook"
    assert record["event"] == "test" and record["job"] is None and record["attempts"] == 1
    assert "subject" not in record   # AWX shows no subject of a webhook send
    base = url_base(app_state.settings)
    assert record["body"] == {"body": f"Test Notification {pk} {base}"}   # AWX: the stored JSON text, parsed
    assert app_state.store.get("notifications", nid)["subject"] == f"Notification Test {pk} {base}"
    assert got.method == "POST" and got.path == "/hook"
    assert got.json() == {"body": f"Test Notification {pk} {base}"}
    assert got.headers["x-team"] == "ops"
    assert got.headers["authorization"] == "Basic " + base64.b64encode(f"bot:{SECRET}".encode()).decode()
    assert SECRET not in json.dumps(record)
    listed = admin.get(f"/api/v2/notification_templates/{pk}/notifications/").json
    assert [n["id"] for n in listed["results"]] == [nid]
    recent = admin.get(f"/api/v2/notification_templates/{pk}/").json["summary_fields"]["recent_notifications"]
    assert [(n["id"], n["status"]) for n in recent] == [(nid, "successful")]


def test_refused_endpoint_yields_a_failed_record_with_the_error(admin, org, sender):
    with HttpSink() as sink:
        dead_url = sink.url + "/gone"
    pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"], url=dead_url)).json["id"]
    nid = admin.post(f"/api/v2/notification_templates/{pk}/test/").json["notification"]
    wait_until(lambda: admin.get(f"/api/v2/notifications/{nid}/").json["status"] == "failed", 15,
               "the notification to fail")
    record = admin.get(f"/api/v2/notifications/{nid}/").json
    assert record["attempts"] == 2 and record["notifications_sent"] == 0
    assert record["error"] and SECRET not in record["error"]


ATTACH_POINTS = [("organizations", ("started", "success", "error", "approvals")),
                 ("job_templates", ("started", "success", "error")),
                 ("projects", ("started", "success", "error")),
                 ("inventory_sources", ("started", "success", "error")),
                 ("workflow_job_templates", ("started", "success", "error", "approvals"))]


def _owner(admin, app_state, org: dict, plural: str) -> int:
    if plural == "organizations":
        return org["id"]
    project = make_project(admin, app_state.settings.data_dir, org, {"x.yml": "- hosts: all\n  tasks: []\n"})
    if plural == "projects":
        return project["id"]
    if plural == "job_templates":
        return make_jt(admin, project, None, "x.yml", ask_inventory_on_launch=True)["id"]
    if plural == "workflow_job_templates":
        wfjt = admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"]})
        return wfjt.json["id"]
    inv = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"]}).json
    resp = admin.post("/api/v2/inventory_sources/", {"name": unique("src"), "inventory": inv["id"], "source": "scm",
                                                     "source_project": project["id"], "source_path": "x.yml"})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


@pytest.mark.parametrize("plural, groups", ATTACH_POINTS, ids=[p for p, _ in ATTACH_POINTS])
def test_templates_attach_and_detach_per_event(admin, app_state, org, plural, groups):
    owner = _owner(admin, app_state, org, plural)
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    related = admin.get(f"/api/v2/{plural}/{owner}/").json["related"]
    for group in groups:
        url = f"/api/v2/{plural}/{owner}/notification_templates_{group}/"
        assert related[f"notification_templates_{group}"] == url
        resp = admin.post(url, {"id": nt})
        assert resp.status_code == 204, resp.json
        assert [r["id"] for r in admin.get(url).json["results"]] == [nt]
    others = {"started", "success", "error", "approvals"} - set(groups)
    assert all(f"notification_templates_{g}" not in related for g in others)
    first = f"/api/v2/{plural}/{owner}/notification_templates_{groups[0]}/"
    assert admin.post(first, {"id": nt, "disassociate": True}).status_code == 204
    assert admin.get(first).json["count"] == 0


def test_access_follows_the_organization_roles(admin, org, make_user, make_org):
    other = make_org()
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    roles = admin.get(f"/api/v2/organizations/{org['id']}/").json["summary_fields"]["object_roles"]
    nadmin_id, nadmin = make_user()
    admin.post(f"/api/v2/users/{nadmin_id}/roles/", {"id": roles["notification_admin_role"]["id"]})
    auditor_id, auditor = make_user()
    admin.post(f"/api/v2/users/{auditor_id}/roles/", {"id": roles["auditor_role"]["id"]})
    member_id, member = make_user()
    admin.post(f"/api/v2/users/{member_id}/roles/", {"id": roles["member_role"]["id"]})

    assert nt in [r["id"] for r in nadmin.get("/api/v2/notification_templates/?page_size=200").json["results"]]
    assert nt in [r["id"] for r in auditor.get("/api/v2/notification_templates/?page_size=200").json["results"]]
    assert member.get("/api/v2/notification_templates/").json["count"] == 0
    assert member.get(f"/api/v2/notification_templates/{nt}/").status_code == 403

    created = nadmin.post("/api/v2/notification_templates/", webhook_body(org["id"]))
    assert created.status_code == 201, created.json
    assert nadmin.post("/api/v2/notification_templates/", webhook_body(other["id"])).status_code == 403
    assert auditor.post("/api/v2/notification_templates/", webhook_body(org["id"])).status_code == 403
    assert auditor.patch(f"/api/v2/notification_templates/{nt}/", {"description": "x"}).status_code == 403
    assert auditor.post(f"/api/v2/notification_templates/{nt}/test/").status_code == 403
    assert nadmin.patch(f"/api/v2/notification_templates/{nt}/", {"description": "x"}).status_code == 200
    assert admin.get(f"/api/v2/notification_templates/{nt}/").json["description"] == "x"


def test_notifications_are_read_only_and_visible_with_their_template(admin, org, make_user):
    nt = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    nid = admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"]
    assert admin.patch(f"/api/v2/notifications/{nid}/", {"subject": "x"}).status_code == 405
    assert admin.delete(f"/api/v2/notifications/{nid}/").status_code == 405
    assert admin.post("/api/v2/notifications/", {"subject": "x"}).status_code == 405
    _uid, stranger = make_user()
    assert stranger.get(f"/api/v2/notifications/{nid}/").status_code == 403
    assert stranger.get("/api/v2/notifications/").json["count"] == 0
    for hidden in ("next_attempt", "claimed_at", "claimed_by", "destination", "sent_at"):
        assert hidden not in admin.get(f"/api/v2/notifications/{nid}/").json


def test_copy_keeps_the_encrypted_configuration(admin, app_state, org):
    pk = admin.post("/api/v2/notification_templates/", webhook_body(org["id"])).json["id"]
    resp = admin.post(f"/api/v2/notification_templates/{pk}/copy/", {"name": unique("copy")})
    assert resp.status_code == 201, resp.json
    assert resp.json["notification_configuration"]["password"] == "$encrypted$"
    vault = Vault(app_state.settings.data_dir / "secret.key")
    assert vault.decrypt(stored_config(app_state, resp.json["id"])["password"]) == SECRET


def test_options_lists_every_type(admin):
    post = admin.options("/api/v2/notification_templates/").json["actions"]["POST"]
    types = {c[0] for c in post["notification_type"]["choices"]}
    assert types >= {"email", "slack", "webhook", "mattermost", "rocketchat", "pagerduty", "grafana", "irc",
                     "twilio", "awssns", "teams", "dingtalk", "wecom", "telegram", "discord"}


def test_options_describe_each_type_s_fields_and_default_messages(admin):
    post = admin.options("/api/v2/notification_templates/").json["actions"]["POST"]
    email = post["notification_configuration"]["email"]
    assert email["recipients"] == {"label": "Recipient List", "type": "list"}
    assert email["timeout"] == {"label": "Timeout", "type": "int", "default": 30}
    assert post["notification_configuration"]["webhook"]["http_method"]["default"] == "POST"
    assert post["messages"]["webhook"]["success"]["body"] == "{{ job_metadata }}"


def test_links_use_the_external_address_when_set(tmp_path):
    assert url_base(Settings({"DATA_DIR": str(tmp_path), "URL_BASE": "https://turret.example.com/"},
                             environ={})) == "https://turret.example.com"
    assert url_base(Settings({"DATA_DIR": str(tmp_path), "PORT": 9000}, environ={})) == "http://127.0.0.1:9000"

"""Delivery of notifications from real jobs (issue 14 items 3 and 4): AWX's events and
inheritance, the routing snapshot taken at creation, AWX's default messages and context
(job_metadata, approval fields and the approval's own URL) received by a local HTTP sink and a
local SMTP server, a dead endpoint that never delays a job, a restart during a send that never
sends twice, one record per (template, job, event) whoever announces or claims,
per-destination rate limits, and the sender's own conduct (session 26, O1): an idle sender only
reads, a sender claims no more than its free threads, and a claim made as it stops is given back
to the next sender."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from controller.jobs import control
from controller.jobs import launch as launch_module
from controller.notifications import routing
from controller.notifications.delivery import POOL_SIZE, STALE_ERROR, Sender
from controller.services.bootstrap import system_context
from controller.services.cleanup import cleanup
from controller.store import notifications as notification_store
from tests.support.jobs import (
    launch, make_jt, make_stage, uniq, wait_job, wait_status, wait_until,
)
from tests.support.receivers import Answer, HttpSink, SmtpSink

HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"
FAIL = "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=broken\n"
PAUSE = "- hosts: all\n  gather_facts: false\n  tasks:\n    - pause: seconds=3\n"
PLAYBOOKS = {"hello.yml": HELLO, "fail.yml": FAIL, "pause.yml": PAUSE}


@pytest.fixture(scope="module")
def jobs(app_state):
    """Job workers, with a sender tuned for tests: quick polling and retries, 3 s timeouts."""
    dispatcher = app_state.start_jobs(workers=2)
    app_state.notifier.stop()
    app_state.notifier = Sender(app_state, poll=0.1, backoff=(0.3,), max_attempts=2, timeout=3.0)
    app_state.notifier.start()
    yield dispatcher
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def sink():
    with HttpSink() as s:
        yield s


@pytest.fixture
def scene(admin, app_state, jobs):
    """A fresh organization with a project, an inventory and a job template per playbook."""
    stage = make_stage(admin, app_state.settings.data_dir, PLAYBOOKS)
    return {**stage, **{name.split(".")[0]: make_jt(admin, stage["project"], stage["inventory"], name)
                        for name in PLAYBOOKS}}


def webhook(admin, org: dict, url: str, **extra) -> int:
    resp = admin.post("/api/v2/notification_templates/", {
        "name": uniq("nt"), "organization": org["id"], "notification_type": "webhook",
        "notification_configuration": {"url": url, "headers": {"X-Test": "1"}}, **extra})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def attach(admin, plural: str, pk: int, group: str, nt: int, detach: bool = False) -> None:
    body = {"id": nt, "disassociate": True} if detach else {"id": nt}
    resp = admin.post(f"/api/v2/{plural}/{pk}/notification_templates_{group}/", body)
    assert resp.status_code == 204, resp.json


def settled(admin, job_url: str, count: int, timeout: float = 20) -> list[dict]:
    """The job's ``count`` notifications, once none is pending."""
    def done():
        rows = admin.get(f"{job_url}notifications/?page_size=100&order_by=id").json["results"]
        return rows if len(rows) == count and all(r["status"] != "pending" for r in rows) else None
    return wait_until(done, timeout, f"{count} settled notifications of {job_url}")


def requests_to(sink: HttpSink, path: str) -> list:
    return [r for r in sink.requests if r.path == path]


def test_a_job_notifies_its_template_project_and_organization(admin, app_state, scene, sink):
    hook = f"/{uniq('h')}"
    nt_jt, nt_project, nt_org = (webhook(admin, scene["org"], f"{sink.url}{hook}/{p}") for p in ("jt", "pr", "org"))
    jt = scene["hello"]
    attach(admin, "job_templates", jt["id"], "started", nt_jt)
    attach(admin, "job_templates", jt["id"], "success", nt_jt)
    attach(admin, "projects", scene["project"]["id"], "success", nt_project)
    attach(admin, "organizations", scene["org"]["id"], "success", nt_org)
    attach(admin, "organizations", scene["org"]["id"], "success", nt_jt)   # twice by inheritance: sent once
    attach(admin, "organizations", scene["org"]["id"], "error", nt_org)    # not this job's event
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful"
    records = settled(admin, f"/api/v2/jobs/{job['id']}/", 4)
    assert sorted((r["notification_template"], r["event"], r["status"]) for r in records) == sorted([
        (nt_jt, "started", "successful"), (nt_jt, "success", "successful"),
        (nt_project, "success", "successful"), (nt_org, "success", "successful")])
    assert all(r["job_type"] == "job" and r["job"] == job["id"] and r["notifications_sent"] == 1 for r in records)
    started, success = requests_to(sink, f"{hook}/jt")
    assert len(requests_to(sink, f"{hook}/pr")) == 1 and len(requests_to(sink, f"{hook}/org")) == 1
    assert started.headers["content-type"] == "application/json" and started.headers["x-test"] == "1"
    # AWX's default webhook body: the job_metadata object
    meta = success.json()
    assert meta["id"] == job["id"] and meta["name"] == jt["name"] and meta["status"] == "successful"
    assert meta["url"].endswith(f"/ui/jobs/{job['id']}") and meta["friendly_name"] == "Job"
    assert meta["created_by"] == "admin" and meta["playbook"] == "hello.yml" and meta["traceback"] == ""
    assert meta["inventory"] == scene["inventory"]["name"] and meta["project"] == scene["project"]["name"]
    assert meta["hosts"] == {"h1": {"failed": False, "changed": 0, "dark": 0, "failures": 0, "ok": 1,
                                    "processed": 1, "skipped": 0, "rescued": 0, "ignored": 0}}
    assert meta["finished"] and started.json()["status"] == "running" and started.json()["finished"] is None
    # the stored subject (AWX's API shows none for a webhook send)
    subject = app_state.store.get("notifications", next(r for r in records if r["event"] == "success")["id"])["subject"]
    assert subject == ""   # AWX's webhook defaults have a body only (job_metadata_messages)


def test_a_failed_job_emails_the_organization_s_error_template(admin, scene, sink):
    with SmtpSink() as smtp:
        resp = admin.post("/api/v2/notification_templates/", {
            "name": uniq("mail"), "organization": scene["org"]["id"], "notification_type": "email",
            "notification_configuration": {"host": "127.0.0.1", "port": smtp.port, "username": "", "password": "",
                                           "use_tls": False, "use_ssl": False, "sender": "turret@example.com",
                                           "recipients": ["ops@example.com"], "timeout": 3}})
        assert resp.status_code == 201, resp.json
        mail = resp.json["id"]
        quiet = webhook(admin, scene["org"], f"{sink.url}/{uniq('quiet')}")
        attach(admin, "organizations", scene["org"]["id"], "error", mail)
        attach(admin, "job_templates", scene["fail"]["id"], "success", quiet)
        job = wait_job(admin, launch(admin, scene["fail"])["id"])
        assert job["status"] == "failed"
        (record,) = settled(admin, f"/api/v2/jobs/{job['id']}/", 1)
        assert record["status"] == "successful", record["error"]
        assert record["event"] == "error" and record["recipients"] == "['ops@example.com']"
        (mail_from, rcpt, message), = smtp.messages
    url = f"/ui/jobs/{job['id']}"
    assert mail_from == "turret@example.com" and rcpt == ["ops@example.com"]
    assert message["Subject"].startswith(f"Job #{job['id']} '{scene['fail']['name']}' failed: http")
    text = message.get_content().replace("\r\n", "\n")
    head, _, metadata = text.partition("\n\n")
    assert head.startswith(f"Job #{job['id']} had status failed, view details at http") and url in head
    meta = json.loads(metadata)
    assert meta["status"] == "failed" and meta["hosts"]["h1"]["failures"] == 1 and meta["id"] == job["id"]


@pytest.mark.slow
def test_routing_is_the_snapshot_taken_when_the_job_was_created(admin, scene, sink):
    path_a, path_b = f"/{uniq('a')}", f"/{uniq('b')}"
    nt_a, nt_b = webhook(admin, scene["org"], sink.url + path_a), webhook(admin, scene["org"], sink.url + path_b)
    jt = scene["pause"]
    attach(admin, "job_templates", jt["id"], "success", nt_a)
    first = launch(admin, jt)["id"]
    wait_status(admin, first, ("running",))
    attach(admin, "job_templates", jt["id"], "success", nt_a, detach=True)
    attach(admin, "job_templates", jt["id"], "success", nt_b)
    assert wait_job(admin, first)["status"] == "successful"
    (record,) = settled(admin, f"/api/v2/jobs/{first}/", 1)
    assert record["notification_template"] == nt_a
    second = wait_job(admin, launch(admin, jt)["id"])
    (record,) = settled(admin, f"/api/v2/jobs/{second['id']}/", 1)
    assert record["notification_template"] == nt_b
    assert len(requests_to(sink, path_a)) == 1 and len(requests_to(sink, path_b)) == 1


@pytest.mark.slow
def test_a_dead_endpoint_never_delays_the_job(admin, scene):
    with HttpSink(Answer(delay=8)) as slow:
        with HttpSink() as gone:
            refused = gone.url + "/refused"
        nt_slow, nt_refused = webhook(admin, scene["org"], slow.url + "/slow"), webhook(admin, scene["org"], refused)
        jt = scene["hello"]
        for group in ("started", "success"):
            attach(admin, "job_templates", jt["id"], group, nt_slow)
        attach(admin, "job_templates", jt["id"], "success", nt_refused)
        job = wait_job(admin, launch(admin, jt)["id"])
        # the started send to the hanging endpoint is still being tried when the job has ended
        # (on the job's path it would have ended first: 2 attempts of 3 s)
        started = admin.get(f"/api/v2/jobs/{job['id']}/notifications/?event=started").json["results"]
        assert job["status"] == "successful" and [r["status"] for r in started] == ["pending"]
        records = settled(admin, f"/api/v2/jobs/{job['id']}/", 3, timeout=30)
    assert all(r["status"] == "failed" and r["attempts"] == 2 for r in records), records
    by_template = {(r["notification_template"], r["event"]): r["error"] for r in records}
    assert "timed out" in by_template[(nt_slow, "started")].lower()
    assert by_template[(nt_refused, "success")]


def test_a_job_reaped_at_start_up_notifies_its_error(admin, app_state, scene, sink):
    """A job left running by a dead process is reaped to ``error`` when job workers start, and
    that end is announced like any other: the error notification goes out."""
    path = f"/{uniq('reaped')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    jt = scene["hello"]
    attach(admin, "job_templates", jt["id"], "error", nt)
    ctx = system_context(app_state)
    stamp = "2026-01-01T00:00:00.000000Z"
    pk = control.create_job(ctx, "job", {   # as a dead process left it: running, owned by nobody
        "name": jt["name"], "job_template": jt["id"], "project": jt["project"], "inventory": jt["inventory"],
        "organization": scene["org"]["id"], "playbook": "hello.yml", "status": "running", "started": stamp,
        "launch_type": "manual", "created": stamp, "modified": stamp})
    app_state.dispatcher.recover()
    job = admin.get(f"/api/v2/jobs/{pk}/").json
    assert job["status"] == "error"
    (record,) = settled(admin, f"/api/v2/jobs/{pk}/", 1)
    assert (record["notification_template"], record["event"], record["status"]) == (nt, "error", "successful")
    assert requests_to(sink, path)[0].json()["status"] == "error"


def test_a_launch_that_could_not_start_notifies_its_error(admin, app_state, scene, sink):
    """A workflow node's launch that fails leaves a job created in ``error`` (no worker ever runs
    or announces it): its error notification goes out all the same (a schedule's: none, as AWX)."""
    path = f"/{uniq('nostart')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    attach(admin, "organizations", scene["org"]["id"], "error", nt)
    ctx = system_context(app_state)
    template = app_state.store.get("job_templates", scene["hello"]["id"])
    job = launch_module.record_failed_launch(ctx, template, "Missing inventory.", launch_type="workflow")
    (record,) = settled(admin, f"/api/v2/jobs/{job['id']}/", 1)
    assert (record["notification_template"], record["event"], record["status"]) == (nt, "error", "successful")
    meta = requests_to(sink, path)[0].json()
    assert meta["status"] == "error" and meta["id"] == job["id"]


def test_an_event_announced_twice_is_recorded_once(admin, app_state, scene, sink):
    path = f"/{uniq('twice')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    attach(admin, "job_templates", scene["hello"]["id"], "success", nt)
    job = wait_job(admin, launch(admin, scene["hello"])["id"])
    settled(admin, f"/api/v2/jobs/{job['id']}/", 1)
    ctx = system_context(app_state)
    routing.on_job_ended(ctx, "job", job["id"])
    routing.on_job_ended(ctx, "job", job["id"])
    time.sleep(0.5)
    assert admin.get(f"/api/v2/jobs/{job['id']}/notifications/").json["count"] == 1
    assert len(requests_to(sink, path)) == 1


def test_cleanup_forgets_old_notifications_and_the_routing_of_deleted_jobs(admin, app_state, scene, sink):
    nt = webhook(admin, scene["org"], f"{sink.url}/{uniq('old')}")
    attach(admin, "job_templates", scene["hello"]["id"], "success", nt)
    old, recent = (wait_job(admin, launch(admin, scene["hello"])["id"]) for _ in range(2))
    (old_record,) = settled(admin, f"/api/v2/jobs/{old['id']}/", 1)
    (recent_record,) = settled(admin, f"/api/v2/jobs/{recent['id']}/", 1)
    long_ago = "2001-01-01T00:00:00.000000Z"
    app_state.store.update("jobs", old["id"], {"finished": long_ago})
    app_state.store.update("notifications", old_record["id"], {"created": long_ago})
    assert notification_store.routing_of(app_state.store, "job", old["id"]) is not None
    counts = cleanup(system_context(app_state), 30)
    assert counts["notifications"] == 1 and counts["jobs"] >= 1
    assert admin.get(f"/api/v2/notifications/{old_record['id']}/").status_code == 404
    assert admin.get(f"/api/v2/notifications/{recent_record['id']}/").json["status"] == "successful"
    assert notification_store.routing_of(app_state.store, "job", old["id"]) is None
    assert notification_store.routing_of(app_state.store, "job", recent["id"]) is not None


def test_competing_senders_send_each_record_once(admin, app_state, scene, sink):
    path = f"/{uniq('race')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    others = [Sender(app_state, poll=0.05) for _ in range(3)]
    ids = [admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"] for _ in range(12)]
    threads = [threading.Thread(target=s.dispatch_due) for s in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: all(admin.get(f"/api/v2/notifications/{i}/").json["status"] == "successful" for i in ids),
               20, "every test send")
    for s in others:
        s.stop()
    assert len(requests_to(sink, path)) == 12
    assert all(admin.get(f"/api/v2/notifications/{i}/").json["attempts"] == 1 for i in ids)


def test_a_destination_s_rate_limit_holds_sends_back(admin, scene):
    with HttpSink(Answer(json={"errcode": 0, "errmsg": "ok"})) as robot:
        resp = admin.post("/api/v2/notification_templates/", {
            "name": uniq("ding"), "organization": scene["org"]["id"], "notification_type": "dingtalk",
            "notification_configuration": {"webhook_url": robot.url + "/robot/send?access_token=t0k3n"}})
        assert resp.status_code == 201, resp.json
        nt = resp.json["id"]
        ids = [admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"] for _ in range(22)]
        wait_until(lambda: len(robot.requests) >= 20, 20, "20 sends")
        time.sleep(1.0)
        rows = [admin.get(f"/api/v2/notifications/{i}/").json for i in ids]
    assert len(robot.requests) == 20
    assert sorted(r["status"] for r in rows) == ["pending"] * 2 + ["successful"] * 20
    assert all(r["attempts"] == 0 for r in rows if r["status"] == "pending")


def test_a_restart_during_a_send_never_sends_twice(admin, app_state, scene, tmp_path):
    """A sender process is killed while its endpoint holds the request; the next sender
    concludes the interrupted record failed and does not send it again."""
    with HttpSink(Answer(delay=30)) as hold:
        nt = webhook(admin, scene["org"], hold.url + "/held")
        app_state.notifier.stop()   # only the child process may claim the record
        try:
            nid = admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"]
            child = subprocess.Popen([sys.executable, "-c", CHILD, str(app_state.settings.data_dir)],
                                     cwd=str(Path(__file__).resolve().parents[2]), env={**os.environ},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_until(lambda: hold.requests, 30, "the child's send to reach the endpoint")
            finally:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(timeout=10)
            row = app_state.store.get("notifications", nid)
            assert row["status"] == "pending" and row["claimed_by"] and row["attempts"] == 1
            after = Sender(app_state, poll=0.1, stale_after=0.5)
            time.sleep(0.6)
            after.start()
            try:
                wait_until(lambda: admin.get(f"/api/v2/notifications/{nid}/").json["status"] == "failed", 10,
                           "the interrupted send to be concluded")
                time.sleep(0.5)
            finally:
                after.stop()
        finally:
            app_state.notifier = Sender(app_state, poll=0.1, backoff=(0.3,), max_attempts=2, timeout=3.0)
            app_state.notifier.start()
        record = admin.get(f"/api/v2/notifications/{nid}/").json
        assert record["error"] == STALE_ERROR and record["attempts"] == 1
        assert len(hold.requests) == 1


CHILD = """
import sys, time
from controller import open_state
from controller.config import Settings
from controller.notifications.delivery import Sender
state = open_state(Settings({"DATA_DIR": sys.argv[1]}, environ={}))
Sender(state, poll=0.1, timeout=60).start()
time.sleep(120)
"""


def test_approvals_notify_their_workflow_s_approval_templates(admin, app_state, scene, sink):
    path = f"/{uniq('gate')}"
    body = '{"node": "{{ approval_node_name }}", "status": "{{ approval_status }}", ' \
           '"approve": "{{ approval_url }}approve/", "workflow": "{{ workflow_url }}"}'
    nt = webhook(admin, scene["org"], sink.url + path, messages={"workflow_approval": {
        "running": {"message": "review {{ approval_node_name }}", "body": body}, "approved": {"body": body}}})
    default_path = f"/{uniq('default')}"
    nt_default = webhook(admin, scene["org"], sink.url + default_path)
    wfjt = admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": scene["org"]["id"]}).json
    node = admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", {"identifier": "gate"}).json
    gate = admin.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
                      {"name": "Ship it?", "timeout": 0})
    assert gate.status_code == 201, gate.json
    attach(admin, "workflow_job_templates", wfjt["id"], "approvals", nt)
    attach(admin, "organizations", scene["org"]["id"], "approvals", nt_default)
    attach(admin, "workflow_job_templates", wfjt["id"], "success", nt_default)
    wj = admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}).json["id"]

    def approval():
        nodes = admin.get(f"/api/v2/workflow_jobs/{wj}/workflow_nodes/").json["results"]
        return nodes[0]["job"] if nodes and nodes[0]["job"] else None
    approval_id = wait_until(approval, 20, "the approval")
    running = settled(admin, f"/api/v2/workflow_approvals/{approval_id}/", 2)
    assert sorted((r["notification_template"], r["event"]) for r in running) == [(nt, "running"),
                                                                                 (nt_default, "running")]
    mine = next(r for r in running if r["notification_template"] == nt)
    assert app_state.store.get("notifications", mine["id"])["subject"] == "review Ship it?"    # stored, not shown
    assert admin.post(f"/api/v2/workflow_approvals/{approval_id}/approve/", {}).status_code == 204
    settled(admin, f"/api/v2/workflow_approvals/{approval_id}/", 4)
    wait_until(lambda: admin.get(f"/api/v2/workflow_jobs/{wj}/").json["status"] == "successful", 20, "the workflow")
    (done,) = settled(admin, f"/api/v2/workflow_jobs/{wj}/", 1)
    assert done["event"] == "success" and done["notification_template"] == nt_default
    first, second = (r.json() for r in requests_to(sink, path))
    assert first == {"node": "Ship it?", "status": "running",
                     "approve": first["approve"], "workflow": first["workflow"]}
    assert first["approve"].endswith(f"/api/v2/workflow_approvals/{approval_id}/approve/")
    assert first["workflow"].endswith(f"/ui/workflow_jobs/{wj}")
    assert second["status"] == "approved"
    defaults = [r.json() for r in requests_to(sink, default_path)]
    assert {"body": f'The approval node "Ship it?" needs review. This node can be viewed at: {first["workflow"]}'} \
        in defaults
    # a denial is the "denied" sub-event (and the workflow's failure its error event)
    wj = admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}).json["id"]
    approval_id = wait_until(approval, 20, "the second approval")
    settled(admin, f"/api/v2/workflow_approvals/{approval_id}/", 2)
    assert admin.post(f"/api/v2/workflow_approvals/{approval_id}/deny/", {}).status_code == 204
    denied = settled(admin, f"/api/v2/workflow_approvals/{approval_id}/", 4)
    assert sorted(r["event"] for r in denied) == ["denied", "denied", "running", "running"]
    url = f"{first['workflow'].rsplit('/', 1)[0]}/{wj}"
    assert requests_to(sink, path)[-1].json() == {"body": f'The approval node "Ship it?" was denied. {url}'}


# -- the sender's own conduct (session 26, O1): no job stack sender runs meanwhile ------------------
LOOP = "turret-notifications"       # a sender's claiming thread (its sending threads: "turret-notify_<n>")


@pytest.fixture
def quiet(app_state, jobs):
    """The module's sender stopped (only the test's senders claim), the records earlier tests
    left pending concluded (none becomes due meanwhile); a tuned sender again afterwards."""
    app_state.notifier.stop()
    store = app_state.store
    for row in store.dicts("SELECT id FROM notifications WHERE status = 'pending'"):
        store.update("notifications", row["id"], {"status": "failed", "claimed_at": None, "claimed_by": None})
    yield store
    app_state.notifier = Sender(app_state, poll=0.1, backoff=(0.3,), max_attempts=2, timeout=3.0)
    app_state.notifier.start()


def loop_statements(store, seconds: float) -> list[str]:
    """The statements a running sender's claiming thread runs during ``seconds``, read from the
    trace callback of every connection the store has opened (the loop's included)."""
    seen: list[str] = []

    def keep(sql: str) -> None:
        if threading.current_thread().name == LOOP:
            seen.append(sql)
    with store._lock:
        conns = list(store._all)
    for conn in conns:
        conn.set_trace_callback(keep)
    try:
        time.sleep(seconds)
    finally:
        for conn in conns:
            conn.set_trace_callback(None)
    return seen


def writes(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.startswith(("BEGIN", "UPDATE", "INSERT", "DELETE"))]


def record_claimed_elsewhere(app_state, nt: int) -> int:
    """A test send claimed by a sender of another (dead) process, recorded without a ring."""
    store = app_state.store
    ctx = system_context(app_state)
    template = store.get("notification_templates", nt)
    with store.transaction():
        pk = routing.record(ctx, template, "subject", "body", None, None, "test")
        assert pk is not None
        stamp = store.get("notifications", pk)["created"]
        assert notification_store.claim(store, pk, "elsewhere:1:dead", stamp)
    return pk


def test_an_idle_sender_only_reads_and_still_fails_a_stale_claim(admin, app_state, scene, sink, quiet):
    path = f"/{uniq('stale')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    sender = Sender(app_state, poll=0.05, stale_after=0.5)
    sender.start()
    try:
        wait_until(lambda: sender._swept, 5, "its first look")   # a claim (rows left while none ran): past
        seen = loop_statements(quiet, 1.0)      # some 20 polls, nothing pending
        assert len([sql for sql in seen if sql.startswith('SELECT 1 FROM "notifications"')]) >= 10, seen
        assert writes(seen) == []               # no write transaction while idle
        pk = record_claimed_elsewhere(app_state, nt)
        assert quiet.get("notifications", pk)["status"] == "pending"
        # stale after 0.5 s: a poll's read finds it, and that look fails it (unsent)
        wait_until(lambda: quiet.get("notifications", pk)["status"] == "failed", 5, "the stale claim to fail")
        time.sleep(0.3)
        assert writes(loop_statements(quiet, 0.5)) == []    # idle again
    finally:
        sender.stop()
    row = quiet.get("notifications", pk)
    assert (row["error"], row["attempts"], row["claimed_by"]) == (STALE_ERROR, 1, None)
    assert requests_to(sink, path) == []


def test_a_claim_made_as_the_sender_stops_is_given_back_to_the_next_sender(admin, app_state, scene, sink, quiet):
    path = f"/{uniq('handback')}"
    nt = webhook(admin, scene["org"], sink.url + path)
    pk = admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"]
    stopping = Sender(app_state)            # not started: its look runs on this thread
    claimed: list[str] = []

    def stop_at_the_claim_s_commit(sql: str) -> None:
        if sql.startswith('UPDATE "notifications" SET claimed_at'):
            claimed.append(sql)
        elif sql == "COMMIT" and claimed and not stopping._stop.is_set():
            stopping.stop()                 # the stop comes as the claim commits: the pool shuts first
    quiet.conn.set_trace_callback(stop_at_the_claim_s_commit)
    try:
        handed = stopping.dispatch_due()
    finally:
        quiet.conn.set_trace_callback(None)
    assert claimed and handed == []
    row = quiet.get("notifications", pk)
    assert (row["status"], row["claimed_by"], row["claimed_at"], row["attempts"]) == ("pending", None, None, 0)
    # a release gives back only its owner's claim
    assert notification_store.claim(quiet, pk, "host:2:other", row["created"])
    assert notification_store.release(quiet, [pk], stopping.owner) == 0
    assert quiet.get("notifications", pk)["claimed_by"] == "host:2:other"
    assert notification_store.release(quiet, [pk], "host:2:other") == 1
    after = Sender(app_state, poll=0.1)
    after.start()
    try:
        wait_until(lambda: quiet.get("notifications", pk)["status"] == "successful", 10, "the next sender's send")
    finally:
        after.stop()
    row = quiet.get("notifications", pk)
    assert (row["attempts"], row["error"], row["notifications_sent"]) == (1, "", 1)
    assert len(requests_to(sink, path)) == 1


def test_a_sender_claims_no_more_records_than_it_has_free_threads(admin, app_state, scene, quiet):
    with HttpSink(Answer(delay=1.0)) as slow:
        nt = webhook(admin, scene["org"], slow.url + "/slow")
        ids = [admin.post(f"/api/v2/notification_templates/{nt}/test/").json["notification"]
               for _ in range(POOL_SIZE + 2)]
        sender = Sender(app_state, timeout=5.0)    # not started: its looks run on this thread
        try:
            assert sender.dispatch_due() == ids[:POOL_SIZE]     # oldest first, one per thread
            rows = [quiet.get("notifications", i) for i in ids]
            assert [(r["claimed_by"], r["attempts"]) for r in rows] == (
                [(sender.owner, 1)] * POOL_SIZE + [(None, 0)] * 2)
            assert sender.dispatch_due() == []                  # every thread busy: the others wait
            wait_until(lambda: all(quiet.get("notifications", i)["status"] == "successful" for i in ids[:POOL_SIZE]),
                       10, "the first sends")
            time.sleep(0.3)                                     # their threads are free again
            assert sender.dispatch_due() == ids[POOL_SIZE:]
            wait_until(lambda: all(quiet.get("notifications", i)["status"] == "successful" for i in ids),
                       10, "every send")
        finally:
            sender.stop()
    assert len(slow.requests) == POOL_SIZE + 2
    assert all(quiet.get("notifications", i)["attempts"] == 1 for i in ids)

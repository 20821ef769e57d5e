"""What a web worker of a multi-process ``turret serve`` does reaches the serving parent at once,
and the caps it enforces hold for the whole controller (session 24, H4).

Real processes on 127.0.0.1: ``python -m controller serve --workers 2`` (granian).  A
notification recorded by a request in a web worker is sent by the parent's sender; the web
worker wakes it with a datagram instead of leaving it to the sender's one-second poll.
Forged webhook deliveries spread over both workers are recorded at most
``REJECTED_RECORDS_PER_MINUTE`` times a minute in all (a per-process count would record that
many per worker).
"""
from __future__ import annotations

import json
import time
import uuid

import pytest

from controller.webhooks.receive import REJECTED_RECORDS_PER_MINUTE
from test_serving import Conn, one_per_worker   # tests/controller/test_serving.py (rootdir-less import)
from tests.conftest import start_controller
from tests.support.jobs import wait_until
from tests.support.receivers import HttpSink

CAP_WARNING = f"more than {REJECTED_RECORDS_PER_MINUTE} rejected deliveries a minute"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_controller(tmp_path_factory, args=("--workers", "2"), env={"TURRET_WEB_SERVER": "granian"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def org(live):
    c = Conn(live)
    status, org = c.call("POST", "/api/v2/organizations/", {"name": "WakesOrg"})
    assert status == 201, org
    c.close()
    return org


def _arrival(sink: HttpSink, path: str, timeout: float = 10) -> float:
    """The monotonic time at which ``sink`` had a request to ``path`` (polled every 2 ms)."""
    deadline = time.monotonic() + timeout
    while not any(r.path == path for r in list(sink.requests)):
        assert time.monotonic() < deadline, f"nothing reached {path}"
        time.sleep(0.002)
    return time.monotonic()


@pytest.mark.slow
def test_a_test_notification_sent_through_a_web_worker_leaves_at_once(live, org):
    """POST /notification_templates/N/test/ in a web worker -> the receiver has it well under
    the parent sender's 1 s poll (without the worker's datagram: 0 to 1 s, ~0.5 s median)."""
    conn = Conn(live)
    with HttpSink() as sink:
        status, nt = conn.call("POST", "/api/v2/notification_templates/", {
            "name": "wake-test", "organization": org["id"], "notification_type": "webhook",
            "notification_configuration": {"url": f"{sink.url}/wake", "headers": {}}})
        assert status == 201, nt
        conn.worker()       # answered by a web worker, not by the serving parent
        delays, records = [], []
        for _ in range(7):
            t0 = time.monotonic()
            status, body = conn.call("POST", f"/api/v2/notification_templates/{nt['id']}/test/")
            assert status == 202, body
            delays.append(_arrival(sink, "/wake") - t0)
            records.append(body["notification"])
            sink.requests.clear()
            time.sleep(0.05)
        delays.sort()
        assert delays[len(delays) // 2] < 0.3, delays

    def concluded():
        rows = [conn.call("GET", f"/api/v2/notifications/{pk}/")[1] for pk in records]
        return rows if all(r["status"] != "pending" for r in rows) else None
    rows = wait_until(concluded, 10, "the test notifications concluded")
    assert [(r["status"], r["notifications_sent"], r["error"]) for r in rows] == [("successful", 1, "")] * 7
    assert all(r["notification_template"] == nt["id"] and r["body"]["body"].startswith("Test Notification")
               for r in rows)   # a webhook send shows no subject (AWX)
    conn.close()


def _forge(conn: Conn, wfjt: int) -> int:
    """One GitHub delivery with a wrong signature to ``wfjt``, unauthenticated; the status."""
    body = json.dumps({"ref": "refs/heads/main", "head_commit": {"message": "forged"}}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push",
               "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    conn.http.request("POST", f"/api/v2/workflow_job_templates/{wfjt}/github/", body=body, headers=headers)
    resp = conn.http.getresponse()
    resp.read()
    return resp.status


@pytest.mark.slow
def test_forged_deliveries_through_both_workers_are_recorded_up_to_the_cap_in_all(live, org):
    admin = Conn(live)
    status, wfjt = admin.call("POST", "/api/v2/workflow_job_templates/", {
        "name": "forged-target", "organization": org["id"], "webhook_service": "github"})
    assert status == 201, wfjt
    a, b = one_per_worker(live).values()
    if time.time() % 60 > 40:     # the cap is per clock minute: the flood must fit in one
        time.sleep(60.5 - time.time() % 60)
    statuses = [_forge((a, b)[i % 2], wfjt["id"]) for i in range(2 * REJECTED_RECORDS_PER_MINUTE + 10)]
    assert statuses == [403] * len(statuses)
    status, found = admin.call("GET", "/api/v2/activity_stream/?object1=workflow_job_template"
                                      f"&object1_id={wfjt['id']}&object_association=webhook&page_size=200")
    assert status == 200, found
    entries = [e["changes"]["webhook"] for e in found["results"]]
    assert len(entries) == REJECTED_RECORDS_PER_MINUTE, len(entries)   # per process: 2x as many
    assert {(e["service"], e["result"], e["event"]) for e in entries} == {("github", "rejected", "push")}
    # the rest are only counted in the log: one warning for the whole controller
    assert live.stderr().count(CAP_WARNING) == 1, live.stderr()[-3000:]
    status, jobs = admin.call("GET", f"/api/v2/workflow_jobs/?workflow_job_template={wfjt['id']}")
    assert jobs["count"] == 0
    for c in (a, b, admin):
        c.close()


def _arrivals(sink: HttpSink, path: str, count: int, timeout: float = 10) -> float:
    """The monotonic time at which ``sink`` had ``count`` requests to ``path``."""
    deadline = time.monotonic() + timeout
    while sum(r.path == path for r in list(sink.requests)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests reached {path}"
        time.sleep(0.002)
    return time.monotonic()


@pytest.mark.slow
def test_workflow_and_approval_notifications_of_web_worker_requests_leave_at_once(live, org):
    """A workflow launched in a web worker records its ``started`` and its approval's ``running``
    sends inside the launch's transaction (the wake comes before the commit: the parent's sender
    first waits for the write lock, so it sees them); an approval approved in a web worker
    records ``approved`` and the workflow's ``success`` after its commit.  Each reaches the receiver in well under the
    sender's 1 s poll."""
    conn = Conn(live)

    def made(path: str, body: dict) -> dict:
        status, obj = conn.call("POST", path, body)
        assert status in (200, 201), obj
        return obj
    with HttpSink() as sink:
        nts = {name: made("/api/v2/notification_templates/", {
            "name": f"wake-{name}", "organization": org["id"], "notification_type": "webhook",
            "notification_configuration": {"url": f"{sink.url}/{name}", "headers": {}}})["id"]
            for name in ("started", "approvals", "success")}
        wfjt = made("/api/v2/workflow_job_templates/", {"name": "wake-gate", "organization": org["id"]})
        node = made(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", {"identifier": "gate"})
        made(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
             {"name": "Go?", "timeout": 0})
        for group, nt in nts.items():
            status, body = conn.call("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/"
                                             f"notification_templates_{group}/", {"id": nt})
            assert status == 204, body
        t0 = time.monotonic()
        wj = made(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {})["id"]
        started, running = _arrivals(sink, "/started", 1) - t0, _arrivals(sink, "/approvals", 1) - t0
        status, nodes = conn.call("GET", f"/api/v2/workflow_jobs/{wj}/workflow_nodes/")
        approval = nodes["results"][0]["job"]
        t1 = time.monotonic()
        status, body = conn.call("POST", f"/api/v2/workflow_approvals/{approval}/approve/", {})
        assert status == 204, body
        approved, success = _arrivals(sink, "/approvals", 2) - t1, _arrivals(sink, "/success", 1) - t1
        assert max(started, running, approved, success) < 0.6, (started, running, approved, success)
        gate = [r.json() for r in sink.requests if r.path == "/approvals"]
        assert [r.json()["status"] for r in sink.requests if r.path == "/started"] == ["running"]
        assert [r.json()["status"] for r in sink.requests if r.path == "/success"] == ["successful"]
        assert len(gate) == 2
    def recorded() -> list | None:
        """The approval's notification records once none is pending: the sender records a
        delivery's outcome after the receiver has answered, so the test may read before it."""
        status, records = conn.call("GET", f"/api/v2/workflow_approvals/{approval}/notifications/?order_by=id")
        rows = [(r["event"], r["status"]) for r in records["results"]]
        return rows if rows and all(state != "pending" for _, state in rows) else None
    assert wait_until(recorded, 5, "the approval's notification records") == [("running", "successful"),
                                                                            ("approved", "successful")]
    conn.close()

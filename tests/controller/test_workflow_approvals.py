"""Workflow approvals (orchestration.md §2.5, issue 13 items 3 and 4): approve and deny through
the API of real workflow jobs (the edges each decision follows, with real jobs run by
ansible-runner), who may decide (superuser, the workflow template's approval_role and its
parents; execute alone is not enough), a second decision refused, timeouts by the clock (both
``on_timeout`` outcomes, and one through the scheduler's real tick hooks), Turret's quorum (one
vote per user, one deny denies, votes listed with their comments) and cancel of the workflow."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from controller import open_state
from controller.config import Settings
from controller.jobs.scheduler import Scheduler
from controller.services.bootstrap import initialize, system_context
from controller.workflows import approvals
from tests.support.jobs import make_inventory, make_jt, make_org, make_project, uniq

from conftest import ADMIN_PASSWORD  # tests/controller/conftest.py (rootdir-less import)

HELLO = """- hosts: all
  gather_facts: false
  tasks:
    - name: hello
      debug: msg=hello
"""
FINISHED = ("successful", "failed", "error", "canceled")
ALREADY = {"error": "This workflow step has already been approved or denied."}
DENIED = {"detail": "User does not have permission to approve or deny this workflow."}


@pytest.fixture(scope="module")
def app_state(tmp_path_factory):
    """conftest's state without the scheduler thread: the clock-driven work (approval timeouts)
    runs when a test drives it, at the ``now`` the test chooses."""
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data")), "SCHEDULER_ENABLED": False},
                                environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    yield state
    state.store.close()


@pytest.fixture(scope="module")
def ctx(app_state, jobs):
    return system_context(app_state)


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


@pytest.fixture(scope="module")
def jt(admin, app_state, org):
    project = make_project(admin, app_state.settings.data_dir, org, {"hello.yml": HELLO})
    return make_jt(admin, project, make_inventory(admin, org, ["h1"]), "hello.yml")


# -- building workflows through the API ----------------------------------------------------------
def ok(resp, status: int = 201) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.json)
    return resp.json


def make_wfjt(admin, org: dict) -> dict:
    return ok(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"]}))


def add_node(admin, wfjt: dict, template: int | None = None, identifier: str | None = None) -> dict:
    body = {"unified_job_template": template, "identifier": identifier or uniq("node")}
    return ok(admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", body))


def add_approval(admin, wfjt: dict, timeout: int = 0, **template_fields) -> tuple[dict, dict]:
    """An approval node of ``wfjt``: (node, approval template).  ``template_fields`` (Turret's
    required_approvals, on_timeout) are set on the template afterwards, as a user would."""
    node = add_node(admin, wfjt)
    template = ok(admin.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
                             {"name": uniq("gate"), "description": "a human says yes", "timeout": timeout}))
    if template_fields:
        template = ok(admin.patch(f"/api/v2/workflow_approval_templates/{template['id']}/", template_fields), 200)
    return node, template


def link(admin, parent: dict, child: dict, kind: str) -> None:
    ok(admin.post(f"/api/v2/workflow_job_template_nodes/{parent['id']}/{kind}_nodes/", {"id": child["id"]}), 204)


def gated(admin, org: dict, jt: dict, **approval) -> dict:
    """gate (approval) -success-> on_yes (jt), gate -failure-> on_no (jt): both outcomes handled."""
    wfjt = make_wfjt(admin, org)
    gate, template = add_approval(admin, wfjt, **approval)
    yes, no = add_node(admin, wfjt, jt["id"], "on_yes"), add_node(admin, wfjt, jt["id"], "on_no")
    link(admin, gate, yes, "success")
    link(admin, gate, no, "failure")
    return {"wfjt": wfjt, "template": template}


def launch(admin, wfjt: dict) -> dict:
    return ok(admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}))


def job_nodes(admin, workflow_job: int) -> dict[str, dict]:
    """The workflow job's nodes by identifier."""
    body = ok(admin.get(f"/api/v2/workflow_jobs/{workflow_job}/workflow_nodes/?page_size=200"), 200)
    return {n["identifier"]: n for n in body["results"]}


def pending_approval(admin, workflow_job: int, timeout: float = 15) -> dict:
    """The approval the workflow job spawned, once spawned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spawned = [n["job"] for n in job_nodes(admin, workflow_job).values() if n["job"]]
        for pk in spawned:
            found = admin.get(f"/api/v2/workflow_approvals/{pk}/")
            if found.status_code == 200:
                return found.json
        time.sleep(0.05)
    raise AssertionError(f"workflow job {workflow_job} spawned no approval")


def wait_workflow(admin, workflow_job: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = ok(admin.get(f"/api/v2/workflow_jobs/{workflow_job}/"), 200)
        if body["status"] in FINISHED:
            return body
        time.sleep(0.1)
    raise AssertionError(f"workflow job {workflow_job} did not finish: {body.get('status')}")


def approval_row(admin, pk: int) -> dict:
    return ok(admin.get(f"/api/v2/workflow_approvals/{pk}/"), 200)


def votes(admin, pk: int) -> list[dict]:
    return ok(admin.get(f"/api/v2/workflow_approvals/{pk}/votes/?order_by=id"), 200)["results"]


def grant(admin, user_id: int, obj: dict, role: str) -> None:
    ok(admin.post(f"/api/v2/users/{user_id}/roles/", {"id": obj["summary_fields"]["object_roles"][role]["id"]}), 204)


def job_status(admin, node: dict) -> str:
    return ok(admin.get(f"/api/v2/jobs/{node['job']}/"), 200)["status"]


# -- approve and deny ----------------------------------------------------------------------------
def test_approve_follows_the_success_edge(admin, jobs, org, jt):
    flow = gated(admin, org, jt)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    assert approval["status"] == "pending" and approval["failed"] is False
    assert approval["name"] == flow["template"]["name"] and approval["launch_type"] == "workflow"
    assert approval["timed_out"] is False and approval["expires"] is None    # timeout 0: never

    resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {"comment": "ship it"})
    assert resp.status_code == 204, resp.json

    approval = approval_row(admin, approval["id"])
    assert (approval["status"], approval["failed"], approval["timed_out"]) == ("successful", False, False)
    assert approval["finished"] is not None
    assert approval["summary_fields"]["approved_or_denied_by"]["username"] == "admin"
    assert approval["job_explanation"] == "Approved by admin: ship it"
    assert wait_workflow(admin, workflow_job)["status"] == "successful"
    nodes = job_nodes(admin, workflow_job)
    assert job_status(admin, nodes["on_yes"]) == "successful"
    assert nodes["on_no"]["do_not_run"] is True and nodes["on_no"]["job"] is None


def test_deny_follows_the_failure_edge(admin, jobs, org, jt):
    flow = gated(admin, org, jt)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/deny/", {})
    assert resp.status_code == 204, resp.json

    approval = approval_row(admin, approval["id"])
    assert (approval["status"], approval["failed"], approval["timed_out"]) == ("failed", True, False)
    assert approval["job_explanation"] == "Denied by admin."
    assert approval["summary_fields"]["approved_or_denied_by"]["username"] == "admin"
    # the denial is handled by a failure edge: the workflow itself succeeds (AWX's rule)
    assert wait_workflow(admin, workflow_job)["status"] == "successful"
    nodes = job_nodes(admin, workflow_job)
    assert job_status(admin, nodes["on_no"]) == "successful"
    assert nodes["on_yes"]["do_not_run"] is True and nodes["on_yes"]["job"] is None


def test_denial_without_a_handler_fails_the_workflow(admin, jobs, org):
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt)
    workflow_job = launch(admin, wfjt)["id"]
    approval = pending_approval(admin, workflow_job)
    assert admin.post(f"/api/v2/workflow_approvals/{approval['id']}/deny/", {"comment": "no"}).status_code == 204
    finished = wait_workflow(admin, workflow_job)
    assert finished["status"] == "failed"
    assert finished["job_explanation"].startswith("No error handling paths found, marking workflow as failed")


def test_a_second_decision_is_refused(admin, jobs, org):
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    assert admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {}).status_code == 204
    for verb in ("approve", "deny"):
        resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/{verb}/", {})
        assert (resp.status_code, resp.json) == (400, ALREADY)
    assert approval_row(admin, approval["id"])["status"] == "successful"
    assert [v["decision"] for v in votes(admin, approval["id"])] == ["approve"]


def test_a_comment_must_be_text(admin, jobs, org):
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {"comment": {"x": 1}})
    assert (resp.status_code, resp.json) == (400, {"comment": ["Not a valid string."]})
    assert approval_row(admin, approval["id"])["status"] == "pending" and votes(admin, approval["id"]) == []


# -- who may decide ------------------------------------------------------------------------------
def test_execute_alone_may_not_decide(admin, jobs, org, make_user):
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    uid, runner = make_user()
    grant(admin, uid, wfjt, "execute_role")
    assert runner.get(f"/api/v2/workflow_approvals/{approval['id']}/").status_code == 200   # may see it
    for verb in ("approve", "deny"):
        resp = runner.post(f"/api/v2/workflow_approvals/{approval['id']}/{verb}/", {})
        assert (resp.status_code, resp.json) == (403, DENIED)
    assert approval_row(admin, approval["id"])["status"] == "pending"
    assert votes(admin, approval["id"]) == []
    # the permission is checked before the state, as AWX: still 403 once decided
    assert admin.post(f"/api/v2/workflow_approvals/{approval['id']}/deny/", {}).status_code == 204
    resp = runner.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
    assert (resp.status_code, resp.json) == (403, DENIED)


@pytest.mark.parametrize("holder", ["wfjt.approval_role", "wfjt.admin_role", "org.approval_role",
                                    "org.admin_role"])
def test_approval_role_and_its_parents_may_decide(admin, jobs, org, make_user, holder):
    own_org = make_org(admin)
    wfjt = make_wfjt(admin, own_org)
    add_approval(admin, wfjt)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    uid, approver = make_user()
    where, role = holder.split(".")
    grant(admin, uid, wfjt if where == "wfjt" else own_org, role)
    resp = approver.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {"comment": holder})
    assert resp.status_code == 204, resp.json
    decided = approval_row(admin, approval["id"])
    assert decided["status"] == "successful"
    assert decided["summary_fields"]["approved_or_denied_by"]["id"] == uid
    assert [(v["user"], v["decision"], v["comment"]) for v in votes(admin, approval["id"])] == \
        [(uid, "approve", holder)]


def test_approval_role_of_another_workflow_is_not_enough(admin, jobs, org, make_user):
    wfjt, other = make_wfjt(admin, org), make_wfjt(admin, org)
    add_approval(admin, wfjt)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    uid, user = make_user()
    grant(admin, uid, other, "approval_role")
    grant(admin, uid, wfjt, "read_role")
    resp = user.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
    assert (resp.status_code, resp.json) == (403, DENIED)
    assert approval_row(admin, approval["id"])["status"] == "pending"


# -- quorum ----------------------------------------------------------------------------------------
def approvers(admin, make_user, wfjt: dict, count: int) -> list[tuple[int, object]]:
    people = [make_user() for _ in range(count)]
    for uid, _client in people:
        grant(admin, uid, wfjt, "approval_role")
    return people


def test_quorum_needs_distinct_approvers(admin, jobs, org, jt, make_user):
    flow = gated(admin, org, jt, required_approvals=2)
    assert flow["template"]["required_approvals"] == 2
    (first, alice), (second, bob) = approvers(admin, make_user, flow["wfjt"], 2)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    assert approval["required_approvals"] == 2
    url = f"/api/v2/workflow_approvals/{approval['id']}"

    assert alice.post(f"{url}/approve/", {"comment": "looks fine"}).status_code == 204
    still = approval_row(admin, approval["id"])
    assert still["status"] == "pending" and still["summary_fields"].get("approved_or_denied_by") in (None, {})
    resp = alice.post(f"{url}/approve/", {"comment": "again"})       # one vote per user
    assert (resp.status_code, resp.json) == (400, {"error": approvals.ALREADY_VOTED})
    resp = alice.post(f"{url}/deny/", {})                              # changing one's mind is a vote too
    assert (resp.status_code, resp.json) == (400, {"error": approvals.ALREADY_VOTED})
    assert approval_row(admin, approval["id"])["status"] == "pending"

    assert bob.post(f"{url}/approve/", {"comment": "agreed"}).status_code == 204
    decided = approval_row(admin, approval["id"])
    assert decided["status"] == "successful"
    assert decided["summary_fields"]["approved_or_denied_by"]["id"] == second
    listed = votes(admin, approval["id"])
    assert [(v["user"], v["decision"], v["comment"]) for v in listed] == \
        [(first, "approve", "looks fine"), (second, "approve", "agreed")]
    assert all(v["created"] for v in listed)
    assert wait_workflow(admin, workflow_job)["status"] == "successful"
    assert job_nodes(admin, workflow_job)["on_no"]["do_not_run"] is True


def test_one_deny_denies_a_quorum(admin, jobs, org, jt, make_user):
    flow = gated(admin, org, jt, required_approvals=3)
    (first, alice), (second, bob), (_third, _carol) = approvers(admin, make_user, flow["wfjt"], 3)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    url = f"/api/v2/workflow_approvals/{approval['id']}"
    assert alice.post(f"{url}/approve/", {}).status_code == 204
    assert bob.post(f"{url}/deny/", {"comment": "not on a Friday"}).status_code == 204
    decided = approval_row(admin, approval["id"])
    assert (decided["status"], decided["failed"]) == ("failed", True)
    assert decided["job_explanation"] == f"Denied by {ok(admin.get(f'/api/v2/users/{second}/'), 200)['username']}" \
        ": not on a Friday"
    assert decided["summary_fields"]["approved_or_denied_by"]["id"] == second
    assert [(v["user"], v["decision"]) for v in votes(admin, approval["id"])] == \
        [(first, "approve"), (second, "deny")]
    assert wait_workflow(admin, workflow_job)["status"] == "successful"      # handled by on_no
    assert job_status(admin, job_nodes(admin, workflow_job)["on_no"]) == "successful"


def test_simultaneous_votes_conclude_once(admin, jobs, org, make_user, app_state):
    """Three approvers vote at the same moment on a quorum of two: two votes land, the second
    concludes, the third finds it decided; the end is announced once."""
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt, required_approvals=2)
    people = approvers(admin, make_user, wfjt, 3)
    workflow_job = launch(admin, wfjt)["id"]
    approval = pending_approval(admin, workflow_job)
    ended: list[int] = []

    def count_end(ctx, resource: str, pk: int) -> None:
        if resource == "workflow_approval":
            ended.append(pk)

    start, answers = threading.Barrier(len(people)), {}

    def vote(uid: int, client) -> None:
        start.wait()
        resp = client.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
        answers[uid] = (resp.status_code, resp.json)

    app_state.registry.job_end_hooks.append(count_end)
    try:
        threads = [threading.Thread(target=vote, args=person) for person in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        app_state.registry.job_end_hooks.remove(count_end)
    assert sorted(code for code, _body in answers.values()) == [204, 204, 400]
    assert [body for code, body in answers.values() if code == 400] == [ALREADY]
    assert ended.count(approval["id"]) == 1
    assert approval_row(admin, approval["id"])["status"] == "successful"
    voters = {uid for uid, (code, _body) in answers.items() if code == 204}
    assert {v["user"] for v in votes(admin, approval["id"])} == voters
    assert wait_workflow(admin, workflow_job)["status"] == "successful"


def test_required_approvals_is_at_least_one(admin, org):
    wfjt = make_wfjt(admin, org)
    _node, template = add_approval(admin, wfjt)
    assert (template["required_approvals"], template["on_timeout"]) == (1, "deny")
    resp = admin.patch(f"/api/v2/workflow_approval_templates/{template['id']}/", {"required_approvals": 0})
    assert resp.status_code == 400 and "required_approvals" in resp.json
    resp = admin.patch(f"/api/v2/workflow_approval_templates/{template['id']}/", {"on_timeout": "shrug"})
    assert resp.status_code == 400 and "on_timeout" in resp.json


# -- timeouts --------------------------------------------------------------------------------------
def test_timeout_denies_by_default(admin, jobs, org, jt, ctx):
    flow = gated(admin, org, jt, timeout=1)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    expires = datetime.fromisoformat(approval["expires"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(approval["created"].replace("Z", "+00:00"))
    assert timedelta(seconds=0.9) < expires - created < timedelta(seconds=1.1)

    assert approval["id"] not in approvals.expire(ctx, expires - timedelta(milliseconds=10))   # not yet
    assert approval_row(admin, approval["id"])["status"] == "pending"
    assert approval["id"] in approvals.expire(ctx, expires + timedelta(seconds=1))
    assert approval["id"] not in approvals.expire(ctx, expires + timedelta(seconds=2))        # once only

    timed_out = approval_row(admin, approval["id"])
    assert (timed_out["status"], timed_out["failed"], timed_out["timed_out"]) == ("failed", True, True)
    assert timed_out["job_explanation"] == \
        f"The approval node {flow['template']['name']} ({approval['id']}) has expired after 1 seconds."
    assert timed_out["summary_fields"].get("approved_or_denied_by") in (None, {})
    resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
    assert (resp.status_code, resp.json) == (400, ALREADY)
    assert wait_workflow(admin, workflow_job)["status"] == "successful"
    nodes = job_nodes(admin, workflow_job)
    assert job_status(admin, nodes["on_no"]) == "successful" and nodes["on_yes"]["do_not_run"] is True


def test_timeout_may_approve(admin, jobs, org, jt, ctx):
    flow = gated(admin, org, jt, timeout=1, on_timeout="approve")
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    assert approval["on_timeout"] == "approve"
    later = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert approval["id"] in approvals.expire(ctx, later)
    timed_out = approval_row(admin, approval["id"])
    assert (timed_out["status"], timed_out["failed"], timed_out["timed_out"]) == ("successful", False, True)
    assert wait_workflow(admin, workflow_job)["status"] == "successful"
    nodes = job_nodes(admin, workflow_job)
    assert job_status(admin, nodes["on_yes"]) == "successful" and nodes["on_no"]["do_not_run"] is True


def test_timeout_runs_as_a_scheduler_tick_hook(admin, jobs, org, app_state):
    """The scheduler's own step (lease, schedules, tick hooks) at a later ``now`` expires it."""
    assert approvals.expire in app_state.registry.tick_hooks
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt, timeout=1)
    workflow_job = launch(admin, wfjt)["id"]
    approval = pending_approval(admin, workflow_job)
    scheduler = Scheduler(app_state)
    try:
        scheduler.run_once(datetime.now(timezone.utc) + timedelta(seconds=3))
    finally:
        scheduler.stop()
    timed_out = approval_row(admin, approval["id"])
    assert (timed_out["status"], timed_out["timed_out"]) == ("failed", True)
    finished = wait_workflow(admin, workflow_job)        # no handler: the timeout fails the workflow
    assert finished["status"] == "failed"


def test_the_scheduler_thread_expires_approvals_by_the_clock(admin, jobs, org, app_state):
    """Real time, real thread: a 1 s approval times out within a few ticks."""
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt, timeout=1)
    workflow_job = launch(admin, wfjt)["id"]
    approval = pending_approval(admin, workflow_job)
    scheduler = Scheduler(app_state, interval=0.2)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while approval_row(admin, approval["id"])["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    timed_out = approval_row(admin, approval["id"])
    assert (timed_out["status"], timed_out["timed_out"]) == ("failed", True)
    finished = datetime.fromisoformat(timed_out["finished"].replace("Z", "+00:00"))
    assert finished >= datetime.fromisoformat(timed_out["expires"].replace("Z", "+00:00"))
    assert wait_workflow(admin, workflow_job)["status"] == "failed"


def test_a_zero_timeout_never_expires(admin, jobs, org, ctx):
    wfjt = make_wfjt(admin, org)
    add_approval(admin, wfjt, timeout=0)
    approval = pending_approval(admin, launch(admin, wfjt)["id"])
    assert approval["id"] not in approvals.expire(ctx, datetime.now(timezone.utc) + timedelta(days=3650))
    assert approval_row(admin, approval["id"])["status"] == "pending"
    assert admin.post(f"/api/v2/workflow_approvals/{approval['id']}/deny/", {}).status_code == 204


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_of_the_workflow_cancels_its_pending_approval(admin, jobs, org, jt):
    flow = gated(admin, org, jt)
    workflow_job = launch(admin, flow["wfjt"])["id"]
    approval = pending_approval(admin, workflow_job)
    assert admin.post(f"/api/v2/workflow_jobs/{workflow_job}/cancel/", {}).status_code == 202
    finished = wait_workflow(admin, workflow_job)
    assert finished["status"] == "canceled"
    canceled = approval_row(admin, approval["id"])
    assert (canceled["status"], canceled["failed"]) == ("canceled", True)
    nodes = job_nodes(admin, workflow_job)
    assert nodes["on_yes"]["job"] is None and nodes["on_no"]["job"] is None    # nothing ran after it
    resp = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
    assert (resp.status_code, resp.json) == (400, ALREADY)
    assert votes(admin, approval["id"]) == []

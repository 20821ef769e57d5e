"""Status post-back of webhook launches (issue 15 item 4), asserted against a local HTTP server:
real jobs and workflow jobs launched through the real receivers, AWX's exact requests (which
status changes post, the URL, the token header, the states), a dead endpoint that never delays
the job, and a token that never reaches a log."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid

import pytest

from controller.config import Settings
from controller.context import Context
from controller.jobs import launch as launch_module
from controller.services.bootstrap import SYSTEM_USER
from controller.webhooks import status
from tests.support.jobs import (
    make_credential, make_jt, make_stage, type_id, uniq, wait_finished, wait_job, wait_until,
)
from tests.support.receivers import Answer, HttpSink

HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"
FAIL = "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=broken\n"
PLAYBOOKS = {"hello.yml": HELLO, "fail.yml": FAIL}
SHA = "9f1c0de4b4a3e0c1a2b3c4d5e6f708192a3b4c5d"
TOKENS = {"github": "ghp_statusTOKENcanary0001", "gitlab": "glpat-statusTOKENcanary02",
          "bitbucket_dc": "BBDCstatusTOKENcanary0003"}
CRED_TYPES = {"github": "github_token", "gitlab": "gitlab_token", "bitbucket_dc": "bitbucket_dc_token"}


@pytest.fixture
def sink():
    with HttpSink(Answer(status=201, json={"id": 1})) as s:
        yield s


@pytest.fixture
def scene(admin, app_state, jobs):
    """A fresh organization, project, inventory and one token credential per service."""
    stage = make_stage(admin, app_state.settings.data_dir, PLAYBOOKS)
    return {**stage, "creds": {service: make_credential(admin, stage["org"], type_id(admin, ns),
                                                        {"token": TOKENS[service]})
                               for service, ns in CRED_TYPES.items()}}


# -- helpers: a template wired for a service, and real-shaped deliveries -------------------------
def webhook_template(admin, scene: dict, service: str, playbook: str = "hello.yml", credential: bool = True,
                     plural: str = "job_templates") -> tuple[dict, str]:
    """A job template (or a one-node workflow of it) with ``service`` set; (template, its key)."""
    jt = make_jt(admin, scene["project"], scene["inventory"], playbook)
    template = jt
    if plural == "workflow_job_templates":
        resp = admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": scene["org"]["id"]})
        assert resp.status_code == 201, resp.json
        template = resp.json
        node = admin.post(f"/api/v2/workflow_job_templates/{template['id']}/workflow_nodes/",
                          {"unified_job_template": jt["id"]})
        assert node.status_code == 201, node.json
    fields = {"webhook_service": service}
    if credential:
        fields["webhook_credential"] = scene["creds"][service]["id"]
    resp = admin.patch(f"/api/v2/{plural}/{template['id']}/", fields)
    assert resp.status_code == 200, resp.json
    key = admin.get(f"/api/v2/{plural}/{template['id']}/webhook_key/").json["webhook_key"]
    assert len(key) >= 16
    return resp.json, key


def github_pull_request(base: str) -> dict:
    repo = {"full_name": "octo/hello", "html_url": "https://github.com/octo/hello"}
    return {"action": "opened", "number": 7, "repository": repo,
            "pull_request": {"number": 7, "statuses_url": f"{base}/repos/octo/hello/statuses/{SHA}",
                             "head": {"sha": SHA, "ref": "feature"}, "base": {"ref": "main", "repo": repo}}}


def gitlab_merge_request(base: str) -> dict:
    return {"object_kind": "merge_request", "project": {"id": 42, "web_url": f"{base}/group/hello"},
            "object_attributes": {"iid": 3, "last_commit": {"id": SHA}, "source_branch": "feature"}}


def bitbucket_pr_opened(base: str) -> dict:
    return {"eventKey": "pr:opened", "actor": {"name": "dev", "links": {"self": [{"href": f"{base}/users/dev"}]}},
            "pullRequest": {"id": 5, "toRef": {"id": "refs/heads/main", "latestCommit": SHA},
                            "fromRef": {"id": "refs/heads/feature", "latestCommit": "1" * 40}}}


def deliver(client, plural: str, pk: int, service: str, key: str, payload: dict, event: str = "") -> dict:
    """POST a signed delivery to the template's receiver; the 202 body."""
    body = json.dumps(payload).encode()
    guid = str(uuid.uuid4())
    if service == "github":
        headers = {"X-GitHub-Event": event or "pull_request", "X-GitHub-Delivery": guid,
                   "X-Hub-Signature-256": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}
    elif service == "gitlab":
        headers = {"X-Gitlab-Event": event or "Merge Request Hook", "X-Gitlab-Token": key}
    else:
        headers = {"X-Event-Key": event or "pr:opened", "X-Request-Id": guid,
                   "X-Hub-Signature": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}
    resp = client.post(f"/api/v2/{plural}/{pk}/{service}/", data=body,
                       headers={"Content-Type": "application/json", **headers})
    assert resp.status_code == 202, resp.json
    return resp.json


def posts(sink: HttpSink, count: int, timeout: float = 20) -> list:
    """The sink's first ``count`` requests once that many arrived (and no more shortly after)."""
    got = wait_until(lambda: len(sink.requests) >= count and sink.requests, timeout, f"{count} status posts")
    time.sleep(0.5)
    assert len(sink.requests) == count, [(r.path, r.body) for r in sink.requests]
    return got[:count]


def job_page(app_state, kind: str, pk: int) -> str:
    page = {"job": "jobs", "workflow_job": "workflow_jobs"}[kind]
    return f"http://{app_state.settings.HOST}:{app_state.settings.PORT}/ui/{page}/{pk}"


# -- the pure parts: AWX's state tables -------------------------------------------------------------
def test_states_and_headers_are_awx_s():
    expect = {  # status -> (github, gitlab, bitbucket_dc); None: AWX posts nothing
        "pending": ("pending", "pending", "INPROGRESS"), "running": (None, "running", "INPROGRESS"),
        "successful": ("success", "success", "SUCCESSFUL"), "failed": ("failure", "failed", "FAILED"),
        "error": ("error", "failed", "FAILED"), "canceled": ("failure", "canceled", "FAILED"),
        "waiting": (None, None, None),
    }
    for job_status, states in expect.items():
        for service, state in zip(("github", "gitlab", "bitbucket_dc"), states):
            post = status.build_post(service, "https://scm.example.com/s", job_status, "tok", "http://t/ui/jobs/1")
            assert (post.body["state"] if post else None) == state, (service, job_status)
    auth = {s: status.build_post(s, "https://x/s", "pending", "tok", "u").headers for s in status.STATES}
    assert auth["github"]["Authorization"] == "token tok" and auth["gitlab"]["PRIVATE-TOKEN"] == "tok"
    assert auth["bitbucket_dc"]["Authorization"] == "Bearer tok" and "Authorization" not in auth["gitlab"]
    assert status.build_post("github", "", "pending", "tok", "u") is None       # no status URL: nothing
    post = status.build_post("github", "https://api.github.com/repos/o/r/statuses/1?x=1", "pending", "tok", "u",
                             base="http://127.0.0.1:9/api/v3/")
    assert post.url == "http://127.0.0.1:9/api/v3/repos/o/r/statuses/1?x=1"
    assert "tok" not in repr(post)


# -- real launches --------------------------------------------------------------------------------
def test_github_pull_request_posts_pending_then_success(admin, app_state, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "github")
    job_id = deliver(anon, "job_templates", jt["id"], "github", key, github_pull_request(sink.url))["job"]
    job = wait_job(admin, job_id)
    assert job["status"] == "successful" and job["launch_type"] == "webhook"
    sent = posts(sink, 2)
    assert [(r.method, r.path) for r in sent] == [("POST", f"/repos/octo/hello/statuses/{SHA}")] * 2
    assert all(r.headers["authorization"] == f"token {TOKENS['github']}" for r in sent)
    assert all(r.headers["content-type"] == "application/json" for r in sent)
    url = job_page(app_state, "job", job_id)
    assert [r.json() for r in sent] == [
        {"state": "pending", "context": "ansible/awx", "target_url": url,
         "description": f"{jt['name']} #{job_id}: pending"},
        {"state": "success", "context": "ansible/awx", "target_url": url,
         "description": f"{jt['name']} #{job_id}: successful"}]


def test_github_failure_and_events_without_a_status_url(admin, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "github", "fail.yml")
    job_id = deliver(anon, "job_templates", jt["id"], "github", key, github_pull_request(sink.url))["job"]
    assert wait_job(admin, job_id)["status"] == "failed"
    assert [r.json()["state"] for r in posts(sink, 2)] == ["pending", "failure"]
    # a push carries no statuses_url: AWX posts nothing (and neither does Turret)
    push = {"ref": "refs/heads/main", "after": SHA, "repository": {"full_name": "octo/hello"}}
    job_id = deliver(anon, "job_templates", jt["id"], "github", key, push, event="push")["job"]
    wait_job(admin, job_id)
    time.sleep(1.0)
    assert len(sink.requests) == 2


def test_gitlab_merge_request_posts_pending_running_success(admin, app_state, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "gitlab")
    job_id = deliver(anon, "job_templates", jt["id"], "gitlab", key, gitlab_merge_request(sink.url))["job"]
    assert wait_job(admin, job_id)["status"] == "successful"
    sent = posts(sink, 3)
    assert {r.path for r in sent} == {f"/api/v4/projects/42/statuses/{SHA}"}
    assert all(r.headers["private-token"] == TOKENS["gitlab"] and "authorization" not in r.headers for r in sent)
    assert [r.json()["state"] for r in sent] == ["pending", "running", "success"]
    assert {(r.json()["context"], r.json()["target_url"]) for r in sent} == {
        ("ansible/awx", job_page(app_state, "job", job_id))}


def test_bitbucket_dc_pr_posts_build_status(admin, app_state, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "bitbucket_dc", "fail.yml")
    job_id = deliver(anon, "job_templates", jt["id"], "bitbucket_dc", key, bitbucket_pr_opened(sink.url))["job"]
    assert wait_job(admin, job_id)["status"] == "failed"
    sent = posts(sink, 3)
    assert {r.path for r in sent} == {f"/rest/build-status/1.0/commits/{SHA}"}
    assert all(r.headers["authorization"] == f"Bearer {TOKENS['bitbucket_dc']}" for r in sent)
    url = job_page(app_state, "job", job_id)
    assert [(b["state"], b["key"], b["url"]) for b in (r.json() for r in sent)] == [
        ("INPROGRESS", "ansible/awx", url), ("INPROGRESS", "ansible/awx", url), ("FAILED", "ansible/awx", url)]


def test_a_workflow_job_posts_its_own_status(admin, app_state, scene, sink, anon):
    wf, key = webhook_template(admin, scene, "github", plural="workflow_job_templates")
    answer = deliver(anon, "workflow_job_templates", wf["id"], "github", key, github_pull_request(sink.url))
    assert answer["type"] == "workflow_job"
    wf_job_id = answer["job"]
    wf_job = wait_finished(admin, f"/api/v2/workflow_jobs/{wf_job_id}/", timeout=60, processed=False)
    assert wf_job["status"] == "successful"
    # the workflow job posts; the job its node spawned (launch_type workflow) does not
    sent = posts(sink, 2)
    url = job_page(app_state, "workflow_job", wf_job_id)
    assert [(r.json()["state"], r.json()["target_url"]) for r in sent] == [("pending", url), ("success", url)]


def test_no_credential_or_a_manual_launch_posts_nothing(admin, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "github", credential=False)
    wait_job(admin, deliver(anon, "job_templates", jt["id"], "github", key, github_pull_request(sink.url))["job"])
    jt2, _key = webhook_template(admin, scene, "github")
    resp = admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {})
    assert resp.status_code == 201, resp.json
    wait_job(admin, resp.json["id"])
    time.sleep(1.0)
    assert sink.requests == []


def test_a_dead_endpoint_never_delays_the_job(admin, app_state, scene, anon, monkeypatch, caplog):
    monkeypatch.setattr(status, "TIMEOUT", 20.0)
    with HttpSink(Answer(delay=15)) as slow:
        jt, key = webhook_template(admin, scene, "github")
        began = time.monotonic()
        job_id = deliver(anon, "job_templates", jt["id"], "github", key, github_pull_request(slow.url))["job"]
        job = wait_job(admin, job_id, timeout=30)
        # the job ended while its pending post was still waiting for an answer (on the job's
        # path that post alone would have held the job for 15 s)
        assert job["status"] == "successful" and time.monotonic() - began < 12
        assert len(slow.requests) == 1 and not status.settled(app_state.store, "job", job_id)
    with HttpSink() as gone:
        refused = gone.url
    caplog.set_level(logging.DEBUG)
    jt, key = webhook_template(admin, scene, "github")
    job_id = deliver(anon, "job_templates", jt["id"], "github", key, github_pull_request(refused))["job"]
    assert wait_job(admin, job_id)["status"] == "successful"
    wait_until(lambda: status.settled(app_state.store, "job", job_id), 10, "the post-backs to end")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "turret.webhooks")
    assert f"job {job_id}" in logged and "127.0.0.1" in logged
    assert TOKENS["github"] not in caplog.text


def test_error_answers_are_logged_without_the_token(admin, app_state, scene, anon, caplog):
    caplog.set_level(logging.DEBUG)
    with HttpSink(Answer(status=401, json={"message": f"Bad credentials {TOKENS['gitlab']}"})) as rude:
        jt, key = webhook_template(admin, scene, "gitlab")
        job_id = deliver(anon, "job_templates", jt["id"], "gitlab", key, gitlab_merge_request(rude.url))["job"]
        assert wait_job(admin, job_id)["status"] == "successful"
        posts(rude, 3)
        wait_until(lambda: status.settled(app_state.store, "job", job_id), 10, "the post-backs to end")
    assert "answered 401" in caplog.text and TOKENS["gitlab"] not in caplog.text
    body = json.dumps([admin.get(f"/api/v2/jobs/{job_id}/").json, admin.get("/api/v2/activity_stream/").json])
    assert TOKENS["gitlab"] not in body


def system(app_state, **settings) -> Context:
    return Context(store=app_state.store, registry=app_state.registry, vault=app_state.vault,
                   settings=Settings({"DATA_DIR": app_state.settings.DATA_DIR, **settings}, environ={}),
                   user=dict(SYSTEM_USER))


def test_the_status_api_url_setting_replaces_the_event_s_origin(admin, app_state, scene, sink, anon):
    jt, key = webhook_template(admin, scene, "github", credential=False)
    job_id = deliver(anon, "job_templates", jt["id"], "github", key,
                     github_pull_request("https://api.github.com"))["job"]
    wait_job(admin, job_id)
    with app_state.store.transaction():   # as if the template had had the credential
        app_state.store.execute("UPDATE jobs SET webhook_credential = ? WHERE id = ?",
                                (scene["creds"]["github"]["id"], job_id))
    code = status.deliver(system(app_state, WEBHOOK_STATUS_API_URL=sink.url + "/api/v3"), "job", job_id,
                          "successful")
    assert code == 201
    assert [(r.path, r.json()["state"]) for r in sink.requests] == [
        (f"/api/v3/repos/octo/hello/statuses/{SHA}", "success")]


def webhook_launch(app_state, jt: dict, status_api: str) -> dict:
    """What the receiver does inside its transaction: a webhook launch of ``jt``."""
    return launch_module.launch_job(system(app_state), app_state.store.get("job_templates", jt["id"]), {},
                                    launch_type="webhook", trusted=True, extra_fields={
                                        "webhook_service": "github", "webhook_guid": uniq("guid"),
                                        "webhook_credential": jt["webhook_credential"],
                                        "webhook_status_context": {"service": "github", "status_api": status_api}})[0]


def test_the_creation_post_waits_for_the_commit(admin, app_state, scene, sink):
    jt, _key = webhook_template(admin, scene, "github")
    created: list[int] = []
    with pytest.raises(RuntimeError):
        with app_state.store.transaction():
            created.append(webhook_launch(app_state, jt, sink.url + "/rolled-back")["id"])   # records "pending"
            assert not status.settled(app_state.store, "job", created[0])
            raise RuntimeError("the launch failed after the insert")
    assert app_state.store.get("jobs", created[0]) is None
    assert status.settled(app_state.store, "job", created[0])   # the record rolled back with the job
    time.sleep(1.5)                     # beyond the poster's poll
    assert sink.requests == []          # no status for a job that never existed
    with app_state.store.transaction():
        job = webhook_launch(app_state, jt, sink.url + "/late")
        time.sleep(0.5)                 # a slow commit: the post must not read "no such job" and give up
    assert wait_job(admin, job["id"])["status"] == "successful"
    assert [(r.path, r.json()["state"]) for r in posts(sink, 2)] == [("/late", "pending"), ("/late", "success")]

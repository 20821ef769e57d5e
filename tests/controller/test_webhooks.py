"""Inbound webhooks (issue 15 items 1, 2, 3, 5): AWX's GitHub / GitLab / Bitbucket DC receivers on
job templates, workflow job templates and projects, the generic receiver, keys, filters, limits.

Deliveries are the recorded real-shaped payloads of ``webhook_payloads/``, signed as each service
signs them, posted without any authentication.  Jobs run for real (ansible-runner, local hosts).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from controller import open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
from controller.webhooks import receive
from controller.webhooks.receive import REJECTED_RECORDS_PER_MINUTE
from tests.support.jobs import (
    make_inventory, make_jt, make_org, make_project, set_survey, strip_ansi, uniq, wait_finished, wait_job,
)

from conftest import ADMIN_PASSWORD  # tests/controller/conftest.py (rootdir-less import)

PAYLOADS = Path(__file__).parent / "webhook_payloads"
LOOKUP = "{{ lookup('pipe', 'id') }}"
PLAY = ("- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - debug: msg=\"event={{ awx_webhook_event_type }} ref={{ awx_webhook_event_ref }}\"\n"
        "    - debug: msg=\"message={{ awx_webhook_payload.head_commit.message | default('none') }}\"\n"
        "    - set_fact:\n        copied: \"{{ awx_webhook_payload.head_commit.message | default('none') }}\"\n"
        "    - debug: msg=\"copied={{ copied }}\"\n"
        "    - debug: msg=\"alert={{ alert_name | default('unset') }}\"\n")
RATE_LIMIT = 3


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def sign(key: str, body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + hmac.new(key.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def github_headers(key: str, body: bytes, event: str, guid: str | None = None, algorithm: str = "sha256") -> dict:
    header = "X-Hub-Signature-256" if algorithm == "sha256" else "X-Hub-Signature"
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": guid or str(uuid.uuid4()), header: sign(key, body, algorithm),
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/1"}


def gitlab_headers(key: str, event: str) -> dict:
    return {"X-Gitlab-Event": event, "X-Gitlab-Token": key, "Content-Type": "application/json"}


def bitbucket_headers(key: str, body: bytes, event: str, algorithm: str = "sha256") -> dict:
    return {"X-Event-Key": event, "X-Request-Id": str(uuid.uuid4()), "X-Hub-Signature": sign(key, body, algorithm),
            "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def app_state(tmp_path_factory):
    """The shared fixture's state with a small rate limit, a small body limit and local git URLs."""
    settings = Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data")), "WEBHOOK_RATE_LIMIT": RATE_LIMIT,
                         "WEBHOOK_MAX_BODY_BYTES": 256 * 1024, "ALLOW_LOCAL_SCM_URLS": True}, environ={})
    state = open_state(settings)
    initialize(state, ADMIN_PASSWORD, demo=False)
    yield state
    state.store.close()


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


@pytest.fixture(scope="module")
def inv(admin, org):
    return make_inventory(admin, org, ["h1"])


@pytest.fixture(scope="module")
def project(admin, app_state, org):
    return make_project(admin, app_state.settings.data_dir, org, {"hook.yml": PLAY})


@pytest.fixture
def hook_jt(admin, project, inv):
    """make(service, **fields) -> (template, key)."""
    def make(service: str = "github", **fields) -> tuple[dict, str]:
        jt = make_jt(admin, project, inv, "hook.yml", webhook_service=service, **fields)
        return jt, key_of(admin, "job_templates", jt["id"])
    return make


def key_of(client, plural: str, pk: int) -> str:
    resp = client.get(f"/api/v2/{plural}/{pk}/webhook_key/")
    assert resp.status_code == 200, resp.json
    return resp.json["webhook_key"]


def deliver(anon, url: str, body: bytes, headers: dict):
    return anon.request("POST", url, data=body, headers=headers)


def jobs_of(admin, jt_id: int) -> list[dict]:
    return admin.get(f"/api/v2/jobs/?job_template={jt_id}&order_by=id").json["results"]


def deliveries(admin, resource: str, pk: int) -> list[dict]:
    found = admin.get(f"/api/v2/activity_stream/?object1={resource}&object1_id={pk}&object_association=webhook"
                      "&order_by=id&page_size=200").json["results"]
    return [e["changes"]["webhook"] for e in found]


def stdout(admin, job_id: int) -> str:
    return strip_ansi(admin.get(f"/api/v2/jobs/{job_id}/stdout/?format=txt").data.decode())


# -- keys -----------------------------------------------------------------------------------------
def test_a_key_is_generated_hidden_and_rotated_by_admins_only(admin, hook_jt, make_user, org):
    jt, key = hook_jt("github")
    assert len(key) == 50 and key.isalnum()
    body = admin.get(f"/api/v2/job_templates/{jt['id']}/").json
    assert "webhook_key" not in body and key not in json.dumps(body)
    assert body["related"]["webhook_key"] == f"/api/v2/job_templates/{jt['id']}/webhook_key/"
    assert body["related"]["webhook_receiver"] == f"/api/v2/job_templates/{jt['id']}/github/"
    assert admin.get(f"/api/v2/job_templates/?webhook_key={key}").status_code == 403
    # rotate: a new generated key; set: the user's own
    rotated = admin.post(f"/api/v2/job_templates/{jt['id']}/webhook_key/", {})
    assert rotated.status_code == 201 and rotated.json["webhook_key"] != key and len(rotated.json["webhook_key"]) == 50
    assert key_of(admin, "job_templates", jt["id"]) == rotated.json["webhook_key"]
    mine = "my-own-key-0123456789"
    assert admin.post(f"/api/v2/job_templates/{jt['id']}/webhook_key/", {"webhook_key": mine}).status_code == 201
    assert key_of(admin, "job_templates", jt["id"]) == mine
    short = admin.post(f"/api/v2/job_templates/{jt['id']}/webhook_key/", {"webhook_key": "short"})
    assert short.status_code == 400 and list(short.json) == ["webhook_key"]
    assert key_of(admin, "job_templates", jt["id"]) == mine
    # execute and read users see the template, not the key; nor may they rotate it
    for role in ("execute_role", "read_role"):
        uid, user = make_user()
        roles = admin.get(f"/api/v2/job_templates/{jt['id']}/object_roles/?role_field={role}").json
        role_id = roles["results"][0]["id"]
        assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id}).status_code == 204
        assert user.get(f"/api/v2/job_templates/{jt['id']}/").status_code == 200
        for method in ("GET", "POST"):
            resp = user.request(method, f"/api/v2/job_templates/{jt['id']}/webhook_key/",
                                json={} if method == "POST" else None)
            assert resp.status_code == 403 and "webhook_key" not in resp.json, (role, method)
    assert key_of(admin, "job_templates", jt["id"]) == mine
    # the stream says the key changed, never what it is
    text = json.dumps(admin.get(f"/api/v2/job_templates/{jt['id']}/activity_stream/").json)
    assert mine not in text and key not in text and rotated.json["webhook_key"] not in text


def test_copy_gets_its_own_key_and_filters_are_validated(admin, hook_jt):
    jt, key = hook_jt("gitlab")
    copy = admin.post(f"/api/v2/job_templates/{jt['id']}/copy/", {"name": uniq("copy")})
    assert copy.status_code == 201, copy.json
    assert key_of(admin, "job_templates", copy.json["id"]) not in ("", key)
    bad = admin.patch(jt["url"], {"webhook_extractors": {"awx_x": "a.b"}})
    assert bad.status_code == 400 and list(bad.json) == ["webhook_extractors"]
    bad = admin.patch(jt["url"], {"webhook_extractors": ["a"]})
    assert bad.status_code == 400 and list(bad.json) == ["webhook_extractors"]
    bad = admin.patch(jt["url"], {"webhook_events": "push;rm -rf"})
    assert bad.status_code == 400 and list(bad.json) == ["webhook_events"]
    ok = admin.patch(jt["url"], {"webhook_events": "Push Hook, Merge Request Hook",
                                 "webhook_ref_filter": "refs/heads/*",
                                 "webhook_extractors": {"host": "object_attributes.url"}})
    assert ok.status_code == 200 and ok.json["webhook_extractors"] == {"host": "object_attributes.url"}


# -- GitHub: launch, extra vars, unsafe payload -----------------------------------------------
@pytest.mark.slow
def test_github_push_launches_a_job_whose_vars_carry_the_event_as_text(admin, anon, jobs, hook_jt):
    jt, key = hook_jt("github")
    body = payload("github_push")
    guid = str(uuid.uuid4())
    resp = deliver(anon, f"/api/v2/job_templates/{jt['id']}/github/", body, github_headers(key, body, "push", guid))
    assert resp.status_code == 202, resp.json
    assert resp.json["message"] == "Job queued." and resp.json["type"] == "job"
    job = wait_job(admin, resp.json["job"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful", text
    assert job["launch_type"] == "webhook" and job["webhook_service"] == "github" and job["webhook_guid"] == guid
    extra = json.loads(job["extra_vars"])
    sent = json.loads(body)
    for prefix in ("awx", "tower"):
        assert extra[f"{prefix}_webhook_event_type"] == "push"
        assert extra[f"{prefix}_webhook_event_guid"] == guid
        assert extra[f"{prefix}_webhook_event_ref"] == sent["after"]
        assert extra[f"{prefix}_webhook_status_api"] is None
        assert extra[f"{prefix}_webhook_payload"] == sent
    # the Jinja in the commit message reached the playbook as text and never ran
    assert f"event=push ref={sent['after']}" in text
    assert f"message=Update README {LOOKUP}" in text and f"copied=Update README {LOOKUP}" in text
    assert "uid=" not in text


def test_survey_defaults_apply_to_a_webhook_launch(admin, anon, jobs, hook_jt):
    """A webhook answers no survey: the defaults apply as AWX does (a password one stays secret)."""
    jt, key = hook_jt("github")
    set_survey(admin, jt, [
        {"question_name": "Region", "variable": "region", "type": "text", "required": True, "default": "eu-west"},
        {"question_name": "Token", "variable": "api_token", "type": "password", "required": True,
         "default": "hook-s3cret-77"}])
    body = payload("github_push")
    resp = deliver(anon, f"/api/v2/job_templates/{jt['id']}/github/", body, github_headers(key, body, "push"))
    assert resp.status_code == 202, resp.json
    job = wait_job(admin, resp.json["job"])
    assert job["status"] == "successful", stdout(admin, job["id"])
    extra = json.loads(job["extra_vars"])
    assert extra["region"] == "eu-west" and extra["api_token"] == "$encrypted$"
    assert extra["awx_webhook_event_type"] == "push"
    assert "hook-s3cret-77" not in json.dumps(admin.get(f"/api/v2/jobs/{job['id']}/").json)


@pytest.mark.slow
def test_github_pull_request_with_sha1_signature_launches(admin, anon, jobs, hook_jt):
    jt, key = hook_jt("github")
    body = payload("github_pull_request")
    resp = deliver(anon, f"/api/v2/job_templates/{jt['id']}/github/", body,
                   github_headers(key, body, "pull_request", algorithm="sha1"))
    assert resp.status_code == 202, resp.json
    job = wait_job(admin, resp.json["job"])
    extra = json.loads(job["extra_vars"])
    pr = json.loads(body)["pull_request"]
    assert extra["awx_webhook_event_ref"] == pr["head"]["sha"]
    assert extra["awx_webhook_status_api"] == pr["statuses_url"]
    assert job["status"] == "successful"


def test_bad_or_missing_signature_and_wrong_service_launch_nothing(admin, anon, hook_jt):
    jt, key = hook_jt("github")
    url = f"/api/v2/job_templates/{jt['id']}/github/"
    body = payload("github_push")
    wrong = github_headers("not-the-key", body, "push")
    assert deliver(anon, url, body, wrong).status_code == 403
    tampered = github_headers(key, body, "push")
    assert deliver(anon, url, body.replace(b"Update README", b"Update READMF"), tampered).status_code == 403
    missing = {k: v for k, v in github_headers(key, body, "push").items() if not k.startswith("X-Hub")}
    resp = deliver(anon, url, body, missing)
    assert resp.status_code == 401 and resp.headers.get("WWW-Authenticate")
    # the GitLab receiver of a GitHub template, and an unknown template: 403
    assert deliver(anon, f"/api/v2/job_templates/{jt['id']}/gitlab/", payload("gitlab_push_hook"),
                   gitlab_headers(key, "Push Hook")).status_code == 403
    assert deliver(anon, "/api/v2/job_templates/999999/github/", body,
                   github_headers(key, body, "push")).status_code == 403
    assert jobs_of(admin, jt["id"]) == []
    results = [d["result"] for d in deliveries(admin, "job_template", jt["id"])]
    assert results == ["rejected"] * 4
    text = json.dumps(deliveries(admin, "job_template", jt["id"]))
    assert key not in text and "sha256=" not in text and "Hello-World" not in text


@pytest.fixture
def minute(monkeypatch):
    """The rejection cap's clock, pinned to the start of a minute (``minute[0]``: seconds)."""
    now = [float(int(time.time() // 60) * 60 + 60 * 1000)]
    monkeypatch.setattr(receive, "clock", lambda: now[0])
    return now


def test_a_flood_of_forged_deliveries_is_recorded_only_up_to_a_bound(admin, anon, hook_jt, minute):
    """Unauthenticated rejections cannot grow the activity stream without bound."""
    jt, _key = hook_jt("github")
    body = payload("github_push")
    url = f"/api/v2/job_templates/{jt['id']}/github/"
    for _ in range(REJECTED_RECORDS_PER_MINUTE + 15):
        assert deliver(anon, url, body, github_headers("forged", body, "push")).status_code == 403
    results = [d["result"] for d in deliveries(admin, "job_template", jt["id"])]
    assert results == ["rejected"] * REJECTED_RECORDS_PER_MINUTE
    assert jobs_of(admin, jt["id"]) == []


def _rejection_rows(state, jt_id: int) -> list[tuple[int, int]]:
    return [tuple(r) for r in state.store.query(
        "SELECT minute, seen FROM webhook_rejections WHERE resource = 'job_template' AND object_id = ? "
        "ORDER BY minute", (jt_id,))]


def test_the_rejection_cap_is_counted_per_clock_minute_in_the_database(admin, anon, hook_jt, app_state, minute,
                                                                        caplog):
    """The cap is counted in the database (shared by every process: test_serving_wakes.py proves it
    under a real multi-process server); past it a process stops writing for the rest of the minute;
    a new minute records again; rows of old minutes are deleted."""
    jt, _key = hook_jt("github")
    other, _ = hook_jt("github")
    body = payload("github_push")

    def forge(pk: int, times: int) -> None:
        for _ in range(times):
            resp = deliver(anon, f"/api/v2/job_templates/{pk}/github/", body, github_headers("forged", body, "push"))
            assert resp.status_code == 403
    start = int(minute[0] // 60)
    with caplog.at_level("WARNING", logger="turret.webhooks"):
        forge(jt["id"], REJECTED_RECORDS_PER_MINUTE + 10)
    assert len(deliveries(admin, "job_template", jt["id"])) == REJECTED_RECORDS_PER_MINUTE
    # one count past the cap, then nothing written: the process remembers the minute is full
    assert _rejection_rows(app_state, jt["id"]) == [(start, REJECTED_RECORDS_PER_MINUTE + 1)]
    assert [r.getMessage() for r in caplog.records].count(
        f"webhook: more than {REJECTED_RECORDS_PER_MINUTE} rejected deliveries a minute to job_template "
        f"{jt['id']}; not recording them all") == 1
    minute[0] += 59.5      # still the same minute
    forge(jt["id"], 3)
    assert len(deliveries(admin, "job_template", jt["id"])) == REJECTED_RECORDS_PER_MINUTE
    minute[0] += 1.0       # a new minute records again
    forge(jt["id"], 5)
    assert len(deliveries(admin, "job_template", jt["id"])) == REJECTED_RECORDS_PER_MINUTE + 5
    assert _rejection_rows(app_state, jt["id"]) == [(start, REJECTED_RECORDS_PER_MINUTE + 1), (start + 1, 5)]
    minute[0] += 120       # two minutes later: the first row of a minute forgets every older one
    forge(other["id"], 1)
    assert _rejection_rows(app_state, jt["id"]) == []
    assert _rejection_rows(app_state, other["id"]) == [(start + 3, 1)]
    assert app_state.store.scalar("SELECT COUNT(*) FROM webhook_rejections WHERE minute < ?", (start + 2,)) == 0


def test_duplicate_guid_is_not_launched_twice(admin, anon, hook_jt):
    jt, key = hook_jt("github")
    body = payload("github_push")
    headers = github_headers(key, body, "push")
    url = f"/api/v2/job_templates/{jt['id']}/github/"
    first = deliver(anon, url, body, headers)
    assert first.status_code == 202 and first.json["message"] == "Job queued."
    again = deliver(anon, url, body, headers)
    assert again.status_code == 202 and again.json == {"message": "Webhook previously received, aborting."}
    assert [j["id"] for j in jobs_of(admin, jt["id"])] == [first.json["job"]]
    recorded = deliveries(admin, "job_template", jt["id"])
    assert [d["result"] for d in recorded] == ["launched", "duplicate"]
    assert recorded[0]["job"] == first.json["job"] and recorded[0]["guid"] == headers["X-GitHub-Delivery"]
    assert recorded[0]["event"] == "push" and recorded[0]["ref"] == "refs/heads/main"
    text = json.dumps(recorded)        # facts only: no key, signature or payload
    assert key not in text and headers["X-Hub-Signature-256"] not in text and "Hello-World" not in text


def test_ping_and_filtered_events_or_refs_are_ignored(admin, anon, hook_jt):
    jt, key = hook_jt("github", webhook_events="push", webhook_ref_filter="refs/heads/release-*")
    url = f"/api/v2/job_templates/{jt['id']}/github/"
    ping = payload("github_ping")
    resp = deliver(anon, url, ping, github_headers(key, ping, "ping"))
    assert resp.status_code == 200 and resp.json == {"message": "Webhook ignored", "reason": "ping event"}
    pr = payload("github_pull_request")
    resp = deliver(anon, url, pr, github_headers(key, pr, "pull_request"))
    assert resp.status_code == 200 and resp.json["reason"] == "event pull_request is not in webhook_events"
    push = payload("github_push")
    resp = deliver(anon, url, push, github_headers(key, push, "push"))
    assert resp.status_code == 200
    assert resp.json["reason"] == "ref refs/heads/main does not match webhook_ref_filter"
    assert jobs_of(admin, jt["id"]) == []
    assert admin.patch(jt["url"], {"webhook_ref_filter": "refs/heads/main"}).status_code == 200
    resp = deliver(anon, url, push, github_headers(key, push, "push"))
    assert resp.status_code == 202 and len(jobs_of(admin, jt["id"])) == 1
    # a pull request is filtered on its target branch
    assert admin.patch(jt["url"], {"webhook_events": "push,pull_request"}).status_code == 200
    resp = deliver(anon, url, pr, github_headers(key, pr, "pull_request"))
    assert resp.status_code == 202, resp.json
    assert [d["result"] for d in deliveries(admin, "job_template", jt["id"])] == \
        ["ignored", "ignored", "ignored", "launched", "launched"]


# -- GitLab and Bitbucket DC -------------------------------------------------------------------
def test_gitlab_push_and_merge_request(admin, anon, hook_jt):
    jt, key = hook_jt("gitlab")
    url = f"/api/v2/job_templates/{jt['id']}/gitlab/"
    push = payload("gitlab_push_hook")
    resp = deliver(anon, url, push, gitlab_headers(key, "Push Hook"))
    assert resp.status_code == 202, resp.json
    job = admin.get(f"/api/v2/jobs/{resp.json['job']}/").json
    extra = json.loads(job["extra_vars"])
    assert job["webhook_guid"] == hashlib.sha1(push).hexdigest()          # AWX: GitLab's GUID is the body's sha1
    assert extra["awx_webhook_event_ref"] == json.loads(push)["checkout_sha"]
    assert extra["awx_webhook_status_api"] == \
        f"http://example.com/api/v4/projects/15/statuses/{json.loads(push)['checkout_sha']}"
    assert deliver(anon, url, push, gitlab_headers(key, "Push Hook")).json["message"].startswith("Webhook previously")
    mr = payload("gitlab_merge_request_hook")
    resp = deliver(anon, url, mr, gitlab_headers(key, "Merge Request Hook"))
    assert resp.status_code == 202
    extra = json.loads(admin.get(f"/api/v2/jobs/{resp.json['job']}/").json["extra_vars"])
    assert extra["tower_webhook_event_ref"] == json.loads(mr)["object_attributes"]["last_commit"]["id"]
    assert deliver(anon, url, mr, gitlab_headers("x" * 50, "Merge Request Hook")).status_code == 403
    assert len(jobs_of(admin, jt["id"])) == 2


def test_bitbucket_dc_events_ping_and_signatures(admin, anon, hook_jt):
    jt, key = hook_jt("bitbucket_dc")
    url = f"/api/v2/job_templates/{jt['id']}/bitbucket_dc/"
    ping = payload("bitbucket_dc_ping")
    resp = deliver(anon, url, ping, {"X-Event-Key": "diagnostics:ping", "X-Request-Id": "p1",
                                     "Content-Type": "application/json"})
    assert resp.status_code == 200 and resp.json["message"] == "Webhook ignored"
    refs = payload("bitbucket_dc_refs_changed")
    resp = deliver(anon, url, refs, bitbucket_headers(key, refs, "repo:refs_changed", "sha1"))
    assert resp.status_code == 202, resp.json
    extra = json.loads(admin.get(f"/api/v2/jobs/{resp.json['job']}/").json["extra_vars"])
    assert extra["awx_webhook_event_ref"] == "178864a7d521b6f5e720b386b2c2b0ef8563e0dc"
    assert extra["awx_webhook_status_api"] == \
        "http://bitbucket.example.com/rest/build-status/1.0/commits/178864a7d521b6f5e720b386b2c2b0ef8563e0dc"
    pr = payload("bitbucket_dc_pr_opened")
    assert deliver(anon, url, pr, bitbucket_headers(key, pr, "pr:opened")).status_code == 202
    resp = deliver(anon, url, pr, bitbucket_headers(key, pr, "pr:comment:added"))
    assert resp.status_code == 200 and "Bitbucket" in resp.json["reason"]
    assert deliver(anon, url, pr, bitbucket_headers("wrong-key", pr, "pr:opened")).status_code == 403
    assert len(jobs_of(admin, jt["id"])) == 2


# -- workflows, the generic receiver, projects --------------------------------------------------
@pytest.mark.slow
def test_github_push_launches_a_workflow_whose_job_gets_the_vars(admin, anon, jobs, org, hook_jt):
    jt, _key = hook_jt("")
    wf = admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"],
                                                        "webhook_service": "github"}).json
    node = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/", {"unified_job_template": jt["id"]})
    assert node.status_code == 201, node.json
    key = key_of(admin, "workflow_job_templates", wf["id"])
    body = payload("github_push")
    resp = deliver(anon, f"/api/v2/workflow_job_templates/{wf['id']}/github/", body, github_headers(key, body, "push"))
    assert resp.status_code == 202 and resp.json["type"] == "workflow_job", resp.json
    wj = wait_finished(admin, f"/api/v2/workflow_jobs/{resp.json['job']}/", processed=False)
    assert wj["status"] == "successful" and wj["launch_type"] == "webhook" and wj["webhook_service"] == "github"
    assert json.loads(wj["extra_vars"])["awx_webhook_event_type"] == "push"
    child = jobs_of(admin, jt["id"])[0]
    text = stdout(admin, child["id"])
    assert f"message=Update README {LOOKUP}" in text and "uid=" not in text
    again = deliver(anon, f"/api/v2/workflow_job_templates/{wf['id']}/github/", body,
                    github_headers(key, body, "push", guid=wj["webhook_guid"]))
    assert again.json == {"message": "Webhook previously received, aborting."}


@pytest.mark.slow
def test_generic_receiver_hmac_or_token_and_extractors(admin, anon, jobs, hook_jt):
    jt, _key = hook_jt("", webhook_extractors={"alert_name": "alerts.0.labels.alertname"})
    key = admin.post(f"/api/v2/job_templates/{jt['id']}/webhook_key/", {"webhook_key": "generic-key-0123456789"}
                     ).json["webhook_key"]
    url = f"/api/v2/job_templates/{jt['id']}/webhook/"
    alert = json.dumps({"status": "firing", "alerts": [{"labels": {"alertname": f"DiskFull {LOOKUP}"}}]}).encode()
    resp = deliver(anon, url, alert, {"X-Turret-Signature": sign(key, alert), "X-Turret-Event": "alert",
                                      "Content-Type": "application/json"})
    assert resp.status_code == 202, resp.json
    job = wait_job(admin, resp.json["job"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful" and f"alert=DiskFull {LOOKUP}" in text and "uid=" not in text
    assert job["webhook_service"] == "generic" and json.loads(job["extra_vars"])["awx_webhook_event_type"] == "alert"
    token = deliver(anon, url, alert + b" ", {"X-Turret-Token": key, "Content-Type": "application/json"})
    assert token.status_code == 202, token.json
    assert deliver(anon, url, alert, {"X-Turret-Token": "nope", "Content-Type": "application/json"}).status_code == 403
    assert deliver(anon, url, alert, {"Content-Type": "application/json"}).status_code == 401
    assert len(jobs_of(admin, jt["id"])) == 2


@pytest.mark.slow
def test_a_push_syncs_a_project(admin, anon, jobs, org, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    created = admin.post("/api/v2/projects/", {"name": uniq("scm"), "organization": org["id"], "scm_type": "git",
                                               "scm_url": f"file://{repo}", "webhook_service": "github"})
    assert created.status_code == 201, created.json
    project = created.json
    wait_finished(admin, f"/api/v2/project_updates/{project['summary_fields']['current_update']['id']}/"
                  if project["summary_fields"].get("current_update") else project["related"]["last_update"])
    key = key_of(admin, "projects", project["id"])
    url = f"/api/v2/projects/{project['id']}/github/"
    body = payload("github_push")
    resp = deliver(anon, url, body, github_headers(key, body, "push"))
    assert resp.status_code == 200 and resp.json["reason"] == "scm_update_on_push is off"
    assert admin.patch(project["url"], {"scm_update_on_push": True}).status_code == 200
    pr = payload("github_pull_request")
    assert deliver(anon, url, pr, github_headers(key, pr, "pull_request")).json["reason"] == \
        "event pull_request is not a push"
    headers = github_headers(key, body, "push")
    resp = deliver(anon, url, body, headers)
    assert resp.status_code == 202 and resp.json["type"] == "project_update", resp.json
    update = wait_finished(admin, f"/api/v2/project_updates/{resp.json['job']}/")
    assert update["status"] == "successful" and update["launch_type"] == "webhook"
    assert deliver(anon, url, body, headers).json == {"message": "Webhook previously received, aborting."}
    manual = admin.post("/api/v2/projects/", {"name": uniq("manual"), "organization": org["id"],
                                              "scm_update_on_push": True})
    assert manual.status_code == 400 and list(manual.json) == ["scm_update_on_push"]


# -- robustness ------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after(admin, anon, hook_jt):
    jt, key = hook_jt("github")
    url = f"/api/v2/job_templates/{jt['id']}/github/"
    body = payload("github_push")
    for _ in range(RATE_LIMIT):
        assert deliver(anon, url, body, github_headers(key, body, "push")).status_code == 202
    resp = deliver(anon, url, body, github_headers(key, body, "push"))
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 60, resp.json
    assert len(jobs_of(admin, jt["id"])) == RATE_LIMIT
    assert deliveries(admin, "job_template", jt["id"])[-1]["result"] == "rate limited"


def test_a_body_over_the_limit_is_413(admin, anon, hook_jt):
    jt, key = hook_jt("github")
    big = json.dumps({"ref": "refs/heads/main", "pad": "x" * (300 * 1024)}).encode()
    resp = deliver(anon, f"/api/v2/job_templates/{jt['id']}/github/", big, github_headers(key, big, "push"))
    assert resp.status_code == 413 and "detail" in resp.json
    assert jobs_of(admin, jt["id"]) == []


@pytest.mark.parametrize("body, headers", [
    (b"{not json", {}), (b"[1, 2]", {}), (b'"text"', {}), (b"\xff\xfe\x00", {}), (b"[" * 5000 + b"]" * 5000, {}),
    (b"{}", {"X-GitHub-Event": "\x00\x01"}), (b"{}", {"X-Hub-Signature-256": "sha256"}),
    (b"{}", {"X-Hub-Signature-256": "md5=abc"}), (b"{}", {"X-Hub-Signature-256": "sha256=\u00e9"}),
    (b"payload=%7B%22a%22%3A1%7D", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b"payload=%ff", {"Content-Type": "application/x-www-form-urlencoded"}),
])
def test_malformed_deliveries_never_500(admin, anon, hook_jt, body, headers):
    jt, key = hook_jt("github")
    signed = {"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
              "X-Hub-Signature-256": sign(key, body), "Content-Type": "application/json", **headers}
    for url in (f"/api/v2/job_templates/{jt['id']}/github/", f"/api/v2/job_templates/{jt['id']}/webhook/",
                f"/api/v2/job_templates/{jt['id']}/gitlab/", "/api/v2/job_templates/abc/github/",
                "/api/v2/job_templates/99999999999999999999999/github/", f"/api/v2/projects/{jt['id']}/webhook/"):
        resp = deliver(anon, url, body, signed)
        assert resp.status_code < 500, (url, resp.status_code, resp.data[:200])
        assert resp.is_json and isinstance(resp.json, dict)


# -- the pure readers ----------------------------------------------------------------------------
def test_refs_and_filters_follow_each_services_payload():
    from controller.webhooks import verify
    gh = json.loads(payload("github_push"))
    assert verify.event_ref("github", "push", gh) == gh["after"]
    assert verify.event_ref("github", "push", {**gh, "after": verify.ZERO_SHA}) is None     # a deleted branch
    assert verify.branch_ref("github", "release", {"release": {"tag_name": "v1.2"}}) == "refs/tags/v1.2"
    assert verify.branch_ref("gitlab", "Merge Request Hook", json.loads(payload("gitlab_merge_request_hook"))) == \
        "refs/heads/master"
    assert verify.branch_ref("bitbucket_dc", "pr:opened", json.loads(payload("bitbucket_dc_pr_opened"))) == \
        "refs/heads/master"
    assert verify.lookup({"a": [{"b": 1}]}, "a.0.b") == 1 and verify.lookup({"a": []}, "a.3.b") is None
    assert verify.lookup({"a": "text"}, "a.b") is None
    assert verify.ignored_reason("github", "push", "push, pull_request", "refs/tags/*", "refs/tags/v1") == ""
    assert verify.ignored_reason("gitlab", "Push Hook", "", "refs/heads/main", "refs/heads/mainline") != ""
    # the GUID falls back to the body's sha1 when the service's header is missing
    assert verify.event_guid("github", {}, b"{}") == hashlib.sha1(b"{}").hexdigest()
    assert verify.event_guid("generic", {"idempotency-key": "k1"}, b"{}") == "k1"

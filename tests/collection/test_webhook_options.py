"""The webhook options of job_template, workflow_job_template and project against a live
controller: the fields (service, events, ref filter, extractors, credential, scm_update_on_push)
stored and read back through the API; ``webhook_key`` set through ``webhook_key/``, idempotent
(compared with the stored key, never shown in the task's result or diff), check mode, a refused
short key; and the key the module set is the one a signed delivery must carry (a real receiver
launches a job with it and refuses the old one)."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
import requests

from tests.support.gitserver import GitServer

from .conftest import failed_cleanly

pytestmark = pytest.mark.slow

JT = "turret.controller.job_template"
WF = "turret.controller.workflow_job_template"
PROJECT = "turret.controller.project"
KEY_ONE = "first-webhook-key-7731"
KEY_TWO = "second-webhook-key-4409"


@pytest.fixture(scope="module")
def world(controller):
    """An organization, a manual project with a playbook, an inventory and GitHub/GitLab tokens."""
    folder = controller.data_dir / "projects" / "whproj"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.ping: }]\n")
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": "HOrg"}).json()
        api.post("/api/v2/inventories/", {"name": "HInv", "organization": org["id"]}).raise_for_status()
        api.post("/api/v2/projects/", {"name": "HProj", "organization": org["id"],
                                       "local_path": "whproj"}).raise_for_status()
        for namespace, name in (("github_token", "gh-token"), ("gitlab_token", "gl-token")):
            ctype = api.get("/api/v2/credential_types/", params={"namespace": namespace}).json()["results"][0]
            api.post("/api/v2/credentials/", {"name": name, "organization": org["id"], "credential_type": ctype["id"],
                                              "inputs": {"token": f"{name}-secret"}}).raise_for_status()
    return org


def stored(api, endpoint: str, name: str) -> dict:
    found = api.get(f"/api/v2/{endpoint}/", params={"name": name}).json()["results"]
    assert len(found) == 1, found
    return found[0]


def key_of(api, obj: dict) -> str:
    resp = api.get(f"{obj['url']}webhook_key/")
    assert resp.status_code == 200, resp.text
    return resp.json()["webhook_key"]


def github_push(controller, obj: dict, key: str, ref: str = "refs/heads/main") -> requests.Response:
    """A GitHub push delivery signed with ``key`` (X-Hub-Signature-256), posted to the receiver
    without logging in, as GitHub does."""
    body = json.dumps({"ref": ref, "before": "0" * 40, "after": "5" * 40,
                       "repository": {"full_name": "acme/site"}}).encode()
    sig = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(f"{controller.url}{obj['url']}github/", data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={sig}"})


def no_key_in(play, *keys: str) -> None:
    """The keys appear nowhere in the playbook's output or the registered results."""
    text = play.output + json.dumps(play.results)
    for key in keys:
        assert key not in text


def test_job_template_webhook_options_and_key(controller, world, play):
    jt = {"name": "hooked", "project": "HProj", "inventory": "HInv", "playbook": "hello.yml",
          "webhook_service": "github", "webhook_credential": "gh-token", "webhook_events": "push,pull_request",
          "webhook_ref_filter": "refs/heads/main", "webhook_extractors": {"alert": "alerts.0.name"}}
    result = play([
        {JT: dict(jt, webhook_key=KEY_ONE)},
        {JT: dict(jt, webhook_key=KEY_ONE)},                                   # same key: no change
        {JT: {"name": "hooked", "webhook_key": KEY_TWO}, "check_mode": True},  # would change, changes nothing
        {JT: {"name": "hooked", "webhook_key": KEY_TWO}, "diff": True},
        {JT: {"name": "hooked", "webhook_key": "short"}},
        {JT: {"name": "hooked", "webhook_events": "bad;event"}},
    ])
    created, again, check, rotated, short, bad_events = result.results
    assert created["changed"] is True and "failed" not in created, created
    assert again["changed"] is False, again
    assert check["changed"] is True
    assert rotated["changed"] is True
    assert rotated["diff"]["before"]["webhook_key"] == "$encrypted$"
    assert rotated["diff"]["after"]["webhook_key"] == "$encrypted$"
    failed_cleanly(short)
    assert "webhook_key" in json.dumps(short.get("response")), short
    failed_cleanly(bad_events)
    assert "webhook_events" in json.dumps(bad_events.get("response")), bad_events
    no_key_in(result, KEY_ONE, KEY_TWO)

    with controller.client() as api:
        obj = stored(api, "job_templates", "hooked")
        assert obj["webhook_service"] == "github"
        assert obj["webhook_credential"] == stored(api, "credentials", "gh-token")["id"]
        assert obj["webhook_events"] == "push,pull_request"
        assert obj["webhook_ref_filter"] == "refs/heads/main"
        assert obj["webhook_extractors"] == {"alert": "alerts.0.name"}
        assert "webhook_key" not in obj
        assert key_of(api, obj) == KEY_TWO       # neither check mode nor the refused keys replaced it
        # the key the module set is the one deliveries are checked against
        old = github_push(controller, obj, KEY_ONE)
        assert old.status_code in (401, 403), old.text
        launched = github_push(controller, obj, KEY_TWO)
        assert launched.status_code == 202, launched.text
        job = api.get(f"/api/v2/jobs/{launched.json()['job']}/").json()
        assert job["launch_type"] == "webhook" and job["webhook_service"] == "github"
        assert job["job_template"] == obj["id"]


def test_job_template_key_generated_with_the_service_and_kept(controller, world, play):
    """A service alone gets a generated key that a run without ``webhook_key`` leaves alone;
    clearing the service is stored."""
    jt = {"name": "generated", "project": "HProj", "inventory": "HInv", "playbook": "hello.yml"}
    first = play([{JT: dict(jt, webhook_service="gitlab")}])[0]
    assert first["changed"] is True
    with controller.client() as api:
        obj = stored(api, "job_templates", "generated")
        generated = key_of(api, obj)
        assert len(generated) == 50
    again, cleared = play([{JT: dict(jt, webhook_service="gitlab")},
                           {JT: {"name": "generated", "webhook_service": ""}}])
    assert again["changed"] is False
    assert cleared["changed"] is True
    with controller.client() as api:
        obj = stored(api, "job_templates", "generated")
        assert obj["webhook_service"] == ""


def test_workflow_job_template_webhook_options_and_key(controller, world, play):
    wf = {"name": "hooked-wf", "organization": "HOrg", "webhook_service": "gitlab", "webhook_credential": "gl-token",
          "webhook_events": "Push Hook", "webhook_ref_filter": "refs/heads/*",
          "webhook_extractors": {"ticket": "issue.key"}, "webhook_key": KEY_ONE}
    result = play([{WF: wf}, {WF: wf}, {WF: dict(wf, webhook_ref_filter="refs/tags/*")}])
    created, again, narrowed = result.results
    assert created["changed"] is True and "failed" not in created, created
    assert again["changed"] is False, again
    assert narrowed["changed"] is True
    no_key_in(result, KEY_ONE)
    with controller.client() as api:
        obj = stored(api, "workflow_job_templates", "hooked-wf")
        assert (obj["webhook_service"], obj["webhook_events"], obj["webhook_ref_filter"]) == \
            ("gitlab", "Push Hook", "refs/tags/*")
        assert obj["webhook_extractors"] == {"ticket": "issue.key"}
        assert obj["webhook_credential"] == stored(api, "credentials", "gl-token")["id"]
        assert key_of(api, obj) == KEY_ONE


@pytest.fixture(scope="module")
def git_server(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    server.create("site", {"hello.yml": "- hosts: all\n  gather_facts: false\n  tasks: []\n"})
    try:
        yield server
    finally:
        server.stop()


def test_project_push_options_and_key(controller, world, git_server, play):
    """A git project synced on push: the options stored, the key set; a push the project's
    filters accept, signed with that key, syncs it."""
    proj = {"name": "HGit", "organization": "HOrg", "scm_type": "git", "scm_url": git_server.url("site"),
            "scm_branch": "main", "scm_update_on_push": True, "webhook_service": "github",
            "webhook_events": "push", "webhook_ref_filter": "refs/heads/main", "webhook_key": KEY_TWO}
    result = play([{PROJECT: proj}, {PROJECT: proj}])
    created, again = result.results
    assert created["changed"] is True and "failed" not in created, created
    assert again["changed"] is False, again
    no_key_in(result, KEY_TWO)
    with controller.client() as api:
        obj = stored(api, "projects", "HGit")
        assert obj["scm_update_on_push"] is True
        assert (obj["webhook_service"], obj["webhook_events"], obj["webhook_ref_filter"]) == \
            ("github", "push", "refs/heads/main")
        assert key_of(api, obj) == KEY_TWO
        updates = api.get(f"{obj['url']}project_updates/").json()["count"]
        pushed = github_push(controller, obj, KEY_TWO)
        assert pushed.status_code == 202, pushed.text
        assert api.get(f"{obj['url']}project_updates/").json()["count"] == updates + 1
    off = play([{PROJECT: {"name": "HGit", "scm_update_on_push": False, "webhook_service": ""}}])[0]
    assert off["changed"] is True
    with controller.client() as api:
        obj = stored(api, "projects", "HGit")
        assert (obj["scm_update_on_push"], obj["webhook_service"]) == (False, "")

"""The content a fresh controller starts with, as AWX's preload: the Default organization with the
managed "Ansible Galaxy" credential as its galaxy credential, a "Demo Credential", a git "Demo
Project" served from a repository the controller made of the samples it ships (no network, no
ALLOW_LOCAL_SCM_URLS), a "Demo Inventory" with localhost and a "Demo Job Template" that runs."""
from __future__ import annotations

import subprocess

import pytest

from controller import open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
from controller.services.demo import sample_repository
from tests.support.jobs import events, launch, wait_job, wait_update

ADMIN_PASSWORD = "admin-test-pw"   # conftest's admin client logs in with it
JOB_WORKERS = 2


@pytest.fixture(scope="module")
def app_state(tmp_path_factory):
    """A controller initialized as on a first start with demo content (overrides conftest's)."""
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data"))}, environ={}))
    initialize(state, ADMIN_PASSWORD, demo=True)
    yield state
    state.store.close()


def _one(admin, path: str, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    found = admin.get(f"{path}?{query}").json["results"]
    assert len(found) == 1, (path, params, found)
    return found[0]


def test_demo_objects_are_as_awx_has_them(admin, app_state):
    assert not app_state.settings.ALLOW_LOCAL_SCM_URLS
    org = _one(admin, "/api/v2/organizations/", name="Default")
    galaxy = _one(admin, "/api/v2/credentials/", name="Ansible+Galaxy")
    assert galaxy["managed"] is True and galaxy["organization"] is None
    assert galaxy["inputs"] == {"url": "https://galaxy.ansible.com/"} and galaxy["kind"] == "galaxy_api_token"
    linked = admin.get(f"/api/v2/organizations/{org['id']}/galaxy_credentials/").json["results"]
    assert [c["id"] for c in linked] == [galaxy["id"]]
    # the managed credential cannot be changed
    assert admin.patch(f"/api/v2/credentials/{galaxy['id']}/", {"name": "x"}).status_code == 403

    cred = _one(admin, "/api/v2/credentials/", name="Demo+Credential")
    assert cred["kind"] == "ssh" and cred["inputs"] == {"username": "admin"}

    project = _one(admin, "/api/v2/projects/", name="Demo+Project")
    repo = sample_repository(app_state.settings)
    assert project["scm_type"] == "git" and project["scm_url"] == repo.as_uri()
    assert project["organization"] == org["id"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert project["scm_revision"] == head
    assert "hello_world.yml" in admin.get(f"/api/v2/projects/{project['id']}/playbooks/").json
    # it stays editable although local URLs are not allowed to others
    assert admin.patch(f"/api/v2/projects/{project['id']}/", {"description": "mine"}).status_code == 200
    other = admin.post("/api/v2/projects/", {"name": "local", "organization": org["id"], "scm_type": "git",
                                             "scm_url": (repo.parent / "elsewhere").as_uri()})
    assert other.status_code == 400 and "scm_url" in other.json

    inventory = _one(admin, "/api/v2/inventories/", name="Demo+Inventory")
    hosts = admin.get(f"/api/v2/inventories/{inventory['id']}/hosts/").json["results"]
    assert [h["name"] for h in hosts] == ["localhost"]
    jt = _one(admin, "/api/v2/job_templates/", name="Demo+Job+Template")
    assert jt["project"] == project["id"] and jt["inventory"] == inventory["id"] and jt["playbook"] == "hello_world.yml"
    assert [c["id"] for c in admin.get(f"/api/v2/job_templates/{jt['id']}/credentials/").json["results"]] == [cred["id"]]
    assert admin.get(f"/api/v2/job_templates/{jt['id']}/survey_spec/").json["spec"][0]["variable"] == "greeting_name"


@pytest.mark.slow
def test_the_demo_project_syncs_and_the_demo_template_runs_without_network(admin, jobs):
    project = _one(admin, "/api/v2/projects/", name="Demo+Project")
    jt = _one(admin, "/api/v2/job_templates/", name="Demo+Job+Template")
    # launched at once: the checkout made on first start serves it while the first update runs
    job = wait_job(admin, launch(admin, jt, {"extra_vars": {"greeting_name": "Turret"}})["job"], timeout=120)
    text = "".join(e["stdout"] for e in events(admin, job["id"]))
    assert job["status"] == "successful", text
    assert '"msg": "Hello Turret!"' in text
    [first] = admin.get(f"/api/v2/projects/{project['id']}/project_updates/").json["results"]
    update = wait_update(admin, first["id"], timeout=120)
    assert update["status"] == "successful"
    assert admin.get(f"/api/v2/projects/{project['id']}/").json["status"] == "successful"
    # and a manual update works again
    again = admin.post(f"/api/v2/projects/{project['id']}/update/", {})
    assert again.status_code == 202, again.json
    assert wait_update(admin, again.json["id"], timeout=120)["status"] == "successful"

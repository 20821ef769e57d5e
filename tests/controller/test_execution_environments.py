"""Execution environments: the resource (AWX fields, registry credentials, the managed default,
access), AWX's resolution order recorded on each job, and real runs with a second Python
virtual environment and with a container image on a node that cannot run one."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.jobs import (events, launch, make_credential, make_jt, make_stage, type_id, uniq, wait_job)

WHICH_PYTHON = """- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "playbook-python={{ ansible_playbook_python }}"
"""


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"which.yml": WHICH_PYTHON})


def _ee(admin, **fields) -> dict:
    resp = admin.post("/api/v2/execution_environments/", {"name": uniq("ee"), "image": "quay.io/x/y:1", **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _managed(admin) -> dict:
    found = admin.get("/api/v2/execution_environments/?managed=true").json
    assert found["count"] == 1, found
    return found["results"][0]


def test_managed_default_is_seeded_and_protected(admin):
    managed = _managed(admin)
    assert managed["image"] == "" and managed["organization"] is None and managed["pull"] == ""
    assert admin.delete(managed["url"]).status_code == 403
    assert managed["summary_fields"]["user_capabilities"]["delete"] is False


def test_fields_validation_and_registry_credentials(admin, stage):
    org = stage["org"]
    registry = make_credential(admin, org, type_id(admin, "registry"), {"host": "quay.io", "username": "u",
                                                                        "password": "p"})
    ee = _ee(admin, organization=org["id"], credential=registry["id"], pull="always", description="d")
    assert (ee["organization"], ee["credential"], ee["pull"], ee["managed"]) == (org["id"], registry["id"],
                                                                              "always", False)
    assert ee["related"]["credential"].endswith(f"/credentials/{registry['id']}/")
    machine = make_credential(admin, org, type_id(admin, "ssh"), {"username": "u"})
    resp = admin.patch(ee["url"], {"credential": machine["id"]})
    assert resp.status_code == 400 and "Container Registry" in resp.json["credential"][0]
    resp = admin.patch(ee["url"], {"pull": "sometimes"})
    assert resp.status_code == 400 and "pull" in resp.json
    assert admin.post("/api/v2/execution_environments/", {"name": uniq("ee"), "image": "venv:relative"}) \
        .status_code == 400
    assert admin.post("/api/v2/execution_environments/", {"name": uniq("ee")}).json["image"] == \
        ["This field is required."]
    admin.delete(f"/api/v2/credentials/{registry['id']}/")
    assert admin.get(ee["url"]).json["credential"] is None
    assert admin.delete(ee["url"]).status_code == 204


def test_org_execution_environment_admins(admin, make_user, stage):
    org = stage["org"]
    uid, user = make_user()
    assert user.post("/api/v2/execution_environments/", {"name": uniq("ee"), "image": "i",
                                                         "organization": org["id"]}).status_code == 403
    role = admin.get(f"/api/v2/organizations/{org['id']}/object_roles/?role_field=execution_environment_admin_role")
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": role.json["results"][0]["id"]})
    resp = user.post("/api/v2/execution_environments/", {"name": uniq("ee"), "image": "i", "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    assert user.post("/api/v2/execution_environments/", {"name": uniq("ee"), "image": "i"}).status_code == 403
    assert user.patch(_managed(admin)["url"], {"pull": "always"}).status_code == 403
    assert user.get(_managed(admin)["url"]).status_code == 200      # global ones are everyone's
    other = _ee(admin, organization=admin.post("/api/v2/organizations/", {"name": uniq("o")}).json["id"])
    assert user.get(other["url"]).status_code == 403


def test_resolution_order_is_recorded_on_each_job(admin, app_state, stage):
    """prompt > template > project default > organization default > global default (no
    dispatcher in this test: the job is recorded at launch)."""
    org, project = stage["org"], stage["project"]
    jt = make_jt(admin, project, stage["inventory"], "which.yml", ask_execution_environment_on_launch=True)
    org_ee, project_ee, jt_ee, prompt_ee = (_ee(admin) for _ in range(4))
    assert launch(admin, jt)["execution_environment"] == _managed(admin)["id"]
    admin.patch(f"/api/v2/organizations/{org['id']}/", {"default_environment": org_ee["id"]})
    assert launch(admin, jt)["execution_environment"] == org_ee["id"]
    admin.patch(f"/api/v2/projects/{project['id']}/", {"default_environment": project_ee["id"]})
    assert launch(admin, jt)["execution_environment"] == project_ee["id"]
    admin.patch(jt["url"], {"execution_environment": jt_ee["id"]})
    job = launch(admin, jt)
    assert job["execution_environment"] == jt_ee["id"]
    assert job["summary_fields"]["execution_environment"]["name"] == jt_ee["name"]
    assert launch(admin, jt, {"execution_environment": prompt_ee["id"]})["execution_environment"] == prompt_ee["id"]
    for pending in admin.get(f"/api/v2/job_templates/{jt['id']}/jobs/").json["results"]:
        admin.post(f"/api/v2/jobs/{pending['id']}/cancel/", {})
    # deleting an environment leaves its users null, as AWX
    assert admin.delete(jt_ee["url"]).status_code == 204
    assert admin.get(jt["url"]).json["execution_environment"] is None
    for pk in (org_ee, project_ee, prompt_ee):
        assert admin.delete(pk["url"]).status_code == 204
    assert admin.get(f"/api/v2/organizations/{org['id']}/").json["default_environment"] is None
    assert admin.get(f"/api/v2/projects/{project['id']}/").json["default_environment"] is None


def _second_venv(root: Path) -> Path:
    """A real second virtual environment that can run ansible without the network: a fresh
    venv that sees this one's packages through a .pth file, with its own ansible-playbook."""
    venv = root / "venv2"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; "
                                   "print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                                  text=True).stdout.strip())
    (purelib / "controller-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = Path(shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) or "")
    body = source.read_text().split("\n", 1)[1]
    target = venv / "bin" / "ansible-playbook"
    target.write_text(f"#!{venv / 'bin' / 'python'}\n{body}")
    target.chmod(0o755)
    return venv


@pytest.mark.slow
def test_a_venv_environment_runs_the_job_with_its_ansible(admin, jobs, stage, tmp_path):
    venv = _second_venv(tmp_path)
    ee = _ee(admin, image=f"venv:{venv}")
    jt = make_jt(admin, stage["project"], stage["inventory"], "which.yml", execution_environment=ee["id"])
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful", job["job_explanation"]
    assert job["execution_environment"] == ee["id"]
    text = "\n".join(e["stdout"] for e in events(admin, job["id"]))
    assert f"playbook-python={venv}/bin/python" in text
    assert f"{venv}/bin" in admin.get(f"/api/v2/jobs/{job['id']}/").json["job_env"]["PATH"]
    # the controller's own environment is used otherwise
    plain = make_jt(admin, stage["project"], stage["inventory"], "which.yml")
    job = wait_job(admin, launch(admin, plain)["id"])
    assert f"playbook-python={sys.executable}" in "\n".join(e["stdout"] for e in events(admin, job["id"]))
    broken = _ee(admin, image=f"venv:{tmp_path / 'nothing'}")
    admin.patch(plain["url"], {"execution_environment": broken["id"]})
    job = wait_job(admin, launch(admin, plain)["id"])
    assert job["status"] == "error" and "no executable bin/ansible-playbook" in job["job_explanation"]


@pytest.mark.slow
def test_a_container_image_errors_clearly_without_podman_or_docker(admin, jobs, stage, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if shutil.which("podman") or shutil.which("docker"):
        pytest.skip("podman or docker is installed in /usr/bin or /bin")
    ee = _ee(admin, image="quay.io/ansible/awx-ee:latest")
    jt = make_jt(admin, stage["project"], stage["inventory"], "which.yml", execution_environment=ee["id"])
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "error" and job["failed"] is True
    assert "neither podman nor docker" in job["job_explanation"] and "quay.io/ansible/awx-ee" in job["job_explanation"]


def _container_engine() -> str | None:
    for engine in ("podman", "docker"):
        if shutil.which(engine) and subprocess.run([engine, "info"], capture_output=True).returncode == 0:
            return engine
    return None


@pytest.mark.slow
@pytest.mark.skipif(_container_engine() is None, reason="no working podman or docker on this machine")
def test_a_container_image_runs_with_process_isolation(admin, jobs, stage):
    ee = _ee(admin, image="quay.io/ansible/awx-ee:latest", pull="missing")
    jt = make_jt(admin, stage["project"], stage["inventory"], "which.yml", execution_environment=ee["id"])
    job = wait_job(admin, launch(admin, jt)["id"], timeout=600)
    assert _container_engine() in admin.get(f"/api/v2/jobs/{job['id']}/").json["job_args"]

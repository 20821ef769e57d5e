"""SCM secrets of project updates (issue 11): the password of a Source Control credential used
to be put into the clone URL, so it stayed in the checkout's ``.git/config`` and showed in
every ``git`` command line in ``/proc``.  Now git gets it from a credential helper configured
through the environment.  Checked against a real git smart-HTTP server that demands the login.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from controller.jobs.project_update import git_login_env, split_userinfo
from tests.support.githttp import GitHttpServer
from tests.support.gitserver import GitServer, git
from tests.support.jobs import files_containing, make_credential, make_org, type_id, uniq, wait_update
from tests.support.procwatch import CmdlineWatch

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=hi\n"


@pytest.fixture(scope="module")
def canary() -> str:
    return "scm-c4n4ry-" + uniq("p").replace("-", "")


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    server.create("site", {"site.yml": PLAY})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(repos, canary):
    server = GitHttpServer(repos.base, "scmuser", canary)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


def update_project(admin, project: dict) -> dict:
    resp = admin.post(f"{project['url']}update/", {})
    assert resp.status_code == 202, resp.json
    return wait_update(admin, resp.json["id"])


def checkout(app_state, project: dict) -> Path:
    return Path(app_state.settings.data_dir) / "projects" / project["local_path"]


def exposed_bodies(admin, update: dict) -> dict[str, str]:
    base = f"/api/v2/project_updates/{update['id']}/"
    out = {"update": json.dumps(admin.get(base).json), "events": json.dumps(admin.get(
        f"{base}events/?page_size=200&no_truncate=True").json)}
    for fmt in ("txt", "ansi", "json", "html"):
        out[f"stdout {fmt}"] = admin.get(f"{base}stdout/?format={fmt}").data.decode()
    return out


# -- units ------------------------------------------------------------------------------------------
def test_a_login_in_the_url_is_split_off():
    assert split_userinfo("https://bob:s%40cret@example.invalid:8443/r.git") == (
        "https://example.invalid:8443/r.git", "bob", "s@cret")
    assert split_userinfo("ssh://git@example.invalid/r.git") == ("ssh://git@example.invalid/r.git", "", "")
    assert split_userinfo("https://example.invalid/r.git") == ("https://example.invalid/r.git", "", "")


def test_the_login_goes_through_the_environment_only():
    env = git_login_env("bob", "pw-123")
    assert env["TURRET_SCM_PASSWORD"] == "pw-123"
    assert [k for k, v in env.items() if "pw-123" in v] == ["TURRET_SCM_PASSWORD"]
    assert git_login_env("", "") == {}


# -- real updates -------------------------------------------------------------------------------
@pytest.mark.slow
def test_scm_password_reaches_git_and_nothing_else(admin, app_state, jobs, http, org, canary):
    cred = make_credential(admin, org, type_id(admin, "scm"), {"username": "scmuser", "password": canary})
    resp = admin.post("/api/v2/projects/", {"name": uniq("scm"), "organization": org["id"], "scm_type": "git",
                                            "scm_url": http.url("site"), "credential": cred["id"]})
    assert resp.status_code == 201, resp.json
    project = resp.json
    wait_update(admin, project["summary_fields"]["current_update"]["id"])
    watch = CmdlineWatch(canary.encode(), witness=f"127.0.0.1:{http.port}".encode())
    update = update_project(admin, project)
    hits = watch.done()
    text = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").data.decode()
    assert update["status"] == "successful", text
    assert http.expected in http.logins            # git did log in with the password
    assert watch.witnessed > 0                     # git's command lines were sampled ...
    assert watch.samples > 10 and hits == []       # ... and none carried the password
    folder = checkout(app_state, project)
    assert (folder / "site.yml").exists()
    assert git(folder, "remote", "get-url", "origin") == http.url("site")
    assert files_containing(folder, canary.encode()) == []
    assert files_containing(Path(app_state.settings.data_dir), canary.encode()) == []
    leaks = [where for where, body in exposed_bodies(admin, update).items() if canary in body]
    assert leaks == []
    assert update["job_env"].get("TURRET_SCM_PASSWORD") == "**********"


@pytest.mark.slow
def test_a_login_left_in_git_config_is_removed_by_the_next_update(admin, app_state, jobs, http, org, canary):
    cred = make_credential(admin, org, type_id(admin, "scm"), {"username": "scmuser", "password": canary})
    resp = admin.post("/api/v2/projects/", {"name": uniq("scm"), "organization": org["id"], "scm_type": "git",
                                            "scm_url": http.url("site"), "credential": cred["id"]})
    project = resp.json
    assert wait_update(admin, project["summary_fields"]["current_update"]["id"])["status"] == "successful"
    folder = checkout(app_state, project)
    # what an update of the previous version left behind
    git(folder, "remote", "set-url", "origin", http.url("site").replace("://", f"://scmuser:{canary}@"))
    assert files_containing(folder, canary.encode()) != []
    assert update_project(admin, project)["status"] == "successful"
    assert files_containing(folder, canary.encode()) == []


def test_wrong_scm_password_fails_without_prompting(admin, jobs, http, org):
    cred = make_credential(admin, org, type_id(admin, "scm"), {"username": "scmuser", "password": "wrong"})
    resp = admin.post("/api/v2/projects/", {"name": uniq("scm"), "organization": org["id"], "scm_type": "git",
                                            "scm_url": http.url("site"), "credential": cred["id"], "timeout": 60})
    started = time.monotonic()
    update = wait_update(admin, resp.json["summary_fields"]["current_update"]["id"], timeout=40)
    assert update["status"] == "failed" and time.monotonic() - started < 30
    text = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").data.decode()
    assert "Authentication failed" in text or "401" in text, text


@pytest.mark.slow
def test_scm_ssh_key_goes_to_the_agent_and_leaves_no_file(admin, app_state, jobs, repos, org, tmp_path):
    """git:// needs no key, but the credential's (encrypted) key is still loaded into the run's
    ssh-agent: the update must unlock it, finish, and leave the key nowhere on disk."""
    path = tmp_path / "id_scm"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "scm-passphrase", "-f", str(path)], check=True)
    key = path.read_text()
    body = key.splitlines()[2].encode()           # a line of the key's base64 body
    path.unlink()
    cred = make_credential(admin, org, type_id(admin, "scm"),
                           {"username": "git", "ssh_key_data": key, "ssh_key_unlock": "scm-passphrase"})
    resp = admin.post("/api/v2/projects/", {"name": uniq("scm"), "organization": org["id"], "scm_type": "git",
                                            "scm_url": repos.url("site"), "credential": cred["id"], "timeout": 60})
    assert resp.status_code == 201, resp.json
    update = wait_update(admin, resp.json["summary_fields"]["current_update"]["id"], timeout=45)
    text = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").data.decode()
    assert update["status"] == "successful", text
    assert files_containing(Path(app_state.settings.data_dir), body) == []
    assert files_containing(Path(app_state.settings.data_dir), b"scm-passphrase") == []

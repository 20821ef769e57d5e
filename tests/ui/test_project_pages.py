"""Project pages (test client): a manual project from the folder picker, a git project from a
local repository with branch and update options, the sync button and the update's output page,
errors beside their field, the rights."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.jobs import make_org, uniq

from .page_client import field_error, input_value, make_user, page_fixtures, textarea_value

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: from-git}\n"


app, api, ui = page_fixtures(jobs=True)


@pytest.fixture(scope="module")
def org(api):
    return make_org(api)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A local git repository with a playbook on branch ``release``."""
    path = tmp_path_factory.mktemp("repo")
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "site.yml").write_text(PLAY)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    subprocess.run([*git, "branch", "release"], check=True)
    return path


def _form(org, name: str, **extra) -> dict:
    return {"name": name, "description": "", "organization": str(org["id"]), "scm_type": "", "local_path": "",
            "scm_url": "", "scm_branch": "", "scm_refspec": "", "credential": "", "scm_update_cache_timeout": "0",
            "timeout": "0", "default_environment": "", **extra}


def _by_name(api, name: str) -> dict | None:
    found = api.one(f"/api/v2/projects/?name={name}")["results"]
    return found[0] if found else None


def _wait(api, path: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.one(path)
        if body["status"] in ("successful", "failed", "error", "canceled") and body.get("event_processing_finished",
                                                                                        True):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} did not finish")


def test_a_manual_project_from_the_folder_picker(app, ui, api, org):
    folder = uniq("playbooks")
    (app.data_dir / "projects" / folder).mkdir(parents=True)
    (app.data_dir / "projects" / folder / "ping.yml").write_text(PLAY)
    (app.data_dir / "projects" / "_99__checkout").mkdir()
    form = ui.get("/ui/projects/new")
    assert f'<option value="{folder}"' in form.text and "_99__checkout" not in form.text
    name = uniq("manual")
    resp = ui.post("/ui/projects/new", _form(org, name, local_path=folder, description="by hand"))
    assert resp.status_code == 302, resp.text
    project = _by_name(api, name)
    assert resp.headers["Location"] == f"/ui/projects/{project['id']}"
    assert (project["scm_type"], project["local_path"], project["description"]) == ("", folder, "by hand")
    assert api.one(f"/api/v2/projects/{project['id']}/playbooks/") == ["ping.yml"]


def test_a_refused_project_keeps_what_was_typed(ui, api, org):
    name = uniq("no-folder")
    resp = ui.post("/ui/projects/new", _form(org, name, description="kept", scm_update_on_launch="on"))
    assert resp.status_code == 400
    assert "Update options must be set to false for manual projects." in field_error(resp.text,
                                                                                     "scm_update_on_launch")
    assert input_value(resp.text, "name") == name and textarea_value(resp.text, "description") == "kept"
    assert _by_name(api, name) is None
    resp = ui.post("/ui/projects/new", _form(org, name, scm_type="git", scm_url="ftp://nowhere/x"))
    assert resp.status_code == 400 and "Invalid SCM URL" in field_error(resp.text, "scm_url")


@pytest.mark.slow
def test_a_git_project_syncs_and_its_output_is_shown(ui, api, org, repo):
    name = uniq("git")
    resp = ui.post("/ui/projects/new", _form(org, name, scm_type="git", scm_url=str(repo), scm_branch="release",
                                             scm_update_on_launch="on", allow_override="on"))
    assert resp.status_code == 302, resp.text
    project = _by_name(api, name)
    assert (project["scm_type"], project["scm_url"], project["scm_branch"]) == ("git", str(repo), "release")
    assert project["scm_update_on_launch"] is True and project["allow_override"] is True
    first = api.one(f"/api/v2/projects/{project['id']}/project_updates/?order_by=id")["results"][0]
    _wait(api, f"/api/v2/project_updates/{first['id']}/")
    resp = ui.post(f"/ui/projects/{project['id']}/sync")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/ui/project_updates/")
    update_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = ui.get(f"/ui/project_updates/{update_id}")
    assert page.status_code == 200 and 'id="update-output"' in page.text
    assert _wait(api, f"/api/v2/project_updates/{update_id}/")["status"] == "successful"
    state = ui.get(f"/ui/project_updates/{update_id}/state").json
    assert state["status"] == "successful" and state["active"] is False and "PLAY RECAP" in state["output"]
    assert api.one(f"/api/v2/projects/{project['id']}/playbooks/") == ["site.yml"]
    edit = ui.get(f"/ui/projects/{project['id']}/edit")
    assert input_value(edit.text, "scm_branch") == "release"
    assert "disabled" in edit.text.split('id="f-local_path"')[1][:80]          # SCM checkouts keep their folder


def test_edit_and_the_rights(app, ui, api, org):
    folder = uniq("edit-folder")
    (app.data_dir / "projects" / folder).mkdir(parents=True)
    name = uniq("editable")
    ui.post("/ui/projects/new", _form(org, name, local_path=folder))
    project = _by_name(api, name)
    resp = ui.post(f"/ui/projects/{project['id']}/edit", _form(org, name, local_path=folder, description="changed"))
    assert resp.status_code == 302 and api.one(f"/api/v2/projects/{project['id']}/")["description"] == "changed"
    stranger = make_user(api, app, uniq("stranger"))
    assert stranger.post(f"/ui/projects/{project['id']}/edit", _form(org, name, description="no")).status_code in \
        (403, 404)
    assert stranger.post(f"/ui/projects/{project['id']}/delete").status_code in (403, 404)
    assert api.one(f"/api/v2/projects/{project['id']}/")["description"] == "changed"
    resp = ui.post(f"/ui/projects/{project['id']}/delete")
    assert resp.status_code == 302 and api.get(f"/api/v2/projects/{project['id']}/").status_code == 404

"""A project row saved before the SCM checks existed (or written around the API) cannot make git
read a stored value as an option: the update re-checks URL, branch and refspec when it is
prepared and ends in ``error`` with the reason, before any git process starts."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.gitserver import GitServer
from tests.support.jobs import wait_update


JOB_WORKERS = 1   # the module's dispatcher (conftest ``jobs``)


@pytest.fixture(scope="module")
def repo_url(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    server.create("site", {"site.yml": "- hosts: all\n  tasks: []\n"})
    yield server.url("site")
    server.stop()


@pytest.mark.parametrize("field, value, reason", [
    ("scm_url", "ssh://-oProxyCommand=touch${IFS}{marker}/x", "no part of it may begin with '-'"),
    ("scm_url", "--upload-pack=touch {marker}", "Must not begin with '-'."),
    ("scm_branch", "--upload-pack=touch {marker}", "Must not begin with '-'."),
    ("scm_refspec", "-c core.sshCommand=touch {marker}", "Must not begin with '-'."),
    ("scm_branch", "main\n--upload-pack=touch {marker}", "Must not contain control characters"),
])
def test_a_stored_value_git_would_read_as_an_option_errors_the_update(admin, app_state, jobs, repo_url, make_org,
                                                                      tmp_path, field, value, reason):
    org = make_org()
    resp = admin.post("/api/v2/projects/", {"name": f"recheck-{time.monotonic_ns()}", "organization": org["id"],
                                            "scm_type": "git", "scm_url": repo_url})
    assert resp.status_code == 201, resp.json
    project = resp.json
    assert wait_update(admin, project["summary_fields"]["current_update"]["id"])["status"] == "successful"
    marker = tmp_path / "ran"
    marker.mkdir()
    app_state.store.update("projects", project["id"], {field: value.replace("{marker}", str(marker))})

    started = admin.post(f"{project['url']}update/", {})
    assert started.status_code == 202, started.json
    update = wait_update(admin, started.json["id"])
    assert update["status"] == "error" and update["failed"] is True
    assert update["job_explanation"].startswith(f"Invalid {field}: ") and reason in update["job_explanation"]
    # nothing ran: no command line, no output, and the would-be option left no trace
    assert update["job_args"] == "" and update["job_cwd"] == ""
    assert admin.get(f"/api/v2/project_updates/{update['id']}/events/").json["count"] == 0
    assert list(Path(marker).iterdir()) == []

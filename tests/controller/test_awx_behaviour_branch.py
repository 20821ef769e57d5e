"""AWX's ``scm_branch`` override (issue 16 item 8): when the project allows it, the branch of a
job template or of a launch is what the job runs, from a private checkout; the job records the
branch and the commit.  A real git repository with two branches, served on 127.0.0.1."""
from __future__ import annotations

import time

import pytest

from tests.support.gitserver import GitServer
from tests.support.jobs import make_inventory, make_jt, make_org, uniq, wait_job, wait_update

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=ran-{}\n"


@pytest.fixture(scope="module")
def gitserver(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


def _stdout(admin, job: dict) -> str:
    return admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode()


@pytest.mark.slow
def test_template_and_launch_branch_are_what_the_job_runs(admin, jobs, gitserver, app_state):
    main = gitserver.create("twobranch", {"site.yml": PLAY.format("main")})
    feature = gitserver.commit("twobranch", {"site.yml": PLAY.format("feature"),
                                             "only_feature.yml": PLAY.format("only-feature")}, branch="feature")
    org = make_org(admin)
    project = admin.post("/api/v2/projects/", {"name": uniq("p"), "organization": org["id"], "scm_type": "git",
                                               "scm_url": gitserver.url("twobranch"), "allow_override": True}).json
    assert wait_update(admin, project["summary_fields"]["current_update"]["id"])["status"] == "successful"
    inventory = make_inventory(admin, org)
    folder = app_state.settings.data_dir / "projects" / admin.get(project["url"]).json["local_path"]

    # the template's branch: a playbook that exists only there runs, from the feature commit
    jt = make_jt(admin, project, inventory, "only_feature.yml", scm_branch="feature",
                 ask_scm_branch_on_launch=True)
    job = wait_job(admin, admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}).json["id"])
    assert job["status"] == "successful", _stdout(admin, job)
    assert "ran-only-feature" in _stdout(admin, job)
    assert (job["scm_branch"], job["scm_revision"]) == ("feature", feature)
    assert (folder / "site.yml").read_text() == PLAY.format("main")     # the shared checkout is untouched

    # a launch's branch (a commit works as AWX's "branch, tag or commit")
    jt2 = make_jt(admin, project, inventory, "site.yml", ask_scm_branch_on_launch=True)
    launched = admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {"scm_branch": "feature"}).json
    job = wait_job(admin, launched["id"])
    assert "ran-feature" in _stdout(admin, job) and job["scm_revision"] == feature
    launched = admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {"scm_branch": main}).json
    job = wait_job(admin, launched["id"])
    assert "ran-main" in _stdout(admin, job) and job["scm_revision"] == main
    # no override: the project's checkout and revision
    job = wait_job(admin, admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {}).json["id"])
    assert "ran-main" in _stdout(admin, job) and (job["scm_branch"], job["scm_revision"]) == ("", main)

    # a branch pushed after the project's last update is fetched from the remote
    late = gitserver.commit("twobranch", {"site.yml": PLAY.format("late")}, branch="late")
    job = wait_job(admin, admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {"scm_branch": "late"}).json["id"])
    assert "ran-late" in _stdout(admin, job) and job["scm_revision"] == late

    # an unknown branch ends the job in error with the reason; no run folder is left behind
    job = wait_job(admin, admin.post(f"/api/v2/job_templates/{jt2['id']}/launch/", {"scm_branch": "nope"}).json["id"],
                   processed=False)
    assert job["status"] == "error" and "git fetch failed" in job["job_explanation"]
    time.sleep(0.2)
    runs = app_state.settings.data_dir / "runs"
    assert not [p for p in runs.glob(f"job-{job['id']}-*")]

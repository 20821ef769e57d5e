"""Projects: manual folders, git repositories served on 127.0.0.1, updates run for real by
ansible-runner with the collection's project_update playbook."""
from __future__ import annotations

import time

import pytest

from tests.support.gitserver import GitServer
from tests.support.jobs import wait_update

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg={}\n"


@pytest.fixture(scope="module")
def gitserver(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def org(make_org):
    return make_org("Projects Org")


def create_git_project(admin, org, url: str, **extra) -> dict:
    resp = admin.post("/api/v2/projects/", {"name": f"p-{time.monotonic_ns()}", "organization": org["id"],
                                            "scm_type": "git", "scm_url": url, **extra})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_git_project_update_runs_the_collection_playbook(admin, jobs, gitserver, org):
    head = gitserver.create("site", {"site.yml": PLAY.format("hello"), "roles/x/tasks/main.yml": "- debug:\n"})
    project = create_git_project(admin, org, gitserver.url("site"))
    current = project["summary_fields"]["current_update"]
    # queued at once; an idle worker may already have claimed it
    assert current["status"] in ("pending", "waiting", "running")
    assert project["related"]["current_update"].endswith(f"/{current['id']}/")
    update = wait_update(admin, current["id"])
    assert update["status"] == "successful", admin.get(f"/api/v2/project_updates/{update['id']}/stdout/").data
    assert update["scm_revision"] == head
    assert update["launch_type"] == "manual" and update["launched_by"]["name"] == "admin"
    project = admin.get(project["url"]).json
    assert project["scm_revision"] == head and project["status"] == "successful"
    assert project["summary_fields"]["last_update"]["id"] == update["id"]
    assert admin.get(f"{project['url']}playbooks/").json == ["site.yml"]
    events = admin.get(f"/api/v2/project_updates/{update['id']}/events/?order_by=start_line&page_size=200").json
    kinds = [e["event"] for e in events["results"]]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"
    assert any(e["task"] == "Update the project with git" and e["changed"] for e in events["results"])
    # events tile the output from line 0, so the CLI's monitor can print them in order
    ends = 0
    for e in events["results"]:
        assert e["start_line"] == ends
        ends = e["end_line"]
    text = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").data.decode()
    assert "TASK [Update the project with git]" in text and "\x1b[" not in text
    assert "PLAY RECAP" in text
    # runner counts a trailing blank line after the recap; every other line is accounted for
    assert ends - 1 <= text.count("\n") <= ends
    listed = admin.get(f"{project['url']}project_updates/").json
    assert [u["id"] for u in listed["results"]] == [update["id"]]


def test_branch_change_updates_again(admin, jobs, gitserver, org):
    gitserver.create("branchy", {"main.yml": PLAY.format("main")})
    feature = gitserver.commit("branchy", {"feature.yml": PLAY.format("feature")}, branch="feature")
    project = create_git_project(admin, org, gitserver.url("branchy"))
    first = wait_update(admin, project["summary_fields"]["current_update"]["id"])
    assert admin.get(f"{project['url']}playbooks/").json == ["main.yml"]
    changed = admin.patch(project["url"], {"scm_branch": "feature"}).json
    second_id = changed["summary_fields"]["current_update"]["id"]
    assert second_id != first["id"]
    second = wait_update(admin, second_id)
    assert second["status"] == "successful" and second["scm_revision"] == feature
    assert second["scm_branch"] == "feature"
    assert admin.get(f"{project['url']}playbooks/").json == ["feature.yml", "main.yml"]
    # a manual re-update through the API
    resp = admin.post(f"{project['url']}update/")
    assert resp.status_code == 202 and resp.json["project_update"] == resp.json["id"]
    assert wait_update(admin, resp.json["id"])["scm_revision"] == feature
    assert admin.get(f"{project['url']}update/").json == {"can_update": True}


def test_bad_url_fails_with_the_git_error(admin, jobs, gitserver, org):
    project = create_git_project(admin, org, gitserver.url("does-not-exist"))
    update = wait_update(admin, project["summary_fields"]["current_update"]["id"])
    assert update["status"] == "failed" and update["failed"] is True
    text = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt_download").data.decode()
    assert "does-not-exist" in text and ("not exported" in text or "fatal" in text.lower())
    assert admin.get(project["url"]).json["status"] == "failed"


def test_delete_while_updating_is_409(admin, jobs, gitserver, org):
    gitserver.create("busy", {"a.yml": PLAY.format("a")})
    project = create_git_project(admin, org, gitserver.url("busy"))
    resp = admin.delete(project["url"])
    assert resp.status_code == 409
    assert resp.json["error"] == "Resource is being used by running jobs."
    assert resp.json["active_jobs"][0]["type"] == "project_update"
    assert admin.get(project["url"]).status_code == 200
    wait_update(admin, project["summary_fields"]["current_update"]["id"])
    assert admin.delete(project["url"]).status_code == 204
    assert admin.get(project["url"]).status_code == 404


@pytest.mark.parametrize("url", ["file:///etc", "/srv/repo", "./repo", "not a url", ""])
def test_local_and_bad_scm_urls_are_refused(admin, org, url):
    resp = admin.post("/api/v2/projects/", {"name": "refused", "organization": org["id"], "scm_type": "git",
                                            "scm_url": url})
    assert resp.status_code == 400 and "scm_url" in resp.json
    assert admin.get("/api/v2/projects/?name=refused").json["count"] == 0


def test_manual_project_confined_to_projects_root(admin, app_state, org):
    root = app_state.settings.data_dir / "projects"
    (root / "manual1").mkdir(parents=True, exist_ok=True)
    (root / "manual1" / "deploy.yml").write_text(PLAY.format("deploy"))
    (root / "manual1" / "vars.yml").write_text("a: 1\n")
    for bad in ("../", "../../etc", "/etc", "manual1/../../x", "nope"):
        resp = admin.post("/api/v2/projects/", {"name": "m-bad", "organization": org["id"], "local_path": bad})
        assert resp.status_code == 400 and "local_path" in resp.json, bad
    resp = admin.post("/api/v2/projects/", {"name": "manual", "organization": org["id"], "local_path": "manual1"})
    assert resp.status_code == 201, resp.json
    project = resp.json
    assert project["status"] == "ok" and project["scm_type"] == "" and project["scm_revision"] == ""
    assert admin.get(f"{project['url']}playbooks/").json == ["deploy.yml"]
    assert "vars.yml" in admin.get(f"{project['url']}inventories/").json
    assert admin.get(f"{project['url']}update/").json == {"can_update": False}
    assert admin.post(f"{project['url']}update/").status_code == 405
    flags = admin.patch(project["url"], {"scm_clean": True})
    assert flags.status_code == 400
    assert flags.json == {"scm_clean": ["Update options must be set to false for manual projects."]}


def test_builtin_project_serves_the_collection_playbooks(admin):
    found = admin.get("/api/v2/projects/?managed=true").json
    assert found["count"] == 1
    project = found["results"][0]
    assert project["name"] == "Turret Collection Playbooks" and project["status"] == "ok"
    playbooks = admin.get(f"{project['url']}playbooks/").json
    assert "project_update.yml" in playbooks and "ping.yml" in playbooks
    assert admin.patch(project["url"], {"description": "x"}).status_code == 403
    assert admin.delete(project["url"]).status_code == 403


def test_project_roles(admin, make_user, org, app_state):
    (app_state.settings.data_dir / "projects" / "rbac").mkdir(parents=True, exist_ok=True)
    project = admin.post("/api/v2/projects/", {"name": "rbac", "organization": org["id"],
                                               "local_path": "rbac"}).json
    uid, user = make_user()
    assert user.get(project["url"]).status_code == 403
    use = project["summary_fields"]["object_roles"]["use_role"]["id"]
    assert admin.post(f"/api/v2/roles/{use}/users/", {"id": uid}).status_code == 204
    seen = user.get(project["url"])
    assert seen.status_code == 200 and seen.json["summary_fields"]["user_capabilities"]["edit"] is False
    assert user.patch(project["url"], {"description": "mine"}).status_code == 403
    assert admin.get(project["url"]).json["description"] == ""

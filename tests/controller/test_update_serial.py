"""Updates of one project (or one inventory source) run one at a time, as in AWX: a second
update of a project whose first update is still running waits instead of cloning into the same
folder (which failed with "destination path ... already exists").  Real git, real updates."""
from __future__ import annotations

import subprocess

import pytest

from controller.jobs import inventory_update
from controller.services.bootstrap import system_context
from tests.support.jobs import make_org, uniq, wait_update

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_state(tmp_path_factory):
    from controller import open_state
    from controller.config import Settings
    from controller.services.bootstrap import initialize
    from tests.controller.conftest import ADMIN_PASSWORD
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("data")), "ALLOW_LOCAL_SCM_URLS": True},
                                environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    yield state
    state.store.close()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = tmp_path_factory.mktemp("repo")
    (path / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    (path / "hosts.yml").write_text("all:\n  hosts:\n    one: {}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(git + args, cwd=path, check=True)
    return path


def test_inventory_updates_of_one_source_are_serial(admin, app_state, repo):
    """(Runs before the job workers start, so the updates stay queued while it looks.)"""
    org = make_org(admin)
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    project = admin.post("/api/v2/projects/", {"name": uniq("p"), "organization": org["id"], "scm_type": "git",
                                               "scm_url": f"file://{repo}", "scm_branch": "main"}).json
    source = admin.post("/api/v2/inventory_sources/", {"name": uniq("s"), "inventory": inv["id"], "source": "scm",
                                                       "source_project": project["id"], "source_path": "hosts.yml"})
    assert source.status_code == 201, source.json
    ctx = system_context(app_state)
    row = app_state.store.get("inventory_sources", source.json["id"])
    one = inventory_update.start_update(ctx, row)
    two = inventory_update.start_update(ctx, row)
    assert not inventory_update.blocked(ctx, two)
    app_state.store.update("inventory_updates", one["id"], {"status": "running"})
    assert inventory_update.blocked(ctx, two) and not inventory_update.blocked(ctx, one)
    app_state.store.update("inventory_updates", one["id"], {"status": "successful"})
    assert not inventory_update.blocked(ctx, two)


def test_a_second_project_update_waits_for_the_first(admin, jobs, repo):
    org = make_org(admin)
    for _round in range(3):   # before the fix each round failed about one time in two
        project = admin.post("/api/v2/projects/", {"name": uniq("p"), "organization": org["id"], "scm_type": "git",
                                                   "scm_url": f"file://{repo}", "scm_branch": "main"}).json
        second = admin.post(f"/api/v2/projects/{project['id']}/update/", {})
        assert second.status_code == 202, second.json
        updates = admin.get(f"/api/v2/projects/{project['id']}/project_updates/?order_by=id").json["results"]
        assert len(updates) == 2
        first, last = (wait_update(admin, u["id"], timeout=90) for u in updates)
        assert (first["status"], last["status"]) == ("successful", "successful"), (first, last)
        assert last["started"] >= first["finished"]

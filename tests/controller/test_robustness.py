"""Start-up reaping of jobs a crash left running, and retention cleanup (turret cleanup)."""
from __future__ import annotations

import subprocess
import sys

from controller import open_state
from controller.config import Settings
from controller.services.bootstrap import system_context
from controller.services.cleanup import cleanup
from controller.store import jobs as q
from tests.support.jobs import launch, make_inventory, make_jt, make_org, make_project, wait_job

PLAY = {"site.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=kept\n"}


def _job(admin, app_state) -> dict:
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, PLAY)
    jt = make_jt(admin, project, make_inventory(admin, org), "site.yml")
    return jt


def test_jobs_left_running_by_a_crash_are_reaped_before_anything_runs(admin, app_state):
    jt = _job(admin, app_state)
    job = launch(admin, jt)          # no workers in this process: it stays pending
    pending = admin.get(job["url"]).json
    assert pending["status"] == "pending"
    # pretend a previous process had claimed it and died mid-run
    q.set_fields(app_state.store, "jobs", job["id"], {"status": "running", "started": pending["created"]})
    dispatcher = app_state.start_jobs(workers=1)
    try:
        reaped = admin.get(job["url"]).json
        assert reaped["status"] == "error" and reaped["failed"] is True
        assert "marked as running at system start up" in reaped["job_explanation"]
        assert reaped["event_processing_finished"] is True and reaped["finished"]
        # the queue still works after the reaping
        fresh = wait_job(admin, launch(admin, jt)["id"])
        assert fresh["status"] == "successful"
    finally:
        app_state.stop_jobs()
    assert dispatcher is not None


def test_cleanup_deletes_old_jobs_with_their_events_and_keeps_recent_ones(admin, app_state):
    jt = _job(admin, app_state)
    app_state.start_jobs(workers=1)
    try:
        old = wait_job(admin, launch(admin, jt)["id"])
        recent = wait_job(admin, launch(admin, jt)["id"])
    finally:
        app_state.stop_jobs()
    assert admin.get(f"/api/v2/jobs/{old['id']}/job_events/").json["count"] > 0
    q.set_fields(app_state.store, "jobs", old["id"], {"finished": "2001-01-01T00:00:00.000000Z"})
    counts = cleanup(system_context(app_state), 30)
    assert counts["jobs"] == 1
    assert admin.get(f"/api/v2/jobs/{old['id']}/").status_code == 404
    assert app_state.store.count("job_events", "job = ?", [old["id"]]) == 0
    assert app_state.store.count("job_host_summaries", "job = ?", [old["id"]]) == 0
    assert admin.get(f"/api/v2/jobs/{recent['id']}/").json["status"] == "successful"
    assert app_state.store.count("job_events", "job = ?", [recent["id"]]) > 0


def test_turret_cleanup_command(tmp_path):
    data = tmp_path / "data"
    state = open_state(Settings({"DATA_DIR": str(data)}, environ={}))
    state.store.close()
    out = subprocess.run([sys.executable, "-m", "controller", "cleanup", "--days", "7", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "older than 7 days" in out.stdout and "jobs" in out.stdout

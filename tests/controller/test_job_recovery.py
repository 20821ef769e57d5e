"""Job-engine reliability: cancel with an unnormalized data dir, start-up recovery of what a dead
controller left (its jobs' processes and run folders, jobs whose events were never marked
processed), and job views served by a process that runs no job workers.

Everything is real: ansible-runner jobs on local-connection hosts, SQLite files, processes
found in /proc, and (for the no-workers views) a live ``turret serve`` over HTTP.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.jobs.dispatcher import REAPED
from controller.services.bootstrap import initialize
from controller.store import jobs as q
from tests.conftest import start_controller
from tests.support.jobs import (
    awx_stdout, events, job_processes, launch, make_inventory, make_jt, make_org, make_project, processes_left,
    strip_ansi, wait_job, wait_status, wait_until,
)

from conftest import ADMIN_PASSWORD, Client  # tests/controller/conftest.py (rootdir-less import)

SLEEP = """- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: msg=starting
    - name: nap
      command: sleep 30
"""
BROKEN = """- hosts: all
  gather_facts: false
  tasks:
    - name: greet
      debug: msg=hello
    - name: break
      fail: msg=broken
"""
PLAYBOOKS = {"sleep.yml": SLEEP, "broken.yml": BROKEN}


class Controller:
    """One in-process controller (state + app + admin client) on ``data_dir``."""

    def __init__(self, data_dir: str, **overrides) -> None:
        self.state = open_state(Settings({"DATA_DIR": data_dir, "SCHEDULER_ENABLED": False, **overrides},
                                         environ={}))
        initialize(self.state, ADMIN_PASSWORD, demo=False)
        self.app = create_app(state=self.state)
        self.admin = Client(self.app, "admin", ADMIN_PASSWORD)
        self.data_dir = Path(self.state.settings.data_dir)

    def close(self) -> None:
        self.state.stop_jobs()
        self.state.store.close()


# -- 5: cancel ends every process even when the data dir was given unnormalized ------------------
@pytest.mark.slow
@pytest.mark.parametrize("shape", ["dotdot", "relative"])
def test_cancel_ends_all_processes_with_an_unnormalized_data_dir(tmp_path, monkeypatch, shape):
    if shape == "dotdot":
        (tmp_path / "a").mkdir()
        given = f"{tmp_path}/a/../b"
    else:
        monkeypatch.chdir(tmp_path)
        given = "rel/data"
    real = (tmp_path / ("b" if shape == "dotdot" else "rel/data")).resolve()
    ctl = Controller(given)
    try:
        assert ctl.data_dir == real          # resolved once, when the settings are loaded
        ctl.state.start_jobs(workers=2)
        org = make_org(ctl.admin)
        jt = make_jt(ctl.admin, make_project(ctl.admin, real, org, PLAYBOOKS), make_inventory(ctl.admin, org),
                     "sleep.yml")
        job_id = launch(ctl.admin, jt)["id"]
        wait_status(ctl.admin, job_id, ["running"])
        found = wait_until(lambda: [p for p in job_processes(job_id, real) if "sleep 30" in p[1]] and
                           job_processes(job_id, real), 30, "the job's sleep")
        assert any("ansible-playbook" in cmd for _pid, cmd in found), found
        assert ctl.admin.post(f"/api/v2/jobs/{job_id}/cancel/").status_code == 202
        job = wait_job(ctl.admin, job_id, timeout=20)
        assert job["status"] == "canceled" and job["job_explanation"] == "Job was canceled"
        assert processes_left(job_id, real) == []
        assert [p.name for p in (real / "runs").glob(f"job-{job_id}-*")] == []
    finally:
        ctl.close()


# -- 6: start-up ends the processes of jobs whose controller died, and only those -----------------
def fake_run(root: Path, ident: str) -> tuple[Path, subprocess.Popen]:
    """What a dead controller leaves of a running job: its run folder (with a secret in it) and a
    process carrying the folder's ``AWX_ISOLATED_DATA_DIR``, in a session of its own."""
    folder = root / f"{ident}-{uuid.uuid4().hex[:8]}"
    (folder / "env").mkdir(parents=True)
    (folder / "env" / "ssh_key").write_text("-----BEGIN KEY-----")
    env = {"PATH": os.environ["PATH"], "AWX_ISOLATED_DATA_DIR": str(folder / "artifacts" / "run"),
           "TURRET_RUN": ident}
    proc = subprocess.Popen(["sleep", "120"], env=env, start_new_session=True)
    return folder, proc


def own(owners: Path, ident: str, token: str) -> None:
    """The marks of a dispatcher (``token``) that claimed job ``ident``."""
    owners.mkdir(parents=True, exist_ok=True)
    (owners / f"{ident}.{token}").touch()
    (owners / f"{token}.lock").touch()


def test_startup_ends_orphaned_processes_before_reaping_and_spares_a_live_owner(tmp_path):
    ctl = Controller(str(tmp_path / "data"))
    procs: list[subprocess.Popen] = []
    live_lock = None
    try:
        org = make_org(ctl.admin)
        jt = make_jt(ctl.admin, make_project(ctl.admin, ctl.data_dir, org, PLAYBOOKS),
                     make_inventory(ctl.admin, org), "sleep.yml", allow_simultaneous=True)
        dead_id, live_id, unmarked_id = (launch(ctl.admin, jt)["id"] for _ in range(3))
        store, root = ctl.state.store, ctl.data_dir / "runs"
        for pk in (dead_id, live_id, unmarked_id):
            q.set_fields(store, "jobs", pk, {"status": "running", "started": "2026-01-01T00:00:00.000000Z"})
        dead_dir, dead_proc = fake_run(root, f"job-{dead_id}")
        live_dir, live_proc = fake_run(root, f"job-{live_id}")
        procs += [dead_proc, live_proc]
        own(root / ".owners", f"job-{dead_id}", "deadowner")       # nobody holds its lock
        own(root / ".owners", f"job-{live_id}", "liveowner")
        live_lock = os.open(root / ".owners" / "liveowner.lock", os.O_RDWR)
        fcntl.flock(live_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)      # a sibling controller, alive

        ctl.state.start_jobs(workers=0)

        assert dead_proc.wait(timeout=5) is not None                 # ended by the start-up sweep
        assert not dead_dir.exists()                                 # and its secrets removed
        dead = ctl.admin.get(f"/api/v2/jobs/{dead_id}/").json
        assert (dead["status"], dead["failed"], dead["job_explanation"]) == ("error", True, REAPED)
        assert dead["event_processing_finished"] is True and dead["finished"]
        assert sorted(p.name for p in (root / ".owners").iterdir() if "dead" in p.name) == []
        unmarked = ctl.admin.get(f"/api/v2/jobs/{unmarked_id}/").json   # claimed, never started
        assert (unmarked["status"], unmarked["event_processing_finished"]) == ("error", True)
        # the job of a live owner is not ours to end
        assert live_proc.poll() is None and live_dir.exists()
        assert (root / ".owners" / f"job-{live_id}.liveowner").exists()
        live = ctl.admin.get(f"/api/v2/jobs/{live_id}/").json
        assert (live["status"], live["event_processing_finished"]) == ("running", False)
    finally:
        if live_lock is not None:
            os.close(live_lock)
        for proc in procs:
            proc.kill()
            proc.wait()
        ctl.close()


@pytest.mark.slow
def test_a_second_controller_starting_spares_the_running_job_of_a_live_one(tmp_path):
    first = Controller(str(tmp_path / "data"))
    second = None
    try:
        first.state.start_jobs(workers=2)
        org = make_org(first.admin)
        jt = make_jt(first.admin, make_project(first.admin, first.data_dir, org, PLAYBOOKS),
                     make_inventory(first.admin, org), "sleep.yml")
        job_id = launch(first.admin, jt)["id"]
        wait_status(first.admin, job_id, ["running"])
        wait_until(lambda: [p for p in job_processes(job_id, first.data_dir) if "sleep 30" in p[1]], 30,
                   "the job's sleep")
        second = Controller(str(tmp_path / "data"))        # same data dir, its own dispatcher
        second.state.start_jobs(workers=1)
        body = second.admin.get(f"/api/v2/jobs/{job_id}/").json
        assert (body["status"], body["job_explanation"]) == ("running", "")
        assert [p for p in job_processes(job_id, first.data_dir) if "sleep 30" in p[1]]
        assert second.admin.post(f"/api/v2/jobs/{job_id}/cancel/").status_code == 202
        assert wait_job(first.admin, job_id, timeout=20)["status"] == "canceled"
        assert processes_left(job_id, first.data_dir) == []
        # a job whose events are all stored leaves no mark; only the two live owners' locks stay
        owners = first.data_dir / "runs" / ".owners"
        assert sorted(p.suffix for p in owners.iterdir()) == [".lock", ".lock"]
    finally:
        if second is not None:
            second.close()
        first.close()


# -- 7: a job that ended right before a crash gets its events finished at start-up ----------------
def test_startup_finishes_events_of_a_job_ended_before_a_crash(tmp_path):
    ctl = Controller(str(tmp_path / "data"))
    try:
        ctl.state.start_jobs(workers=2)
        org = make_org(ctl.admin)
        jt = make_jt(ctl.admin, make_project(ctl.admin, ctl.data_dir, org, PLAYBOOKS),
                     make_inventory(ctl.admin, org), "broken.yml")
        job_id = launch(ctl.admin, jt)["id"]
        job = wait_job(ctl.admin, job_id)
        assert job["status"] == "failed"
        ctl.state.stop_jobs()
        store = ctl.state.store
        flagged = {r["uuid"] for r in store.query(
            "SELECT uuid FROM job_events WHERE job = ? AND failed = 1", (job_id,))}
        kinds = {r["event"] for r in store.query(
            "SELECT event FROM job_events WHERE job = ? AND failed = 1", (job_id,))}
        # the barrier propagated the failure up to the playbook
        assert {"runner_on_failed", "playbook_on_task_start", "playbook_on_play_start",
                "playbook_on_start"} <= kinds
        # the state a crash between the job's end and its writer's barrier leaves behind
        with store.transaction():
            store.execute("UPDATE job_events SET failed = 0 WHERE job = ? AND event LIKE 'playbook_on_%' "
                          "AND event != 'playbook_on_stats'", (job_id,))
        q.set_fields(store, "jobs", job_id, {"event_processing_finished": False})
        assert ctl.admin.get(f"/api/v2/jobs/{job_id}/").json["event_processing_finished"] is False

        ctl.state.start_jobs(workers=0)

        after = ctl.admin.get(f"/api/v2/jobs/{job_id}/").json
        assert (after["status"], after["event_processing_finished"]) == ("failed", True)
        assert {r["uuid"] for r in store.query(
            "SELECT uuid FROM job_events WHERE job = ? AND failed = 1", (job_id,))} == flagged
    finally:
        ctl.close()


def test_an_ended_status_is_written_only_after_every_event_is_stored(tmp_path):
    """So a crash right after a job's end cannot lose its events (recovery only sets the flag)."""
    ctl = Controller(str(tmp_path / "data"))
    try:
        dispatcher = ctl.state.start_jobs(workers=1)
        dispatcher.writer.max_wait = 1.5        # a wide window between an event and its commit
        org = make_org(ctl.admin)
        jt = make_jt(ctl.admin, make_project(ctl.admin, ctl.data_dir, org, PLAYBOOKS),
                     make_inventory(ctl.admin, org), "broken.yml")
        job_id = launch(ctl.admin, jt)["id"]
        store = ctl.state.store
        deadline = time.monotonic() + 60
        while q.status_of(store, "jobs", job_id) not in ("successful", "failed", "error", "canceled"):
            assert time.monotonic() < deadline, "the job did not end"
            time.sleep(0.01)
        stored = [r["event"] for r in store.query(
            "SELECT event FROM job_events WHERE job = ? ORDER BY counter", (job_id,))]
        assert stored and stored[-1] == "playbook_on_stats", stored
        assert wait_job(ctl.admin, job_id)["status"] == "failed"
    finally:
        ctl.close()


# -- 8: a process without job workers serves the job views ----------------------------------------
@pytest.mark.slow
def test_job_views_in_a_process_without_job_workers(tmp_path):
    data = tmp_path / "data"
    ctl = Controller(str(data))
    try:
        ctl.state.start_jobs(workers=2)
        org = make_org(ctl.admin)
        jt = make_jt(ctl.admin, make_project(ctl.admin, ctl.data_dir, org, PLAYBOOKS),
                     make_inventory(ctl.admin, org), "broken.yml")
        job_id = launch(ctl.admin, jt)["id"]
        assert wait_job(ctl.admin, job_id)["status"] == "failed"
        expected = strip_ansi(awx_stdout(events(ctl.admin, job_id)))
    finally:
        ctl.close()
    # a fresh process that starts no job worker: the kinds must be known without them
    live = start_controller(tmp_path / "server", data_dir=data, env={"TURRET_JOB_WORKERS": "0"})
    try:
        api = live.client("admin", ADMIN_PASSWORD)
        txt = api.get(f"/api/v2/jobs/{job_id}/stdout/?format=txt")
        assert txt.status_code == 200, txt.text
        assert txt.text == expected and "fatal: [h1]: FAILED!" in txt.text
        body = api.get(f"/api/v2/jobs/{job_id}/stdout/?format=json").json()
        assert body["content"] == expected and body["range"]["start"] == 0
        assert body["range"]["absolute_end"] == body["range"]["end"] == expected.count("\n")
        listed = api.get(f"/api/v2/jobs/{job_id}/job_events/?order_by=counter&page_size=200").json()
        counters = [e["counter"] for e in listed["results"]]
        assert counters == list(range(1, listed["count"] + 1)) and listed["count"] >= 8
        stream = api.get(f"/api/v2/jobs/{job_id}/events_stream/", timeout=10)
        assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        frames = [f for f in stream.text.split("\n\n") if f.strip()]
        sent = [json.loads(f.split("data: ", 1)[1]) for f in frames if "event: job_event" in f]
        assert [e["counter"] for e in sent] == counters
        assert "event: end" in frames[-1] and json.loads(frames[-1].split("data: ", 1)[1]) == {"status": "failed"}
    finally:
        live.stop()

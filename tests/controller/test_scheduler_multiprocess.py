"""Several controller processes on one database fire every occurrence exactly once.

Three real processes open the same data directory and follow a SIMULATED clock the test
advances in 15-second steps over 60 simulated minutes of an every-minute schedule; like a real
clock (whose seconds are long next to a tick), a step lasts until every live process has
ticked at it, and no longer: processes still race within a step.  Halfway,
one of them is killed with SIGKILL (the lease holder when they use the lease).  The ledger
(``schedule_fires``) and the jobs must then hold each of the 60 occurrences exactly once:
no duplicates, no gaps.  With ``no-lease`` all three race through ``tick()`` at every step,
so only the compare-and-set and the ledger's key stand between them and a double fire.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from controller.store import schedules as sq
from tests.controller.conftest import unique
from tests.support.jobs import make_inventory, make_jt, make_org, make_project

ROOT = Path(__file__).resolve().parents[2]
STEP = timedelta(seconds=15)
MINUTES = 60
WORKER = r"""
import os, sys, time
from datetime import datetime
from controller import open_state
from controller.config import Settings
from controller.jobs.scheduler import Scheduler, tick
from controller.services.bootstrap import system_context

data_dir, clock, mode = sys.argv[1:4]
# no worker runs the fired jobs: AWX's SCHEDULE_MAX_JOBS (10 waiting) would skip later occurrences
state = open_state(Settings({"DATA_DIR": data_dir, "SCHEDULE_MAX_JOBS": 1000000}, environ={}))
scheduler = Scheduler(state, lease_seconds=30, grace=90)
ctx = system_context(state)
open(os.path.join(os.path.dirname(clock), f"ready-{os.getpid()}"), "w").close()
last = None
while True:
    try:
        with open(clock) as f:
            text = f.read().strip()
    except FileNotFoundError:
        text = ""
    if text == "stop":
        break
    if text and text != last:
        now = datetime.fromisoformat(text)
        if mode == "lease":
            scheduler.run_once(now)
        else:
            tick(ctx, now, node=scheduler.holder)
        last = text
        ack = os.path.join(os.path.dirname(clock), f"ack-{os.getpid()}")
        with open(ack + ".tmp", "w") as f:
            f.write(text)
        os.replace(ack + ".tmp", ack)
    else:
        time.sleep(0.002)
"""


def set_clock(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def acked(folder: Path, pid: int) -> str:
    try:
        return (folder / f"ack-{pid}").read_text()
    except FileNotFoundError:
        return ""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


@pytest.fixture(scope="module")
def jt(admin, app_state):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"play.yml": "- hosts: all\n  tasks: []\n"})
    return make_jt(admin, project, make_inventory(admin, org), "play.yml")


@pytest.mark.parametrize("mode, day", [("lease", "01"), ("no-lease", "02")])
def test_three_processes_fire_each_occurrence_exactly_once(admin, app_state, jt, tmp_path, mode, day):
    t0 = datetime.fromisoformat(f"2031-01-{day}T00:00:00+00:00")
    schedule = admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {
        "name": unique("every-minute"), "rrule": f"DTSTART:{t0:%Y%m%dT%H%M%SZ} RRULE:FREQ=MINUTELY;INTERVAL=1"}).json
    assert schedule["next_run"] == f"{t0:%Y-%m-%dT%H:%M:%SZ}", schedule
    clock = tmp_path / "clock"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    logs = [open(tmp_path / f"worker-{i}.log", "wb") for i in range(3)]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(app_state.settings.data_dir), str(clock), mode],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT) for log in logs]
    killed = None
    try:
        wait_for(lambda: len(list(tmp_path.glob("ready-*"))) == 3, 60, "three workers")
        steps = MINUTES * 60 // int(STEP.total_seconds())
        for i in range(steps):
            now = (t0 + i * STEP).isoformat()
            set_clock(clock, now)
            if i == steps // 2:
                if mode == "lease":
                    holder = sq.lease_holder(app_state.store, "scheduler")["holder"]
                    killed = next(w for w in workers if f":{w.pid}:" in holder)
                else:
                    killed = workers[0]
                killed.send_signal(signal.SIGKILL)
                killed.wait(10)
            alive = [w for w in workers if w is not killed]
            wait_for(lambda: all(acked(tmp_path, w.pid) == now for w in alive), 30, f"every process at {now}")
        wait_for(lambda: len(sq.fires(app_state.store, schedule["id"])) >= MINUTES, 30, "the last occurrences")
        time.sleep(0.3)   # anything still in flight would show up as a duplicate now
    finally:
        set_clock(clock, "stop")
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        for log in logs:
            log.close()
        admin.patch(schedule["url"], {"enabled": False})
    output = "\n".join((tmp_path / f"worker-{i}.log").read_text() for i in range(3))
    assert killed is not None and killed.returncode == -signal.SIGKILL
    assert all(w.returncode == 0 for w in workers if w is not killed), output
    fires = sq.fires(app_state.store, schedule["id"])
    expected = [f"{t0 + timedelta(minutes=m):%Y-%m-%dT%H:%M:%SZ}" for m in range(MINUTES)]
    assert [f["fire_time"] for f in fires] == expected          # each occurrence once: no gap, no duplicate
    jobs = app_state.store.query("SELECT id, launch_type FROM jobs WHERE schedule = ? ORDER BY id", (schedule["id"],))
    assert len(jobs) == MINUTES and {j["launch_type"] for j in jobs} == {"scheduled"}
    assert sorted(f["job_id"] for f in fires) == [j["id"] for j in jobs]
    nodes = {f["node"] for f in fires}
    assert len(nodes) >= 2, "a surviving process took over from the killed one"
    after = {f["node"] for f in fires[MINUTES // 2 + 1:]}
    assert all(f":{killed.pid}:" not in n for n in after), "the killed process cannot have fired later"

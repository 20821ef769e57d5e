"""The fleet of issue 17: ``turret worker`` processes on a real Redis broker seen as AWX
``execution`` instances — registration and heartbeat, capacity as AWX computes it, instance
groups from the queues a worker serves, drain by disabling, capacity-bounded admission, a
worker killed (SIGKILL) → its jobs ``error`` within 30 s, a broker restart under the workers.

Real parts only: redis-server on a free loopback port (tests/support/redis_server.py), worker
subprocesses with their own --name and --data-dir (tests/support/workers.py), the controller's
app on a real SQLite file with ``BROKER_URL`` set, and the fleet monitor thread.
"""
from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis

from controller.services import instances as nodes
from controller.services.bootstrap import system_context
from controller.store import jobs as q
from controller.workers import fleet, keys, registration
from controller.workers.app import make_celery
from controller.workers.worker import parse_queues
from tests.controller.conftest import ADMIN_PASSWORD
from tests.support.jobs import (
    LOCAL, launch, make_inventory, make_jt, make_org, make_project, wait_job, wait_status, wait_until,
)
from tests.support.workers import scaleout_fixtures, start_worker, wait_registered

NAP = """- hosts: all
  gather_facts: false
  tasks:
    - name: nap
      command: sleep {{ nap | default(4) }}
      run_once: true
"""
PLAYBOOKS = {"nap.yml": NAP}


broker, app_state = scaleout_fixtures(ADMIN_PASSWORD, persist=True)


@pytest.fixture(scope="module")
def workers(app_state, broker, tmp_path_factory):
    """Workers ``fl-a`` (queue ``fleet``), ``fl-b`` (``fleet,dmz``) and ``fl-c`` (``doomed``: the
    one killed), and the controller's dispatcher (its remote runs and the fleet monitor)."""
    root = tmp_path_factory.mktemp("workers")
    started = [start_worker(broker.url, "fl-a", "fleet", 2, root / "fl-a"),
               start_worker(broker.url, "fl-b", "fleet,dmz", 2, root / "fl-b"),
               start_worker(broker.url, "fl-c", "doomed", 1, root / "fl-c")]
    try:
        wait_registered(broker.url, *started)
        app_state.start_jobs(workers=2)
        yield {w.name: w for w in started}
    finally:
        app_state.stop_jobs()
        for w in started:
            w.stop()


@pytest.fixture(scope="module")
def stage(admin, app_state, workers):
    """Organization, project, a one-host inventory, and ``nobody`` (a group no worker serves:
    jobs pinned to it stay pending)."""
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, PLAYBOOKS)
    inventory = make_inventory(admin, org, ["h1"], **LOCAL)
    nobody = admin.post("/api/v2/instance_groups/", {"name": "nobody"}).json
    return {"org": org, "project": project, "inventory": inventory, "nobody": nobody}


def pinned_jt(admin, stage, playbook: str, group_name: str, inventory: dict | None = None, **fields) -> dict:
    """A template of ``playbook`` whose jobs run in instance group ``group_name``."""
    jt = make_jt(admin, stage["project"], inventory or stage["inventory"], playbook, allow_simultaneous=True,
                 **fields)
    gid = stage["nobody"]["id"] if group_name == "nobody" else group(admin, group_name)["id"]
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": gid})
    assert resp.status_code == 204, resp.json
    return jt


def run_processes(under: Path) -> list[tuple[int, str]]:
    """Live processes (zombies aside) whose environment or command line names a path under
    ``under`` (a worker's scratch space: every process of a run it started does)."""
    needle, found = str(under).encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ")
        except OSError:
            continue
        if needle in env or needle in cmd:
            found.append((int(entry), cmd.decode(errors="replace")))
    return found


@pytest.fixture(scope="module")
def rclient(broker):
    client = redis.Redis.from_url(broker.url, decode_responses=True)
    yield client
    client.close()


def instance(admin, name: str, timeout: float = 20) -> dict:
    """The API's instance ``name`` once the monitor mirrored it."""
    def found():
        rows = admin.get(f"/api/v2/instances/?hostname={name}").json["results"]
        return rows[0] if rows else None
    return wait_until(found, timeout, f"instance {name}")


def group(admin, name: str) -> dict:
    rows = admin.get(f"/api/v2/instance_groups/?name={name}").json["results"]
    assert rows, f"no instance group {name}"
    return rows[0]


def members(admin, group_row: dict) -> set[str]:
    return {i["hostname"] for i in admin.get(f"/api/v2/instance_groups/{group_row['id']}/instances/").json["results"]}


def age(stamp: str) -> float:
    return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()


# -- fast: the pure parts ---------------------------------------------------------------------
def test_queues_and_default_concurrency():
    assert parse_queues("") == ["default"]
    assert parse_queues(" dmz, default,dmz,") == ["dmz", "default"]
    # 2 CPUs, 22 GiB: the CPU capacity (8 forks) bounds it; little memory bounds it harder
    assert registration.default_concurrency({"cpu": 2, "cpu_capacity": 8, "mem_capacity": 220}) == 8
    assert registration.default_concurrency({"cpu": 2, "cpu_capacity": 8, "mem_capacity": 5}) == 2
    assert registration.default_concurrency({"cpu": 64, "cpu_capacity": 256, "mem_capacity": 2000}) == 32
    assert registration.default_concurrency({"cpu": 1, "cpu_capacity": 4, "mem_capacity": 1}) == 1


def test_worker_command_needs_a_broker(monkeypatch, capsys):
    from controller.cli import main
    monkeypatch.delenv("TURRET_BROKER_URL", raising=False)
    assert main(["worker", "--name", "nowhere"]) == 2
    assert "--broker or TURRET_BROKER_URL is required" in capsys.readouterr().err


# -- registration → instances -----------------------------------------------------------------
@pytest.mark.slow
def test_workers_are_execution_instances_with_awx_capacity(admin, workers, rclient):
    a, b = instance(admin, "fl-a"), instance(admin, "fl-b")
    for row, name in ((a, "fl-a"), (b, "fl-b")):
        reg = rclient.hgetall(keys.worker(name))
        assert 0 < rclient.ttl(keys.worker(name)) <= registration.TTL
        assert row["node_type"] == "execution" and row["node_state"] == "ready" and row["enabled"] is True
        assert row["managed"] is False and row["errors"] == ""
        cpu, memory = int(row["cpu"]), row["memory"]
        assert (cpu, memory) == (int(reg["cpu"]), int(reg["memory"])) and cpu >= 1 and memory > 0
        # AWX: 4 forks per CPU, (memory - 2 GiB) / 100 MiB, capacity_adjustment 1.0 takes the larger
        assert row["cpu_capacity"] == cpu * 4
        assert row["mem_capacity"] == max(1, (memory - 2 * 1024 ** 3) // (1024 * 1024) // 100)
        assert row["capacity"] == max(row["cpu_capacity"], row["mem_capacity"])
        assert row["consumed_capacity"] == 0 and row["jobs_running"] == 0
        assert row["percent_capacity_remaining"] == 100.0
        assert row["version"].startswith("ansible-runner-")
        assert age(row["last_seen"]) < 15
        assert reg["concurrency"] == "2" and reg["node"] == f"celery@{name}"
    # instance groups are the queues each worker serves; a missing group was created
    assert members(admin, group(admin, "fleet")) == {"fl-a", "fl-b"}
    assert members(admin, group(admin, "dmz")) == {"fl-b"}
    assert "fl-a" not in members(admin, group(admin, "default"))
    assert group(admin, "fleet")["capacity"] == a["capacity"] + b["capacity"]
    # the heartbeat moves on while the worker lives
    first = a["last_seen"]
    wait_until(lambda: instance(admin, "fl-a")["last_seen"] > first, 12, "a newer heartbeat of fl-a")
    checked = admin.post(f"/api/v2/instances/{a['id']}/health_check/")     # a worker: its last heartbeat
    assert checked.status_code == 200 and checked.json["errors"] == ""
    assert checked.json["capacity"] == a["capacity"] and checked.json["cpu"] == a["cpu"]
    assert len(a["uuid"]) == 36 and a["uuid"] != b["uuid"]
    ping = admin.get("/api/v2/ping/").json
    assert {"node": "fl-b", "node_type": "execution"}.items() <= next(
        i for i in ping["instances"] if i["node"] == "fl-b").items()


def consuming(rclient, name: str) -> str | None:
    """The queues worker ``name`` reports consuming (None before its consumer is ready)."""
    reg = rclient.hgetall(keys.worker(name))
    return reg.get("consuming") if reg.get("ready") == "1" else None


def celery_queues(broker, name: str) -> set[str]:
    """The queues Celery itself says worker ``name`` consumes (its ``active_queues``)."""
    app = make_celery(broker.url)
    try:
        answer = app.control.inspect(destination=[f"celery@{name}"], timeout=2).active_queues() or {}
    finally:
        app.close()
    return {q["name"] for q in answer.get(f"celery@{name}", [])}


def nap_vars(seconds: float) -> str:
    return f"nap: {seconds}"


# -- routing and drain ------------------------------------------------------------------------
@pytest.mark.slow
def test_drain_lets_running_jobs_finish_and_new_ones_go_elsewhere(admin, app_state, workers, stage, rclient, broker):
    long = launch(admin, pinned_jt(admin, stage, "nap.yml", "fleet", extra_vars=nap_vars(6)))
    busy = wait_status(admin, long["id"], ["running"], 60)["execution_node"]
    assert busy in ("fl-a", "fl-b")
    other = "fl-b" if busy == "fl-a" else "fl-a"
    configured = rclient.hget(keys.worker(busy), "queues")
    wanted = ",".join(sorted(configured.split(",")))
    inst = instance(admin, busy)
    try:
        resp = admin.patch(f"/api/v2/instances/{inst['id']}/", {"enabled": False})
        assert resp.status_code == 200 and resp.json["capacity"] == 0
        assert fleet.worker_enabled(app_state.store, busy) is False      # the claim check refuses it
        wait_until(lambda: consuming(rclient, busy) == "", 20, f"{busy} drained (consuming nothing)")
        assert celery_queues(broker, busy) == set()                      # Celery itself agrees
        assert celery_queues(broker, other) == set(rclient.hget(keys.worker(other), "queues").split(","))
        assert group(admin, "fleet")["capacity"] == instance(admin, other)["capacity"]
        assert admin.get(f"/api/v2/jobs/{long['id']}/").json["status"] == "running"   # not touched
        later = wait_job(admin, launch(admin, pinned_jt(admin, stage, "nap.yml", "fleet",
                                                        extra_vars=nap_vars(0)))["id"], 90)
        assert (later["status"], later["execution_node"]) == ("successful", other)
        finished = wait_job(admin, long["id"], 90)
        assert (finished["status"], finished["execution_node"]) == ("successful", busy)
    finally:
        admin.patch(f"/api/v2/instances/{inst['id']}/", {"enabled": True})
    assert fleet.worker_enabled(app_state.store, busy) is True
    wait_until(lambda: consuming(rclient, busy) == wanted, 25, f"{busy} consuming again")
    assert celery_queues(broker, busy) == set(configured.split(","))


# -- admission: capacity across workers -------------------------------------------------------
@pytest.mark.slow
def test_group_capacity_bounds_admission(admin, app_state, workers, stage):
    """Service level: the live, enabled members' capacity minus the active jobs' impact."""
    ctx = system_context(app_state)
    fleet_group = group(admin, "fleet")
    room = instance(admin, "fl-a")["capacity"] + instance(admin, "fl-b")["capacity"]
    jt = pinned_jt(admin, stage, "nap.yml", "nobody")
    first, second = launch(admin, jt), launch(admin, jt)       # nobody serves their group: pending
    tables = [k.table for k in app_state.registry.process_jobs()]
    impacts = {first["id"]: room - 1}

    def impact_of(_table: str, row: dict) -> int:
        return impacts.get(row["id"], 1)
    job = app_state.store.get("jobs", second["id"])
    # a group running nothing takes one job of any size (AWX), so a huge job is not stuck forever
    assert nodes.has_room(ctx, fleet_group["id"], job, room + 50, tables, impact_of) is True
    q.set_fields(app_state.store, "jobs", first["id"], {"status": "running", "instance_group": fleet_group["id"]})
    b = instance(admin, "fl-b")
    try:
        assert nodes.has_room(ctx, fleet_group["id"], job, 1, tables, impact_of) is True     # room - 1 + 1
        assert nodes.has_room(ctx, fleet_group["id"], job, 2, tables, impact_of) is False    # one over
        # the capacity is the live, enabled members': disabling one takes its share away
        admin.patch(f"/api/v2/instances/{b['id']}/", {"enabled": False})
        impacts[first["id"]] = instance(admin, "fl-a")["capacity"]
        assert nodes.has_room(ctx, fleet_group["id"], job, 1, tables, impact_of) is False
        admin.patch(f"/api/v2/instances/{b['id']}/", {"enabled": True})
        assert nodes.has_room(ctx, fleet_group["id"], job, 1, tables, impact_of) is True
        # a group with no usable capacity (no worker serves it) takes nothing, even when idle
        assert nodes.has_room(ctx, stage["nobody"]["id"], job, 1, tables, impact_of) is False
        # what only the controller runs (an inventory update: no playbook) is not held back by it
        assert nodes.has_room(ctx, stage["nobody"]["id"], {"id": -1, "source": "file"}, 1, tables, impact_of)
        assert admin.get(f"/api/v2/jobs/{second['id']}/").json["status"] == "pending"
    finally:
        admin.patch(f"/api/v2/instances/{b['id']}/", {"enabled": True})
        for pk in (first["id"], second["id"]):
            q.set_fields(app_state.store, "jobs", pk, {"status": "canceled"})


@pytest.mark.slow
def test_a_burst_beyond_the_groups_capacity_waits_pending(admin, app_state, workers, stage):
    a, b = instance(admin, "fl-a"), instance(admin, "fl-b")
    try:
        for inst in (a, b):      # AWX's capacity_adjustment 0: the smaller of CPU and memory capacity
            resp = admin.patch(f"/api/v2/instances/{inst['id']}/", {"capacity_adjustment": 0})
            assert resp.status_code == 200 and resp.json["capacity"] == min(inst["cpu_capacity"],
                                                                            inst["mem_capacity"])
        cap = instance(admin, "fl-a")["capacity"]
        assert instance(admin, "fl-b")["capacity"] == cap and group(admin, "fleet")["capacity"] == 2 * cap
        # impact = min(forks, hosts) + 1 = cap: one job fills one worker's capacity
        inventory = make_inventory(admin, stage["org"], [f"n{i}" for i in range(cap - 1)], **LOCAL)
        jt = pinned_jt(admin, stage, "nap.yml", "fleet", inventory=inventory, forks=cap - 1,
                       extra_vars=nap_vars(3))
        burst = [launch(admin, jt)["id"] for _ in range(3)]

        def statuses() -> list[str]:
            return [admin.get(f"/api/v2/jobs/{pk}/").json["status"] for pk in burst]
        wait_until(lambda: statuses()[:2] == ["running", "running"], 60, "the first two jobs running")
        for _ in range(5):       # while they run, the third waits its turn in pending
            now = statuses()
            if now[:2] != ["running", "running"]:
                break
            assert now[2] == "pending", now
            full = group(admin, "fleet")
            assert (full["consumed_capacity"], full["jobs_running"]) == (2 * cap, 2)
            assert full["percent_capacity_remaining"] == 0.0
            time.sleep(0.3)
        done = [wait_job(admin, pk, 90) for pk in burst]
        assert [d["status"] for d in done] == ["successful"] * 3
        assert {d["execution_node"] for d in done} <= {"fl-a", "fl-b"}
        assert done[2]["started"] >= min(done[0]["finished"], done[1]["finished"])
        # the API's adjustment survived the workers' refreshes meanwhile
        assert float(instance(admin, "fl-a")["capacity_adjustment"]) == 0.0
    finally:
        for inst in (a, b):
            admin.patch(f"/api/v2/instances/{inst['id']}/", {"capacity_adjustment": 1})


# -- the broker restarts under idle workers and a waiting job ---------------------------------
@pytest.mark.slow
def test_broker_restart_workers_reconnect_and_the_waiting_job_runs_in_its_group(admin, workers, broker, stage):
    jt = pinned_jt(admin, stage, "nap.yml", "dmz", extra_vars=nap_vars(0))
    b = workers["fl-b"]
    os.kill(b.pid, signal.SIGSTOP)        # fl-b, dmz's only worker, cannot take the task for now
    try:
        time.sleep(2)                     # its blocking pop on the queue (1 s) has returned by now
        job = launch(admin, jt)
        wait_status(admin, job["id"], ["waiting"], 30)
        probe = redis.Redis.from_url(broker.url)
        wait_until(lambda: probe.llen("dmz") == 1, 10, "the job's task queued in the broker")
        probe.close()
        broker.stop()
        time.sleep(2)
        broker.start()                    # same port, data kept (appendonly)
        probe = redis.Redis.from_url(broker.url)
        assert probe.llen("dmz") == 1     # the waiting task outlived the restart
        probe.close()
    finally:
        os.kill(b.pid, signal.SIGCONT)
    deadline = time.monotonic() + 40
    while True:    # a client's first call on a restarted server may meet a closed socket: retry
        try:
            wait_registered(broker.url, *workers.values(), timeout=max(1.0, deadline - time.monotonic()))
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "workers did not come back after the broker restart"
            time.sleep(0.5)
    done = wait_job(admin, job["id"], 60)
    # routed by its instance group: dmz's queue, which only fl-b serves
    assert (done["status"], done["execution_node"], done["instance_group"]) == \
        ("successful", "fl-b", group(admin, "dmz")["id"])
    for name in ("fl-a", "fl-b", "fl-c"):
        seen = instance(admin, name)["last_seen"]
        wait_until(lambda: instance(admin, name)["last_seen"] > seen, 15, f"{name} mirrored after the restart")
        row = instance(admin, name)
        assert row["node_state"] == "ready" and row["capacity"] > 0 and row["errors"] == ""


# -- a worker killed mid-job: its job ends `error` within 30 s --------------------------------
@pytest.mark.slow
def test_killed_worker_is_lost_and_its_running_job_errors(admin, app_state, workers, stage):
    doomed = workers["fl-c"]
    try:
        inst = instance(admin, "fl-c")
        jt = pinned_jt(admin, stage, "nap.yml", "doomed", extra_vars=nap_vars(120))
        job = launch(admin, jt)
        assert wait_status(admin, job["id"], ["running"], 60)["execution_node"] == "fl-c"
        wait_until(lambda: any("sleep" in cmd for _pid, cmd in run_processes(doomed.data_dir)), 30,
                   "the play's sleep running on fl-c")
        busy = instance(admin, "fl-c")
        assert (busy["jobs_running"], busy["consumed_capacity"]) == (1, 2)      # min(5 forks, 1 host) + 1
        doomed.kill()
        killed = time.monotonic()
        body = wait_until(lambda: (lambda b: b if b["status"] == "error" else None)(
            admin.get(f"/api/v2/jobs/{job['id']}/").json), 30, "the lost worker's job to end error")
        assert time.monotonic() - killed <= 30
        assert "fl-c" in body["job_explanation"] and "not re-run" in body["job_explanation"]
        assert body["failed"] is True and body["finished"]
        wait_until(lambda: not run_processes(doomed.data_dir), 10, "no process of the run left (no orphan)")
        lost = wait_until(lambda: (lambda r: r if r["node_state"] == "unavailable" else None)(
            instance(admin, "fl-c")), 30, "fl-c marked lost")
        assert lost["capacity"] == 0 and "fl-c" in lost["errors"] and lost["id"] == inst["id"]
        assert lost["jobs_running"] == 0
        assert nodes.worker_enabled(app_state.store, "fl-c") is False
        time.sleep(2 * fleet.PERIOD)
        assert admin.get(f"/api/v2/jobs/{job['id']}/").json["status"] == "error"     # never re-run
        assert admin.get(f"/api/v2/job_templates/{jt['id']}/jobs/").json["count"] == 1
    finally:
        doomed.kill()

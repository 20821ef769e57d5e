#!/usr/bin/env python
"""Turret scale-out benchmark: jobs on 1, 2 and 3 ``turret worker``s through a Redis broker.

    .venv/bin/python bench/scaleout_bench.py [--quick] [--json out.json] [--keep]

Everything runs on 127.0.0.1 in a temporary folder (deleted at the end unless ``--keep``): a
``redis-server`` on a free port (Debian's; ``tests/support/setup_redis.sh`` installs it), the
controller (``python -m controller serve`` with ``TURRET_BROKER_URL``), and worker processes
(``python -m controller worker``) serving the instance group ``bench``.  Three figures:

1. **throughput**: jobs per hour of an execution-bound playbook (one ``sleep`` task: the
   worker machine waits, its CPU does not) with N = 1, 2, 3 workers of ``--concurrency`` slots
   each: ``rounds x N x concurrency`` jobs launched at once, from the first ``POST`` until the
   last one is finished.  Goal: N workers give >= 0.9 x N the jobs per hour of one, while the
   machine has CPU to spare (the load average is printed with the figures);
2. **controller CPU per job**: CPU seconds of the controller process (all its threads, not
   its children) per remote job (the throughput runs), and per local job: the same playbook
   run by an embedded controller (no broker) on the same data dir, where the ansible processes
   are the controller's children (their CPU is shown apart);
3. **dispatch latency**: ``POST /launch/`` of a one-task template until the job's ``started``
   (written when the worker's claim is granted, right before it starts ansible-runner), with
   idle workers, launches one after another.  Goal: p50 <= 100 ms.

A full run takes about 6 minutes, ``--quick`` about 2.  On a shared machine read the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, /proc figures, percentiles)

ADMIN_PASSWORD = "scaleout-bench-admin-pw-1"
LOCAL_VARS = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
PACED = """- hosts: all
  gather_facts: false
  tasks:
    - name: wait like a remote task does
      command: sleep {{ nap }}
"""
TRIVIAL = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"
FULL = dict(nap=30, rounds=2, concurrency=2, workers=3, latency_launches=10, local_jobs=4)
QUICK = dict(nap=8, rounds=1, concurrency=2, workers=3, latency_launches=5, local_jobs=2)
FINISHED = ("successful", "failed", "error", "canceled")


# -- processes: the broker and the workers -------------------------------------------------------
class Redis:
    """``redis-server`` on a free loopback port, no persistence."""

    def __init__(self, work: Path) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server not found: run tests/support/setup_redis.sh (Debian's package)")
        self.port = h.free_port()
        (work / "redis").mkdir()
        self.proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(work / "redis")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_worker(work: Path, url: str, name: str, concurrency: int) -> subprocess.Popen:
    """``turret worker`` serving the ``bench`` group, the venv's bin first in its PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TURRET_")}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}"
    log = open(work / f"{name}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "controller", "worker", "--broker", url, "--name", name,
                             "--queues", "bench", "--concurrency", str(concurrency),
                             "--data-dir", str(work / name)], cwd=str(h.REPO), env=env,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the API ---------------------------------------------------------------------------------------
def wait_instance(c: h.Client, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = c.json("GET", f"/api/v2/instances/?hostname={name}")["results"]
        if rows and rows[0]["node_state"] == "ready":
            return rows[0]
        time.sleep(0.2)
    raise RuntimeError(f"worker {name} never showed up as a ready instance")


def seed(c: h.Client, data_dir: Path, nap: int) -> dict:
    """Organization, manual project (paced + trivial playbooks), a one-host local inventory and
    the two templates (simultaneous runs allowed), over the API."""
    folder = data_dir / "projects" / "scaleout_bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paced.yml").write_text(PACED)
    (folder / "trivial.yml").write_text(TRIVIAL)
    org = c.json("POST", "/api/v2/organizations/", {"name": "ScaleoutBench"}, expect=201)
    project = c.json("POST", "/api/v2/projects/", {"name": "scaleout", "organization": org["id"],
                                                   "local_path": "scaleout_bench"}, expect=201)
    inv = c.json("POST", "/api/v2/inventories/", {"name": "one-local", "organization": org["id"]}, expect=201)
    c.json("POST", "/api/v2/hosts/", {"name": "local1", "inventory": inv["id"],
                                      "variables": json.dumps(LOCAL_VARS)}, expect=201)
    base = {"project": project["id"], "inventory": inv["id"], "allow_simultaneous": True}
    paced = c.json("POST", "/api/v2/job_templates/", {"name": "paced", "playbook": "paced.yml",
                                                      "extra_vars": f"nap: {nap}", **base}, expect=201)
    trivial = c.json("POST", "/api/v2/job_templates/", {"name": "trivial", "playbook": "trivial.yml", **base},
                     expect=201)
    return {"paced": paced["id"], "trivial": trivial["id"]}


def pin(c: h.Client, jt: int, group: str) -> None:
    gid = c.json("GET", f"/api/v2/instance_groups/?name={group}")["results"][0]["id"]
    c.json("POST", f"/api/v2/job_templates/{jt}/instance_groups/", {"id": gid}, expect=204)


def job_body(c: h.Client, pk: int) -> dict:
    return c.json("GET", f"/api/v2/jobs/{pk}/")


def wait_all(c: h.Client, ids: list[int], timeout: float = 900) -> list[dict]:
    deadline = time.monotonic() + timeout
    done: dict[int, dict] = {}
    while len(done) < len(ids) and time.monotonic() < deadline:
        for pk in ids:
            if pk not in done:
                body = job_body(c, pk)
                if body["status"] in FINISHED and body["event_processing_finished"]:
                    done[pk] = body
        time.sleep(0.2)
    if len(done) < len(ids):
        raise RuntimeError(f"jobs not finished after {timeout}s: {sorted(set(ids) - set(done))}")
    return [done[pk] for pk in ids]


def batch(c: h.Client, server: h.Server, jt: int, count: int) -> dict:
    """``count`` jobs of ``jt`` launched at once: wall time to the last one finished, jobs per
    hour, controller CPU per job, where they ran."""
    cpu0, ch0 = server.cpu_seconds(), server.cpu_seconds(with_children=True)
    t0 = time.time()
    ids = [c.json("POST", f"/api/v2/job_templates/{jt}/launch/", {}, expect=201)["id"] for _ in range(count)]
    bodies = wait_all(c, ids)
    last = max(ts(b["finished"]) for b in bodies)
    wall = last - t0
    cpu, with_children = server.cpu_seconds() - cpu0, server.cpu_seconds(with_children=True) - ch0
    nodes: dict[str, int] = {}
    for b in bodies:
        nodes[b["execution_node"]] = nodes.get(b["execution_node"], 0) + 1
    return {"jobs": count, "wall_s": wall, "jobs_per_hour": count / wall * 3600,
            "statuses": sorted({b["status"] for b in bodies}), "nodes": nodes,
            "controller_cpu_per_job_s": cpu / count,
            "controller_cpu_with_children_per_job_s": with_children / count,
            "loadavg": h.loadavg()}


def ts(value: str) -> float:
    """An API timestamp -> epoch seconds."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def dispatch_latency(c: h.Client, jt: int, launches: int) -> dict:
    """POST → ``started`` of ``launches`` one-task jobs, one after another (idle workers)."""
    samples = []
    for _ in range(launches):
        t0 = time.time()
        pk = c.json("POST", f"/api/v2/job_templates/{jt}/launch/", {}, expect=201)["id"]
        body = wait_all(c, [pk])[0]
        samples.append(ts(body["started"]) - t0)
    return h.stats_ms(samples)


# -- the run -------------------------------------------------------------------------------------
def run(cfg: dict, json_path: str | None, keep: bool) -> int:
    started = time.perf_counter()
    res = h.begin(config=cfg)
    with h.scratch("turret-scaleout-", keep) as (work, servers):
        broker = Redis(work)
        workers: list[subprocess.Popen] = []
        try:
            data_dir = work / "data"
            h.progress(f"controller with broker {broker.url}")
            server = h.Server(str(data_dir), str(work / "controller.log"), admin_password=ADMIN_PASSWORD,
                              env={"TURRET_BROKER_URL": broker.url, "TURRET_JOB_WORKERS": "2",
                                   "TURRET_WEB_WORKERS": "1"}, poll=0.02)   # one process: all its CPU
            servers.append(server)
            c = h.Client(server.port, h.basic("admin", ADMIN_PASSWORD))
            jts = seed(c, data_dir, cfg["nap"])
            res["throughput"] = {}
            for n in range(1, cfg["workers"] + 1):
                workers.append(start_worker(work, broker.url, f"bw{n}", cfg["concurrency"]))
                wait_instance(c, f"bw{n}")
                if n == 1:
                    pin(c, jts["paced"], "bench")
                    pin(c, jts["trivial"], "bench")
                    h.progress("dispatch latency (idle worker)")
                    res["dispatch_latency"] = dispatch_latency(c, jts["trivial"], cfg["latency_launches"])
                count = cfg["rounds"] * n * cfg["concurrency"]
                h.progress(f"throughput: {n} worker(s), {count} jobs of sleep {cfg['nap']}")
                res["throughput"][n] = batch(c, server, jts["paced"], count)
            c.close()
            server.stop()
            h.progress("local jobs: the same data dir, embedded (no broker)")
            local = h.Server(str(data_dir), str(work / "controller-local.log"), admin_password=ADMIN_PASSWORD,
                             env={"TURRET_BROKER_URL": None, "TURRET_WEB_WORKERS": "1"}, poll=0.02)
            servers.append(local)
            c = h.Client(local.port, h.basic("admin", ADMIN_PASSWORD))
            res["local"] = batch(c, local, jts["paced"], cfg["local_jobs"])
            c.close()
        finally:
            for proc in workers:
                stop_worker(proc)
            broker.stop()
    return h.finish(res, started, report, json_path)


def report(res: dict) -> str:
    tp = res["throughput"]
    one = tp[1]["jobs_per_hour"]
    lines = [f"scale-out benchmark ({res['date']}, tree {res['tree']}, load {res['loadavg_start']} → "
             f"{res['loadavg_end']})", "", "throughput (execution-bound playbook):"]
    for n, r in tp.items():
        ratio = r["jobs_per_hour"] / one
        goal = "" if n == 1 else f"  goal >= {0.9 * n:.1f}x: {'met' if ratio >= 0.9 * n else 'MISSED'}"
        lines.append(f"  N={n}: {r['jobs']:3d} jobs in {r['wall_s']:6.1f} s = {r['jobs_per_hour']:7.0f} jobs/h "
                     f"({ratio:.2f}x){goal}  {r['statuses']} {r['nodes']}  load {r['loadavg']}")
    remote_cpu = sum(r["controller_cpu_per_job_s"] * r["jobs"] for r in tp.values()) / sum(
        r["jobs"] for r in tp.values())
    local = res["local"]
    lines += ["", "controller CPU per job (controller process only):",
              f"  remote: {remote_cpu * 1000:7.0f} ms",
              f"  local:  {local['controller_cpu_per_job_s'] * 1000:7.0f} ms "
              f"(with its ansible children: {local['controller_cpu_with_children_per_job_s'] * 1000:.0f} ms)",
              "", "dispatch POST → remote started (idle worker):"]
    lat = res["dispatch_latency"]
    lines.append(f"  p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, min {lat['min_ms']:.0f}, "
                 f"max {lat['max_ms']:.0f} (n={lat['n']})  goal p50 <= 100 ms: "
                 f"{'met' if lat['p50_ms'] <= 100 else 'MISSED'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter naps, one round")
    parser.add_argument("--json", help="write the figures as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs)")
    args = parser.parse_args()
    return run(QUICK if args.quick else FULL, args.json, args.keep)


if __name__ == "__main__":
    sys.exit(main())

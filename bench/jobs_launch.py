"""The launch phases of ``bench/jobs_bench.py``: 2. dispatch latency (``POST /launch/`` until
the job is started, the ansible fork, the first event), 5. the 10,000-host launch and its
in-process breakdown (inventory rendering, run dir), and 3. launches accepted per second against a
server that runs no jobs, with its in-process cProfile.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, percentiles)
import jobs_support as js  # noqa: E402
from jobs_support import median  # noqa: E402


# -- 2 and 5. launch to start ------------------------------------------------------------------
def launch_to_start(server, client, jt_id: int) -> dict:
    """One launch, waited for: POST -> started / ansible fork / first event (seconds)."""
    t0_wall = time.time()
    t0_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    job = client.json("POST", f"/api/v2/job_templates/{jt_id}/launch/", {}, expect=201)
    post_s = time.time() - t0_wall
    spawn = server.watch_spawn(job["id"], timeout=120)        # boottime of the ansible-playbook fork
    final = js.wait_job(client, job["id"], poll=0.1)
    if final["status"] != "successful":
        raise RuntimeError(f"job {job['id']} ended {final['status']}: {final.get('job_explanation')}")
    first = client.json("GET", f"/api/v2/jobs/{job['id']}/job_events/?order_by=counter&page_size=1")["results"]
    return {"job": job["id"], "post_s": post_s,
            "started_s": js.ts(final["started"]) - t0_wall,
            "spawn_s": (spawn - t0_boot) if spawn is not None else None,
            "first_event_s": (js.ts(first[0]["created"]) - t0_wall) if first else None,
            "done_s": js.ts(final["modified"]) - t0_wall}


def latency_summary(samples: list[dict]) -> dict:
    out = {"n": len(samples)}
    for key in ("post_s", "started_s", "spawn_s", "first_event_s", "done_s"):
        vals = [s[key] for s in samples if s.get(key) is not None]
        out[key.replace("_s", "")] = {"p50_ms": h.pct(vals, 50) * 1000, "p99_ms": h.pct(vals, 99) * 1000,
                                      "min_ms": min(vals) * 1000 if vals else float("nan"),
                                      "max_ms": max(vals) * 1000 if vals else float("nan"), "n": len(vals)}
    return out


def bench_dispatch(server, client, jt_id: int, launches: int) -> dict:
    h.progress(f"dispatch latency: {launches} sequential launches of trivial.yml ...")
    launch_to_start(server, client, jt_id)   # warm-up
    samples = [launch_to_start(server, client, jt_id) for _ in range(launches)]
    return {"samples": samples, **latency_summary(samples)}


def bench_big_launch(server, client, jt_id: int, launches: int, hosts: int) -> dict:
    h.progress(f"{hosts}-host inventory: {launches} launches (limit host-1) ...")
    samples = [launch_to_start(server, client, jt_id) for _ in range(launches)]
    return {"samples": samples, **latency_summary(samples)}


def breakdown(data_dir: str, ids: dict, repeat: int, profile: bool) -> dict:
    """In-process timings of what the worker does between claiming the job and on_start."""
    from controller import open_state
    from controller.config import Settings
    from controller.jobs import job_run
    from controller.jobs.staging import write_private as _write
    from controller.services.bootstrap import system_context
    from controller.services.inventory_script import script_data

    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    ctx = system_context(state)
    inventory = state.store.get("inventories", ids["inv_big"])
    job = state.store.one("SELECT * FROM jobs WHERE job_template = ? ORDER BY id DESC LIMIT 1", (ids["jt_big"],))
    job = dict(job)
    scratch = Path(tempfile.mkdtemp(prefix="bd-", dir=data_dir))
    t = {"script_data": [], "yaml_inventory": [], "json_write": [], "prepare": [], "impact+blocked": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        script = script_data(ctx, inventory, hostvars=True, towervars=True)
        t1 = time.perf_counter()
        inv, _ids = job_run.yaml_inventory(script)
        t2 = time.perf_counter()
        _write(scratch / "hosts.json", json.dumps(inv))
        t3 = time.perf_counter()
        spec = job_run.prepare(ctx, job)
        t4 = time.perf_counter()
        job_run.impact(ctx, job)
        job_run.blocked(ctx, job)
        t5 = time.perf_counter()
        for p in spec.meta.get("cleanup", []):
            shutil.rmtree(p, ignore_errors=True)
        for key, v in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            t[key].append(v)
    size = (scratch / "hosts.json").stat().st_size
    out = {k: {"median_ms": median(v) * 1000, "min_ms": min(v) * 1000} for k, v in t.items()}
    out["hosts_json_bytes"] = size
    out["hosts"] = len(script.get("_meta", {}).get("hostvars", {}))
    if profile:
        out["profile"] = js.profile_call(lambda: (
            job_run.prepare(ctx, job), _write(scratch / "p.json", json.dumps(
                job_run.yaml_inventory(script_data(ctx, inventory, hostvars=True, towervars=True))[0]))), 20)
    shutil.rmtree(scratch, ignore_errors=True)
    state.store.close()
    return out


# -- 3. launches accepted ----------------------------------------------------------------------
def bench_accept(work: Path, data_dir: str, ids: dict, seconds: float, clients: int) -> dict:
    h.progress(f"launch acceptance: TURRET_JOB_WORKERS=0, {clients} keep-alive clients x {seconds}s ...")
    server = js.start_server(data_dir, str(work / "accept.log"), env={"TURRET_JOB_WORKERS": "0"})
    try:
        token = js.admin_token(server.port)
        c = h.Client(server.port, token)
        before = c.json("GET", "/api/v2/jobs/?page_size=1")["count"]
        path = f"/api/v2/job_templates/{ids['jt_accept']}/launch/"
        for _ in range(20):     # warm-up
            c.json("POST", path, {}, expect=201)
        ping = js.load(server, token, "GET", "/api/v2/ping/", None, 200, seconds / 2, clients)
        launch = js.load(server, token, "POST", path, {}, 201, seconds, clients)
        after = c.json("GET", "/api/v2/jobs/?page_size=1")["count"]
        pending = c.json("GET", "/api/v2/jobs/?status=pending&page_size=1")["count"]
        c.close()
        launch["jobs_created"] = after - before - 20
        launch["server_cpu_bound_req_per_s"] = 1000 / launch["server_cpu_ms_per_req"]
        launch["pending_total"] = pending
        return {"launch": launch, "ping": ping, "clients": clients}
    finally:
        server.stop()


def accept_profile(data_dir: str, jt_id: int, n: int) -> dict:
    """Launch POSTs in-process through Flask's test client (no HTTP server, one thread) under
    cProfile: requests/s without the network stack, and the top functions."""
    from controller import create_app, open_state
    from controller.config import Settings

    state = open_state(Settings({"DATA_DIR": data_dir, "JOB_WORKERS": 0}, environ={}))
    app = create_app(state=state)
    client = app.test_client()
    r = client.post("/api/v2/tokens/", json={"description": "profile"},
                    headers={"Authorization": h.basic("admin", js.ADMIN_PASSWORD)})
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    path = f"/api/v2/job_templates/{jt_id}/launch/"
    for _ in range(10):
        assert client.post(path, json={}, headers=headers).status_code == 201
    t0 = time.perf_counter()
    for _ in range(n):
        client.post(path, json={}, headers=headers)
    plain = time.perf_counter() - t0

    def work():
        for _ in range(n):
            client.post(path, json={}, headers=headers)
    prof = js.profile_call(work, 25)
    state.store.close()
    return {"in_process_req_per_s": n / plain, "ms_per_launch": plain / n * 1000, "profile": prof}

#!/usr/bin/env python
"""Turret jobs benchmark: what running jobs through the controller costs next to bare ansible-runner.

    .venv/bin/python bench/jobs_bench.py [--quick] [--json out.json] [--profile] [--keep]

Everything runs against 127.0.0.1 in a temporary data dir (deleted at the end unless ``--keep``).
The five figures of the jobs performance issue, measured side by side in one run:

1. **end-to-end ratio**: the 20-task playbook ``bench/playbooks/twenty.yml`` on 1 local host,
   (a) bare ``ansible_runner.run()`` in this (warm) process with a fresh private data dir,
   (b) through Turret: ``POST /launch/`` until the job is finished *and*
   ``event_processing_finished``; a/b alternate (ABBA order) for ``--rounds`` rounds;
2. **dispatch latency**: ``POST /launch/`` of a 1-task playbook until the dispatcher marks the
   job running (``started``, written by ``on_start`` right before ``ansible_runner.run``), and,
   for information, until the ``ansible-playbook`` process was forked (its start time from
   ``/proc``) and until the first event (created inside ansible);
3. **launches accepted per second**: concurrent keep-alive ``POST /launch/`` against a server
   started with ``TURRET_JOB_WORKERS=0`` (jobs are queued, none runs);
4. **event ingest**: synthetic ~1 KB runner events through ``scrub`` + ``event_row`` +
   ``EventWriter.put`` into the real SQLite store (events/s), and a playbook producing
   ``--results`` results run by ``ansible_runner.run`` with a no-op handler vs with Turret's
   recording handler (same call otherwise);
5. **10,000-host inventory**: launch of a 1-task template limited to ``host-1`` on an inventory of
   ``--hosts`` hosts; ``POST`` until ``started`` (prepare: inventory rendering + run dir), plus the
   in-process breakdown (``script_data``, ``yaml_inventory``, JSON write, whole ``prepare``).

The benchmark helpers are in ``bench/jobs_support.py`` (seeding, load, synthetic events) and
``bench/harness.py`` (server, HTTP client, /proc figures, shared with the other benchmarks).

A full run takes about 8 minutes on an otherwise quiet 2-CPU machine (the 10,000-result run
alone is about 2 x 2 minutes: ansible spends ~10 ms of CPU per loop result), ``--quick`` under 2.
On a shared machine read the ratios (paired, alternating) and the CPU figures, not the seconds;
the load average at the start and end is printed and stored.  A full run cProfiles the code
behind every missed goal (``--profile``: always).
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, /proc figures, percentiles)
import jobs_support as js  # noqa: E402

FULL = dict(rounds=5, launches=30, accept_seconds=5.0, clients=4, ingest_events=50_000, results=10_000,
            result_pairs=1, hosts=10_000, big_launches=3, breakdown_repeat=5, warmup="twenty.yml")
QUICK = dict(rounds=2, launches=8, accept_seconds=3.0, clients=4, ingest_events=10_000, results=300,
             result_pairs=1, hosts=10_000, big_launches=2, breakdown_repeat=3, warmup="trivial.yml")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


# -- 1. end-to-end -----------------------------------------------------------------------------
def bare_run(work: Path, playbook: str, extravars: dict | None = None, handler=None) -> dict:
    """``ansible_runner.run()`` in a fresh private data dir of this warm process."""
    import ansible_runner
    pdd = Path(tempfile.mkdtemp(prefix="bare-", dir=work))
    cpu0 = js.own_cpu()
    t0_wall = time.time()
    t0 = time.perf_counter()
    kwargs = dict(private_data_dir=str(pdd), playbook=playbook, project_dir=str(js.PLAYBOOKS),
                  inventory=js.local_inventory(), quiet=True, envvars=js.runner_env(), extravars=extravars)
    if handler is not None:
        kwargs["event_handler"] = handler
    split0 = js.cpu_split()
    r = ansible_runner.run(**kwargs)
    wall = time.perf_counter() - t0
    cpu = js.own_cpu() - cpu0
    split1 = js.cpu_split()
    out = {"wall_s": wall, "cpu_s": cpu, "events": None, "own_cpu_s": split1[0] - split0[0],
           "children_cpu_s": split1[1] - split0[1]}
    if handler is None:      # runner's default: one job_events/*.json per event; their timestamps
        created = []
        for f in (pdd / "artifacts").glob("*/job_events/*.json"):
            with open(f) as fh:
                created.append(js.ts(json.load(fh)["created"]))
        out["events"] = len(created)
        if created:
            out["first_event_s"] = min(created) - t0_wall
            out["last_event_s"] = max(created) - t0_wall
    shutil.rmtree(pdd, ignore_errors=True)
    if r.status != "successful":
        raise RuntimeError(f"bare run of {playbook} ended {r.status} rc={r.rc}")
    return out


def turret_run(server: h.Server, client: h.Client, jt_id: int, poll: float = 1.0) -> dict:
    """POST launch until the job is finished with all its events stored.  ``wall_s`` ends at the
    job's last server-side write (``modified`` when ``event_processing_finished`` was set), so it
    does not depend on the polling interval; ``observed_s`` is what the polling client saw.
    Polling is slow (1 s) on purpose: each GET costs the server a few ms of CPU, which would be
    charged to Turret's side of the ratio."""
    cpu0 = server.cpu_seconds(with_children=True)
    t0 = time.time()
    job = client.json("POST", f"/api/v2/job_templates/{jt_id}/launch/", {}, expect=201)
    post_s = time.time() - t0
    final = js.wait_job(client, job["id"], poll=poll)
    observed = time.time() - t0
    cpu = server.cpu_seconds(with_children=True) - cpu0
    if final["status"] != "successful":
        raise RuntimeError(f"job {job['id']} ended {final['status']}: {final.get('job_explanation')}")
    ev_path = f"/api/v2/jobs/{job['id']}/job_events/?page_size=1&order_by="
    first = client.json("GET", ev_path + "counter")
    last = client.json("GET", ev_path + "-counter")["results"]
    return {"job": job["id"], "wall_s": js.ts(final["modified"]) - t0, "observed_s": observed, "post_s": post_s,
            "started_s": js.ts(final["started"]) - t0, "finished_s": js.ts(final["finished"]) - t0,
            "first_event_s": js.ts(first["results"][0]["created"]) - t0 if first["results"] else None,
            "last_event_s": js.ts(last[0]["created"]) - t0 if last else None,
            "cpu_s": cpu, "events": first["count"], "elapsed_field_s": final.get("elapsed")}


def bench_e2e(work: Path, server, client, jt_id: int, rounds: int, warmup: str, warm_jt: int) -> dict:
    h.progress(f"e2e: warm-up (1 bare + 1 Turret run of {warmup}, not counted) ...")
    bare_run(work, warmup)
    turret_run(server, client, jt_id if warmup == "twenty.yml" else warm_jt)
    per_round = []
    for r in range(rounds):
        order = ("bare", "turret") if r % 2 == 0 else ("turret", "bare")
        got = {}
        for mode in order:
            got[mode] = bare_run(work, "twenty.yml") if mode == "bare" else turret_run(server, client, jt_id)
        row = {"round": r + 1, "order": "/".join(order), "bare": got["bare"], "turret": got["turret"],
               "loadavg": h.loadavg(),
               "ratio": got["turret"]["wall_s"] / got["bare"]["wall_s"],
               "ratio_observed": got["turret"]["observed_s"] / got["bare"]["wall_s"],
               "cpu_ratio": got["turret"]["cpu_s"] / got["bare"]["cpu_s"]}
        per_round.append(row)
        h.progress(f"e2e round {r + 1}/{rounds}: bare {got['bare']['wall_s']:.2f}s turret {got['turret']['wall_s']:.2f}s"
                 f" ratio {row['ratio']:.3f}")
    return {
        "rounds": per_round,
        "bare_median_s": median(r["bare"]["wall_s"] for r in per_round),
        "turret_median_s": median(r["turret"]["wall_s"] for r in per_round),
        "median_ratio": median(r["ratio"] for r in per_round),
        "median_ratio_observed": median(r["ratio_observed"] for r in per_round),
        "median_cpu_ratio": median(r["cpu_ratio"] for r in per_round),
        "events_bare": per_round[0]["bare"]["events"], "events_turret": per_round[0]["turret"]["events"],
        "timeline": timeline(per_round),
    }


def timeline(per_round: list[dict]) -> dict:
    """Median seconds of each stretch of a run, bare and Turret (event times come from ansible)."""
    def m(side, a, b):
        vals = [r[side][b] - (r[side][a] if a else 0.0) for r in per_round
                if r[side].get(b) is not None and (not a or r[side].get(a) is not None)]
        return median(vals)
    return {
        "bare": {"start -> first event": m("bare", None, "first_event_s"),
                 "first -> last event": m("bare", "first_event_s", "last_event_s"),
                 "last event -> run() returned": m("bare", "last_event_s", "wall_s")},
        "turret": {"POST -> started": m("turret", None, "started_s"),
                   "started -> first event": m("turret", "started_s", "first_event_s"),
                   "first -> last event": m("turret", "first_event_s", "last_event_s"),
                   "last event -> finished": m("turret", "last_event_s", "finished_s"),
                   "finished -> events stored": m("turret", "finished_s", "wall_s")},
    }


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
    from controller.jobs.executor import _write
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


# -- 4. events ---------------------------------------------------------------------------------
def recording_handler(store, writer, job_id: int, host_ids: dict, secrets: list):
    """Turret's own event path (``controller.jobs.events.event_handler``, what the dispatcher
    runs every job through) for job ``job_id``."""
    from controller.jobs import events as ev
    return ev.event_handler(writer, "job_events", "job", job_id, pattern=ev.secret_pattern(secrets),
                            host_ids=host_ids)


def bench_ingest(data_dir: str, job_id: int, n: int) -> dict:
    from controller import open_state
    from controller.config import Settings
    from controller.jobs.event_writer import EventWriter
    from controller.jobs.events import event_row
    from controller.store import now_iso

    h.progress(f"event ingest: {n} synthetic events through the EventWriter ...")
    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    store = state.store
    events = js.synthetic_events(n)
    sizes = [len(json.dumps(e)) for e in events[:2000]]
    out = {"events": n, "event_json_bytes_mean": statistics.fmean(sizes)}

    def run_writer(label: str, feed) -> dict:
        before = store.scalar("SELECT count(*) FROM job_events WHERE job = ?", (job_id,))
        writer = EventWriter(store)
        writer.start()
        done = threading.Event()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        feed(writer)
        t_put = time.perf_counter() - t0
        writer.finish(done.set)
        done.wait(300)
        total = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        writer.stop()
        stored = store.scalar("SELECT count(*) FROM job_events WHERE job = ?", (job_id,)) - before
        return {"label": label, "seconds": total, "events_per_s": n / total, "stored": stored,
                "cpu_s": cpu, "events_per_cpu_s": n / cpu, "producer_us_per_event": t_put / n * 1e6}

    # (a) the whole handler path, as the pty pump thread would call it
    handler = None

    def feed_handler(writer):
        nonlocal handler
        handler = recording_handler(store, writer, job_id, {"local1": None}, [])
        for e in events:
            handler(e)

    out["handler_path"] = run_writer("scrub+event_row+put", feed_handler)
    # (b) the writer alone (rows built beforehand)
    now = now_iso()
    rows = [event_row(e, "job", job_id, now) for e in events]

    def feed_rows(writer):
        for r in rows:
            writer.put("job_events", r)

    out["writer_only"] = run_writer("put prebuilt rows", feed_rows)
    # (c) the handler with a secret to scrub (a job with credentials: json round trip per event)
    def feed_secret(writer):
        h = recording_handler(store, writer, job_id, {"local1": None}, ["not-in-any-event-s3cr3t"])
        for e in events:
            h(e)

    out["handler_path_with_secret"] = run_writer("same, 1 secret to scrub", feed_secret)
    state.store.close()
    return out


def ingest_profile(data_dir: str, job_id: int, n: int) -> str:
    """cProfile (main thread) of the handler path and of the writer's batches for ``n`` events."""
    from controller import open_state
    from controller.config import Settings
    from controller.jobs.event_writer import EventWriter

    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    writer = EventWriter(state.store)          # not started: its batches are flushed right here
    events = js.synthetic_events(n)
    handler = recording_handler(state.store, writer, job_id, {"local1": None}, [])

    def work():
        for e in events:
            handler(e)
        items = []
        while not writer._queue.empty():
            items.append(writer._queue.get_nowait())
            if len(items) == writer.max_batch:
                writer._flush(items)
                items = []
        writer._flush(items)
    out = js.profile_call(work, 18)
    state.store.close()
    return out


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


def bench_results(work: Path, data_dir: str, jt_id: int, results: int, pairs: int) -> dict:
    """``results`` loop results: ansible_runner.run with a no-op handler vs Turret's recording
    handler (real store, EventWriter), wall until every event is stored and the dispatcher's
    end-of-run barrier (flag propagation) has run.  Each recorded run gets a job of its own."""
    from controller import open_state
    from controller.config import Settings
    from controller.jobs.event_writer import EventWriter

    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    store = state.store
    runs = []

    def noop(event):
        return False

    def recorded() -> dict:
        job_id = js.sink_job(state, jt_id)["id"]
        writer = EventWriter(store)
        batches: list[int] = []
        flush = writer._flush

        def counting_flush(items):          # batch sizes: how many events share a transaction
            batches.append(sum(1 for table, _ in items if table is not None))
            return flush(items)
        writer._flush = counting_flush
        writer.start()
        before = store.scalar("SELECT count(*) FROM job_events WHERE job = ?", (job_id,))
        seen = [0]
        inner = recording_handler(store, writer, job_id, {"local1": None}, [])

        def handler(e):
            seen[0] += 1
            return inner(e)
        cpu0 = js.own_cpu()
        own0 = js.cpu_split()[0]
        t0 = time.perf_counter()
        r = bare_run(work, "results.yml", {"result_count": results}, handler)
        done = threading.Event()

        def all_stored():      # the dispatcher's barrier (dispatcher.py, end of _run)
            from controller.store import jobs as q
            if hasattr(q, "propagate_event_flags"):
                q.propagate_event_flags(store, "job_events", "job", job_id)
            done.set()
        writer.finish(all_stored)
        done.wait(300)
        wall = time.perf_counter() - t0
        cpu = js.own_cpu() - cpu0
        own = js.cpu_split()[0] - own0
        writer.stop()
        stored = store.scalar("SELECT count(*) FROM job_events WHERE job = ?", (job_id,)) - before
        batches = [b for b in batches if b]
        return {"wall_s": wall, "cpu_s": cpu, "run_s": r["wall_s"], "events": seen[0], "stored": stored,
                "own_cpu_s": own, "children_cpu_s": r["children_cpu_s"], "transactions": len(batches),
                "events_per_transaction": (sum(batches) / len(batches)) if batches else 0.0}

    def plain() -> dict:
        seen = [0]

        def handler(e):
            seen[0] += 1
            return False
        r = bare_run(work, "results.yml", {"result_count": results}, handler)
        return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "events": seen[0], "own_cpu_s": r["own_cpu_s"],
                "children_cpu_s": r["children_cpu_s"]}

    for p in range(pairs):
        order = ("bare", "turret") if p % 2 == 0 else ("turret", "bare")
        got = {}
        for mode in order:
            h.progress(f"{results} results, pair {p + 1}/{pairs}: {mode} ...")
            got[mode] = plain() if mode == "bare" else recorded()
        runs.append({"order": "/".join(order), **got, "ratio": got["turret"]["wall_s"] / got["bare"]["wall_s"],
                     "cpu_ratio": got["turret"]["cpu_s"] / got["bare"]["cpu_s"],
                     # the recording's own cost: extra CPU of this process (handler + writer thread),
                     # relative to the whole bare run; ansible's CPU (children) is left out, as it
                     # is the same work in both and the noisiest part on a shared machine
                     "added_own_cpu_s": got["turret"]["own_cpu_s"] - got["bare"]["own_cpu_s"],
                     "added_cpu_share": (got["turret"]["own_cpu_s"] - got["bare"]["own_cpu_s"]) / got["bare"]["cpu_s"]})
    state.store.close()
    return {"results": results, "pairs": runs, "median_ratio": median(r["ratio"] for r in runs),
            "median_cpu_ratio": median(r["cpu_ratio"] for r in runs),
            "median_added_cpu_share": median(r["added_cpu_share"] for r in runs)}


# -- report ------------------------------------------------------------------------------------
def goals(res: dict) -> list[dict]:
    e2e, disp, acc, ing, resu, big = (res.get(k) for k in ("e2e", "dispatch", "accept", "ingest", "results", "big"))
    out = []
    if e2e:
        out.append({"key": "e2e", "goal": "end-to-end Turret/bare runner <= 1.05 (20-task playbook, median of per-round ratios)",
                    "value": f"{e2e['median_ratio']:.3f} (client-observed {e2e['median_ratio_observed']:.3f}, "
                             f"CPU {e2e['median_cpu_ratio']:.3f})",
                    "met": e2e["median_ratio"] <= 1.05})
    if disp:
        st = disp["started"]
        out.append({"key": "dispatch", "goal": "dispatch latency POST -> started p50 <= 50 ms",
                    "value": f"{st['p50_ms']:.1f} ms (n={st['n']})", "met": st["p50_ms"] <= 50})
        out.append({"key": "dispatch", "goal": "dispatch latency POST -> started p99 <= 200 ms",
                    "value": f"{st['p99_ms']:.1f} ms (max of {st['n']})", "met": st["p99_ms"] <= 200})
    if acc:
        rps = acc["launch"]["req_per_s"]
        out.append({"key": "accept", "goal": "launches accepted >= 200 /s (JOB_WORKERS=0)", "value": f"{rps:.0f} /s",
                    "met": rps >= 200})
    if ing:
        eps = ing["handler_path"]["events_per_s"]
        out.append({"key": "ingest", "goal": "event ingest >= 20,000 ev/s (scrub+event_row+EventWriter, real store)",
                    "value": f"{eps:,.0f} ev/s", "met": eps >= 20000})
    if resu:
        out.append({"key": "results", "goal": f"recording adds <= 5 % to a {resu['results']:,}-result run (wall)",
                    "value": f"ratio {resu['median_ratio']:.3f} (CPU {resu['median_cpu_ratio']:.3f}; recording's own "
                             f"CPU {resu['median_added_cpu_share'] * 100:.1f} % of the run)",
                    "met": resu["median_ratio"] <= 1.05})
    if big:
        st = big["launch"]["started"]
        out.append({"key": "big", "goal": f"{big['hosts']:,}-host inventory: POST -> runner start <= 1 s (p50)",
                    "value": f"{st['p50_ms']:.0f} ms (max {st['max_ms']:.0f})", "met": st["p50_ms"] <= 1000})
    return out


def fmt_table(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(res: dict) -> str:
    out = [f"Turret jobs benchmark  {res['date']}  cpus={res['machine']['cpus']}  python {res['machine']['python']}"
           f"  ansible-core {res['machine'].get('ansible_core')}  runner {res['machine'].get('ansible_runner')}",
           f"load average start {res['loadavg_start']}  end {res.get('loadavg_end', '')}  mode {res['mode']}", ""]
    e2e = res.get("e2e")
    if e2e:
        rows = [["1. twenty.yml, 1 host", "order", "bare s", "Turret s", "ratio", "observed", "CPU ratio", "events b/T"]]
        for r in e2e["rounds"]:
            rows.append([f"round {r['round']}", r["order"], f"{r['bare']['wall_s']:.2f}", f"{r['turret']['wall_s']:.2f}",
                         f"{r['ratio']:.3f}", f"{r['ratio_observed']:.3f}", f"{r['cpu_ratio']:.3f}",
                         f"{r['bare']['events']}/{r['turret']['events']}"])
        rows.append(["median", "", f"{e2e['bare_median_s']:.2f}", f"{e2e['turret_median_s']:.2f}",
                     f"{e2e['median_ratio']:.3f}", f"{e2e['median_ratio_observed']:.3f}",
                     f"{e2e['median_cpu_ratio']:.3f}", ""])
        out += [fmt_table(rows), ""]
        rows = [["1. timeline (median s)", "bare", "Turret"]]
        tl = e2e["timeline"]
        pairs = [("start/POST -> first event", tl["bare"]["start -> first event"],
                  tl["turret"]["POST -> started"] + tl["turret"]["started -> first event"]),
                 ("  of which POST -> started", None, tl["turret"]["POST -> started"]),
                 ("first -> last event (ansible runs)", tl["bare"]["first -> last event"],
                  tl["turret"]["first -> last event"]),
                 ("last event -> run() returned / finished", tl["bare"]["last event -> run() returned"],
                  tl["turret"]["last event -> finished"]),
                 ("finished -> events stored", None, tl["turret"]["finished -> events stored"])]
        for label, b, t in pairs:
            rows.append([label, "" if b is None else f"{b:.3f}", f"{t:.3f}"])
        out += [fmt_table(rows), ""]
    for key, title in (("dispatch", "2. dispatch, trivial.yml"), ("big", "5. 10k-host launch")):
        d = res.get(key)
        if not d:
            continue
        d = d if key == "dispatch" else d["launch"]
        rows = [[f"{title} (n={d['n']})", "p50 ms", "p99 ms", "min ms", "max ms"]]
        for k, label in (("post", "POST response"), ("started", "POST -> started (on_start)"),
                         ("spawn", "POST -> ansible-playbook fork"), ("first_event", "POST -> first event"),
                         ("done", "POST -> events stored")):
            s = d[k]
            rows.append([label, f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}", f"{s['min_ms']:.1f}", f"{s['max_ms']:.1f}"])
        out += [fmt_table(rows), ""]
    big = res.get("big")
    if big:
        b = big["breakdown"]
        rows = [[f"5. in-process, {b['hosts']:,} hosts", "median ms", "min ms"]]
        for k in ("script_data", "yaml_inventory", "json_write", "prepare", "impact+blocked"):
            rows.append([k, f"{b[k]['median_ms']:.1f}", f"{b[k]['min_ms']:.1f}"])
        rows.append(["hosts.json size", f"{b['hosts_json_bytes'] / 1e6:.2f} MB", ""])
        out += [fmt_table(rows), f"seeding {big['hosts']:,} hosts through crud.create: {big['seed_s']:.1f} s", ""]
        if b.get("profile"):
            out += ["cProfile of prepare + render + write (top by cumulative):", b["profile"], ""]
    acc = res.get("accept")
    if acc:
        rows = [[f"3. TURRET_JOB_WORKERS=0, {acc['clients']} clients", "req/s", "p50 ms", "p99 ms", "errors",
                 "srv CPU ms/req"]]
        for k, label in (("launch", "POST /launch/"), ("ping", "GET /ping/ (floor)")):
            s = acc[k]
            rows.append([label, f"{s['req_per_s']:.0f}", f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}", str(s["errors"]),
                         f"{s['server_cpu_ms_per_req']:.2f}"])
        out += [fmt_table(rows), f"jobs created during the launch phase: {acc['launch']['jobs_created']}; "
                f"server CPU per launch allows {acc['launch']['server_cpu_bound_req_per_s']:.0f} /s on one core "
                f"(the server is one Python process: the GIL makes one core its ceiling)", ""]
        if acc.get("profile"):
            p = acc["profile"]
            out += [f"in-process (Flask test client, 1 thread, no HTTP): {p['in_process_req_per_s']:.0f} launches/s, "
                    f"{p['ms_per_launch']:.2f} ms each; cProfile:", p["profile"], ""]
    ing = res.get("ingest")
    if ing:
        rows = [[f"4a. {ing['events']:,} events, {ing['event_json_bytes_mean']:.0f} B JSON each", "ev/s",
                 "ev per CPU-s", "producer us/ev", "stored"]]
        for k in ("handler_path", "writer_only", "handler_path_with_secret"):
            s = ing[k]
            rows.append([s["label"], f"{s['events_per_s']:,.0f}", f"{s['events_per_cpu_s']:,.0f}",
                         f"{s['producer_us_per_event']:.1f}", str(s["stored"])])
        out += [fmt_table(rows), ""]
        if ing.get("profile"):
            out += ["cProfile of the event path (handler + writer batches, 10,000 events):", ing["profile"], ""]
    resu = res.get("results")
    if resu:
        rows = [[f"4b. results.yml, {resu['results']:,} results", "order", "no-op s", "recording s", "ratio",
                 "CPU ratio", "own CPU s (no-op/rec)", "ansible CPU s (no-op/rec)", "added CPU", "events", "stored"]]
        for r in resu["pairs"]:
            b, t = r["bare"], r["turret"]
            rows.append(["pair", r["order"], f"{b['wall_s']:.2f}", f"{t['wall_s']:.2f}",
                         f"{r['ratio']:.3f}", f"{r['cpu_ratio']:.3f}", f"{b['own_cpu_s']:.2f}/{t['own_cpu_s']:.2f}",
                         f"{b['children_cpu_s']:.1f}/{t['children_cpu_s']:.1f}", f"{r['added_cpu_share'] * 100:.1f} %",
                         str(t["events"]), str(t["stored"])])
        t = resu["pairs"][0]["turret"]
        out += [fmt_table(rows), "added CPU = extra CPU of the recording process (handler + writer thread) "
                "as a share of the whole no-op run (ansible included)",
                f"EventWriter transactions: {t['transactions']:,} for {t['stored']:,} events "
                f"({t['events_per_transaction']:.1f} events per transaction)", ""]
    out.append("Goals:")
    for g in res["goals"]:
        out.append(f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']}: {g['value']}")
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and smaller runs (under 2 minutes)")
    ap.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    ap.add_argument("--profile", action="store_true",
                    help="always cProfile the event path, launch POSTs and the 10k-host prepare path "
                         "(a full run does so by itself for each missed goal)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    ap.add_argument("--only", default="e2e,dispatch,big,ingest,results,accept",
                    help="comma-separated phases to run (default: all)")
    for k, v in FULL.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=None, help=f"(default {v}; quick {QUICK[k]})")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    for k in FULL:
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    only = set(args.only.split(","))

    import ansible
    import ansible_runner  # noqa: F401 - imported up front: the bare runs use a warm process
    from importlib.metadata import version
    with h.scratch("turret-jobs-bench-", args.keep) as (work, servers):
        data_dir = str(work / "data")
        res = h.begin({"ansible_core": ansible.__version__, "ansible_runner": version("ansible-runner"),
                       "platform": platform.platform()}, mode="quick" if args.quick else "full", config=cfg)
        t_start = time.perf_counter()
        h.progress(f"seeding {data_dir} ({cfg['hosts']} hosts) ...")
        ids = js.seed(data_dir, cfg["hosts"])
        res["seed"] = ids["timings"]
        if only & {"e2e", "dispatch", "big"}:
            server = js.start_server(data_dir, str(work / "server.log"))
            servers.append(server)
            client = h.Client(server.port, js.admin_token(server.port))
            if "e2e" in only:
                res["e2e"] = bench_e2e(work, server, client, ids["jt_twenty"], cfg["rounds"], cfg["warmup"],
                                      ids["jt_trivial"])
            if "dispatch" in only:
                res["dispatch"] = bench_dispatch(server, client, ids["jt_trivial"], cfg["launches"])
            if "big" in only:
                res["big"] = {"hosts": cfg["hosts"], "seed_s": ids["timings"]["big_inventory_s"],
                              "launch": bench_big_launch(server, client, ids["jt_big"], cfg["big_launches"],
                                                         cfg["hosts"])}
            client.close()
            server.stop()
            if "big" in only:
                h.progress("10k-host breakdown in-process ...")
                res["big"]["breakdown"] = breakdown(data_dir, ids, cfg["breakdown_repeat"], profile=False)
        if "ingest" in only:
            res["ingest"] = bench_ingest(data_dir, ids["job_sink"], cfg["ingest_events"])
        if "results" in only:
            res["results"] = bench_results(work, data_dir, ids["jt_twenty"], cfg["results"], cfg["result_pairs"])
        if "accept" in only:
            res["accept"] = bench_accept(work, data_dir, ids, cfg["accept_seconds"], cfg["clients"])
        res["goals"] = goals(res)
        big = res.get("big")
        if big and "breakdown" in big and (args.profile or (not args.quick and any(
                not g["met"] for g in res["goals"] if g["key"] == "big"))):
            h.progress("profiling the 10k-host prepare path ...")
            big["breakdown"]["profile"] = breakdown(data_dir, ids, 1, profile=True)["profile"]
        # profiles of missed goals (full runs; a quick run profiles only with --profile)
        missed = {g["key"] for g in res["goals"] if not g["met"]} if not args.quick else set()
        if "ingest" in res and (args.profile or "ingest" in missed):
            h.progress("profiling the event path ...")
            res["ingest"]["profile"] = ingest_profile(data_dir, ids["job_sink"], 10_000)
        if "accept" in res and (args.profile or "accept" in missed):
            h.progress("profiling launch POSTs in-process ...")
            res["accept"]["profile"] = accept_profile(data_dir, ids["jt_accept"], 200)
        return h.finish(res, t_start, report, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""Phase 4 of ``bench/jobs_bench.py``, events: (a) synthetic runner events through Turret's
recording handler and the ``EventWriter`` into the real store, with its cProfile, and (b) a
playbook of many results run by ``ansible_runner.run`` with a no-op handler vs the recording one.
"""
from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: progress lines)
import jobs_support as js  # noqa: E402
from jobs_support import bare_run, median  # noqa: E402


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

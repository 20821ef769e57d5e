"""Phase 1 of ``bench/jobs_bench.py``, the end-to-end ratio: the 20-task playbook run bare
(``jobs_support.bare_run``: ``ansible_runner.run()`` in this warm process) and through Turret
(``POST /launch/`` until the job is finished with every event stored), alternating ABBA, with the
median timeline of each side's run.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, percentiles)
import jobs_support as js  # noqa: E402
from jobs_support import bare_run, median  # noqa: E402


# -- 1. end-to-end -----------------------------------------------------------------------------
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
        h.progress(f"e2e round {r + 1}/{rounds}: bare {got['bare']['wall_s']:.2f}s"
                   f" turret {got['turret']['wall_s']:.2f}s ratio {row['ratio']:.3f}")
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

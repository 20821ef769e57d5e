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

The benchmark's phases are in ``bench/jobs_e2e.py`` (1), ``bench/jobs_launch.py`` (2, 3, 5) and
``bench/jobs_ingest.py`` (4), its report and goals in ``bench/jobs_report.py``; the helpers in
``bench/jobs_support.py`` (seeding, bare runs, load, synthetic events) and ``bench/harness.py``
(server, HTTP client, /proc figures, shared with the other benchmarks).

A full run takes about 8 minutes on an otherwise quiet 2-CPU machine (the 10,000-result run
alone is about 2 x 2 minutes: ansible spends ~10 ms of CPU per loop result), ``--quick`` under 2.
On a shared machine read the ratios (paired, alternating) and the CPU figures, not the seconds;
the load average at the start and end is printed and stored.  A full run cProfiles the code
behind every missed goal (``--profile``: always).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, /proc figures, percentiles)
import jobs_support as js  # noqa: E402
from jobs_e2e import bench_e2e  # noqa: E402
from jobs_ingest import bench_ingest, bench_results, ingest_profile  # noqa: E402
from jobs_launch import accept_profile, bench_accept, bench_big_launch, bench_dispatch, breakdown  # noqa: E402
from jobs_launch import launch_to_start  # noqa: E402, F401  (kept here: serve_bench.py uses jobs_bench's)
from jobs_report import goals, report  # noqa: E402

FULL = dict(rounds=5, launches=30, accept_seconds=5.0, clients=4, ingest_events=50_000, results=10_000,
            result_pairs=1, hosts=10_000, big_launches=3, breakdown_repeat=5, warmup="twenty.yml")
QUICK = dict(rounds=2, launches=8, accept_seconds=3.0, clients=4, ingest_events=10_000, results=300,
             result_pairs=1, hosts=10_000, big_launches=2, breakdown_repeat=3, warmup="trivial.yml")


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

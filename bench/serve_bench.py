#!/usr/bin/env python
"""Turret web server benchmark: ``turret serve`` on waitress (one process), and on waitress,
gunicorn (gthread) and granian with ``--workers`` processes, side by side in one run.

    .venv/bin/python bench/serve_bench.py [--rows 10000] [--seconds 8] [--concurrency 8]
                                          [--workers 2] [--launches 10] [--json out.json]

For each server (all on 127.0.0.1, each started as users start it: ``python -m controller
serve`` with ``TURRET_WEB_SERVER`` / ``TURRET_WEB_WORKERS``):

1. ping and the admin list mix of ``bench/api_bench.py`` (same seeding, same three queries,
   same checks: status, ``count`` and number of results of every response) at
   ``--concurrency`` keep-alive connections: req/s, p50/p99, server CPU per request (summed
   over the server's whole process tree);
2. dispatch latency: ``--launches`` sequential launches of a 1-task playbook (the jobs bench's
   seeding), POST -> ``started`` p50/p99, the dispatcher running in the serving parent and the
   launch arriving through any web worker;
3. the server's log is searched for "database is locked".

The ratios to the single-process waitress server of the same run are the figures to read.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import api_bench as ab  # noqa: E402  (seeding, queries)
import api_load  # noqa: E402  (checks, load phases)
import api_report  # noqa: E402
import harness as h  # noqa: E402
import jobs_bench as jb  # noqa: E402  (launch_to_start)
import jobs_support as js  # noqa: E402

SERVERS = {  # key -> (label, TURRET_* environment; TURRET_WEB_WORKERS filled in by main)
    "waitress1": ("waitress, 1 process", {"TURRET_WEB_WORKERS": "1"}),
    "waitress": ("waitress, N processes", {"TURRET_WEB_SERVER": "waitress"}),
    "gunicorn": ("gunicorn gthread, N processes", {"TURRET_WEB_SERVER": "gunicorn"}),
    "granian": ("granian, N processes", {"TURRET_WEB_SERVER": "granian"}),
}


def locked_lines(log_path: str) -> int:
    """How many lines of the server's log say "database is locked"."""
    with open(log_path, errors="replace") as fh:
        return sum("database is locked" in line for line in fh)


def bench_lists(name: str, env: dict, work: str, data_dir: str, queries: dict, args) -> dict:
    log = os.path.join(work, f"lists-{len(os.listdir(work))}.log")
    server = h.Server(data_dir, log, admin_password=ab.ADMIN_PASSWORD, threads=args.threads,
                        env={**ab.SERVER_ENV, **env})
    try:
        auth = h.bearer(server.port, "admin", ab.ADMIN_PASSWORD)
        c = h.Client(server.port, auth)
        for kind, q in queries.items():   # exact rows and order before any load
            status, payload, _ = c.request("GET", q["path"])
            why = api_load.check(kind, q, status, payload, strict=True)
            if why:
                raise RuntimeError(f"{name}: {why}")
        c.close()
        ping = [("ping", auth, "/api/v2/ping/", None)]
        mix = [(k, auth, q["path"], q) for k, q in queries.items()]
        api_load.throughput(server.port, ping + mix, 1.0, args.concurrency, server)   # warm every worker
        out = {"ready_s": server.ready_seconds, "rss_mb": server.rss_mb(),
               "processes": len(h.descendants(server.proc.pid))}
        out["ping"] = api_load.throughput(server.port, ping, args.seconds / 2, args.concurrency, server)
        out["list mix"] = api_load.throughput(server.port, mix, args.seconds, args.concurrency, server)
    finally:
        server.stop()
    out["database_locked"] = locked_lines(log)
    return out


def bench_dispatch(env: dict, work: str, jobs_dir: str, launches: int) -> dict:
    log = os.path.join(work, f"jobs-{len(os.listdir(work))}.log")
    server = h.Server(jobs_dir, log, admin_password=js.ADMIN_PASSWORD, env={**ab.SERVER_ENV, **env}, poll=0.02)
    try:
        client = h.Client(server.port, js.admin_token(server.port))
        out = jb.bench_dispatch(server, client, jobs_dir_ids["jt_trivial"], launches)
        client.close()
    finally:
        server.stop()
    out.pop("samples", None)
    out["database_locked"] = locked_lines(log)
    return out


jobs_dir_ids: dict = {}


def median_round(runs: list[dict]) -> dict:
    """One server's figures over the rounds: the round of median list req/s, with every
    round's list req/s, the summed errors and "database is locked" lines."""
    ordered = sorted(runs, key=lambda r: r["list mix"]["req_per_s"])
    out = dict(ordered[len(ordered) // 2])
    out["list_rps_rounds"] = [round(r["list mix"]["req_per_s"]) for r in runs]
    out["errors"] = sum(r["list mix"]["errors"] + r["ping"]["errors"] for r in runs)
    out["database_locked"] = sum(r["database_locked"] + r.get("dispatch", {}).get("database_locked", 0)
                                 for r in runs)
    return out


def report(res: dict) -> str:
    base = res["servers"]["waitress1"]
    rows = [["server", "procs", "ping req/s", "ping p50", "ping CPU ms", "list req/s", "list p50", "list p99",
             "list CPU ms", "list vs waitress x1", "rounds (list req/s)", "dispatch p50 ms", "dispatch p99 ms",
             "errors", "db locked"]]
    for key, r in res["servers"].items():
        name = SERVERS[key][0]
        lm, pg, d = r["list mix"], r["ping"], r.get("dispatch", {}).get("started", {})
        rows.append([name.replace("N", str(res["workers"])), str(r["processes"]), f"{pg['req_per_s']:.0f}",
                     f"{pg['p50_ms']:.2f}", f"{pg['server_cpu_ms_per_req']:.2f}", f"{lm['req_per_s']:.0f}",
                     f"{lm['p50_ms']:.2f}", f"{lm['p99_ms']:.2f}", f"{lm['server_cpu_ms_per_req']:.2f}",
                     f"{lm['req_per_s'] / base['list mix']['req_per_s']:.2f}x",
                     " ".join(map(str, r["list_rps_rounds"])),
                     f"{d.get('p50_ms', float('nan')):.1f}", f"{d.get('p99_ms', float('nan')):.1f}",
                     str(r["errors"]), str(r["database_locked"])])
    m = res["machine"]
    head = (f"Turret serve benchmark - {res['date']} - {m['cpus']} CPUs, Python {m['python']}, tree {res['tree']}\n"
            f"load average at start {res['loadavg_start']}; {res['rows']} teams; concurrency {res['concurrency']}; "
            f"{res['seconds']:g} s per list phase; {res['launches']} launches per dispatch figure; "
            f"median of {len(next(iter(res['rounds'].values()), []))} rounds\n"
            f"command: {res['command']}\n")
    return head + "\n" + api_report.fmt_table(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10000, help="teams to seed (default 10000)")
    ap.add_argument("--seconds", type=float, default=8.0, help="list mix phase length (ping: half)")
    # 8, not 4: with 4, connections often land unevenly on the workers (api_bench.py, README)
    ap.add_argument("--concurrency", type=int, default=8, help="client connections (default 8)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="web worker processes")
    ap.add_argument("--threads", type=int, default=None, help="threads per web worker (server default)")
    ap.add_argument("--launches", type=int, default=10, help="launches per dispatch figure (0: skip)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds over the servers, each starting with another one; the table shows medians")
    ap.add_argument("--only", default=",".join(SERVERS),
                    help="comma-separated servers to run (waitress1, the baseline, always runs)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON here")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    res = h.begin(rows=args.rows, seconds=args.seconds, concurrency=args.concurrency, workers=args.workers,
                  rounds=args.rounds,
                  launches=args.launches, command="bench/serve_bench.py " + " ".join(argv or sys.argv[1:]))
    with h.scratch("turret-serve-bench-") as (work_path, _servers):
        work = str(work_path)
        ab.SERVER_ENV.update({"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": os.path.join(work, "pycache")})
        h.progress(f"seeding {args.rows} teams ...")
        data_dir = os.path.join(work, "lists")
        seeded = ab.seed(data_dir, args.rows)
        queries = ab.build_queries(seeded["teams"], args.rows)
        jobs_dir = os.path.join(work, "jobs")
        if args.launches:
            jobs_dir_ids.update(js.seed(jobs_dir, 10))
        keys = [k for k in SERVERS if k in set(args.only.split(",")) | {"waitress1"}]  # the baseline always runs
        rounds: dict[str, list[dict]] = {k: [] for k in keys}
        for n in range(args.rounds):
            for key in keys[n % len(keys):] + keys[:n % len(keys)]:    # each round starts elsewhere
                name, env = SERVERS[key]
                env = {"TURRET_WEB_WORKERS": str(args.workers), **env}
                h.progress(f"round {n + 1}/{args.rounds} {name}: lists ...")
                rounds[key].append(bench_lists(name, env, work, data_dir, queries, args))
                if args.launches:
                    h.progress(f"{name}: dispatch ...")
                    rounds[key][-1]["dispatch"] = bench_dispatch(env, work, jobs_dir, args.launches)
        res["rounds"] = rounds
        res["servers"] = {k: median_round(v) for k, v in rounds.items()}
    errors = sum(r["errors"] + r["database_locked"] for r in res["servers"].values())
    h.finish(res, started, report, args.json)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Turret API benchmark: list latency/throughput over N rows, server start-to-ready and idle memory.

    .venv/bin/python bench/api_bench.py [--rows 10000] [--seconds 10] [--concurrency 8]
                                        [--json out.json] [--profile]

What it does (all against 127.0.0.1, nothing else):

1. seeds a fresh temporary data dir in-process through the real service layer
   (``crud.create``: validation, roles, activity stream) with 1 organization and ``--rows``
   teams whose names/descriptions vary;
2. measures start-to-ready of ``python -m controller serve`` (process spawn until
   ``GET /api/v2/ping/`` answers 200, polled every 5 ms) on an empty data dir and ``--starts``
   times on the seeded, already-migrated one, and the server's memory (PSS over its process
   tree) once ready and once idle: 1 s after no job is pending or running (an empty data dir
   updates its demo project first); server processes keep their bytecode cache under the temp
   dir, never in the source tree;
3. drives the real server with keep-alive ``http.client`` connections from this process
   (the server is a separate process, so the load generator does not share its GIL):
   a sequential phase (concurrency 1, every query kind interleaved with ``/api/v2/ping/``
   so their ratio survives machine noise) and throughput phases at ``--concurrency``, as the
   admin and as a non-superuser who sees the rows through roles; every response is checked
   (status 200, expected ``count`` and number of results); then the admin's mix once more on a
   server started with ``TURRET_KEEP_COUNTS=false``, which counts and orders every list on every
   request (the mix repeats its queries, so the first server serves their counts, and their
   pages from the orders of ids, it kept);
4. runs the same client against a bare waitress app and a one-route Flask app (the ceiling of
   the HTTP stack on this machine), prints a table and optionally writes JSON.

``--profile`` additionally runs the same list requests in-process through Flask's test client
under cProfile, times each SQL statement, and starts the server once under ``-X importtime``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, /proc figures, percentiles)
from harness import Client, Server, loadavg, git_describe  # noqa: E402
from api_load import check, sequential, throughput  # noqa: E402
from api_profile import import_profile, profile  # noqa: E402
from api_report import goals, report  # noqa: E402

ADMIN_PASSWORD = "bench-admin-pw-1"
MEMBER_USERNAME = "bench_member"
MEMBER_PASSWORD = "bench-member-pw-1"
ORG_NAME = "Bench"
PAGE_SIZE = 25
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
         "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
         "uniform", "victor", "whiskey", "xray", "yankee", "zulu")
# Extra environment of every server process (None = remove).  main() points the bytecode cache
# at the work dir, so servers get cached .pyc files, as an installed package has, without
# writing anything into the source tree (and despite PYTHONDONTWRITEBYTECODE in the caller).
SERVER_ENV: dict[str, str | None] = {}


# -- seeding --------------------------------------------------------------------------------
def team_values(i: int, org_id: int) -> dict:
    """Varied, deterministic names/descriptions (names unique within the organization)."""
    return {"name": f"{WORDS[i % 26]}-{i:05d}",
            "description": f"{WORDS[(i * 7 + 3) % 26]} {WORDS[(i * 11 + 5) % 26]} squad {i % 97}",
            "organization": org_id}


def seed(data_dir: str, rows: int) -> dict:
    """Admin, one organization and ``rows`` teams through the service layer, in one transaction."""
    from controller.services import bootstrap, crud

    t0 = time.perf_counter()
    state, ctx = h.open_for_seeding(data_dir, ADMIN_PASSWORD)
    if hasattr(bootstrap, "ensure_builtin_project"):  # what `serve` adds on first start (not the demo)
        bootstrap.ensure_builtin_project(state)
    teams = []
    t1 = time.perf_counter()
    with state.store.transaction():
        org = crud.create(ctx, state.registry["organization"],
                          {"name": ORG_NAME, "description": "benchmark organization"})
        team_res = state.registry["team"]
        for i in range(rows):
            row = crud.create(ctx, team_res, team_values(i, org["id"]))
            teams.append({"id": row["id"], "name": row["name"], "description": row["description"]})
    t2 = time.perf_counter()
    state.store.close()
    return {"org_id": org["id"], "teams": teams, "open_seconds": t1 - t0, "create_seconds": t2 - t1}


# -- the queries and what they must return ---------------------------------------------------
def build_queries(teams: list[dict], rows: int) -> dict[str, dict]:
    """Query kind -> path, expected count, expected ids of the page (computed independently)."""
    plain_page = max(1, min(200, rows // PAGE_SIZE))

    def page_of(ordered: list[dict], page: int) -> list[int]:
        return [t["id"] for t in ordered[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]

    # 1. filter + order + paginate: name__icontains=7&order_by=-name (names are unique)
    m1 = sorted((t for t in teams if "7" in t["name"].lower()), key=lambda t: t["name"], reverse=True)
    # 2. related filter + search (name or description) + two-key order
    m2 = [t for t in teams if "alpha" in t["name"].lower() or "alpha" in t["description"].lower()]
    m2.sort(key=lambda t: -t["id"])
    m2.sort(key=lambda t: t["description"])
    # 3. plain deep page, default ordering (organization, name, id)
    m3 = sorted(teams, key=lambda t: (t["name"], t["id"]))
    def at_most(page: int, matches: list) -> int:  # small --rows: stay on an existing page
        return max(1, min(page, -(-len(matches) // PAGE_SIZE)))

    p1, p2 = at_most(3, m1), at_most(2, m2)
    return {
        "filter": {"path": "/api/v2/teams/?" + urlencode(
            {"name__icontains": "7", "order_by": "-name", "page_size": PAGE_SIZE, "page": p1}),
            "count": len(m1), "ids": page_of(m1, p1)},
        "search": {"path": "/api/v2/teams/?" + urlencode(
            {"organization__name": ORG_NAME, "search": "alpha", "order_by": "description,-id", "page": p2}),
            "count": len(m2), "ids": page_of(m2, p2)},
        "page": {"path": f"/api/v2/teams/?page={plain_page}", "count": len(m3), "ids": page_of(m3, plain_page)},
    }


def start_server(data_dir: str, log_path: str, threads: int | None = None, cmd: list[str] | None = None,
                 env: dict[str, str | None] | None = None) -> Server:
    """``python -m controller serve`` (or ``cmd``) with the bench's admin, ``SERVER_ENV`` and ``env``."""
    return Server(data_dir, log_path, admin_password=ADMIN_PASSWORD, threads=threads,
                  env={**SERVER_ENV, **(env or {})}, cmd=cmd)


_JOB_TABLES = ("project_updates", "inventory_updates", "jobs", "ad_hoc_commands", "workflow_jobs")


def _jobs_unfinished(data_dir: str) -> int:
    """Jobs of any kind not yet ended, read from the data dir's database (read-only)."""
    import sqlite3
    conn = sqlite3.connect(f"file:{os.path.join(data_dir, 'turret.sqlite3')}?mode=ro", uri=True, timeout=5)
    try:
        return sum(conn.execute(f'SELECT count(*) FROM "{t}" WHERE status IN '
                                "('new', 'pending', 'waiting', 'running')").fetchone()[0] for t in _JOB_TABLES)
    finally:
        conn.close()


def wait_idle(server: Server, timeout: float = 60) -> float:
    """Seconds until the server runs no job: none unfinished in its database and no ansible
    process left in its process tree (an empty data dir updates its demo project first, and
    that update may not have started its process yet when the server answers);
    ``timeout`` at most.  Watched from /proc and the database file, not asked over HTTP: a
    request would warm a web worker up, and its memory with it."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if not any("ansible" in h.cmdline(p) for p in h.descendants(server.proc.pid)) \
                and not _jobs_unfinished(server.data_dir):
            break
        time.sleep(0.1)
    return time.monotonic() - began


# -- setup through the API --------------------------------------------------------------------
def api_setup(port: int, org_id: int, queries: dict) -> tuple[str, str, dict]:
    """Admin token, a non-superuser org member (+ org auditor role) and their token; validates."""
    admin_auth = h.bearer(port, "admin", ADMIN_PASSWORD)
    admin = Client(port, admin_auth)
    user = admin.json("POST", "/api/v2/users/", {"username": MEMBER_USERNAME, "password": MEMBER_PASSWORD},
                      expect=201)
    admin.json("POST", f"/api/v2/organizations/{org_id}/users/", {"id": user["id"]}, expect=204)
    org = admin.json("GET", f"/api/v2/organizations/{org_id}/")
    auditor_role = org["summary_fields"]["object_roles"]["auditor_role"]["id"]
    admin.json("POST", f"/api/v2/users/{user['id']}/roles/", {"id": auditor_role}, expect=204)
    # a write token: a read-scoped one is shown no capability at all (AWX), which would spare
    # the member's pages the user_capabilities work a signed-in member's pages do
    member_auth = h.bearer(port, MEMBER_USERNAME, MEMBER_PASSWORD, scope="write")
    member = Client(port, member_auth)
    me = member.json("GET", "/api/v2/me/")["results"][0]
    assert not me["is_superuser"], "member must not be a superuser"
    # correctness: exact rows and order, for both users
    problems = []
    for who, c in (("admin", admin), ("member", member)):
        for kind, q in queries.items():
            status, payload, _ = c.request("GET", q["path"])
            why = check(f"{who}/{kind}", q, status, payload, strict=True)
            if why:
                problems.append(why)
    for c in (admin, member):
        c.close()
    if problems:
        raise RuntimeError("wrong results before load: " + "; ".join(problems))
    return admin_auth, member_auth, {"member_id": user["id"], "auditor_role": auditor_role}


# -- reference servers (same client, same machine): what the HTTP stack alone costs ------------
FLOOR_APPS = {
    "waitress raw WSGI": (
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', '2')])\n"
        "    return [b'{}']\n"),
    "waitress + Flask": (
        "from flask import Flask\n"
        "app = Flask('floor')\n"
        "@app.get('/api/v2/ping/')\n"
        "def ping():\n"
        "    return {'ok': True}\n"),
}


def floors(work: str, log: str, threads: int | None, seconds: float, concurrency: int) -> dict:
    """Sequential p50 and throughput of a bare waitress app and a one-route Flask app."""
    out = {}
    for n, (name, src) in enumerate(FLOOR_APPS.items()):
        path = os.path.join(work, f"floor_{n}.py")
        with open(path, "w") as fh:
            fh.write(src + "\nimport sys\nfrom waitress import serve\n"
                     f"serve(app, host='127.0.0.1', port=int(sys.argv[1]), threads={threads or 8})\n")
        srv = start_server(work, log, cmd=[sys.executable, path, "{port}"])
        try:
            rss = srv.rss_mb()
            plan = [("ping", None, "/api/v2/ping/", None)]
            seq = sequential(srv.port, plan, seconds / 2)["ping"]
            thr = throughput(srv.port, plan, seconds, concurrency, srv)
            out[name] = {"ready_s": srv.ready_seconds, "rss_mb": rss, "c1_p50_ms": seq["p50_ms"],
                         "req_per_s": thr["req_per_s"], "p50_ms": thr["p50_ms"],
                         "errors": seq["errors"] + thr["errors"],
                         "server_cpu_ms_per_req": thr["server_cpu_ms_per_req"],
                         "client_cpu_ms_per_req": thr["client_cpu_ms_per_req"]}
        finally:
            srv.stop()
    return out


# -- main -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    import sqlite3

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10000, help="teams to seed (default 10000)")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="length of each load phase (default 10; ping and reference phases use half)")
    # 8, not 4: granian's workers each take the connections the kernel hashes to them; with 4, one
    # run in eight put all on one worker (half the req/s) and the figure measured that (README)
    ap.add_argument("--concurrency", type=int, default=8, help="client threads in throughput phases (default 8)")
    ap.add_argument("--starts", type=int, default=5, help="server starts on the migrated data dir (default 5)")
    ap.add_argument("--threads", type=int, default=None, help="server --threads (default: server default)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON here")
    ap.add_argument("--no-floor", action="store_true", help="skip the reference waitress/Flask servers")
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile the list requests in-process and time their SQL statements")
    ap.add_argument("--profile-repeat", type=int, default=100, help="requests per kind when profiling")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    args = ap.parse_args(argv)
    if args.rows < PAGE_SIZE * 3:
        ap.error(f"--rows must be at least {PAGE_SIZE * 3}")

    with h.scratch("turret-bench-", args.keep) as (work_path, servers):
        work = str(work_path)
        data_dir = os.path.join(work, "seeded")
        empty_dir = os.path.join(work, "empty")
        log = os.path.join(work, "server.log")
        res: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "sqlite": sqlite3.sqlite_version, "platform": platform.platform()},
                     "rows": args.rows, "seconds": args.seconds, "concurrency": args.concurrency,
                     "server_threads": args.threads, "tree": git_describe(), "loadavg_start": loadavg()}
        SERVER_ENV.update({"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": os.path.join(work, "pycache")})

        def progress(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        progress(f"seeding {args.rows} teams in {data_dir} ...")
        seeded = seed(data_dir, args.rows)
        res["seed"] = {"create_seconds": seeded["create_seconds"], "open_seconds": seeded["open_seconds"],
                       "create_per_row_ms": seeded["create_seconds"] / args.rows * 1000}
        queries = build_queries(seeded["teams"], args.rows)
        res["queries"] = {k: {"path": q["path"], "count": q["count"]} for k, q in queries.items()}

        progress("start-to-ready ...")
        startup: dict = {"migrated": []}

        def one_start(d: str) -> dict:
            n = len(servers)
            s = start_server(d, os.path.join(work, f"start{n}.log"), args.threads)
            servers.append(s)
            r = {"ready_s": s.ready_seconds, "rss_ready_mb": s.rss_mb()}
            r["busy_s"] = wait_idle(s)     # an empty data dir updates its demo project first
            time.sleep(1.0)
            r["rss_idle_mb"] = s.rss_mb()
            s.stop()
            # the server's own figure: cmd_serve start (after imports) until just before serve()
            with open(os.path.join(work, f"start{n}.log")) as fh:
                found = re.search(r"ready in ([0-9.]+)s", fh.read())
            r["self_reported_s"] = float(found.group(1)) if found else None
            return r

        # The first start compiles everything into the fresh bytecode cache: reported, not a goal.
        startup["empty_cold_bytecode"] = one_start(os.path.join(work, "empty-cold"))
        startup["empty"] = one_start(empty_dir)
        for _ in range(args.starts):
            startup["migrated"].append(one_start(data_dir))
        startup["migrated_median_s"] = statistics.median(r["ready_s"] for r in startup["migrated"])
        startup["migrated_rss_idle_median_mb"] = statistics.median(r["rss_idle_mb"] for r in startup["migrated"])
        res["startup"] = startup

        server = start_server(data_dir, log, args.threads)
        servers.append(server)
        admin_auth, member_auth, setup = api_setup(server.port, seeded["org_id"], queries)
        res["member"] = setup
        ping = ("ping", admin_auth, "/api/v2/ping/", None)
        plans = {"admin": [ping] + [(k, admin_auth, q["path"], q) for k, q in queries.items()],
                 "member": [ping] + [(k, member_auth, q["path"], q) for k, q in queries.items()]}

        progress("warm-up ...")
        for plan in plans.values():
            sequential(server.port, plan, 1.0)
        res["sequential"] = {}
        for who, plan in plans.items():
            progress(f"sequential {who} {args.seconds}s ...")
            res["sequential"][who] = sequential(server.port, plan, args.seconds)

        res["throughput"] = {}
        for name, mix, secs in (("ping", [ping], args.seconds / 2),
                                ("list mix (admin)", plans["admin"][1:], args.seconds),
                                ("list mix (member)", plans["member"][1:], args.seconds)):
            progress(f"throughput {name} {secs}s x{args.concurrency} ...")
            res["throughput"][name] = throughput(server.port, mix, secs, args.concurrency, server)
        res["rss_after_load_mb"] = server.rss_mb()
        res["rss_peak_mb"] = server.rss_mb("VmHWM")
        server.stop()
        # The mix repeats its three queries, so the server above answers their counts from the
        # ones it kept (controller.store.generation).  The same mix on a server that counts on
        # every request is what a first visit to each page costs.
        name = "list mix (admin), nothing kept"
        progress(f"throughput {name} {args.seconds}s x{args.concurrency} ...")
        server = start_server(data_dir, log, args.threads, env={"TURRET_KEEP_COUNTS": "false"})
        servers.append(server)
        res["throughput"][name] = throughput(server.port, plans["admin"][1:], args.seconds,
                                             args.concurrency, server)
        server.stop()

        if not args.no_floor:
            progress("reference servers ...")
            res["floors"] = floors(work, log, args.threads, args.seconds / 2, args.concurrency)

        res["loadavg_end"] = loadavg()
        res["goals"] = goals(res)
        res["errors_total"] = (
            sum(s["errors"] for seq in res["sequential"].values() for k, s in seq.items() if k != "first_error")
            + sum(t["errors"] for t in res["throughput"].values())
            + sum(f["errors"] for f in res.get("floors", {}).values()))
        print(report(res), flush=True)
        if res["errors_total"]:
            print(f"\nERRORS: {res['errors_total']} bad responses", file=sys.stderr)

        if args.profile:
            progress("profiling in-process ...")
            logins = {"admin": ("admin", ADMIN_PASSWORD), "member": (MEMBER_USERNAME, MEMBER_PASSWORD)}
            res["profile"] = (profile(data_dir, queries, args.profile_repeat, 25, logins)
                              + import_profile(data_dir, work, start_server))
            print(res["profile"])
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(res, fh, indent=2)
        return 1 if res["errors_total"] else 0


if __name__ == "__main__":
    sys.exit(main())

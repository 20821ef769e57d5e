#!/usr/bin/env python
"""Turret bulk API benchmark: hosts created (and deleted) per request through /api/v2/bulk/.

    .venv/bin/python bench/bulk_bench.py [--quick] [--hosts 1000] [--json out.json] [--keep]

Against a real ``python -m controller serve`` on 127.0.0.1 in a temporary data dir, with
``TURRET_BULK_HOST_MAX_CREATE`` raised to ``--hosts`` (AWX's default limit is 100).  Each of the
``--runs`` rounds makes a fresh inventory, then times over one keep-alive connection (admin Basic
auth, so a round trip includes the password check, as a CLI's would):

* **host_create**: one ``POST /api/v2/bulk/host_create/`` of ``--hosts`` hosts, each with a
  name, a description and a small variables document;
* **host_delete**: the same hosts deleted again, 250 ids per ``POST /api/v2/bulk/host_delete/``
  (AWX's ``BULK_HOST_MAX_DELETE``), summed per round;
* **floor**: ``GET /api/v2/ping/`` round trips in the same run, what any request costs here.

Goal (issue 16): 1,000 hosts created in one request in at most 1 s (p50 of host_create).
``--quick`` (3 rounds) takes a few seconds.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, percentiles)

ADMIN_PASSWORD = "bulk-bench-admin-pw-1"
FULL = dict(runs=10)
QUICK = dict(runs=3)
DELETE_BATCH = 250


def one_round(client: h.Client, org: int, round_no: int, hosts: int) -> tuple[float, float]:
    """(seconds of the create request, seconds of the delete requests) for one fresh inventory."""
    inv = client.json("POST", "/api/v2/inventories/", {"name": f"bulk bench {round_no}", "organization": org},
                      expect=201)
    body = {"inventory": inv["id"], "hosts": [
        {"name": f"host-{round_no}-{i:05d}.example.com", "description": f"bench host {i}",
         "variables": f'{{"rack": "r{i % 40}", "index": {i}}}'} for i in range(hosts)]}
    status, payload, created_s = client.request("POST", "/api/v2/bulk/host_create/", body)
    if status != 201:
        raise RuntimeError(f"host_create -> {status} {payload[:300]!r}")
    listed = client.json("GET", f"/api/v2/inventories/{inv['id']}/")
    if listed["total_hosts"] != hosts:
        raise RuntimeError(f"inventory holds {listed['total_hosts']} hosts, not {hosts}")
    ids = [row["id"] for row in client.json("GET", f"/api/v2/inventories/{inv['id']}/hosts/?page_size=200")
           ["results"]]
    page = 2
    while len(ids) < hosts:
        ids += [row["id"] for row in client.json(
            "GET", f"/api/v2/inventories/{inv['id']}/hosts/?page_size=200&page={page}")["results"]]
        page += 1
    deleted_s = 0.0
    for start in range(0, len(ids), DELETE_BATCH):
        status, payload, took = client.request("POST", "/api/v2/bulk/host_delete/",
                                               {"hosts": ids[start:start + DELETE_BATCH]})
        if status != 201:
            raise RuntimeError(f"host_delete -> {status} {payload[:300]!r}")
        deleted_s += took
    return created_s, deleted_s


def measure(client: h.Client, runs: int, hosts: int) -> dict:
    org = client.json("POST", "/api/v2/organizations/", {"name": "bulk bench"}, expect=201)["id"]
    floor, created, deleted = [], [], []
    for round_no in range(runs):
        for _ in range(20):
            floor.append(client.request("GET", "/api/v2/ping/")[2])
        c, d = one_round(client, org, round_no, hosts)
        created.append(c)
        deleted.append(d)
        h.progress(f"round {round_no + 1}/{runs}: create {c * 1000:.0f} ms, delete {d * 1000:.0f} ms")
    return {"hosts_per_request": hosts, "host_create": h.stats_ms(created), "host_delete": h.stats_ms(deleted),
            "floor_ping": h.stats_ms(floor)}


def goals(fig: dict) -> dict:
    p50 = fig["host_create"]["p50_ms"]
    return {"host_create_1000_le_1s": {"goal": "p50 of one 1,000-host host_create <= 1000 ms",
                                       "p50_ms": round(p50, 1),
                                       "met": fig["hosts_per_request"] >= 1000 and p50 <= 1000}}


def report(res: dict) -> str:
    fig = res["figures"]
    lines = [f"bulk bench ({res['mode']}, {res['runs']} rounds, {fig['hosts_per_request']} hosts per create) "
             f"on {res['machine']['cpus']} CPUs, load {res['loadavg_start']}"]
    for key in ("host_create", "host_delete", "floor_ping"):
        s = fig[key]
        lines.append(f"  {key:12} p50 {s['p50_ms']:8.1f} ms  p99 {s['p99_ms']:8.1f} ms  "
                     f"min {s['min_ms']:8.1f} ms  max {s['max_ms']:8.1f} ms")
    for name, goal in res["goals"].items():
        lines.append(f"  goal {name}: {goal['goal']} -> p50 {goal['p50_ms']} ms, {'met' if goal['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds (a few seconds)")
    ap.add_argument("--runs", type=int, default=None, help=f"rounds (default {FULL['runs']})")
    ap.add_argument("--hosts", type=int, default=1000, help="hosts per host_create request (default 1000)")
    ap.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = ap.parse_args(argv)
    runs = args.runs or (QUICK if args.quick else FULL)["runs"]
    with h.scratch("turret-bulk-bench-", args.keep) as (work, servers):
        res = h.begin(mode="quick" if args.quick else "full", runs=runs)
        t_start = time.perf_counter()
        server = h.Server(str(work / "data"), str(work / "server.log"), admin_password=ADMIN_PASSWORD,
                          env={"TURRET_BULK_HOST_MAX_CREATE": str(args.hosts)}, poll=0.02)
        servers.append(server)
        client = h.Client(server.port, h.basic("admin", ADMIN_PASSWORD))
        h.progress(f"{runs} rounds of {args.hosts} hosts ...")
        res["figures"] = measure(client, runs, args.hosts)
        client.close()
        res["goals"] = goals(res["figures"])
        return h.finish(res, t_start, report, args.json)


if __name__ == "__main__":
    sys.exit(main())

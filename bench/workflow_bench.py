#!/usr/bin/env python
"""Turret workflow benchmark: how fast the engine moves a workflow on, and what a big graph costs.

    .venv/bin/python bench/workflow_bench.py [--quick] [--json out.json] [--keep]

Everything runs against a real ``python -m controller serve`` on 127.0.0.1 in a temporary data
dir (deleted at the end unless ``--keep``), driven over HTTP like any client:

1. **hand-over latency**: a workflow of quick jobs (``bench/playbooks/trivial.yml``, 1 local host)
   shaped as a root, a chain hanging off it (``--chain`` nodes, each on success of the previous)
   and a fan-out (``--fan`` children of the root, on success): ``--chain + --fan + 1`` nodes (100
   by default).  For every parent -> child edge: the parent job's ``finished`` to the child job's
   ``created`` (the engine's share: hook, decision, launch) and to its ``started`` (plus the
   dispatcher's pick-up; in the fan-out, plus waiting for a free worker).  Goal: p50 of
   finished -> created ≤ 50 ms.  All timestamps are written by the server itself.
2. **a 1,000-node graph**: a workflow template of ``--nodes`` nodes built through the API (one
   ``POST workflow_nodes/`` per node, one ``POST success_nodes/``/``failure_nodes/``/
   ``always_nodes/`` per edge, a ternary tree), then its page ``GET /ui/workflow_templates/N``
   ``--renders`` times (server-side SVG, every node and edge checked in the answer).  Goal: ≤ 1 s.

Floors measured in the same run on the same server: ``GET /api/v2/ping/`` (the HTTP stack and
auth alone) and ``POST /api/v2/job_templates/N/launch/`` (one job created by ``launch_job``, the
same call the engine makes for each node).  On a shared 2-CPU machine read the ratios to them.
``--quick`` (a 16-node workflow, the same 1,000-node graph) takes under a minute.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, percentiles)
import jobs_support as js  # noqa: E402  (seeding: project with bench/playbooks, 1-host local inventory)

FULL = dict(chain=49, fan=50, nodes=1000, renders=5, floor_launches=10, floor_pings=200)
QUICK = dict(chain=5, fan=10, nodes=1000, renders=3, floor_launches=4, floor_pings=100)
EDGE_TYPES = ("success", "failure", "always")


# -- building workflows through the API ---------------------------------------------------------
def make_workflow(client: h.Client, org: int, name: str, template: int,
                  edges: list[tuple[int, int, str]], count: int) -> tuple[int, dict]:
    """A workflow template of ``count`` nodes (identifiers ``n0``..) all running ``template``,
    linked by ``edges`` (parent index, child index, type).  Returns (its id, timings)."""
    wfjt = client.json("POST", "/api/v2/workflow_job_templates/", {"name": name, "organization": org}, expect=201)
    node_s, edge_s, ids = [], [], []
    t0 = time.perf_counter()
    for i in range(count):
        status, payload, took = client.request("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/",
                                               {"unified_job_template": template, "identifier": f"n{i}"})
        if status != 201:
            raise RuntimeError(f"node {i}: {status} {payload[:300]!r}")
        ids.append(json.loads(payload)["id"])
        node_s.append(took)
    t1 = time.perf_counter()
    for parent, child, kind in edges:
        status, payload, took = client.request("POST", f"/api/v2/workflow_job_template_nodes/{ids[parent]}/"
                                                       f"{kind}_nodes/", {"id": ids[child]})
        if status != 204:
            raise RuntimeError(f"edge {parent}->{child}: {status} {payload[:300]!r}")
        edge_s.append(took)
    t2 = time.perf_counter()
    return wfjt["id"], {"nodes_s": t1 - t0, "edges_s": t2 - t1, "total_s": t2 - t0,
                        "node_post": h.stats_ms(node_s), "edge_post": h.stats_ms(edge_s)}


def wait_workflow(client: h.Client, wj_id: int, timeout: float = 1800) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.json("GET", f"/api/v2/workflow_jobs/{wj_id}/")
        if body["status"] in js.FINISHED:
            return body
        time.sleep(0.5)
    raise RuntimeError(f"workflow job {wj_id} not done after {timeout}s: {body.get('status')}")


def all_pages(client: h.Client, path: str) -> list[dict]:
    out: list[dict] = []
    page = 1
    while True:
        body = client.json("GET", f"{path}{'&' if '?' in path else '?'}page_size=200&page={page}")
        out += body["results"]
        if not body.get("next"):
            return out
        page += 1


# -- 1. hand-over latency -----------------------------------------------------------------------
def bench_handover(client: h.Client, ids: dict, chain: int, fan: int) -> dict:
    """Run the root + chain + fan-out workflow once; per-edge latencies from server timestamps."""
    count = 1 + chain + fan
    edges = [(0 if i == 1 else i - 1, i, "success") for i in range(1, chain + 1)]
    edges += [(0, i, "success") for i in range(chain + 1, count)]
    h.progress(f"hand-over: building a {count}-node workflow (chain {chain}, fan-out {fan}) ...")
    wfjt, build = make_workflow(client, ids["org"], "handover", ids["jt_trivial"], edges, count)
    t0 = time.time()
    wj = client.json("POST", f"/api/v2/workflow_job_templates/{wfjt}/launch/", {}, expect=201)
    wj_id = wj.get("workflow_job") or wj["id"]
    h.progress(f"hand-over: workflow job {wj_id} running ...")
    final = wait_workflow(client, wj_id)
    wall = time.time() - t0
    nodes = {n["identifier"]: n for n in all_pages(client, f"/api/v2/workflow_job_nodes/?workflow_job={wj_id}")}
    job_ids = [n["job"] for n in nodes.values() if n.get("job")]
    jobs = {}
    for start in range(0, len(job_ids), 100):
        chunk = ",".join(str(j) for j in job_ids[start:start + 100])
        jobs.update({j["id"]: j for j in all_pages(client, f"/api/v2/jobs/?id__in={chunk}")})
    per = {"chain": {"created": [], "started": [], "dispatch": []}, "fan": {"created": [], "started": [],
                                                                            "dispatch": []}}
    for parent, child, _ in edges:
        pj = jobs.get(nodes.get(f"n{parent}", {}).get("job"))
        cj = jobs.get(nodes.get(f"n{child}", {}).get("job"))
        if not pj or not cj or not pj.get("finished") or not cj.get("started"):
            continue
        shape = "chain" if child <= chain else "fan"
        done = js.ts(pj["finished"])
        per[shape]["created"].append(js.ts(cj["created"]) - done)
        per[shape]["started"].append(js.ts(cj["started"]) - done)
        per[shape]["dispatch"].append(js.ts(cj["started"]) - js.ts(cj["created"]))
    all_created = per["chain"]["created"] + per["fan"]["created"]
    return {"nodes": count, "workflow_job": wj_id, "status": final["status"], "wall_s": wall, "build": build,
            "jobs": len(jobs), "edges_measured": len(all_created),
            "finished_to_created": h.stats_ms(all_created),
            **{f"{shape}_{k}": h.stats_ms(v) for shape, d in per.items() for k, v in d.items()}}


# -- 2. the 1,000-node graph --------------------------------------------------------------------
def bench_big_graph(client: h.Client, ui: h.Client, ids: dict, nodes: int, renders: int) -> dict:
    edges = [((i - 1) // 3, i, EDGE_TYPES[i % 3]) for i in range(1, nodes)]
    h.progress(f"big graph: {nodes} nodes and {len(edges)} edges through the API ...")
    wfjt, build = make_workflow(client, ids["org"], f"big-{nodes}", ids["jt_trivial"], edges, nodes)
    times = []
    for _ in range(renders):
        status, payload, took = ui.request("GET", f"/ui/workflow_templates/{wfjt}")
        text = payload.decode()
        drawn = len(re.findall(r'<g class="wf-node', text))
        lines = len(re.findall(r'<path class="wf-edge', text))
        if status != 200 or drawn != nodes or lines != len(edges):
            raise RuntimeError(f"graph page: {status}, {drawn} nodes, {lines} edges drawn")
        times.append(took)
    api_page = [client.request("GET", f"/api/v2/workflow_job_templates/{wfjt}/workflow_nodes/?page_size=200")[2]
                for _ in range(renders)]
    return {"nodes": nodes, "edges": len(edges), "build": build, "render": h.stats_ms(times),
            "page_bytes": len(payload), "api_nodes_page_200": h.stats_ms(api_page),
            "copy": bench_copies(client, wfjt, nodes, min(renders, 3))}


def bench_copies(client: h.Client, wfjt: int, nodes: int, count: int) -> dict:
    """The whole graph created in one request: ``POST copy/`` of the big workflow (nodes, edges
    and their links copied server-side), each copy checked for its node count."""
    times = []
    for i in range(count):
        status, payload, took = client.request("POST", f"/api/v2/workflow_job_templates/{wfjt}/copy/",
                                               {"name": f"big-copy-{i}-{time.time_ns()}"})
        if status != 201:
            raise RuntimeError(f"copy: {status} {payload[:200]!r}")
        new = json.loads(payload)["id"]
        got = json.loads(client.request("GET", f"/api/v2/workflow_job_templates/{new}/workflow_nodes/?page_size=1")[1])
        if got["count"] != nodes:
            raise RuntimeError(f"copy {new} has {got['count']} nodes, not {nodes}")
        times.append(took)
    return h.stats_ms(times)


# -- floors ---------------------------------------------------------------------------------------
def bench_floors(client: h.Client, ids: dict, launches: int, pings: int) -> dict:
    h.progress(f"floors: {pings} pings, {launches} job launches ...")
    ping = [client.request("GET", "/api/v2/ping/")[2] for _ in range(pings)]
    posts = []
    for _ in range(launches):
        status, payload, took = client.request("POST", f"/api/v2/job_templates/{ids['jt_trivial']}/launch/", {})
        if status != 201:
            raise RuntimeError(f"launch: {status} {payload[:200]!r}")
        posts.append(took)
        js.wait_job(client, json.loads(payload)["id"], poll=0.2)
    return {"ping": h.stats_ms(ping), "launch_post": h.stats_ms(posts)}


# -- report ---------------------------------------------------------------------------------------
def goals(res: dict) -> list[dict]:
    out = []
    if "handover" in res:
        p50 = res["handover"]["finished_to_created"]["p50_ms"]
        out.append({"goal": "node finished -> children created p50 <= 50 ms", "value": f"{p50:.1f} ms",
                    "met": p50 <= 50})
    if "graph" in res:
        worst = res["graph"]["render"]["max_ms"]
        out.append({"goal": f"{res['graph']['nodes']}-node graph page <= 1 s", "value": f"{worst:.0f} ms (max)",
                    "met": worst <= 1000})
    return out


def row(name: str, s: dict, floor: float | None = None) -> str:
    ratio = f"{s['p50_ms'] / floor:8.1f}x" if floor else " " * 9
    return (f"{name:<44} {s['n']:>5} {s['p50_ms']:>9.1f} {s['p99_ms']:>9.1f} {s['min_ms']:>9.1f} "
            f"{s['max_ms']:>9.1f} {ratio}")


def report(res: dict) -> str:
    m = res["machine"]
    lines = [f"Turret workflow benchmark - {res['date']} - {res['mode']} - {m['cpus']} CPUs, Python {m['python']}, "
             f"SQLite {m['sqlite']}, tree {res['tree']}",
             f"load average at start {res['loadavg_start']}, at end {res['loadavg_end']}", ""]
    fl = res["floors"]
    ping, launch = fl["ping"]["p50_ms"], fl["launch_post"]["p50_ms"]
    lines.append(f"{'figure (ms)':<44} {'n':>5} {'p50':>9} {'p99':>9} {'min':>9} {'max':>9} {'/floor':>9}")
    lines.append(row("floor: GET /api/v2/ping/", fl["ping"]))
    lines.append(row("floor: POST job_templates/N/launch/", fl["launch_post"], ping))
    if "handover" in res:
        ho = res["handover"]
        lines.append(f"-- {ho['nodes']}-node workflow (job {ho['workflow_job']}, {ho['status']}, {ho['wall_s']:.1f} s, "
                     f"{ho['jobs']} jobs); ratios to the launch POST")
        lines.append(row("finished -> child created (all edges)", ho["finished_to_created"], launch))
        for shape in ("chain", "fan"):
            lines.append(row(f"{shape}: finished -> child created", ho[f"{shape}_created"], launch))
            lines.append(row(f"{shape}: finished -> child started", ho[f"{shape}_started"], launch))
            lines.append(row(f"{shape}: child created -> started (dispatch)", ho[f"{shape}_dispatch"], launch))
    if "graph" in res:
        g = res["graph"]
        b = g["build"]
        lines.append(f"-- {g['nodes']}-node graph ({g['edges']} edges): built through the API in {b['total_s']:.1f} s "
                     f"(nodes {b['nodes_s']:.1f} s, edges {b['edges_s']:.1f} s); ratios to ping")
        lines.append(row("POST workflow_nodes/ (one node)", b["node_post"], ping))
        lines.append(row("POST <type>_nodes/ (one edge)", b["edge_post"], ping))
        lines.append(row(f"GET /ui/workflow_templates/N ({g['page_bytes'] // 1024} KB)", g["render"], ping))
        lines.append(row("GET workflow_nodes/?page_size=200 (API)", g["api_nodes_page_200"], ping))
        lines.append(row(f"POST copy/ ({g['nodes']} nodes created in one request)", g["copy"], ping))
    lines.append("")
    lines += [f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']}: {g['value']}" for g in res["goals"]]
    return "\n".join(lines)


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 16-node workflow (under a minute)")
    ap.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    ap.add_argument("--only", default="handover,graph", help="comma-separated phases (default: both)")
    for k, v in FULL.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, default=None, help=f"(default {v}; quick {QUICK[k]})")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: getattr(args, k) for k in FULL if getattr(args, k) is not None})
    only = set(args.only.split(","))
    with h.scratch("turret-workflow-bench-", args.keep) as (work, servers):
        data_dir = str(work / "data")
        res = h.begin(mode="quick" if args.quick else "full", config=cfg)
        t_start = time.perf_counter()
        h.progress(f"seeding {data_dir} ...")
        ids = js.seed(data_dir, 10)
        server = js.start_server(data_dir, str(work / "server.log"))
        servers.append(server)
        client = h.Client(server.port, js.admin_token(server.port))
        ui = h.Client(server.port, h.basic("admin", js.ADMIN_PASSWORD))
        ui.headers["Accept"] = "text/html"
        res["floors"] = bench_floors(client, ids, cfg["floor_launches"], cfg["floor_pings"])
        if "handover" in only:
            res["handover"] = bench_handover(client, ids, cfg["chain"], cfg["fan"])
        if "graph" in only:
            res["graph"] = bench_big_graph(client, ui, ids, cfg["nodes"], cfg["renders"])
        client.close()
        ui.close()
        res["goals"] = goals(res)
        return h.finish(res, t_start, report, args.json)


if __name__ == "__main__":
    sys.exit(main())

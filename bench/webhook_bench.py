#!/usr/bin/env python
"""Turret webhook benchmark: dispatch time from a webhook delivery to the job's start.

    .venv/bin/python bench/webhook_bench.py [--quick] [--json out.json] [--keep]

Against a real ``python -m controller serve`` on 127.0.0.1 in a temporary data dir (seeded by
``bench/jobs_support.py``; the job runs ``bench/playbooks/trivial.yml`` on one local host), with
``TURRET_WEBHOOK_RATE_LIMIT=0`` so the limit does not pace the run.  Alternately, ``--runs``
times each:

* **webhook**: a GitHub ``push`` delivery (a ~6 KB real-shaped payload, ``X-Hub-Signature-256``
  HMAC, a fresh ``X-GitHub-Delivery``), no authentication, to
  ``POST /api/v2/job_templates/N/github/``;
* **API launch**: ``POST /api/v2/job_templates/N/launch/`` with a Bearer token and ``{}``,

each waited for until it has finished (one job at a time: the figure is the path, not a queue).
Per delivery: the POST's round trip, the client's send time to the job's ``created`` and to its
``started`` (server timestamps; client and server share the clock).  Goal: webhook p50 of
POST -> ``started`` ≤ 50 ms above the API launch's (issue 15: "p50 ≤ 50 ms, as for launches").
``--quick`` (10 of each) takes well under a minute.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402  (bench/harness.py: server, client, percentiles)
import jobs_support as js  # noqa: E402  (seeding: project with bench/playbooks, 1-host local inventory)

PAYLOAD = BENCH.parent / "tests" / "controller" / "webhook_payloads" / "github_push.json"
FULL = dict(runs=50)
QUICK = dict(runs=10)


def deliver(port: int, path: str, key: str, body: bytes) -> tuple[int, dict, float, float]:
    """One signed GitHub push, on a fresh connection as GitHub makes it: (status, answer, wall
    clock at send, round trip)."""
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = time.time()
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    answer = resp.read()
    took = time.perf_counter() - t0
    conn.close()
    return resp.status, json.loads(answer or b"{}"), sent, took


def measure(client: h.Client, port: int, jt: int, key: str, runs: int) -> dict:
    body = PAYLOAD.read_bytes()
    out: dict = {k: {"post": [], "created": [], "started": []} for k in ("webhook", "launch")}
    for i in range(runs):
        for kind in ("webhook", "launch"):
            if kind == "webhook":
                status, answer, sent, took = deliver(port, f"/api/v2/job_templates/{jt}/github/", key, body)
                if status != 202:
                    raise RuntimeError(f"webhook: {status} {answer}")
                job_id = answer["job"]
            else:
                sent = time.time()
                status, payload, took = client.request("POST", f"/api/v2/job_templates/{jt}/launch/", {})
                if status != 201:
                    raise RuntimeError(f"launch: {status} {payload[:200]!r}")
                job_id = json.loads(payload)["id"]
            job = js.wait_job(client, job_id, poll=0.05)
            if job["status"] != "successful":
                raise RuntimeError(f"{kind} job {job_id}: {job['status']}")
            out[kind]["post"].append(took)
            out[kind]["created"].append(js.ts(job["created"]) - sent)
            out[kind]["started"].append(js.ts(job["started"]) - sent)
        if (i + 1) % 10 == 0:
            h.progress(f"{i + 1}/{runs} of each")
    return {kind: {k: h.stats_ms(v) for k, v in d.items()} for kind, d in out.items()}


def report(res: dict) -> str:
    m = res["machine"]
    lines = [f"Turret webhook benchmark - {res['date']} - {res['mode']} - {m['cpus']} CPUs, Python {m['python']}, "
             f"SQLite {m['sqlite']}, tree {res['tree']}",
             f"load average at start {res['loadavg_start']}, at end {res['loadavg_end']}", "",
             f"{'figure (ms)':<44} {'n':>5} {'p50':>9} {'p99':>9} {'min':>9} {'max':>9}"]
    names = {"post": "POST round trip", "created": "POST sent -> job created", "started": "POST sent -> job started"}
    for kind, label in (("webhook", "webhook github/"), ("launch", "API launch/")):
        for key, name in names.items():
            s = res["figures"][kind][key]
            lines.append(f"{label + ': ' + name:<44} {s['n']:>5} {s['p50_ms']:>9.1f} {s['p99_ms']:>9.1f} "
                         f"{s['min_ms']:>9.1f} {s['max_ms']:>9.1f}")
    lines.append("")
    lines += [f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']}: {g['value']}" for g in res["goals"]]
    return "\n".join(lines)


def goals(figures: dict) -> list[dict]:
    hook, api = figures["webhook"]["started"]["p50_ms"], figures["launch"]["started"]["p50_ms"]
    return [{"goal": "webhook POST -> started p50 <= API launch's + 50 ms",
             "value": f"{hook:.1f} ms vs {api:.1f} ms", "met": hook <= api + 50}]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 deliveries and 10 launches (well under a minute)")
    ap.add_argument("--runs", type=int, default=None, help=f"deliveries and launches each (default {FULL['runs']})")
    ap.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = ap.parse_args(argv)
    runs = args.runs or (QUICK if args.quick else FULL)["runs"]
    with h.scratch("turret-webhook-bench-", args.keep) as (work, servers):
        data_dir = str(work / "data")
        res = h.begin(mode="quick" if args.quick else "full", runs=runs)
        t_start = time.perf_counter()
        h.progress(f"seeding {data_dir} ...")
        ids = js.seed(data_dir, 10)
        server = js.start_server(data_dir, str(work / "server.log"), env={"TURRET_WEBHOOK_RATE_LIMIT": "0"})
        servers.append(server)
        client = h.Client(server.port, js.admin_token(server.port))
        jt = ids["jt_trivial"]
        client.json("PATCH", f"/api/v2/job_templates/{jt}/", {"webhook_service": "github"})
        key = client.json("GET", f"/api/v2/job_templates/{jt}/webhook_key/")["webhook_key"]
        h.progress(f"{runs} webhook deliveries and {runs} API launches, alternating ...")
        res["figures"] = measure(client, server.port, jt, key, runs)
        client.close()
        res["goals"] = goals(res["figures"])
        return h.finish(res, t_start, report, args.json)


if __name__ == "__main__":
    sys.exit(main())

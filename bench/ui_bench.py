"""UI page benchmark: an inventory of 10,000 hosts, its host pages served by the web UI.

Measures the server time of ``GET /ui/inventories/<id>?page=N`` (and, side by side in the same
run, of the API's ``GET /api/v2/inventories/<id>/hosts/?page=N`` and of ``/api/v2/ping/``)
in-process with Flask's test client, so the figure is the controller's own time per page, not
the network's.  Goal (issue "Web UI"): ≤ 100 ms a page.

    .venv/bin/python bench/ui_bench.py [--hosts 10000] [--requests 60] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import time

from harness import pct, scratch  # bench/harness.py (first: it puts the checkout on sys.path)

from controller import create_app, open_state
from controller.config import Settings
from controller.services import crud
from controller.services.bootstrap import initialize, system_context
from controller.services.inventory_import import apply

PASSWORD = "bench-pw"


def seed(state, hosts: int) -> int:
    ctx = system_context(state)
    org = crud.create(ctx, state.registry["organization"], {"name": "Bench"})
    inv = crud.create(ctx, state.registry["inventory"], {"name": "Big", "organization": org["id"]})
    folder = state.settings.data_dir / "projects" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.ini").write_text("[all]\n")
    project = crud.create(ctx, state.registry["project"], {"name": "bench", "organization": org["id"],
                                                           "local_path": "bench"})
    source = crud.create(ctx, state.registry["inventory_source"], {
        "name": "bulk", "inventory": inv["id"], "source": "scm", "source_project": project["id"],
        "source_path": "hosts.ini"})
    groups = {f"group{g}": {"hosts": [f"host{i:05d}" for i in range(g, hosts, 20)]} for g in range(20)}
    data = {"_meta": {"hostvars": {f"host{i:05d}": {"ansible_host": f"10.0.{i // 250}.{i % 250}", "n": i}
                                   for i in range(hosts)}},
            "all": {"children": list(groups)}, **groups}
    apply(ctx, source, data)
    return inv["id"]


def login(app):
    client = app.test_client()
    client.get("/api/")
    token = client.get_cookie("csrftoken").value
    resp = client.post("/api/login/", data={"username": "admin", "password": PASSWORD, "next": "/ui/"},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 302, resp.status_code
    return client


def timed(client, path: str, n: int, check) -> list[float]:
    out = []
    for i in range(n):
        url = path.format(page=1 + (i * 37) % 399)
        start = time.perf_counter()
        resp = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
        check(resp)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--json")
    args = parser.parse_args()
    with scratch("turret-ui-bench-") as (work, _servers):    # removed at the end
        return run(args, str(work))


def run(args: argparse.Namespace, data_dir: str) -> int:
    """Seed ``data_dir``, time the pages, print (and optionally write) the figures."""
    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    initialize(state, PASSWORD, demo=False)
    t0 = time.perf_counter()
    inv = seed(state, args.hosts)
    seeded = time.perf_counter() - t0
    app = create_app(state=state)
    client = login(app)
    pages = re.compile(rb"host\d{5}")

    def ui_check(resp):
        assert len(set(pages.findall(resp.data))) == 25, "a UI page must list 25 hosts"

    def api_check(resp):
        assert resp.get_json()["count"] == args.hosts and len(resp.get_json()["results"]) == 25

    timed(client, f"/ui/inventories/{inv}?page={{page}}", 5, ui_check)   # warm-up
    results = {
        "ui_hosts_page": timed(client, f"/ui/inventories/{inv}?page={{page}}", args.requests, ui_check),
        "api_hosts_page": timed(client, f"/api/v2/inventories/{inv}/hosts/?page={{page}}", args.requests, api_check),
        "api_ping": timed(client, "/api/v2/ping/", args.requests, lambda r: None),
    }
    summary = {name: {"p50_ms": round(statistics.median(v), 1), "p99_ms": round(pct(v, 99), 1), "n": len(v)}
               for name, v in results.items()}
    ratio = summary["ui_hosts_page"]["p50_ms"] / max(summary["api_ping"]["p50_ms"], 0.01)
    print(f"seeded {args.hosts} hosts in 20 groups in {seeded:.1f}s")
    print(f"{'endpoint':18} {'p50 ms':>8} {'p99 ms':>8}")
    for name, s in summary.items():
        print(f"{name:18} {s['p50_ms']:8.1f} {s['p99_ms']:8.1f}")
    goal = summary["ui_hosts_page"]["p50_ms"] <= 100 and summary["ui_hosts_page"]["p99_ms"] <= 100
    print(f"UI page / ping (p50): {ratio:.1f}x;  goal ≤ 100 ms a page: {'met' if goal else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"hosts": args.hosts, "summary": summary, "seed_seconds": seeded}, fh, indent=2)
    state.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

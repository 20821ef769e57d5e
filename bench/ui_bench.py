"""UI page benchmark: an inventory of 10,000 hosts (with a job history of 40 runs over all of
them), every kind of web UI page served over it.

Measures the server time of each page (``GET /ui/inventories/<id>?page=N``, the host list, a
host's page with its job history, a template's page, access tabs, every "new" form, the schedule
form and its preview, ...) in-process with Flask's test client, so the figure is the controller's
own time per page, not the network's; the API's host sub-list and ``/api/v2/ping/`` are timed side
by side in the same run.  Goal (issues "Web UI" and 19): ≤ 100 ms a page.  A page the UI does not
serve (404) is listed as missing instead of failing the run.

    .venv/bin/python bench/ui_bench.py [--hosts 10000] [--requests 60] [--jobs 40] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from datetime import datetime, timezone

from harness import pct, scratch  # bench/harness.py (first: it puts the checkout on sys.path)

from controller import create_app, open_state
from controller.config import Settings
from controller.services import crud
from controller.services.bootstrap import initialize, system_context
from controller.services.inventory_import import apply

PASSWORD = "bench-pw"
GOAL_MS = 100.0


def seed(state, hosts: int) -> dict[str, int]:
    """The big inventory (hosts in 20 groups), a template over it with a schedule, a team that
    may run it; returns the ids the page paths need."""
    ctx = system_context(state)
    reg = state.registry
    org = crud.create(ctx, reg["organization"], {"name": "Bench"})
    inv = crud.create(ctx, reg["inventory"], {"name": "Big", "organization": org["id"]})
    folder = state.settings.data_dir / "projects" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.ini").write_text("[all]\n")
    (folder / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    project = crud.create(ctx, reg["project"], {"name": "bench", "organization": org["id"], "local_path": "bench"})
    source = crud.create(ctx, reg["inventory_source"], {
        "name": "bulk", "inventory": inv["id"], "source": "scm", "source_project": project["id"],
        "source_path": "hosts.ini"})
    groups = {f"group{g}": {"hosts": [f"host{i:05d}" for i in range(g, hosts, 20)]} for g in range(20)}
    data = {"_meta": {"hostvars": {f"host{i:05d}": {"ansible_host": f"10.0.{i // 250}.{i % 250}", "n": i}
                                   for i in range(hosts)}},
            "all": {"children": list(groups)}, **groups}
    apply(ctx, source, data)
    jt = crud.create(ctx, reg["job_template"], {"name": "Big run", "project": project["id"], "inventory": inv["id"],
                                                 "playbook": "play.yml"})
    crud.create(ctx, reg["schedule"], {"name": "nightly", "unified_job_template": jt["id"],
                                       "rrule": "DTSTART:20300101T020000Z RRULE:FREQ=DAILY;INTERVAL=1"})
    team = crud.create(ctx, reg["team"], {"name": "Operators", "organization": org["id"]})
    host = state.store.one_dict("SELECT id FROM hosts WHERE name = ?", ["host00042"])
    group = state.store.one_dict("SELECT id FROM groups WHERE name = ?", ["group3"])
    cred = crud.list_page(ctx, reg["credential_type"], [("namespace", "ssh")], "/")["results"][0]
    return {"inv": inv["id"], "org": org["id"], "project": project["id"], "source": source["id"], "jt": jt["id"],
            "team": team["id"], "host": host["id"] if host else 0, "group": group["id"] if group else 0,
            "ssh": cred["id"]}


def seed_history(state, jt_id: int, runs: int) -> None:
    """``runs`` finished jobs of the template, each with a host summary for every host (what a
    host's job history and the template's recent jobs read): launched by ``launch_job`` and
    ended by the job kind's own ``finish`` (as the dispatcher ends a real run), with the
    ``playbook_on_stats`` data a run over every host would give."""
    from controller.jobs.job_run import finish
    from controller.jobs.launch import launch_job
    from controller.store import jobs as job_rows

    ctx = system_context(state)
    jt = crud.get_row(ctx, state.registry["job_template"], jt_id)
    names = {r["name"]: r["id"] for r in state.store.query("SELECT id, name FROM hosts")}
    now = datetime.now(timezone.utc).isoformat()
    for i in range(runs):
        job, _ignored = launch_job(ctx, jt, {}, trusted=True)
        failed = {n for n in names if i % 4 == 3 and n.endswith("7")}
        stats = {"ok": {n: 1 for n in names}, "failures": {n: 1 for n in failed}}
        final = finish(ctx, job, None, {"stats": stats, "meta": {"host_ids": names}})
        job_rows.set_fields(state.store, "jobs", job["id"], {**final, "status": "failed" if failed else "successful",
                                                             "started": now, "finished": now, "elapsed": 1.0})


def pages(ids: dict[str, int]) -> list[tuple[str, str]]:
    """(name, path) of every page timed; ``{page}`` walks through the host pages."""
    news = ["organizations", "users", "teams", "projects", "templates", "inventories", "hosts", "groups",
            "inventory_sources", "credentials", "credential_types", "schedules", "tokens"]
    return [
        ("inventory hosts", f"/ui/inventories/{ids['inv']}?page={{page}}"),
        ("dashboard", "/ui/"),
        ("host list", "/ui/hosts?page={page}"),
        ("host list search", "/ui/hosts?search=name__icontains%3Dhost001&order_by=-name"),
        ("host page", f"/ui/hosts/{ids['host']}"),
        ("group page", f"/ui/groups/{ids['group']}"),
        ("template page", f"/ui/templates/{ids['jt']}"),
        ("template edit", f"/ui/templates/{ids['jt']}/edit"),
        ("template access", f"/ui/templates/{ids['jt']}/access"),
        ("inventory access", f"/ui/inventories/{ids['inv']}/access"),
        ("launch form", f"/ui/templates/{ids['jt']}/launch"),
        ("jobs", "/ui/jobs"),
        ("schedule new", f"/ui/schedules/new?unified_job_template={ids['jt']}"),
        ("inventory source", f"/ui/inventory_sources/{ids['source']}"),
        ("team page", f"/ui/teams/{ids['team']}"),
        ("credential new", f"/ui/credentials/new?credential_type={ids['ssh']}"),
        *[(f"{plural} new", f"/ui/{plural}/new") for plural in news if plural != "credentials"],
    ]


def login(app):
    client = app.test_client()
    client.get("/api/")
    token = client.get_cookie("csrftoken").value
    resp = client.post("/api/login/", data={"username": "admin", "password": PASSWORD, "next": "/ui/"},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 302, resp.status_code
    return client


def timed(client, path: str, n: int, check=None, last_page: int = 399) -> list[float] | None:
    """Server times (ms) of ``n`` GETs of ``path`` (``{page}`` spread over 1..``last_page``);
    None when the UI does not serve it (404)."""
    out = []
    for i in range(n):
        url = path.format(page=1 + (i * 37) % last_page)
        start = time.perf_counter()
        resp = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        if resp.status_code == 404 and i == 0:
            return None
        assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
        if check:
            check(resp)
    return out


def timed_preview(client, jt: int, n: int) -> list[float] | None:
    """The schedule form's live preview (next 10 runs), posted as the form's script posts it."""
    token = client.get_cookie("csrftoken").value
    form = {"csrfmiddlewaretoken": token, "unified_job_template": str(jt), "name": "x",
            "rrule": "DTSTART;TZID=Europe/Paris:20300101T020000 RRULE:FREQ=HOURLY;INTERVAL=5"}
    out = []
    for _ in range(n):
        start = time.perf_counter()
        resp = client.post("/ui/schedules/preview", data=form)
        out.append((time.perf_counter() - start) * 1000)
        if resp.status_code in (404, 405):
            return None
        assert resp.status_code in (200, 400), resp.status_code
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=60, help="GETs of the inventory page and of the API")
    parser.add_argument("--page-requests", type=int, default=20, help="GETs of each other UI page")
    parser.add_argument("--jobs", type=int, default=40, help="finished jobs over every host (job history)")
    parser.add_argument("--json")
    args = parser.parse_args()
    with scratch("turret-ui-bench-") as (work, _servers):    # removed at the end
        return run(args, str(work))


def run(args: argparse.Namespace, data_dir: str) -> int:
    """Seed ``data_dir``, time the pages, print (and optionally write) the figures."""
    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    initialize(state, PASSWORD, demo=False)
    t0 = time.perf_counter()
    ids = seed(state, args.hosts)
    seed_history(state, ids["jt"], args.jobs)
    seeded = time.perf_counter() - t0
    app = create_app(state=state)
    client = login(app)
    host_names = re.compile(rb"host\d{5}")

    def ui_check(resp):
        assert len(set(host_names.findall(resp.data))) == 25, "a UI page must list 25 hosts"

    def api_check(resp):
        assert resp.get_json()["count"] == args.hosts and len(resp.get_json()["results"]) == 25

    last = max(1, args.hosts // 25 - 1)
    timed(client, f"/ui/inventories/{ids['inv']}?page={{page}}", 5, ui_check, last)   # warm-up
    results: dict[str, list[float] | None] = {}
    missing = []
    for name, path in pages(ids):
        n = args.requests if name == "inventory hosts" else args.page_requests
        times = timed(client, path, n, ui_check if name == "inventory hosts" else None, last)
        if times is None:
            missing.append(f"{name} ({path})")
        else:
            results[name] = times
    preview = timed_preview(client, ids["jt"], args.page_requests)
    if preview is None:
        missing.append("schedule preview (POST /ui/schedules/preview)")
    else:
        results["schedule preview"] = preview
    results["api hosts page"] = timed(client, f"/api/v2/inventories/{ids['inv']}/hosts/?page={{page}}",
                                      args.requests, api_check, last)
    results["api ping"] = timed(client, "/api/v2/ping/", args.requests)
    summary = {name: {"p50_ms": round(statistics.median(v), 1), "p99_ms": round(pct(v, 99), 1), "n": len(v)}
               for name, v in results.items() if v}
    ui = {k: v for k, v in summary.items() if not k.startswith("api ")}
    slow = [k for k, v in ui.items() if v["p50_ms"] > GOAL_MS]
    print(f"seeded {args.hosts} hosts in 20 groups and {args.jobs} jobs over all of them in {seeded:.1f}s")
    print(f"{'page':22} {'p50 ms':>8} {'p99 ms':>8}")
    for name, st in summary.items():
        print(f"{name:22} {st['p50_ms']:8.1f} {st['p99_ms']:8.1f}")
    for name in missing:
        print(f"missing: {name}")
    worst = max(ui.items(), key=lambda kv: kv[1]["p50_ms"])
    print(f"{len(ui)} UI pages, slowest p50 {worst[1]['p50_ms']} ms ({worst[0]}); "
          f"goal ≤ {GOAL_MS:.0f} ms a page (p50): {'met' if not slow else 'NOT met: ' + ', '.join(slow)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"hosts": args.hosts, "jobs": args.jobs, "summary": summary, "missing": missing,
                       "seed_seconds": seeded}, fh, indent=2)
    state.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

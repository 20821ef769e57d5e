"""AWX's dashboard (``/api/v2/dashboard/``) and its jobs graph (``/dashboard/graphs/jobs/``),
computed from real jobs: totals and failures as the asking user sees them, and ended jobs per
day (or hour) by status and job type."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from controller.store.dashboard import finished_by_period
from tests.support.jobs import launch, make_jt, make_stage, uniq, wait_job, wait_update

JOB_WORKERS = 2
PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - fail: msg=boom
      when: inventory_hostname == 'bad'
"""


@pytest.fixture(scope="module")
def seeded(admin, app_state, jobs):
    """Two hosts of one inventory (one fails its job), a failed and a successful job, and a git
    project whose update fails (its repository answers nothing)."""
    stage = make_stage(admin, app_state.settings.data_dir, {"play.yml": PLAY}, hosts=("good", "bad"))
    good = make_jt(admin, stage["project"], stage["inventory"], "play.yml", limit="good")
    both = make_jt(admin, stage["project"], stage["inventory"], "play.yml")
    ok = wait_job(admin, launch(admin, good)["id"])
    failed = wait_job(admin, launch(admin, both)["id"])
    assert (ok["status"], failed["status"]) == ("successful", "failed")
    resp = admin.post("/api/v2/projects/", {"name": uniq("git"), "organization": stage["org"]["id"],
                                            "scm_type": "git", "scm_url": "https://127.0.0.1:9/nothing.git"})
    assert resp.status_code == 201, resp.json
    update = resp.json["related"].get("current_update") or admin.post(
        f"/api/v2/projects/{resp.json['id']}/update/").json["url"]
    update_id = int(update.rstrip("/").rsplit("/", 1)[1])
    assert wait_update(admin, update_id)["status"] == "failed"
    return {**stage, "ok": ok, "failed": failed, "git": resp.json}


def test_totals_and_failures(admin, seeded):
    body = admin.get("/api/v2/dashboard/").json
    assert body["related"] == {"jobs_graph": "/api/v2/dashboard/graphs/jobs/"}
    for key, plural in (("users", "users"), ("organizations", "organizations"), ("teams", "teams"),
                        ("credentials", "credentials"), ("job_templates", "job_templates"), ("hosts", "hosts"),
                        ("projects", "projects"), ("inventories", "inventories"), ("groups", "groups")):
        assert body[key]["url"] == f"/api/v2/{plural}/"
        assert body[key]["total"] == admin.get(f"/api/v2/{plural}/").json["count"], key
    # the host 'bad' failed its last job, so its inventory counts as one with failed hosts
    assert body["hosts"]["failed"] == 1
    assert body["inventories"]["job_failed"] == 1
    assert body["hosts"]["failures_url"] == "/api/v2/hosts/?last_job_host_summary__failed=True"
    # the git project's update failed
    assert body["projects"]["failed"] == 1
    assert body["scm_types"]["git"] == {
        "url": "/api/v2/projects/?scm_type=git", "label": "Git",
        "failures_url": "/api/v2/projects/?scm_type=git&last_job_failed=True", "total": 1, "failed": 1}
    assert body["scm_types"]["svn"]["total"] == 0 and body["scm_types"]["archive"]["label"] == "Remote Archive"
    assert body["inventory_sources"]["ec2"]["total"] == 0


def test_a_user_sees_only_their_objects(seeded, make_user):
    _uid, user = make_user()
    body = user.get("/api/v2/dashboard/").json
    assert body["hosts"] == {**body["hosts"], "total": 0, "failed": 0}
    assert body["projects"]["total"] == 0 and body["inventories"]["job_failed"] == 0
    assert body["users"]["total"] == user.get("/api/v2/users/").json["count"]


def test_jobs_graph_counts_today(admin, seeded):
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    graph = admin.get("/api/v2/dashboard/graphs/jobs/?period=week&job_type=playbook_run").json["jobs"]
    assert set(graph) == {"successful", "failed", "canceled", "error"}
    assert len(graph["successful"]) == 8          # seven days back, through today
    assert graph["successful"][-1] == [today, 1]
    assert graph["failed"][-1] == [today, 1]
    assert sum(n for _t, n in graph["error"]) == 0
    # the failed project update is an scm_update, not a playbook run; "all" has both
    scm = admin.get("/api/v2/dashboard/graphs/jobs/?period=two_weeks&job_type=scm_update").json["jobs"]
    assert len(scm["failed"]) == 15 and scm["failed"][-1] == [today, 1] and scm["successful"][-1][1] == 0
    everything = admin.get("/api/v2/dashboard/graphs/jobs/").json["jobs"]   # month, all
    assert everything["failed"][-1] == [today, 2]
    assert 29 <= len(everything["failed"]) <= 32
    inv = admin.get("/api/v2/dashboard/graphs/jobs/?period=month&job_type=inv_sync").json["jobs"]
    assert sum(n for _t, n in inv["failed"]) == 0


def test_jobs_graph_by_hour(admin, seeded):
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0).timestamp()
    graph = admin.get("/api/v2/dashboard/graphs/jobs/?period=day&job_type=playbook_run").json["jobs"]
    assert len(graph["failed"]) in (24, 25)
    assert graph["failed"][-1] == [hour, 1]


def test_jobs_graph_is_per_user(seeded, make_user):
    _uid, user = make_user()
    graph = user.get("/api/v2/dashboard/graphs/jobs/?period=week").json["jobs"]
    assert sum(n for series in graph.values() for _t, n in series) == 0


def test_bad_arguments(admin, anon):
    resp = admin.get("/api/v2/dashboard/graphs/jobs/?period=year")
    assert resp.status_code == 400 and resp.json == {"error": 'Unknown period "year"'}
    assert admin.get("/api/v2/dashboard/graphs/jobs/?job_type=x").status_code == 400
    assert anon.get("/api/v2/dashboard/").status_code == 401
    assert admin.get("/api/v2/").json["dashboard"] == "/api/v2/dashboard/"


def test_jobs_graph_reads_only_the_period(app_state):
    """The graph's statement searches each job table by its ``finished`` index, so its work grows
    with the period's jobs, not with the whole history (its status index would read every ended
    job: 82 ms against 13 ms for a month of a 200,000-job history)."""
    store = app_state.store
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        finished_by_period(store, [("jobs", "1", []), ("project_updates", "launch_type != 'sync'", [])],
                           ("successful", "failed"), "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 10)
    finally:
        store.conn.set_trace_callback(None)
    [sql] = [s for s in seen if "GROUP BY status, period" in s]
    plan = " | ".join(r["detail"] for r in store.dicts("EXPLAIN QUERY PLAN " + sql))
    for table in ("jobs", "project_updates"):
        assert f"SEARCH {table} USING INDEX idx_{table}_finished (finished>? AND finished<?)" in plan, plan

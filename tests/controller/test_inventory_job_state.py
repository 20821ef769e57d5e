"""What jobs leave on hosts and inventories (AWX: ``Host.last_job`` / ``last_job_host_summary``
set as a job's summaries are saved, ``Inventory.update_computed_fields``), what inventory
sources say (the hosts they imported, their failed updates), and hosts and groups refused
deletion while a job runs on their inventory.  Real ansible-runner jobs and imports."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.jobs import launch, make_jt, make_stage, wait_job

pytestmark = pytest.mark.slow
V2 = "/api/v2"

SPLIT = """- hosts: all
  gather_facts: false
  tasks:
    - name: break h3
      fail: msg="h3 is broken"
      when: inventory_hostname == 'h3'
"""
OK = """- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=fine
"""
# holds the job running until the test writes the file it waits for
HOLD = """- hosts: all
  gather_facts: false
  tasks:
    - wait_for: path={{ release }} timeout=60
"""


def _host(admin, pk: int) -> dict:
    return admin.get(f"{V2}/hosts/{pk}/").json


def test_a_failed_job_marks_its_hosts_and_inventory(app_state, admin, jobs):
    stage = make_stage(admin, app_state.settings.data_dir, {"split.yml": SPLIT, "ok.yml": OK},
                       hosts=("h1", "h3"))
    inv, ids = stage["inventory"], stage["inventory"]["_hosts"]
    idle = admin.post(f"{V2}/hosts/", {"name": "idle", "inventory": inv["id"], "enabled": False}).json  # not run
    jt = make_jt(admin, stage["project"], inv, "split.yml")
    job = wait_job(admin, launch(admin, jt)["id"], timeout=120)
    assert job["status"] == "failed"

    summaries = {s["host_name"]: s for s in admin.get(f"{V2}/jobs/{job['id']}/job_host_summaries/").json["results"]}
    h1, h3 = _host(admin, ids["h1"]), _host(admin, ids["h3"])
    assert (h3["last_job"], h3["last_job_host_summary"], h3["has_active_failures"]) == \
        (job["id"], summaries["h3"]["id"], True)
    assert (h1["last_job"], h1["last_job_host_summary"], h1["has_active_failures"]) == \
        (job["id"], summaries["h1"]["id"], False)
    assert h3["related"]["last_job"] == f"/api/v2/jobs/{job['id']}/"
    assert h3["summary_fields"]["last_job"]["id"] == job["id"]
    assert h3["summary_fields"]["last_job_host_summary"]["failed"] is True
    recent = h3["summary_fields"]["recent_jobs"]
    assert recent == [{"id": job["id"], "name": jt["name"], "type": "job", "status": "failed",
                       "finished": job["finished"]}]
    assert _host(admin, idle["id"])["last_job"] is None
    row = app_state.store.get("hosts", ids["h3"])
    assert (row["last_job"], row["last_job_host_summary"]) == (job["id"], summaries["h3"]["id"])

    counted = admin.get(inv["url"]).json
    assert (counted["has_active_failures"], counted["hosts_with_active_failures"]) == (True, 1)
    for query, expected in (("has_active_failures=true", 1), ("hosts_with_active_failures__gt=0", 1),
                            ("has_active_failures=false", 0)):
        assert admin.get(f"{V2}/inventories/?id={inv['id']}&{query}").json["count"] == expected, query
    smart = admin.post(f"{V2}/inventories/", {"name": "failing-smart", "organization": stage["org"]["id"],
                                              "kind": "smart", "host_filter": "name__startswith=h"}).json
    assert (smart["total_hosts"], smart["hosts_with_active_failures"], smart["has_active_failures"]) == (2, 1, True)
    failing = admin.get(f"{V2}/hosts/?last_job_host_summary__failed=True&inventory={inv['id']}")
    assert failing.status_code == 200 and [r["name"] for r in failing.json["results"]] == ["h3"]
    by_job = admin.get(f"{V2}/hosts/?last_job={job['id']}")
    assert by_job.status_code == 200 and sorted(r["name"] for r in by_job.json["results"]) == ["h1", "h3"]
    dashboard = admin.get(f"{V2}/dashboard/").json["hosts"]
    assert admin.get(dashboard["failures_url"]).status_code == 200

    # what ran on a group's hosts (its descendants' included), and the inventory's templates
    parent = admin.post(f"{V2}/groups/", {"name": "parent", "inventory": inv["id"]}).json
    child = admin.post(f"{parent['url']}children/", {"name": "child"}).json
    assert admin.post(f"{child['url']}hosts/", {"id": ids["h3"]}).status_code == 204
    listed = admin.get(f"{parent['url']}job_host_summaries/").json["results"]
    assert [(r["host_name"], r["job"]) for r in listed] == [("h3", job["id"])]
    events = admin.get(f"{parent['url']}job_events/").json["results"]
    assert events and {e["host"] for e in events} == {ids["h3"]}
    assert [t["id"] for t in admin.get(f"{inv['url']}job_templates/").json["results"]] == [jt["id"]]
    assert admin.get(f"{inv['url']}job_templates/?name={jt['name']}").json["count"] == 1

    # a later successful job clears the failure and is the newest of recent_jobs
    jt_ok = make_jt(admin, stage["project"], inv, "ok.yml")
    again = wait_job(admin, launch(admin, jt_ok)["id"], timeout=120)
    assert again["status"] == "successful"
    h3 = _host(admin, ids["h3"])
    assert (h3["last_job"], h3["has_active_failures"]) == (again["id"], False)
    assert [j["id"] for j in h3["summary_fields"]["recent_jobs"]] == [again["id"], job["id"]]
    assert admin.get(inv["url"]).json["hosts_with_active_failures"] == 0

    # ad hoc commands that ran on a host, and on a group's hosts
    made = admin.post(f"{V2}/ad_hoc_commands/", {"inventory": inv["id"], "module_name": "ping", "limit": "h1"})
    assert made.status_code == 201, made.json
    deadline = time.monotonic() + 90
    while admin.get(made.json["url"]).json["status"] not in ("successful", "failed", "error", "canceled"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [c["id"] for c in admin.get(f"{V2}/hosts/{ids['h1']}/ad_hoc_commands/").json["results"]] == \
        [made.json["id"]]
    assert admin.get(f"{V2}/hosts/{ids['h1']}/ad_hoc_command_events/").json["count"] >= 1
    assert admin.get(f"{V2}/hosts/{ids['h3']}/ad_hoc_commands/").json["count"] == 0
    assert admin.get(f"{parent['url']}ad_hoc_commands/").json["count"] == 0

    # deleting the job nulls what named it (AWX on_delete=SET_NULL)
    assert admin.delete(f"{V2}/jobs/{again['id']}/").status_code == 204
    h3 = _host(admin, ids["h3"])
    assert (h3["last_job"], h3["last_job_host_summary"]) == (None, None)
    assert [j["id"] for j in h3["summary_fields"]["recent_jobs"]] == [job["id"]]


def test_hosts_and_groups_stay_while_a_job_runs_on_their_inventory(app_state, admin, jobs, tmp_path):
    release = tmp_path / "release"
    stage = make_stage(admin, app_state.settings.data_dir, {"hold.yml": HOLD}, hosts=("h1", "h2"))
    inv, ids = stage["inventory"], stage["inventory"]["_hosts"]
    group = admin.post(f"{V2}/groups/", {"name": "g", "inventory": inv["id"]}).json
    jt = make_jt(admin, stage["project"], inv, "hold.yml", extra_vars=f'{{"release": "{release}"}}')
    job = launch(admin, jt)
    try:
        deadline = time.monotonic() + 60
        while admin.get(f"{V2}/jobs/{job['id']}/").json["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        refused = admin.delete(f"{V2}/hosts/{ids['h1']}/")
        assert refused.status_code == 409
        assert refused.json == {"error": "Resource is being used by running jobs.",
                                "active_jobs": [{"id": job["id"], "type": "job"}]}
        assert admin.delete(f"{V2}/groups/{group['id']}/").status_code == 409
        detach = admin.post(f"{inv['url']}groups/", {"id": group["id"], "disassociate": True})
        assert detach.status_code == 409
        assert app_state.store.get("hosts", ids["h1"]) is not None
        assert app_state.store.get("groups", group["id"]) is not None
    finally:
        Path(release).write_text("go")
    assert wait_job(admin, job["id"], timeout=120)["status"] == "successful"
    assert admin.delete(f"{V2}/hosts/{ids['h1']}/").status_code == 204
    assert admin.delete(f"{V2}/groups/{group['id']}/").status_code == 204


def _wait(admin, url: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = admin.get(url).json
        if body["status"] in ("successful", "failed", "error", "canceled"):
            return body
        time.sleep(0.2)
    raise AssertionError(body)


def test_sources_count_their_failures_and_mark_the_hosts_they_imported(app_state, admin, jobs, make_org):
    org = make_org()
    folder = app_state.settings.data_dir / "projects" / "i1-sources"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.ini").write_text("[web]\nimported1\n")
    (folder / "broken.yml").write_text("all:\n  hosts: [unclosed\n")
    project = admin.post(f"{V2}/projects/", {"name": "i1-sources", "organization": org["id"],
                                             "local_path": "i1-sources"}).json
    inv = admin.post(f"{V2}/inventories/", {"name": "i1-src-inv", "organization": org["id"]}).json
    manual = admin.post(f"{V2}/hosts/", {"name": "manual", "inventory": inv["id"]}).json
    sources = {}
    for name, path in (("good", "hosts.ini"), ("bad", "broken.yml")):
        sources[name] = admin.post(f"{inv['url']}inventory_sources/", {
            "name": name, "source": "scm", "source_project": project["id"], "source_path": path}).json
        started = admin.post(f"{sources[name]['url']}update/")
        assert started.status_code == 202, started.json
        _wait(admin, started.json["url"])
    assert admin.get(sources["bad"]["url"]).json["last_job_failed"] is True

    counted = admin.get(inv["url"]).json
    assert (counted["total_inventory_sources"], counted["inventory_sources_with_failures"]) == (2, 1)
    assert admin.get(f"{V2}/dashboard/").json["inventories"]["inventory_failed"] >= 1
    imported = admin.get(f"{inv['url']}hosts/?name=imported1").json["results"][0]
    assert imported["has_inventory_sources"] is True
    assert [s["name"] for s in admin.get(f"{V2}/hosts/{imported['id']}/inventory_sources/").json["results"]] == \
        ["good"]
    web = admin.get(f"{inv['url']}groups/?name=web").json["results"][0]
    assert [s["name"] for s in admin.get(f"{V2}/groups/{web['id']}/inventory_sources/").json["results"]] == ["good"]
    assert admin.get(f"{V2}/hosts/{manual['id']}/inventory_sources/").json["count"] == 0
    assert _host(admin, manual["id"])["has_inventory_sources"] is False

    # the bad source fixed: its newest update decides
    (folder / "broken.yml").write_text("all:\n  hosts:\n    fixed1:\n")
    _wait(admin, admin.post(f"{sources['bad']['url']}update/").json["url"])
    assert admin.get(inv["url"]).json["inventory_sources_with_failures"] == 0

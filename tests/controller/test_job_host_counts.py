"""A job's ``host_status_counts`` are stored as it finishes (``host_counts``), so a page of jobs
(the API's job list, the UI's jobs, dashboard, template and host pages) never re-reads every
host's summary: with 10,000 hosts a job, recounting 25 jobs read 250,000 rows a page (seconds).
Jobs finished before the column existed are still counted from their summaries."""
from __future__ import annotations

import json

import pytest

from tests.support.jobs import launch, make_jt, make_stage, wait_job
from tests.support.sql_trace import statements

pytestmark = pytest.mark.slow

SPLIT = """- hosts: all
  gather_facts: false
  tasks:
    - name: change on h1
      command: echo changed
      changed_when: inventory_hostname == 'h1'
    - name: break h3
      fail: msg="h3 is broken"
      when: inventory_hostname == 'h3'
"""


def test_finished_jobs_keep_their_counts_and_lists_do_not_recount(app_state, admin, jobs):
    stage = make_stage(admin, app_state.settings.data_dir, {"split.yml": SPLIT}, hosts=("h1", "h2", "h3"))
    jt = make_jt(admin, stage["project"], stage["inventory"], "split.yml")
    job = wait_job(admin, launch(admin, jt)["id"], timeout=120)
    assert job["status"] == "failed"
    expected = {"changed": 1, "ok": 1, "failures": 1}
    assert job["host_status_counts"] == expected
    row = app_state.store.get("jobs", job["id"])
    assert json.loads(row["host_counts"]) == expected          # stored once, as the job finished
    assert "host_counts" not in job                            # not an API field

    listed = statements(app_state.store, lambda: admin.get(f"/api/v2/jobs/{job['id']}/"))
    # (the inventory's hosts_with_active_failures looks up its hosts' last summaries, by id)
    assert not [s for s in listed if "job_host_summaries WHERE job" in s], listed

    # a job from before the column: counted from its summaries, as before
    app_state.store.execute("UPDATE jobs SET host_counts = NULL WHERE id = ?", (job["id"],))
    recounted = statements(app_state.store, lambda: admin.get(f"/api/v2/jobs/{job['id']}/"))
    assert [s for s in recounted if "job_host_summaries" in s]
    assert admin.get(f"/api/v2/jobs/{job['id']}/").json["host_status_counts"] == expected

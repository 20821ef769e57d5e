"""``crud.count``: a list's count (visibility and query language included) without reading or
serializing a row.  The UI dashboard asks 40 of them a page; through ``list_page`` each one
serialized a job (its inventory's host counters, play counts, capabilities), 1.2 s a dashboard
at 10,000 hosts."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from controller.services import crud
from controller.services.bootstrap import system_context
from controller.store import jobs as job_rows
from tests.support.jobs import launch, make_jt, make_stage
from tests.support.sql_trace import statements

from conftest import ADMIN_PASSWORD  # tests/controller/conftest.py (rootdir-less import)

HELLO = "- hosts: all\n  gather_facts: false\n  tasks: []\n"


def test_counts_match_the_lists_and_the_dashboard_serializes_no_row_to_count(app, app_state, admin, make_user):
    stage = make_stage(admin, app_state.settings.data_dir, {"hello.yml": HELLO})
    jt = make_jt(admin, stage["project"], stage["inventory"], "hello.yml")
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    for status in ("successful", "successful", "failed", "error"):
        job = launch(admin, jt)               # no dispatcher in this module: the job stays pending
        job_rows.set_fields(app_state.store, "jobs", job["id"], {"status": status, "finished": yesterday})
    launch(admin, jt)
    ctx = system_context(app_state)
    job = app_state.registry["job"]
    for args in ([], [("status", "successful")], [("status__in", "failed,error")], [("status", "pending")],
                 [("finished__gte", yesterday[:10]), ("status", "successful")], [("name__icontains", "nope")]):
        listed = crud.list_page(ctx, job, [*args, ("page_size", "1")], "/")["count"]
        assert crud.count(ctx, job, args) == listed, args
    # visibility holds: a user who sees no template sees no job
    _uid, user = make_user()
    assert user.get("/api/v2/jobs/").json["count"] == 0

    client = app.test_client()
    page = client.get("/ui/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    client.post("/api/login/", data={"username": "admin", "password": ADMIN_PASSWORD, "next": "/ui/",
                                     "csrfmiddlewaretoken": token})
    ran = statements(app_state.store, lambda: client.get("/ui/"))
    assert any("count(" in s.lower() for s in ran)
    # the recent and running lists serialize jobs (play counts read job_events once a list); the
    # 40 counts read none
    plays = [s for s in ran if "FROM job_events" in s]
    assert len(plays) <= 2, len(plays)
    dash = client.get("/ui/")
    assert dash.status_code == 200 and 'data-status="successful"' in dash.text

"""Unified-job kinds are declarations on the registry: a process that never started job workers
(``JOB_WORKERS=0``, an API-only node, ``turret serve`` before its workers start) serves every
job's stdout, events and live stream from them.  No fixture here starts workers."""
from __future__ import annotations

import json

import pytest

from controller.services.stdout import event_stream
from tests.support.jobs import launch, make_inventory, make_jt, make_org, make_project

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=hi\n"
LINES = ["PLAY [all] ****", "TASK [debug] ****", "ok: [h1]"]


def _store_events(store, table: str, column: str, pk: int) -> None:
    """Events as the writer would store them: one line each, tiling the output from line 0."""
    for n, line in enumerate(LINES):
        store.insert(table, {column: pk, "event": "verbose", "counter": n + 1, "uuid": f"u{n}", "stdout": line,
                             "start_line": n, "end_line": n + 1, "event_data": {}})
    store.update(table.replace("_events", "s"), pk, {"status": "successful", "event_processing_finished": True})


@pytest.fixture(scope="module")
def job(admin, app_state):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"site.yml": PLAY})
    jt = make_jt(admin, project, make_inventory(admin, org), "site.yml")
    job = launch(admin, jt)               # stays pending: nothing here runs it
    _store_events(app_state.store, "job_events", "job", job["id"])
    return job


def test_no_worker_was_started(app_state, job):
    assert app_state.dispatcher is None
    assert [k.resource for k in app_state.registry.unified_jobs()] == [
        "project_update", "inventory_update", "job", "ad_hoc_command", "workflow_job", "workflow_approval"]
    assert [k.resource for k in app_state.registry.process_jobs()] == [
        "project_update", "inventory_update", "job", "ad_hoc_command"]


@pytest.mark.parametrize("fmt, expected", [("txt", "\n".join(LINES) + "\n"), ("ansi", "\n".join(LINES) + "\n"),
                                           ("txt_download", "\n".join(LINES) + "\n")])
def test_stdout_without_workers(admin, job, fmt, expected):
    resp = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format={fmt}")
    assert resp.status_code == 200
    assert resp.data.decode() == expected


def test_stdout_json_range_without_workers(admin, job):
    body = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=json&start_line=1&end_line=2").json
    assert body == {"range": {"start": 1, "end": 2, "absolute_end": 3}, "content": LINES[1] + "\n"}
    assert admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=nope").status_code == 404


def test_events_and_stream_without_workers(admin, job):
    events = admin.get(f"/api/v2/jobs/{job['id']}/job_events/?order_by=counter").json["results"]
    assert [e["stdout"] for e in events] == LINES
    resp = admin.get(f"/api/v2/jobs/{job['id']}/events_stream/")
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    frames = [f for f in resp.data.decode().split("\n\n") if f]
    data = [json.loads(f.split("data: ", 1)[1]) for f in frames if f.startswith("id: ")]
    assert [d["stdout"] for d in data] == LINES
    assert frames[-1] == 'event: end\ndata: {"status": "successful"}'
    # resumed after the second event: only the third comes again
    resumed = admin.get(f"/api/v2/jobs/{job['id']}/events_stream/", headers={"Last-Event-ID": "2"}).data.decode()
    assert resumed.startswith("retry: 3000\n\nid: 3\nevent: job_event\n") and LINES[0] not in resumed


def test_a_project_update_stdout_without_workers(admin, app_state):
    org = make_org(admin)
    resp = admin.post("/api/v2/projects/", {"name": "no-workers", "organization": org["id"], "scm_type": "git",
                                            "scm_url": "https://example.invalid/repo.git"})
    assert resp.status_code == 201, resp.json
    update_id = resp.json["summary_fields"]["current_update"]["id"]
    _store_events(app_state.store, "project_update_events", "project_update", update_id)
    text = admin.get(f"/api/v2/project_updates/{update_id}/stdout/?format=txt").data.decode()
    assert text == "\n".join(LINES) + "\n"


def test_stream_ends_past_its_budget_and_resumes_where_it_ended(app_state, job):
    """One response carries about ``budget`` bytes; the client resumes with Last-Event-ID."""
    res = app_state.registry["job"]
    first = "".join(event_stream(app_state.store, res, job["id"], 0, budget=1))   # past it after one event
    assert first.startswith("id: 1\n") and "id: 2" not in first
    assert first.endswith("retry: 250\n\n") and "event: end" not in first
    rest = "".join(event_stream(app_state.store, res, job["id"], 1))
    assert rest.startswith("retry: 3000\n\nid: 2\n")     # the browsers' reconnection delay again
    assert [line for line in rest.splitlines() if line.startswith("id: ")] == ["id: 2", "id: 3"]
    assert rest.endswith('event: end\ndata: {"status": "successful"}\n\n')

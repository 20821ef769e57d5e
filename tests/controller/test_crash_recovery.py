"""The controller killed with SIGKILL in the middle of its work, then restarted on the same data.

A real ``turret serve`` runs two long jobs (a ``sleep`` task, then a task writing a marker file)
and one short job; right after the short job ends, the server is killed with SIGKILL.  The job
processes outlive it (ansible runs in sessions of its own).  After a restart on the same data
dir: no job is left in a non-final status, the long ones are ``error`` with the reaper's
explanation, none of their processes lives on and their marker files are never written (even
past the end of their ``sleep``), every job has ``event_processing_finished``, stored events
are contiguous and served as stdout, the SQLite file passes ``PRAGMA integrity_check``, and a
new launch runs to success.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import time
from types import SimpleNamespace

import pytest

from controller.jobs.dispatcher import REAPED
from tests.conftest import start_controller
from tests.support.jobs import (
    FINISHED, awx_stdout, job_processes, make_inventory, make_jt, make_org, make_project, wait_until,
)

PASSWORD = "crash-test-admin-pw"
NAP = 25          # seconds the long jobs sleep before writing their marker (room for a slow restart)
LONG = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: nap
      command: sleep {NAP}
    - name: done
      file: path="{{{{ marker }}}}" state=touch
"""
SHORT = """- hosts: all
  gather_facts: false
  tasks:
    - name: hello
      debug: msg=hello-from-short
"""

pytestmark = pytest.mark.slow


class Http:
    """The ``tests.support.jobs`` helpers' client interface (``.json`` attribute) over requests."""

    def __init__(self, api) -> None:
        self.api = api

    @staticmethod
    def _wrap(resp) -> SimpleNamespace:
        body = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else None
        return SimpleNamespace(status_code=resp.status_code, json=body, text=resp.text)

    def get(self, path: str) -> SimpleNamespace:
        return self._wrap(self.api.get(path))

    def post(self, path: str, json: dict | None = None) -> SimpleNamespace:
        return self._wrap(self.api.post(path, json=json))


def job(http: Http, pk: int) -> dict:
    return http.get(f"/api/v2/jobs/{pk}/").json


def launch(http: Http, jt: dict, extra_vars: dict | None = None) -> int:
    resp = http.post(f"/api/v2/job_templates/{jt['id']}/launch/", {"extra_vars": extra_vars or {}})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def all_events(http: Http, pk: int) -> list[dict]:
    body = http.get(f"/api/v2/jobs/{pk}/job_events/?order_by=counter&page_size=200&no_truncate=True").json
    assert body["next"] is None, "more events than one page"
    return body["results"]


def test_sigkill_then_restart_leaves_no_job_process_or_unfinished_job(tmp_path):
    data = tmp_path / "data"
    markers = tmp_path / "markers"
    markers.mkdir()
    live = start_controller(tmp_path / "first", PASSWORD, data_dir=data)
    try:
        http = Http(live.client("admin", PASSWORD))
        org = make_org(http)
        project = make_project(http, data, org, {"long.yml": LONG, "short.yml": SHORT})
        inventory = make_inventory(http, org)
        long_jt = make_jt(http, project, inventory, "long.yml", allow_simultaneous=True,
                          ask_variables_on_launch=True)
        short_jt = make_jt(http, project, inventory, "short.yml")
        long_ids = [launch(http, long_jt, {"marker": str(markers / f"long-{n}")}) for n in (1, 2)]
        for pk in long_ids:       # both are inside their sleep task
            wait_until(lambda: any(f"sleep {NAP}" in cmd for _pid, cmd in job_processes(pk, data)), 30,
                       f"the sleep of job {pk}")
        sleeping_since = time.monotonic()
        short_id = launch(http, short_jt)
        wait_until(lambda: job(http, short_id)["status"] in FINISHED, 30, "the short job to end")
        os.kill(live.proc.pid, signal.SIGKILL)       # the controller only: as a crash would
        live.proc.wait(10)
    finally:
        live.stop()
    # the crash itself ends no job: their processes live on
    for pk in long_ids:
        assert job_processes(pk, data), f"job {pk} has no process left right after the crash"

    again = start_controller(tmp_path / "second", PASSWORD, data_dir=data)
    try:
        http = Http(again.client("admin", PASSWORD))
        ids = long_ids + [short_id]
        # recovery runs as the job workers start, just after the API answers
        wait_until(lambda: all(job(http, pk)["status"] in FINISHED and job(http, pk)["event_processing_finished"]
                               for pk in ids), 20, "every job final with its events processed")
        assert time.monotonic() < sleeping_since + NAP, "recovered after the naps ended: the test proves nothing"
        log = again.stderr()
        assert all(f"processes of job {pk} left by a previous process" in log for pk in long_ids), log[-3000:]
        for pk in long_ids:
            body = job(http, pk)
            assert (body["status"], body["failed"], body["job_explanation"]) == ("error", True, REAPED)
            assert job_processes(pk, data) == [], again.stderr()[-3000:]
            assert list((data / "runs").glob(f"job-{pk}-*")) == []    # run folders (and secrets) gone
        assert job(http, short_id)["status"] == "successful"
        for pk in ids:           # what was stored is contiguous from the first event, and served
            rows = all_events(http, pk)
            assert [e["counter"] for e in rows] == list(range(1, len(rows) + 1)) and rows, pk
            stdout = http.get(f"/api/v2/jobs/{pk}/stdout/?format=ansi")
            assert stdout.status_code == 200 and stdout.text == awx_stdout(rows), pk
        short_rows = all_events(http, short_id)
        # it ended just before the crash: its status was written after all its events were
        assert any("hello-from-short" in e["stdout"] for e in short_rows)
        assert short_rows[-1]["event"] == "playbook_on_stats" and "PLAY RECAP" in awx_stdout(short_rows)
        assert any("TASK [nap]" in e["stdout"] for e in all_events(http, long_ids[0]))

        # past the end of the killed jobs' sleep: had they survived, their markers would be there
        time.sleep(max(0.0, sleeping_since + NAP + 3 - time.monotonic()))
        assert sorted(p.name for p in markers.iterdir()) == []

        new_id = launch(http, short_jt)
        wait_until(lambda: job(http, new_id)["status"] in FINISHED and job(http, new_id)["event_processing_finished"],
                   30, "a job launched after the restart")
        assert job(http, new_id)["status"] == "successful"
        assert "hello-from-short" in http.get(f"/api/v2/jobs/{new_id}/stdout/?format=txt").text
    finally:
        again.stop()
    with sqlite3.connect(data / "turret.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        states = db.execute("SELECT id, status, event_processing_finished FROM jobs ORDER BY id").fetchall()
    assert states == [(pk, status, 1) for pk, status in
                      zip(long_ids + [short_id, new_id], ["error", "error", "successful", "successful"])]

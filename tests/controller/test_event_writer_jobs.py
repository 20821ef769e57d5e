"""A real job whose event the database refuses: the job still ends (its barrier does not hang),
every other event of the run is stored, and the dispatcher logs that the job's events could
not all be stored."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.jobs import events, launch, make_jt, make_stage, wait_job

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: msg=before
    - name: refuse me
      debug: msg=refused
    - name: after
      debug: msg=after
"""


@pytest.fixture()
def refusing_trigger(app_state):
    """job_events refuses the ``runner_on_ok`` row of the task named ``refuse me``."""
    store = app_state.store
    store.execute("CREATE TRIGGER e1_refuse BEFORE INSERT ON job_events "
                  "WHEN NEW.task = 'refuse me' AND NEW.event = 'runner_on_ok' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    yield
    store.execute("DROP TRIGGER e1_refuse")


def test_a_refused_event_is_lost_alone_and_the_job_still_ends(admin, jobs, app_state, refusing_trigger, caplog):
    caplog.set_level(logging.INFO)
    stage = make_stage(admin, Path(app_state.settings.data_dir), {"refuse.yml": PLAY})
    jt = make_jt(admin, stage["project"], stage["inventory"], "refuse.yml")
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful" and job["event_processing_finished"] is True
    assert job["job_explanation"] == "Some events of this job could not be stored: its output has gaps."
    rows = events(admin, job["id"])
    seen = {(r["event"], r["event_data"].get("task", "")) for r in rows}
    assert ("runner_on_ok", "refuse me") not in seen                # the one refused row
    assert {("runner_on_ok", "before"), ("runner_on_ok", "after"), ("runner_on_start", "refuse me"),
            ("playbook_on_task_start", "refuse me")} <= seen        # its batch's other rows are stored
    assert any(r["event"] == "playbook_on_stats" for r in rows)
    counters = sorted(r["counter"] for r in rows)
    assert len(counters) == max(counters) - 1                       # exactly one counter is missing
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("turret.events", "gave up on 1 of") in {(n, m[:15]) for n, m in messages}, messages
    assert ("turret.jobs", f"some events of job {job['id']} could not be stored (see turret.events)") in messages

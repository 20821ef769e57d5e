"""What the schedule test modules share: the scheduler's context (with AWX's cap on jobs a
schedule may leave pending lifted: the jobs fired in those tests stay pending, no worker runs
them) and the stop of every test's schedules once it ends (later ticks see only their own)."""
from __future__ import annotations

import pytest

from controller.services.bootstrap import system_context
from tests.support.jobs import created  # noqa: F401 - the schedule modules import it from here


def scheduler_fixtures():
    """``(ctx, quiet_schedules)`` fixtures for a test module: assign them to those names there."""

    @pytest.fixture(scope="module")
    def ctx(app_state, admin):
        assert admin.patch("/api/v2/settings/jobs/", {"SCHEDULE_MAX_JOBS": 1000000}).status_code == 200
        return system_context(app_state)

    @pytest.fixture(autouse=True)
    def quiet_schedules(app_state):
        yield
        with app_state.store.transaction():
            app_state.store.execute("UPDATE schedules SET enabled = 0, next_run = NULL")

    return ctx, quiet_schedules

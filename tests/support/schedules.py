"""What the schedule test modules share: the scheduler's context (with AWX's cap on jobs a
schedule may leave pending lifted: the jobs fired in those tests stay pending, no worker runs
them) and the stop of every test's schedules once it ends (later ticks see only their own)."""
from __future__ import annotations

import pytest

from controller.services.bootstrap import system_context
from tests.support.jobs import created  # noqa: F401 - the schedule modules import it from here
from tests.support.jobs import make_inventory, make_org, make_project


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


def world_fixtures(playbook: str, hosts: tuple[str, ...] = ()):
    """``(org, project, inventory)`` module fixtures: an organization, a project holding
    ``play.yml`` = ``playbook``, an inventory with ``hosts``; assign them to those names."""

    @pytest.fixture(scope="module")
    def org(admin):
        return make_org(admin)

    @pytest.fixture(scope="module")
    def project(admin, app_state, org):
        return make_project(admin, app_state.settings.data_dir, org, {"play.yml": playbook})

    @pytest.fixture(scope="module")
    def inventory(admin, org):
        return make_inventory(admin, org, hosts=hosts) if hosts else make_inventory(admin, org)

    return org, project, inventory

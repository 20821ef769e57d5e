"""What the jobs settings change in a run, applied in one place to every run the dispatcher starts
(jobs, project updates, inventory updates, ad hoc commands).

Contract: read at the moment a run starts (so a changed setting applies to the next run, with
no restart); a run's own values win: its timeout when set, its own environment variables
(credentials ...) over ``AWX_TASK_ENV``.
"""
from __future__ import annotations

from typing import Any

# run kind (the job resource) -> the setting giving its timeout when it sets none (AWX's names)
DEFAULT_TIMEOUTS = {"job": "DEFAULT_JOB_TIMEOUT", "project_update": "DEFAULT_PROJECT_UPDATE_TIMEOUT",
                    "inventory_update": "DEFAULT_INVENTORY_UPDATE_TIMEOUT"}


def apply_run_settings(settings: Any, resource: str, spec: Any) -> Any:
    """Give ``spec`` (a ``jobs.spec.RunSpec``) the global environment, default and idle timeouts
    and project-update verbosity the settings ask for; returns it."""
    task_env = settings.AWX_TASK_ENV or {}
    if task_env:
        spec.envvars = {**{str(k): str(v) for k, v in task_env.items()}, **spec.envvars}
    default = DEFAULT_TIMEOUTS.get(resource)
    if default and not spec.timeout:
        spec.timeout = int(getattr(settings, default) or 0)
    spec.idle_timeout = int(settings.DEFAULT_JOB_IDLE_TIMEOUT or 0)
    if resource == "project_update" and settings.PROJECT_UPDATE_VVV:
        spec.verbosity = max(int(spec.verbosity or 0), 3)
    return spec


# template kinds whose schedules SCHEDULE_MAX_JOBS holds back (AWX: job and workflow job templates)
_CAPPED_TEMPLATES = ("job_template", "workflow_job_template")
_ACTIVE = "status IN ('pending', 'waiting', 'running')"


def schedule_blocked(ctx: Any, schedule: dict) -> bool:
    """True when the schedule's template already has ``SCHEDULE_MAX_JOBS`` jobs pending, waiting
    or running (AWX's rule): the occurrence is skipped rather than piling up more jobs."""
    template_type = schedule.get("unified_job_template_type") or "job_template"
    if template_type not in _CAPPED_TEMPLATES:
        return False
    kind = ctx.registry.unified_job_of(template_type)
    if kind is None or not kind.template_fk:
        return False
    table = ctx.registry[kind.resource].table
    active = ctx.store.count(table, f'"{kind.template_fk}" = ? AND {_ACTIVE}', [schedule["unified_job_template"]])
    return active >= int(ctx.settings.SCHEDULE_MAX_JOBS or 0) > 0

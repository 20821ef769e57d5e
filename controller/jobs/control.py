"""Stopping unified jobs: the one place a cancel starts (API, later schedules and workflows),
and :func:`job_ended`, the one place the end of a job is announced."""
from __future__ import annotations

import logging

from .. import access, status
from ..errors import MethodNotAllowed
from ..store import jobs as q

log = logging.getLogger("turret.jobs")


def job_ended(ctx, resource: str, pk: int) -> None:
    """Tell the registry's ``job_end_hooks`` that unified job ``pk`` of ``resource`` has ended
    (its final status stored).  A failing hook is logged, never raised: the job has ended
    whatever a listener makes of it."""
    for hook in ctx.registry.job_end_hooks:
        try:
            hook(ctx, resource, pk)
        except Exception:  # noqa: BLE001 - a listener must not undo or hide the job's end
            log.exception("job-end hook %s failed for %s %s", getattr(hook, "__name__", hook), resource, pk)


def can_cancel(row: dict) -> bool:
    """Whether the job could still be canceled (it has not ended)."""
    return status.is_active(row["status"])


def cancel(ctx, resource, row: dict) -> None:
    """Cancel a job: at once when it has not started, else flag it for its worker (which may
    live in another process) and wake the local one.  405 when it has ended, 403 without
    the right to change it."""
    if not can_cancel(row):
        raise MethodNotAllowed("POST")
    access.require(access.can_change(ctx, resource, row))
    if q.cancel_pending(ctx.store, resource.table, row["id"]):
        job_ended(ctx, resource.name, row["id"])
        return
    q.flag_cancel(ctx.store, resource.table, row["id"])
    if ctx.jobs is not None:
        ctx.jobs.cancel(resource.name, row["id"])

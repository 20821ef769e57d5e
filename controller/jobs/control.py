"""Stopping unified jobs: the one place a cancel starts (API, later schedules and workflows)."""
from __future__ import annotations

from .. import access, status
from ..errors import MethodNotAllowed
from ..store import jobs as q


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
        return
    q.flag_cancel(ctx.store, resource.table, row["id"])
    if ctx.jobs is not None:
        ctx.jobs.cancel(resource.name, row["id"])

"""Stopping unified jobs: the one place a cancel starts (API, later schedules and workflows)."""
from __future__ import annotations

from ..store import jobs as q


def cancel(ctx, resource, row: dict) -> None:
    """Cancel a job: at once when it has not started, else flag it for its worker (which may
    live in another process) and wake the local one."""
    if q.cancel_pending(ctx.store, resource.table, row["id"]):
        return
    q.flag_cancel(ctx.store, resource.table, row["id"])
    if ctx.jobs is not None:
        ctx.jobs.cancel(resource.name, row["id"])

"""Retention: finished jobs (all unified job kinds, with their events and summaries),
activity-stream entries and concluded notifications older than ``keep_days`` are deleted (and
the notification routing of deleted jobs), so the database never grows without bound.  Freed
pages are reused by SQLite."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..status import FINISHED
from ..store import notifications as notification_store
from . import crud


def cutoff(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cleanup(ctx, days: int) -> dict[str, int]:
    """Delete what finished more than ``days`` days ago; returns counts per kind."""
    before = cutoff(days)
    counts: dict[str, int] = {}
    finished = ",".join("?" * len(FINISHED))
    for kind in ctx.registry.unified_jobs():       # every declared unified-job kind
        res = ctx.registry[kind.resource]
        ids = ctx.store.ids_where(res.table, f"finished IS NOT NULL AND finished < ? AND status IN ({finished})",
                                  [before, *FINISHED])
        for start in range(0, len(ids), 200):
            with ctx.store.transaction():
                for pk in ids[start:start + 200]:
                    row = ctx.store.get(res.table, pk)
                    if row is not None:
                        crud.remove(ctx, res, row)
        counts[res.plural] = len(ids)
    with ctx.store.transaction():
        counts["activity_stream"] = ctx.store.delete_where("activity_stream", "timestamp < ?", [before])
        counts["notifications"] = notification_store.delete_concluded_before(ctx.store, before)
        for kind in ctx.registry.unified_jobs():
            notification_store.delete_routings_of_missing_jobs(ctx.store, kind.resource, kind.table)
    return counts

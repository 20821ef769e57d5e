"""Retention: finished jobs (all unified job kinds, with their events and summaries) and
activity-stream entries older than ``keep_days`` are deleted, so the database never grows
without bound.  Freed pages are reused by SQLite."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from . import crud

JOB_RESOURCES = ("job", "project_update", "ad_hoc_command", "inventory_update")


def cutoff(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cleanup(ctx, days: int) -> dict[str, int]:
    """Delete what finished more than ``days`` days ago; returns counts per kind."""
    before = cutoff(days)
    counts: dict[str, int] = {}
    for name in JOB_RESOURCES:
        res = ctx.registry.get(name)
        if res is None:
            continue
        ids = ctx.store.ids_where(res.table, "finished IS NOT NULL AND finished < ? AND status IN "
                                             "('successful', 'failed', 'error', 'canceled')", [before])
        for start in range(0, len(ids), 200):
            with ctx.store.transaction():
                for pk in ids[start:start + 200]:
                    row = ctx.store.get(res.table, pk)
                    if row is not None:
                        crud.remove(ctx, res, row)
        counts[res.plural] = len(ids)
    with ctx.store.transaction():
        counts["activity_stream"] = ctx.store.delete_where("activity_stream", "timestamp < ?", [before])
    return counts

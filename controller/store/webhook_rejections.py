"""SQL of the cap on recorded webhook rejections: rejections counted per object and clock
minute, shared by every process.

Under ``turret serve`` with several web worker processes a flood of forged deliveries spreads
over them, so the count lives in the database, not in one process's memory.  One row per
(resource, object, minute) that saw a rejection; rows of earlier minutes are deleted whenever
a new minute's row is made, so the table holds at most the current and the previous minute
of the objects under fire.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store

_TABLE = ("CREATE TABLE IF NOT EXISTS webhook_rejections (resource TEXT NOT NULL, object_id INTEGER NOT NULL, "
          "minute INTEGER NOT NULL, seen INTEGER NOT NULL, PRIMARY KEY (resource, object_id, minute)) "
          "WITHOUT ROWID")
_AGE_INDEX = "CREATE INDEX IF NOT EXISTS webhook_rejections_minute ON webhook_rejections (minute)"


def install(store: Store) -> None:
    """Create the table and its index (idempotent; run when the data dir is opened)."""
    with store.transaction():
        store.execute(_TABLE)
        store.execute(_AGE_INDEX)


def count(store: Store, resource: str, object_id: int, minute: int) -> int:
    """Count one rejection of ``resource`` ``object_id`` in ``minute`` (minutes since the epoch)
    and return how many that minute has seen, this one included.  The first of a minute
    forgets every row older than the minute before it.  Joins the caller's transaction."""
    with store.transaction():
        # fetched whole (query), so the statement is finished before the commit
        seen = int(store.query(
            "INSERT INTO webhook_rejections (resource, object_id, minute, seen) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (resource, object_id, minute) DO UPDATE SET seen = seen + 1 RETURNING seen",
            (resource, object_id, minute))[0][0])
        if seen == 1:
            store.execute("DELETE FROM webhook_rejections WHERE minute < ?", (minute - 1,))
    return seen

"""SQL of the dashboard's job graph and of the metrics' state gauges (read-only counts).

The callers hand in, per unified-job table, a compiled WHERE (the visibility filter of the
user asking, never user text), so these functions only group and count.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from . import Store


def finished_by_period(store: Store, members: Sequence[tuple[str, str, list]], statuses: Sequence[str],
                       since: str, until: str, key_chars: int) -> dict[tuple[str, str], int]:
    """How many jobs of ``members`` (``(table, where, params)``) ended with each of ``statuses``
    between ``since`` and ``until`` (ISO texts), grouped by the first ``key_chars`` characters
    of ``finished`` (10: the day, 13: the hour).  Keys are ``(status, period prefix)``."""
    if not members or not statuses:
        return {}
    marks = ", ".join("?" for _ in statuses)
    selects, params = [], []
    for table, where, where_params in members:
        # `+status`: searched by its status index, the statement would read every job that ever
        # ended; by the `finished` index it reads only the period's
        selects.append(f'SELECT status, finished FROM "{table}" WHERE ({where}) AND +status IN ({marks}) '
                       f"AND finished >= ? AND finished <= ?")
        params += [*where_params, *statuses, since, until]
    rows = store.query(f"SELECT status, substr(finished, 1, {int(key_chars)}) AS period, count(*) AS n "
                       f"FROM ({' UNION ALL '.join(selects)}) GROUP BY status, period", params)
    return {(r["status"], r["period"]): r["n"] for r in rows}


def status_counts(store: Store, tables: Sequence[str]) -> dict[str, int]:
    """Unified jobs of ``tables`` by status (every row, no visibility: metrics are for
    superusers and auditors)."""
    out: dict[str, int] = {}
    for table in tables:
        for row in store.query(f'SELECT status, count(*) AS n FROM "{table}" GROUP BY status'):
            out[row["status"]] = out.get(row["status"], 0) + row["n"]
    return out


def table_count(store: Store, table: str, where: str = "1", params: Sequence[Any] = ()) -> int:
    """Rows of ``table`` matching ``where`` (0 when the table does not exist yet)."""
    if not store.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]):
        return 0
    return store.count(table, where, params)


def instances(store: Store) -> list[dict]:
    """The rows of the ``instances`` table, or none when that table does not exist."""
    if not store.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'instances'"):
        return []
    return [dict(r) for r in store.query('SELECT * FROM "instances" ORDER BY id')]

"""SQL of the unified lists (``/unified_jobs/``, ``/unified_job_templates/``): one page over
several tables at once, as a ``UNION ALL`` of per-table selects of the same columns.

Each member select is built by :func:`member_sql` from a compiled, parameterized WHERE (the
query language and the visibility filter); its first parameter is the member's type name, so
a page row is ``(_type, id)`` and the caller loads and serializes the rows per type.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from sqlite3 import Row

    from . import Store


def member_sql(table: str, columns: Sequence[str], where: str) -> str:
    """One member of the union: ``?`` (its type name, bound first), then ``columns`` of the
    ``table`` rows matching ``where``."""
    col_sql = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT ? AS _type, {col_sql} FROM \"{table}\" WHERE {where}"


def union_count(store: Store, members: Sequence[str], params: Sequence[Any]) -> int:
    """How many rows the union of ``members`` (see :func:`member_sql`) holds."""
    return store.kept_count(f"SELECT count(*) FROM ({' UNION ALL '.join(members)})", params)


def union_page(store: Store, members: Sequence[str], params: Sequence[Any], order_by: str,
               limit: int, offset: int) -> list[Row]:
    """``(_type, id)`` rows of one page of the union, in ``order_by`` (a compiled ORDER BY over
    the common columns, never user text)."""
    return store.query(f"SELECT _type, id FROM ({' UNION ALL '.join(members)}) ORDER BY {order_by} LIMIT ? OFFSET ?",
                       [*params, limit, offset])

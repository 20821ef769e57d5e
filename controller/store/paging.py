"""A page of a list: rows ``offset`` to ``offset + limit`` of a table's rows matching a WHERE,
in an ORDER BY that ends with a unique key (a list's ordering ends with ``id``).

Read directly (:func:`read`), a page past the first is found by its ids, then read: SQLite
reads every whole row it skips when it returns whole rows (and sorts whole rows), but can walk
an index alone for ids.  Page 200 of a list ordered by an index: 0.19 -> 0.09 ms; a sorted
search page: -7 %.  The first page, which skips nothing, is read in one statement.

Kept (:func:`kept`): a list asked again while no table it reads is written (paging through it,
polling it, the same filter from another browser) is served from its order of ids, kept like a
list's count (:class:`.generation.Answers`): the page's ids are a slice of it and only they
are read.  The order is worth reading only for a statement asked twice: the first time in a
generation the page is read directly, so a list whose tables are written between every two
requests (the jobs of a busy controller) costs what it did.  A sorted search over 10,000 rows
(1,155 matches): 0.57 ms -> 0.03 ms a page once kept; reading the order costs about as much as
one direct read of a sorted page, more where a direct read stops early along an index.
"""
from __future__ import annotations

import array
import sqlite3
from typing import Any, Protocol, Sequence

from . import generation

ORDER_IDS = 20000       # a list's order is kept up to this many ids (8 bytes each)...
ORDERS_BUDGET = 250000  # ...and all kept orders of a store hold at most this many (2 MB)
_TOO_LONG = array.array("q")    # kept in place of an order past ORDER_IDS: not read again


class Store(generation.Store, Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]: ...


def read(store: Store, table: str, where: str, params: Sequence[Any], order_by: str,
         limit: int, offset: int) -> list[dict]:
    """The page, read from the table (see the module's text)."""
    chosen = f'FROM "{table}" WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?'
    if offset > 0:
        chosen = f'FROM "{table}" WHERE "id" IN (SELECT "id" {chosen}) ORDER BY {order_by}'
    return store.dicts(f"SELECT * {chosen}", [*params, limit, offset])


def orders(counted: frozenset[str]) -> generation.Answers:
    """Where a store keeps its lists' orders."""
    return generation.Answers(counted, budget=ORDERS_BUDGET, weigh=len)


def kept(store: Store, answers: generation.Answers, table: str, where: str, params: Sequence[Any],
         order_by: str, limit: int, offset: int) -> list[dict] | None:
    """The page from the list's kept order of ids, or None where it has none (the first time
    a statement is asked in a generation, a list longer than :data:`ORDER_IDS`, a statement
    whose answers are never kept, inside a transaction): the caller reads it.

    The order's label, the order and the page's rows are read in one read transaction, so the
    page is exactly what :func:`read` would answer at that moment."""
    conn = store.conn
    if conn.in_transaction:
        return None
    sql = f'SELECT "id" FROM "{table}" WHERE {where} ORDER BY {order_by}'
    if not answers.tables(sql, params, False):
        return None
    conn.execute("BEGIN")
    try:
        ids = answers.get(store, sql, params, False, lambda: _order(conn, sql, params), twice=True)
        if ids is None or ids is _TOO_LONG:
            return None
        wanted = ids[offset:offset + limit].tolist()
        if not wanted:
            return []
        rows = store.dicts(f'SELECT * FROM "{table}" WHERE "id" IN ({",".join("?" * len(wanted))})', wanted)
    finally:
        if conn.in_transaction:     # SQLite may have ended it after an error
            conn.execute("COMMIT")  # a read transaction: nothing to write
    place = {pk: n for n, pk in enumerate(wanted)}
    rows.sort(key=lambda row: place[row["id"]])
    return rows


def _order(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> array.array:
    """Every id ``sql`` answers, in its order; :data:`_TOO_LONG` past :data:`ORDER_IDS`."""
    cur = conn.cursor()
    cur.row_factory = None
    ids = array.array("q", [row[0] for row in cur.execute(f"{sql} LIMIT ?", (*params, ORDER_IDS + 1))])
    return _TOO_LONG if len(ids) > ORDER_IDS else ids

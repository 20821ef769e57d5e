"""A page of a list: rows ``offset`` to ``offset + limit`` of a table's rows matching a WHERE,
in an ORDER BY that ends with a unique key (a list's ordering ends with ``id``).

Read directly (:func:`read`), a page past the first is found by its ids, then read: SQLite
reads every whole row it skips when it returns whole rows (and sorts whole rows), but can walk
an index alone for ids.  Page 200 of a list ordered by an index: 0.19 -> 0.09 ms; a sorted
search page: -7 %.  The first page, which skips nothing, is read in one statement.

Kept (:func:`page`): a list SQLite has to sort (no index gives its order, so every read sorts
all its matches, however small the page) that is asked again while no table it reads is
written (paging through it, polling it, the same filter in another browser) is served from its
order of ids, kept like a list's count (:class:`Orders`, a :class:`.generation.Answers`): the
page's ids are a slice of it and only they are read.  The benchmark's sorted search page
(1,155 matches of 10,000 teams) goes from 0.57 ms of SQL to a read of 25 rows by their ids.

What that costs, and why it is bounded: a list read along an index (which stops after its
page) is never kept and costs one look at a plan kept per statement text.  For a sorted list,
reading the whole order costs about what one read of a page costs (that read sorts every match
too), once per generation, on its second request; each request adds a read transaction and one
label read (~10 µs).  An order of more than :data:`ORDER_IDS` ids is not kept and, while that
fact is kept, not read again.
"""
from __future__ import annotations

import array
import sqlite3
from typing import Any, Protocol, Sequence

from . import generation

ORDER_IDS = 20000       # a list's order is kept up to this many ids (8 bytes each)...
ORDERS_BUDGET = 250000  # ...and all kept orders of a store hold at most this many (2 MB)
_TOO_LONG = array.array("q")    # kept in place of an order past ORDER_IDS


class Store(generation.Store, Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]: ...


class Orders(generation.Answers):
    """Where a store keeps its lists' orders (``counted``: the tables with a write counter), and
    which of their statements SQLite sorts (read from the query plan once per statement text:
    the plan does not depend on the values)."""

    def __init__(self, counted: frozenset[str]) -> None:
        super().__init__(counted, budget=ORDERS_BUDGET, weigh=len)
        self._sorted: dict[str, bool] = {}

    def sorts(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> bool:
        """Whether SQLite sorts the answer of ``sql`` rather than reading it in order."""
        found = self._sorted.get(sql)
        if found is None:
            plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(params)).fetchall()
            # the statement's own sort of every row, not a partial one ("FOR RIGHT PART OF
            # ORDER BY": along an index, ties sorted as they come, so a page still stops early)
            found = any(row[1] == 0 and row[3] == "USE TEMP B-TREE FOR ORDER BY" for row in plan)
            if len(self._sorted) >= 4 * self.size:
                self._sorted.clear()
            self._sorted[sql] = found
        return found


def read(store: Store, table: str, where: str, params: Sequence[Any], order_by: str,
         limit: int, offset: int) -> list[dict]:
    """The page, read from the table (see the module's text)."""
    chosen = f'FROM "{table}" WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?'
    if offset > 0:
        chosen = f'FROM "{table}" WHERE "id" IN (SELECT "id" {chosen}) ORDER BY {order_by}'
    return store.dicts(f"SELECT * {chosen}", [*params, limit, offset])


def page(store: Store, orders: Orders | None, table: str, where: str, params: Sequence[Any],
         order_by: str, limit: int, offset: int) -> list[dict]:
    """The page: from the list's kept order where it has one (``orders``: where the store
    keeps them, None when it keeps none), else read (see the module's text)."""
    sql = f'SELECT "id" FROM "{table}" WHERE {where} ORDER BY {order_by}'
    conn = store.conn
    if orders is not None and limit >= 0 and offset >= 0 and orders.tables(sql, params, conn.in_transaction) \
            and orders.peek(sql, params) is not _TOO_LONG and orders.sorts(conn, sql, params):
        rows = _kept(store, orders, sql, table, params, limit, offset)
        if rows is not None:
            return rows
    return read(store, table, where, params, order_by, limit, offset)


def _kept(store: Store, orders: Orders, sql: str, table: str, params: Sequence[Any],
          limit: int, offset: int) -> list[dict] | None:
    """The page from the kept order of ``sql``, read (and kept) now if it was asked before in
    this generation; None where there is none to use.  The order's label, the order and the
    page's rows are read in one read transaction: the page is exactly what :func:`read` would
    answer at that moment."""
    conn = store.conn
    try:
        conn.execute("BEGIN")
        ids = orders.get(store, sql, params, False, lambda: _order(conn, sql, params), twice=True)
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

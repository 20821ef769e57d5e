"""A page of a list: rows ``offset`` to ``offset + limit`` of a table's rows matching a WHERE,
in an ORDER BY that ends with a unique key (a list's ordering ends with ``id``).

Read directly (:func:`read`), a page past the first is found by its ids, then read: SQLite
reads every whole row it skips when it returns whole rows (and sorts whole rows), but can walk
an index alone for ids.  Page 200 of a list ordered by an index: 0.19 -> 0.09 ms; a sorted
search page: -7 %.  The first page, which skips nothing, is read in one statement.

Kept (:func:`page`): a list SQLite has to sort (no index gives its order, so every read of a
page sorts all its matches) that is asked again while no table it reads is written (paging
through it, polling it, the same filter in another browser) is served from the first ids of
its order, kept like a list's count (:class:`Orders`, a :class:`.generation.Answers`): the
page's ids are a slice of them and only those rows are read.  The benchmark's sorted search
page (1,155 matches of 10,000 teams) goes from 0.57 ms of SQL to a read of 25 rows by id.

What that costs, and why it is bounded: a list read along an index (which stops after its
page) is never kept, and costs one look at a plan kept per statement text (Turret runs no
ANALYZE, so a plan does not depend on the data).  A sorted list's ids are read with a LIMIT,
as a page is (SQLite keeps only that many rows while it sorts, and each one more costs): at
least :data:`ORDER_PREFIX`, twice as far as the page asked for, so reading them costs about
what reading that page costs (a sorted search of 1,155 matches: LIMIT 50, 0.48 ms; 100, 0.54;
500, 0.93; all, 1.08); a page past them reads twice as far again.  That happens once per
generation, on a statement's second request in it; each request adds a read transaction and
one label read (~10 µs).  Written between every two requests, such a list costs +13 % a page
(a direct read, then the ids and the page by its ids); every fifth, -45 %; never, -85 %.  A
page past :data:`ORDER_IDS` is read directly.
"""
from __future__ import annotations

import array
import sqlite3
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from . import generation

ORDER_PREFIX = 100      # the fewest ids of an order read at once (4 pages of 25)
ORDER_IDS = 20000       # the most ids of one order kept (8 bytes each)...
ORDERS_BUDGET = 250000  # ...and of all a store keeps (2 MB)


class Store(generation.Store, Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]: ...


@dataclass(frozen=True)
class Order:
    """The first ids of a list's order, and whether they are all of it."""
    ids: array.array
    whole: bool

    def __len__(self) -> int:       # what it weighs among the kept orders
        return len(self.ids)

    def reaches(self, end: int) -> bool:
        """Whether it holds the page ending at ``end`` (or knows there is none)."""
        return self.whole or end <= len(self.ids)


class Orders(generation.Answers):
    """Where a store keeps its lists' orders (``counted``: the tables with a write counter), and
    which of their statements SQLite sorts (read from the query plan once per statement text)."""

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
    if orders is not None and limit >= 0 and offset >= 0 and offset + limit <= ORDER_IDS \
            and orders.tables(sql, params, conn.in_transaction) and orders.sorts(conn, sql, params):
        rows = _kept(store, orders, sql, table, params, limit, offset)
        if rows is not None:
            return rows
    return read(store, table, where, params, order_by, limit, offset)


def _kept(store: Store, orders: Orders, sql: str, table: str, params: Sequence[Any],
          limit: int, offset: int) -> list[dict] | None:
    """The page from the kept order of ``sql``, read (and kept) now if it was asked before in
    this generation or the kept part ends too soon; None the first time.  The order's label,
    the order and the page's rows are read in one read transaction: the page is exactly what
    :func:`read` would answer at that moment."""
    conn = store.conn
    end = offset + limit
    try:
        conn.execute("BEGIN")
        order = orders.get(store, sql, params, False, lambda: _order(conn, sql, params, end), twice=True,
                           enough=lambda kept: kept.reaches(end))
        wanted = order.ids[offset:end].tolist() if order is not None else []
        rows = store.dicts(f'SELECT * FROM "{table}" WHERE "id" IN ({",".join("?" * len(wanted))})',
                           wanted) if wanted else []
    except BaseException:
        if conn.in_transaction:     # SQLite may have ended it after an error
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")          # a read transaction: nothing to write
    if order is None:
        return None
    place = {pk: n for n, pk in enumerate(wanted)}
    rows.sort(key=lambda row: place[row["id"]])
    return rows


def _order(conn: sqlite3.Connection, sql: str, params: Sequence[Any], end: int) -> Order:
    """The first ids ``sql`` answers: up to ``end`` twice over, :data:`ORDER_PREFIX` at least,
    :data:`ORDER_IDS` at most."""
    want = min(ORDER_IDS, max(ORDER_PREFIX, 2 * end))
    cur = conn.cursor()
    cur.row_factory = None
    ids = array.array("q", [row[0] for row in cur.execute(f"{sql} LIMIT ?", (*params, want))])
    return Order(ids, whole=len(ids) < want)

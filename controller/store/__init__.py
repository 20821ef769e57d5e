"""The store: the only place that talks to SQLite.

One ``Store`` per data directory.  Each thread gets its own connection (SQLite connections are
not shareable across threads); WAL mode lets readers run while one writer writes.  Writes go
through :meth:`Store.transaction` (``BEGIN IMMEDIATE``) so a request's changes, its role rows
and its activity-stream entry commit together or not at all.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence

from . import generation, paging, search
from .schema import fingerprint, migrate

MMAP_BYTES = 256 * 1024 * 1024   # how much of the database file each connection reads through mmap


def now_iso() -> str:
    """The current UTC time as AWX writes it: microseconds and a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def all_of(*parts: tuple[str, list] | None) -> tuple[str, list]:
    """AND together WHERE fragments ``(sql, params)``; ``None``, ``""`` and ``"1"`` (no
    condition) are skipped, and no fragment at all gives ``"1"``."""
    sql, params = [], []
    for part in parts:
        if part and part[0] not in ("", "1"):
            sql.append(f"({part[0]})")
            params += part[1]
    return (" AND ".join(sql) or "1"), params


def _regexp(pattern: str | None, value: Any) -> int:
    if pattern is None or value is None:
        return 0
    try:
        return 1 if re.search(pattern, str(value)) else 0
    except re.error:
        return 0


class Store:
    """Connections, transactions and generic row operations over one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # {table: (FTS5 trigram table, columns)} once migrate() has ensured them (store.search);
        # the query compiler narrows substring tests with them
        self.text_indexes: dict[str, tuple[str, frozenset[str]]] = {}
        # kept counts and lists' orders, once keep_counts() has put the write generation's
        # triggers in place
        self._counts: generation.Answers | None = None
        self._orders: paging.Orders | None = None
        self._kept: dict[str, generation.Kept] = {}     # by name: Store.kept

    # -- connections -------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-16000")
            # Reads come straight from the OS page cache through a shared mapping instead of
            # being copied into each connection's own cache (every web thread has one): list
            # requests spend ~5 % less server CPU (bench/README.md).  Address space only; the
            # pages are the file's, shared by every process.
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            conn.create_function("regexp", 2, _regexp, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def db(self):
        """A sqlite-utils view of this thread's connection (imported only when needed: it is
        the slowest import of the controller and only migrations use it)."""
        import sqlite_utils
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self.conn)
            self._local.db = db
        return db

    def release(self) -> None:
        """Close the calling thread's connection (its next statement opens another): a thread
        that may stay idle long (a job worker between jobs) need not keep a connection's cache
        and parsed schema (about 1 MB each).  Not inside a transaction."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        assert not getattr(self._local, "depth", 0), "release() inside a transaction"
        self._local.conn = None
        self._local.db = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        conn.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    def migrate(self, registry) -> bool:
        """Create or extend every table the registry declares (idempotent).  Skipped when the
        stored fingerprint of the declarations matches: restarts stay fast.  Returns whether
        it migrated."""
        wanted = fingerprint(registry)
        try:
            current = self.scalar("SELECT value FROM meta WHERE key = 'schema_fingerprint'")
        except sqlite3.OperationalError:
            current = None
        if current != wanted:
            with self.transaction():
                migrate(self.db, registry)
                self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_fingerprint', ?)", (wanted,))
        # every start, not only on migration: a database from before the indexes gets them
        self.text_indexes = search.install(self, registry)
        return current != wanted

    def keep_counts(self, keep: bool = True) -> None:
        """Put the write generation's triggers on every table there is (after every table's
        install, on every start: other processes may keep counts even if this one does not)
        and, if ``keep``, keep filtered counts and lists' orders from then on (:mod:`.generation`,
        :mod:`.paging`)."""
        counted = generation.install(self)
        self._counts = generation.Answers(counted) if keep else None
        self._orders = paging.Orders(counted) if keep else None
        self._kept = {}

    def kept(self, name: str, tables: tuple[str, ...], keys: Sequence[Any],
             compute: Callable[[list], dict], worth: Callable[[Any], bool] | None = None) -> dict:
        """``compute(keys)`` (``{key: value}`` read from ``tables``), its values (those ``worth``
        keeping) kept per key under ``name`` while none of ``tables`` is written
        (:class:`.generation.Kept`); read every time when counts are not kept or a table has
        no counter."""
        if self._counts is None or not set(tables) <= self._counts.counted:
            return compute(list(keys))
        kept = self._kept.get(name)
        if kept is None:
            kept = self._kept.setdefault(name, generation.Kept(tables, worth=worth))
        return kept.get(self, keys, self.conn.in_transaction, compute)

    # -- transactions ------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outer one.  When the body or the COMMIT
        raises, the error is re-raised as it was and the connection is left outside any
        transaction (the thread's next ``BEGIN`` works), whether SQLite rolled back by itself
        or not."""
        conn = self.conn
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield conn
            finally:
                self._local.depth = depth
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield conn
            conn.execute("COMMIT")      # a failed COMMIT (a deferred constraint, a lock) leaves it open
        except BaseException:
            # SQLite may have rolled back already (after SQLITE_FULL, IOERR, NOMEM...): a second
            # ROLLBACK would raise "no transaction is active" in place of the error that matters
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass        # the original error says more; the next BEGIN reports what is left
            raise
        finally:
            self._local.depth = 0

    # -- generic access ----------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Every row of ``sql`` as a plain dict (column name -> value).  Read as tuples and
        zipped with the column names: cheaper than building ``sqlite3.Row`` objects first,
        which counts on a page of 25 to 200 rows."""
        cur = self.conn.cursor()
        cur.row_factory = None
        cur.execute(sql, tuple(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of ``sql`` as a plain tuple, for callers that unpack columns by position."""
        cur = self.conn.cursor()
        cur.row_factory = None
        return cur.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, tuple(params)).fetchone()

    def one_dict(self, sql: str, params: Sequence[Any] = ()) -> dict | None:
        """The first row of ``sql`` as a dict, or ``None`` when it finds none."""
        row = self.one(sql, params)
        return dict(row) if row else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def get(self, table: str, pk: int) -> dict | None:
        return self.one_dict(f'SELECT * FROM "{table}" WHERE id = ?', (pk,))

    def get_many(self, table: str, pks: Sequence[int], columns: str = "*") -> dict[int, dict]:
        pks = sorted({int(p) for p in pks if p is not None})
        if not pks:
            return {}
        marks = ",".join("?" * len(pks))
        rows = self.dicts(f'SELECT {columns} FROM "{table}" WHERE id IN ({marks})', pks)
        return {r["id"]: r for r in rows}

    def grouped(self, sql: str, keys: Sequence[int]) -> dict[int, list[dict]]:
        """``{key: [rows]}`` with a list for every one of ``keys`` (empty when nothing matched).
        ``sql`` takes the keys where it writes ``{marks}`` and selects a ``grouped_by`` column:
        each row, as a dict without that column, lands under its key in the statement's order."""
        out: dict[int, list[dict]] = {k: [] for k in keys}
        if not keys:
            return out
        for row in self.query(sql.format(marks=",".join("?" * len(keys))), list(keys)):
            item = dict(row)
            out[item.pop("grouped_by")].append(item)
        return out

    def insert(self, table: str, values: dict[str, Any]) -> int:
        cols = list(values)
        names = ",".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({",".join("?" * len(cols))})'
        rowid = self.conn.execute(sql, [_dump(values[c]) for c in cols]).lastrowid
        return rowid if rowid is not None else 0   # a successful INSERT always sets it

    def insert_many(self, table: str, rows: list[dict[str, Any]], ready: bool = False) -> None:
        """Insert rows sharing the same keys in one statement execution (executemany).
        ``ready``: the values are already SQLite values (no JSON/bool conversion needed)."""
        if not rows:
            return
        cols = list(rows[0])
        names = ",".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({",".join("?" * len(cols))})'
        if ready:
            self.conn.executemany(sql, [tuple(r.values()) for r in rows])
        else:
            self.conn.executemany(sql, [[_dump(r.get(c)) for c in cols] for r in rows])

    def update_where(self, table: str, values: dict[str, Any], where: str, params: Sequence[Any]) -> int:
        """Conditional update (compare-and-set); returns the number of rows changed."""
        sets = ",".join(f'"{c}" = ?' for c in values)
        return self.conn.execute(f'UPDATE "{table}" SET {sets} WHERE {where}',
                                 [_dump(v) for v in values.values()] + list(params)).rowcount

    def update(self, table: str, pk: int, values: dict[str, Any]) -> None:
        if not values:
            return
        sets = ",".join(f'"{c}" = ?' for c in values)
        self.conn.execute(f'UPDATE "{table}" SET {sets} WHERE id = ?',
                          [_dump(v) for v in values.values()] + [pk])

    def delete(self, table: str, pk: int) -> None:
        self.conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (pk,))

    def delete_where(self, table: str, where: str, params: Sequence[Any]) -> int:
        return self.conn.execute(f'DELETE FROM "{table}" WHERE {where}', tuple(params)).rowcount

    def ids_where(self, table: str, where: str, params: Sequence[Any]) -> list[int]:
        return [r[0] for r in self.query(f'SELECT id FROM "{table}" WHERE {where}', params)]

    def count(self, table: str, where: str = "1", params: Sequence[Any] = ()) -> int:
        """Rows of ``table`` matching ``where``.  With no condition (``"1"``, as ``all_of`` gives)
        the statement has no WHERE at all: only then does SQLite count the table from its
        smallest b-tree's page headers instead of stepping through every row (0.005 ms against
        0.12 ms for 10,000 rows, ten times that at 100,000).  A filtered count is kept while no
        table it could read is written (:mod:`.generation`): paging through a list and polling
        it repeat the same count."""
        if where == "1":
            return self.scalar(f'SELECT count(*) FROM "{table}"')
        return self.kept_count(f'SELECT count(*) FROM "{table}" WHERE {where}', params)

    def kept_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """The number ``sql`` (a ``SELECT count(*) ...``) answers, served again while no table
        it could read is written (:mod:`.generation`; always counted before ``keep_counts``)."""
        if self._counts is None:
            return self.scalar(sql, params)
        return self._counts.get(self, sql, params, self.conn.in_transaction, lambda: self.scalar(sql, params))

    def page(self, table: str, where: str, params: Sequence[Any], order_by: str,
             limit: int, offset: int) -> list[dict]:
        """Rows ``offset`` to ``offset + limit`` of ``table`` matching ``where`` in ``order_by``
        (which must end with a unique key, as a list's ordering ends with ``id``): read, or from
        the list's kept order of ids when SQLite sorts it and it is asked again while no table
        it reads was written (:mod:`.paging`)."""
        return paging.page(self, self._orders, table, where, params, order_by, limit, offset)

    def exists(self, table: str, where: str, params: Sequence[Any]) -> bool:
        return self.one(f'SELECT 1 FROM "{table}" WHERE {where} LIMIT 1', params) is not None

    # -- generic relations (cascades and copies over declared foreign keys) ---------------
    def rows_referencing(self, table: str, column: str, pk: int) -> list[dict]:
        """Every row of ``table`` whose foreign key ``column`` names ``pk``."""
        return [dict(r) for r in self.query(f'SELECT * FROM "{table}" WHERE "{column}" = ?', (pk,))]

    def clear_references(self, table: str, column: str, pk: int) -> None:
        """``ON DELETE SET NULL`` by hand: rows of ``table`` naming ``pk`` in ``column`` lose it."""
        self.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" = ?', (pk,))

    def clear_references_in(self, table: str, column: str, target: str, where: str, params: Sequence[Any]) -> None:
        """``ON DELETE SET NULL`` for many rows at once: rows of ``table`` naming, in ``column``,
        a row of ``target`` that ``where`` selects lose it."""
        self.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" IN '
                     f'(SELECT id FROM "{target}" WHERE {where})', tuple(params))

    def copy_links(self, table: str, left: str, right: str, source: int, target: int) -> None:
        """Give ``target`` every link ``source`` has in association table ``table``
        (``left`` names the owner, ``right`` the linked object)."""
        self.execute(f'INSERT INTO "{table}" ("{left}", "{right}") SELECT ?, "{right}" '
                     f'FROM "{table}" WHERE "{left}" = ?', (target, source))


def _dump(value: Any) -> Any:
    """Python value -> SQLite value: JSON for containers, 0/1 for booleans."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value

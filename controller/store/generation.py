"""Write generations, one per table, and what is kept while theirs stand: list counts and
lists' orders of ids (:class:`Answers`, :mod:`.paging`), and facts read per row (an object's
role ids, :class:`Kept`).

A list's ``count`` is its costliest statement (bench/README.md: 0.6 ms of a 1.7 ms request
for a one-character ``icontains`` over 10,000 rows), and the same count is asked again and
again: each page of a list, each poll of a page, repeats its filter.  So a count is kept,
keyed by its exact statement and parameters, for as long as no table it reads was written.

"Written" is a counter per table in the database, a row of ``turret_table_generations``, that a
trigger on the table raises in the transaction of every row a statement writes there.  The
tables a count reads are the tables its statement names (a word of the SQL that is a table's
name: a column that happens to share a table's name only adds a table to watch; an FTS5
index ``turret_text_<table>`` stands for its table, whose trigger counts its changes).  A
count is kept with the sum of those tables' counters as read *before* counting (counters only
grow, so any write to any of them moves the sum), and served only while the sum still reads
the same, in any process: a worker's write is seen by every web process.  So a job changing
state ends the kept counts of the job lists, not those of teams or inventories.

Tables written per job event, per request or per heartbeat (:data:`VOLATILE`) get no trigger,
so their writes stay as cheap as they were; a count whose statement names one of them is
never kept.  Neither is a count inside a transaction (it may see writes that are then rolled
back, and a rolled-back counter value is reused by the next writer), nor one whose statement and
values are long (the memory kept stays bounded).

A table created after :meth:`Store.keep_counts` (on start, after every table's install) has no
trigger until the next start: such a table must be in :data:`VOLATILE` (``oauth_codes``,
``login_failures``).
"""
from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from typing import Any, Callable, Protocol, Sequence

from .search import LEGACY_PREFIX as FTS_LEGACY_PREFIX
from .search import PREFIX as FTS_PREFIX

TABLE = "turret_table_generations"  # (tbl, n): a write counter per table
# The one counter for the whole database of earlier versions: dropped on start, so a process of
# an earlier version still running fails on its next count instead of serving a stale one.
LEGACY = "turret_generation"
_TRIGGER = "turret_tgen_"
_LEGACY_TRIGGER = "turret_gen_"      # an earlier version's, raising LEGACY
_WORD = re.compile(r"\w+")

# Written per job event, per request, per heartbeat or per send: a trigger there would add a
# write to the hottest paths and end every kept count at once.
VOLATILE = frozenset({
    "job_events", "ad_hoc_command_events", "project_update_events", "inventory_update_events",
    "activity_stream", "sessions", "login_failures", "leases", "instances", "schedule_fires",
    "webhook_rejections", "webhook_status_posts", "notifications", "meta",
    "oauth_codes",      # created on the first authorization, after the triggers are put in place
})
_NAMES_VOLATILE = re.compile(r"\b(?:" + "|".join(sorted(VOLATILE)) + r")\b")

KEPT = 1024         # counts kept per store (and lists' orders)
KEPT_KEYS = 10000   # keys a Kept holds (an object's role ids: ~0.3 KB each)
KEY_CHARS = 8192    # a count whose statement and text values are longer is not kept (a filter's
                    # values have no length limit: 1024 keys must stay a few MB at most)
_SHAPE = f'CREATE TABLE "{TABLE}" (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID'


class Store(Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def transaction(self) -> AbstractContextManager: ...


def _counted(tables: list[str]) -> list[str]:
    """The tables whose writes are counted: every ordinary one but the volatile ones."""
    return [t for t in tables if t not in VOLATILE and t not in (TABLE, LEGACY)]


def _wanted(tables: list[str]) -> dict[str, str]:
    """``{trigger name: CREATE statement}``: three per counted table, each raising its row."""
    plan = {}
    for table in _counted(tables):
        bump = f'UPDATE "{TABLE}" SET n = n + 1 WHERE tbl = \'{table}\';'
        for op in ("INSERT", "UPDATE", "DELETE"):
            name = f"{_TRIGGER}{op.lower()}_{table}"
            plan[name] = f'CREATE TRIGGER "{name}" AFTER {op} ON "{table}" BEGIN {bump} END'
    return plan


def _tables(store: Store) -> list[str]:
    """Ordinary tables: SQLite's own, FTS5 indexes and their shadow tables left out (an index
    changes only with its table, whose trigger counts the change), and so is any other virtual
    table with its shadow tables: a virtual table cannot carry a trigger, and a trigger on a
    shadow table fires inside the module's own write (SQLite 3.40 crashes).  SQLite says which
    is which (``pragma_table_list``, 3.37); before it, the shadow names of fts3/4/5 and rtree."""
    try:
        rows = store.query("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
        names = [r["name"] for r in rows if r["type"] == "table"]
    except sqlite3.OperationalError:
        rows = store.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        virtual = {r["name"] for r in rows if (r["sql"] or "").upper().startswith("CREATE VIRTUAL TABLE")}
        shadows = {f"{v}_{suffix}" for v in virtual for suffix in _SHADOW_SUFFIXES}
        names = [r["name"] for r in rows if r["name"] not in virtual and r["name"] not in shadows]
    return [n for n in names if not n.startswith(("sqlite_", FTS_PREFIX, FTS_LEGACY_PREFIX))]


_SHADOW_SUFFIXES = ("data", "idx", "content", "docsize", "config", "segments", "segdir", "stat",
                    "node", "parent", "rowid")


def _ours(store: Store, prefix: str = _TRIGGER) -> dict[str, str]:
    rows = store.query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
                       (prefix.replace("_", "\\_") + "%",))
    return {r["name"]: r["sql"] for r in rows}


def _in_place(store: Store, tables: list[str]) -> bool:
    if LEGACY in tables or TABLE not in tables or _ours(store, _LEGACY_TRIGGER):
        return False
    rows = {r[0] for r in store.query(f'SELECT tbl FROM "{TABLE}"')}
    return set(_counted(tables)) <= rows and _ours(store) == _wanted(tables)


def install(store: Store) -> frozenset[str]:
    """Create the counters and every missing trigger, drop triggers no table wants any more
    (and an earlier version's one counter); on every start, since a migration may have added
    or re-created tables.  A counter row is never deleted or reset: a sum of counters must
    only grow, or a count labelled with an old sum could be served again.  Cheap when all is
    in place: four looks at the schema.  Returns the counted tables."""
    tables = _tables(store)
    if _in_place(store, tables):
        return frozenset(_counted(tables))
    with store.transaction():
        # an earlier version's counter and its triggers go together (a trigger raising a table
        # that is gone would fail every write); its processes' next count fails, never serves
        # a stale answer.  Triggers have their own names, so an earlier version started after
        # this one adds its own beside them and both kinds of counter move.
        for name in _ours(store, _LEGACY_TRIGGER):
            store.execute(f'DROP TRIGGER "{name}"')
        store.execute(f'DROP TABLE IF EXISTS "{LEGACY}"')
        store.execute(_SHAPE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
        tables = _tables(store)
        counted = _counted(tables)
        for table in counted:
            store.execute(f'INSERT OR IGNORE INTO "{TABLE}" (tbl, n) VALUES (?, 0)', (table,))
        plan, current = _wanted(tables), _ours(store)
        for name, sql in current.items():
            if plan.get(name) != sql:
                store.execute(f'DROP TRIGGER "{name}"')
        for name, sql in plan.items():
            if current.get(name) != sql:
                store.execute(sql)
    return frozenset(counted)


def read(store: Store, tables: Sequence[str] | None = None) -> int:
    """The sum of the counters of ``tables`` (of every counted table when None), as this
    connection's next statement sees them."""
    if tables is None:
        return store.scalar(f'SELECT coalesce(sum(n), 0) FROM "{TABLE}"')
    marks = ",".join("?" * len(tables))
    return store.scalar(f'SELECT coalesce(sum(n), 0) FROM "{TABLE}" WHERE tbl IN ({marks})', tuple(tables))


def reads(sql: str, counted: frozenset[str]) -> tuple[str, ...]:
    """The counted tables ``sql`` names (an FTS5 index standing for its table), sorted."""
    found = set()
    for word in set(_WORD.findall(sql)):
        if word in counted:
            found.add(word)
        elif word.startswith(FTS_PREFIX) and word[len(FTS_PREFIX):] in counted:
            found.add(word[len(FTS_PREFIX):])
    return tuple(sorted(found))


def _size(sql: str, params: Sequence[Any]) -> int:
    return len(sql) + sum(len(p) for p in params if isinstance(p, (str, bytes)))


class Answers:
    """Answers of statements (a list's count, a list's order of ids) kept while the tables they
    read are not written: at most ``size`` answers (:data:`KEPT` unless given) weighing
    ``budget`` in all (``size`` unless given; an answer weighs ``weigh(answer)``: 1 for a count,
    its length for a list of ids), least recently used dropped first.  Shared by a store's
    threads.  ``counted``: the tables with a counter (what :func:`install` returned)."""

    def __init__(self, counted: frozenset[str], size: int | None = None, budget: int | None = None,
                 weigh: Callable[[Any], int] = lambda answer: 1) -> None:
        self.counted = counted
        self.size = KEPT if size is None else size
        self.budget = self.size if budget is None else budget
        self._weigh = weigh
        self._weight = 0
        self._kept: OrderedDict[tuple, tuple[int, Any, int]] = OrderedDict()   # key -> (label, answer, weight)
        self._reads: dict[str, tuple[str, ...]] = {}     # statement -> the tables it reads
        self._lock = threading.Lock()

    def tables(self, sql: str, params: Sequence[Any], in_transaction: bool) -> tuple[str, ...]:
        """The counted tables ``sql`` reads; () when its answer may not be kept: inside a
        transaction (its writes may be rolled back, and a counter value with them), naming a
        volatile table, too long a key, or reading no counted table (nothing would say it is
        still right)."""
        if in_transaction or _NAMES_VOLATILE.search(sql) or _size(sql, params) > KEY_CHARS:
            return ()
        tables = self._reads.get(sql)
        if tables is None:
            tables = reads(sql, self.counted)
            with self._lock:
                if len(self._reads) >= 4 * self.size:
                    self._reads.clear()
                self._reads[sql] = tables
        return tables

    @staticmethod
    def _key(sql: str, params: Sequence[Any]) -> tuple:
        # typed: 1, 1.0 and True are equal keys in Python, not equal values to SQLite ('1.0' as text)
        return (sql, tuple((type(p), p) for p in params))

    def get(self, store: Store, sql: str, params: Sequence[Any], in_transaction: bool,
            compute: Callable[[], Any], twice: bool = False,
            enough: Callable[[Any], bool] | None = None) -> Any:
        """``compute()`` (the answer of ``sql`` with ``params``), or the kept answer of the same
        statement when none of the tables it reads was written since it was computed.

        ``twice``: the answer is worth computing only for a statement asked before in this
        generation: the first time nothing is computed, the answer is None (the caller answers
        its own cheaper way) and the statement is remembered as asked.  ``enough``: whether a
        kept answer answers this caller (a kept part of an order may end too soon); one that
        does not is computed again, and replaces it."""
        tables = self.tables(sql, params, in_transaction)
        if not tables:
            return None if twice else compute()
        key = self._key(sql, params)
        generation = read(store, tables)    # before computing: an answer is never newer than its label
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == generation:
                self._kept.move_to_end(key)
                if kept[1] is not ASKED and (enough is None or enough(kept[1])):
                    return kept[1]
            elif twice:
                self._keep(key, generation, ASKED, 1)
                return None
        answer = compute()
        with self._lock:
            self._keep(key, generation, answer, self._weigh(answer))
        return answer

    def _keep(self, key: tuple, generation: int, answer: Any, weight: int) -> None:
        """Keep ``answer`` under ``key`` (lock held), unless a newer one is kept (labels only
        grow), dropping the least recently used past the bounds; an answer heavier than the
        whole budget is not kept."""
        old = self._kept.pop(key, None)
        if old is not None:
            if old[0] > generation:         # a thread with an older snapshot came late
                self._kept[key] = old
                return
            self._weight -= old[2]
        if weight > self.budget:
            return
        self._kept[key] = (generation, answer, weight)
        self._weight += weight
        while len(self._kept) > self.size or self._weight > self.budget:
            self._weight -= self._kept.popitem(last=False)[1][2]


ASKED = object()        # Answers: a statement asked in a generation, its answer not computed


class Kept:
    """Facts read per key from ``tables`` (the role ids of an object), kept while none of those
    tables is written, in any process: the next read after a write drops them all.  At most
    ``size`` keys (all dropped when more would be kept), and only values ``worth`` keeping.
    Shared by a store's threads; values are shared too, so a caller copies what it changes."""

    def __init__(self, tables: tuple[str, ...], size: int = KEPT_KEYS,
                 worth: Callable[[Any], bool] | None = None) -> None:
        self.tables = tables
        self.size = size
        self.worth = worth          # values it refuses are answered, not kept (e.g. long texts)
        self._generation: int | None = None
        self._kept: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, keys: Sequence[Any], in_transaction: bool,
            compute: Callable[[list], dict]) -> dict:
        """``{key: value}`` for ``keys``: ``compute(missing keys)`` reads what is not kept.  In a
        transaction nothing is kept or served (its writes may be rolled back, and the counter
        value with them)."""
        if in_transaction:
            return compute(list(keys))
        generation = read(store, self.tables)   # before reading: nothing kept is older than its label
        with self._lock:
            if generation != self._generation:
                self._kept, self._generation = {}, generation
            kept = self._kept
            found = {k: kept[k] for k in keys if k in kept}
        missing = [k for k in keys if k not in found]
        if missing:
            read_now = compute(missing)
            found.update(read_now)
            keep = read_now if self.worth is None else {k: v for k, v in read_now.items() if self.worth(v)}
            with self._lock:
                if self._generation == generation and len(keep) <= self.size:   # else a newer write was seen
                    if len(self._kept) + len(keep) > self.size:
                        self._kept = {}
                    self._kept.update(keep)
        return found

"""A write generation, and the list counts that are kept while it stands.

A list's ``count`` is its costliest statement (bench/README.md: 0.6 ms of a 1.7 ms request
for a one-character ``icontains`` over 10,000 rows), and the same count is asked again and
again: each page of a list, each poll of a page, repeats its filter.  So a count is kept,
keyed by its exact statement and parameters, for as long as nothing it could read changed.

"Nothing changed" is a counter in the database, ``turret_generation``, that a trigger on
every table raises in the transaction of every row a statement writes.  A count is kept
with the counter as it read it *before* counting, and served only while the counter still
reads the same, in any process: a worker's write is seen by every web process.

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
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from typing import Any, Callable, Protocol, Sequence

TABLE = "turret_generation"
_TRIGGER = "turret_gen_"

# Written per job event, per request, per heartbeat or per send: a trigger there would add a
# write to the hottest paths and end every kept count at once.
VOLATILE = frozenset({
    "job_events", "ad_hoc_command_events", "project_update_events", "inventory_update_events",
    "activity_stream", "sessions", "login_failures", "leases", "instances", "schedule_fires",
    "webhook_rejections", "webhook_status_posts", "notifications", "meta",
    "oauth_codes",      # created on the first authorization, after the triggers are put in place
})
_NAMES_VOLATILE = re.compile(r"\b(?:" + "|".join(sorted(VOLATILE)) + r")\b")

KEPT = 1024         # counts kept per store
KEY_CHARS = 8192    # a count whose statement and text values are longer is not kept (a filter's
                    # values have no length limit: 1024 keys must stay a few MB at most)


class Store(Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def transaction(self) -> AbstractContextManager: ...


def _wanted(tables: list[str]) -> dict[str, str]:
    """``{trigger name: CREATE statement}``: three per ordinary table that is not volatile."""
    bump = f'UPDATE "{TABLE}" SET n = n + 1;'
    plan = {}
    for table in tables:
        if table in VOLATILE or table == TABLE:
            continue
        for op in ("INSERT", "UPDATE", "DELETE"):
            name = f"{_TRIGGER}{op.lower()}_{table}"
            plan[name] = f'CREATE TRIGGER "{name}" AFTER {op} ON "{table}" BEGIN {bump} END'
    return plan


def _tables(store: Store) -> list[str]:
    """Ordinary tables: SQLite's own, FTS5 indexes and their shadow tables left out (an index
    changes only with its table, whose trigger counts the change)."""
    rows = store.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                       " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                       " AND name NOT LIKE 'turret\\_search\\_%' ESCAPE '\\'")
    return [r["name"] for r in rows]


def _ours(store: Store) -> dict[str, str]:
    rows = store.query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
                       (_TRIGGER.replace("_", "\\_") + "%",))
    return {r["name"]: r["sql"] for r in rows}


def install(store: Store) -> None:
    """Create the counter and every missing trigger, drop triggers no table wants any more;
    on every start (a migration may have added or re-created tables).  Cheap when all is in
    place: two looks at the schema."""
    tables = _tables(store)
    if TABLE in tables and _ours(store) == _wanted(tables):
        return
    with store.transaction():
        store.execute(f'CREATE TABLE IF NOT EXISTS "{TABLE}" (n INTEGER NOT NULL)')
        if store.scalar(f'SELECT count(*) FROM "{TABLE}"') == 0:
            store.execute(f'INSERT INTO "{TABLE}" (n) VALUES (0)')
        plan, current = _wanted(_tables(store)), _ours(store)
        for name, sql in current.items():
            if plan.get(name) != sql:
                store.execute(f'DROP TRIGGER "{name}"')
        for name, sql in plan.items():
            if current.get(name) != sql:
                store.execute(sql)


def read(store: Store) -> int:
    """The counter now (as this connection's next statement sees it)."""
    return store.scalar(f'SELECT n FROM "{TABLE}"')


def _size(sql: str, params: Sequence[Any]) -> int:
    return len(sql) + sum(len(p) for p in params if isinstance(p, (str, bytes)))


class Counts:
    """Counts kept while the generation stands: at most :data:`KEPT`, least recently used
    dropped first.  Shared by a store's threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple, tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def count(self, store: Store, sql: str, params: Sequence[Any], in_transaction: bool,
              compute: Callable[[], int]) -> int:
        """``compute()`` (the count of ``sql`` with ``params``), or the kept answer of the same
        statement when the generation has not moved since it was computed."""
        if in_transaction or _NAMES_VOLATILE.search(sql) or _size(sql, params) > KEY_CHARS:
            return compute()
        # typed: 1, 1.0 and True are equal keys in Python, not equal values to SQLite ('1.0' as text)
        key = (sql, tuple((type(p), p) for p in params))
        generation = read(store)        # before counting: a count is never newer than its label's
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == generation:
                self._kept.move_to_end(key)
                return kept[1]
        value = compute()
        with self._lock:
            self._kept[key] = (generation, value)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return value

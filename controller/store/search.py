"""Trigram indexes that serve ``search=`` and ``<field>__icontains`` without full scans.

Each resource people create and edit through the API gets an FTS5 table
``turret_text_<table>`` (tokenizer ``trigram``, SQLite >= 3.34) over its declared search
fields, keyed by the row's id and kept in step with the table by three triggers (insert,
update of those columns, delete).  It holds each text as SQLite's ``lower()`` gives it (ASCII
letters folded, nothing else) and its tokenizer is case-sensitive, so a phrase of a term folded
the same way (:func:`controller.query.text.fold`) finds exactly the rows where LIKE
``'%term%'`` is true: LIKE folds ASCII case only, too.  The FTS table keeps its own copy of the text, so a delete
never depends on the old values being repeated exactly (an external-content index would be
corrupted by a single mismatch).

Not indexed: rows the system writes (jobs of every kind, job events, the activity stream):
their write path stays as cheap as it was, and their lists scan as before.

So the index alone decides ``search=`` and ``__icontains`` for a term of three characters or
more; a case-sensitive ``__contains`` is narrowed by it and then tested with ``instr``.  Results
are the same with or without the index.  A SQLite whose ``lower()`` or LIKE folds more than
ASCII (built with ICU) gets no index: :func:`supported`.  :func:`install` runs on every start:
it creates what is missing or changed and fills it from the table.

Earlier versions kept indexes that only narrowed (Unicode case folded by the tokenizer, the
exact test run on what they found) under :data:`LEGACY_PREFIX`.  A new name, so that a process
of either version never reads the other's index as its own: a start of this version drops
them (a process of the earlier version still running then fails its searches rather than
answer them wrongly), and an earlier version started later makes its own again beside these.
"""
from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, Protocol, Sequence


class Store(Protocol):
    """What this module needs of :class:`controller.store.Store` (which imports this module,
    so it is described here rather than imported)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def transaction(self) -> AbstractContextManager: ...


PREFIX = "turret_text_"
LEGACY_PREFIX = "turret_search_"     # earlier versions' narrowing indexes (dropped on start)
TOKENIZER = "tokenize='trigram case_sensitive 1'"
_TEXT_KINDS = {"string", "text", "email"}
_FTS5_RESERVED = {"rowid", "rank", "oid", "_rowid_"}


@lru_cache(maxsize=1)
def supported() -> bool:
    """Whether this SQLite has FTS5 and its trigram tokenizer (3.34+, FTS5 compiled in), and
    folds case as the index assumes: ``lower()`` and LIKE fold ASCII letters only."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, {TOKENIZER})")
        return conn.execute("SELECT lower('ÄA') = 'Äa' AND 'Ä' NOT LIKE 'ä' AND 'A' LIKE 'a'").fetchone()[0] == 1
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def indexed_columns(resource) -> tuple[str, ...]:
    """The columns a resource's trigram index covers: its search fields, when every one is a
    stored text column and people write its rows (created or changed through the API, and not
    a job); otherwise none."""
    if not resource.search_fields or not (resource.creatable or resource.updatable) \
            or resource.unified_job is not None:      # jobs of every kind: launched, not edited
        return ()
    fields = [resource.field(name) for name in resource.search_fields]
    if any(f is None or not f.stored or f.kind not in _TEXT_KINDS or f.secret for f in fields):
        return ()
    if _FTS5_RESERVED & {name.lower() for name in resource.search_fields}:
        return ()       # FTS5 refuses these column names: such a resource scans, as before
    return tuple(resource.search_fields)


def _statements(table: str, columns: tuple[str, ...]) -> dict[str, str]:
    """``{name: CREATE statement}`` of the index of ``table`` and its three triggers."""
    fts = PREFIX + table
    cols = ", ".join(f'"{c}"' for c in columns)
    new = ", ".join(f'lower(NEW."{c}")' for c in columns)
    put = f'INSERT OR REPLACE INTO "{fts}" (rowid, {cols}) VALUES (NEW."id", {new});'
    return {
        fts: f'CREATE VIRTUAL TABLE "{fts}" USING fts5({cols}, {TOKENIZER})',
        f"{fts}_ins": f'CREATE TRIGGER "{fts}_ins" AFTER INSERT ON "{table}" BEGIN {put} END',
        f"{fts}_upd": f'CREATE TRIGGER "{fts}_upd" AFTER UPDATE OF {cols} ON "{table}" BEGIN {put} END',
        f"{fts}_del": (f'CREATE TRIGGER "{fts}_del" AFTER DELETE ON "{table}" BEGIN '
                       f'DELETE FROM "{fts}" WHERE rowid = OLD."id"; END'),
    }


def _ours(store: Store, prefix: str = PREFIX) -> dict[str, str]:
    """``{name: CREATE statement}`` of the index tables and triggers in the database (FTS5's
    own shadow tables left out)."""
    rows = store.query("SELECT name, sql FROM sqlite_master WHERE name LIKE ? ESCAPE '\\'"
                       " AND type IN ('table', 'trigger')", (prefix.replace("_", "\\_") + "%",))
    return {r["name"]: r["sql"] for r in rows
            if r["sql"].startswith(("CREATE VIRTUAL TABLE", "CREATE TRIGGER"))}


def install(store: Store, registry) -> dict[str, tuple[str, frozenset[str]]]:
    """Create (or re-create, when its columns changed) and fill the index of every indexable
    resource, and drop indexes no resource wants any more; cheap when all is in place (one
    look at the schema).  Returns ``{table: (index table, columns)}`` for the query compiler;
    ``{}`` when SQLite cannot build them."""
    if not supported():
        return {}
    wanted = {res.table: indexed_columns(res) for res in registry}
    wanted = {t: cols for t, cols in wanted.items() if cols}
    plan = {name: sql for t, cols in wanted.items() for name, sql in _statements(t, cols).items()}
    if _ours(store) != plan or _ours(store, LEGACY_PREFIX):
        with store.transaction():
            _rebuild(store, wanted, plan)
    return {t: (PREFIX + t, frozenset(cols)) for t, cols in wanted.items()}


def _rebuild(store: Store, wanted: dict[str, tuple[str, ...]], plan: dict[str, str]) -> None:
    """Inside a write transaction: re-read what exists (another process may have done the
    work), drop what differs, create what is missing.  An index that is new, or whose
    triggers were missing or different (rows may have changed without it), is filled again
    from its table."""
    current = _ours(store)
    legacy = _ours(store, LEGACY_PREFIX)
    for name, sql in [*legacy.items(), *current.items()]:
        if name in legacy or plan.get(name) != sql:
            store.execute(f'DROP {"TRIGGER" if sql.startswith("CREATE TRIGGER") else "TABLE"} "{name}"')
    for table, cols in wanted.items():
        statements = _statements(table, cols)
        stale = [name for name, sql in statements.items() if current.get(name) != sql]
        if not stale:
            continue
        fts = PREFIX + table
        if fts in stale:
            store.execute(statements[fts])
        names = ", ".join(f'"{c}"' for c in cols)
        folded = ", ".join(f'lower("{c}")' for c in cols)
        store.execute(f'DELETE FROM "{fts}"')
        store.execute(f'INSERT INTO "{fts}" (rowid, {names}) SELECT "id", {folded} FROM "{table}"')
        for name in stale:
            if name != fts:
                store.execute(statements[name])

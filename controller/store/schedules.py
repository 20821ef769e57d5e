"""SQL of the scheduler: due schedules, the fire ledger and the leader lease.

Exactly-once firing rests on two guards used inside one write transaction:
  * :func:`advance` is a compare-and-set of ``next_run`` (only the process that still sees the
    occurrence it is about to fire moves the schedule on), and
  * :func:`record_fire` inserts into ``schedule_fires`` whose primary key is
    ``(schedule, fire_time)``, so an occurrence can be recorded once, ever.
:func:`acquire_lease` makes one process the active firer; the guards make a second one harmless.
(Template ids never collide across job templates, projects and inventory sources: they share
the ``unified_job_template`` id group, see :mod:`controller.resources.schedules`.)
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

_TABLES = (
    'CREATE TABLE IF NOT EXISTS "schedule_fires" ("schedule" INTEGER NOT NULL, "fire_time" TEXT NOT NULL, '
    '"node" TEXT NOT NULL DEFAULT \'\', "fired_at" TEXT NOT NULL, "job_type" TEXT NOT NULL DEFAULT \'\', '
    '"job_id" INTEGER, PRIMARY KEY ("schedule", "fire_time"))',
    'CREATE TABLE IF NOT EXISTS "leases" ("name" TEXT PRIMARY KEY, "holder" TEXT NOT NULL, "expires" REAL NOT NULL)',
)


def install(store) -> None:
    """Create the scheduler's internal tables and bring older rows' times to the stored form
    (idempotent, cheap: runs at every start)."""
    with store.transaction():
        for sql in _TABLES:
            store.execute(sql)
        store_times_canonically(store)


def store_times_canonically(store) -> None:
    """``dtstart``, ``dtend`` and ``next_run`` written ``…:SSZ`` by older versions become
    ``…:SS.000000Z``, the form of every stored datetime (filters compare text with it)."""
    for column in ("dtstart", "dtend", "next_run"):
        store.execute(f"UPDATE schedules SET \"{column}\" = substr(\"{column}\", 1, 19) || '.000000Z' "
                      f"WHERE length(\"{column}\") = 20 AND \"{column}\" LIKE '%Z'")


# -- firing ----------------------------------------------------------------------------------------
def due(store, now: str, limit: int = 100) -> list[dict]:
    """Enabled schedules whose ``next_run`` (stored UTC text, ``…:SS.ffffffZ``) is at or before ``now``."""
    return [dict(r) for r in store.query(
        "SELECT * FROM schedules WHERE enabled = 1 AND next_run IS NOT NULL AND next_run <= ? "
        "ORDER BY next_run, id LIMIT ?", (now, limit))]


def earliest_next_run(store) -> str | None:
    return store.scalar("SELECT min(next_run) FROM schedules WHERE enabled = 1 AND next_run IS NOT NULL")


def advance(store, pk: int, expected: str, new_next: str | None) -> bool:
    """Compare-and-set: move ``next_run`` from ``expected`` to ``new_next``."""
    return store.update_where("schedules", {"next_run": new_next},
                              "id = ? AND enabled = 1 AND next_run = ?", [pk, expected]) == 1


def record_fire(store, pk: int, fire_time: str, node: str, fired_at: str) -> bool:
    """Claim the occurrence in the ledger; False when it was recorded before."""
    return store.execute('INSERT OR IGNORE INTO "schedule_fires" ("schedule", "fire_time", "node", "fired_at") '
                         "VALUES (?, ?, ?, ?)", (pk, fire_time, node, fired_at)).rowcount == 1


def set_fire_job(store, pk: int, fire_time: str, job_type: str, job_id: int | None) -> None:
    store.execute('UPDATE "schedule_fires" SET "job_type" = ?, "job_id" = ? WHERE "schedule" = ? AND "fire_time" = ?',
                  (job_type, job_id, pk, fire_time))


def fires(store, pk: int | None = None) -> list[dict]:
    """The ledger (of one schedule), oldest occurrence first."""
    where, params = ("WHERE schedule = ?", (pk,)) if pk is not None else ("", ())
    return [dict(r) for r in store.query(f'SELECT * FROM "schedule_fires" {where} ORDER BY fire_time, schedule',
                                         params)]


# -- templates' next run ------------------------------------------------------------------------------
def next_schedules(store, column: str, template_ids: list[int]) -> dict[int, dict]:
    """{template id: {"id", "next_run"}} of the enabled schedule that runs next, for each of the
    templates (``column``: the schedules' hidden FK to their kind); earliest ``next_run`` first,
    the lowest id on a tie.  One statement for a page of templates."""
    ids = sorted({int(i) for i in template_ids if i is not None})
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    out: dict[int, dict] = {}
    for row in store.query(f'SELECT "{column}" AS template, id, next_run FROM schedules WHERE "{column}" IN ({marks}) '
                           "AND enabled = 1 AND next_run IS NOT NULL ORDER BY next_run DESC, id DESC", ids):
        out[row["template"]] = {"id": row["id"], "next_run": row["next_run"]}   # the last written wins
    return out


def next_run_sql(table: str, column: str) -> str:
    """A scalar SQL expression, inside a query over ``table``: the earliest ``next_run`` of the
    row's enabled schedules (NULL without one), in the stored form of datetimes (microseconds,
    ``Z``) so it compares with normalised filter values."""
    return (f"(SELECT substr(min(next_run), 1, 19) || '.000000Z' FROM schedules WHERE "
            f'"{column}" = "{table}".id AND enabled = 1 AND next_run IS NOT NULL)')


_COMPARISONS = ("=", ">", ">=", "<", "<=")


def next_run_term(table: str, column: str, op: str, value: str | None = None) -> tuple[str, list]:
    """(sql, params) over ``table``: its next run (:func:`next_run_sql`) is null (``op``
    "null"), is not ("not null"), or compares with ``op`` (=, >, >=, <, <=) to ``value``."""
    expr = next_run_sql(table, column)
    if op in ("null", "not null"):
        return f"{expr} IS {op.upper()}", []
    if op not in _COMPARISONS:
        raise ValueError(op)
    return f"{expr} {op} ?", [value]


def names(store, ids: list[int]) -> dict[int, str]:
    return {pk: row["name"] for pk, row in store.get_many("schedules", ids, "id, name").items()}


@contextmanager
def savepoint(store, name: str = "schedule_fire") -> Iterator[None]:
    """A nested, individually revertible part of the current transaction."""
    store.execute(f'SAVEPOINT "{name}"')
    try:
        yield
    except BaseException:
        store.execute(f'ROLLBACK TO "{name}"')
        store.execute(f'RELEASE "{name}"')
        raise
    store.execute(f'RELEASE "{name}"')


# -- the leader lease -----------------------------------------------------------------------------
def acquire_lease(store, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take or renew the lease ``name`` until ``now + ttl``; False while another holder's lease
    has not expired.  Times are seconds on the caller's clock (simulated clocks work)."""
    def held_by_another(row) -> bool:
        return row is not None and row["holder"] != holder and row["expires"] > now

    if held_by_another(store.one('SELECT holder, expires FROM "leases" WHERE name = ?', (name,))):
        return False                 # the common case for followers: no write lock taken
    with store.transaction():
        if held_by_another(store.one('SELECT holder, expires FROM "leases" WHERE name = ?', (name,))):
            return False
        store.execute('INSERT OR REPLACE INTO "leases" (name, holder, expires) VALUES (?, ?, ?)',
                      (name, holder, now + ttl))
    return True


def release_lease(store, name: str, holder: str) -> None:
    with store.transaction():
        store.execute('DELETE FROM "leases" WHERE name = ? AND holder = ?', (name, holder))


def lease_holder(store, name: str) -> dict | None:
    return store.one_dict('SELECT * FROM "leases" WHERE name = ?', (name,))

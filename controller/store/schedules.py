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
    """Create the scheduler's internal tables (idempotent, cheap: runs at every start)."""
    with store.transaction():
        for sql in _TABLES:
            store.execute(sql)


# -- firing ----------------------------------------------------------------------------------------
def due(store, now: str, limit: int = 100) -> list[dict]:
    """Enabled schedules whose ``next_run`` (UTC ``…Z`` text) is at or before ``now``."""
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

"""SQL of the webhook status post-back: the few columns that decide whether a job posts, and the
outbox of posts the serving parent sends (:mod:`controller.webhooks.status`).

The outbox (``webhook_status_posts``) holds one row per status change to post: ``(kind, job,
status)``, unique, so a change announced twice posts once.  A row is recorded in the
transaction that made the change (a rolled-back launch leaves none), and its id orders it:
SQLite serializes writers and ids only grow (AUTOINCREMENT), so the ids of one job's rows are
the order of its changes.  A poster *claims* a row (``claimed_by``, ``claimed_at``) before
sending it and marks it done (``done_at``) after; a row is claimable only when it is the
lowest not-done row of its job, so a job's posts never overlap and never pass each other,
whichever process or thread sends them.  Done rows are kept a while (the unique key then
still refuses a repeated announcement) and pruned by :func:`prune`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store

TABLE = "webhook_status_posts"
_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
          "kind TEXT NOT NULL, job INTEGER NOT NULL, status TEXT NOT NULL, recorded REAL NOT NULL, "
          "claimed_by TEXT, claimed_at REAL, done_at REAL, UNIQUE (kind, job, status))")
# the queue: rows nobody claimed yet, in id order (small: a row lives there for one post)
_QUEUED_INDEX = (f"CREATE INDEX IF NOT EXISTS {TABLE}_queued ON {TABLE} (id) "
                 "WHERE claimed_by IS NULL AND done_at IS NULL")
_DONE_INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_done ON {TABLE} (done_at) WHERE done_at IS NOT NULL"
# what give_up_stale looks for, among the not-done rows only (small), without reading a day of
# done ones: the claims by age, and the queued rows by age
_CLAIMED_INDEX = (f"CREATE INDEX IF NOT EXISTS {TABLE}_claimed ON {TABLE} (claimed_at) "
                  "WHERE done_at IS NULL")
_WAITING_INDEX = (f"CREATE INDEX IF NOT EXISTS {TABLE}_waiting ON {TABLE} (recorded) "
                  "WHERE claimed_by IS NULL AND done_at IS NULL")
# a claimable row: queued, and the lowest not-done row of its job (so a job's posts go one by one)
_CLAIMABLE = ("p.claimed_by IS NULL AND p.done_at IS NULL AND p.id = (SELECT min(id) FROM "
              f"{TABLE} WHERE kind = p.kind AND job = p.job AND done_at IS NULL)")
# _CLAIMABLE's subquery, run per queued row on every idle poll (has_queued): one seek in a
# covering index of the not-done rows only (without it: the unique key's entries of the job,
# done ones too, each with a read of its table row for done_at)
_PENDING_INDEX = (f"CREATE INDEX IF NOT EXISTS {TABLE}_pending ON {TABLE} (kind, job, id) "
                  "WHERE done_at IS NULL")


def install(store: Store) -> None:
    """Create the outbox and its indexes (idempotent; run when the data dir is opened, before
    ``turret serve`` forks its web workers, which record into it): a database made by an older
    version gets the indexes it lacks at its next start."""
    with store.transaction():
        store.execute(_TABLE)
        for index in (_QUEUED_INDEX, _DONE_INDEX, _CLAIMED_INDEX, _WAITING_INDEX, _PENDING_INDEX):
            store.execute(index)


def launch_facts(store, table: str, pk: int) -> dict | None:
    """``status``, ``launch_type``, ``webhook_service``, ``webhook_credential`` and
    ``webhook_status_context`` of unified job ``pk`` in ``table`` (None when there is no such
    row): read on every job's creation, start and end, so only these."""
    return store.one_dict(f'SELECT status, launch_type, webhook_service, webhook_credential, '
                          f'webhook_status_context FROM "{table}" WHERE id = ?', (pk,))


def record(store: Store, kind: str, job: int, status: str, now: float) -> bool:
    """Queue the post of ``job`` of ``kind`` reaching ``status`` (joins the caller's
    transaction); False when that change was already recorded."""
    with store.transaction():
        return store.execute(f"INSERT OR IGNORE INTO {TABLE} (kind, job, status, recorded) VALUES (?, ?, ?, ?)",
                             (kind, job, status, now)).rowcount == 1


def has_queued(store: Store) -> bool:
    """Whether a row could be claimed now (what :func:`claim_next` would take): a cheap read
    for the poster's idle poll.  A row waiting behind its job's post being sent does not count:
    the end of that post rings the poster, so polling for it would only take the write lock
    every poll for nothing."""
    return store.one(f"SELECT 1 FROM {TABLE} AS p WHERE {_CLAIMABLE} LIMIT 1") is not None


def claim_next(store: Store, owner: str, now: float, limit: int) -> list[dict[str, Any]]:
    """Claim for ``owner`` up to ``limit`` queued rows, oldest first, each the lowest not-done
    row of its job (a job whose earlier post is still being sent waits); the rows claimed
    (``id``, ``kind``, ``job``, ``status``).  One transaction: two posters never claim one row."""
    if limit <= 0:
        return []
    with store.transaction():
        rows = store.dicts(
            f"SELECT id, kind, job, status FROM {TABLE} AS p WHERE {_CLAIMABLE} ORDER BY id LIMIT ?", (limit,))
        for row in rows:
            store.execute(f"UPDATE {TABLE} SET claimed_by = ?, claimed_at = ? WHERE id = ?", (owner, now, row["id"]))
    return rows


def release(store: Store, pks: list[int], owner: str) -> int:
    """Give back ``owner``'s claims of rows ``pks``, unsent (queued again, for whichever poster
    looks next: a stopping poster's claims it will not send); how many.  A row concluded or
    claimed by another poster is left alone."""
    if not pks:
        return 0
    marks = ", ".join("?" * len(pks))
    with store.transaction():
        return store.execute(f"UPDATE {TABLE} SET claimed_by = NULL, claimed_at = NULL WHERE id IN ({marks}) "
                             "AND claimed_by = ? AND done_at IS NULL", (*pks, owner)).rowcount


def conclude(store: Store, pk: int, owner: str, now: float) -> None:
    """Mark row ``pk`` (claimed by ``owner``) done, sent or not: it is never sent again."""
    with store.transaction():
        store.execute(f"UPDATE {TABLE} SET done_at = ? WHERE id = ? AND claimed_by = ? AND done_at IS NULL",
                      (now, pk, owner))


def give_up_stale(store: Store, claimed_before: float, recorded_before: float, now: float) -> int:
    """Mark done, unsent, the rows claimed before ``claimed_before`` and never concluded (their
    poster died mid-send: the post may have left, so it is not made again) and the rows queued
    since before ``recorded_before`` (a status that old is news to nobody); how many."""
    with store.transaction():   # two statements: each is served by its partial index
        claims = store.execute(f"UPDATE {TABLE} SET done_at = ? WHERE done_at IS NULL AND claimed_at < ?",
                               (now, claimed_before)).rowcount
        return claims + store.execute(
            f"UPDATE {TABLE} SET done_at = ? WHERE claimed_by IS NULL AND done_at IS NULL AND recorded < ?",
            (now, recorded_before)).rowcount


def prune(store: Store, done_before: float) -> None:
    """Forget the rows done before ``done_before``."""
    with store.transaction():
        store.execute(f"DELETE FROM {TABLE} WHERE done_at < ?", (done_before,))


def unsettled(store: Store, kind: str | None = None, job: int | None = None) -> int:
    """How many rows (of ``job`` of ``kind`` when given) are not done: queued or being sent."""
    if kind is None:
        return int(store.scalar(f"SELECT count(*) FROM {TABLE} WHERE done_at IS NULL"))
    return int(store.scalar(f"SELECT count(*) FROM {TABLE} WHERE done_at IS NULL AND kind = ? AND job = ?",
                            (kind, job)))

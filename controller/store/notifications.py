"""SQL of notifications: the routing snapshot taken when a job is created, the send records
(one per notification template, job and event, enforced by a UNIQUE index) and the
compare-and-set claims that make each record go out at most once, whatever the number of
processes sending.

Tables (besides the declared ``notifications`` and the attach tables of the registry):
  * ``notification_routings(job_type, job_id, routes)``: the templates a job notifies, per event
    group (``started``/``success``/``error``/``approvals``), as JSON, frozen at the job's creation.
"""
from __future__ import annotations

import json
from typing import Any

from . import now_iso

NOTIFICATIONS = "notifications"
ROUTINGS = "notification_routings"

_TABLES = (
    f'CREATE TABLE IF NOT EXISTS "{ROUTINGS}" (job_type TEXT NOT NULL, job_id INTEGER NOT NULL, '
    "routes TEXT NOT NULL, PRIMARY KEY (job_type, job_id))",
    # the send record's identity: a retry, a restart or a second process can never add another
    # (SQLite treats NULL job ids as distinct, so test sends, which have no job, never collide)
    f'CREATE UNIQUE INDEX IF NOT EXISTS "notifications_send_key" ON "{NOTIFICATIONS}" '
    "(notification_template, job_type, job, event)",
    f'CREATE INDEX IF NOT EXISTS "notifications_due" ON "{NOTIFICATIONS}" (status, next_attempt)',
    f'CREATE INDEX IF NOT EXISTS "notifications_destination" ON "{NOTIFICATIONS}" (destination, sent_at)',
)


def install(store) -> None:
    """Create the internal table and the indexes of send records (idempotent; runs at every
    start, after the registry's migration created ``notifications``)."""
    with store.transaction():
        for sql in _TABLES:
            store.execute(sql)


# -- routing --------------------------------------------------------------------------------
def attached_templates(store, table: str, column: str, owner_ids: list[int]) -> list[int]:
    """Notification template ids attached through association ``table`` to any of
    ``owner_ids`` (``column`` names the owner)."""
    ids = [i for i in owner_ids if i is not None]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [r[0] for r in store.query(
        f'SELECT DISTINCT notification_template_id FROM "{table}" WHERE "{column}" IN ({marks}) '
        "ORDER BY notification_template_id", ids)]


def save_routing(store, job_type: str, job_id: int, routes: dict[str, list[int]]) -> None:
    """Store (or replace) the routing snapshot of one job."""
    store.execute(f'INSERT OR REPLACE INTO "{ROUTINGS}" (job_type, job_id, routes) VALUES (?, ?, ?)',
                  (job_type, job_id, json.dumps(routes, separators=(",", ":"))))


def routing_of(store, job_type: str, job_id: int) -> dict[str, list[int]] | None:
    """The routing snapshot of a job; None when none was taken."""
    text = store.scalar(f'SELECT routes FROM "{ROUTINGS}" WHERE job_type = ? AND job_id = ?', (job_type, job_id))
    return None if text is None else json.loads(text)


def delete_routings_of_missing_jobs(store, job_type: str, table: str) -> int:
    """Forget the snapshots of jobs that no longer exist (deleted or cleaned up)."""
    return store.execute(f'DELETE FROM "{ROUTINGS}" WHERE job_type = ? AND job_id NOT IN '
                         f'(SELECT id FROM "{table}")', (job_type,)).rowcount


def delete_concluded_before(store, before: str) -> int:
    """Delete the concluded send records (successful or failed) created before ``before``."""
    return store.execute(f'DELETE FROM "{NOTIFICATIONS}" WHERE status IN (\'successful\', \'failed\') '
                         "AND created < ?", (before,)).rowcount


# -- send records ---------------------------------------------------------------------------
def insert_pending(store, values: dict[str, Any]) -> int | None:
    """INSERT OR IGNORE one send record: its id, or None when the same (template, job, event)
    was recorded before."""
    cols = list(values)
    names = ",".join(f'"{c}"' for c in cols)
    cur = store.execute(f'INSERT OR IGNORE INTO "{NOTIFICATIONS}" ({names}) VALUES ({",".join("?" * len(cols))})',
                        [json.dumps(v) if isinstance(v, (dict, list)) else v for v in
                         (values[c] for c in cols)])
    return cur.lastrowid if cur.rowcount == 1 else None


# pending, unclaimed and due at ``?``: what a sender claims
_DUE = "status = 'pending' AND claimed_at IS NULL AND (next_attempt IS NULL OR next_attempt <= ?)"
# pending and claimed before ``?``, never concluded: a claim whose sender stopped mid-send
_STALE = "status = 'pending' AND claimed_at IS NOT NULL AND claimed_at < ?"


def due_ids(store, now: str, limit: int = 20) -> list[int]:
    """Pending, unclaimed records whose next attempt is due, oldest first."""
    return [r[0] for r in store.query(
        f'SELECT id FROM "{NOTIFICATIONS}" WHERE {_DUE} ORDER BY next_attempt, id LIMIT ?', (now, limit))]


def claim(store, pk: int, owner: str, now: str) -> bool:
    """Compare-and-set: take a pending, unclaimed record for one attempt; False when another
    sender (thread or process) took it first."""
    return store.execute(
        f'UPDATE "{NOTIFICATIONS}" SET claimed_at = ?, claimed_by = ?, attempts = attempts + 1, modified = ? '
        "WHERE id = ? AND status = 'pending' AND claimed_at IS NULL", (now, owner, now, pk)).rowcount == 1


def sends_since(store, destination: str, since: str) -> list[str]:
    """When the attempts to ``destination`` since ``since`` were made (oldest first): what a
    per-destination rate limit counts."""
    return [r[0] for r in store.query(
        f'SELECT sent_at FROM "{NOTIFICATIONS}" WHERE destination = ? AND sent_at >= ? ORDER BY sent_at',
        (destination, since))]


def postpone(store, pk: int, owner: str, next_attempt: str, error: str | None = None,
             undo_attempt: bool = False) -> None:
    """Give a claimed record back, due again at ``next_attempt``, with the last attempt's
    ``error`` (None keeps it; ``undo_attempt``: the claim made no attempt, e.g. a rate limit
    held it back)."""
    store.execute(
        f'UPDATE "{NOTIFICATIONS}" SET claimed_at = NULL, claimed_by = NULL, next_attempt = ?, modified = ?, '
        "attempts = attempts - ?, error = coalesce(?, error) WHERE id = ? AND claimed_by = ?",
        (next_attempt, now_iso(), 1 if undo_attempt else 0, error, pk, owner))


def mark_attempt(store, pk: int, owner: str, destination: str, when: str) -> None:
    """Record that an attempt to ``destination`` starts now (for rate limits)."""
    store.execute(f'UPDATE "{NOTIFICATIONS}" SET destination = ?, sent_at = ? WHERE id = ? AND claimed_by = ?',
                  (destination, when, pk, owner))


def conclude(store, pk: int, owner: str, values: dict[str, Any]) -> bool:
    """Store the outcome of a claimed record (status, error, notifications_sent) and release
    the claim; False when the claim was lost (another process concluded it)."""
    sets = ",".join(f'"{c}" = ?' for c in values)
    return store.execute(
        f'UPDATE "{NOTIFICATIONS}" SET {sets}, claimed_at = NULL, claimed_by = NULL, modified = ? '
        "WHERE id = ? AND claimed_by = ?", [*values.values(), now_iso(), pk, owner]).rowcount == 1


def fail_stale_claims(store, before: str, error: str) -> list[int]:
    """Records claimed before ``before`` and never concluded (their sender died mid-send) end
    ``failed`` with ``error``: whether the message went out is unknown, and sending it again
    could send it twice."""
    ids = [r[0] for r in store.query(f'SELECT id FROM "{NOTIFICATIONS}" WHERE {_STALE}', (before,))]
    for pk in ids:
        store.execute(f'UPDATE "{NOTIFICATIONS}" SET status = \'failed\', error = ?, claimed_at = NULL, '
                      "claimed_by = NULL, modified = ? WHERE id = ? AND status = 'pending' "
                      "AND claimed_at IS NOT NULL", (error, now_iso(), pk))
    return ids


# -- what messages tell about a job -----------------------------------------------------------
def host_summaries(store, job_id: int) -> list[dict]:
    """The per-host summaries of a playbook job, by host name (``job_metadata.hosts``)."""
    return [dict(r) for r in store.query(
        "SELECT host_name, failed, changed, dark, failures, ok, processed, skipped, rescued, ignored "
        "FROM job_host_summaries WHERE job = ? ORDER BY host_name", (job_id,))]


def machine_credential_name(store, job_id: int) -> str | None:
    """The name of the machine (ssh) credential a job used, if any."""
    return store.scalar(
        "SELECT c.name FROM job_credentials jc JOIN credentials c ON c.id = jc.credential_id "
        "JOIN credential_types t ON t.id = c.credential_type WHERE jc.job_id = ? AND t.kind = 'ssh' "
        "ORDER BY c.id LIMIT 1", (job_id,))


def workflow_node_jobs(store, workflow_job_id: int) -> list[dict]:
    """(node id, job id) of every node of a workflow job, in node order."""
    return [dict(r) for r in store.query(
        "SELECT id, job FROM workflow_job_nodes WHERE workflow_job = ? ORDER BY id", (workflow_job_id,))]


def workflow_job_of_approval(store, approval: dict) -> int | None:
    """The workflow job an approval belongs to: its launcher, else the node that spawned it."""
    if approval.get("launched_by_type") == "workflow_job" and approval.get("launched_by_id"):
        return approval["launched_by_id"]
    return store.scalar("SELECT workflow_job FROM workflow_job_nodes WHERE job = ? LIMIT 1", (approval["id"],))


# -- the sender's outbox looks (controller.notifications.delivery.Sender) ----------------------
def has_due(store, now: str) -> bool:
    """Whether a pending, unclaimed record is due at ``now`` (what :func:`claim_due` would
    take): a read, for the sender's idle poll."""
    return store.exists(NOTIFICATIONS, _DUE, (now,))


def has_stale_claims(store, before: str) -> bool:
    """Whether a pending record was claimed before ``before`` and never concluded (what
    :func:`fail_stale_claims` would fail): a read, for the sender's idle poll."""
    return store.exists(NOTIFICATIONS, _STALE, (before,))


def claim_due(store, owner: str, now: str, limit: int) -> list[int]:
    """Claim for ``owner`` up to ``limit`` due records (:func:`due_ids` order), each by the
    compare-and-set of :func:`claim`, in one transaction; the ids claimed."""
    if limit <= 0:
        return []
    with store.transaction():
        return [pk for pk in due_ids(store, now, limit) if claim(store, pk, owner, now)]


def release(store, pks: list[int], owner: str) -> int:
    """Give back ``owner``'s claims of records ``pks``, unsent: unclaimed again, the claim's
    attempt not counted (a stopping sender's claims it will not send, for the next sender);
    how many.  A record concluded or claimed by another sender is left alone."""
    if not pks:
        return 0
    marks = ",".join("?" * len(pks))
    with store.transaction():
        return store.execute(
            f'UPDATE "{NOTIFICATIONS}" SET claimed_at = NULL, claimed_by = NULL, '
            "attempts = max(attempts - 1, 0), modified = ? "
            f"WHERE id IN ({marks}) AND claimed_by = ? AND status = 'pending'", (now_iso(), *pks, owner)).rowcount


# -- deleting a template (controller.resources.notifications) --------------------------------
def has_pending_since(store, template_id: int, since: str) -> bool:
    """Whether template ``template_id`` has a pending send record created after ``since`` (an
    ISO timestamp as :func:`now_iso` writes them)."""
    return store.one(f'SELECT 1 FROM "{NOTIFICATIONS}" WHERE notification_template = ? AND status = \'pending\' '
                     "AND created > ? LIMIT 1", (template_id, since)) is not None


def ad_hoc_host_organizations(store, command_id: int) -> list[int]:
    """Organizations of the inventories of the hosts ad hoc command ``command_id`` has events
    of (AWX's ``AdHocCommand.hosts`` goes through its events), sorted."""
    return [r[0] for r in store.query(
        "SELECT DISTINCT i.organization FROM ad_hoc_command_events e JOIN hosts h ON h.id = e.host "
        "JOIN inventories i ON i.id = h.inventory WHERE e.ad_hoc_command = ? AND i.organization IS NOT NULL "
        "ORDER BY i.organization", (command_id,))]

"""Delivery of recorded notifications, off every job's path: a sender thread per process
(started with the job workers) claims due send records and hands them to the type's sender.

Contracts:
  * At most once: a record is sent only by whoever won its compare-and-set claim.  A claim that
    was never concluded (its process died mid-send) is, after :data:`STALE_CLAIM_SECONDS`,
    concluded ``failed`` and never sent again: whether the message went out is unknown, and a
    second send could duplicate it.  Retries happen only after a send reported failure.
  * Bounded retries: a failed attempt is retried after :data:`BACKOFF` seconds, up to
    :data:`MAX_ATTEMPTS` attempts; the last error is stored on the record (``failed``).
  * Per-destination rate limits (a type's ``rate_per_minute``, e.g. DingTalk and WeCom 20):
    attempts to one destination are counted over the last minute across processes (the count
    and the attempt's mark are one transaction); a record over the limit waits, no attempt spent.
  * No secret in a record or a log: the configuration is decrypted only to call the sender;
    errors are scrubbed of every secret value; an unexpected exception is logged by class only.
  * A send blocks only a pool thread of the sender, never a job or a request.
  * Quiet while idle (the frame of :class:`controller.services.outbox.OutboxSender`): the
    sender polls every :data:`POLL` seconds with reads only (is a record due? is a claim
    stale?) and opens a write transaction only when rung (a record was recorded) or when a
    read found something: to claim, and to fail stale claims at the same look.  So a stale
    claim is failed within :data:`STALE_CLAIM_SECONDS` plus a poll, and an idle sender writes
    nothing.
  * No more claims than free threads: a look claims at most as many records as the pool has
    free threads (:data:`POOL_SIZE`); the others stay queued for the next look (the end of a
    send rings for it), where another process's sender may take them.
  * A stopping sender sends no record it had not handed to a thread yet: it claims nothing once
    stopped and gives back a claim made as the stop came (unclaimed again, its attempt not
    counted), so the next sender sends it; such a claim is never failed as stale.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ..registry import ENCRYPTED
from ..services.outbox import OutboxSender
from ..store import notifications as q
from . import configuration, job_context
from .types import Message, SendError

log = logging.getLogger("turret.notifications")

MAX_ATTEMPTS = 3
BACKOFF = (10.0, 60.0)          # seconds before the 2nd and the 3rd attempt
STALE_CLAIM_SECONDS = 600.0     # far beyond any sender's own timeout
POOL_SIZE = 4                   # sending threads: a look claims no more records than are free
POLL = 1.0                      # seconds between the sender's looks (reads) when no ring came
SWEEP_SECONDS = 0.0             # stale claims are failed at any look once a read found one
SEND_TIMEOUT = 10.0             # bound of every network wait of one attempt (a type may use less)
STALE_ERROR = ("Delivery was interrupted (the sending process stopped during the attempt); "
               "not retried, so the message is never sent twice.")
_EVENT_STATUS = {"started": "running", "success": "successful", "error": "failed"}

# The process's doorbell: recording a send rings it so a sender wakes at once (the sender
# also polls, so a record whose ring was lost is found within a second).
_DOORBELL = threading.Event()


def wake(jobs: Any = None) -> None:
    """Ask the sender to look for due records now: this process's (its doorbell) and, when
    ``jobs`` (the caller's ``Context.jobs``) reaches the job process of another one (a web
    worker's :class:`controller.jobs.wake.WakeSender`: it has ``wake_notifications``), that
    process's too.  Never blocks nor raises: the records are in the database either way."""
    _DOORBELL.set()
    elsewhere = getattr(jobs, "wake_notifications", None)
    if elsewhere is not None:
        elsewhere()


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def scrub(text: str, config: dict, secrets: list[str]) -> str:
    """``text`` with every secret value of ``config`` replaced by ``$encrypted$``."""
    for name in secrets:
        value = config.get(name)
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, ENCRYPTED)
    return text


def _body(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Sender(OutboxSender[int]):
    """Claims due send records of the store and sends them; one per process that runs jobs (the
    frame: :class:`controller.services.outbox.OutboxSender`).  A claimed item is a record's id."""

    name = "turret-notifications"
    pool_name = "turret-notify"
    label = "notification"
    sweep_every = SWEEP_SECONDS
    swept_note = "record(s) concluded failed unsent (a stale claim: its sender stopped mid-send)"
    log = logging.getLogger("turret.notifications")

    def __init__(self, state: Any, poll: float = POLL, backoff: tuple[float, ...] = BACKOFF,
                 max_attempts: int = MAX_ATTEMPTS, stale_after: float = STALE_CLAIM_SECONDS,
                 timeout: float = SEND_TIMEOUT, workers: int = POOL_SIZE) -> None:
        super().__init__(state, _DOORBELL, poll, workers)
        self.backoff, self.max_attempts, self.stale_after = backoff, max_attempts, stale_after
        self.timeout = timeout

    def has_due(self) -> bool:
        return q.has_due(self.ctx.store, _iso(datetime.now(timezone.utc)))

    def sweep_needed(self) -> bool:
        """A claim is stale (a read: the sweep's write is made only then)."""
        return q.has_stale_claims(self.ctx.store, self._stale_before(time.time()))

    def sweep(self, now: float) -> int:
        """Conclude ``failed`` the stale claims (never sent again: see the module contract)."""
        return len(q.fail_stale_claims(self.ctx.store, self._stale_before(now), STALE_ERROR))

    def claim(self, limit: int, now: float) -> list[int]:
        return q.claim_due(self.ctx.store, self.owner, _iso(datetime.fromtimestamp(now, timezone.utc)), limit)

    def release(self, items: list[int]) -> None:
        """Unclaimed again, the claim's attempt not counted: the next sender sends it."""
        q.release(self.ctx.store, items, self.owner)

    def ident(self, item: int) -> int:
        return item

    def send(self, item: int) -> None:
        self.attempt(item)

    def _stale_before(self, now: float) -> str:
        return _iso(datetime.fromtimestamp(now - self.stale_after, timezone.utc))

    def attempt(self, pk: int) -> None:
        """One attempt at a record this sender has claimed."""
        store = self.ctx.store
        row = store.get(q.NOTIFICATIONS, pk)
        if row is None or row.get("claimed_by") != self.owner:
            return
        template = store.get("notification_templates", row["notification_template"])
        ntype = configuration.type_of(row["notification_type"])
        if template is None or ntype is None:
            with store.transaction():
                q.conclude(store, pk, self.owner, {"status": "failed", "error": (
                    f"Unknown notification type {row['notification_type']!r}." if template is not None
                    else "The notification template was deleted.")})
            return
        config = configuration.decrypt(self.ctx.vault, template["notification_type"],
                                       template["notification_configuration"])
        if not self._take_rate_slot(pk, ntype.rate_per_minute,
                                    configuration.destination_key(self.ctx.vault, template["notification_type"],
                                                                  config)):
            return
        message = Message(subject=row.get("subject") or "", body=_body(row.get("body")),
                          url=self._job_url(row), status=_EVENT_STATUS.get(row["event"], row["event"]),
                          timeout=self.timeout)
        try:
            sent = ntype.send(config, message)
        except SendError as exc:
            self._failed(row, scrub(str(exc), config, configuration.secret_names(ntype)))
            return
        except Exception as exc:  # noqa: BLE001 - a sender's bug must not leak its message (secrets)
            log.error("notification %s: the %s sender raised %s", pk, row["notification_type"], type(exc).__name__)
            self._failed(row, f"Unexpected error in the {row['notification_type']} sender ({type(exc).__name__}).")
            return
        with store.transaction():
            q.conclude(store, pk, self.owner, {"status": "successful", "error": "",
                                               "notifications_sent": int(sent or 0)})

    def _take_rate_slot(self, pk: int, per_minute: int, destination: str) -> bool:
        """Mark the attempt against ``destination``; False (record postponed, no attempt spent)
        when the destination had ``per_minute`` attempts in the last minute."""
        store = self.ctx.store
        now = datetime.now(timezone.utc)
        with store.transaction():
            if per_minute > 0:
                recent = q.sends_since(store, destination, _iso(now - timedelta(seconds=60)))
                if len(recent) >= per_minute:
                    free_at = _parse(recent[len(recent) - per_minute]) + timedelta(seconds=60)
                    q.postpone(store, pk, self.owner, _iso(free_at), undo_attempt=True)
                    return False
            q.mark_attempt(store, pk, self.owner, destination, _iso(now))
        return True

    def _failed(self, row: dict, error: str) -> None:
        store = self.ctx.store
        attempts = int(row.get("attempts") or 1)
        with store.transaction():
            if attempts < self.max_attempts:
                delay = self.backoff[min(attempts - 1, len(self.backoff) - 1)] if self.backoff else 0.0
                q.postpone(store, row["id"], self.owner,
                           _iso(datetime.now(timezone.utc) + timedelta(seconds=delay)), error=error)
            else:
                q.conclude(store, row["id"], self.owner, {"status": "failed", "error": error})

    def _job_url(self, row: dict) -> str:
        if not row.get("job") or not row.get("job_type") or self.ctx.registry.get(row["job_type"]) is None:
            return ""
        return job_context.job_url(self.ctx, row["job_type"], row["job"])

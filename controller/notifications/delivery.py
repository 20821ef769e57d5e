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
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from ..registry import ENCRYPTED
from ..services.bootstrap import system_context
from ..store import notifications as q
from . import configuration, job_context
from .types import Message, SendError

log = logging.getLogger("turret.notifications")

MAX_ATTEMPTS = 3
BACKOFF = (10.0, 60.0)          # seconds before the 2nd and the 3rd attempt
STALE_CLAIM_SECONDS = 600.0     # far beyond any sender's own timeout
POOL_SIZE = 4
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


class Sender:
    """Claims due send records of the store and sends them; one per process that runs jobs."""

    def __init__(self, state: Any, poll: float = 1.0, backoff: tuple[float, ...] = BACKOFF,
                 max_attempts: int = MAX_ATTEMPTS, stale_after: float = STALE_CLAIM_SECONDS,
                 timeout: float = SEND_TIMEOUT) -> None:
        self.ctx = system_context(state)
        self.poll, self.backoff, self.max_attempts, self.stale_after = poll, backoff, max_attempts, stale_after
        self.timeout = timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="turret-notify")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="turret-notifications", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop claiming; ``wait``: let attempts under way finish first."""
        self._stop.set()
        wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=wait)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch_due()
            except Exception as exc:  # noqa: BLE001 - the sender must outlive a bad moment of the db
                log.error("notification sender: %s", type(exc).__name__)
            _DOORBELL.wait(timeout=self.poll)
            _DOORBELL.clear()

    def dispatch_due(self) -> list[int]:
        """Fail stale claims, claim every due record and hand each to the pool; the ids claimed."""
        store = self.ctx.store
        now = datetime.now(timezone.utc)
        # A write transaction first: it waits for the write lock, so a ring that came from inside
        # the recording transaction (a workflow's launch records its "started" sends before its
        # commit) is answered only once that transaction has committed, and its records are seen.
        with store.transaction():
            q.fail_stale_claims(store, _iso(now - timedelta(seconds=self.stale_after)), STALE_ERROR)
        claimed = []
        for pk in q.due_ids(store, _iso(now)):   # unclaimed only: a claimed record is never listed
            with store.transaction():
                won = q.claim(store, pk, self.owner, _iso(datetime.now(timezone.utc)))
            if won:
                claimed.append(pk)
                self._pool.submit(self._attempt_safely, pk)
        return claimed

    def _attempt_safely(self, pk: int) -> None:
        try:
            self.attempt(pk)
        except Exception as exc:  # noqa: BLE001 - keep the pool alive; the claim goes stale
            log.error("notification %s: delivery crashed (%s)", pk, type(exc).__name__)

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

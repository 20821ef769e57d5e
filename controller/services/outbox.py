"""The frame of an outbox sender: a thread that claims due rows of an outbox table in the
database and hands each to a pool of sending threads.  The webhook status poster
(:class:`controller.webhooks.status.Poster`) and the notification sender
(:class:`controller.notifications.delivery.Sender`) are its subclasses: each declares only what
differs (what a due row is and how to claim it, how to give a claim back, what one send does,
the sweep of stale rows and its period); the frame below is theirs alike.

Contracts (every subclass):
  * Looks only when wanted: the loop waits on the subclass's doorbell (rung when a row is
    recorded, and by the end of every send) or ``poll`` seconds.  An unrung look is a read
    (:meth:`OutboxSender.has_due`, and :meth:`OutboxSender.sweep_needed` once a sweep is due):
    a write transaction (claim, sweep) is opened only when it found something, so an idle
    sender writes nothing.  A ring goes straight to the claim, as the ring may come from inside
    the recording transaction: the claim's write transaction waits for its commit.
  * Claims no more than it can send: a look claims at most as many rows as the pool has free
    threads (none while every thread is busy); the others stay for the next look, which the
    end of a send rings for.
  * Sweeps (gives up stale claims, prunes: the subclass's :meth:`OutboxSender.sweep`) at most
    once per :attr:`OutboxSender.sweep_every` seconds, the first look included, in the claim's
    write transaction.
  * Stops cleanly: once stopped it claims nothing; a claim made as the stop came (the stop flag
    set, or the pool shut, before the hand-off) is given back unsent
    (:meth:`OutboxSender.release`), so the next sender on the database sends it: a claim never
    handed to a thread would otherwise go stale and be given up unsent.
  * Outlives a bad moment: an exception of a look or of a send is logged by class only (its
    message may hold a secret) and the loop goes on; a send's end frees its thread whatever
    happened.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from .bootstrap import system_context

STOP_WAIT = 5.0     # seconds stop() waits for the claiming thread by default

Item = TypeVar("Item")     # what a claim yields for one row (its id, or the row itself)


def owner_id() -> str:
    """A claim owner unique to one sender: ``<host>:<pid>:<random>`` (the pid says which
    process holds a claim; the random part tells two senders of one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxSender(ABC, Generic[Item]):
    """Claims due rows of an outbox and sends each on one of ``workers`` threads (see the module
    contract).  A subclass sets the class attributes and implements the abstract methods."""

    name = "turret-outbox"          # the claiming thread's name
    pool_name = "turret-outbox"     # prefix of the sending threads' names
    label = "outbox"                # how logs name the sender
    sweep_every = 60.0              # seconds between sweeps (0: at every look that asks for one)
    swept_note = "row(s) given up unsent by the sweep"     # logged after the count the sweep returns
    log = logging.getLogger("turret.outbox")

    def __init__(self, state: Any, doorbell: threading.Event, poll: float, workers: int,
                 stop_wait: float = STOP_WAIT) -> None:
        self.ctx = system_context(state)
        self.doorbell = doorbell
        self.poll, self.workers, self.stop_wait = poll, workers, stop_wait
        self.owner = owner_id()
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._swept = 0.0       # time.time() of the last sweep (0: none yet, so at the first look)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.pool_name)

    # -- what a subclass declares -----------------------------------------------------------
    @abstractmethod
    def has_due(self) -> bool:
        """A read only: whether :meth:`claim` would claim a row now."""

    @abstractmethod
    def claim(self, limit: int, now: float) -> list[Item]:
        """Claim for :attr:`owner` up to ``limit`` (> 0) due rows, inside the caller's write
        transaction; what was claimed, oldest first."""

    @abstractmethod
    def release(self, items: list[Item]) -> None:
        """Give back, unsent and as if never claimed, :attr:`owner`'s claims of ``items``."""

    @abstractmethod
    def send(self, item: Item) -> None:
        """Send one claimed row and conclude its claim (on a pool thread)."""

    @abstractmethod
    def ident(self, item: Item) -> int:
        """The outbox id of ``item`` (what :meth:`dispatch_due` returns and logs name)."""

    def sweep_needed(self) -> bool:
        """A read only: whether a sweep would find something (asked once a sweep is due)."""
        return False

    def sweep(self, now: float) -> int:
        """Give up stale claims (and prune), inside the caller's write transaction; how many
        rows were given up (logged)."""
        return 0

    # -- the frame --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop claiming; ``wait``: let sends under way finish first (each is bounded).  Rows
        still queued stay in the outbox for the next start, and so do the claims of a look
        that outlasts ``timeout`` seconds (default :attr:`stop_wait`; the look may wait for
        the write lock): that look gives them back (see :meth:`_hand_off`)."""
        with self._lock:    # with _hand_off's check: a claim is submitted before the pool shuts, or given back
            self._stop.set()
        self.doorbell.set()
        if self._thread is not None:
            self._thread.join(timeout=self.stop_wait if timeout is None else timeout)
        self._pool.shutdown(wait=wait)

    def _free(self) -> int:
        """Pool threads not sending now (0 once stopped: nothing more is claimed)."""
        with self._lock:
            return 0 if self._stop.is_set() else self.workers - self._busy

    def _sweep_due(self, now: float) -> bool:
        return now - self._swept >= self.sweep_every

    def _loop(self) -> None:
        rung = True     # first look at once: rows recorded while no sender ran
        while not self._stop.is_set():
            try:
                if self._look_wanted(rung):
                    self.dispatch_due()
            except Exception as exc:  # noqa: BLE001 - the sender must outlive a bad moment of the db
                self.log.error("%s sender: %s", self.label, type(exc).__name__)
            rung = self.doorbell.wait(timeout=self.poll)
            self.doorbell.clear()

    def _look_wanted(self, rung: bool) -> bool:
        """Whether to look (a write transaction): a free thread and a ring or a due row; or a
        sweep is due and needed.  Reads only."""
        if self._free() > 0 and (rung or self.has_due()):
            return True
        return self._sweep_due(time.time()) and self.sweep_needed()

    def dispatch_due(self) -> list[int]:
        """Sweep (at most once per :attr:`sweep_every` seconds), claim the due rows (as many as
        free threads) and hand each to a thread; the ids handed."""
        now = time.time()
        free = self._free()
        sweep = self._sweep_due(now)
        if free <= 0 and not sweep:
            return []
        given_up = 0
        with self.ctx.store.transaction():   # one write transaction: waits for a recording one to commit
            if sweep:
                given_up = self.sweep(now)
            # looked at again once the write lock is held (that wait may last the busy timeout):
            # a stop that came meanwhile claims nothing
            items = self.claim(free, now) if free > 0 and not self._stop.is_set() else []
        if sweep:
            self._swept = now
        if given_up:
            self.log.warning("%s: %d %s", self.label, given_up, self.swept_note)
        return self._hand_off(items)

    def _hand_off(self, items: list[Item]) -> list[int]:
        """Submit each claimed item to a sending thread; the ids submitted.  The items a stop
        came before (or a shut pool refuses) are given back unsent, for the next sender."""
        handed: list[int] = []
        refused: list[Item] = []
        with self._lock:    # stop() sets its flag under this lock, before it shuts the pool
            for item in items:
                if self._stop.is_set():
                    refused.append(item)
                    continue
                try:
                    self._pool.submit(self._run, item)
                except RuntimeError:    # the pool is shut (a stop in between)
                    refused.append(item)
                    continue
                self._busy += 1
                handed.append(self.ident(item))
        if refused:
            self.release(refused)
            self.log.info("%s: %d claimed row(s) given back at stop, for the next start", self.label, len(refused))
        return handed

    def _run(self, item: Item) -> None:
        try:
            self.send(item)
        except Exception as exc:  # noqa: BLE001 - keep the pool alive; the claim goes stale
            self.log.error("%s %s: sending crashed (%s)", self.label, self.ident(item), type(exc).__name__)
        finally:
            with self._lock:
                self._busy -= 1
            self.doorbell.set()     # a thread is free: the rows left by a full claim may go now

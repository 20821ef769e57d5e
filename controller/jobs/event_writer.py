"""The one writer of event rows: batches inserts, then fires the barriers queued behind them.

``EventWriter`` owns the only thread that inserts events: the runner's event handler only
enqueues; the writer commits whatever has accumulated in one transaction, then runs the
barriers (``finish``, ``settle``) queued behind those events: a job's end waits on one, so its
final status and ``event_processing_finished`` are written only once every event of its run is
stored or given up on, and the barrier says which.  A batch the database refuses loses only
the rows it really cannot store (a lock: the batch once more; a refused row: halved pieces
until it stands alone); the lost rows' counters are kept per job (:class:`_Ledger`).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from .. import metrics

log = logging.getLogger("turret.events")

RETRY_PAUSE = 0.2      # seconds before a failed batch is tried whole again (a lock held a moment too long)
LEDGER_MAX = 10_000        # lost rows remembered per scope (their counters); beyond: that scope cannot tell
LEDGER_ROWS = 100_000      # ... in all scopes (a few MB); beyond: the scopes that lost rows longest ago cannot tell
LEDGER_SCOPES = 10_000     # scopes remembered (one that cannot tell: ~0.2 kB); beyond: the oldest is evicted
LEDGER_EVICTED = 20_000    # evicted scopes' keys kept (~0.2 kB each, ~4 MB); beyond: a watermark (see _Ledger)
_ANY = object()            # a watermark above every value: a value that is not an int was dropped
_DATABASE_WIDE = {5, 6, 7, 8, 10, 11, 13, 14, 26}   # SQLite's BUSY LOCKED NOMEM READONLY IOERR CORRUPT FULL ...
Scope = tuple[str, str, Any]    # (table, column, value): the rows a barrier answers for, e.g. one job's events


def _reach(exc: Exception) -> str:
    """How far an insert error reaches, by SQLite's result code: ``database`` (locked, full),
    ``statement`` (SQLITE_ERROR: a missing column) or ``row`` (a constraint, a refused value)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF     # none: the driver refused a value
    return "database" if code in _DATABASE_WIDE else "statement" if code == 1 else "row"


def _by_columns(rows: list[dict]) -> list[list[dict]]:
    """``rows`` grouped by their keys, in order of first appearance: one INSERT statement each."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


class _Ledger:
    """The counters of the rows the writer gave up on, by scope, in bounded memory, never
    answering "nothing lost" (``set()``) for a scope that lost rows and was not forgotten by its
    final barrier (:meth:`forget`, after which it starts clean).  Three tiers:

    * a set per scope (``_scopes``, by last loss), or None once it cannot tell: over
      ``LEDGER_MAX`` of its rows lost, or its set dropped to keep ``LEDGER_ROWS`` (the scopes
      that lost rows longest ago first);
    * past ``LEDGER_SCOPES`` scopes the oldest is *evicted*: only its key is kept
      (``_evicted``, ~0.2 kB each) and it answers None (a job still running, or one whose
      final barrier never comes: a worker that crashed, is never wrongly called complete);
    * past ``LEDGER_EVICTED`` keys the oldest key is dropped too, and only a *watermark* stays
      per (table, column): the highest value dropped.  Scope values are job ids, which only
      grow, so an unknown scope above the watermark cannot be a dropped one: it never lost a
      row (``set()``, exact); one at or below it answers None (it may be a dropped one), and so
      does every unknown scope of a (table, column) that dropped a value that is not an int.

    So no loss is ever answered ``set()``, and a scope that never lost rows answers ``set()``
    unless its value is at or below the watermark (a job still running after some
    ``LEDGER_SCOPES + LEDGER_EVICTED`` later-started scopes lost rows): then None, the safe
    error (a spurious "cannot tell": stream entries kept, a lost-events note).  A Bloom filter
    of evicted keys would be as safe, but it only fills: over a long uptime its false positives
    would grow until every job reads "cannot tell"; the watermark only ever touches jobs older
    than a dropped one.  The caller holds a lock."""

    def __init__(self) -> None:
        self._scopes: OrderedDict[Scope, set[int] | None] = OrderedDict()   # by last loss
        self._evicted: OrderedDict[Scope, None] = OrderedDict()             # keys only, by eviction
        self._watermark: dict[tuple[str, str], Any] = {}   # (table, column) -> highest dropped value, or _ANY
        self._rows = 0                          # counters held in all the sets
        self._columns: dict[str, str] = {}      # table -> the column its lost rows are filed by

    def note(self, table: str, rows: list[dict]) -> None:
        """File the loss of ``rows`` of ``table`` by their first column (see ``put``)."""
        for row in rows:
            column = self._columns.setdefault(table, next(iter(row), ""))   # the first (see put)
            scope, counter = (table, column, row.get(column)), row.get("counter")
            lost = self._scopes.pop(scope) if scope in self._scopes else self._unknown(scope)
            if lost is not None and len(lost) >= LEDGER_MAX:
                self._rows, lost = self._rows - len(lost), None
            elif lost is not None:
                key = counter if type(counter) is int else -1
                self._rows += key not in lost
                lost.add(key)
            self._evicted.pop(scope, None)      # filed among the scopes again (as None if it was evicted)
            self._scopes[scope] = lost                  # the newest
        for scope, lost in self._scopes.items():
            if self._rows <= LEDGER_ROWS:
                break
            self._rows, self._scopes[scope] = self._rows - len(lost or ()), None
        while len(self._scopes) > LEDGER_SCOPES:
            self._evict()

    def _evict(self) -> None:
        """Keep only the key of the scope that lost rows longest ago; past ``LEDGER_EVICTED``
        keys, raise the watermark over the oldest key's value instead."""
        scope, lost = self._scopes.popitem(last=False)
        self._rows -= len(lost or ())
        self._evicted[scope] = None
        log.warning("event writer: evicted the losses of %s %s=%s (too many scopes): it cannot tell them now", *scope)
        while len(self._evicted) > LEDGER_EVICTED:
            (table, column, value), _ = self._evicted.popitem(last=False)
            mark = self._watermark.get((table, column))
            if type(value) is not int or mark is _ANY:
                self._watermark[(table, column)] = _ANY
            else:
                self._watermark[(table, column)] = value if mark is None else max(mark, value)

    def _unknown(self, scope: Scope) -> set[int] | None:
        """What a scope with no set answers: None when evicted or possibly below the watermark."""
        if scope in self._evicted:
            return None
        mark = self._watermark.get(scope[:2])
        if mark is None:
            return set()
        return set() if mark is not _ANY and type(scope[2]) is int and scope[2] > mark else None

    def lost(self, scope: Scope) -> set[int] | None:
        """The counters of ``scope`` given up on (a copy); None when it cannot tell."""
        if self._columns.get(scope[0], scope[1]) != scope[1]:
            return None     # filed by another column: it cannot tell (never a false "nothing lost")
        if scope in self._scopes:
            lost = self._scopes[scope]
            return None if lost is None else set(lost)
        return self._unknown(scope)

    def forget(self, scope: Scope) -> None:
        """The scope's final barrier: drop its set or evicted key (below a watermark it still
        answers None: a dropped key cannot be told from it)."""
        self._rows -= len(self._scopes.pop(scope, None) or ())
        self._evicted.pop(scope, None)


class EventWriter:
    """The single writer of event rows: batches inserts, then fires barriers in order.

    A batch is one transaction.  When it fails, only the rows that cannot be stored are lost:
    after a database-wide error (a lock held past the busy timeout) it is tried whole once more
    after ``RETRY_PAUSE`` (failing so again: given up), then each statement's rows apart, a piece
    failing on a row-level error halved until a refused row stands alone (at most 2 + 2n
    transactions for n rows).  A table's loss is logged once per batch with its count and the
    error, never a row's content (event data may hold secrets)."""

    def __init__(self, store, max_batch: int = 2000, max_wait: float = 0.25) -> None:
        self.store = store
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue = queue.SimpleQueue()   # C-implemented: a put is ~0.1 µs
        self._thread = threading.Thread(target=self._loop, name="turret-event-writer", daemon=True)
        self._stopping = False
        self._ledger = _Ledger()     # the rows given up on
        self._lost_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def put(self, table: str, row: dict) -> None:
        """Queue ``row`` for ``table``.  Its first column names its scope (a job's events: the
        job's column, as :func:`event_row` builds them), by which lost rows are remembered."""
        self._queue.put((table, row))

    def finish(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` in the writer thread once everything queued before it is committed
        or given up on (a failed batch never holds a barrier back); :meth:`settle` says which."""
        self._queue.put((None, callback))

    def settle(self, scope: Scope, callback: Callable[[bool], None], *, final: bool = False) -> None:
        """Like :meth:`finish`, but run ``callback(ok)``: True when every row of ``scope`` (the
        rows of ``table`` whose ``column`` is ``value``) queued before this call was committed,
        False when the writer gave up on one (:meth:`given_up` names them) or cannot tell (over
        ``LEDGER_MAX`` of its rows lost, or its losses evicted: see ``_Ledger``).  ``final``:
        the scope's last barrier: its losses are forgotten, a later barrier of it starts clean."""
        self._queue.put((None, (scope, callback, final)))

    def wait_settled(self, scope: Scope, timeout: float, *, final: bool = False) -> bool | None:
        """:meth:`settle` and wait for it: its ``ok``, or None when ``timeout`` seconds passed."""
        answer: queue.SimpleQueue = queue.SimpleQueue()
        self.settle(scope, answer.put, final=final)
        try:
            return answer.get(timeout=timeout)
        except queue.Empty:
            return None

    def given_up(self, scope: Scope, field: str = "counter") -> set[int] | None:
        """The ``counter`` values of the rows of ``scope`` the writer gave up on (-1: one with no
        integer counter); None when it cannot tell.  Only counters are remembered: another
        ``field`` answers None."""
        with self._lost_lock:
            return self._ledger.lost(scope) if field == "counter" else None

    def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        self._queue.put((None, None))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            items = [self._queue.get()]
            # gather for up to max_wait after the first item: one transaction per window, not
            # per event (SQLite commits dominate otherwise); a barrier (a job's end) is flushed
            # at once, so nobody waits out the window for a job's final state
            deadline = time.monotonic() + self.max_wait
            while len(items) < self.max_batch and not self._stopping and items[-1][0] is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            try:
                self._flush(items)
            except Exception:  # noqa: BLE001 - the only writer of events must outlive any bug
                log.exception("event writer: a batch of %d items failed", len(items))
            if self._stopping and self._queue.empty():
                return

    def _flush(self, items: list) -> None:
        by_table: dict[str, list[dict]] = {}
        barriers: list = []
        for table, payload in items:
            if table is None:
                if payload is not None:
                    barriers.append(payload)
            else:
                by_table.setdefault(table, []).append(payload)
        try:
            if by_table:
                self._store(by_table)
        finally:        # a barrier fires whatever became of the rows before it
            for barrier in barriers:
                self._fire(barrier)

    def _store(self, by_table: dict[str, list[dict]]) -> None:
        """Commit a batch, or store what can be stored of it (see the class)."""
        for attempt in (1, 2):
            try:
                with self.store.transaction():
                    for table, rows in by_table.items():
                        for group in _by_columns(rows):
                            self.store.insert_many(table, group, ready=True)
            except Exception as exc:  # noqa: BLE001 - losing a batch must not kill the writer thread
                error = exc             # as the database raised it: Store.transaction re-raises it unchanged
                if attempt == 2 or _reach(exc) != "database":    # only a lock may be gone soon
                    break
                time.sleep(RETRY_PAUSE)
            else:
                if attempt == 2:
                    log.warning("storing a batch failed once (%s); the retry stored it", type(error).__name__)
                metrics.count_event_batch(sum(len(rows) for rows in by_table.values()))
                return
        stored = 0
        for table, rows in by_table.items():
            lost, why = (rows, error) if _reach(error) == "database" else self._store_apart(table, rows)
            stored += len(rows) - len(lost)
            if lost:
                log.error("gave up on %d of %d events of %s: %r", len(lost), len(rows), table, why)
                self._note_lost(table, lost)
        metrics.count_event_batch(stored)

    def _store_apart(self, table: str, rows: list[dict]) -> tuple[list[dict], Exception | None]:
        """Store ``rows`` piece by piece (see the class): the rows given up on, the last error."""
        pieces = _by_columns(rows)[::-1]     # a stack: the first piece on top
        lost: list[dict] = []
        error = None
        while pieces:
            piece = pieces.pop()
            try:
                with self.store.transaction():
                    self.store.insert_many(table, piece, ready=True)
            except Exception as exc:  # noqa: BLE001
                error, reach = exc, _reach(exc)
                if reach == "database":     # the rest would each wait out the same lock
                    lost += piece + [row for rest in pieces for row in rest]
                    break
                if len(piece) == 1 or reach == "statement":
                    lost += piece
                else:
                    pieces += [piece[len(piece) // 2:], piece[:len(piece) // 2]]
        return lost, error

    def _note_lost(self, table: str, rows: list[dict]) -> None:
        with self._lost_lock:
            self._ledger.note(table, rows)

    def _fire(self, barrier: Any) -> None:
        """Run one barrier's callback (``finish``: a callable; ``settle``: scope, callback, final)."""
        try:
            if not isinstance(barrier, tuple):
                barrier()
                return
            scope, callback, final = barrier
            try:
                callback(self.given_up(scope) == set())     # None: cannot tell
            finally:
                if final:
                    with self._lost_lock:
                        self._ledger.forget(scope)
        except Exception:  # noqa: BLE001
            log.exception("event barrier failed")

"""Runner events -> stored rows, written in batches by one writer thread.

``event_row`` is pure.  ``EventWriter`` owns the only thread that inserts events: the runner's
event handler must return within a millisecond or so (it runs in the pty pump and slows
ansible itself), so it only enqueues; the writer commits whatever has accumulated in one
transaction, then runs the barriers (``finish``, ``settle``) queued behind those events: a
job's end waits on one, so its final status and ``event_processing_finished`` are written only
once every event of its run is stored or given up on, and the barrier says which.
"""
from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import threading
import time
from collections import deque
from typing import Any, Callable

import orjson

from .. import metrics
from ..store import now_iso

log = logging.getLogger("turret.events")

FAILED_EVENTS = {"runner_on_failed", "runner_on_error", "runner_on_unreachable", "runner_on_async_failed",
                 "runner_item_on_failed", "error"}
DISPLAY = {
    "playbook_on_start": ("Playbook Started", 0), "playbook_on_play_start": ("Play Started", 1),
    "playbook_on_stats": ("Playbook Complete", 1), "playbook_on_vars_prompt": ("Variables Prompted", 1),
    "playbook_on_task_start": ("Task Started", 2), "playbook_on_notify": ("Running Handlers", 2),
    "playbook_on_include": ("Including File", 2), "playbook_on_no_hosts_matched": ("No Hosts Matched", 2),
    "playbook_on_no_hosts_remaining": ("No Hosts Remaining", 2), "playbook_on_setup": ("Gathering Facts", 2),
    "playbook_on_handler_task_start": ("Handler Task Started", 2),
    "runner_on_ok": ("Host OK", 3), "runner_on_failed": ("Host Failed", 3), "runner_on_error": ("Host Failure", 3),
    "runner_on_skipped": ("Host Skipped", 3), "runner_on_unreachable": ("Host Unreachable", 3),
    "runner_on_start": ("Host Started", 3), "runner_on_no_hosts": ("No Hosts Remaining", 3),
    "runner_on_async_poll": ("Host Polling", 3), "runner_on_async_ok": ("Host Async OK", 3),
    "runner_on_async_failed": ("Host Async Failure", 3), "runner_item_on_ok": ("Item OK", 3),
    "runner_item_on_failed": ("Item Failed", 3), "runner_item_on_skipped": ("Item Skipped", 3),
    "runner_retry": ("Host Retry", 3), "runner_on_file_diff": ("File Difference", 3),
    "debug": ("Debug", 0), "verbose": ("Verbose", 0), "deprecated": ("Deprecated", 0),
    "warning": ("Warning", 0), "system_warning": ("System Warning", 0), "error": ("Error", 0),
}
# event_data keys worth keeping; the rest (e.g. full results of big loops) stays in stdout.
_KEEP_DATA = ("playbook", "playbook_uuid", "play", "play_uuid", "play_pattern", "task", "task_uuid",
              "task_action", "task_args", "task_path", "role", "host", "remote_addr", "res", "start", "end",
              "duration", "event_loop", "resolved_action", "ignore_errors", "pid", "uuid",
              "processed", "changed", "ok", "dark", "failures", "ignored", "rescued", "skipped",
              "artifact_data", "item", "name", "is_conditional")


def _dumps(value: Any) -> str:
    """Compact JSON text of kept event data: orjson (an order of magnitude faster than the
    standard library on runner events), the standard library for what orjson refuses (integers
    beyond 64 bits).  Anything else unserializable becomes its ``str()``, as before."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=str)


_clock: list = [0, ""]


def _now() -> str:
    """``now_iso()`` at most once per millisecond: stamping thousands of events a second with
    strftime each was a tenth of the event path's CPU."""
    tick = time.monotonic_ns() // 1_000_000
    if tick != _clock[0]:
        _clock[0], _clock[1] = tick, now_iso()
    return _clock[1]


def _changed(data: dict) -> bool:
    res = data.get("res")
    return bool(isinstance(res, dict) and res.get("changed"))


def event_row(event: dict, parent: str, job_id: int, now: str) -> dict[str, Any]:
    """One ansible-runner event dict -> an events-table row (runner's own line numbers tile
    the stdout from 0, so they are kept as they are)."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    kept = {k: data[k] for k in _KEEP_DATA if k in data}
    failed = kind in FAILED_EVENTS and not data.get("ignore_errors")
    changed = _changed(data)
    if kind == "playbook_on_stats":
        failed = bool(data.get("failures") or data.get("dark"))
        changed = bool(data.get("changed"))
    # values are SQLite-ready (JSON text, 0/1): the writer inserts them without converting
    return {
        parent: job_id,
        "event": kind,
        "counter": event.get("counter", 0),
        "event_data": _dumps(kept),
        "failed": int(failed),
        "changed": int(changed),
        "uuid": event.get("uuid", ""),
        "parent_uuid": event.get("parent_uuid", "") or "",
        "host_name": data.get("host", "") or "",
        "playbook": data.get("playbook", "") or "",
        "play": data.get("play", "") or "",
        "task": data.get("task", "") or "",
        "role": data.get("role", "") or "",
        "stdout": event.get("stdout", "") or "",
        "start_line": event.get("start_line", 0) or 0,
        "end_line": event.get("end_line", 0) or 0,
        "verbosity": data.get("verbosity", 0) or 0,
        "created": _awx_time(event.get("created")) or now,
        "modified": now,
    }


def _awx_time(value: Any) -> str | None:
    """Runner's "...+00:00" timestamps -> AWX's "...Z" with microseconds."""
    if not value:
        return None
    text = str(value)
    if len(text) == 32 and text.endswith("+00:00") and text[19] == ".":
        return text[:26] + "Z"        # runner's usual shape: no parsing needed
    from datetime import datetime, timezone
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def display_fields(ctx, rows: list[dict]) -> dict[int, dict]:
    """Computed ``event_display`` / ``event_level`` for event rows."""
    out = {}
    for r in rows:
        label, level = DISPLAY.get(r["event"], (r["event"], 0))
        if r["event"] == "playbook_on_play_start" and r.get("play"):
            label = f"{label} ({r['play']})"
        elif r["event"] == "playbook_on_task_start" and r.get("task"):
            label = f"{label} ({r['role'] + ' | ' if r.get('role') else ''}{r['task']})"
        out[r["id"]] = {"event_display": label, "event_level": level}
    return out


MIN_SECRET = 4   # shorter values cannot be told apart from ordinary text (AWX scrubs nothing)


def secret_pattern(secrets: list) -> "re.Pattern | None":
    """One regex matching every distinct secret (longest first), or None."""
    values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET and s != "ASK"},
                    key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in values)) if values else None


def _scrub_value(value: Any, pattern: "re.Pattern") -> Any:
    if isinstance(value, str):
        return pattern.sub("$encrypted$", value)
    if isinstance(value, dict):
        return {k: _scrub_value(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, pattern) for v in value]
    return value


def scrub(event: dict, pattern: "re.Pattern | None") -> dict:
    """Replace secret values inside an event's string *values* (never its keys or its type) with
    $encrypted$, in one pass.  Credentials are injected so they do not print; this catches a
    playbook that echoes one."""
    if pattern is None:
        return event
    return {k: (v if k in ("event", "uuid", "parent_uuid", "counter") else _scrub_value(v, pattern))
            for k, v in event.items()}


RETRY_PAUSE = 0.2      # seconds before a failed batch is tried whole again (a lock held a moment too long)
LEDGER_MAX = 10_000    # lost rows remembered (their integer fields only, ~0.5 kB each)
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
        self._lost: deque[tuple[str, dict[str, int]]] = deque()   # rows given up on: table, int fields
        self._forgot = False         # more than LEDGER_MAX rows lost: the writer cannot tell any more
        self._lost_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def put(self, table: str, row: dict) -> None:
        self._queue.put((table, row))

    def finish(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` in the writer thread once everything queued before it is committed
        or given up on (a failed batch never holds a barrier back); :meth:`settle` says which."""
        self._queue.put((None, callback))

    def settle(self, scope: Scope, callback: Callable[[bool], None], *, final: bool = False) -> None:
        """Like :meth:`finish`, but run ``callback(ok)``: True when every row of ``scope`` (the
        rows of ``table`` whose ``column`` is ``value``) queued before this call was committed,
        False when the writer gave up on one (:meth:`given_up` names them) or cannot tell (over
        ``LEDGER_MAX`` rows lost).  ``final``: the scope's last barrier: its losses are forgotten."""
        self._queue.put((None, (scope, callback, final)))

    def wait_settled(self, scope: Scope, timeout: float, *, final: bool = False) -> bool | None:
        """:meth:`settle` and wait for it: its ``ok``, or None when ``timeout`` seconds passed."""
        answer: queue.SimpleQueue = queue.SimpleQueue()
        self.settle(scope, answer.put, final=final)
        try:
            return answer.get(timeout=timeout)
        except queue.Empty:
            return None

    def given_up(self, scope: Scope, field: str) -> set[int] | None:
        """The values of integer column ``field`` of the rows of ``scope`` the writer gave up on
        (e.g. the counters of a job's lost events); None when it cannot tell."""
        table, column, value = scope
        with self._lost_lock:
            if self._forgot:
                return None
            return {ints.get(field, -1) for t, ints in self._lost if t == table and ints.get(column) == value}

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
                error = exc
                self._end_transaction()
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
                self._end_transaction()
                error, reach = exc, _reach(exc)
                if reach == "database":     # the rest would each wait out the same lock
                    lost += piece + [row for rest in pieces for row in rest]
                    break
                if len(piece) == 1 or reach == "statement":
                    lost += piece
                else:
                    pieces += [piece[len(piece) // 2:], piece[:len(piece) // 2]]
        return lost, error

    def _end_transaction(self) -> None:
        """Roll back what a failed COMMIT left open: the next batch must begin anew."""
        with contextlib.suppress(Exception):    # nothing more to do: the next BEGIN reports it
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")

    def _note_lost(self, table: str, rows: list[dict]) -> None:
        with self._lost_lock:
            self._lost.extend((table, {k: v for k, v in row.items() if type(v) is int}) for row in rows)
            while len(self._lost) > LEDGER_MAX:
                self._lost.popleft()
                self._forgot = True

    def _fire(self, barrier: Any) -> None:
        """Run one barrier's callback (``finish``: a callable; ``settle``: scope, callback, final)."""
        try:
            if not isinstance(barrier, tuple):
                barrier()
                return
            (table, column, value), callback, final = barrier
            callback(self.given_up((table, column, value), column) == set())     # None: cannot tell
            if final:
                with self._lost_lock:
                    self._lost = deque(e for e in self._lost if not (e[0] == table and e[1].get(column) == value))
        except Exception:  # noqa: BLE001
            log.exception("event barrier failed")


def event_handler(writer: EventWriter, events_table: str, parent_col: str, pk: int, *,
                  pattern: "re.Pattern | None" = None, host_ids: dict[str, int] | None = None,
                  run_data: dict | None = None) -> Callable[[dict], bool]:
    """The runner's event handler of one run: scrub secrets, keep the stats event's artifacts
    and counts in ``run_data``, build the row (linking its host when ``host_ids`` is given),
    queue it for the writer.  Returns False, which tells ansible-runner not to write the event
    to disk (the writer stores it).  The dispatcher runs jobs through it and the benchmark
    measures it, so both see one event path."""
    data_out = run_data if run_data is not None else {"artifacts": {}, "stats": {}}

    def handle(event: dict) -> bool:
        event = scrub(event, pattern)
        if event.get("event") == "playbook_on_stats":
            data = event.get("event_data") or {}
            data_out["artifacts"].update(data.get("artifact_data") or {})
            data_out["stats"] = data
        row = event_row(event, parent_col, pk, _now())
        if host_ids is not None:
            row["host"] = host_ids.get(row["host_name"])
        writer.put(events_table, row)
        return False
    return handle

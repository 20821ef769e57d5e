"""Local dispatch of unified jobs over worker threads.

A job is queued by writing it ``pending``; any dispatcher (this process or another sharing
the database) claims it with a compare-and-set to ``waiting``, so a job never runs twice and
nothing is lost across restarts.  Each job kind registers how to prepare its run and what to
do when it ends.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..store import jobs as q
from ..store import now_iso
from .events import EventWriter, event_row, scrub, secret_pattern

log = logging.getLogger("turret.jobs")
REAPED = ("Task was marked as running at system start up. The system must have not shut down "
          "properly, so it has been marked as failed.")


@dataclass
class JobKind:
    """How one unified job type runs: ``prepare`` builds the RunSpec (may raise to error the
    job with a message), ``finish`` applies the outcome to related objects."""

    resource: str
    table: str
    events_table: str
    parent_col: str
    prepare: Callable                      # (ctx, row) -> RunSpec
    finish: Callable | None = None         # (ctx, row, RunResult, run_data) -> fields to store
    impact: Callable | None = None         # (ctx, row) -> capacity units (default 1)
    blocked: Callable | None = None        # (ctx, row) -> True while it must wait (dependencies ...)
    events_have_host: bool = False


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.resource] = kind
    return kind


class JobError(Exception):
    """Raised by ``prepare`` when a job cannot run; its message becomes job_explanation."""


class Dispatcher:
    def __init__(self, state, workers: int = 4, capacity: int = 0) -> None:
        self.state = state
        self.workers = workers
        self.capacity = capacity or max(4, (os.cpu_count() or 1) * 8)
        self._used = 0
        self._claim_lock = threading.Lock()
        self.writer = EventWriter(state.store)
        self._wake = threading.Condition()
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._cancels: dict[tuple[str, int], threading.Event] = {}
        self.root = Path(state.settings.data_dir) / "runs"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        from . import kinds  # noqa: F401 - registers the job kinds
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for kind in KINDS.values():
            reaped = q.reap(self.state.store, kind.table, REAPED)
            if reaped:
                log.warning("reaped %s %s left running by a previous process", kind.resource, reaped)
        self.writer.start()
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"turret-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._maintain, name="turret-cleanup", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop = True
        for ev in list(self._cancels.values()):
            ev.set()
        self.notify()
        for t in self._threads:
            t.join(timeout=15)
        self.writer.stop()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def cancel(self, resource: str, pk: int) -> None:
        ev = self._cancels.get((resource, pk))
        if ev is not None:
            ev.set()

    def _maintain(self) -> None:
        """The daily retention run (KEEP_DAYS); the last run is remembered in the database so
        restarts do not repeat it and several processes do not all run it."""
        from ..services.bootstrap import system_context
        from ..services.cleanup import cleanup
        while not self._stop:
            try:
                if q.claim_daily(self.state.store, "last_cleanup", 86400):
                    counts = cleanup(system_context(self.state), self.state.settings.KEEP_DAYS)
                    log.info("daily cleanup: %s", counts)
            except Exception:  # noqa: BLE001 - retention must never take the dispatcher down
                log.exception("daily cleanup failed")
            with self._wake:
                self._wake.wait(timeout=3600)

    # -- work loop ---------------------------------------------------------------------------
    def _claim(self) -> tuple[JobKind, dict, int] | None:
        """The oldest pending job that may start now.  Jobs wait in order: when the oldest
        eligible one does not fit the remaining capacity, nothing younger jumps the queue."""
        from ..services.bootstrap import system_context
        store = self.state.store
        with self._claim_lock:
            candidates = []
            for kind in KINDS.values():
                for row in q.pending(store, kind.table, 50):
                    candidates.append((row["created"] or "", row["id"], kind, row))
            if not candidates:
                return None
            ctx = system_context(self.state)
            for _created, _pk, kind, row in sorted(candidates, key=lambda c: (c[0], c[1])):
                if kind.blocked and kind.blocked(ctx, row):
                    continue
                impact = kind.impact(ctx, row) if kind.impact else 1
                if self._used and self._used + impact > self.capacity:
                    return None
                if q.claim(store, kind.table, row["id"], self.state.node_name):
                    self._used += impact
                    return kind, row, impact
            return None

    def _work(self) -> None:
        while not self._stop:
            try:
                claimed = self._claim()
            except Exception:  # noqa: BLE001 - a locked database must not kill the worker
                log.exception("claiming a job failed")
                claimed = None
            if claimed is None:
                with self._wake:
                    self._wake.wait(timeout=1.0)
                continue
            kind, row, impact = claimed
            try:
                self._run(kind, row)
            except Exception:  # noqa: BLE001
                log.exception("job %s %s crashed the worker", kind.resource, row["id"])
                q.set_fields(self.state.store, kind.table, row["id"], {
                    "status": "error", "failed": True, "finished": now_iso(),
                    "job_explanation": "The job failed to run.", "result_traceback": traceback.format_exc(),
                    "event_processing_finished": True})
            finally:
                with self._claim_lock:
                    self._used -= impact
                self.notify()   # capacity freed, and jobs waiting on this one may start

    def _run(self, kind: JobKind, row: dict) -> None:
        from ..services.bootstrap import system_context
        from . import executor
        store = self.state.store
        ctx = system_context(self.state)
        pk = row["id"]
        try:
            spec = kind.prepare(ctx, row)
        except JobError as exc:
            q.set_fields(store, kind.table, pk, {"status": "error", "failed": True, "finished": now_iso(),
                                                 "job_explanation": str(exc), "event_processing_finished": True})
            return
        cancel_event = threading.Event()
        self._cancels[(kind.resource, pk)] = cancel_event
        started = time.time()
        last_poll = [0.0]

        def should_cancel() -> bool:
            if cancel_event.is_set():
                return True
            now = time.monotonic()
            if now - last_poll[0] > 0.5:   # another process may have flagged it
                last_poll[0] = now
                if q.cancel_requested(store, kind.table, pk):
                    cancel_event.set()
            return cancel_event.is_set()

        run_data: dict = {"artifacts": {}, "stats": {}, "meta": spec.meta}
        host_ids = spec.meta.get("host_ids", {})

        pattern = secret_pattern(spec.secrets)

        def on_event(event: dict) -> None:
            event = scrub(event, pattern)
            if event.get("event") == "playbook_on_stats":
                data = event.get("event_data") or {}
                run_data["artifacts"].update(data.get("artifact_data") or {})
                run_data["stats"] = data
            row_ = event_row(event, kind.parent_col, pk, now_iso())
            if kind.events_have_host:
                row_["host"] = host_ids.get(row_["host_name"])
            self.writer.put(kind.events_table, row_)

        def on_start() -> None:
            q.set_fields(store, kind.table, pk, {"status": "running", "started": now_iso()})

        result = executor.run(spec, self.root, on_event, should_cancel, on_start=on_start)
        self._cancels.pop((kind.resource, pk), None)
        final = {
            "status": result.status, "failed": result.status != "successful", "finished": now_iso(),
            "elapsed": round(time.time() - started, 3), "job_args": result.job_args, "job_cwd": result.job_cwd,
            "job_env": result.job_env, "job_explanation": result.explanation,
        }
        if kind.finish:
            final.update(kind.finish(ctx, row, result, run_data) or {})
        q.set_fields(store, kind.table, pk, final)
        def all_stored() -> None:
            q.propagate_event_flags(store, kind.events_table, kind.parent_col, pk)
            q.set_fields(store, kind.table, pk, {"event_processing_finished": True})

        self.writer.finish(all_stored)

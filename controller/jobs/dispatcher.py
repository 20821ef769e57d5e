"""Local dispatch of unified jobs over worker threads.

A job is queued by writing it ``pending``; any dispatcher (this process or another sharing
the database) claims it with a compare-and-set to ``waiting``, so a job never runs twice and
nothing is lost across restarts.  Each job kind (the ``UnifiedJob`` declared on its resource,
handed in by ``AppState.start_jobs``) says how to prepare its run and what to do when it ends.
One idle worker at a time looks for a job (on each ``notify()`` and every second); the other
idle ones wait for their turn without touching the database, and close their connection when
that wait lasts (``IDLE_SECONDS``).

Crash recovery (``start``): a dispatcher holds an flock on ``runs/.owners/<token>.lock`` for its
whole life and marks each job it claims with ``runs/.owners/<resource>-<id>.<token>`` until the
job's events are all stored.  The kernel drops the lock when the process dies, even by
SIGKILL, so at start-up a marked job whose owner's lock is free was orphaned: its processes
(ansible runs in sessions of its own, so they outlive the controller) are swept by the
``AWX_ISOLATED_DATA_DIR`` their run folder gave them, the folder (secrets included) removed,
and only then is the job reaped to ``error``.  A job owned by a live sibling process sharing
the data dir is left alone.

Distributed mode (``remote``: a ``controller.workers.follower.RemoteRuns``, handed in by
``AppState.start_jobs`` only when a broker is configured, so embedded mode loads neither Celery
nor Redis): a job or ad hoc command whose instance group does not hold this node (or this
node runs no jobs, or has no room) is transmitted to the group's Celery queue, and a follower
thread feeds its worker's frames into the same event path (``prepare``, ``event_sink``,
``complete``).  A remote job left by a dead controller is not reaped: its stream is followed
again from the start (stored events are skipped).
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Iterable

from ..registry import UnifiedJob
from ..services.bootstrap import system_context
from ..services import instances
from ..services.cleanup import cleanup
from ..services.settings_runs import apply_run_settings
from ..services.variables import VarsError
from ..store import instances as instance_sql
from ..store import jobs as q
from ..store import now_iso
from . import executor, processes
from .control import job_ended, job_started
from .event_writer import EventWriter
from .events import event_handler, secret_pattern
from .spec import JobError, RunResult, RunSpec

log = logging.getLogger("turret.jobs")
REAPED = ("Task was marked as running at system start up. The system must have not shut down "
          "properly, so it has been marked as failed.")
LOST_EVENTS = "Some events of this job could not be stored: its output has gaps."


def _lock_held(path: Path) -> bool:
    """True while some process holds the flock on ``path``; a free lock is removed (its owner
    is dead for good: its random token never comes back)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    return False


def finish_events(store, kind: UnifiedJob, pk: int) -> None:
    """What must follow once every event of an ended job is stored: parents of failed/changed
    events flagged too, then ``event_processing_finished`` true."""
    q.propagate_event_flags(store, kind.events_table, kind.parent_col, pk)
    q.set_fields(store, kind.table, pk, {"event_processing_finished": True})


class Dispatcher:
    IDLE_SECONDS = 60.0     # a worker waiting this long for its turn to look closes its connection

    def __init__(self, state, kinds: Iterable[UnifiedJob], workers: int = 4, capacity: int = 0,
                 remote=None) -> None:
        self.state = state
        self.kinds = {kind.resource: kind for kind in kinds}
        self.local_workers = workers
        self.remote = remote    # controller.workers.follower.RemoteRuns, or None (embedded)
        # distributed: threads that claim (and run control-plane kinds: project and inventory
        # updates) even when this node runs no job itself
        self.workers = workers if remote is None else max(workers, 2)
        self.capacity = capacity or max(4, (os.cpu_count() or 1) * 8)
        self._used = 0
        self._claim_lock = threading.Lock()
        self._looking = threading.Lock()     # held by the one idle worker looking for a job (_next)
        self.writer = EventWriter(state.store)
        self._wake = threading.Condition()
        self._wakes = 0     # notify() calls so far: a worker sleeps only if none came since it looked
        self._stop = False
        self._stopped = threading.Event()   # what the daily retention run sleeps on (not the wakes)
        self._threads: list[threading.Thread] = []
        self._cancels: dict[tuple[str, int], threading.Event] = {}
        self.root = Path(state.settings.data_dir) / "runs"
        self.owners = self.root / ".owners"
        self.token = uuid.uuid4().hex
        self._lock_fd: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Take this process's owner lock, recover what a dead process left (``recover``),
        then start the event writer and the workers."""
        self.owners.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        # locked before it gets its name: a visible lock file is always held while its owner lives
        staging = self.owners / f".{self.token}"
        self._lock_fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(staging, self.owners / f"{self.token}.lock")
        if self.remote is not None:
            self.remote.attach(self)
        resumed = self.recover()
        self.writer.start()
        if self.remote is not None:
            self.remote.start(resumed.get("_remote", []))
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"turret-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._maintain, name="turret-cleanup", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop = True
        self._stopped.set()
        for ev in list(self._cancels.values()):
            ev.set()
        self.notify()
        if self.remote is not None:
            self.remote.stop()      # remote jobs go on: the next controller follows them again
        for t in self._threads:
            t.join(timeout=15)
        self.writer.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)   # releases the lock: our jobs are ended and their events stored
            self._lock_fd = None
            (self.owners / f"{self.token}.lock").unlink(missing_ok=True)

    def notify(self) -> None:
        with self._wake:
            self._wakes += 1
            self._wake.notify_all()

    def cancel(self, resource: str, pk: int) -> None:
        ev = self._cancels.get((resource, pk))
        if ev is not None:
            ev.set()
        if self.remote is not None:
            self.remote.cancel(resource, pk)

    # -- crash recovery ----------------------------------------------------------------------
    def recover(self) -> dict[str, list[int]]:
        """Finish what dead processes left, before any worker runs: jobs still waiting/running
        whose owner is gone get their processes ended and run folders removed, then are reaped
        to ``error``; jobs that ended (or were just reaped) with ``event_processing_finished``
        false get it, as the end of ``_run`` would have done.  Jobs of a live owner are left
        alone; a remote job whose run can be followed again is kept for that.  Returns
        {resource: reaped ids}, plus ``"_remote"``: the (kind, id) pairs to follow again."""
        store = self.state.store
        reaped: dict[str, list] = {"_remote": []}
        for kind in self.kinds.values():
            orphans = [pk for pk in q.left_running(store, kind.table) if not self._owned_by_live(kind, pk)]
            if self.remote is not None:
                kept = [pk for pk in orphans if self.remote.resumable(kind, pk)]
                reaped["_remote"] += [(kind, pk) for pk in kept]
                orphans = [pk for pk in orphans if pk not in kept]
            for pk in orphans:
                ended = processes.sweep_leftovers(self.root, f"{kind.resource}-{pk}")
                if ended:
                    log.warning("ended %d processes of %s %s left by a previous process", ended, kind.resource, pk)
            reaped[kind.resource] = q.reap(store, kind.table, orphans, REAPED)
            if reaped[kind.resource]:
                log.warning("reaped %s %s left running by a previous process", kind.resource, reaped[kind.resource])
            for pk in q.events_unfinished(store, kind.table):
                if not self._owned_by_live(kind, pk):
                    finish_events(store, kind, pk)
            for pk in reaped[kind.resource]:   # a reaped job has ended: its listeners hear it (notifications)
                job_ended(system_context(self.state), kind.resource, pk)
        for lock in self.owners.glob("*.lock"):
            _lock_held(lock)      # the locks of dead owners go
        return reaped

    def _own(self, kind: UnifiedJob, pk: int) -> None:
        """Mark job ``pk`` as this process's (from before its claim until its events are all
        stored): one marker per owner, so a sibling that loses the claim removes only its own."""
        (self.owners / f"{kind.resource}-{pk}.{self.token}").touch(mode=0o600)

    def _disown(self, kind: UnifiedJob, pk: int) -> None:
        (self.owners / f"{kind.resource}-{pk}.{self.token}").unlink(missing_ok=True)

    def _owned_by_live(self, kind: UnifiedJob, pk: int) -> bool:
        """True when a process that marked job ``pk`` still holds its owner lock (a sibling
        controller on the same data dir, or this one); markers of dead owners are removed."""
        alive = False
        for marker in self.owners.glob(f"{kind.resource}-{pk}.*"):
            token = marker.suffix[1:]
            if token == self.token or _lock_held(self.owners / f"{token}.lock"):
                alive = True
            else:
                marker.unlink(missing_ok=True)
        return alive

    def _maintain(self) -> None:
        """The daily retention run (KEEP_DAYS); the last run is remembered in the database so
        restarts do not repeat it and several processes do not all run it."""
        while not self._stop:
            try:
                if q.claim_daily(self.state.store, "last_cleanup", 86400):
                    counts = cleanup(system_context(self.state), self.state.settings.KEEP_DAYS)
                    log.info("daily cleanup: %s", counts)
            except Exception:  # noqa: BLE001 - retention must never take the dispatcher down
                log.exception("daily cleanup failed")
            # its own event, not the job wakes: every launch and every job's end notify() those
            self._stopped.wait(timeout=3600)

    # -- work loop ---------------------------------------------------------------------------
    def _claim(self) -> tuple[UnifiedJob, dict, int, bool] | None:
        """The oldest pending job that may start now, its impact here and whether it goes to a
        worker.  Jobs wait in order: when the oldest eligible one does not fit the remaining
        capacity, nothing younger jumps the queue."""
        store = self.state.store
        with self._claim_lock:
            candidates = []
            for kind in self.kinds.values():
                for row in q.pending(store, kind.table, 50):
                    candidates.append((row["created"] or "", row["id"], kind, row))
            if not candidates:
                return None
            ctx = system_context(self.state)
            for _created, _pk, kind, row in sorted(candidates, key=lambda c: (c[0], c[1])):
                if kind.blocked and kind.blocked(ctx, row):
                    continue
                impact = kind.impact(ctx, row) if kind.impact else 1
                full = bool(self._used and self._used + impact > self.capacity)
                if full and self.remote is None:
                    return None
                group = self._group_with_room(ctx, kind, row, impact)
                if group is False:
                    continue    # its instance group is full; jobs of other groups may go on
                remote = self.remote is not None and self.remote.goes_remote(ctx, kind, row, group, full)
                if full and not remote:
                    return None
                # marked before the claim: a sibling starting up meanwhile must not reap it
                self._own(kind, row["id"])
                if q.claim(store, kind.table, row["id"], self.state.node_name):
                    fields: dict[str, object] = {"instance_group": group} if group is not None else {}
                    if remote:
                        fields["execution_node"] = ""     # the worker whose claim wins sets it
                    if fields:
                        q.set_fields(store, kind.table, row["id"], fields)
                    if remote:
                        return kind, row, 0, True
                    self._used += impact
                    return kind, row, impact, False
                self._disown(kind, row["id"])
            return None

    def _group_with_room(self, ctx, kind: UnifiedJob, row: dict, impact: int) -> int | None | bool:
        """The instance group ``row`` runs in (None: its kind records none), or False while
        that group's max_concurrent_jobs / max_forks leave no room for it."""
        if not instance_sql.has_column(ctx.store, kind.table, "instance_group"):
            return None
        group = instances.choose_instance_group(ctx, row)
        by_table = {k.table: k for k in self.kinds.values()}

        def impact_of(table: str, job: dict) -> int:
            other = by_table.get(table)
            return int(other.impact(ctx, job)) if other is not None and other.impact else 1
        if not instances.has_room(ctx, group, row, impact, list(by_table), impact_of):
            return False
        return group

    def _work(self) -> None:
        while not self._stop:
            if not self._looking.acquire(timeout=self.IDLE_SECONDS):
                # idle that long: close this thread's connection (its cache, its parsed schema);
                # a busy worker keeps its own warm, with the statements a job's run prepares
                self.state.store.release()
                self._looking.acquire()
            try:
                claimed = self._next()
            finally:
                self._looking.release()
            if claimed is None:
                continue    # stopping
            kind, row, impact, remote = claimed
            try:
                if remote:
                    self.remote.send(kind, row)
                else:
                    self._run(kind, row)
            except Exception:  # noqa: BLE001
                log.exception("job %s %s crashed the worker", kind.resource, row["id"])
                q.set_fields(self.state.store, kind.table, row["id"], {
                    "status": "error", "failed": True, "finished": now_iso(),
                    "job_explanation": "The job failed to run.", "result_traceback": traceback.format_exc(),
                    "event_processing_finished": True})
                self._disown(kind, row["id"])
                job_ended(system_context(self.state), kind.resource, row["id"])
            finally:
                with self._claim_lock:
                    self._used -= impact
                self.notify()   # capacity freed, and jobs waiting on this one may start

    def _next(self) -> tuple[UnifiedJob, dict, int, bool] | None:
        """The next job for this idle worker: looks (``_claim``) until one may start, on each
        ``notify()`` and every second; None once stopping.  One idle worker looks at a time
        (``_looking``) and the others wait for it without a query: a wake costs one look, not
        one per idle worker.  A worker waiting its turn for ``IDLE_SECONDS`` closes its database
        connection (``_work``): of the workers idle that long, only the one looking holds one."""
        while not self._stop:
            with self._wake:
                seen = self._wakes
            try:
                claimed = self._claim()
            except Exception:  # noqa: BLE001 - a locked database must not kill the worker
                log.exception("claiming a job failed")
                claimed = None
            if claimed is not None:
                return claimed
            with self._wake:
                # a notify() that came while we looked (a job queued just after our query)
                # must not wait out the poll interval
                if not self._stop and self._wakes == seen:
                    self._wake.wait(timeout=1.0)
        return None

    def prepare(self, kind: UnifiedJob, row: dict) -> RunSpec | None:
        """The run of ``row`` (its kind's ``prepare`` with the run settings); None when it
        cannot run: the job is then ended ``error`` with the reason."""
        ctx = system_context(self.state)
        pk = row["id"]
        assert kind.prepare is not None, "the dispatcher runs only kinds that run a process"
        try:
            return apply_run_settings(ctx.settings, kind.resource, kind.prepare(ctx, row))
        except (JobError, VarsError) as exc:    # e.g. stored variables that expand beyond the bound
            q.set_fields(self.state.store, kind.table, pk, {
                "status": "error", "failed": True, "finished": now_iso(), "job_explanation": str(exc),
                "event_processing_finished": True})
            self._disown(kind, pk)
            job_ended(ctx, kind.resource, pk)
            return None

    def event_sink(self, kind: UnifiedJob, pk: int, spec: RunSpec, run_data: dict, writer=None):
        """The event handler of one run of job ``pk`` (``writer``: the event writer, or a
        stand-in that drops what is stored already)."""
        host_ids = spec.meta.get("host_ids", {})
        return event_handler(writer or self.writer, kind.events_table, kind.parent_col, pk,
                             pattern=secret_pattern(spec.secrets),
                             host_ids=host_ids if kind.events_have_host else None, run_data=run_data)

    def complete(self, kind: UnifiedJob, row: dict, result: RunResult, run_data: dict, started: float,
                 only_if_started: bool = False) -> None:
        """Record the end of a run: the kind's ``finish``, then (once every event is stored)
        the final fields, the events' completion and the job's end.  ``only_if_started``:
        leave a job someone else ended meanwhile as it is."""
        store, ctx, pk = self.state.store, system_context(self.state), row["id"]
        final = {
            "status": result.status, "failed": result.status != "successful", "finished": now_iso(),
            "elapsed": round(time.time() - started, 3), "job_args": result.job_args, "job_cwd": result.job_cwd,
            "job_env": result.job_env, "job_explanation": result.explanation}
        if kind.finish:
            final.update(kind.finish(ctx, row, result, run_data) or {})
        # the final status only once every event of the run is committed: a crash can then never
        # leave an ended job with events missing, only (between the two writes) the flag unset: start-up sets it
        stored = self.writer.wait_settled((kind.events_table, kind.parent_col, pk), timeout=60, final=True)
        if stored is None:
            log.error("events of %s %s not stored within 60 s", kind.resource, pk)
        elif not stored:      # the job ends all the same (a lost event must not hang it), saying so
            log.error("some events of %s %s could not be stored (see turret.events)", kind.resource, pk)
            final["job_explanation"] = f"{final.get('job_explanation') or ''} {LOST_EVENTS}".lstrip()
        if only_if_started and not q.end_if_started(store, kind.table, pk, final):
            self._disown(kind, pk)      # whoever ended it completed it and announced its end
            return
        if not only_if_started:
            q.set_fields(store, kind.table, pk, final)
        finish_events(store, kind, pk)
        self._disown(kind, pk)
        job_ended(ctx, kind.resource, pk)

    def _run(self, kind: UnifiedJob, row: dict) -> None:
        store = self.state.store
        ctx = system_context(self.state)
        pk = row["id"]
        spec = self.prepare(kind, row)
        if spec is None:
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
        on_event = self.event_sink(kind, pk, spec, run_data)

        def on_start() -> None:
            q.set_fields(store, kind.table, pk, {"status": "running", "started": now_iso()})
            job_started(ctx, kind.resource, pk)

        result = executor.run(spec, self.root, on_event, should_cancel, on_start=on_start)
        self._cancels.pop((kind.resource, pk), None)
        self.complete(kind, row, result, run_data, started)

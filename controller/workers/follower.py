"""The controller's remote runs: which jobs go to workers, sending them, and one follower thread
per remote job feeding its worker's frames into the dispatcher's event path.

Contracts (the dispatcher calls these; see ``controller.jobs.dispatcher``):

* :meth:`RemoteRuns.goes_remote`: a job or ad hoc command goes to a worker unless its instance
  group holds this node (enabled), this node runs jobs (``JOB_WORKERS`` > 0) and has room.
  Project, inventory and system jobs always run on the controller (they write its files).
* :meth:`RemoteRuns.send` prepares the run as for a local one, transmits it (project and
  credential files inside), records what a follower needs to resume (``<runs>/<ident>-remote/
  follow.json``, 0600: it holds the secrets to scrub), sends the task and starts the follower.
* The follower grants a worker's claim in the database (``store.jobs.claim_remote``, only for
  an enabled worker), passes cancels on, and completes the job as the dispatcher completes a
  local one, unless someone else ended it (the fleet monitor: worker lost).
* :meth:`RemoteRuns.stop` detaches every follower: their jobs go on on their workers and the
  next controller on this data dir follows them again (:meth:`resumable`), replaying what is
  left of each stream; events already stored are dropped (their counters are known).
* While a job runs, the entries of the events stored (committed by the event writer) are
  deleted from its stream (:class:`_SkipStored` is the stream's trimmer), so the broker holds
  only what this controller has not stored yet; those of events the writer gave up on stay.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..jobs import executor
from ..jobs.control import job_started
from ..jobs.spec import RunResult, RunSpec
from ..services import instances
from ..services.bootstrap import system_context
from ..store import instances as instance_sql
from ..store import jobs as q
from . import fleet
from .transport import Broker, Frames

log = logging.getLogger("turret.workers")
REMOTE_KINDS = ("job", "ad_hoc_command")
_RESUME_FIELDS = ("ident", "kind", "timeout", "idle_timeout", "secrets", "meta")
TRIM_EVERY, TRIM_BATCH = 0.5, 1000     # how often a followed stream is trimmed (seconds, events)


class _SkipStored:
    """An event writer stand-in that drops the events of a job stored already (a replay), and
    the job stream's :class:`~.transport.Trimmer`: it notes the entry each event came from
    (``frames.consumed_id``: runner hands an event on right after reading its line) and, once
    the writer has handled everything queued before, hands to ``take()`` the entries whose
    events are stored: those of an event the writer gave up on stay in the stream, so a
    controller following it again replays them.  The stats event's entry is never trimmed: a
    controller following the stream again needs it (the job's stats and artifacts come from
    it, not from the stored row).  ``seal`` asks the writer at most every ``TRIM_EVERY``
    seconds (or ``TRIM_BATCH`` events): its barrier flushes the writer's batch at once, and one
    more commit a second per job is the price.  ``scope``: the job's events (table, parent
    column, id), as the writer's :meth:`~controller.jobs.event_writer.EventWriter.settle` takes it."""

    def __init__(self, writer: Any, stored: set[int], scope: tuple[str, str, int]) -> None:
        self.writer, self.stored, self.scope = writer, stored, scope
        self.frames: Frames | None = None
        self._pending: list[tuple[str, Any]] = []     # (entry, counter) of the events read since a seal
        self._committed: deque[list[str]] = deque()    # filled in the writer's thread
        self._sealed = time.monotonic()

    def put(self, table: str, row: dict) -> None:
        counter = row.get("counter")
        if counter not in self.stored:
            self.writer.put(table, row)
        entry = self.frames.consumed_id if self.frames is not None else ""
        if entry and row.get("event") != "playbook_on_stats":
            self._pending.append((entry, counter))

    def seal(self) -> None:
        if len(self._pending) >= TRIM_BATCH or (self._pending and time.monotonic() - self._sealed >= TRIM_EVERY):
            self._sealed = time.monotonic()
            pending, self._pending = self._pending, []
            self.writer.settle(self.scope, lambda ok: self._committed.append(self._trimmable(pending, ok)))

    def _trimmable(self, pending: list[tuple[str, Any]], ok: bool) -> list[str]:
        """The entries of ``pending`` whose events are stored (in the writer's thread, right
        after they were handled): all when the writer lost none of the job's events, else
        those of no lost event, and none when the writer cannot tell."""
        if ok:
            return [entry for entry, _ in pending]
        lost = self.writer.given_up(self.scope, "counter")
        if lost is None:
            return []
        keep = {entry for entry, counter in pending if counter in lost}
        return [entry for entry, _ in pending if entry not in keep]

    def take(self) -> list[str]:
        done: list[str] = []
        while self._committed:
            done += self._committed.popleft()
        return done


class RemoteRuns:
    def __init__(self, broker_url: str) -> None:
        self.broker = Broker(broker_url)
        self.dispatcher: Any = None
        self.monitor: fleet.Monitor | None = None
        self._follows: dict[tuple[str, int], Frames] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, int], int] = {}    # ad hoc command -> the group it goes to

    # -- lifecycle (called by the dispatcher) -----------------------------------------------
    def attach(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher

    def start(self, resume: list[tuple[Any, int]]) -> None:
        """Follow again the remote jobs a previous controller left, start the fleet monitor."""
        for kind, pk in resume:
            self._resume(kind, pk)
        self.monitor = fleet.Monitor(self.dispatcher.state, self.broker.celery)
        self.monitor.start()

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        with self._lock:
            frames = list(self._follows.values())
        for f in frames:
            f.stopping.set()
        for t in self._threads:
            t.join(timeout=10)
        self.broker.close()

    def cancel(self, resource: str, pk: int) -> None:
        if (resource, pk) in self._follows:
            self.broker.cancel(resource, pk)

    # -- placement ---------------------------------------------------------------------------
    def goes_remote(self, ctx, kind: Any, row: dict, group: int | None, local_full: bool) -> bool:
        """Does ``row`` (just chosen, ``group`` its recorded instance group or None) go to a
        worker?  A kind that records no group (ad hoc commands) is routed by AWX's
        precedence all the same (remembered for :meth:`send`)."""
        if kind.resource not in REMOTE_KINDS:
            return False
        if group is None:
            group = instances.choose_instance_group(ctx, row)
            if group is not None:
                self._routes[(kind.resource, row["id"])] = group
        if self.dispatcher.local_workers <= 0 or local_full:
            return True
        if group is None:
            return False
        members = instance_sql.group_instances(ctx.store, [group]).get(group, [])
        return not any(m["hostname"] == self.dispatcher.state.node_name and m.get("enabled") for m in members)

    # -- sending -----------------------------------------------------------------------------
    def _follow_file(self, ident: str) -> Path:
        return Path(self.dispatcher.root) / f"{ident}-remote" / "follow.json"

    def send(self, kind: Any, row: dict) -> None:
        """Transmit job ``row`` to its group's queue and follow it (see the module contract)."""
        d, store, pk = self.dispatcher, self.dispatcher.state.store, row["id"]
        row = store.get(kind.table, pk) or row     # as claimed: its instance group chosen
        spec = d.prepare(kind, row)
        if spec is None:
            return
        started = time.time()
        try:
            payload, env = executor.transmit(spec, d.root)
        except Exception as exc:  # noqa: BLE001 - a run that cannot be packed ends as an error
            log.exception("transmitting %s %s failed", kind.resource, pk)
            d.complete(kind, row, RunResult(status="error", rc=None, explanation=f"{type(exc).__name__}: {exc}"),
                       {"artifacts": {}, "stats": {}, "meta": spec.meta}, started)
            return
        gid = row.get("instance_group") or self._routes.pop((kind.resource, pk), None)
        group = store.get("instance_groups", gid) if gid else None
        queue = (group or {}).get("name") or "default"
        path = self._follow_file(spec.ident)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"spec": {k: v for k, v in asdict(spec).items() if k in _RESUME_FIELDS}, "env": env,
                       "started": started}, fh, default=str)
        self.broker.dispatch(kind.resource, pk, payload, queue)
        del payload
        self._spawn(kind, row, spec, env, started, claimed=False, worker="")

    # -- resuming ----------------------------------------------------------------------------
    def resumable(self, kind: Any, pk: int) -> bool:
        """Was job ``pk`` sent to a worker by this data dir's controller, and can its run be
        followed again (its stream still exists, or the broker cannot tell now)?"""
        if kind.resource not in REMOTE_KINDS or not self._follow_file(f"{kind.resource}-{pk}").exists():
            return False
        try:
            return self.broker.is_remote(kind.resource, pk)
        except Exception:  # noqa: BLE001 - a broker restarting says nothing of the run: follow it
            log.warning("broker unreachable: %s %s is followed once it is back", kind.resource, pk)
            return True

    def _resume(self, kind: Any, pk: int) -> None:
        d = self.dispatcher
        row = d.state.store.get(kind.table, pk)
        saved = json.loads(self._follow_file(f"{kind.resource}-{pk}").read_text())
        spec = RunSpec(**saved["spec"])
        d._own(kind, pk)
        log.info("following %s %s again (left by a previous controller)", kind.resource, pk)
        self._spawn(kind, row, spec, saved["env"], float(saved["started"]),
                    claimed=row["status"] == "running", worker=row.get("execution_node") or "")

    # -- following ---------------------------------------------------------------------------
    def _spawn(self, kind: Any, row: dict, spec: RunSpec, env: dict, started: float, *, claimed: bool,
               worker: str) -> None:
        t = threading.Thread(target=self._follow, args=(kind, row, spec, env, started, claimed, worker),
                             name=f"turret-follow-{kind.resource}-{row['id']}", daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _follow(self, kind: Any, row: dict, spec: RunSpec, env: dict, started: float, claimed: bool,
                worker: str) -> None:
        try:
            self._follow_run(kind, row, spec, env, started, claimed, worker)
        except Exception:  # noqa: BLE001 - a follower must never die silently
            log.exception("following %s %s failed", kind.resource, row["id"])
            self.dispatcher.complete(kind, row, RunResult(status="error", rc=None, explanation=(
                "The controller failed to follow the job's run.")), {"artifacts": {}, "stats": {}, "meta": spec.meta},
                started, only_if_started=True)

    def _follow_run(self, kind: Any, row: dict, spec: RunSpec, env: dict, started: float, claimed: bool,
                    worker: str) -> None:
        d, pk = self.dispatcher, row["id"]
        store, ctx = d.state.store, system_context(d.state)
        run_data: dict = {"artifacts": {}, "stats": {}, "meta": spec.meta}
        stored = q.event_counters(store, kind.events_table, kind.parent_col, pk)
        writer = _SkipStored(d.writer, stored, (kind.events_table, kind.parent_col, pk))
        on_event = d.event_sink(kind, pk, spec, run_data, writer=writer)
        sent_cancel = [False]

        def canceled() -> bool:
            flagged = q.cancel_requested(store, kind.table, pk)
            if flagged and not sent_cancel[0]:
                sent_cancel[0] = True
                self.broker.cancel(kind.resource, pk)
            return flagged

        def grant(name: str) -> bool:
            if not name or not fleet.worker_enabled(store, name):
                if q.status_of(store, kind.table, pk) == "waiting":
                    frames.requeue()    # a disabled worker's refusal must not strand the job
                return False
            if q.claim_remote(store, kind.table, pk, name):
                job_started(ctx, kind.resource, pk)
                return True
            return False

        def ended() -> bool:
            return q.status_of(store, kind.table, pk) not in ("waiting", "running")

        frames = Frames(self.broker, kind.resource, pk, grant=grant, canceled=canceled, ended=ended,
                        claimed=claimed, trimmer=writer)
        frames.worker = worker
        writer.frames = frames
        with self._lock:
            self._follows[(kind.resource, pk)] = frames
        try:
            result = executor.process(spec, d.root, frames, on_event, env, canceled, time.monotonic(),
                                      lambda: frames.rc)
        finally:
            with self._lock:
                self._follows.pop((kind.resource, pk), None)
        if frames.detached and frames.stopping.is_set():
            return      # this controller stops: the job goes on, the next one follows it
        if frames.explanation:
            result.explanation = frames.explanation
        if not frames.detached:
            d.complete(kind, row, result, run_data, started, only_if_started=True)
        else:       # ended by someone else (worker lost): only what this controller holds goes
            for folder in spec.meta.get("cleanup") or []:
                shutil.rmtree(folder, ignore_errors=True)
            d._disown(kind, pk)
        try:
            self.broker.forget(kind.resource, pk)
        except Exception:  # noqa: BLE001 - the keys expire anyway
            log.warning("cleaning the broker keys of %s %s failed", kind.resource, pk)
        shutil.rmtree(self._follow_file(spec.ident).parent, ignore_errors=True)

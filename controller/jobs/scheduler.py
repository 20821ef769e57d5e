"""The scheduler: :func:`tick` fires what is due; :class:`Scheduler` calls it from one thread.

Contracts:
  * ``tick(ctx, now)`` reads no clock: ``now`` (aware) is the only time it knows, so tests and
    simulations drive it with fixed times.  It returns what it fired.
  * Exactly once, with any number of processes on one database: in ONE write transaction a
    firing process compare-and-sets ``next_run`` from the occurrence to the next one, inserts
    ``(schedule, fire_time)`` into the ``schedule_fires`` ledger (primary key) and creates the
    job.  A crash before the commit leaves nothing behind and the occurrence still due; a second
    process loses the compare-and-set or the ledger insert and fires nothing.
  * Missed occurrences are not fired in a burst: the next run is always the first occurrence
    after ``now``, and an occurrence more than ``grace`` seconds old (the controller was down) is
    skipped rather than fired late.  A process taking over from a crashed leader (lease expiry
    plus a tick, well inside the grace) still fires the occurrence that leader missed.
  * A template starts through its kind's declared ``UnifiedJob.start`` (``scheduled``, the
    schedule's prompts as the body, ``launched_by`` the schedule and ``job.schedule`` set where
    the job has that field): a job template's is :func:`~controller.jobs.launch.launch_job`
    (prompts filtered by the template's ask_* flags and survey as at save time), a project's or
    inventory source's queues an update.  A start that raises leaves what the kind's
    ``record_failure`` records (a job template's: a job in ``error`` with the reason).
  * A job or workflow template that already has ``SCHEDULE_MAX_JOBS`` jobs pending, waiting or
    running is not started again: the occurrence is skipped (AWX's rule), the schedule moves on.
  * :class:`Scheduler` holds a lease (``leases`` table, renewed every tick) so one process is
    the active firer; the lease is an economy, the ledger is the guarantee.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import datetime, timezone
from typing import Callable

from .. import metrics
from ..errors import APIError, ValidationError, explain
from ..services import rrules
from ..services.bootstrap import system_context
from ..services.schedule_prompts import launch_body
from ..services.settings_runs import schedule_blocked
from ..store import schedules as sq

log = logging.getLogger("turret.scheduler")
LEASE = "scheduler"


def _reason(exc: Exception) -> str:
    return "Scheduled launch failed: " + explain(exc)


def _launch(ctx, row: dict) -> tuple[str, dict | None]:
    """Start the schedule's template; (unified job type, the job row or None)."""
    kind = ctx.registry.unified_job_of(row.get("unified_job_template_type") or "job_template")
    template = ctx.store.get(ctx.registry[kind.template].table, row["unified_job_template"]) if kind else None
    if template is None:
        log.warning("schedule %s: its template %s no longer exists", row["id"], row["unified_job_template"])
        return (kind.resource if kind else "job"), None
    extra = {"launched_by_id": row["id"], "launched_by_type": "schedule"}
    if ctx.registry[kind.resource].field("schedule") is not None:
        extra["schedule"] = row["id"]
    try:
        with sq.savepoint(ctx.store):
            job = kind.start(ctx, template, launch_type="scheduled", body=launch_body(ctx, row), extra_fields=extra)
    except Exception as exc:  # noqa: BLE001 - a broken launch must not stop the schedule
        if kind.record_failure is None:
            raise
        if not isinstance(exc, APIError):
            log.exception("schedule %s: starting %s %s crashed", row["id"], kind.template, template["id"])
        job = kind.record_failure(ctx, template, _reason(exc), extra)
    return kind.resource, job


def _fire(ctx, row: dict, now: datetime, node: str, grace: float) -> dict | None:
    due_at = row["next_run"]                          # the stored form: the compare-and-set's value
    fire_time = rrules.rendered_z(due_at)  # the ledger's and the caller's (AWX's rendering)
    try:
        following = rrules.stored_z(rrules.next_after(rrules.parse(row["rrule"]), now))
    except ValidationError:
        log.error("schedule %s has an invalid rule %r; it will not run again", row["id"], row["rrule"])
        following = None
    late = (now - rrules.parse_z(fire_time)).total_seconds()
    with ctx.store.transaction():
        if not sq.advance(ctx.store, row["id"], due_at, following):
            return None                                  # another process moved it on
        if late > grace:
            log.warning("schedule %s: occurrence %s missed by %.0fs (controller down?) is skipped; next run %s",
                        row["id"], fire_time, late, following)
            return None
        if schedule_blocked(ctx, row):
            log.warning("schedule %s: its template has SCHEDULE_MAX_JOBS jobs waiting; occurrence %s skipped",
                        row["id"], fire_time)
            return None
        if not sq.record_fire(ctx.store, row["id"], fire_time, node, rrules.iso_z(now)):
            return None                                  # already fired, ever
        job_type, job = _launch(ctx, row)
        sq.set_fire_job(ctx.store, row["id"], fire_time, job_type, job["id"] if job else None)
    metrics.count_schedule_fire()    # after the commit: a rolled-back fire is not counted
    if ctx.jobs is not None:
        ctx.jobs.notify()
    return {"schedule": row["id"], "fire_time": fire_time,
            "next_run": rrules.rendered_z(following) if following else None, "job_type": job_type,
            "job": job["id"] if job else None, "status": job["status"] if job else "error"}


def tick(ctx, now: datetime, node: str = "", grace: float = 90.0) -> list[dict]:
    """Fire every enabled schedule whose ``next_run`` is at or before ``now``; returns one
    ``{schedule, fire_time, next_run, job_type, job, status}`` per occurrence fired."""
    fired = []
    for row in sq.due(ctx.store, rrules.stored_z(now)):
        try:
            result = _fire(ctx, row, now, node, grace)
        except Exception:  # noqa: BLE001 - one bad schedule must not block the others
            log.exception("firing schedule %s failed", row["id"])
            continue
        if result is not None:
            fired.append(result)
    return fired


def run_tick_hooks(ctx, now: datetime) -> None:
    """The registry's ``tick_hooks`` at ``now`` (clock-driven work such as approval timeouts);
    one that fails is logged and the others still run."""
    for hook in ctx.registry.tick_hooks:
        try:
            hook(ctx, now)
        except Exception:  # noqa: BLE001 - one failing hook must not stop the schedules
            log.exception("tick hook %s failed", getattr(hook, "__name__", hook))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Scheduler:
    """The thin thread: take or renew the lease, tick, sleep until the next run (at most
    ``interval`` seconds, so the lease is renewed long before it expires)."""

    def __init__(self, state, interval: float | None = None, lease_seconds: float | None = None,
                 grace: float | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        settings = state.settings
        self.state = state
        self.interval = interval if interval is not None else 1.0
        self.lease_seconds = lease_seconds if lease_seconds is not None else settings.SCHEDULER_LEASE_SECONDS
        self.grace = grace if grace is not None else settings.SCHEDULER_MISFIRE_GRACE
        self.clock = clock
        self.holder = f"{state.node_name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> list[dict]:
        """One step of the loop at ``now`` (default: the clock)."""
        now = now or self.clock()
        self.leader = sq.acquire_lease(self.state.store, LEASE, self.holder, now.timestamp(), self.lease_seconds)
        if not self.leader:
            return []
        ctx = system_context(self.state)
        fired = tick(ctx, now, node=self.holder, grace=self.grace)
        run_tick_hooks(ctx, now)
        return fired

    def _sleep_for(self) -> float:
        if not self.leader:
            return self.interval
        earliest = sq.earliest_next_run(self.state.store)
        if earliest is None:
            return self.interval
        wait = (rrules.parse_z(earliest) - self.clock()).total_seconds()
        return min(self.interval, max(0.05, wait))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                pause = self._sleep_for()
            except Exception:  # noqa: BLE001 - a locked database must not kill the scheduler
                log.exception("scheduler tick failed")
                pause = self.interval
            self._stop.wait(pause)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="turret-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        try:
            sq.release_lease(self.state.store, LEASE, self.holder)
        except Exception:  # noqa: BLE001 - the lease expires anyway
            log.exception("releasing the scheduler lease failed")

"""The controller's view of its ``turret worker``s: a monitor thread (started by the dispatcher
when a broker is configured) that mirrors the workers' registrations into AWX instances,
drains disabled ones and ends the jobs of lost ones.

Contracts:
  * Every ``PERIOD`` seconds: each live registration (``keys.worker``) is mirrored into its
    ``execution`` instance (``services.instances.register_worker``: capacity, CPUs, memory,
    heartbeat, groups from its queues); an instance whose registration is gone is lost
    (capacity 0, ``node_state`` unavailable).  A lost worker's instance is removed
    over the API (``node_state`` ``deprovisioning``); one that registers again is new.
  * Drain: a disabled worker is told to stop consuming its queues (Celery
    ``control.cancel_consumer``; the jobs it runs finish), a re-enabled one to consume them
    again (``add_consumer``); commands are repeated until the worker reports the wanted
    queues, so a worker that restarts or missed a broadcast is steered again.  The claim check
    refuses a disabled worker too (:func:`worker_enabled`).
  * Loss: every job running on a lost worker ends ``error`` with an explanation naming the
    worker (compare-and-set: only a job still waiting/running), its cancel key is
    set (a worker still alive stops it), and it is never re-run.  A worker killed mid-job is
    so ended within TTL + PERIOD (≈ 17 s) of its death.  A remote job whose own heartbeat
    stops while its worker still registers is ended by its follower (``transport``), the one
    place that watches a job's heartbeat.
  * The broker being unreachable is no evidence of loss: nothing is declared lost until
    Redis has answered for ``LOSS_GRACE`` seconds (longer than a registration's TTL, so
    every live worker had time to refresh after an outage).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from celery import Celery

from ..jobs.control import job_ended
from ..services import instances
from ..services.bootstrap import system_context
from ..store import instances as instance_sql
from ..store import jobs as q
from . import keys, registration

log = logging.getLogger("turret.workers")
PERIOD = 2.0
LOSS_GRACE = registration.TTL + 1.0
STEER_REPEAT = 10.0
WORKER_LOST = ("Job terminated because worker {name} was lost (no heartbeat for {ttl} s); "
               "it was not re-run.")


def worker_enabled(store, name: str) -> bool:
    """May worker ``name`` claim a job now?  (the claim check's question; see
    ``services.instances.worker_enabled``)."""
    return instances.worker_enabled(store, name)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _names(text: Any) -> list[str]:
    return [part for part in str(text or "").split(",") if part]


class Monitor:
    """The fleet monitor of one controller process (see the module contract)."""

    def __init__(self, state, celery_app: Celery) -> None:
        self.state = state
        self.app = celery_app
        self.client = registration.redis_client(str(celery_app.conf.broker_url))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reachable_since: float | None = None
        self._seen: dict[str, str] = {}                       # worker -> its last mirrored "seen"
        self._steered: dict[str, tuple[tuple, float]] = {}    # worker -> (last command, when)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="turret-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PERIOD + 10)
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except redis.RedisError as exc:
                self._reachable_since = None
                log.warning("fleet monitor: broker unreachable: %s", exc)
            except Exception:  # noqa: BLE001 - the monitor must outlive any one bad pass
                log.exception("fleet monitor pass failed")
            self._stop.wait(PERIOD)

    # -- one pass ----------------------------------------------------------------------------
    def run_once(self) -> None:
        """Mirror, steer, and end what was lost (raises ``redis.RedisError`` when the broker
        cannot be read: then nothing is changed)."""
        live = self._registrations()
        now = time.monotonic()
        if self._reachable_since is None:
            self._reachable_since = now
        ctx = system_context(self.state)
        for name, info in live.items():
            inst = self._mirror(ctx, name, info)
            if inst is not None:
                self._steer(name, inst, info, now)
        if now - self._reachable_since < LOSS_GRACE:
            return
        for inst in instances.worker_instances(ctx):
            if inst["hostname"] in live:
                continue
            if inst["node_state"] != "unavailable":
                log.warning("worker %s lost: no registration in the broker", inst["hostname"])
                instances.lose_worker(ctx, inst)
            self._seen.pop(inst["hostname"], None)
            for kind, pk in self._active_on(inst["hostname"], ("waiting", "running")):
                self._end(ctx, kind, pk, WORKER_LOST.format(name=inst["hostname"], ttl=registration.TTL))

    def _registrations(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for key in self.client.scan_iter(match=keys.WORKER_PATTERN, count=100):
            raw: dict[Any, Any] = dict(self.client.hgetall(key))
            info = {_text(k): _text(v) for k, v in raw.items()}
            if info.get("name"):
                found[info["name"]] = info
        return found

    def _mirror(self, ctx, name: str, info: dict[str, str]) -> dict | None:
        """The worker's instance, re-mirrored when the worker refreshed since the last pass."""
        if self._seen.get(name) == info.get("seen"):
            inst = instance_sql.instance_named(ctx.store, name)
            return inst if inst is not None and inst["node_type"] == "execution" else None
        inst = instances.register_worker(ctx, name, info)
        if inst is None:
            log.warning("worker %s has the name of a %s instance: give it another --name", name,
                        (instance_sql.instance_named(ctx.store, name) or {}).get("node_type"))
            return None
        self._seen[name] = info.get("seen", "")
        return inst

    def _steer(self, name: str, inst: dict, info: dict[str, str], now: float) -> None:
        """Drain a disabled worker, refill a re-enabled one (see the module contract)."""
        if info.get("ready") != "1":
            return
        consuming, configured = _names(info.get("consuming")), _names(info.get("queues"))
        enabled = bool(inst["enabled"])
        todo = [q for q in configured if q not in consuming] if enabled else consuming
        if not todo:
            self._steered.pop(name, None)
            return
        command = (enabled, tuple(todo))
        last = self._steered.get(name)
        if last is not None and last[0] == command and now - last[1] < STEER_REPEAT:
            return
        node = info.get("node") or registration.celery_node(name)
        for queue in todo:
            if enabled:
                self.app.control.add_consumer(queue, destination=[node])
            else:
                self.app.control.cancel_consumer(queue, destination=[node])
        log.info("worker %s %s queues %s", name, "resumes" if enabled else "drains", ",".join(todo))
        self._steered[name] = (command, now)

    # -- lost jobs ---------------------------------------------------------------------------
    def _kinds(self) -> list:
        return [k for k in self.state.registry.process_jobs()
                if instance_sql.has_column(self.state.store, k.table, "execution_node")]

    def _active_on(self, node: str, statuses: tuple[str, ...]) -> list[tuple[Any, int]]:
        return [(kind, row["id"]) for kind in self._kinds()
                for row in instance_sql.active_where(self.state.store, kind.table, "execution_node", node)
                if row["status"] in statuses]

    def _end(self, ctx, kind, pk: int, explanation: str) -> None:
        """End job ``pk`` as ``error`` (only if still waiting/running), tell a worker still
        running it to stop, complete its events and announce its end."""
        if not q.reap(self.state.store, kind.table, [pk], explanation):
            return
        log.warning("%s %s ended: %s", kind.resource, pk, explanation)
        try:
            self.client.set(keys.cancel(kind.resource, pk), "1", ex=24 * 3600)
        except redis.RedisError as exc:
            log.warning("cancel of %s %s not sent: %s", kind.resource, pk, exc)
        q.propagate_event_flags(self.state.store, kind.events_table, kind.parent_col, pk)
        q.set_fields(self.state.store, kind.table, pk, {"event_processing_finished": True})
        job_ended(ctx, kind.resource, pk)   # its listeners (notifications, workflows) hear it

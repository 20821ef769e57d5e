"""``turret worker``: one execution node.  A Celery worker on the broker's queues (one queue per
instance group) that runs jobs sent by the controller, registered as an AWX ``execution``
instance through the broker.

Contracts:
  * The worker needs no database and no access to the controller's files: the broker URL is
    all it is told; ``data_dir`` is its scratch space (private data dirs of the jobs it runs,
    mode 0700).
  * Its Celery node name is ``celery@<name>`` (:func:`registration.celery_node`); its pool is
    ``threads`` (each task only relays an ``ansible-runner worker`` subprocess, so none of
    prefork's pitfalls with Ansible's own processes apply).
  * It registers itself before it consumes and removes its registration when it stops
    cleanly: SIGTERM is Celery's warm shutdown (running jobs finish first); SIGKILL leaves the
    registration to expire, and the controller ends its jobs as ``error``.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from celery import signals

from ..services import instances
from . import registration, task
from .app import make_celery

log = logging.getLogger("turret.workers")


@dataclass
class WorkerOptions:
    """What ``turret worker`` was asked for (defaults are decided in :func:`run`)."""

    broker_url: str
    queues: list[str] = field(default_factory=lambda: [instances.DEFAULT_GROUP])
    concurrency: int = 0          # 0: derived from the capacity (registration.default_concurrency)
    name: str = ""                # empty: this machine's hostname
    data_dir: Path | None = None
    loglevel: str = "INFO"


class _Consumer:
    """The queues the Celery consumer takes tasks from right now (None until it is ready)."""

    def __init__(self) -> None:
        self.consumer = None
        self._lock = threading.Lock()

    def ready(self, sender) -> None:
        with self._lock:
            self.consumer = sender

    def queues(self) -> list[str] | None:
        with self._lock:
            consumer = self.consumer
        task_consumer = getattr(consumer, "task_consumer", None)
        if task_consumer is None:
            return None
        return sorted({q.name for q in list(task_consumer.queues)})


def parse_queues(text: str) -> list[str]:
    """Comma-separated instance-group names, deduplicated, in order; at least ``default``."""
    out: list[str] = []
    for name in (part.strip() for part in (text or "").split(",")):
        if name and name not in out:
            out.append(name)
    return out or [instances.DEFAULT_GROUP]


def run(options: WorkerOptions) -> int:
    """Register, consume until a shutdown signal, leave the registration; the exit code."""
    if not options.broker_url:
        raise ValueError("a broker URL is required (--broker or TURRET_BROKER_URL)")
    name = options.name or instances.node_name()
    data_dir = Path(options.data_dir or Path.cwd() / "turret-worker").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)       # job payloads (secrets included) are unpacked here
    measured = instances.measure()
    concurrency = options.concurrency or registration.default_concurrency(measured)
    app = make_celery(options.broker_url)
    # a worker outlives any broker outage: it reconnects for ever instead of exiting
    app.conf.broker_connection_max_retries = None
    task.register(app, name=name, data_dir=str(data_dir))
    consumer = _Consumer()
    info = registration.describe(name, options.queues, concurrency, measured)
    client = registration.redis_client(options.broker_url)
    reg = registration.Registration(client, info, consumer.queues)

    def on_ready(sender=None, **_kw) -> None:
        consumer.ready(sender)
        reg.refresh_soon()
    signals.worker_ready.connect(on_ready, weak=False)
    reg.start()
    log.info("turret worker %s: queues %s, concurrency %d, scratch %s", name, ",".join(options.queues),
             concurrency, data_dir)
    worker = app.Worker(hostname=registration.celery_node(name), queues=options.queues,
                        concurrency=concurrency, pool="threads", loglevel=options.loglevel,
                        without_mingle=True, without_gossip=True, optimization="fair")
    try:
        worker.start()
    finally:
        reg.stop()
        client.close()
    return int(worker.exitcode or 0)

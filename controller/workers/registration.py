"""A worker's registration: what ``turret worker`` tells the controller about itself, through
the broker's Redis only (a worker holds no database credentials).

Contracts:
  * The hash ``keys.worker(name)`` holds the worker's hostname, CPUs, memory, the capacity AWX
    derives from them, versions, queues, concurrency, pid, start time and the queues it is
    consuming right now; it is rewritten every ``REFRESH`` seconds with an expiry of ``TTL``,
    so a worker that dies (even by SIGKILL) vanishes within ``TTL`` seconds, and it is deleted
    on a clean stop.
  * A broker outage never stops the worker: the refresh logs and retries.
  * :func:`celery_node` is the Celery node name of a worker, used to address its control
    commands (drain: ``cancel_consumer``/``add_consumer``).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from importlib import metadata
from typing import Any, Callable

import redis

from ..config import VERSION
from ..services import instances
from ..store import now_iso
from . import keys

log = logging.getLogger("turret.workers")
REFRESH, TTL = 5.0, 15
MAX_DEFAULT_CONCURRENCY = 32


def celery_node(name: str) -> str:
    """The Celery node name of worker ``name`` (the destination of its control commands)."""
    return f"celery@{name}"


def redis_client(broker_url: str) -> redis.Redis:
    """A Redis client on the broker (``redis://`` or ``rediss://``, TLS options such as
    ``ssl_cert_reqs`` and ``ssl_ca_certs`` in the URL's query, as Celery reads them too).
    Socket timeouts stay below any blocking read a caller makes (redis-py's default is 5 s)."""
    return redis.Redis.from_url(broker_url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


def default_concurrency(info: dict) -> int:
    """Jobs one worker runs at once by default: as many jobs of the smallest impact (2 forks:
    one host plus the control process) as its memory capacity holds, at most its CPU capacity
    (4 per CPU, as AWX counts forks) and ``MAX_DEFAULT_CONCURRENCY``, at least 1."""
    return max(1, min(int(info["cpu_capacity"]), int(info["mem_capacity"]) // 2, MAX_DEFAULT_CONCURRENCY))


def describe(name: str, queues: list[str], concurrency: int, measured: dict | None = None) -> dict[str, str]:
    """The registration of this worker: its measure (``measured``, else measured now) and how
    it serves (see the contract)."""
    measured = measured or instances.measure()
    try:
        runner_version = metadata.version("ansible-runner")
    except metadata.PackageNotFoundError:   # pragma: no cover - ansible-runner is a dependency
        runner_version = ""
    return {"name": name, "hostname": socket.gethostname(), "cpu": str(int(measured["cpu"])),
            "memory": str(measured["memory"]), "cpu_capacity": str(measured["cpu_capacity"]),
            "mem_capacity": str(measured["mem_capacity"]),
            "capacity": str(max(measured["cpu_capacity"], measured["mem_capacity"])),
            "version": f"ansible-runner-{runner_version}" if runner_version else f"turret-{VERSION}",
            "turret_version": VERSION, "queues": ",".join(queues), "concurrency": str(concurrency),
            "pid": str(os.getpid()), "started": now_iso(), "node": celery_node(name)}


class Registration:
    """Keeps ``keys.worker(name)`` alive while the worker runs (see the module contract).
    ``consuming`` answers the queues the worker's consumer takes tasks from right now (None
    while it is not consuming yet)."""

    def __init__(self, client: redis.Redis, info: dict[str, str],
                 consuming: Callable[[], list[str] | None]) -> None:
        self.client = client
        self.info = info
        self.key = keys.worker(info["name"])
        self.consuming = consuming
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh_soon(self) -> None:
        """Refresh now rather than at the next period (the consumer became ready)."""
        self._poke.set()

    def refresh(self) -> None:
        """Write the hash once with a fresh expiry (raises on a broker error)."""
        queues = self.consuming()
        values: dict[Any, Any] = {**self.info, "seen": now_iso(), "ready": "1" if queues is not None else "0",
                                   "consuming": ",".join(queues or [])}
        pipe = self.client.pipeline()
        pipe.hset(self.key, mapping=values)
        pipe.expire(self.key, TTL)
        pipe.execute()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="turret-registration", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except redis.RedisError as exc:
                log.warning("worker registration not refreshed (broker unreachable?): %s", exc)
            self._poke.wait(REFRESH)
            self._poke.clear()

    def stop(self) -> None:
        """Stop refreshing and remove the registration: the controller sees a clean leave."""
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=REFRESH + 1)
        try:
            self.client.delete(self.key)
        except redis.RedisError as exc:
            log.warning("worker registration not removed: %s", exc)

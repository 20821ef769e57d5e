"""The controller's side of a remote run: sending a job to a worker, and reading its frames back.

Contract (see the package docstring and ``task.py`` for the worker's side):

* :meth:`Broker.dispatch` stores the ``transmit`` stream at ``keys.payload`` (with a TTL),
  appends a ``dispatched`` entry (carrying the dispatch nonce) to the job's stream, then sends
  ``turret.run_job`` with ``{"resource", "pk", "nonce"}`` only: no secret is ever in a task.
* :class:`Frames` is the file-like object ``ansible-runner process`` reads: it follows the
  job's Redis stream from its first entry (XREAD BLOCK, below the client's socket timeout),
  answers claim entries (``grant(worker)`` is the database's compare-and-set; a claim older
  than ``CLAIM_FRESH`` is ignored: its worker gave up waiting), hands runner's own lines on,
  and ends the stream with a synthetic ``error`` status when the worker is gone (its job
  heartbeat missing for ``HEARTBEAT_GRACE`` seconds), when the job was canceled before any
  worker claimed it (``canceled``), when the broker lost an unclaimed job's stream (it
  restarted without persistence), or when the job was ended by someone else (the fleet
  monitor).
* Replaying a stream is harmless: an old claim is stale or refused, and events already stored
  are dropped by the caller (events are keyed by their counter).
* Trimming while a job runs: ``trimmer`` (optional) names the entries whose events the
  controller has committed (``take()``, after ``seal()`` hands it what was read since); they
  are deleted (XDEL) before each read, so a verbose job's stream stays about one read and one
  writer batch long.  Only event lines go: the ``dispatched`` and claim entries, runner's
  status lines and whatever the trimmer keeps (the stats event) stay, so a controller
  following the stream again still finds what it needs, and the ``end`` entry stays too.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from typing import Any, Callable, Protocol

import redis

from . import keys
from .app import TASK_RUN_JOB, make_celery

log = logging.getLogger("turret.workers")
PAYLOAD_TTL = 24 * 3600        # a payload nobody took in a day is dropped (it holds credentials)
STREAM_TTL = 7 * 24 * 3600     # a stream outlives its job by this much (controller restarts replay it)
CLAIM_FRESH = 20.0             # seconds: a worker waits this long for its claim's answer (task.CLAIM_WAIT)
HEARTBEAT_GRACE = 5.0          # seconds without the job's heartbeat before its worker counts as lost
BLOCK_MS = 1000                # XREAD block: well below the client's socket timeout


def connect(broker_url: str) -> redis.Redis:
    """A Redis client for ``broker_url`` (``redis://`` or ``rediss://``, password included)."""
    return redis.Redis.from_url(broker_url, socket_timeout=30, socket_connect_timeout=10,
                                health_check_interval=15, retry_on_timeout=True)


def _fields(entry: dict) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in entry.items()}


class Trimmer(Protocol):
    """What :class:`Frames` asks about trimming (see the module contract)."""

    def seal(self) -> None: ...

    def take(self) -> list[str]: ...


class Broker:
    """The controller's handle on the broker: one Redis client and one Celery app (sender)."""

    def __init__(self, broker_url: str) -> None:
        self.url = broker_url
        self.redis = connect(broker_url)
        self.celery = make_celery(broker_url)

    def dispatch(self, resource: str, pk: int, payload: bytes, queue: str) -> str:
        """Queue job ``pk`` on ``queue`` (its instance group's name); returns the nonce."""
        nonce = uuid.uuid4().hex[:12]
        pipe = self.redis.pipeline()
        pipe.delete(keys.stream(resource, pk), keys.cancel(resource, pk))   # a stale stream of a reused id
        pipe.set(keys.payload(resource, pk), payload, ex=PAYLOAD_TTL)
        pipe.xadd(keys.stream(resource, pk), {"t": "dispatched", "nonce": nonce, "queue": queue})
        pipe.expire(keys.stream(resource, pk), STREAM_TTL)
        pipe.execute()
        self.send(resource, pk, nonce, queue)
        return nonce

    def send(self, resource: str, pk: int, nonce: str, queue: str, countdown: float = 0) -> None:
        """Send ``turret.run_job`` for job ``pk`` (a first time, or again: same nonce)."""
        task_id = f"{resource}-{pk}-{nonce}" + (f"-{uuid.uuid4().hex[:6]}" if countdown else "")
        self.celery.send_task(TASK_RUN_JOB, kwargs={"resource": resource, "pk": pk, "nonce": nonce},
                              queue=queue, task_id=task_id, countdown=countdown or None)

    def cancel(self, resource: str, pk: int) -> None:
        """Tell the worker running job ``pk`` (or about to claim it) to stop it."""
        self.redis.set(keys.cancel(resource, pk), "1", ex=STREAM_TTL)

    def revoke(self, resource: str, pk: int, nonce: str) -> None:
        """Drop a task no worker took yet (its claim would be refused anyway)."""
        try:
            self.celery.control.revoke(f"{resource}-{pk}-{nonce}")
        except Exception:  # noqa: BLE001 - best effort: the claim check is the guarantee
            log.warning("revoking %s %s failed", resource, pk, exc_info=True)

    def is_remote(self, resource: str, pk: int) -> bool:
        """Was job ``pk`` sent to a worker (its stream exists)?"""
        return bool(self.redis.exists(keys.stream(resource, pk)))

    def forget(self, resource: str, pk: int) -> None:
        """A job ended: its payload (if still there) and cancel flag go; its stream expires soon."""
        pipe = self.redis.pipeline()
        pipe.delete(keys.payload(resource, pk), keys.cancel(resource, pk))
        pipe.expire(keys.stream(resource, pk), 3600)
        pipe.execute()

    def close(self) -> None:
        self.redis.close()
        self.celery.close()


class Frames:
    """``readline``/``read`` over job ``pk``'s stream, for ``ansible-runner process``.

    ``grant(worker)`` claims the job for ``worker`` in the database (True: it may run it);
    ``canceled()`` says a cancel was requested; ``ended()`` says the job ended without us
    (then the stream is closed at once); ``stopping`` (set by the owner) detaches: the reader
    returns end of file and ``detached`` turns true, the job is left to the next controller.
    """

    def __init__(self, broker: Broker, resource: str, pk: int, *, grant: Callable[[str], bool],
                 canceled: Callable[[], bool], ended: Callable[[], bool], claimed: bool = False,
                 trimmer: Trimmer | None = None) -> None:
        self.broker, self.resource, self.pk = broker, resource, pk
        self.grant, self.canceled, self.ended = grant, canceled, ended
        self.key = keys.stream(resource, pk)
        self.buffer = bytearray()
        self.last_id = "0-0"
        self.nonce = ""
        self.queue = "default"
        self.worker = ""
        self.claimed = claimed
        self.refusing = False      # canceled before any claim: every later claim is refused
        self.closed = False
        self.detached = False
        self.rc: int | None = None
        self.explanation = ""      # why the stream ended abnormally ("" when it did not)
        self.stopping = threading.Event()
        self.trimmer = trimmer
        self.consumed_id = ""      # the last line entry whose bytes were all read (by runner)
        self._fed = self._taken = 0     # bytes ever put in / taken out of ``buffer``
        self._marks: deque[tuple[int, str]] = deque()     # (end offset, id) of each line entry
        self._hb_missing_since: float | None = None
        self._last_check = 0.0

    # -- the file interface runner's Processor uses ---------------------------------------------
    name = "turret-remote-stream"

    def readline(self) -> bytes:
        while b"\n" not in self.buffer and not self.closed:
            self._fill()
        if b"\n" not in self.buffer:
            line, self.buffer = bytes(self.buffer), bytearray()
            return line
        end = self.buffer.index(b"\n") + 1
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        self._took(end)
        return line

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self.buffer) < size) and not self.closed:
            self._fill()
        size = len(self.buffer) if size < 0 else min(size, len(self.buffer))
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        self._took(size)
        return data

    def _took(self, size: int) -> None:
        self._taken += size
        while self._marks and self._marks[0][0] <= self._taken:
            self.consumed_id = self._marks.popleft()[1]

    # -- following the stream -------------------------------------------------------------------
    def _close(self, explanation: str = "", status: str = "error") -> None:
        """End the stream with a runner status line and runner's eof, as a worker would."""
        if explanation:
            self.explanation = explanation
            self._feed(json.dumps({"status": status, "job_explanation": explanation}).encode() + b"\n")
        self._feed(b'{"eof": true}\n')
        self.closed = True

    def _feed(self, data: bytes, entry_id: str = "") -> None:
        self.buffer += data
        self._fed += len(data)
        if entry_id:
            self._marks.append((self._fed, entry_id))

    def _trim(self) -> None:
        """Delete the entries whose events the controller committed (module contract)."""
        if self.trimmer is None:
            return
        self.trimmer.seal()
        done = self.trimmer.take()
        for start in range(0, len(done), 1000):
            try:
                self.broker.redis.xdel(self.key, *done[start:start + 1000])
            except redis.RedisError as exc:     # kept: the stream expires after the job anyway
                log.warning("trimming %s failed: %s", self.key, exc)

    def _fill(self) -> None:
        if self.stopping.is_set():
            self.detached, self.closed = True, True
            return
        self._trim()
        try:
            answer: Any = self.broker.redis.xread({self.key: self.last_id}, count=200, block=BLOCK_MS)
        except redis.RedisError as exc:      # a broker restart: keep following once it is back
            log.warning("reading %s failed: %s", self.key, exc)
            time.sleep(1)
            answer = []
        for _key, entries in answer or []:
            for entry_id, raw in entries:
                self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                self._entry(self.last_id, _fields(raw), raw)
                if self.closed:
                    return
        if time.monotonic() - self._last_check >= 0.5:
            self._last_check = time.monotonic()
            self._check()

    def _entry(self, entry_id: str, fields: dict[str, str], raw: dict) -> None:
        kind = fields.get("t")
        if kind == "line":
            self._feed(raw.get(b"d", b"") if b"d" in raw else fields.get("d", "").encode(), entry_id)
        elif kind == "dispatched":
            self.nonce, self.queue = fields.get("nonce", ""), fields.get("queue", "default")
        elif kind == "claim":
            self._answer_claim(entry_id, fields)
        elif kind == "end":
            self.rc = int(fields["rc"]) if fields.get("rc", "").lstrip("-").isdigit() else None
            if fields.get("error"):
                self._close(fields["error"])
            elif not self.closed:
                self._close()

    def _answer_claim(self, entry_id: str, fields: dict[str, str]) -> None:
        reply = keys.claim_reply(self.resource, self.pk, fields.get("attempt", ""))
        age = time.time() - int(entry_id.split("-")[0]) / 1000
        if age > CLAIM_FRESH:
            return      # its worker stopped waiting for an answer long ago (a replayed stream)
        worker = fields.get("worker", "")
        ok = (not self.refusing and not self.claimed and fields.get("nonce") == self.nonce
              and self.grant(worker))
        if ok:
            self.claimed, self.worker = True, worker
        pipe = self.broker.redis.pipeline()
        pipe.rpush(reply, "yes" if ok else "no")
        pipe.expire(reply, 60)
        pipe.execute()
        log.info("%s %s: claim by %s %s", self.resource, self.pk, worker, "granted" if ok else "refused")

    def requeue(self) -> None:
        """Send the job's task again (same nonce): its claim was refused for a reason of the
        claiming worker (disabled, draining), so another worker of the group must get it."""
        self.broker.send(self.resource, self.pk, self.nonce, self.queue, countdown=1)

    def _check(self) -> None:
        """Between entries: a job ended elsewhere, a cancel before any claim, a lost worker."""
        if self.ended():
            self.detached = True
            self._close()
            return
        if not self.claimed:
            if self.canceled():
                self.refusing = True
                self.broker.revoke(self.resource, self.pk, self.nonce)
                self._close("Job was canceled before a worker started it", status="canceled")
                return
            try:
                vanished = not self.broker.redis.exists(self.key)
            except redis.RedisError:
                return
            if vanished:    # a broker restarted without persistence: the task and payload went too
                self.refusing = True
                self._close("The broker lost the job before a worker took it (it restarted without "
                            "persistence); the job did not run.")
            return
        try:
            alive = bool(self.broker.redis.exists(keys.heartbeat(self.resource, self.pk)))
        except redis.RedisError:
            return      # the broker is away: its restart says nothing about the worker
        if alive:
            self._hb_missing_since = None
        elif self._hb_missing_since is None:
            self._hb_missing_since = time.monotonic()
        elif time.monotonic() - self._hb_missing_since >= HEARTBEAT_GRACE:
            who = f"worker {self.worker}" if self.worker else "its worker"
            self._close(f"Job was lost: {who} stopped sending its heartbeat (the worker died or lost "
                        "the broker); it was not re-run.")

"""Waking the job dispatcher, notification sender and webhook status poster of another process:
one UNIX datagram socket per data directory.

Under ``turret serve`` with several web worker processes, the job dispatcher, scheduler,
notification sender, webhook status poster and event writer run once, in the serving parent; a
web worker that queues a job (writes it ``pending``), flags a cancel, records a notification
send or records a webhook status post must tell that process at once instead of waiting for its
next poll (a second for a queued job, a notification or a status post, half a second for a
cancel).

Contract:

* :class:`WakeSender` is what a web worker holds as ``AppState.dispatcher`` (it has the
  ``notify``/``cancel`` of :class:`controller.context.JobWorkers`, ``wake_notifications``,
  which :func:`controller.notifications.delivery.wake` calls on it, and ``wake_webhook_status``,
  which :func:`controller.webhooks.status.wake` calls on it).  Sending never blocks and
  never raises: the database stays the truth (the job row is already ``pending``, the cancel
  already flagged, the send record already written), so a lost datagram only costs the
  receiver's own poll interval.
* :class:`WakeListener` runs in the process that owns the dispatcher and hands each datagram
  to the dispatcher's ``notify`` or ``cancel``, or to the notification sender's doorbell, or
  rings :data:`WEBHOOK_STATUS_DOORBELL`.
* :data:`WEBHOOK_STATUS_DOORBELL` is the process's doorbell of the webhook status poster
  (:class:`controller.webhooks.status.Poster` waits on it; it lives here, on the jobs floor,
  so this module need not import the webhooks package above it).
* The socket's address comes from the data directory alone (:func:`wake_address`), so every
  process of one controller finds it with no configuration.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any, Callable

from ..notifications import delivery

log = logging.getLogger("turret.jobs")

_NOTIFY = b"notify"
_CANCEL = b"cancel"
_NOTIFICATIONS = b"notifications"
_WEBHOOK_STATUS = b"webhook_status"
_MAX_PATH = 100     # sun_path holds 108 bytes; a longer data dir uses the abstract namespace

# Rung when a webhook status post was recorded (by this process's hooks or by a web worker's
# datagram); the poster also polls, so a lost ring costs at most its poll interval.
WEBHOOK_STATUS_DOORBELL = threading.Event()


def ring_webhook_status() -> None:
    """Ring this process's webhook status doorbell."""
    WEBHOOK_STATUS_DOORBELL.set()


def wake_address(data_dir: str | os.PathLike) -> str:
    """The datagram socket address of the controller on ``data_dir``: ``<data_dir>/wake.sock``,
    or (a path too long for ``sun_path``) a Linux abstract name derived from it."""
    path = str(Path(data_dir) / "wake.sock")
    if len(path.encode()) <= _MAX_PATH:
        return path
    return "\0turret-wake-" + hashlib.sha256(path.encode()).hexdigest()[:32]


class WakeSender:
    """``notify``/``cancel``/``wake_notifications``/``wake_webhook_status`` of a process that runs
    no jobs: one datagram to the job process."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)   # a full queue drops the datagram, never stalls a request

    def _send(self, message: bytes) -> None:
        try:
            self._sock.sendto(message, self.address)
        except OSError as exc:   # no listener (yet) or its queue is full: its poll catches up
            log.debug("wake datagram %r not delivered: %s", message, exc)

    def notify(self) -> None:
        """A job was queued or may now start: wake the dispatcher."""
        self._send(_NOTIFY)

    def cancel(self, resource: str, pk: int) -> None:
        """Job ``pk`` of ``resource`` was flagged canceled in the database: stop it now."""
        self._send(b"%s %s %d" % (_CANCEL, resource.encode(), pk))

    def wake_notifications(self) -> None:
        """A notification send was recorded: wake the notification sender (whose look for due
        records waits for the recording transaction's commit, see ``Sender.dispatch_due``)."""
        self._send(_NOTIFICATIONS)

    def wake_webhook_status(self) -> None:
        """A webhook status post was recorded: wake the status poster (whose claim of queued
        posts is a write transaction, so it waits for the recording transaction's commit, see
        ``Poster.dispatch_due``)."""
        self._send(_WEBHOOK_STATUS)

    def close(self) -> None:
        self._sock.close()


class WakeListener:
    """Receives the wake datagrams of one data directory and hands them to ``dispatcher``
    (anything with ``notify()`` and ``cancel(resource, pk)``), to ``notifications`` (default:
    this process's notification sender's doorbell) or to ``webhook_status`` (default: this
    process's webhook status doorbell) on a daemon thread."""

    def __init__(self, address: str, dispatcher: Any,
                 notifications: Callable[[], None] = delivery.wake,
                 webhook_status: Callable[[], None] = ring_webhook_status) -> None:
        self.address = address
        self.dispatcher = dispatcher
        self.notifications = notifications
        self.webhook_status = webhook_status
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if not address.startswith("\0"):
            Path(address).unlink(missing_ok=True)   # left by a process that died: nobody listens on it
        self._sock.bind(address)
        if not address.startswith("\0"):
            os.chmod(address, 0o600)    # only the controller's own user may wake it
        self._sock.settimeout(0.5)      # so stop() is seen without a datagram
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="turret-wake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._sock.recv(256)
            except socket.timeout:
                continue
            except OSError:
                return      # closed by stop()
            try:
                self.handle(message)
            except Exception:  # noqa: BLE001 - a bad datagram must not end the listener
                log.exception("wake datagram %r failed", message)

    def handle(self, message: bytes) -> None:
        """Act on one datagram: ``notify``, ``notifications``, ``webhook_status`` or
        ``cancel <resource> <pk>``; others are ignored."""
        if message == _NOTIFY:
            self.dispatcher.notify()
            return
        if message == _NOTIFICATIONS:
            self.notifications()
            return
        if message == _WEBHOOK_STATUS:
            self.webhook_status()
            return
        parts = message.split()
        if len(parts) == 3 and parts[0] == _CANCEL and parts[2].isdigit():
            self.dispatcher.cancel(parts[1].decode(errors="replace"), int(parts[2]))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
        if not self.address.startswith("\0"):
            Path(self.address).unlink(missing_ok=True)

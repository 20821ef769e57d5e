"""The worker's side of a remote run: the ``turret.run_job`` Celery task.

Contract (the controller's side is ``transport.py``):

* The task's arguments are ``resource``, ``pk`` and ``nonce``: never a secret.
* **Claim first.**  The task appends a ``claim`` entry (worker name, nonce, a fresh attempt id)
  to the job's stream and waits (BLPOP, ``CLAIM_WAIT`` s) for the controller's answer, which
  comes from a compare-and-set in the controller's database.  "no" → the job is dropped
  unrun; no answer (controller away) → claimed again, while the payload exists.  A payload
  already taken means another delivery ran (or runs) the job: dropped unrun.  So a task
  redelivered by the broker never runs a job twice.
* **Run.**  The payload is taken (GETDEL), its controller paths rewritten to this worker's run
  dir, and fed to ``ansible-runner worker`` (with the executor's ssh-agent wrapper, see
  :func:`runner_worker_command`) started in a session of its own, next to a guard
  process (``guard.py``) that ends the whole tree if this process dies.  Each output line is
  relayed to the stream with the run's secrets scrubbed (their list rides in the payload), the
  ``env`` of status lines dropped (it may hold injected secrets),
  the artifacts archive dropped (its ``command`` file holds the env too), runner's own end
  line held back: the ``end`` entry (with the return code, or why the run broke) closes the
  stream.  The job heartbeat key is refreshed every ``HEARTBEAT_EVERY`` s (expiry
  ``HEARTBEAT_TTL``); the cancel key is watched: SIGTERM to ``ansible-runner worker`` (runner
  cancels the play and reports ``canceled``), SIGKILL of its group after ``CANCEL_GRACE``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

import redis

from ..collection import collections_path
from ..jobs.events import secret_pattern
from . import keys
from .app import TASK_RUN_JOB
from .relocate import relocate_collections
from .transport import connect

log = logging.getLogger("turret.workers")
CLAIM_WAIT = 15            # seconds; below transport.CLAIM_FRESH, so a late answer never counts
CLAIM_TRIES = 40           # ~10 minutes of a controller away before a claimed job is dropped
HEARTBEAT_EVERY, HEARTBEAT_TTL = 5, 15
CANCEL_GRACE = 10.0
BROKER_PATIENCE = 120.0    # seconds a run's output waits for a restarting broker


def register(celery_app: Any, name: str, data_dir: str | os.PathLike) -> Any:
    """Register ``turret.run_job`` on ``celery_app`` for the worker ``name`` whose scratch
    space is ``data_dir``; returns the task."""
    client = None
    lock = threading.Lock()

    def redis_client() -> redis.Redis:
        nonlocal client
        with lock:
            if client is None:
                client = connect(celery_app.conf.broker_url)
            return client

    @celery_app.task(name=TASK_RUN_JOB, acks_late=True, ignore_result=True)
    def run_job(resource: str, pk: int, nonce: str) -> None:
        run_remote(redis_client(), name, Path(data_dir), resource, int(pk), nonce)
    return run_job


def claim(client: redis.Redis, name: str, resource: str, pk: int, nonce: str) -> bool:
    """Ask the controller for job ``pk``; True only on its "yes"."""
    for _ in range(CLAIM_TRIES):
        if not client.exists(keys.payload(resource, pk)) or client.exists(keys.cancel(resource, pk)):
            return False
        attempt = uuid.uuid4().hex[:12]
        client.xadd(keys.stream(resource, pk), {"t": "claim", "worker": name, "nonce": nonce, "attempt": attempt})
        answer = client.blpop([keys.claim_reply(resource, pk, attempt)], timeout=CLAIM_WAIT)
        if answer is not None:
            return answer[1] == b"yes"
    return False


def localize(payload: bytes, run_dir: Path) -> tuple[bytes, re.Pattern | None]:
    """The transmit stream after Turret's header line, with the controller's paths in runner's
    kwargs (the first line) replaced by their places in ``run_dir`` and the controller's
    bundled collection path in ``ANSIBLE_COLLECTIONS_PATH`` replaced by this worker's
    (``relocate``), the archive as it came; and the pattern of the run's secrets as they
    appear inside JSON text (None: none)."""
    header, _, rest = payload.partition(b"\n")
    kwargs_line, _, archive = rest.partition(b"\n")
    turret = json.loads(header)["turret"]
    paths = turret["paths"]
    pattern = secret_pattern([json.dumps(s)[1:-1] for s in turret.get("secrets") or []])
    text = kwargs_line.decode()
    for source in sorted(paths, key=len, reverse=True):
        target = os.path.join(str(run_dir), paths[source]) if paths[source] else str(run_dir)
        text = text.replace(json.dumps(source)[1:-1], json.dumps(target)[1:-1])
    kwargs_out = relocate_collections(text.encode(), turret.get("collections") or "", collections_path())
    return kwargs_out + b"\n" + archive, pattern


def runner_worker_command() -> list[str]:
    """``ansible-runner worker`` as the controller runs its own jobs: the executor's
    ``executor_agent`` started by its path (``-P``: its folder stays off ``sys.path``), so its
    ssh-agent wrapper unlocks a key with a passphrase here too, and no controller module (nor
    ansible-runner) is loaded into this process."""
    return [sys.executable, "-P", str(Path(__file__).resolve().parents[1] / "jobs" / "executor_agent.py")]


def _runner_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}"
    for key in [k for k in env if k.startswith(("CELERY_", "TURRET_"))]:
        env.pop(key)      # the worker's own settings (its broker URL, password included) stay here
    return env


def run_remote(client: redis.Redis, name: str, data_dir: Path, resource: str, pk: int, nonce: str) -> None:
    """Claim, run and relay job ``pk`` (see the module contract)."""
    if not claim(client, name, resource, pk, nonce):
        log.info("%s %s: not claimed by %s (taken, canceled or refused); dropped", resource, pk, name)
        return
    stream = keys.stream(resource, pk)
    payload: Any = client.getdel(keys.payload(resource, pk))
    if payload is None:
        client.xadd(stream, {"t": "end", "error": "The job's payload was gone when its worker claimed it."})
        return
    run_dir = data_dir / f"{resource}-{pk}-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True, mode=0o700)
    hb = keys.heartbeat(resource, pk)
    client.set(hb, name, ex=HEARTBEAT_TTL)
    log.info("%s %s: running on %s", resource, pk, name)
    proc = subprocess.Popen([*runner_worker_command(), "--private-data-dir", str(run_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=_runner_env(), cwd=str(run_dir))
    # run as a script (not ``-m``): importing the controller package would cost it ~0.3 s
    guard = subprocess.Popen([sys.executable, str(Path(__file__).with_name("guard.py")), str(proc.pid), str(run_dir)],
                             stdin=subprocess.PIPE, start_new_session=True, cwd=str(run_dir), env=_runner_env())
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(client, resource, pk, name, proc, done), daemon=True)
    watcher.start()
    error = ""
    try:
        assert proc.stdin is not None and proc.stdout is not None
        stream_in, pattern = localize(payload, run_dir)
        del payload
        try:
            proc.stdin.write(stream_in)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        del stream_in
        finished = relay(client, stream, proc.stdout, pattern)
        code = proc.wait()
        if not finished:
            error = f"ansible-runner worker on {name} ended without finishing its stream (exit code {code})."
    except Exception as exc:  # noqa: BLE001 - the controller must hear why, whatever broke
        log.exception("%s %s: relaying failed", resource, pk)
        error = f"Relaying the run on {name} failed: {type(exc).__name__}"
    finally:
        done.set()
        watcher.join(5)
        if guard.stdin is not None:
            guard.stdin.close()     # the lifeline: the guard ends whatever of the run is left
        try:
            guard.wait(timeout=10)
        except subprocess.TimeoutExpired:
            guard.kill()
        rc = _read_rc(run_dir)
        append(client, stream, {"t": "end", "rc": "" if rc is None else str(rc), "error": error})
        client.delete(hb)
        shutil.rmtree(run_dir, ignore_errors=True)


def relay(client: redis.Redis, stream: str, out: IO[bytes], pattern: re.Pattern | None = None) -> bool:
    """Append each output frame of ``ansible-runner worker`` to ``stream``, every secret of the
    run (``pattern``) replaced by ``$encrypted$`` as the controller would; True when runner's
    own end line came (held back: the task's ``end`` entry closes the stream)."""
    for line in iter(out.readline, b""):
        try:
            frame = json.loads(line)
        except ValueError:
            frame = None
        if isinstance(frame, dict):
            if "zipfile" in frame:
                _skip(out, 4 * math.ceil(int(frame["zipfile"]) / 3))    # artifacts: its env too
                continue
            if frame.get("eof"):
                return True
            if "status" in frame and "env" in frame:
                frame.pop("env")        # the worker's full environment, injected secrets included
                line = json.dumps(frame).encode() + b"\n"
        if pattern is not None:     # a play that prints a secret must not leave it in the broker
            line = pattern.sub("$encrypted$", line.decode(errors="replace")).encode()
        append(client, stream, {"t": "line", "d": line})
    return False


def append(client: redis.Redis, stream: str, fields: dict, patience: float = BROKER_PATIENCE) -> None:
    """XADD ``fields`` to ``stream``, retried while the broker is unreachable (a restart) for
    up to ``patience`` seconds; the run goes on meanwhile (its output waits in the pipe)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            client.xadd(stream, fields)
            return
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def _skip(out: IO[bytes], size: int) -> None:
    while size > 0:
        chunk = out.read(min(size, 1 << 20))
        if not chunk:
            return
        size -= len(chunk)


def _read_rc(run_dir: Path) -> int | None:
    try:
        return int((run_dir / "artifacts" / "run" / "rc").read_text().strip())
    except (OSError, ValueError):
        return None


def _watch(client: redis.Redis, resource: str, pk: int, name: str, proc: subprocess.Popen,
           done: threading.Event) -> None:
    """While the run lasts: refresh its heartbeat, and end it when the controller cancels it."""
    hb, cancel_key = keys.heartbeat(resource, pk), keys.cancel(resource, pk)
    last_beat, canceled_at = time.monotonic(), None
    while not done.wait(0.25):
        try:
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                client.set(hb, name, ex=HEARTBEAT_TTL)
                last_beat = time.monotonic()
            if canceled_at is None and client.exists(cancel_key):
                canceled_at = time.monotonic()
                log.info("%s %s: canceled", resource, pk)
                proc.send_signal(signal.SIGTERM)    # runner cancels the play and says "canceled"
        except redis.RedisError as exc:       # the broker restarting: the run goes on
            log.warning("%s %s: broker unreachable: %s", resource, pk, exc)
        if canceled_at is not None and time.monotonic() - canceled_at > CANCEL_GRACE and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

"""Real ``turret worker`` processes for the scale-out tests: each one a subprocess of this
interpreter (``python -m controller worker``) with its own ``--name`` and ``--data-dir``, on a
real Redis broker (tests/support/redis_server.py).  Ended by pid only: ``stop()`` (SIGTERM,
then SIGKILL) or ``kill()`` (SIGKILL at once, the "machine died" case).  ``relocated_python``
gives a worker an interpreter path of its own (a worker installed elsewhere than the controller).
``distributed_controller`` opens the controller side: a data dir with ``BROKER_URL`` set.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import redis

from controller import AppState, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
from controller.workers import keys

from .jobs import wait_until
from .redis_server import RedisServer


def scaleout_fixtures(admin_password: str, redis_password: str = "", persist: bool = False):
    """``(broker, app_state)`` module fixtures of a scale-out test module (assign them to those
    names there): a real Redis (``redis_password``, ``persist`` as :class:`RedisServer`) and the
    controller opened on it by :func:`distributed_controller` (it overrides conftest's embedded
    one)."""

    @pytest.fixture(scope="module")
    def broker(tmp_path_factory):
        server = RedisServer(tmp_path_factory.mktemp("redis"), redis_password, persist=persist).start()
        yield server
        server.stop()

    @pytest.fixture(scope="module")
    def app_state(tmp_path_factory, broker):
        with distributed_controller(tmp_path_factory.mktemp("data"), broker.url, admin_password) as state:
            yield state

    return broker, app_state


@contextmanager
def distributed_controller(data_dir: Path, broker_url: str, admin_password: str) -> Iterator[AppState]:
    """The controller of a scale-out test module: ``data_dir`` opened with ``BROKER_URL`` set (its
    jobs go to workers through the broker), ``admin`` created with ``admin_password``, no demo
    content; the store is closed on the way out."""
    state = open_state(Settings({"DATA_DIR": str(data_dir), "BROKER_URL": broker_url}, environ={}))
    initialize(state, admin_password, demo=False)
    try:
        yield state
    finally:
        state.store.close()


class WorkerProcess:
    """One ``turret worker`` subprocess; its output (stdout and stderr) goes to ``log``."""

    def __init__(self, broker_url: str, name: str, queues: str, concurrency: int, data_dir: Path,
                 extra_env: dict | None = None, python: str | None = None) -> None:
        self.broker_url, self.name, self.queues = broker_url, name, queues
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir.parent / f"{name}.log"
        env = {**os.environ, **(extra_env or {})}
        env.pop("TURRET_BROKER_URL", None)   # the broker is passed on the command line only
        # the venv's bin first: where a real install would find ansible-playbook
        env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [python or sys.executable, "-m", "controller", "worker", "--broker", broker_url, "--name", name,
                 "--queues", queues, "--concurrency", str(concurrency), "--data-dir", str(self.data_dir)],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(Path(__file__).parents[2]))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        """Everything the worker printed so far (its log file)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (Celery's warm shutdown), SIGKILL after ``timeout`` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL, as a machine losing power would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def start_worker(broker_url: str, name: str, queues: str = "default", concurrency: int = 2,
                 data_dir: Path | None = None, extra_env: dict | None = None,
                 python: str | None = None) -> WorkerProcess:
    """Start ``turret worker`` (not waiting for it: see :func:`wait_registered`), run by
    ``python`` (default: this interpreter)."""
    if data_dir is None:
        raise ValueError("data_dir is required: every worker gets scratch space of its own")
    return WorkerProcess(broker_url, name, queues, concurrency, data_dir, extra_env, python)


@contextmanager
def registered_worker(broker_url: str, name: str, queues: str = "default", concurrency: int = 2,
                      data_dir: Path | None = None, **options) -> Iterator[WorkerProcess]:
    """A ``turret worker`` (:func:`start_worker`, ``options`` its ``extra_env`` / ``python``)
    registered in the broker for the block, stopped after it."""
    proc = start_worker(broker_url, name, queues, concurrency, data_dir, **options)
    try:
        wait_registered(broker_url, proc)
        yield proc
    finally:
        proc.stop()


def instance_group(admin, name: str, timeout: float = 20) -> dict:
    """The instance group ``name`` once the controller's fleet monitor has made it from a
    registered worker's queue."""
    return wait_until(lambda: admin.get(f"/api/v2/instance_groups/?name={name}").json["results"], timeout,
                      f"instance group {name}")[0]


def relocated_python(root: Path) -> str:
    """An interpreter path under ``root`` that runs this virtual environment as a venv of its
    own: ``root/bin/python`` (a link to the base interpreter), ``root/pyvenv.cfg`` (a copy),
    ``root/lib`` (a link to this venv's packages) and ``root/bin/ansible-playbook`` (this
    venv's, started by ``root/bin/python``).  Python takes the venv from the path it was
    started by, so a worker started by it has ``sys.executable`` == that path and runs its
    own ``ansible-playbook`` (its ``bin`` comes first in a job's PATH), as a worker installed
    in another folder than the controller would."""
    root = Path(root)
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    script = Path(sys.executable).parent / "ansible-playbook"
    body = script.read_text().split("\n", 1)[1]
    (root / "bin" / "ansible-playbook").write_text(f"#!{root / 'bin' / 'python'}\n{body}")
    (root / "bin" / "ansible-playbook").chmod(0o755)
    (root / "pyvenv.cfg").write_text((Path(sys.prefix) / "pyvenv.cfg").read_text())
    for name in ("lib", "lib64"):
        if (Path(sys.prefix) / name).exists():
            (root / name).symlink_to(Path(sys.prefix) / name)
    return str(root / "bin" / "python")


def wait_registered(broker_url: str, *workers: WorkerProcess, timeout: float = 30) -> None:
    """Wait until every worker has registered itself in the broker (its ``keys.worker`` hash)
    and its Celery consumer answers a ping; raises with the workers' output otherwise."""
    from controller.workers.app import make_celery

    client = redis.Redis.from_url(broker_url)
    app = make_celery(broker_url)
    deadline = time.monotonic() + timeout
    pending = {w.name: w for w in workers}
    try:
        while pending and time.monotonic() < deadline:
            for name, w in list(pending.items()):
                if not w.alive():
                    raise RuntimeError(f"worker {name} exited ({w.proc.returncode}):\n{w.output()[-3000:]}")
                if client.exists(keys.worker(name)):
                    answers = app.control.ping(destination=[f"celery@{name}"], timeout=0.5) or []
                    if answers:
                        del pending[name]
            if pending:
                time.sleep(0.1)
    finally:
        client.close()
        app.close()
    if pending:
        logs = "\n".join(f"--- {n}\n{w.output()[-3000:]}" for n, w in pending.items())
        raise RuntimeError(f"workers not registered within {timeout} s: {sorted(pending)}\n{logs}")

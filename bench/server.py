"""The controller under measurement as a subprocess: ``python -m controller serve`` on
127.0.0.1 (as ``tests/conftest.py``'s ``start_controller`` starts it) in its own session,
started on a free port, ready once ``/api/v2/ping/`` answers, stopped with everything it started.

``bench/harness.py`` re-exports these names, so benchmarks reach them as ``harness.<name>``.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from procs import CLK_TCK, children, cpu_seconds, descendants, pss_kb, rss_kb

REPO = Path(__file__).resolve().parent.parent    # the checkout: the server runs from its root
START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may take it before we bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(data_dir: str, port: int | str, threads: int | None = None) -> list[str]:
    """The project's own way to run a controller: ``python -m controller serve`` on 127.0.0.1
    (``port`` may be the ``"{port}"`` placeholder of :class:`Server`'s ``cmd``)."""
    argv = [sys.executable, "-m", "controller", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir)]
    return argv + (["--threads", str(threads)] if threads else [])


def server_env(admin_password: str, extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The caller's environment without its ``TURRET_*`` settings (hermetic, as in the tests),
    the admin password the server creates ``admin`` with, then ``extra`` (``None`` removes)."""
    env: dict[str, Any] = {k: v for k, v in os.environ.items() if not k.startswith("TURRET_")}
    env["TURRET_ADMIN_PASSWORD"] = admin_password
    env.update(extra or {})
    return {k: v for k, v in env.items() if v is not None}


class Server:
    """A controller (or, with ``cmd``, any server whose argv takes ``{port}``) as a subprocess in
    its own session, ready once ``GET /api/v2/ping/`` answers 200.

    ``ready_seconds`` is spawn-to-ready (polled every ``poll`` s).  A start that fails is retried
    on a new port (``free_port`` can race with other processes), at most ``attempts`` times.
    ``stop()`` ends the whole session: the server and whatever it started (ansible runs).
    """

    def __init__(self, data_dir: str, log_path: str, *, admin_password: str, threads: int | None = None,
                 env: dict[str, str | None] | None = None, cmd: list[str] | None = None, attempts: int = 3,
                 poll: float = 0.005, timeout: float = START_TIMEOUT) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.poll = poll
        self.timeout = timeout
        full_env = server_env(admin_password, env)
        for attempt in range(attempts):
            self.port = free_port()
            argv = ([c.replace("{port}", str(self.port)) for c in cmd] if cmd is not None
                    else serve_command(data_dir, self.port, threads))
            self.log = open(log_path, "ab")
            self.t0 = time.perf_counter()
            self.proc = subprocess.Popen(argv, cwd=str(REPO), env=full_env, stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                self.ready_seconds = self._wait_ready()
                return
            except RuntimeError as exc:
                self.stop()
                if attempt == attempts - 1:
                    raise RuntimeError(f"{exc}\n--- server log {log_path} ---\n{self.log_tail()}") from None
                print(f"server start failed ({exc}); retrying", file=sys.stderr, flush=True)

    def _wait_ready(self) -> float:
        deadline = self.t0 + self.timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/api/v2/ping/")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return time.perf_counter() - self.t0
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(self.poll)
        raise RuntimeError(f"server not ready after {self.timeout}s")

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return ""

    def rss_mb(self, key: str = "Pss") -> float:
        """Memory of the server and its descendants, in MB: PSS by default (a multi-process
        server's shared pages counted once), else the sum of a ``/proc`` status figure."""
        return (pss_kb(self.proc.pid) if key == "Pss" else rss_kb(self.proc.pid, key)) / 1024

    def cpu_seconds(self, with_children: bool = False) -> float:
        """CPU seconds of the server and its live descendants (``turret serve``'s web workers
        are child processes), with its reaped children when asked."""
        live = (cpu_seconds(p) for p in descendants(self.proc.pid)[1:])
        return cpu_seconds(self.proc.pid, with_children) + sum(c for c in live if c == c)   # NaN: gone

    def watch_spawn(self, job_id: int, timeout: float = 60, interval: float = 0.01) -> float | None:
        """CLOCK_BOOTTIME seconds at which the job's ansible-playbook process was forked (from
        /proc/<pid>/stat starttime, 1/CLK_TCK = 10 ms resolution, rounded down), found among the
        server's children by the ``JOB_ID=<id>`` the executor puts in its environment."""
        marker = f"JOB_ID={job_id}".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in children(self.proc.pid):
                try:
                    with open(f"/proc/{pid}/environ", "rb") as fh:
                        if marker not in fh.read().split(b"\0"):
                            continue
                    with open(f"/proc/{pid}/stat") as fh:
                        start = int(fh.read().rsplit(")", 1)[1].split()[19])
                    return start / CLK_TCK
                except OSError:
                    continue
            time.sleep(interval)
        return None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the server's session, SIGKILL it after ``timeout`` s; close the log."""
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def _signal(self, sig: int) -> None:
        # start_new_session: the server's pid is the group of everything it started, and only that
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

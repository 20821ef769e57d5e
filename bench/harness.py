"""What every Turret benchmark needs, written once: the real server as a subprocess
(``python -m controller serve`` on 127.0.0.1, as ``tests/conftest.py``'s ``start_controller``
starts it), a keep-alive HTTP client, API tokens, a data dir opened for seeding through the
service layer, per-process CPU and RSS from ``/proc``, percentiles, and the context of a run
(load average, ``git describe``).

The benchmarks (``api_bench.py``, ``jobs_bench.py``, ``jobs_support.py``, ``ui_bench.py``)
import it as a sibling module; it never imports ``tests/``.
"""
from __future__ import annotations

import base64
import contextlib
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:       # run from a checkout: `controller` is the tree's package
    sys.path.insert(0, str(REPO))

START_TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- statistics and run context ------------------------------------------------------------------
def begin(machine: dict | None = None, **fields: Any) -> dict:
    """The record a benchmark run starts: the date, the load average, the tree, the machine
    (CPUs, Python, SQLite, plus ``machine``) and ``fields``; :func:`finish` ends it."""
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **fields,
            "loadavg_start": loadavg(), "tree": git_describe(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "sqlite": sqlite3.sqlite_version, **(machine or {})}}


def finish(res: dict, started: float, report: Callable[[dict], str], json_path: str | None) -> int:
    """The end of a benchmark run: the load average and the total time (since the
    ``perf_counter`` value ``started``) into ``res``, ``report(res)`` and the total on stdout,
    ``res`` as JSON at ``json_path`` when given; the exit status, 0."""
    res["loadavg_end"] = loadavg()
    res["total_s"] = time.perf_counter() - started
    print(report(res), flush=True)
    print(f"\ntotal {res['total_s']:.0f} s", flush=True)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(res, fh, indent=2, default=str)
    return 0


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile ``p`` (0-100) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def stats_ms(values: list[float]) -> dict:
    """p50 / p99 / min / max of seconds, in ms (NaN when there are none)."""
    return {"n": len(values), "p50_ms": pct(values, 50) * 1000, "p99_ms": pct(values, 99) * 1000,
            "min_ms": min(values) * 1000 if values else float("nan"),
            "max_ms": max(values) * 1000 if values else float("nan")}


def progress(msg: str) -> None:
    """A timestamped progress line on stderr (the report goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> str:
    """1/5/15-minute load averages: other work on the machine skews absolute figures."""
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return ""


def git_describe() -> str:
    """``git describe --always --dirty`` of the tree being measured ("" outside a checkout)."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=str(REPO), capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# -- /proc figures --------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children of all its threads, recursively)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (of any of its threads); [] once it is gone."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def cmdline(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    """Sum of the ``/proc/<pid>/status`` figure ``key`` (kB) over the process and its descendants."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def pss_kb(pid: int) -> int:
    """Proportional set size (kB) of the process and its descendants: pages shared by forked
    web workers (copy-on-write) count once over the tree, not once per process as RSS does."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime + stime of the process (all its threads), plus those of its reaped children
    (e.g. finished ansible runs) when ``with_children``; NaN once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_children else 0)
    return ticks / CLK_TCK


# -- the server -----------------------------------------------------------------------------------
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


# -- the client -----------------------------------------------------------------------------------
def basic(username: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 with a fixed ``Authorization`` (one per thread)."""

    def __init__(self, port: int, auth: str | None = None, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Accept": "application/json"}
        if auth:
            self.headers["Authorization"] = auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        """``(status, payload, seconds)``; status 0 when the connection failed (it is reopened)."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return 0, b"", time.perf_counter() - t0
        elapsed = time.perf_counter() - t0
        if (resp.getheader("Connection") or "").lower() == "close":
            self.conn.close()
        return resp.status, payload, elapsed

    def json(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict:
        """The decoded answer; ``RuntimeError`` unless the status is ``expect``."""
        status, payload, _ = self.request(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path} -> {status} {payload[:300]!r}")
        return json.loads(payload) if payload else {}

    def close(self) -> None:
        self.conn.close()


def bearer(port: int, username: str, password: str, description: str = "bench", scope: str = "write") -> str:
    """A new API token of the user (``POST /api/v2/tokens/`` with Basic auth) as a Bearer value."""
    c = Client(port, basic(username, password))
    try:
        token = c.json("POST", "/api/v2/tokens/", {"description": description, "scope": scope}, expect=201)["token"]
    finally:
        c.close()
    return f"Bearer {token}"


def drive(worker: Callable[[int, Callable[[], float]], None], threads: int, seconds: float,
          server: Server | None = None) -> dict:
    """Run ``worker(n, go)`` in ``threads`` threads whose load starts together: each sets itself
    up (its own connection), calls ``go()``, which returns once every thread is ready with the
    ``time.perf_counter()`` at which to stop, and loops until then.  Returns the phase's wall
    ``seconds`` and the CPU seconds the server (NaN without ``server``) and this process spent."""
    barrier = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def go() -> float:
        barrier.wait()
        return stop_at[0]

    pool = [threading.Thread(target=worker, args=(n, go), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    cpu0 = server.cpu_seconds() if server else float("nan")
    client0 = time.process_time()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    barrier.wait()
    for t in pool:
        t.join()
    return {"seconds": time.perf_counter() - t0,
            "server_cpu_s": (server.cpu_seconds() - cpu0) if server else float("nan"),
            "client_cpu_s": time.process_time() - client0}


# -- a run's scratch space -----------------------------------------------------------------------
@contextlib.contextmanager
def scratch(prefix: str, keep: bool = False) -> Iterator[tuple[Path, list[Server]]]:
    """``(work dir, servers)``: a fresh temporary directory and a list for the servers the run
    starts.  On the way out, error or not, every listed server is stopped (stopping twice is
    harmless), then the directory is removed, or kept and named on stderr when ``keep``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    servers: list[Server] = []
    try:
        yield work, servers
    finally:
        for server in servers:
            server.stop()
        if keep:
            print(f"kept {work}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


# -- seeding --------------------------------------------------------------------------------------
def open_for_seeding(data_dir: str, admin_password: str):
    """``(state, ctx)``: the data dir opened (migrated) as the server opens it, with the ``admin``
    user, and the system context that creates rows through ``crud.create`` (validation, roles,
    activity stream), so seeded data is what the API would have made.  Close ``state.store``."""
    from controller import open_state
    from controller.config import Settings
    from controller.services import bootstrap

    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    bootstrap.ensure_admin(state, admin_password)
    return state, bootstrap.system_context(state)

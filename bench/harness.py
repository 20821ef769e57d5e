"""What every Turret benchmark needs, written once: the real server as a subprocess
(``python -m controller serve`` on 127.0.0.1, as ``tests/conftest.py``'s ``start_controller``
starts it), a keep-alive HTTP client, API tokens, a data dir opened for seeding through the
service layer, per-process CPU and RSS from ``/proc``, percentiles, and the context of a run
(load average, ``git describe``).

The server lives in ``bench/server.py`` and the ``/proc`` figures in ``bench/procs.py``; this
module re-exports their names (``harness.Server``, ``harness.descendants``, ...), so a benchmark
needs only ``import harness``.  Here: statistics and run context, the client, load driving,
scratch space and seeding.

The benchmark scripts (``*_bench.py``) and their helper modules (``jobs_support.py``, ...)
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
if str(BENCH) not in sys.path:      # the sibling modules below, however this one was found
    sys.path.insert(0, str(BENCH))

# re-exported: the benchmarks use them as `harness.<name>` / `from harness import <name>`
from procs import CLK_TCK, children, cmdline, cpu_seconds, descendants, pss_kb, rss_kb  # noqa: E402
from server import START_TIMEOUT, Server, free_port, serve_command, server_env  # noqa: E402

__all__ = [
    "BENCH", "REPO", "CLK_TCK", "START_TIMEOUT",
    "begin", "finish", "pct", "stats_ms", "progress", "loadavg", "git_describe",
    "descendants", "children", "cmdline", "rss_kb", "pss_kb", "cpu_seconds",
    "free_port", "serve_command", "server_env", "Server",
    "basic", "Client", "bearer", "drive", "scratch", "open_for_seeding",
]


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

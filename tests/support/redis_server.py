"""A real Redis server for the scale-out tests: Debian's ``redis-server`` (installed by
``setup_redis.sh`` when missing), started on a free loopback port with no persistence unless
asked, stopped (and restartable, for broker-restart tests) by the test.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SETUP = Path(__file__).with_name("setup_redis.sh")


def ensure_redis_server() -> str:
    """The redis-server binary, installing it through the project's script; skips the calling
    test with the reason when it cannot be installed (no root, no package registry)."""
    found = shutil.which("redis-server")
    if found:
        return found
    proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=600)
    found = shutil.which("redis-server")
    if proc.returncode != 0 or not found:
        pytest.skip(f"redis-server could not be installed: {proc.stderr.strip()[-400:]}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server process on 127.0.0.1:``port``; ``password`` set → ``requirepass``.
    ``stop()``/``start()`` keep the port (and, with ``persist``, the data) so a test can
    restart the broker under running workers."""

    def __init__(self, workdir: Path, password: str = "", persist: bool = False) -> None:
        self.binary = ensure_redis_server()
        self.port = free_port()
        self.password = password
        self.persist = persist
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--protected-mode", "yes",
                "--dir", str(self.workdir), "--daemonize", "no", "--loglevel", "warning"]
        if self.persist:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        else:
            args += ["--appendonly", "no", "--save", ""]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.proc.stderr.read().decode()[-400:]}")  # type: ignore[union-attr]
            if self._pong():
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING within 15 s")

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                if self.password:
                    s.sendall(f"AUTH {self.password}\r\n".encode())
                    s.recv(64)
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    """A fresh Redis on a free loopback port for one test (no password, no persistence)."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()

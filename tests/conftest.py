"""Shared test fixtures: a real controller on 127.0.0.1 and an HTTP client for it.

``start_controller(base)`` launches ``python -m controller serve`` as a subprocess
on a free port with its own data dir and waits for ``/api/v2/ping/``.  The
``controller`` fixture gives one such server per test module (run the suite with
``--dist loadfile`` so a module stays on one xdist worker); ``api`` is a
``requests.Session`` client bound to it, authenticated as the admin with Basic auth.

Only ``requests`` and the standard library are used here.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

ADMIN_USERNAME = "admin"
DEFAULT_ADMIN_PASSWORD = "turret-test-admin-pw"
START_TIMEOUT = 15.0

_RUNNING: list["LiveController"] = []


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiClient:
    """A tiny ``requests.Session`` wrapper: ``client.get("/api/v2/organizations/")``.

    Paths are root-relative (as the API returns them in ``url``/``related``);
    absolute URLs are used as given.  Every method returns the ``requests.Response``.
    """

    def __init__(
        self,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            self.session.auth = (username, password or "")

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("OPTIONS", path, **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveController:
    """A running ``python -m controller serve`` subprocess."""

    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path,
                 admin_password: str, log_dir: Path) -> None:
        self.proc = proc
        self.port = port
        self.host = "127.0.0.1"
        self.url = f"http://127.0.0.1:{port}"
        self.data_dir = data_dir
        self.admin_username = ADMIN_USERNAME
        self.admin_password = admin_password
        self.log_dir = log_dir
        self.stdout_path = log_dir / "server.stdout.log"
        self.stderr_path = log_dir / "server.stderr.log"

    def __repr__(self) -> str:
        return f"<LiveController {self.url} pid={self.proc.pid} data_dir={self.data_dir}>"

    def stdout(self) -> str:
        return _read(self.stdout_path)

    def stderr(self) -> str:
        return _read(self.stderr_path)

    def client(self, username: str | None = None, password: str | None = None,
               token: str | None = None) -> ApiClient:
        """An :class:`ApiClient` for this server (admin Basic auth by default)."""
        if username is None and token is None:
            username, password = self.admin_username, self.admin_password
        return ApiClient(self.url, username=username, password=password, token=token)

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate the server (and anything it spawned in its session)."""
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(timeout)
        else:
            # The leader is gone; make sure no child it started lingers.
            _signal_group(self.proc, signal.SIGKILL)
        return self.proc.returncode


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    # The server runs in its own session (start_new_session=True), so its pid is
    # the process group id of everything it started, and only of that.
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _stop_leftovers() -> None:  # e.g. after Ctrl-C skipped fixture teardown
    for live in list(_RUNNING):
        live.stop(timeout=5)


def _child_env(admin_password: str, env: dict[str, str] | None) -> dict[str, str]:
    # Hermetic: no TURRET_* setting from the developer's shell leaks into tests.
    out = {k: v for k, v in os.environ.items() if not k.startswith("TURRET_")}
    out["TURRET_ADMIN_PASSWORD"] = admin_password
    out["PYTHONUNBUFFERED"] = "1"
    out.update(env or {})
    return out


def start_controller(
    base: Any,
    admin_password: str = DEFAULT_ADMIN_PASSWORD,
    *,
    data_dir: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] | list[str] = (),
    timeout: float = START_TIMEOUT,
) -> LiveController:
    """Start a real controller and wait until ``GET /api/v2/ping/`` answers 200.

    ``base`` is a ``tmp_path_factory`` (a fresh directory is made from it) or a
    directory path.  The server's logs go there; its data dir is ``<base>/data``
    unless ``data_dir`` is given (pass a stopped server's ``.data_dir`` to restart
    on the same data).  ``env`` adds environment variables, ``args`` extra
    ``serve`` arguments.  Raises ``RuntimeError`` with the server's stderr when it
    does not come up within ``timeout`` seconds.
    """
    if hasattr(base, "mktemp"):
        work = Path(base.mktemp("controller"))
    else:
        work = Path(base)
        work.mkdir(parents=True, exist_ok=True)
    data = Path(data_dir) if data_dir is not None else work / "data"
    data.mkdir(parents=True, exist_ok=True)

    attempts = 3  # another process can grab the free port before the server binds it
    for attempt in range(1, attempts + 1):
        port = free_port()
        cmd = [
            sys.executable, "-m", "controller", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data),
            *args,
        ]
        live = _spawn(cmd, port, data, admin_password, work, env)
        try:
            _wait_ready(live, timeout)
            return live
        except RuntimeError as e:
            live.stop()
            address_in_use = "address already in use" in live.stderr().lower()
            if attempt < attempts and address_in_use:
                continue
            raise RuntimeError(
                f"{e}\ncommand: {' '.join(cmd)}\n"
                f"--- server stderr ({live.stderr_path}) ---\n{live.stderr()[-8000:]}\n"
                f"--- server stdout ---\n{live.stdout()[-2000:]}"
            ) from None
    raise AssertionError("unreachable")


def _spawn(cmd: list[str], port: int, data: Path, admin_password: str, work: Path,
           env: dict[str, str] | None) -> LiveController:
    with open(work / "server.stdout.log", "ab") as out, \
            open(work / "server.stderr.log", "ab") as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=work,
            env=_child_env(admin_password, env), start_new_session=True,
        )
    live = LiveController(proc, port, data, admin_password, work)
    _RUNNING.append(live)
    return live


def _wait_ready(live: LiveController, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    ping = f"{live.url}/api/v2/ping/"
    last = "no answer"
    with requests.Session() as s:
        while True:
            code = live.proc.poll()
            if code is not None:
                raise RuntimeError(f"controller exited with code {code} before answering {ping}")
            try:
                r = s.get(ping, timeout=1.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:300]}"
            except requests.RequestException as e:
                last = f"{type(e).__name__}: {e}"
            if time.monotonic() > deadline:
                raise RuntimeError(f"controller did not answer 200 on {ping} within {timeout:g}s (last: {last})")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def controller(tmp_path_factory, request):
    """One live controller per test module, shared by its tests; the module's ``CONTROLLER_ENV``
    (a dict, when it has one) is added to the controller's environment."""
    live = start_controller(tmp_path_factory, env=getattr(request.module, "CONTROLLER_ENV", None))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def api(controller):
    """An admin (Basic auth) :class:`ApiClient` bound to the module's controller."""
    client = controller.client()
    try:
        yield client
    finally:
        client.close()


# Tiers that start real processes (the awx CLI, ansible-playbook, Chromium, ansible-test, a
# scheduler run across processes) are slow by nature: `./dev test -m "not slow"` skips them
# for a quick loop.  Tests elsewhere opt in with @pytest.mark.slow.
_SLOW_DIRS = ("compat", "collection", "ui")
_SLOW_FILES = ("test_scheduler_multiprocess.py", "test_jobs.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        if any(d in parts[-3:-1] for d in _SLOW_DIRS) or parts[-1] in _SLOW_FILES:
            item.add_marker(pytest.mark.slow)

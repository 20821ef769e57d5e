"""A request body that arrives after its headers keeps the connection alive, whether or not the
view reads it (``controller.api.bodies``).

Real ``turret serve`` (granian, two workers) on 127.0.0.1 and a raw socket, because the failure
lives between the client's two writes: headers, a pause, then the body.  Before a view's unread
body was drained, granian closed the connection after every such answer whose view left the body
unread (a 405, a 401, an action such as ``/inventory_sources/N/update/``), often without
``Connection: close``, and the client's next request on it met a closed socket
(``RemoteDisconnected``: a CI flake of the UI suite, whose poll followed an update's 202).
Now what a view leaves of a small body is drained once the answer is ready.
"""
from __future__ import annotations

import base64
import io
import json
import socket
import time

import pytest

from controller.api.bodies import DRAIN_BYTES, install
from tests.conftest import start_controller

PAUSE = 0.1     # between the headers and the body: longer than any of these views takes


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_controller(tmp_path_factory, args=("--workers", "2"), env={"TURRET_WEB_SERVER": "granian"})
    yield server
    server.stop()


def _auth(live) -> str:
    return "Basic " + base64.b64encode(f"{live.admin_username}:{live.admin_password}".encode()).decode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length; raises ConnectionError on a closed socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed by the server after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server inside a body")
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def _late_body_then_ping(live, method: str, path: str, body: bytes, auth: str | None):
    """``method path`` with ``body`` sent PAUSE after the headers, then ``GET /api/v2/ping/`` on the
    same connection: (first status, first body, the ping's status and body)."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nAccept: application/json\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + (f"Authorization: {auth}\r\n" if auth else "") + "\r\n")
        sock.sendall(head.encode())
        time.sleep(PAUSE)
        sock.sendall(body)
        status, headers, payload = _read_response(sock)
        assert headers.get("connection", "").lower() != "close", headers
        time.sleep(PAUSE)           # the server's close, if it comes, comes now
        sock.sendall(f"GET /api/v2/ping/ HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n\r\n".encode())
        ping_status, _, ping_body = _read_response(sock)
        return status, json.loads(payload), ping_status, json.loads(ping_body)


@pytest.mark.parametrize("case", ["405 of a view without POST", "401 before any view", "a create"])
def test_a_late_body_keeps_the_connection_alive(live, case):
    auth = _auth(live)
    method, path, body, who, status, answer = {
        "405 of a view without POST": ("POST", "/api/v2/ping/", b"{}", auth, 405,
                                       {"detail": 'Method "POST" not allowed.'}),
        "401 before any view": ("POST", "/api/v2/organizations/", b'{"name": "never"}', None, 401,
                                {"detail": "Authentication credentials were not provided. To establish a "
                                           "login session, visit /api/login/."}),
        "a create": ("POST", "/api/v2/organizations/", b'{"name": "late body"}', auth, 201, None),
    }[case]
    for _ in range(5):              # new connections: both workers get their turn
        got_status, got, ping_status, ping = _late_body_then_ping(live, method, path, body, who)
        assert got_status == status, got
        if answer is not None:
            assert got == answer
        assert ping_status == 200 and "version" in ping
        if case == "a create":
            assert got["name"] == json.loads(body)["name"]
            body = b'{"name": "late body %d"}' % got["id"]    # a new name for the next round


class _Input(io.BytesIO):
    """A request body that records how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def _served(app_reads: int, declared: str, data: bytes) -> tuple[_Input, list[int]]:
    """A request with body ``data`` (``declared`` as its length) through the installed drain, to
    an app that reads ``app_reads`` bytes: (the body, what the app was handed to read from)."""
    seen: list[int] = []

    class App:
        def wsgi_app(self, environ, start_response):
            if app_reads:
                seen.append(len(environ["wsgi.input"].read(app_reads)))
            return [b""]
    app = App()
    install(app)  # type: ignore[arg-type]
    body = _Input(data)
    app.wsgi_app({"CONTENT_LENGTH": declared, "wsgi.input": body}, lambda *a: None)
    return body, seen


def test_the_drain_reads_only_what_the_app_left_of_a_small_declared_body():
    body, seen = _served(3, "8", b'{"a": 1}MORE')        # past the body: another request's bytes
    assert seen == [3] and body.asked == [3, 5] and body.tell() == 8
    body, _ = _served(8, "8", b'{"a": 1}MORE')           # read whole by the app: nothing more asked
    assert body.asked == [8] and body.tell() == 8
    for declared in ("", "abc", "0", str(DRAIN_BYTES + 1)):   # none, malformed, empty, too big
        body, _ = _served(0, declared, b"x" * (DRAIN_BYTES + 2))
        assert body.asked == [] and body.tell() == 0

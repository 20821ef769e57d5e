"""The load generator's connection: keep-alive ``GET`` over a raw socket.

The load phases run on the same 2 cores as the server they measure, so what the client spends
per request is taken from the server: ``http.client`` spent ~0.25 ms of CPU on each list
request (header parsing through ``email``, per-request header dicts), a quarter of a core at
1,000 req/s.  This client sends each path's request bytes, built once, and reads the answer by
its ``Content-Length``: ~0.12 ms per list request with the check of its JSON, ~0.05 ms per
``ping``.  It sends what ``harness.Client`` sends (``Host``,
``Accept-Encoding: identity``, ``Accept``, ``Authorization``) and gives the same
``(status, payload, seconds)``, so the answers are checked the same way.  ``GET`` only; an
answer without ``Content-Length`` (chunked, or read to close) counts as a failed request.
"""
from __future__ import annotations

import socket
import time

_END = b"\r\n\r\n"


class GetClient:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 for ``GET`` requests with a fixed
    ``Authorization`` (one per thread)."""

    def __init__(self, port: int, auth: str | None = None, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.head = (f"Host: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nAccept: application/json\r\n"
                     + (f"Authorization: {auth}\r\n" if auth else "") + "\r\n").encode()
        self.built: dict[str, bytes] = {}
        self.sock: socket.socket | None = None
        self.buf = b""

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes, float]:
        """``(status, payload, seconds)``; status 0 when the connection failed or the answer
        could not be read (the connection is reopened for the next request)."""
        if method != "GET" or body is not None:
            raise ValueError("GetClient sends GET requests without a body")
        data = self.built.get(path)
        if data is None:
            data = self.built[path] = f"GET {path} HTTP/1.1\r\n".encode() + self.head
        t0 = time.perf_counter()
        try:
            if self.sock is None:
                self._connect()
            assert self.sock is not None
            self.sock.sendall(data)
            status, length, close = self._head()
            payload = self._body(length)
        except (OSError, ValueError):
            self.close()
            return 0, b"", time.perf_counter() - t0
        elapsed = time.perf_counter() - t0
        if close:
            self.close()
        return status, payload, elapsed

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    # -- reading ---------------------------------------------------------------------------
    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _recv(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ValueError("connection closed")
        self.buf += chunk

    def _head(self) -> tuple[int, int, bool]:
        """(status, Content-Length, whether the server closes the connection after it)."""
        end = self.buf.find(_END)
        while end < 0:
            self._recv()
            end = self.buf.find(_END)
        head, self.buf = self.buf[:end], self.buf[end + len(_END):]
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = -1, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not read")
        if length < 0:
            if status in (204, 304) or 100 <= status < 200:
                return status, 0, close
            raise ValueError("no Content-Length")
        return status, length, close

    def _body(self, length: int) -> bytes:
        while len(self.buf) < length:
            self._recv()
        payload, self.buf = self.buf[:length], self.buf[length:]
        return payload

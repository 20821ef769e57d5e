"""The WSGI app served through granian's RSGI interface: reads run inline, the rest on threads.

Why: granian's WSGI interface hands every request to a pool of blocking threads.  Under load
its pool wakes a different thread for each request and runs several at once in one process;
on this project's 2-core benchmark that costs ~15-25 % of the list requests' throughput
against one thread per worker (``bench/README.md``).  One thread per worker cannot be the WSGI
default, because a browser following live output holds its thread for the job's duration.
Here a worker's reads run back to back on its event loop thread and nothing that may wait
holds that thread.

Contract (:class:`WSGIOverRSGI`):

* A ``GET``, ``HEAD`` or ``OPTIONS`` without a body, and with a Bearer token or no credentials
  at all, is answered inline, on the event loop thread: such reads only read (SQLite WAL never
  makes a reader wait) and authenticate with one look-up.  Actions declared ``slow``
  (``api.actions.SLOW_READS``: a project's folder walked, a job's whole output) and views
  marked ``slow`` (``api.web.slow``: the metrics scrape, the job graph, which aggregate over the
  job history) are not: :class:`SlowReads`.
  Basic credentials (a password hash when not cached, the failed-login throttle's delay and
  count) and cookies (a browser session's expiry slides with a write) go to the pool instead.
* Every other request (writes, which may wait for SQLite's write lock; any request with a
  body) runs on a pool of ``threads`` threads, reading its body lazily from the loop, as a WSGI
  server's ``wsgi.input`` would: nothing is read before the app asks (authentication and the
  413 of ``MAX_CONTENT_LENGTH`` come first).  A chunked body (``Transfer-Encoding``, which
  wins over a ``Content-Length`` beside it) is cut at ``max_body`` by a 413 as soon as a byte
  past it exists (werkzeug's own maximum stops there silently).  A client that sends no body
  byte for :data:`BODY_IDLE_SECONDS` is disconnected (400), so it cannot hold a pool thread.
  granian reports a body that breaks off the same way as its end: a sized body then falls short
  of its length (400), a chunked one is taken as it came.
* An answer without ``Content-Length`` (live output's Server-Sent Events) is streamed: it is
  iterated on the pool, never on the loop, so a viewer holds a pool thread, not the worker's
  reads.  Such an iterator must not depend on the request context (no
  ``stream_with_context``): it may be iterated on another thread than the one that called the
  app.  granian's RSGI stream has no back-pressure (an unbounded channel), so a streamed
  answer must bound what it produces itself (live output ends a response after
  ``STREAM_BUDGET`` bytes and the client resumes with ``Last-Event-ID``).
* The environ is a WSGI server's (PEP 3333): ``PATH_INFO`` is the percent-decoded path as
  Latin-1 text, headers are ``HTTP_*`` (repeated ones joined with ``,``, cookies with ``;``).
"""
from __future__ import annotations

import asyncio
import io
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from .paths import unaliased

log = logging.getLogger("turret.serve")
INLINE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WAIT_SECONDS = 1.0         # a pool thread waiting on the loop looks this often whether it still runs
BODY_IDLE_SECONDS = 60.0   # longest wait for a request body's next bytes (waitress's channel_timeout: 120 s)
_WSGI_BASE = {"GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "wsgi.version": (1, 0), "wsgi.errors": sys.stderr,
              "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
              "SERVER_SOFTWARE": "Granian"}


@dataclass(frozen=True)
class SlowReads:
    """Reads that may take long, answered on the pool: ``actions`` holds the ``(plural,
    action)`` of ``/api/v2/<plural>/<id>/<action>/`` (plural ``*``: every resource's), ``paths``
    whole paths (``/api/v2/metrics/``); either API prefix, with or without the trailing slash."""
    actions: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    paths: frozenset[str] = field(default_factory=frozenset)

    def __contains__(self, path: str) -> bool:
        path = unaliased(path).rstrip("/") + "/"
        if path in self.paths:
            return True
        parts = path.strip("/").split("/")
        return (len(parts) == 5 and parts[0] == "api"
                and ((parts[2], parts[4]) in self.actions or ("*", parts[4]) in self.actions))


class _Started:
    """``start_response``: keeps the status code and headers."""
    __slots__ = ("status", "headers")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = int(status.split(" ", 1)[0])
        self.headers = headers


class _LoopBody(io.RawIOBase):
    """A request body read from a pool thread: each chunk is awaited on the event loop.  With a
    ``limit``, more bytes than that raise a 413; no bytes for ``idle`` seconds a 400."""

    def __init__(self, chunks: Any, loop: asyncio.AbstractEventLoop, limit: int | None = None,
                 idle: float = BODY_IDLE_SECONDS) -> None:
        super().__init__()
        self._chunks = chunks
        self._loop = loop
        self._limit = limit
        self._idle = idle
        self._left = b""
        self._taken = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        """Wait for the next bytes of the body, unless it has ended."""
        while not self._left and not self._done:
            try:
                chunk = on_loop(_next_chunk(self._chunks), self._loop, self._idle)
            except ConnectionError:
                raise ClientDisconnected() from None
            if chunk is None:
                self._done = True
            else:
                self._left = chunk

    def readinto(self, buffer: Any) -> int:
        self._fill()
        size = min(len(buffer), len(self._left))
        if self._limit is not None and self._taken + size > self._limit:
            raise RequestEntityTooLarge()
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        self._taken += size
        if self._limit is not None and self._taken == self._limit:
            self._fill()                # werkzeug asks no further: is there a byte past the limit?
            if self._left:
                raise RequestEntityTooLarge()
        return size


async def _next_chunk(chunks: Any) -> bytes | None:
    """The body's next chunk (maybe empty), None at its end."""
    try:
        return bytes(await chunks.__anext__())
    except StopAsyncIteration:
        return None


def on_loop(coroutine: Any, loop: asyncio.AbstractEventLoop, timeout: float | None = None) -> Any:
    """``coroutine``'s result, run on ``loop`` from a pool thread.  ConnectionError once the loop
    has stopped (a worker shutting down) or after ``timeout`` seconds, rather than waiting for
    ever."""
    try:
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    except RuntimeError:        # the loop is closed
        coroutine.close()
        raise ConnectionError("the worker's event loop is closed") from None
    waited = 0.0
    while True:
        try:
            return future.result(WAIT_SECONDS)
        except TimeoutError:
            waited += WAIT_SECONDS
            if not loop.is_running() or (timeout is not None and waited >= timeout):
                future.cancel()
                raise ConnectionError("no answer from the worker's event loop") from None


async def _send(transport: Any, chunk: bytes) -> None:
    await transport.send_bytes(chunk)      # granian's awaitable is no coroutine: wrapped for the loop


def _host_port(address: str) -> tuple[str, str]:
    """``host:port`` (``[v6]:port``) split, the host without its brackets."""
    host, _, port = address.rpartition(":")
    return (host[1:-1] if host.startswith("[") else host), port


def environ_of(scope: Any) -> dict:
    """The WSGI environ of an RSGI HTTP ``scope`` (without ``wsgi.input``)."""
    server_host, server_port = _host_port(scope.server)
    env = {**_WSGI_BASE, "REQUEST_METHOD": scope.method,
           # RSGI decodes the path as UTF-8; WSGI wants its bytes as Latin-1 text
           "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
           "QUERY_STRING": scope.query_string, "SERVER_NAME": server_host, "SERVER_PORT": server_port,
           "SERVER_PROTOCOL": f"HTTP/{scope.http_version}", "REMOTE_ADDR": _host_port(scope.client)[0],
           "wsgi.url_scheme": scope.scheme}
    headers = scope.headers
    for name in headers.keys():
        if name in ("content-type", "content-length"):
            env[name.upper().replace("-", "_")] = headers[name]
            continue
        values = headers.get_all(name)
        env["HTTP_" + name.upper().replace("-", "_")] = (";" if name == "cookie" else ",").join(values)
    if "HTTP_HOST" not in env:
        env["HTTP_HOST"] = scope.authority or ""      # as granian's WSGI interface sets it
    return env


def _has_body(headers: Any) -> bool:
    return headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers


def inline(scope: Any, slow: SlowReads = SlowReads()) -> bool:
    """Whether the request is answered on the event loop thread (see the module contract);
    ``slow`` reads never are."""
    headers = scope.headers
    if scope.method not in INLINE_METHODS or _has_body(headers) or "cookie" in headers:
        return False
    if scope.path in slow:
        return False
    credentials = headers.get("authorization", "")
    return not credentials or credentials[:7].lower() == "bearer "


def _streamed(method: str, status: int, headers: list[tuple[str, str]]) -> bool:
    """An answer to iterate as it comes: no ``Content-Length``, and one that has a body (werkzeug
    drops the length of a 204 or 304)."""
    if method == "HEAD" or status in (204, 304) or status < 200:
        return False
    return not any(name.lower() == "content-length" for name, _ in headers)


def _close(answer: Iterable[bytes]) -> None:
    close = getattr(answer, "close", None)
    if close is not None:
        close()


class WSGIOverRSGI:
    """An RSGI application serving the WSGI ``app`` (see the module contract)."""

    def __init__(self, app: Callable, threads: int, max_body: int, slow: SlowReads = SlowReads()) -> None:
        self._app = app
        self._threads = max(1, threads)
        self._max_body = max_body
        self._slow = slow
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        # made in the worker process, on first use: no thread crosses granian's fork
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="turret-web")
        return self._pool

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":       # no websocket route
            return
        environ = environ_of(scope)
        loop = asyncio.get_running_loop()
        if inline(scope, self._slow):
            environ["wsgi.input"] = io.BytesIO(b"")
            started, answer, body = self._answer(scope.method, environ)
        else:
            limit = None
            if "transfer-encoding" in scope.headers:
                environ.pop("CONTENT_LENGTH", None)     # RFC 9112: the chunked framing wins
                environ["wsgi.input_terminated"] = True     # ends where the client's body does
                limit = self._max_body
            environ["wsgi.input"] = io.BufferedReader(_LoopBody(proto.__aiter__(), loop, limit))
            started, answer, body = await loop.run_in_executor(self.pool, self._answer, scope.method, environ)
        if body is not None:
            proto.response_bytes(started.status, started.headers, body)
            return
        transport = proto.response_stream(started.status, started.headers)
        await loop.run_in_executor(self.pool, _pump, answer, transport, loop)

    def _answer(self, method: str, environ: dict) -> tuple[_Started, Iterable[bytes], bytes | None]:
        """Call the app: its status and headers, then its answer as bytes, or still to iterate
        (None) when it is streamed."""
        started = _Started()
        answer = self._app(environ, started)
        if _streamed(method, started.status, started.headers):
            return started, answer, None
        try:
            return started, answer, b"".join(answer)
        finally:
            _close(answer)


def _pump(answer: Iterable[bytes], transport: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Send a streamed answer's chunks until it ends or the client is gone (on a pool thread)."""
    try:
        for chunk in answer:
            if chunk:
                try:
                    on_loop(_send(transport, bytes(chunk)), loop)
                except (RuntimeError, ConnectionError):  # granian's RSGIProtocolClosed: client gone
                    return
    except Exception:   # noqa: BLE001 - the status line is gone: log it, the client sees the end
        log.exception("a streamed answer failed")
    finally:
        _close(answer)

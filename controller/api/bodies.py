"""What a view leaves of a small request body is read and dropped before the answer goes out.

Why: a view that answers without reading its body (an action such as
``/inventory_sources/N/update/``, a 405, a 401) leaves the body unread.  granian passes the
body through lazily, and when the handler is done while the body's bytes are still on the way
(a client that sends headers and body in two writes, as urllib3 does, and is paused between
them), its HTTP layer stops reading and closes the connection after the answer, often without
``Connection: close``.  The client's next request on that kept-alive connection then meets a
closed socket (``RemoteDisconnected`` in requests and awxkit, which do not retry).

Contract: after the app has produced its answer (before a streamed answer is iterated), the rest
of a body whose declared ``Content-Length`` is at most :data:`DRAIN_BYTES` is read and
discarded, so the connection stays in step; only the rest: the app's reads are counted, and
nothing past the declared length is ever asked for (PEP 3333; a raw socket stream would wait).
Nothing is read before the app runs (authentication and the 413 of ``MAX_BODY_BYTES`` come
first, as before) and nothing is kept: a larger unread body, or one without a length (chunked),
is left to the server, which may close the connection rather than wait for it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from flask import Flask

DRAIN_BYTES = 64 * 1024     # API bodies a view may ignore are small ({} to an action); beyond, close


class _Counted:
    """``wsgi.input`` counting the bytes the app took, so a drain reads only what is left: past
    the declared length a server's raw stream (werkzeug's own server) would wait for bytes that
    never come."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.taken = 0

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        self.taken += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self.stream.readline(*args)
        self.taken += len(data)
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self.stream.readlines(*args)
        self.taken += sum(len(line) for line in lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.taken += len(line)
            yield line


def _declared(environ: dict, limit: int) -> int:
    """The declared body length when it is one to drain (1 to ``limit`` bytes), else 0."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0            # werkzeug answers a bad length itself
    return length if 0 < length <= limit else 0


def drain(counted: _Counted, length: int) -> None:
    """Read and drop what the app left of a ``length``-byte body (see the module contract)."""
    left = length - counted.taken
    if left > 0:
        try:
            counted.stream.read(left)
        except Exception:   # noqa: BLE001 - any server's "client gone": the answer is ready, the
            pass            # server ends that connection anyway


def install(app: Flask, limit: int = DRAIN_BYTES) -> None:
    """Drain every request's small unread body once the app has answered it."""
    inner: Callable = app.wsgi_app

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = _declared(environ, limit)
        if not length:
            return inner(environ, start_response)
        counted = environ["wsgi.input"] = _Counted(environ["wsgi.input"])
        answer = inner(environ, start_response)
        drain(counted, length)
        return answer

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

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
discarded, so the connection stays in step.  Nothing is read before the app runs (authentication
and the 413 of ``MAX_BODY_BYTES`` come first, as before) and nothing is kept: a larger unread
body, or one without a length (chunked), is left to the server, which may close the connection
rather than wait for it.
"""
from __future__ import annotations

from typing import Callable, Iterable

from flask import Flask

DRAIN_BYTES = 64 * 1024     # API bodies a view may ignore are small ({} to an action); beyond, close


def drain(environ: dict, limit: int = DRAIN_BYTES) -> None:
    """Read and drop what is left of a declared body of at most ``limit`` bytes (see the module
    contract); a body the app read whole gives an empty read at once."""
    declared = environ.get("CONTENT_LENGTH")
    if not declared:
        return
    try:
        length = int(declared)
    except ValueError:
        return              # werkzeug answered a bad length itself
    if 0 < length <= limit:
        try:
            environ["wsgi.input"].read(length)
        except Exception:   # noqa: BLE001 - any server's "client gone": the answer is ready, the
            pass            # server ends that connection anyway


def install(app: Flask) -> None:
    """Drain every request's small unread body once the app has answered it."""
    inner: Callable = app.wsgi_app

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = inner(environ, start_response)
        drain(environ)
        return answer

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

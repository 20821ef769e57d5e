"""Every request body is read whole before the app sees the request, whatever the view does
with it.

Why: a view that answers without reading its body (an action such as
``/inventory_sources/N/update/``, a 405, a 401) leaves the body unread.  granian passes the
body through lazily, and when the handler drops it while its bytes are still on the way (a
client that sends headers and body in two writes, as urllib3 does, and is paused between them),
its HTTP layer stops reading and closes the connection after the answer, often without
``Connection: close``.  The client's next request on that kept-alive connection then meets a
closed socket (``RemoteDisconnected`` in requests and awxkit, which do not retry).  Reading the
declared body first keeps the connection in step on every server (waitress buffers bodies
already; gunicorn and granian do not).

Contract: a body whose declared ``Content-Length`` is at most ``limit`` is read into memory and
handed to the app as ``wsgi.input``; a larger one is left to the app, which refuses it (413)
without reading it; a body without a length (chunked) is streamed as before.
"""
from __future__ import annotations

import io
from typing import Callable, Iterable

from flask import Flask


def read_ahead(environ: dict, limit: int) -> None:
    """Replace ``wsgi.input`` by the declared body, read now (see the module contract)."""
    declared = environ.get("CONTENT_LENGTH")
    if not declared:
        return
    try:
        length = int(declared)
    except ValueError:
        return              # werkzeug answers a bad length itself
    if 0 < length <= limit:
        # A client that closes before sending all it declared leaves fewer bytes: werkzeug
        # still limits the stream to the declared length and answers that short body as it
        # would have reading the socket itself (400).
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))


def install(app: Flask, limit: int) -> None:
    """Read every request's body (up to ``limit`` bytes) before Flask handles the request."""
    inner: Callable = app.wsgi_app

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        read_ahead(environ, limit)
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

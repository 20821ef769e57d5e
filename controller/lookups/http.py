"""The one HTTP client of the external secret lookups (stdlib ``urllib``/``ssl`` only).

Contracts:
  * :func:`call` never follows a redirect (a secret store that answers 3xx gets that answer
    back, as AWX's plugins ask ``requests`` for), verifies TLS unless told not to, trusts an
    extra CA given as PEM text, and can present a client certificate (PEM text, written to a
    0600 temporary file only for as long as ``ssl`` needs to read it).
  * Every failure is a :class:`LookupFailed` whose message names the status or the network
    problem and the server's host only: never a URL query, a header, a body or a secret.
"""
from __future__ import annotations

import json
import os
import ssl
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

TIMEOUT = 30.0


class LookupFailed(Exception):
    """A secret could not be fetched; the message is safe to show (no secret in it)."""


@dataclass
class Reply:
    """A server's answer: status, headers (lower-case names) and body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a :class:`LookupFailed`."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise LookupFailed(f"HTTP {self.status}: the answer is not JSON") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None     # the 3xx answer itself comes back as an HTTPError


def _context(url: str, cacert: str | None, verify: bool,
              client_cert: tuple[str, str] | None) -> ssl.SSLContext | None:
    if urlsplit(url).scheme != "https":
        return None
    context = ssl.create_default_context(cadata=cacert) if cacert else ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert and client_cert[0]:
        # ssl reads a certificate chain from a file only: the file lives for one call, mode 0600
        fd, path = tempfile.mkstemp(prefix="turret-lookup-", suffix=".pem")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(client_cert[0].strip() + "\n" + (client_cert[1] or "").strip() + "\n")
            context.load_cert_chain(path)
        except ssl.SSLError:
            raise LookupFailed("the client certificate or its key cannot be loaded") from None
        finally:
            os.unlink(path)
    return context


def where(url: str) -> str:
    """What an error may say about a URL: its scheme and host (no path, query or user info)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':%d' % parts.port if parts.port else ''}"


def call(method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None,
         cacert: str | None = None, verify: bool = True, client_cert: tuple[str, str] | None = None,
         timeout: float = TIMEOUT) -> Reply:
    """One request; any answer (2xx to 5xx) comes back as a :class:`Reply`.  A URL that is not
    http(s), a network error or a TLS error is a :class:`LookupFailed`."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise LookupFailed("Invalid URL: a http:// or https:// URL with a host is required")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    handlers: list[Any] = [_NoRedirect()]
    context = _context(url, cacert, verify, client_cert)
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as answer:
            return Reply(answer.status, answer.read(), {k.lower(): v for k, v in answer.headers.items()})
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read() or b"", {k.lower(): v for k, v in (exc.headers or {}).items()})
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LookupFailed(f"cannot reach {where(url)}: {type(reason).__name__}: {reason}") from None


def expect_ok(reply: Reply) -> Reply:
    """``reply`` when its status is 2xx; otherwise :class:`LookupFailed` ``HTTP <status>`` (AWX's
    test message)."""
    if not 200 <= reply.status < 300:
        raise LookupFailed(f"HTTP {reply.status}")
    return reply


def json_body(data: Any) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a JSON request."""
    return json.dumps(data).encode(), {"Content-Type": "application/json", "Accept": "application/json"}

"""What every sender shares: the message, the failure, and one HTTP exchange over urllib.

Why urllib and not ``requests`` or apprise: the controller's dependencies stay small, and each
wire format here must match AWX's (or the service's documented one) byte for byte, which a
hand-written request shows at a glance; apprise reshapes bodies (titles, formats) per service.
"""
from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from controller.config import VERSION

USER_AGENT = f"Turret {VERSION}"
# Largest response body read from a receiver (their answers are small JSON documents).
MAX_REPLY_BYTES = 1024 * 1024


class SendError(Exception):
    """A notification could not be delivered.  The text is stored in ``notifications.error``:
    it names the destination's host at most, never a URL, token or password."""


@dataclass(frozen=True)
class Message:
    """One rendered notification.

    ``subject`` is the rendered ``message`` template (one line); ``body`` the rendered body
    template, a ``str`` (a ``dict`` in records stored before bodies were kept as text, and in a
    test send of some types).
    ``url`` is the job's (or approval's) UI address and ``status`` the job status the event is
    about; ``context`` the template context (for senders that want more facts).  ``timeout``
    bounds every network wait of one send, in seconds (connect, each read).
    """
    subject: str
    body: Any
    url: str = ""
    status: str = ""
    context: dict | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: any status (4xx/5xx are answers, not exceptions)."""
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx answers back to the caller: redirects are the caller's decision (AWX's webhook
    follows 301/307 itself; the other types treat any answer below 400 as delivered)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def host_of(url: str) -> str:
    """``host[:port]`` of ``url`` — what an error text may name (paths and queries carry tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` value of HTTP Basic authentication (sent preemptively, as requests does)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def request(method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout: float,
            verify: bool = True, what: str = "notification") -> Reply:
    """Send one HTTP request without following redirects and return the answer.

    Raises SendError (naming ``what`` and the host only) when there is no answer: bad URL,
    connection refused, TLS failure, timeout.  ``verify=False`` skips certificate checks.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise SendError(f"Error sending {what}: the URL must start with http:// or https://")
    headers = dict(headers)
    if parts.username is not None or parts.password is not None:
        # ``https://user:pw@host/``: urllib cannot connect to that; requests (AWX) turns it into
        # Basic auth unless the request has its own Authorization.
        url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        if not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = basic_auth(unquote(parts.username or ""), unquote(parts.password or ""))
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read(MAX_REPLY_BYTES))
    except urllib.error.HTTPError as exc:
        payload = exc.read(MAX_REPLY_BYTES) if exc.fp is not None else b""
        return Reply(exc.code, dict(exc.headers.items()) if exc.headers else {}, payload)
    except urllib.error.URLError as exc:
        raise SendError(f"Error sending {what} to {host_of(url)}: {describe(exc.reason, timeout)}") from None
    except (OSError, ValueError) as exc:   # timeouts while reading, TLS errors, malformed URLs
        raise SendError(f"Error sending {what} to {host_of(url)}: {describe(exc, timeout)}") from None


def describe(reason: object, timeout: float) -> str:
    """A short, secret-free text for a network failure."""
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({getattr(reason, 'reason', None) or type(reason).__name__})"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def post_json(url: str, payload: Any, message: Message, *, headers: Mapping[str, str] | None = None,
              verify: bool = True, what: str = "notification") -> Reply:
    """POST ``payload`` as UTF-8 JSON (non-ASCII kept as is) and return the answer."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    return request("POST", url, body=data, headers=all_headers, timeout=message.timeout, verify=verify, what=what)


def require_ok(reply: Reply, what: str) -> Reply:
    """Raise AWX's ``Error sending notification <what>: <status>`` for a 4xx/5xx answer."""
    if reply.status >= 400:
        raise SendError(f"Error sending notification {what}: {reply.status}")
    return reply


def resolve_location(url: str, reply: Reply) -> str | None:
    """The absolute target of a redirect answer, or None when it names none."""
    location = next((v for k, v in reply.headers.items() if k.lower() == "location"), None)
    return urljoin(url, location) if location else None


def text_of(message: Message, limit: int = 0) -> str:
    """Subject and body as one plain text (the body only when it is non-empty text), cut to
    ``limit`` characters when ``limit`` is set."""
    body = message.body if isinstance(message.body, str) else ""
    text = f"{message.subject}\n\n{body}" if body.strip() else message.subject
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (0: no limit), ending with an ellipsis when cut."""
    return text if not limit or len(text) <= limit else text[:limit - 1] + "…"


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def as_list(value: Any) -> list[str]:
    """A list config value as strings; a lone string is a one-item list (as AWX: a Slack
    recipient may itself hold a comma, ``chan,thread_ts``)."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return [str(v) for v in value]

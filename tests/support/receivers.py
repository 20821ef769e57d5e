"""Local receivers for notification tests, each on a free 127.0.0.1 port and a thread of its own.

* :class:`HttpSink` records every request (method, path, query, headers, body) and answers
  with a configurable status/JSON (or redirect, or a delay past the client's timeout);
* :class:`SmtpSink` is a real SMTP server (aiosmtpd) keeping each received message, with
  optional AUTH;
* :class:`IrcSink` is a tiny IRC server: welcomes a client, confirms JOINs, records every line.

Use them as context managers (``with HttpSink() as sink: ...``); they stop on exit.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import socketserver
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate (and key, in the same PEM file) for ``127.0.0.1``/``localhost``;
    point ``SSL_CERT_FILE`` at it to make clients trust it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = folder / "receiver.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def server_tls(certificate: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting ``certificate``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    return context


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One HTTP request as the sink saw it (header names lower-cased)."""
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (None when the body is empty)."""
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def fields(self) -> dict[str, str]:
        """The form body's first value of each field."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class Answer:
    """What the sink answers: status, JSON body (or raw bytes), extra headers, a delay first."""
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class ServedSink:
    """A socketserver on 127.0.0.1 served by a thread between ``__enter__`` and ``__exit__``
    (TLS from the first byte with a ``certificate``)."""

    def _serve(self, server: socketserver.BaseServer, certificate: Path | None) -> None:
        self.server = server
        server.daemon_threads = True  # type: ignore[attr-defined]
        if certificate is not None:
            server.socket = server_tls(certificate).wrap_socket(server.socket, server_side=True)  # type: ignore
        self.port = server.server_address[1]  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class HttpSink(ServedSink):
    """An HTTP server recording requests.  ``answer`` is used for every request unless a
    path-specific answer was set with :meth:`answer_path`."""

    def __init__(self, answer: Answer | None = None, certificate: Path | None = None) -> None:
        self.requests: list[Received] = []
        self.default = answer or Answer()
        self.by_path: dict[str, Answer] = {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                sink.requests.append(Received(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                                              {k.lower(): v for k, v in self.headers.items()}, body))
                answer = sink.by_path.get(parts.path, sink.default)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body if answer.body is not None else (
                    json.dumps(answer.json).encode() if answer.json is not None else b"")
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.json is not None:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:   # the client gave up (timeout tests)
                    pass

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler), certificate)
        self.url = f"{'https' if certificate else 'http'}://127.0.0.1:{self.port}"

    def answer_path(self, path: str, answer: Answer) -> None:
        self.by_path[path] = answer

    @property
    def last(self) -> Received:
        assert self.requests, "the sink received no request"
        return self.requests[-1]


def received(sink: HttpSink, predicate, timeout: float = 60) -> Received:
    """The first request the sink got that matches ``predicate`` (waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in list(sink.requests) if predicate(r)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no matching request; got {[(r.method, r.path) for r in sink.requests]}")


def json_object(request: Received) -> dict:
    """The request's body as a JSON object; ``{}`` when it is not one."""
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; ``messages`` holds (envelope_from,
    envelope_to, parsed message) per received mail.  With ``users`` it offers AUTH PLAIN/LOGIN
    and accepts only those username/password pairs.  With a ``certificate`` it requires
    STARTTLS, or speaks TLS from the first byte (SMTPS) when ``implicit_tls``."""

    def __init__(self, users: dict[str, str] | None = None, certificate: Path | None = None,
                 implicit_tls: bool = False) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[str] = []
        self.encrypted: list[bool] = []     # per message: did it arrive over TLS
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                parsed = message_from_bytes(envelope.original_content, policy=policy.default)
                sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
                sink.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
            password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
            ok = users is not None and users.get(login) == password
            if ok:
                sink.logins.append(login)
            return AuthResult(success=ok, handled=False)

        self.port = free_port()
        kwargs: dict[str, Any] = {}
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
        if users is not None:
            kwargs = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
        if certificate is not None and implicit_tls:
            kwargs["ssl_context"] = server_tls(certificate)
        elif certificate is not None:
            kwargs.update(tls_context=server_tls(certificate), require_starttls=True)
        self.tls = certificate is not None
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class IrcSink(ServedSink):
    """A one-server IRC stand-in: answers NICK/USER with 001, echoes JOIN, records the client's
    lines (``lines``); ``refuse_nick`` answers 433 instead of welcoming; TLS with a ``certificate``."""

    def __init__(self, refuse_nick: bool = False, certificate: Path | None = None) -> None:
        self.lines: list[str] = []
        self.closed = threading.Event()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                nick = "?"
                for raw in self.rfile:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    sink.lines.append(line)
                    command, _, rest = line.partition(" ")
                    if command == "NICK":
                        nick = rest
                    elif command == "USER":
                        reply = f":irc.test 433 * {nick} :Nickname is already in use" if refuse_nick \
                            else f":irc.test 001 {nick} :Welcome to the test network {nick}"
                        self.wfile.write(f":irc.test PING :check\r\n{reply}\r\n".encode())
                    elif command == "JOIN":
                        self.wfile.write(f":{nick}!{nick}@127.0.0.1 JOIN {rest}\r\n".encode())
                    elif command == "QUIT":
                        break
                sink.closed.set()

        self._serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler), certificate)

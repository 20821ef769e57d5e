"""Local stand-ins for external secret stores, each a real HTTP server on a free 127.0.0.1 port
with a thread of its own: :class:`FakeVault` speaks HashiCorp Vault's API (token, userpass and
AppRole logins; KV v1 and v2 reads; SSH certificate signing; namespaces), and
:class:`RouteServer` answers any other store's requests from a table of handlers.

Every request is recorded (method, path, query, headers, body).  Use them as context managers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from tests.support.receivers import Received, ServedSink


Request = Received      # one recorded request (tests/support/receivers.py)
Reply = tuple[int, Any]      # (status, JSON-able body, or bytes/str sent as is)
Handler = Callable[[Request], Reply]


class RouteServer(ServedSink):
    """Answers ``(method, path)`` from ``routes`` (404 otherwise); ``url`` is its base URL."""

    def __init__(self, routes: dict[tuple[str, str], Handler] | None = None, certificate: Path | None = None) -> None:
        self.routes: dict[tuple[str, str], Handler] = dict(routes or {})
        self.requests: list[Request] = []
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                size = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(size) if size else b"")
                owner.requests.append(req)
                route = owner.routes.get((self.command, parts.path))
                status, body = route(req) if route else (404, {"errors": ["not found"]})
                data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) \
                    else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler), certificate)
        self.url = f"{'https' if certificate is not None else 'http'}://127.0.0.1:{self.port}"


@dataclass
class FakeVault:
    """HashiCorp Vault's HTTP API over a :class:`RouteServer`.

    ``kv1``: {"<mount>/<path>": {key: value}}; ``kv2``: {"<mount>/<path>": [version 1 data, ...]};
    ``ssh_roles``: {"<mount>/<role>"} signing mounts and roles; ``users``/``approles``: logins
    that yield ``login_token``.  Only ``token`` and ``login_token`` are accepted on reads.
    """

    token: str = "root-token"
    login_token: str = "login-token"
    kv1: dict[str, dict] = field(default_factory=dict)
    kv2: dict[str, list[dict]] = field(default_factory=dict)
    ssh_roles: set[str] = field(default_factory=set)
    users: dict[str, str] = field(default_factory=dict)
    approles: dict[str, str] = field(default_factory=dict)
    certificate: Path | None = None

    def __post_init__(self) -> None:
        self.http = RouteServer(certificate=self.certificate)
        self.http.routes = _VaultRoutes(self)   # type: ignore[assignment]

    @property
    def url(self) -> str:
        return self.http.url

    @property
    def requests(self) -> list[Request]:
        return self.http.requests

    def __enter__(self) -> "FakeVault":
        self.http.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.__exit__(*exc)

    def answer(self, req: Request) -> Reply:
        path = req.path.removeprefix("/v1/")
        if req.method == "POST" and path.startswith("auth/"):
            return self._login(req, path)
        if req.headers.get("x-vault-token") not in (self.token, self.login_token):
            return 403, {"errors": ["permission denied"]}
        if req.method == "POST" and "/sign/" in path:
            mount, role = path.split("/sign/", 1)
            if f"{mount}/{role}" not in self.ssh_roles:
                return 400, {"errors": ["unknown role"]}
            key = req.json().get("public_key", "")
            return 200, {"data": {"signed_key": f"signed({key.strip()})by({role})",
                                  "serial_number": "1"}}
        if req.method == "GET" and "/data/" in path:
            mount, rest = path.split("/data/", 1)
            versions = self.kv2.get(f"{mount}/{rest}")
            if not versions:
                return 404, {"errors": []}
            wanted = int(req.query.get("version", [len(versions)])[0])
            return 200, {"data": {"data": versions[wanted - 1], "metadata": {"version": wanted}}}
        if req.method == "GET" and path in self.kv1:
            return 200, {"data": self.kv1[path], "lease_duration": 3600}
        return 404, {"errors": []}

    def _login(self, req: Request, path: str) -> Reply:
        body = req.json() or {}
        parts = path.split("/")
        if parts[-2:-1] == ["login"] and parts[-1] in self.users:   # auth/<path>/login/<username>
            ok = self.users[parts[-1]] == body.get("password")
        else:
            ok = self.approles.get(body.get("role_id", "")) == body.get("secret_id")
        if not ok:
            return 400, {"errors": ["invalid credentials"]}
        return 200, {"auth": {"client_token": self.login_token, "policies": ["default"]}}


class _VaultRoutes(dict):
    """A route table that sends every request to the vault."""

    def __init__(self, vault: FakeVault) -> None:
        super().__init__()
        self.vault = vault

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        return self.vault.answer

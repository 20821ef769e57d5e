"""A real git server over HTTP with Basic authentication for tests: ``git http-backend`` (smart
HTTP) behind a small threaded HTTP server on 127.0.0.1.  Every request without the right
login gets 401, so a clone succeeds only if the client really sent the credentials."""
from __future__ import annotations

import base64
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class GitHttpServer:
    """Serves every bare repository under ``base`` at http://127.0.0.1:<port>/<name>."""

    def __init__(self, base: Path, username: str, password: str) -> None:
        self.base = base
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.logins: list[str] = []          # what each request's Authorization header was
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:   # quiet
                pass

            def do_GET(self) -> None:
                server.handle(self)

            def do_POST(self) -> None:
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        auth = req.headers.get("Authorization", "")
        self.logins.append(auth)
        if auth != self.expected:
            req.send_response(401)
            req.send_header("WWW-Authenticate", 'Basic realm="git"')
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        path, _, query = req.path.partition("?")
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        env = {"GIT_PROJECT_ROOT": str(self.base), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
               "QUERY_STRING": query, "REQUEST_METHOD": req.command, "REMOTE_USER": "tester",
               "CONTENT_TYPE": req.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        req.send_response(status)
        for name, value in headers:
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        req.wfile.write(payload)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

"""A small Galaxy server for tests: enough of the Galaxy v3 API on 127.0.0.1 for
``ansible-galaxy collection install`` of the collections it is given (tarballs made with
``ansible-galaxy collection build``), recording every request and its Authorization header.

``build_collection(tmp, "ns", "name", modules={...})`` makes such a tarball.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml


@dataclass
class Seen:
    path: str
    authorization: str


def build_collection(work: Path, namespace: str, name: str, version: str = "1.0.0",
                     modules: dict[str, str] | None = None) -> Path:
    """``ansible-galaxy collection build`` of a collection holding ``modules`` (file name ->
    Python source); returns the tarball."""
    src = work / f"src-{namespace}-{name}"
    (src / "plugins" / "modules").mkdir(parents=True, exist_ok=True)
    (src / "meta").mkdir(exist_ok=True)
    (src / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.15.0'\n")
    (src / "galaxy.yml").write_text(yaml.safe_dump({
        "namespace": namespace, "name": name, "version": version, "readme": "README.md",
        "authors": ["Turret tests"], "license": ["GPL-3.0-or-later"], "dependencies": {}}))
    (src / "README.md").write_text(f"# {namespace}.{name}\n")
    for file_name, source in (modules or {}).items():
        (src / "plugins" / "modules" / file_name).write_text(source)
    galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", str(src), "--output-path", str(work), "--force"],
                   check=True, capture_output=True, text=True, timeout=120)
    return work / f"{namespace}-{name}-{version}.tar.gz"


class GalaxyServer:
    """Serves the given collection tarballs under ``url`` (``http://127.0.0.1:<port>/``)."""

    def __init__(self, tarballs: list[Path], token: str = "") -> None:
        self.token = token
        self.seen: list[Seen] = []
        self.collections: dict[tuple[str, str], dict] = {}
        for tarball in tarballs:
            ns, name, version = re.match(r"(\w+)-(\w+)-([\w.]+)\.tar\.gz$", tarball.name).groups()
            data = tarball.read_bytes()
            self.collections[(ns, name)] = {"version": version, "file": tarball.name, "bytes": data,
                                            "sha256": hashlib.sha256(data).hexdigest()}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:   # quiet
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen(self.path, self.headers.get("Authorization", "")))
                if server.token and self.headers.get("Authorization") != f"Token {server.token}":
                    return self._send(401, {"errors": [{"status": "401", "detail": "Invalid token."}]})
                status, body = server.answer(self.path.split("?", 1)[0])
                if isinstance(body, bytes):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self._send(status, body)

            def _send(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[int, dict | bytes]:
        """(status, JSON body or file bytes) for a GET of ``path``."""
        if path in ("/api", "/api/"):
            return 200, {"available_versions": {"v3": "v3/"}}
        if path.startswith("/download/"):
            for item in self.collections.values():
                if path == f"/download/{item['file']}":
                    return 200, item["bytes"]
            return 404, {"errors": [{"status": "404"}]}
        m = re.match(r"^/api/v3/(?:plugin/ansible/content/published/)?collections/(?:index/)?(\w+)/(\w+)/"
                     r"(versions/(?:([\w.]+)/)?)?$", path)
        if not m or (m.group(1), m.group(2)) not in self.collections:
            return 404, {"errors": [{"status": "404", "detail": "Not found."}]}
        ns, name, versions, version = m.groups()
        item = self.collections[(ns, name)]
        href = f"/api/v3/collections/{ns}/{name}/"
        if not versions:
            return 200, {"href": href, "namespace": ns, "name": name,
                         "highest_version": {"href": f"{href}versions/{item['version']}/", "version": item["version"]}}
        if not version:
            return 200, {"meta": {"count": 1}, "links": {"first": None, "previous": None, "next": None, "last": None},
                         "data": [{"version": item["version"], "href": f"{href}versions/{item['version']}/"}]}
        if version != item["version"]:
            return 404, {"errors": [{"status": "404"}]}
        return 200, {"href": f"{href}versions/{version}/", "namespace": {"name": ns}, "collection": {"name": name},
                     "version": version, "download_url": f"{self.url}download/{item['file']}",
                     "artifact": {"filename": item["file"], "sha256": item["sha256"], "size": len(item["bytes"])},
                     "metadata": {"dependencies": {}}, "signatures": []}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

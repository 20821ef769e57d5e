"""``scm_type: archive`` projects (AWX's Remote Archive, issue 16 item 8): an archive served over
real HTTP on 127.0.0.1 is downloaded and unpacked by a real project update; the revision is
its SHA-256; a changed archive replaces the project; traversal and oversize archives fail."""
from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from controller.jobs import project_update
from tests.support.jobs import make_inventory, make_jt, make_org, uniq, wait_job, wait_update

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=archived-{}\n"


class ArchiveServer:
    """Serves ``files`` (path -> bytes) over HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def targz(members: dict[str, str], top: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zipped(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server():
    srv = ArchiveServer()
    yield srv
    srv.stop()


def _project(admin, org: dict, url: str) -> dict:
    resp = admin.post("/api/v2/projects/", {"name": uniq("arch"), "organization": org["id"],
                                            "scm_type": "archive", "scm_url": url})
    assert resp.status_code == 201, resp.json
    return resp.json


def _update(admin, project: dict) -> dict:
    started = admin.post(f"{project['url']}update/")
    assert started.status_code == 202, started.json
    return wait_update(admin, started.json["id"])


@pytest.mark.slow
def test_archive_project_is_downloaded_unpacked_and_run(admin, jobs, server, app_state):
    first = targz({"site.yml": PLAY.format("one"), "old.yml": PLAY.format("old")}, top="proj-1.0/")
    server.files["/proj.tar.gz"] = first
    org = make_org(admin)
    project = _project(admin, org, server.url("/proj.tar.gz"))
    update = wait_update(admin, project["summary_fields"]["current_update"]["id"])
    assert update["status"] == "successful", admin.get(f"/api/v2/project_updates/{update['id']}/stdout/").data
    assert update["scm_revision"] == hashlib.sha256(first).hexdigest()
    project = admin.get(project["url"]).json
    assert project["scm_type"] == "archive" and project["scm_revision"] == update["scm_revision"]
    assert admin.get(f"{project['url']}playbooks/").json == ["old.yml", "site.yml"]   # top folder stripped
    job = make_jt(admin, project, make_inventory(admin, org), "site.yml")
    done = wait_job(admin, admin.post(f"/api/v2/job_templates/{job['id']}/launch/", {}).json["id"])
    assert done["status"] == "successful"
    assert "archived-one" in admin.get(f"/api/v2/jobs/{done['id']}/stdout/?format=txt").data.decode()

    # the same archive again: nothing changes; a new archive replaces the project
    again = _update(admin, project)
    assert again["status"] == "successful" and again["scm_revision"] == update["scm_revision"]
    second = zipped({"site.yml": PLAY.format("two"), "new.yml": PLAY.format("new")})
    server.files["/proj.tar.gz"] = second                   # the format is read from the content
    changed = _update(admin, project)
    assert changed["scm_revision"] == hashlib.sha256(second).hexdigest()
    assert admin.get(f"{project['url']}playbooks/").json == ["new.yml", "site.yml"]


@pytest.mark.slow
def test_unsafe_or_oversized_archives_fail_and_keep_the_project(admin, jobs, server, app_state, monkeypatch):
    server.files["/ok.tgz"] = targz({"site.yml": PLAY.format("ok")})
    org = make_org(admin)
    project = _project(admin, org, server.url("/ok.tgz"))
    ok = wait_update(admin, project["summary_fields"]["current_update"]["id"])
    assert ok["status"] == "successful"
    folder = app_state.settings.data_dir / "projects" / admin.get(project["url"]).json["local_path"]
    outside = folder.parent / "escaped.yml"
    for evil in (targz({"../escaped.yml": "x"}), zipped({"../escaped.yml": "x"}), targz({"/abs.yml": "x"})):
        server.files["/ok.tgz"] = evil
        failed = _update(admin, project)
        assert failed["status"] == "failed"
        text = admin.get(f"/api/v2/project_updates/{failed['id']}/stdout/?format=txt").data.decode()
        assert "outside the project" in text
        assert not outside.exists()
        assert (folder / "site.yml").read_text() == PLAY.format("ok")
    assert admin.get(project["url"]).json["scm_revision"] == ok["scm_revision"]

    monkeypatch.setattr(project_update, "ARCHIVE_MAX_BYTES", 1000)
    server.files["/ok.tgz"] = targz({"big.yml": "x" * 50_000})     # compresses below the bound
    failed = _update(admin, project)
    assert failed["status"] == "failed"
    assert "bytes allowed" in admin.get(f"/api/v2/project_updates/{failed['id']}/stdout/?format=txt").data.decode()
    assert not (folder / "big.yml").exists()


def test_archive_urls_are_http(admin, make_org):
    org = make_org()
    resp = admin.post("/api/v2/projects/", {"name": uniq("arch"), "organization": org["id"],
                                            "scm_type": "archive", "scm_url": "git://example.invalid/x.tgz"})
    assert resp.status_code == 400 and resp.json == {"scm_url": ["Invalid archive URL: use https:// or http://."]}
    choices = dict(admin.options("/api/v2/projects/").json["actions"]["POST"]["scm_type"]["choices"])
    assert choices["archive"] == "Remote Archive"

"""Webhook status post-backs under a multi-process ``turret serve`` (session 25, E4): every post
of a job leaves from the serving parent, one after the other, in the order of the job's changes,
the creation post of a job created by a web worker included.

Real processes on 127.0.0.1: ``python -m controller serve --workers 2`` (granian), a real job,
and a real HTTP receiver standing in for GitLab.  Which process sent a post is read from
``/proc`` while its connection is open (the process of the controller's tree owning the client
side of the connection), so no debug hook in the product is needed.  The receiver holds its
answer to the creation post until the job has ended: a creation post sent on its own (by the
web worker, concurrently with the parent's) would then be answered after the job's end post,
and the commit would end showing ``pending``.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_serving import Conn, _owner   # tests/controller/test_serving.py (rootdir-less import)
from test_webhook_status import SHA, gitlab_merge_request
from tests.conftest import start_controller
from tests.support.jobs import FINISHED, LOCAL, wait_until

TOKEN = "glpat-servingTOKENcanary04"
HOLD = 60.0         # the longest the receiver holds the creation post's answer


class StatusReceiver:
    """A GitLab commit-status endpoint on 127.0.0.1 recording, per post: its state, the pid of
    the controller process that sent it, when it arrived and when it was answered (the moment
    the service applies the state).  The ``pending`` post is answered only once ``release`` is
    set (at least :attr:`min_hold` seconds after it arrived, at most :data:`HOLD`)."""

    def __init__(self, server_pid: int, min_hold: float = 1.0) -> None:
        self.posts: list[dict] = []
        self.release = threading.Event()
        self.released_in_time: bool | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                arrived = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                sender = _owner(server_pid, self.client_address[1], receiver.port)
                if body["state"] == "pending":
                    time.sleep(min_hold)
                    receiver.released_in_time = receiver.release.wait(HOLD)
                receiver.posts.append({"state": body["state"], "pid": sender, "path": self.path,
                                       "token": self.headers.get("PRIVATE-TOKEN"), "target_url": body["target_url"],
                                       "arrived": arrived, "answered": time.monotonic()})
                payload = b'{"id": 1}'
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> StatusReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_controller(tmp_path_factory, args=("--workers", "2"), env={"TURRET_WEB_SERVER": "granian"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def template(live):
    """A GitLab-hooked job template with a token credential (a quick local playbook); its id and key."""
    folder = live.data_dir / "projects" / "hooked"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quick.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hooked\n")
    c = Conn(live)

    def made(path: str, body: dict) -> dict:
        status, obj = c.call("POST", path, body)
        assert status == 201, obj
        return obj
    org = made("/api/v2/organizations/", {"name": "HookedOrg"})
    inv = made("/api/v2/inventories/", {"name": "HookedInv", "organization": org["id"],
                                        "variables": json.dumps(LOCAL)})
    made("/api/v2/hosts/", {"name": "h1", "inventory": inv["id"]})
    proj = made("/api/v2/projects/", {"name": "HookedProj", "organization": org["id"], "local_path": "hooked"})
    status, types = c.call("GET", "/api/v2/credential_types/?namespace=gitlab_token")
    assert types["count"] == 1, types
    cred = made("/api/v2/credentials/", {"name": "gitlab", "organization": org["id"],
                                         "credential_type": types["results"][0]["id"], "inputs": {"token": TOKEN}})
    jt = made("/api/v2/job_templates/", {"name": "hooked", "project": proj["id"], "inventory": inv["id"],
                                         "playbook": "quick.yml", "allow_simultaneous": True,
                                         "webhook_service": "gitlab", "webhook_credential": cred["id"]})
    status, key = c.call("GET", f"/api/v2/job_templates/{jt['id']}/webhook_key/")
    assert status == 200, key
    c.close()
    return jt["id"], key["webhook_key"]


def _deliver_through_a_worker(live, jt: int, key: str, payload: dict) -> tuple[int, int]:
    """POST a GitLab merge request delivery on a connection a web worker serves: (job id, worker pid)."""
    conn = Conn(live)
    worker = conn.worker()
    conn.http.request("POST", f"/api/v2/job_templates/{jt}/gitlab/", body=json.dumps(payload).encode(),
                      headers={"Content-Type": "application/json", "X-Gitlab-Event": "Merge Request Hook",
                               "X-Gitlab-Token": key})
    resp = conn.http.getresponse()
    answer = json.loads(resp.read())
    assert resp.status == 202, answer
    assert conn.worker() == worker      # the same keep-alive connection: that worker created the job
    conn.close()
    return answer["job"], worker


def _outbox(live, job: int) -> list[tuple]:
    """The job's rows of the status outbox: (status, claimed_by, done)."""
    db = sqlite3.connect(f"file:{live.data_dir / 'turret.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return [(s, by, done is not None) for s, by, done in db.execute(
            "SELECT status, claimed_by, done_at FROM webhook_status_posts WHERE kind = 'job' AND job = ? "
            "ORDER BY id", (job,))]
    finally:
        db.close()


@pytest.mark.slow
def test_posts_of_a_job_created_in_a_web_worker_leave_from_the_parent_in_order(live, template):
    jt, key = template
    parent = live.proc.pid
    with StatusReceiver(parent) as receiver:
        job, worker = _deliver_through_a_worker(live, jt, key, gitlab_merge_request(receiver.url))
        assert worker != parent
        conn = Conn(live)

        def ended():
            status, row = conn.call("GET", f"/api/v2/jobs/{job}/")
            assert status == 200, row
            return row if row["status"] in FINISHED else None
        row = wait_until(ended, 90, "the job to end")
        assert row["status"] == "successful" and row["launch_type"] == "webhook"
        # the job ended while its creation post was still unanswered (the job never waits for it)
        assert [p["state"] for p in receiver.posts] == []
        receiver.release.set()
        wait_until(lambda: len(receiver.posts) >= 3, 30, "three status posts")
        time.sleep(1.5)     # more than the poster's poll: nothing else comes
        posts = list(receiver.posts)
    assert receiver.released_in_time is True
    # applied by the service in the order of the job's changes, each once: the commit ends "success"
    assert [p["state"] for p in posts] == ["pending", "running", "success"], posts
    # one after the other: each post left only once the one before it was answered
    assert all(b["arrived"] >= a["answered"] for a, b in zip(posts, posts[1:])), posts
    # every one from the serving parent, none from the web worker that created the job
    assert [p["pid"] for p in posts] == [parent] * 3, (posts, worker)
    assert {(p["path"], p["token"]) for p in posts} == {(f"/api/v4/projects/42/statuses/{SHA}", TOKEN)}
    assert all(p["target_url"].endswith(f"/ui/jobs/{job}") for p in posts)
    # the outbox: three changes, each claimed by the parent's poster and done
    rows = _outbox(live, job)
    assert [s for s, _by, _done in rows] == ["pending", "running", "successful"]
    assert all(f":{parent}:" in by and done for _s, by, done in rows), rows
    assert TOKEN not in live.stderr() and TOKEN not in live.stdout()
    conn.close()

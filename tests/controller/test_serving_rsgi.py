"""granian serves the app through RSGI (``controller.api.rsgi``): reads inline on each worker's
event loop thread, writes, bodies and streamed answers on a pool.

The behaviour that matters runs on real ``turret serve`` (granian, two workers) on 127.0.0.1
with one pool thread per worker, so that a held thread would show: a browser following live
output holds the only one, and the worker's reads still answer at once.  Under granian's WSGI
interface with one thread those reads waited for the job to end.  The environ and body reader
are also checked directly, against what a WSGI server gives (PEP 3333).
"""
from __future__ import annotations

import asyncio
import http.client
import io
import json
import re
import socket
import threading
import time

import pytest

from flask import Flask
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from controller import create_app, open_state
from controller.api.actions import SLOW_READS
from controller.api.rsgi import SlowReads, _LoopBody, _streamed, environ_of, inline, on_loop
from controller.api.web import slow, slow_paths
from controller.config import Settings
from controller.serving import slow_reads
from tests.conftest import start_controller
from tests.controller.test_serving import Conn, _owner, follow_running_job, one_per_worker, world  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_controller(tmp_path_factory, args=("--workers", "2"),
                              env={"TURRET_WEB_SERVER": "granian", "TURRET_THREADS": "1",
                                   "TURRET_MAX_BODY_BYTES": "4096"})
    yield server
    server.stop()


def _same_worker(live, pid: int, tries: int = 60) -> Conn:
    """A new keep-alive connection that landed on worker ``pid`` (found with an anonymous ping,
    which that worker answers inline)."""
    spare = []
    try:
        for _ in range(tries):
            c = Conn(live)
            c.http.request("GET", "/api/v2/ping/")
            c.http.getresponse().read()
            if _owner(live.proc.pid, live.port, c.http.sock.getsockname()[1]) == pid:
                return c
            spare.append(c)     # held open so the next connection is not handed the same slot
        raise AssertionError(f"no connection landed on worker {pid}")
    finally:
        for c in spare:
            c.close()


def test_reads_answer_at_once_while_live_output_holds_the_only_thread(live, world):  # noqa: F811
    viewer, launcher = one_per_worker(live).values()
    job, stream, lines = follow_running_job(viewer, launcher, world)     # live: it holds its thread
    status, token = launcher.call("POST", "/api/v2/tokens/", {"description": "reads", "scope": "read"})
    assert status == 201, token
    bearer = f"Bearer {token['token']}"     # Basic reads go to the pool (a password check may be slow)
    reader = _same_worker(live, viewer.worker())
    t0 = time.monotonic()
    status, body = reader.call("GET", f"/api/v2/jobs/{job['id']}/", auth=bearer)
    assert status == 200 and body["status"] == "running", body      # answered while the job runs
    status, page = reader.call("GET", "/api/v2/job_templates/?name__in=quick,slow&order_by=name", auth=bearer)
    assert status == 200 and [t["name"] for t in page["results"]] == ["quick", "slow"], page
    assert time.monotonic() - t0 < 2.0
    text = "".join(lines) + stream.read().decode()
    assert 'event: end\ndata: {"status": "successful"}' in text
    for c in (viewer, launcher, reader):
        c.close()


def test_a_path_beyond_ascii_reaches_the_view_as_a_wsgi_server_gives_it(live):
    c = Conn(live)
    status, org = c.call("POST", "/api/v2/organizations/", {"name": "Zürich Ops"})
    assert status == 201, org
    status, found = c.call("GET", "/api/v2/organizations/Z%C3%BCrich%20Ops/")    # AWX's named URL
    assert status == 200 and found["id"] == org["id"] and found["name"] == "Zürich Ops", found
    c.close()


def test_a_chunked_body_is_read_and_a_large_one_refused_before_it_is_read(live):
    http_conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    auth = Conn(live).auth
    body = json.dumps({"name": "chunked org"}).encode()
    http_conn.request("POST", "/api/v2/organizations/", body=iter([body[:5], body[5:]]), encode_chunked=True,
                      headers={"Authorization": auth, "Content-Type": "application/json"})
    resp = http_conn.getresponse()
    created = json.loads(resp.read())
    assert resp.status == 201 and created["name"] == "chunked org", created
    http_conn.request("POST", "/api/v2/organizations/", body=json.dumps({"name": "x" * 8000}).encode(),
                      headers={"Authorization": auth, "Content-Type": "application/json"})
    resp = http_conn.getresponse()
    refused = json.loads(resp.read())
    assert resp.status == 413 and "4096" in refused["detail"], refused
    big = json.dumps({"name": "y" * 8000}).encode()      # chunked too: read up to the limit, then 413
    http_conn.request("POST", "/api/v2/organizations/", body=iter([big[:3000], big[3000:]]), encode_chunked=True,
                      headers={"Authorization": auth, "Content-Type": "application/json"})
    resp = http_conn.getresponse()
    refused = json.loads(resp.read())
    assert resp.status == 413 and "4096" in refused["detail"], refused
    http_conn.close()
    http_conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)     # it may be closed
    c = Conn(live)
    status, page = c.call("GET", "/api/v2/organizations/?or__name__startswith=x&or__name__startswith=y")
    assert status == 200 and page["count"] == 0       # nothing stored from the refused bodies
    c.close()
    http_conn.close()


def _raw(live, request: bytes, then: bytes = b"", half_close: bool = False) -> tuple[int, dict]:
    """One request on a raw socket (``then`` after a pause); its status and JSON body."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(request)
        if then:
            time.sleep(0.1)
            sock.sendall(then)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < length:
            body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body[:length])


def test_a_short_body_is_refused_and_chunked_framing_wins_over_a_length(live):
    auth = Conn(live).auth
    body = json.dumps({"name": "short org"}).encode()
    head = (f"POST /api/v2/organizations/ HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body) + 50}\r\n\r\n").encode()
    status, answer = _raw(live, head, body, half_close=True)     # the client's body breaks off
    assert status == 400, answer
    body = json.dumps({"name": "framed org"}).encode()
    head = (f"POST /api/v2/organizations/ HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    status, answer = _raw(live, head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert status == 201 and answer["name"] == "framed org", answer
    c = Conn(live)
    status, page = c.call("GET", "/api/v2/organizations/?name=short%20org")
    assert status == 200 and page["count"] == 0
    c.close()


# -- the environ and the body reader, directly ------------------------------------------------
class _Headers:
    """RSGI's header mapping: lower-case names, ``get_all`` for repeated ones."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for k, _ in self.pairs))

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def get(self, name: str, default=None):
        values = self.get_all(name)
        return values[0] if values else default

    def __getitem__(self, name: str) -> str:
        return self.get_all(name)[0]

    def __contains__(self, name: str) -> bool:
        return bool(self.get_all(name))


class _Scope:
    proto = "http"
    http_version = "1.1"
    server = "127.0.0.1:8052"
    scheme = "http"
    authority = None

    def __init__(self, method: str, path: str, query: str, client: str, headers: list[tuple[str, str]]) -> None:
        self.method, self.path, self.query_string, self.client = method, path, query, client
        self.headers = _Headers(headers)


def test_environ_is_what_a_wsgi_server_gives():
    scope = _Scope("POST", "/api/v2/organizations/Zürich/", "a=1&b=%C3%BC", "[::1]:50000",
                   [("host", "ctl:8052"), ("cookie", "a=1"), ("cookie", "b=2"), ("accept", "text/html"),
                    ("accept", "application/json"), ("content-type", "application/json"),
                    ("content-length", "12"), ("x-forwarded-for", "10.0.0.1")])
    env = environ_of(scope)
    assert env["PATH_INFO"] == "/api/v2/organizations/Zürich/".encode().decode("latin-1")
    assert env["QUERY_STRING"] == "a=1&b=%C3%BC"
    assert env["REQUEST_METHOD"] == "POST" and env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (env["SERVER_NAME"], env["SERVER_PORT"], env["REMOTE_ADDR"]) == ("127.0.0.1", "8052", "::1")
    assert env["HTTP_COOKIE"] == "a=1;b=2" and env["HTTP_ACCEPT"] == "text/html,application/json"
    assert (env["CONTENT_TYPE"], env["CONTENT_LENGTH"]) == ("application/json", "12")
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["HTTP_HOST"] == "ctl:8052" and env["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"
    assert env["wsgi.url_scheme"] == "http" and env["SCRIPT_NAME"] == ""
    assert environ_of(_Scope("GET", "/", "", "127.0.0.1:1", []))["REMOTE_ADDR"] == "127.0.0.1"


def test_body_reader_takes_chunks_from_the_loop_as_the_app_asks():
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    asked = []

    async def chunks():
        for chunk in (b"line one\nline", b" two\n", b"", b"tail"):
            asked.append(chunk)
            yield chunk
    try:
        body = io.BufferedReader(_LoopBody(chunks().__aiter__(), loop))
        assert asked == []                          # nothing read before the app asks
        assert body.readline() == b"line one\n"
        assert body.read(4) == b"line"
        assert body.read() == b" two\ntail"         # an empty chunk is not the end
        assert body.read() == b""
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)


def test_only_credential_free_or_bearer_reads_without_a_body_run_inline():
    def scope(method: str, *headers: tuple[str, str]) -> _Scope:
        return _Scope(method, "/api/v2/ping/", "", "127.0.0.1:1", list(headers))
    assert inline(scope("GET")) and inline(scope("HEAD")) and inline(scope("OPTIONS"))
    assert inline(scope("GET", ("authorization", "Bearer abc"))) and inline(scope("GET", ("authorization", "bearer x")))
    assert inline(scope("GET", ("content-length", "0")))
    assert not inline(scope("GET", ("authorization", "Basic YTpi")))     # a password hash, a throttle delay
    assert not inline(scope("GET", ("cookie", "sessionid=1")))           # a session's sliding expiry
    assert not inline(scope("GET", ("content-length", "2")))
    assert not inline(scope("GET", ("transfer-encoding", "chunked")))
    assert not inline(scope("POST")) and not inline(scope("DELETE", ("authorization", "Bearer abc")))


def test_reads_declared_slow_go_to_the_pool(tmp_path):
    assert SLOW_READS >= {(None, "stdout"), ("project", "playbooks"), ("project", "inventories"),
                          ("inventory", "script")}
    state = open_state(Settings({"DATA_DIR": str(tmp_path / "data")}, environ={}))
    try:
        slow = slow_reads(state, create_app(state=state))   # as `turret serve` derives them
    finally:
        state.store.close()
    assert slow.paths == {"/api/v2/metrics/", "/api/v2/dashboard/graphs/jobs/"}

    def get(path: str) -> _Scope:
        return _Scope("GET", path, "", "127.0.0.1:1", [("authorization", "Bearer abc")])
    for path in ("/api/v2/jobs/7/stdout/", "/api/v2/jobs/7/stdout", "/api/controller/v2/jobs/7/stdout/",
                 "/api/v2/project_updates/2/stdout/", "/api/v2/projects/5/playbooks/",
                 "/api/v2/projects/5/inventories", "/api/v2/inventories/Inv++Org/script/",
                 "/api/v2/metrics/", "/api/v2/metrics", "/api/controller/v2/metrics/",
                 "/api/v2/dashboard/graphs/jobs/", "/api/controller/v2/dashboard/graphs/jobs"):
        assert not inline(get(path), slow), path
    for path in ("/api/v2/jobs/7/", "/api/v2/jobs/", "/api/v2/jobs/7/job_events/", "/api/v2/stdout/",
                 "/api/v2/organizations/1/inventories/", "/api/controller/v2/jobs/7/", "/api/v2/dashboard/",
                 "/api/v2/ping/", "/api/v2/metrics/extra/"):
        assert inline(get(path), slow), path



def test_only_fixed_paths_can_be_marked_slow():
    app = Flask(__name__)
    app.add_url_rule("/api/v2/graph", "graph", slow(lambda: ""))      # declared without the slash
    assert slow_paths(app) == {"/api/v2/graph/"}
    assert "/api/v2/graph/" in SlowReads(paths=slow_paths(app)) and "/api/v2/graph" in SlowReads(paths=slow_paths(app))
    app.add_url_rule("/api/v2/things/<int:pk>/", "thing", slow(lambda pk: ""))
    with pytest.raises(ValueError, match="only a fixed path"):
        slow_paths(app)


def test_answers_without_a_body_are_not_streamed():
    assert _streamed("GET", 200, [("Content-Type", "text/event-stream")])
    assert not _streamed("GET", 200, [("Content-Length", "2")])
    assert not _streamed("GET", 304, []) and not _streamed("DELETE", 204, []) and not _streamed("HEAD", 200, [])


def _loop_in_thread() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    return loop, runner


def _end_loop(loop: asyncio.AbstractEventLoop, runner: threading.Thread) -> None:
    """Stop the loop, cancel what still waits on it (the tests' endless bodies), close it."""
    if loop.is_running():
        loop.call_soon_threadsafe(loop.stop)
    runner.join(5)
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()

    async def settle() -> None:     # gather on this loop, whatever loop the thread has as default
        await asyncio.gather(*pending, return_exceptions=True)
    loop.run_until_complete(settle())
    loop.close()


def test_a_pool_thread_stops_waiting_once_the_loop_stops_or_the_body_stalls():
    loop, runner = _loop_in_thread()

    async def forever():
        await asyncio.sleep(3600)
    try:
        with pytest.raises(ConnectionError):        # a stalled wait gives up after its timeout
            on_loop(forever(), loop, timeout=1.0)
        outcome: list = []

        def wait() -> None:
            try:
                on_loop(forever(), loop)
            except ConnectionError as exc:
                outcome.append(exc)
        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.3)                             # waiting on the running loop ...
        assert waiter.is_alive() and not outcome
        loop.call_soon_threadsafe(loop.stop)        # ... until the worker's loop stops
        waiter.join(5)
        assert not waiter.is_alive() and len(outcome) == 1
    finally:
        _end_loop(loop, runner)


def test_body_reader_refuses_a_byte_past_its_limit_and_a_stalled_client():
    loop, runner = _loop_in_thread()

    async def chunks(*parts: bytes, stall: bool = False):
        for part in parts:
            yield part
        if stall:
            await asyncio.sleep(3600)
    try:
        at_limit = io.BufferedReader(_LoopBody(chunks(b"12345", b"67890").__aiter__(), loop, limit=10))
        assert at_limit.read() == b"1234567890"
        past = io.BufferedReader(_LoopBody(chunks(b"12345", b"67890", b"1").__aiter__(), loop, limit=10))
        with pytest.raises(RequestEntityTooLarge):
            past.read()
        past_exactly = _LoopBody(chunks(b"1234567890", b"x").__aiter__(), loop, limit=10)
        with pytest.raises(RequestEntityTooLarge):  # werkzeug stops at its maximum: the reader looks
            past_exactly.readinto(bytearray(10))
        stalled = io.BufferedReader(_LoopBody(chunks(b"{", stall=True).__aiter__(), loop, idle=1.0))
        with pytest.raises(ClientDisconnected):
            stalled.read()
    finally:
        _end_loop(loop, runner)

"""``turret serve`` with several web worker processes (issue 18, item 3).

Real processes on 127.0.0.1: ``python -m controller serve --workers 2`` (granian, the default
server).  Which web worker serves a connection is read from ``/proc`` (the worker process that
owns the server side of the TCP connection), so the tests prove that requests land on both
workers without any debug hook in the product.  The job dispatcher, scheduler and event
writer run once, in the serving parent; web workers wake it through the datagram socket of
``controller.jobs.wake``.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from controller.jobs.wake import WakeListener, WakeSender, wake_address
from tests.conftest import start_controller
from tests.support.jobs import FINISHED, LOCAL, job_processes, processes_left, wait_until

PLAYBOOKS = {
    "quick.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=served-{{ 7 * 6 }}\n",
    "slow.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=starting\n"
                "    - command: sleep {{ naptime | default(60) }}\n",
}


# -- which worker serves a connection ---------------------------------------------------------
def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:     # gone meanwhile
            tids = []
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
            except OSError:
                pass
    return out


def _owner(server_pid: int, port: int, client_port: int) -> int | None:
    """The pid (under ``server_pid``) owning the server side of the connection from ``client_port``."""
    want = f"0100007F:{port:04X} 0100007F:{client_port:04X} 01"
    inode = None
    with open("/proc/net/tcp") as fh:
        for line in fh:
            fields = line.split()
            if " ".join(fields[1:4]) == want:
                inode = fields[9]
    if inode is None:
        return None
    for pid in _tree(server_pid):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


def _holds(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (False once it is gone)."""
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == str(path.resolve())
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


class Conn:
    """One keep-alive connection to the controller as ``admin`` (Basic), and the worker it landed on."""

    def __init__(self, live, username: str | None = None, password: str | None = None) -> None:
        self.live = live
        self.http = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
        user, pw = username or live.admin_username, password or live.admin_password
        self.auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()

    def call(self, method: str, path: str, body=None, auth: str | None = None) -> tuple[int, dict]:
        headers = {"Authorization": auth or self.auth, "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        self.http.request(method, path, body=data, headers=headers)
        resp = self.http.getresponse()
        payload = resp.read()
        return resp.status, (json.loads(payload) if payload and payload[:1] in b"[{" else {})

    def worker(self) -> int:
        if self.http.sock is None:
            self.call("GET", "/api/v2/ping/")
        pid = _owner(self.live.proc.pid, self.live.port, self.http.sock.getsockname()[1])
        assert pid is not None and pid != self.live.proc.pid, "a web worker, not the serving parent, answers"
        return pid

    def close(self) -> None:
        self.http.close()


def one_per_worker(live, tries: int = 60) -> dict[int, Conn]:
    """Keep-alive connections until two distinct web workers serve one each: {pid: conn}."""
    found: dict[int, Conn] = {}
    spare = []
    for _ in range(tries):
        c = Conn(live)
        pid = c.worker()
        if pid in found:
            spare.append(c)     # held open so the next connection is not handed the same slot
        else:
            found[pid] = c
        if len(found) == 2:
            break
    for c in spare:
        c.close()
    assert len(found) == 2, f"every connection landed on one worker: {list(found)}"
    return found


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = start_controller(tmp_path_factory, args=("--workers", "2"),
                              env={"TURRET_LOGIN_FAILURES": "3", "TURRET_WEB_SERVER": "granian"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(live):
    """An organization, a local inventory, a manual project with PLAYBOOKS and two templates."""
    folder = live.data_dir / "projects" / "serving"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PLAYBOOKS.items():
        (folder / name).write_text(text)
    c = Conn(live)

    def made(path: str, body: dict) -> dict:
        status, obj = c.call("POST", path, body)
        assert status == 201, obj
        return obj
    org = made("/api/v2/organizations/", {"name": "ServingOrg"})
    inv = made("/api/v2/inventories/", {"name": "ServingInv", "organization": org["id"],
                                        "variables": json.dumps(LOCAL)})
    made("/api/v2/hosts/", {"name": "h1", "inventory": inv["id"]})
    proj = made("/api/v2/projects/", {"name": "ServingProj", "organization": org["id"], "local_path": "serving"})
    quick = made("/api/v2/job_templates/", {"name": "quick", "project": proj["id"], "inventory": inv["id"],
                                            "playbook": "quick.yml", "allow_simultaneous": True})
    slow = made("/api/v2/job_templates/", {"name": "slow", "project": proj["id"], "inventory": inv["id"],
                                           "playbook": "slow.yml", "allow_simultaneous": True,
                                           "ask_variables_on_launch": True})
    c.close()
    return {"quick": quick, "slow": slow}


def wait_job(conn: Conn, pk: int, done=lambda j: j["status"] in FINISHED and j["event_processing_finished"],
             timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, job = conn.call("GET", f"/api/v2/jobs/{pk}/")
        assert status == 200, job
        if done(job):
            return job
        assert time.monotonic() < deadline, f"job {pk} stuck in {job['status']}"
        time.sleep(0.05)


# -- the tests --------------------------------------------------------------------------------
@pytest.mark.slow
def test_launches_through_both_workers_run_each_job_once(live, world):
    workers = one_per_worker(live)
    jobs = []
    for i in range(6):
        conn = list(workers.values())[i % 2]
        status, job = conn.call("POST", f"/api/v2/job_templates/{world['quick']['id']}/launch/", {})
        assert status == 201, job
        jobs.append((conn.worker(), job["id"]))
    assert {w for w, _ in jobs} == set(workers)      # launched through both web workers
    any_conn = next(iter(workers.values()))
    for _worker, pk in jobs:
        job = wait_job(any_conn, pk)
        assert job["status"] == "successful", job
        status, evs = any_conn.call("GET", f"/api/v2/jobs/{pk}/job_events/?page_size=200&order_by=counter")
        counters = [e["counter"] for e in evs["results"]]
        assert len(counters) == len(set(counters))
        assert [e["event"] for e in evs["results"]].count("playbook_on_stats") == 1   # ran exactly once
        assert sum("served-42" in (e["stdout"] or "") for e in evs["results"]) == 1
    # one dispatcher for the whole controller: one owner lock, held by the serving parent
    locks = list((live.data_dir / "runs" / ".owners").glob("*.lock"))
    assert len(locks) == 1, locks
    assert [pid for pid in _tree(live.proc.pid) if _holds(pid, locks[0])] == [live.proc.pid]
    for c in workers.values():
        c.close()


@pytest.mark.slow
def test_a_launch_wakes_the_dispatcher_of_the_parent_at_once(live, world):
    """POST -> running well under the dispatcher's 1 s poll: the web worker's datagram woke it."""
    conn = Conn(live)
    delays = []
    for _ in range(4):
        t0 = time.monotonic()
        status, job = conn.call("POST", f"/api/v2/job_templates/{world['quick']['id']}/launch/", {})
        assert status == 201, job
        wait_job(conn, job["id"], done=lambda j: j["status"] != "pending" and j["status"] != "new", timeout=30)
        delays.append(time.monotonic() - t0)
        wait_job(conn, job["id"])
    delays.sort()
    assert delays[len(delays) // 2] < 0.6, delays     # without the wake: ~1.0 s each (the poll)
    conn.close()


def follow_running_job(viewer: Conn, launcher: Conn, world: dict) -> tuple[dict, http.client.HTTPResponse, list[str]]:
    """Launch the slow template (4 s) through ``launcher`` and follow its live output through
    ``viewer`` up to the first task's output: the job, the open stream, the lines read."""
    status, job = launcher.call("POST", f"/api/v2/job_templates/{world['slow']['id']}/launch/",
                                {"extra_vars": {"naptime": 4}})
    assert status == 201, job
    viewer.http.request("GET", f"/api/v2/jobs/{job['id']}/events_stream/", headers={"Authorization": viewer.auth})
    resp = viewer.http.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
    lines: list[str] = []
    while not any("starting" in line for line in lines):
        lines.append(resp.readline().decode())
        assert lines[-1], "the stream ended early"
    return job, resp, lines


@pytest.mark.slow
def test_sse_on_one_worker_follows_a_job_launched_through_the_other(live, world):
    a, b = one_per_worker(live).values()
    job, resp, lines = follow_running_job(a, b, world)      # live: the first task's output ...
    assert b.call("GET", f"/api/v2/jobs/{job['id']}/")[1]["status"] == "running"   # ... while it runs
    text = "".join(lines) + resp.read().decode()     # then everything up to ``end``
    assert 'event: end\ndata: {"status": "successful"}' in text
    assert text.count("event: job_event") == len(set(re.findall(r"^id: (\d+)$", text, re.M)))
    assert a.worker() != b.worker()
    a.close()
    b.close()


@pytest.mark.slow
def test_cancel_through_either_worker_stops_the_running_job(live, world):
    workers = list(one_per_worker(live).values())
    for launcher, canceler in ((workers[0], workers[1]), (workers[1], workers[0])):
        status, job = launcher.call("POST", f"/api/v2/job_templates/{world['slow']['id']}/launch/",
                                    {"extra_vars": {"naptime": 120}})
        assert status == 201, job
        wait_job(canceler, job["id"], done=lambda j: j["status"] == "running", timeout=60)
        time.sleep(1.0)     # the sleep task has started
        t0 = time.monotonic()
        status, body = canceler.call("POST", f"/api/v2/jobs/{job['id']}/cancel/")
        assert status == 202, body
        final = wait_job(launcher, job["id"], timeout=30)
        assert final["status"] == "canceled", final
        assert time.monotonic() - t0 < 10
        assert processes_left(job["id"], live.data_dir) == []
    for c in workers:
        c.close()


@pytest.mark.slow
def test_a_settings_change_reaches_the_other_worker_within_a_second(live):
    a, b = one_per_worker(live).values()
    for value in (["ping", "shell"], ["ping", "command", "debug"]):
        status, body = a.call("PATCH", "/api/v2/settings/jobs/", {"AD_HOC_COMMANDS": value})
        assert status == 200, body
        t0 = time.monotonic()
        while True:
            status, seen = b.call("GET", "/api/v2/settings/jobs/")
            if seen["AD_HOC_COMMANDS"] == value:
                break
            assert time.monotonic() - t0 < 1.5, seen["AD_HOC_COMMANDS"]   # REFRESH_SECONDS 1 + a request
            time.sleep(0.02)
    a.close()
    b.close()


@pytest.mark.slow
def test_the_login_throttle_counts_failures_of_every_worker(live):
    """TURRET_LOGIN_FAILURES=3: two failures on one worker and one on the other reach the
    limit, so the next wrong password answers 429 on either (a per-process count would say 401)."""
    c = Conn(live)
    status, user = c.call("POST", "/api/v2/users/", {"username": "throttled", "password": "right-pw-123"})
    assert status == 201, user
    a, b = one_per_worker(live).values()
    wrong = "Basic " + base64.b64encode(b"throttled:wrong").decode()
    for conn in (a, a, b):
        assert conn.call("GET", "/api/v2/me/", auth=wrong)[0] == 401
    assert a.call("GET", "/api/v2/me/", auth=wrong)[0] == 429
    assert b.call("GET", "/api/v2/me/", auth=wrong)[0] == 429
    right = "Basic " + base64.b64encode(b"throttled:right-pw-123").decode()
    status, me = b.call("GET", "/api/v2/me/", auth=right)    # the owner still gets in, and clears the count
    assert status == 200 and me["results"][0]["username"] == "throttled"
    assert a.call("GET", "/api/v2/me/", auth=wrong)[0] == 401
    for conn in (a, b, c):
        conn.close()


def _session_pids(sid: int, serving: bool = False) -> list[int]:
    """Live processes of session ``sid`` (only the ``controller serve`` ones when ``serving``:
    a project update's git may come and go meanwhile)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z" and (not serving or b"controller\0serve" in cmd):
                out.append(int(entry))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["2", "1"])
def test_sigterm_stops_workers_and_jobs_cleanly(tmp_path, workers):
    live = start_controller(tmp_path, args=("--workers", workers))
    folder = live.data_dir / "projects" / "serving"
    folder.mkdir(parents=True)
    (folder / "slow.yml").write_text(PLAYBOOKS["slow.yml"])
    c = Conn(live)
    status, org = c.call("POST", "/api/v2/organizations/", {"name": "o"})
    status, inv = c.call("POST", "/api/v2/inventories/", {"name": "i", "organization": org["id"],
                                                          "variables": json.dumps(LOCAL)})
    c.call("POST", "/api/v2/hosts/", {"name": "h1", "inventory": inv["id"]})
    status, proj = c.call("POST", "/api/v2/projects/", {"name": "p", "organization": org["id"],
                                                        "local_path": "serving"})
    status, jt = c.call("POST", "/api/v2/job_templates/", {"name": "t", "project": proj["id"],
                                                           "inventory": inv["id"], "playbook": "slow.yml"})
    assert status == 201, jt
    status, job = c.call("POST", f"/api/v2/job_templates/{jt['id']}/launch/", {})
    wait_job(c, job["id"], done=lambda j: j["status"] == "running", timeout=60)
    c.close()
    assert len(_session_pids(live.proc.pid, serving=True)) == (4 if workers == "2" else 1)  # parent, granian, 2
    wait_until(lambda: job_processes(job["id"], live.data_dir), 30, "the job's processes")  # own session
    os.kill(live.proc.pid, signal.SIGTERM)      # the serving parent only, as a service manager does
    assert live.proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while _session_pids(live.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_pids(live.proc.pid) == []   # no web worker left behind
    assert processes_left(job["id"], live.data_dir) == []     # nor any process of the job
    db = sqlite3.connect(live.data_dir / "turret.sqlite3")
    row = db.execute("SELECT status, event_processing_finished FROM jobs WHERE id = ?", (job["id"],)).fetchone()
    db.close()
    assert row == ("canceled", 1)
    assert not Path(wake_address(live.data_dir)).exists()
    assert list((live.data_dir / "runs" / ".owners").glob("*.lock")) == []
    assert "Traceback" not in live.stderr()
    live.stop()


# -- the wake socket in-process ---------------------------------------------------------------
class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.seen = threading.Event()

    def notify(self) -> None:
        self.calls.append(("notify",))
        self.seen.set()

    def cancel(self, resource: str, pk: int) -> None:
        self.calls.append(("cancel", resource, pk))
        self.seen.set()


def test_wake_datagrams_reach_the_listener(tmp_path):
    recorder = _Recorder()
    address = wake_address(tmp_path)
    sender = WakeSender(address)
    sender.notify()                         # nobody listens yet: dropped, never raised
    listener = WakeListener(address, recorder)
    listener.start()
    try:
        assert oct(os.stat(address).st_mode & 0o777) == "0o600"
        for message in (b"cancel job x", b"garbage"):
            sender._sock.sendto(message, address)   # ignored, the listener lives on
        sender.cancel("project_update", 12)
        assert recorder.seen.wait(2)
        sender.notify()
        deadline = time.monotonic() + 2
        while len(recorder.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recorder.calls == [("cancel", "project_update", 12), ("notify",)]
    finally:
        listener.stop()
        sender.close()
    assert not os.path.exists(address)


def test_a_long_data_dir_gets_an_abstract_address(tmp_path):
    deep = tmp_path / ("d" * 120)
    address = wake_address(deep)
    assert address.startswith("\0turret-wake-") and address == wake_address(deep)
    recorder = _Recorder()
    listener = WakeListener(address, recorder)
    listener.start()
    try:
        WakeSender(address).notify()
        assert recorder.seen.wait(2) and recorder.calls == [("notify",)]
    finally:
        listener.stop()


@pytest.mark.slow
def test_metrics_of_every_process_are_summed_on_each_worker(live, world):
    """Jobs end in the serving parent, scrapes land on web workers: both workers show the count."""
    a, b = one_per_worker(live).values()
    status, job = a.call("POST", f"/api/v2/job_templates/{world['quick']['id']}/launch/", {})
    assert status == 201, job
    wait_job(a, job["id"])

    def finished(conn: Conn) -> float:
        conn.http.request("GET", "/api/v2/metrics/", headers={"Authorization": conn.auth, "Accept": "text/plain"})
        text = conn.http.getresponse().read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith('turret_jobs_finished_total{kind="job",status="successful"}'))
    successful = a.call("GET", "/api/v2/jobs/?status=successful&page_size=1")[1]["count"]
    deadline = time.monotonic() + 5      # the parent counts just after it marks the job's events done
    while (seen := (finished(a), finished(b))) != (successful, successful):
        assert time.monotonic() < deadline, (seen, successful)
        time.sleep(0.05)
    for conn in (a, b):
        conn.close()


@pytest.mark.slow
def test_web_workers_do_not_outlive_a_killed_parent(tmp_path):
    """SIGKILL leaves no handler to run: the web server still ends (parent-death signal), so no
    worker keeps answering with no dispatcher behind it."""
    live = start_controller(tmp_path, args=("--workers", "2"))
    assert len(_session_pids(live.proc.pid, serving=True)) == 4
    os.kill(live.proc.pid, signal.SIGKILL)
    live.proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while _session_pids(live.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_pids(live.proc.pid) == []
    live.stop()


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_the_other_servers_serve_on_two_workers_and_stop(tmp_path, server):
    live = start_controller(tmp_path, args=("--workers", "2"), env={"TURRET_WEB_SERVER": server})
    workers = one_per_worker(live)
    for conn in workers.values():
        status, me = conn.call("GET", "/api/v2/me/")
        assert status == 200 and me["results"][0]["username"] == "admin"
        conn.close()
    os.kill(live.proc.pid, signal.SIGTERM)
    assert live.proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while _session_pids(live.proc.pid, serving=True) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_pids(live.proc.pid, serving=True) == []
    assert "Traceback" not in live.stderr()
    live.stop()

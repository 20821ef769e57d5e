"""Jobs on ``turret worker``s (issue 17): a real Redis broker (TLS and a password) on a free
loopback port, real worker processes with data dirs of their own, and the controller in this
process with ``BROKER_URL`` set.  A remote run gives the events, stdout and summaries a local
run gives; instance groups route it to their queue; cancel ends the worker's whole process
tree; a redelivered task never runs the play twice; a controller restarted mid-job loses and
duplicates no event; and no secret ever rests in the broker outside the job's payload.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import redis

from controller.workers import keys
from controller.workers.app import TASK_RUN_JOB, make_celery
from tests.support.jobs import (
    attach_credential, awx_stdout, events, launch, make_credential, make_inventory, make_jt, make_org,
    make_project, strip_ansi, type_id, uniq, wait_finished, wait_job, wait_status, wait_until,
)
from tests.support.redis_server import RedisServer
from tests.support.workers import distributed_controller, instance_group, start_worker, wait_registered

from conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.slow

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: greet
      debug: msg="hello {{ inventory_hostname }}"
    - name: change
      command: echo changed
      changed_when: inventory_hostname == 'h1'
    - name: record
      run_once: true
      set_stats:
        data: {build: 42}
    - name: break h2
      fail: msg="h2 is broken"
      when: inventory_hostname == 'h2'
"""
SLEEP = """- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: msg=starting
    - name: nap
      command: sleep {{ nap | default(30) }}
    - name: after
      debug: msg=woke-up
"""
APPEND = """- hosts: all
  gather_facts: false
  tasks:
    - name: append
      shell: echo ran >> {{ out }}
"""
CANARY = """- hosts: all
  gather_facts: false
  tasks:
    - name: leak
      debug:
        msg: "env={{ lookup('env', 'CANARY_TOKEN') }}"
    - name: wait
      command: sleep 2
"""
HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"
PLAYBOOKS = {"hello.yml": HELLO, "play.yml": PLAY, "sleep.yml": SLEEP, "append.yml": APPEND, "canary.yml": CANARY}
ORIGIN = re.compile(r"Origin: \S*/")
PASSWORD = "broker-pw-" + uniq("p").replace("-", "")


class TlsRedisServer(RedisServer):
    """The same server with a password, listening with TLS only (a CA and a certificate for
    127.0.0.1 made by openssl): ``url`` is ``rediss://`` with the CA to verify it by."""

    def __init__(self, workdir: Path, password: str) -> None:
        super().__init__(workdir, password=password)
        self.ca = workdir / "ca.pem"
        steps = [["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
                  "-subj", "/CN=turret-test-ca"],
                 ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                  "-subj", "/CN=127.0.0.1"],
                 ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                  "-out", "server.pem", "-days", "1", "-extfile", "san.cnf"]]
        (workdir / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
        for step in steps:
            subprocess.run(["openssl", *step], cwd=workdir, check=True, capture_output=True)

    @property
    def url(self) -> str:
        return (f"rediss://:{self.password}@127.0.0.1:{self.port}/0?ssl_cert_reqs=required"
                f"&ssl_ca_certs={self.ca}")

    def start(self) -> "TlsRedisServer":
        w = self.workdir
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", "0", "--tls-port", str(self.port),
             "--tls-auth-clients", "no", "--tls-cert-file", str(w / "server.pem"),
             "--tls-key-file", str(w / "server.key"),
             "--tls-ca-cert-file", str(self.ca), "--requirepass", self.password, "--dir", str(w),
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = redis.Redis.from_url(self.url)
        try:
            wait_until(lambda: self._ping(conn), 15, "redis-server (TLS) to answer")
        finally:
            conn.close()
        return self

    @staticmethod
    def _ping(conn: redis.Redis) -> bool:
        try:
            return bool(conn.ping())
        except redis.RedisError:
            return False


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """The module's broker: TLS and a password (``rediss://``), or a password only where
    openssl is missing."""
    workdir = tmp_path_factory.mktemp("redis")
    server = TlsRedisServer(workdir, PASSWORD) if shutil.which("openssl") else RedisServer(workdir, PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_state(tmp_path_factory, broker):
    """This module's controller: distributed (the broker set), two local job threads (the
    ``default`` group holds this node, so its jobs run here: the local reference runs)."""
    with distributed_controller(tmp_path_factory.mktemp("data"), broker.url, ADMIN_PASSWORD) as state:
        yield state


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, broker):
    """w1 consumes the ``remote`` group's queue, w2 the ``edge`` group's."""
    root = tmp_path_factory.mktemp("workers")
    workers = {"w1": start_worker(broker.url, "w1", "remote", 2, root / "w1"),
               "w2": start_worker(broker.url, "w2", "edge", 1, root / "w2")}
    try:
        wait_registered(broker.url, *workers.values())
        yield workers
    finally:
        for w in workers.values():
            w.stop()


@pytest.fixture(scope="module")
def jobs(app_state, fleet):
    dispatcher = app_state.start_jobs(workers=2)
    yield dispatcher
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def stage(admin, app_state, jobs):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, PLAYBOOKS)
    inventory = make_inventory(admin, org, ["h1", "h2"])
    single = make_inventory(admin, org, ["h1"])
    groups = {}
    for name in ("remote", "edge"):      # made by the fleet monitor from the workers' queues
        groups[name] = instance_group(admin, name)
    return {"org": org, "project": project, "inventory": inventory, "single": single, "groups": groups}


@pytest.fixture(scope="module")
def client(broker):
    conn = redis.Redis.from_url(broker.url)
    yield conn
    conn.close()


def _jt(admin, stage, playbook: str, group: str | None, inventory: str = "single", **fields) -> dict:
    jt = make_jt(admin, stage["project"], stage[inventory], playbook, **fields)
    if group:
        resp = admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": stage["groups"][group]["id"]})
        assert resp.status_code == 204, resp.json
    return jt


def _shape(rows: list[dict]) -> list[tuple]:
    """(counter, event, host, stdout) of each event; the folder a failed task's ``Origin:``
    names is the project's on the machine that ran it, so only its file name is compared."""
    return [(e["counter"], e["event"], e["host_name"], ORIGIN.sub("Origin: ", strip_ansi(e["stdout"])))
            for e in sorted(rows, key=lambda e: e["counter"])]


def _run_processes(marker: str, under: Path) -> list[tuple[int, str]]:
    """Live processes whose environment has ``TURRET_RUN=<marker>`` and a path under ``under``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"TURRET_RUN={marker}".encode() in env and any(str(under).encode() in e for e in env):
            found.append((int(entry), cmd))
    return found


def test_remote_runs_equal_local_ones_and_follow_instance_groups(admin, stage, fleet):
    # one fork: hosts report in a fixed order, so the event lists compare exactly
    local = launch(admin, _jt(admin, stage, "play.yml", None, "inventory", forks=1))
    remote = launch(admin, _jt(admin, stage, "play.yml", "remote", "inventory", forks=1))
    edge = launch(admin, _jt(admin, stage, "play.yml", "edge", "inventory", forks=1))
    done = {name: wait_job(admin, body["id"], timeout=90) for name, body in
            (("local", local), ("remote", remote), ("edge", edge))}

    assert done["local"]["execution_node"] not in ("w1", "w2", "")
    assert (done["remote"]["execution_node"], done["edge"]["execution_node"]) == ("w1", "w2")
    assert done["remote"]["instance_group"] == stage["groups"]["remote"]["id"]
    assert done["edge"]["instance_group"] == stage["groups"]["edge"]["id"]
    reference = _shape(events(admin, local["id"]))
    assert [e[1] for e in reference][:2] == ["playbook_on_start", "playbook_on_play_start"]
    for name in ("remote", "edge"):
        job = done[name]
        assert (job["status"], job["failed"]) == (done["local"]["status"], True) == ("failed", True)
        assert job["started"] and job["finished"] and job["event_processing_finished"]
        rows = events(admin, job["id"])
        assert _shape(rows) == reference                          # names, counters, hosts, stdout
        assert ORIGIN.sub("", awx_stdout(rows)) == ORIGIN.sub("", awx_stdout(events(admin, local["id"])))
        assert job["artifacts"] == done["local"]["artifacts"] == {"build": 42}
        summaries = admin.get(f"/api/v2/jobs/{job['id']}/job_host_summaries/?order_by=host_name").json["results"]
        assert [(s["host_name"], s["ok"], s["changed"], s["failures"]) for s in summaries] == \
            [("h1", 3, 1, 0), ("h2", 2, 0, 1)]
        assert "ansible-playbook" in json.loads(job["job_args"])[0]
        assert "PATH" not in job["job_env"]                       # the worker's own PATH applies there


def test_cancel_reaches_the_worker_and_ends_its_process_tree(admin, stage, fleet):
    body = launch(admin, _jt(admin, stage, "sleep.yml", "remote"))
    wait_until(lambda: any(e["task"] == "nap" for e in events(admin, body["id"])), 60, "the nap task")
    marker = f"job-{body['id']}"
    assert _run_processes(marker, fleet["w1"].data_dir), "the run's processes are visible while it runs"
    asked = time.monotonic()
    assert admin.post(f"/api/v2/jobs/{body['id']}/cancel/").status_code == 202
    job = wait_job(admin, body["id"], timeout=30)
    assert job["status"] == "canceled", job["job_explanation"]
    took = time.monotonic() - asked
    print(f"cancel POST -> canceled (remote): {took * 1000:.0f} ms")
    assert took < 10
    assert not any(e["task"] == "after" for e in events(admin, body["id"]))
    wait_until(lambda: not _run_processes(marker, fleet["w1"].data_dir), 10, "the run's processes to end")
    wait_until(lambda: not any(fleet["w1"].data_dir.iterdir()), 10, "the worker's run dir to go")


def test_a_remote_job_timeout_is_the_jobs_own(admin, stage, fleet):
    body = launch(admin, _jt(admin, stage, "sleep.yml", "edge", timeout=3))
    job = wait_job(admin, body["id"], timeout=60)
    assert (job["status"], job["job_explanation"], job["execution_node"]) == \
        ("failed", "Job terminated due to timeout", "w2")
    wait_until(lambda: not _run_processes(f"job-{body['id']}", fleet["w2"].data_dir), 10, "the run's processes to end")


def test_a_redelivered_task_never_runs_the_play_twice(admin, stage, fleet, client, broker, tmp_path):
    out = tmp_path / "ran.txt"
    jt = _jt(admin, stage, "append.yml", "remote", extra_vars=json.dumps({"out": str(out)}))
    body = launch(admin, jt)
    stream = keys.stream("job", body["id"])
    first = wait_until(lambda: client.xrange(stream, count=1), 20, "the dispatched entry")
    nonce = first[0][1][b"nonce"].decode()
    app = make_celery(broker.url)
    try:    # the broker delivers the same task twice more (a visibility timeout, a lost ack ...)
        for n in range(2):
            app.send_task(TASK_RUN_JOB, kwargs={"resource": "job", "pk": body["id"], "nonce": nonce},
                          queue="remote", task_id=f"job-{body['id']}-{nonce}-again{n}")
    finally:
        app.close()
    job = wait_job(admin, body["id"], timeout=60)
    assert job["status"] == "successful", job["job_explanation"]
    time.sleep(2)       # the extra deliveries have been taken and dropped by now
    assert out.read_text() == "ran\n"
    rows = events(admin, body["id"])
    assert len({e["counter"] for e in rows}) == len(rows)
    assert [e["event"] for e in rows].count("playbook_on_start") == 1


def test_a_controller_restarted_mid_job_loses_and_duplicates_no_event(admin, app_state, stage, fleet):
    jt = _jt(admin, stage, "sleep.yml", "remote", extra_vars=json.dumps({"nap": 4}))
    body = launch(admin, jt)
    wait_until(lambda: any(e["task"] == "nap" for e in events(admin, body["id"])), 60, "the nap task")
    app_state.stop_jobs()               # the controller goes away while w1 runs the job ...
    assert admin.get(f"/api/v2/jobs/{body['id']}/").json["status"] == "running"
    time.sleep(4)                       # ... the play ends meanwhile ...
    app_state.start_jobs(workers=2)     # ... and a new dispatcher on the same data dir takes it up
    job = wait_job(admin, body["id"], timeout=60)
    assert (job["status"], job["execution_node"]) == ("successful", "w1"), job["job_explanation"]
    rows = events(admin, body["id"])
    counters = sorted(e["counter"] for e in rows)
    assert counters == list(range(1, len(rows) + 1))
    assert len({e["uuid"] for e in rows}) == len(rows)
    assert "woke-up" in awx_stdout(rows)
    assert max(rows, key=lambda e: e["counter"])["event"] == "playbook_on_stats"
    assert [e["task"] for e in rows if e["event"] == "runner_on_ok"] == ["before", "nap", "after"]


class _Monitor:
    """Every command the Redis server executes while it runs (``MONITOR``)."""

    def __init__(self, url: str) -> None:
        self.conn = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _listen(self) -> None:
        try:
            with self.conn.monitor() as m:
                self.ready.set()
                for cmd in m.listen():
                    self.commands.append(cmd["command"])
        except Exception:  # noqa: BLE001 - closed at the end of the test
            return

    def stop(self) -> None:
        self.conn.connection_pool.disconnect()
        self.thread.join(5)


def _dump(conn: redis.Redis, payload_key: str) -> str:
    """Every key and value in the broker (TYPE-aware), the job's payload key's value left out."""
    parts = []
    for key in conn.keys("*"):
        kind = conn.type(key).decode()
        parts.append(key.decode(errors="replace"))
        if key.decode() == payload_key:
            continue
        if kind == "string":
            parts.append(repr(conn.get(key)))
        elif kind == "list":
            parts += [repr(v) for v in conn.lrange(key, 0, -1)]
        elif kind == "hash":
            parts.append(repr(conn.hgetall(key)))
        elif kind == "set":
            parts.append(repr(conn.smembers(key)))
        elif kind == "zset":
            parts.append(repr(conn.zrange(key, 0, -1, withscores=True)))
        elif kind == "stream":
            parts.append(repr(conn.xrange(key)))
    return "\n".join(parts)


def _decoded_messages(texts: list[str]) -> list[str]:
    """Kombu's task messages carry their body base64-encoded: decode every one found."""
    out = []
    for text in texts:
        start = text.find("{")
        while start >= 0:
            try:
                msg = json.loads(text[start:].rsplit("}", 1)[0] + "}")
            except ValueError:
                break
            if isinstance(msg, dict) and "body" in msg:
                out.append(base64.b64decode(msg["body"]).decode(errors="replace"))
                out.append(json.dumps(msg.get("headers")))
            break
    return out


def test_secrets_travel_only_inside_the_payload(admin, stage, fleet, client, broker, tmp_path):
    canary = "c4n4ry" + uniq("s").replace("-", "")
    key_file = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key_file)],
                   check=True)
    ctype = admin.post("/api/v2/credential_types/", {
        "name": uniq("canary-type"), "kind": "cloud",
        "inputs": {"fields": [{"id": "token", "label": "Token", "type": "string", "secret": True}]},
        "injectors": {"env": {"CANARY_TOKEN": "{{ token }}"}}})
    assert ctype.status_code == 201, ctype.json
    machine = make_credential(admin, stage["org"], type_id(admin, "ssh"), {
        "username": "deployer", "password": f"ssh-{canary}", "ssh_key_data": key_file.read_text()})
    custom = make_credential(admin, stage["org"], ctype.json["id"], {"token": f"tok-{canary}"})
    jt = _jt(admin, stage, "canary.yml", "remote")
    attach_credential(admin, jt, machine)
    attach_credential(admin, jt, custom)
    key_body = key_file.read_text().splitlines()[2]     # a line of the private key itself

    watch = _Monitor(broker.url)
    try:
        body = launch(admin, jt)
        payload_key = keys.payload("job", body["id"])
        wait_status(admin, body["id"], ("running",), timeout=60)
        during = _dump(client, payload_key)
        job = wait_job(admin, body["id"], timeout=60)
        after = _dump(client, payload_key)
    finally:
        watch.stop()
    assert job["status"] == "successful", job["job_explanation"]
    assert "env=$encrypted$" in awx_stdout(events(admin, body["id"]))    # the secret did reach the play
    assert any("LPUSH" in c and "remote" in c for c in watch.commands), "the task message was seen"
    # every command the broker ran, except the one storing the payload (the secrets' only vehicle)
    commands = [c for c in watch.commands if not c.startswith(f"SET {payload_key} ")]
    sources = {"redis during": during, "redis after": after, "commands": "\n".join(commands),
               "task messages": "\n".join(_decoded_messages(commands)), "w1 log": fleet["w1"].output()}
    for needle in (canary, key_body):
        leaks = {where: text[max(0, text.find(needle) - 300):text.find(needle) + 100]
                 for where, text in sources.items() if needle in text}
        assert leaks == {}, needle
    assert not client.exists(payload_key)


def test_dispatch_to_started_is_fast(admin, app_state, stage, fleet):
    """POST → ``started`` (the worker's claim granted) of remote jobs, each launched once the
    previous one started, on a free worker slot (w1 has two, w2 one)."""
    jts = [_jt(admin, stage, "hello.yml", g, allow_simultaneous=True) for g in ("remote", "remote", "edge")]
    bodies, waits = [], []
    for jt in jts:
        bodies.append(launch(admin, jt))
        wait_status(admin, bodies[-1]["id"], ("running", "successful"), timeout=30)
    for body in bodies:
        job = wait_job(admin, body["id"], timeout=60)
        assert job["status"] == "successful", job["job_explanation"]
        started, created = (datetime.fromisoformat(job[k].replace("Z", "+00:00")) for k in ("started", "created"))
        waits.append((started - created).total_seconds())
    p50 = statistics.median(waits)
    print(f"dispatch POST -> remote started: p50 {p50 * 1000:.0f} ms ({[round(w * 1000) for w in waits]})")
    assert p50 < 2.0


def test_an_ad_hoc_command_runs_in_its_inventorys_group(admin, stage):
    inventory = make_inventory(admin, stage["org"], ["h1"])
    group = stage["groups"]["edge"]
    assert admin.post(f"/api/v2/inventories/{inventory['id']}/instance_groups/", {"id": group["id"]}).status_code == 204
    made = admin.post("/api/v2/ad_hoc_commands/", {"inventory": inventory["id"], "module_name": "command",
                                                   "module_args": "echo adhoc-on-a-worker"})
    assert made.status_code == 201, made.json
    cmd = wait_finished(admin, f"/api/v2/ad_hoc_commands/{made.json['id']}/", timeout=60)
    assert (cmd["status"], cmd["execution_node"]) == ("successful", "w2"), cmd     # routed by its inventory
    stdout = admin.get(f"/api/v2/ad_hoc_commands/{made.json['id']}/stdout/?format=txt").data.decode()
    assert "adhoc-on-a-worker" in stdout and "h1 | CHANGED" in stdout


def test_a_worker_killed_mid_job_leaves_an_error_and_no_process(admin, stage, broker, tmp_path):
    doomed = start_worker(broker.url, "w3", "doomed", 1, tmp_path / "w3")
    try:
        wait_registered(broker.url, doomed)
        group = instance_group(admin, "doomed")
        jt = make_jt(admin, stage["project"], stage["single"], "sleep.yml")
        assert admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": group["id"]}).status_code == 204
        body = launch(admin, jt)
        wait_until(lambda: any(e["task"] == "nap" for e in events(admin, body["id"])), 60, "the nap task")
        marker = f"job-{body['id']}"
        assert _run_processes(marker, doomed.data_dir)
        doomed.kill()                               # the machine dies: no warm shutdown, no goodbye
        died = time.monotonic()
        # the guard saw its lifeline break: the play's whole tree is gone at once
        wait_until(lambda: not _run_processes(marker, doomed.data_dir), 10, "the run's processes to end")
        job = wait_job(admin, body["id"], timeout=40)
        assert time.monotonic() - died <= 30
        assert (job["status"], job["execution_node"]) == ("error", "w3")
        assert "w3" in job["job_explanation"] and "not re-run" in job["job_explanation"]
        assert [e["event"] for e in events(admin, body["id"])].count("playbook_on_start") == 1
    finally:
        doomed.kill()


def test_an_unclaimed_job_whose_stream_the_broker_lost_ends_in_error(broker):
    """A broker restarted without persistence forgets a queued job (task, payload, stream):
    its follower ends it instead of waiting forever."""
    from controller.workers.transport import Broker, Frames
    conn = Broker(broker.url)
    try:
        frames = Frames(conn, "job", 987654, grant=lambda name: True, canceled=lambda: False, ended=lambda: False)
        status, end = json.loads(frames.readline()), json.loads(frames.readline())
    finally:
        conn.close()
    assert status["status"] == "error" and "lost the job" in status["job_explanation"]
    assert end == {"eof": True} and frames.closed and not frames.detached

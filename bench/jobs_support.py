"""Helpers of ``bench/jobs_bench.py``: seeding a data dir through the service layer, the real
server as a subprocess, a keep-alive HTTP client, load generation, runner-shaped events."""
from __future__ import annotations

import base64
import cProfile
import http.client
import io
import json
import math
import os
import pstats
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PLAYBOOKS = BENCH / "playbooks"
ADMIN_PASSWORD = "jobs-bench-admin-pw-1"
FINISHED = ("successful", "failed", "error", "canceled")
LOCAL_VARS = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
START_TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- small things ------------------------------------------------------------------------------
def local_inventory() -> dict:
    """The inventory Turret renders for the 1-host inventory (hosts.json), for bare runs."""
    return {"all": {"hosts": {"local1": dict(LOCAL_VARS)}}}


def runner_env() -> dict:
    """What any caller of ansible-runner needs here: the venv's bin first in PATH."""
    return {"PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def own_cpu() -> float:
    """CPU seconds of this process (all threads) plus its reaped children (ansible)."""
    return sum(cpu_split())


def cpu_split() -> tuple[float, float]:
    """(CPU seconds of this process, all threads; of its reaped children, i.e. ansible)."""
    import resource
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), ch.ru_utime + ch.ru_stime


def ts(value: str) -> float:
    """An API / runner timestamp (ISO 8601, ``Z``, offset or naive UTC) -> epoch seconds."""
    text = value.replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return ""


def git_describe() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=str(REPO), capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def profile_call(fn, top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    buf.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# -- seeding -----------------------------------------------------------------------------------
def seed(data_dir: str, big_hosts: int) -> dict:
    """Admin, organization, manual project (bench/playbooks copied into the projects root), a
    1-host local inventory, a ``big_hosts``-host inventory (10 rack groups under a ``dc`` group,
    distinct vars per host), the job templates, and one canceled job to hang synthetic events on.
    Everything through ``crud.create`` (validation, roles, activity stream), one transaction per
    inventory; only the group-host / group-children links are inserted directly."""
    from controller import open_state
    from controller.config import Settings
    from controller.services import bootstrap, crud

    t0 = time.perf_counter()
    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    bootstrap.ensure_admin(state, ADMIN_PASSWORD)
    ctx = bootstrap.system_context(state)
    reg = state.registry
    store = state.store
    folder = Path(data_dir) / "projects" / "jobs_bench"
    folder.mkdir(parents=True, exist_ok=True)
    for pb in PLAYBOOKS.glob("*.yml"):
        shutil.copy(pb, folder / pb.name)
    org = crud.create(ctx, reg["organization"], {"name": "JobsBench"})
    project = crud.create(ctx, reg["project"], {"name": "jobs-bench", "organization": org["id"],
                                                "local_path": "jobs_bench"})
    inv1 = crud.create(ctx, reg["inventory"], {"name": "one-local", "organization": org["id"]})
    crud.create(ctx, reg["host"], {"name": "local1", "inventory": inv1["id"], "variables": json.dumps(LOCAL_VARS)})
    t1 = time.perf_counter()
    with store.transaction():
        big = crud.create(ctx, reg["inventory"], {"name": f"big-{big_hosts}", "organization": org["id"],
                                                  "variables": json.dumps(LOCAL_VARS)})
        host_res = reg["host"]
        host_ids = []
        for i in range(1, big_hosts + 1):
            row = crud.create(ctx, host_res, {
                "name": f"host-{i}", "inventory": big["id"],
                "variables": json.dumps({"ansible_host": "127.0.0.1", "host_index": i, "rack": f"rack-{i % 10}",
                                         "serial": f"SN{i:08d}"})})
            host_ids.append(row["id"])
        group_res = reg["group"]
        dc = crud.create(ctx, group_res, {"name": "dc", "inventory": big["id"], "variables": "site: bench\n"})
        links, children = [], []
        for r in range(10):
            g = crud.create(ctx, group_res, {"name": f"rack-{r}", "inventory": big["id"],
                                             "variables": json.dumps({"rack_no": r})})
            children.append({"parent_id": dc["id"], "child_id": g["id"]})
            links += [{"group_id": g["id"], "host_id": hid} for n, hid in enumerate(host_ids, 1) if n % 10 == r]
        store.insert_many("group_hosts", links)
        store.insert_many("group_children", children)
    t2 = time.perf_counter()
    jt = reg["job_template"]
    base = {"project": project["id"], "inventory": inv1["id"]}
    jt_twenty = crud.create(ctx, jt, {"name": "twenty", "playbook": "twenty.yml", **base})
    jt_trivial = crud.create(ctx, jt, {"name": "trivial", "playbook": "trivial.yml", **base})
    jt_accept = crud.create(ctx, jt, {"name": "accept", "playbook": "trivial.yml", "allow_simultaneous": True,
                                      **base})
    jt_big = crud.create(ctx, jt, {"name": "big", "playbook": "trivial.yml", "project": project["id"],
                                   "inventory": big["id"], "limit": "host-1"})
    sink = sink_job(state, jt_twenty["id"])
    state.store.close()
    return {"org": org["id"], "project": project["id"], "inv1": inv1["id"], "inv_big": big["id"],
            "jt_twenty": jt_twenty["id"], "jt_trivial": jt_trivial["id"], "jt_accept": jt_accept["id"],
            "jt_big": jt_big["id"], "job_sink": sink["id"],   # synthetic events of the ingest test
            "timings": {"base_s": t1 - t0, "big_inventory_s": t2 - t1, "hosts": big_hosts}}


def sink_job(state, jt_id: int) -> dict:
    """A job of template ``jt_id`` created by ``launch_job`` and canceled before it runs: the
    parent row for events stored in-process (no server dispatches it)."""
    from controller.jobs.launch import launch_job
    from controller.services import bootstrap
    from controller.store import jobs as q
    ctx = bootstrap.system_context(state)
    job, _ = launch_job(ctx, state.store.get("job_templates", jt_id), {})
    q.cancel_pending(state.store, "jobs", job["id"])
    return job


# -- server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m controller serve`` on 127.0.0.1 as a subprocess (extra ``TURRET_*`` in ``env``)."""

    def __init__(self, data_dir: str, log_path: str, env: dict | None = None) -> None:
        self.port = free_port()
        full = {k: v for k, v in os.environ.items() if not k.startswith("TURRET_")}
        full["TURRET_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        full.update(env or {})
        cmd = [sys.executable, "-m", "controller", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", data_dir]
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=str(REPO), env=full, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/api/v2/ping/")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server not ready after {START_TIMEOUT}s; see {self.log.name}")

    def cpu_seconds(self, with_children: bool = False) -> float:
        """utime+stime of the server (all threads); with reaped children (ansible) if asked."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_children else 0)
        return ticks / CLK_TCK

    def _children(self) -> list[int]:
        out = []
        base = f"/proc/{self.proc.pid}/task"
        try:
            for tid in os.listdir(base):
                try:
                    with open(f"{base}/{tid}/children") as fh:
                        out += [int(c) for c in fh.read().split()]
                except OSError:
                    continue
        except OSError:
            pass
        return out

    def watch_spawn(self, job_id: int, timeout: float = 60, interval: float = 0.01) -> float | None:
        """CLOCK_BOOTTIME seconds at which the job's ansible-playbook process was forked (from
        /proc/<pid>/stat starttime, 1/CLK_TCK = 10 ms resolution, rounded down), found among the
        server's children by the ``JOB_ID=<id>`` the executor puts in its environment."""
        marker = f"JOB_ID={job_id}".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/environ", "rb") as fh:
                        if marker not in fh.read().split(b"\0"):
                            continue
                    with open(f"/proc/{pid}/stat") as fh:
                        start = int(fh.read().rsplit(")", 1)[1].split()[19])
                    return start / CLK_TCK
                except OSError:
                    continue
            time.sleep(interval)
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# -- client ------------------------------------------------------------------------------------
class Client:
    """One keep-alive HTTP/1.1 connection with a fixed Authorization header."""

    def __init__(self, port: int, auth: str | None = None) -> None:
        self.port = port
        self.headers = {"Accept": "application/json"}
        if auth:
            self.headers["Authorization"] = auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes, float]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, b"", time.perf_counter() - t0
        elapsed = time.perf_counter() - t0
        if (resp.getheader("Connection") or "").lower() == "close":
            self.conn.close()
        return resp.status, payload, elapsed

    def json(self, method: str, path: str, body=None, expect: int = 200) -> dict:
        status, payload, _ = self.request(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path} -> {status} {payload[:300]!r}")
        return json.loads(payload) if payload else {}

    def close(self) -> None:
        self.conn.close()


def admin_token(port: int) -> str:
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    c = Client(port, basic)
    try:
        token = c.json("POST", "/api/v2/tokens/", {"description": "jobs bench", "scope": "write"}, expect=201)["token"]
    finally:
        c.close()
    return f"Bearer {token}"


def wait_job(client: Client, job_id: int, poll: float = 0.1, timeout: float = 900) -> dict:
    """The job once finished with event_processing_finished."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.json("GET", f"/api/v2/jobs/{job_id}/")
        if body["status"] in FINISHED and body["event_processing_finished"]:
            return body
        time.sleep(poll)
    raise RuntimeError(f"job {job_id} not done after {timeout}s: {body.get('status')}")


def load(server: Server, auth: str, method: str, path: str, body, expect: int, seconds: float,
         clients: int) -> dict:
    """``clients`` threads, one keep-alive connection each, repeating one request for ``seconds``."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    errs = [0] * clients
    first_error: list[str] = []
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(n: int) -> None:
        c = Client(server.port, auth)
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            status, payload, elapsed = c.request(method, path, body)
            if status == expect:
                lat[n].append(elapsed)
            else:
                errs[n] += 1
                first_error[:1] = first_error[:1] or [f"{status} {payload[:200]!r}"]
        c.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    cpu0 = server.cpu_seconds()
    client0 = time.process_time()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    every = [e for per in lat for e in per]
    done = max(1, len(every) + sum(errs))
    out = {"n": len(every), "errors": sum(errs), "seconds": wall, "req_per_s": len(every) / wall,
           "p50_ms": pct(every, 50) * 1000, "p99_ms": pct(every, 99) * 1000,
           "server_cpu_ms_per_req": (server.cpu_seconds() - cpu0) / done * 1000,
           "client_cpu_ms_per_req": (time.process_time() - client0) / done * 1000}
    if first_error:
        out["first_error"] = first_error[0]
    return out


# -- runner-shaped events ----------------------------------------------------------------------
_MODULE_ARGS = {"_raw_params": "echo one", "_uses_shell": False, "expand_argument_vars": True,
                "stdin_add_newline": True, "strip_empty_ends": True, "cmd": None, "argv": None, "chdir": None,
                "executable": None, "creates": None, "removes": None, "stdin": None}


def synthetic_events(n: int) -> list[dict]:
    """``n`` events shaped like ansible-runner's for a command task on one host, cycling
    playbook_on_task_start / runner_on_start / runner_on_ok (about 1 KB of JSON on average,
    as the events of the 20-task playbook: 1.06 KB)."""
    ident = str(uuid.uuid4())
    play_uuid = str(uuid.uuid4())
    pb_uuid = str(uuid.uuid4())
    base = {"playbook": "twenty.yml", "playbook_uuid": pb_uuid, "play": "Twenty tasks", "play_uuid": play_uuid,
            "play_pattern": "all", "task_action": "ansible.builtin.command",
            "resolved_action": "ansible.builtin.command", "task_args": ""}
    out = []
    line = 0
    task_uuid = ""
    for i in range(n):
        kind = ("playbook_on_task_start", "runner_on_start", "runner_on_ok")[i % 3]
        ev_uuid = str(uuid.uuid4())
        now = datetime.now(timezone.utc).isoformat()
        if kind == "playbook_on_task_start":
            task_uuid = str(uuid.uuid4())
        data = {**base, "task": f"command {i // 3}", "task_uuid": task_uuid,
                "task_path": f"/work/project/twenty.yml:{9 + i // 3}"}
        stdout = ""
        parent = task_uuid
        if kind == "playbook_on_task_start":
            data.update(name=data["task"], is_conditional=False)
            stdout = f"\r\nTASK [{data['task']}] " + "*" * 60
            parent = play_uuid
        else:
            data["host"] = "local1"
        if kind == "runner_on_ok":
            data.update(remote_addr="local1", start=now, end=now, duration=0.0123, event_loop=None, res={
                "changed": False, "stdout": f"one {i}", "stderr": "", "rc": 0, "cmd": ["echo", "one", str(i)],
                "start": "2026-11-22 13:36:49.736009", "end": "2026-11-22 13:36:49.743622",
                "delta": "0:00:00.007613", "msg": "", "invocation": {"module_args": _MODULE_ARGS},
                "stdout_lines": [f"one {i}"], "stderr_lines": [], "_ansible_no_log": False})
            stdout = "\x1b[0;32mok: [local1]\x1b[0m"
        data["uuid"] = ev_uuid
        start = line
        line += stdout.count("\n") + (1 if stdout else 0)
        out.append({"uuid": ev_uuid, "counter": i + 1, "stdout": stdout, "start_line": start, "end_line": line,
                    "runner_ident": ident, "event": kind, "pid": 4242, "created": now, "parent_uuid": parent,
                    "event_data": data})
    return out

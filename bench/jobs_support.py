"""Helpers of ``bench/jobs_bench.py`` and its phase modules (``jobs_e2e.py``, ``jobs_launch.py``,
``jobs_ingest.py``): seeding a data dir through the service layer, bare ansible-runner runs,
waiting for jobs, load generation, runner-shaped events.  The server, the HTTP client and the
/proc figures are ``bench/harness.py``'s, shared with the other benchmarks."""
from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from harness import Client, Server, bearer, drive, pct  # noqa: E402

PLAYBOOKS = BENCH / "playbooks"
ADMIN_PASSWORD = "jobs-bench-admin-pw-1"
FINISHED = ("successful", "failed", "error", "canceled")
LOCAL_VARS = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


# -- small things ------------------------------------------------------------------------------
def median(values):
    """The median of ``values`` that are not None; NaN when none are."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


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


# -- bare runs ---------------------------------------------------------------------------------
def bare_run(work: Path, playbook: str, extravars: dict | None = None, handler=None) -> dict:
    """``ansible_runner.run()`` in a fresh private data dir of this warm process."""
    import ansible_runner
    pdd = Path(tempfile.mkdtemp(prefix="bare-", dir=work))
    cpu0 = own_cpu()
    t0_wall = time.time()
    t0 = time.perf_counter()
    kwargs = dict(private_data_dir=str(pdd), playbook=playbook, project_dir=str(PLAYBOOKS),
                  inventory=local_inventory(), quiet=True, envvars=runner_env(), extravars=extravars)
    if handler is not None:
        kwargs["event_handler"] = handler
    split0 = cpu_split()
    r = ansible_runner.run(**kwargs)
    wall = time.perf_counter() - t0
    cpu = own_cpu() - cpu0
    split1 = cpu_split()
    out = {"wall_s": wall, "cpu_s": cpu, "events": None, "own_cpu_s": split1[0] - split0[0],
           "children_cpu_s": split1[1] - split0[1]}
    if handler is None:      # runner's default: one job_events/*.json per event; their timestamps
        created = []
        for f in (pdd / "artifacts").glob("*/job_events/*.json"):
            with open(f) as fh:
                created.append(ts(json.load(fh)["created"]))
        out["events"] = len(created)
        if created:
            out["first_event_s"] = min(created) - t0_wall
            out["last_event_s"] = max(created) - t0_wall
    shutil.rmtree(pdd, ignore_errors=True)
    if r.status != "successful":
        raise RuntimeError(f"bare run of {playbook} ended {r.status} rc={r.rc}")
    return out


# -- seeding -----------------------------------------------------------------------------------
def seed(data_dir: str, big_hosts: int) -> dict:
    """Admin, organization, manual project (bench/playbooks copied into the projects root), a
    1-host local inventory, a ``big_hosts``-host inventory (10 rack groups under a ``dc`` group,
    distinct vars per host), the job templates, and one canceled job to hang synthetic events on.
    Everything through ``crud.create`` (validation, roles, activity stream), one transaction per
    inventory; only the group-host / group-children links are inserted directly."""
    from controller.services import crud
    from harness import open_for_seeding

    t0 = time.perf_counter()
    state, ctx = open_for_seeding(data_dir, ADMIN_PASSWORD)
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


# -- server and API ----------------------------------------------------------------------------
def start_server(data_dir: str, log_path: str, env: dict | None = None) -> Server:
    """``python -m controller serve`` on the seeded data dir (extra ``TURRET_*`` in ``env``)."""
    return Server(data_dir, log_path, admin_password=ADMIN_PASSWORD, env=env, poll=0.02)


def admin_token(port: int) -> str:
    """A new write token of ``admin``, as a Bearer ``Authorization`` value."""
    return bearer(port, "admin", ADMIN_PASSWORD, description="jobs bench")


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

    def worker(n: int, go) -> None:
        c = Client(server.port, auth)
        stop = go()
        while time.perf_counter() < stop:
            status, payload, elapsed = c.request(method, path, body)
            if status == expect:
                lat[n].append(elapsed)
            else:
                errs[n] += 1
                first_error[:1] = first_error[:1] or [f"{status} {payload[:200]!r}"]
        c.close()

    phase = drive(worker, clients, seconds, server)
    wall = phase["seconds"]
    every = [e for per in lat for e in per]
    done = max(1, len(every) + sum(errs))
    out = {"n": len(every), "errors": sum(errs), "seconds": wall, "req_per_s": len(every) / wall,
           "p50_ms": pct(every, 50) * 1000, "p99_ms": pct(every, 99) * 1000,
           "server_cpu_ms_per_req": phase["server_cpu_s"] / done * 1000,
           "client_cpu_ms_per_req": phase["client_cpu_s"] / done * 1000}
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
                "task_path": f"project/twenty.yml:{9 + i // 3}"}
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

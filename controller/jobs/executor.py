"""The executor: with ``executor_agent``, the only modules that import ansible_runner.

``run(spec, ...)`` runs one playbook / ad hoc command / inventory import in a fresh private
data directory, streams events to ``on_event``, honours cancel and timeout, and removes the
directory (and every secret written into it) before returning.  Facts this relies on
(measured, see the engine notes): a private data dir is stateful, so one fresh dir per job;
``settings=`` is dropped under ``suppress_env_files``, so ``env/settings`` is written by hand
to get ~0.1 s cancel latency; runner kills only the process group of ansible-playbook, so
every process carrying this job's ``AWX_ISOLATED_DATA_DIR`` is swept afterwards.  A remote
run is runner's ``transmit`` here, ``executor_agent`` run as ``ansible-runner worker`` on a
``turret worker``, and ``process`` here again.

The parts that need no ansible-runner live beside it: ``staging`` (the private data dir and
runner's kwargs), ``extravars`` (the ``!unsafe`` extra vars file), ``results`` (final status,
scrubbed result) and ``processes`` (ending a run's processes through ``/proc``).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import ansible_runner
from ansible_runner.runner import Runner
from ansible_runner.utils import dump_artifacts

from ..collection import collections_path
from .executor_agent import AgentRunnerConfig
from .processes import sweep
from .results import outcome, run_result, scrub_text
from .spec import RunResult, RunSpec
from .staging import stage


def _emit_lines(text: str, on_event: Callable[[dict], object], counter: list[int], line: list[int]) -> None:
    """Output of a command that is not a playbook, as ``verbose`` events tiling its lines."""
    for raw in text.splitlines():
        counter[0] += 1
        on_event({"event": "verbose", "counter": counter[0], "uuid": uuid.uuid4().hex, "stdout": raw,
                  "start_line": line[0], "end_line": line[0] + 1, "event_data": {}})
        line[0] += 1


def run_inventory(spec: RunSpec, root: Path, on_event: Callable[[dict], object],
                  on_start: Callable[[], None] | None = None) -> RunResult:
    """``ansible-inventory -i <source> --list --export`` for an inventory import; its JSON is
    returned in ``output``, its messages become events."""
    pdd = Path(root) / f"{spec.ident}-{uuid.uuid4().hex[:8]}"
    pdd.mkdir(parents=True, mode=0o700)
    venv_bin = os.path.dirname(sys.executable)
    env = {"PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", "ANSIBLE_LOCAL_TEMP": str(pdd),
           "TMPDIR": str(pdd), "ANSIBLE_HOME": str(pdd / "home"), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
           "ANSIBLE_DEPRECATION_WARNINGS": "False", "TURRET_RUN": spec.ident, **spec.envvars}
    # no -v: ansible-inventory would print its messages into the JSON on stdout
    args = ["-i", str(spec.inventory), "--list", "--export"]
    if spec.limit:      # AWX: a source's limit restricts what the import keeps (constructed inventories)
        args += ["--limit", spec.limit]
    counter, line = [0], [0]
    if on_start:
        on_start()
    _emit_lines(f"Importing inventory from {spec.meta.get('source_label', spec.inventory)}", on_event, counter, line)
    try:
        out, err, rc = ansible_runner.run_command(
            executable_cmd="ansible-inventory", cmdline_args=args, runner_mode="subprocess", envvars=env,
            private_data_dir=str(pdd), suppress_env_files=True, quiet=True, timeout=spec.timeout or None,
            host_cwd=spec.project_dir, input_fd=None, output_fd=None, error_fd=None)
    except Exception as exc:  # noqa: BLE001
        out, err, rc = "", f"{type(exc).__name__}: {exc}", None
    finally:
        shutil.rmtree(pdd, ignore_errors=True)
    _emit_lines(scrub_text(err or "", spec.secrets), on_event, counter, line)
    status = "successful" if rc == 0 else "failed"
    explanation = "" if rc == 0 else "ansible-inventory could not read the source"
    if rc == 0:
        try:
            start = out.find("{")
            out = out[start:] if start >= 0 else out
            data = json.loads(out)
            hosts = len((data.get("_meta") or {}).get("hostvars") or {})
            groups = len([g for g in data if g not in ("_meta", "all", "ungrouped")])
            _emit_lines(f"Loaded {groups} groups, {hosts} hosts with variables", on_event, counter, line)
        except ValueError:
            status, explanation = "failed", "ansible-inventory did not print JSON"
    return RunResult(status=status, rc=rc, explanation=explanation,
                     job_args=json.dumps(["ansible-inventory", *args]), job_cwd=spec.project_dir or "",
                     output=out if rc == 0 else "")


def _run_runner(kwargs: dict) -> Runner:
    """``ansible_runner.run(**kwargs)`` with ``AgentRunnerConfig``: the same steps as runner's
    ``init_runner`` for a local, non-streamed run."""
    kwargs = dict(kwargs)
    handlers = {"event_handler": kwargs.pop("event_handler", None),
                "cancel_callback": kwargs.pop("cancel_callback", None)}
    dump_artifacts(kwargs)
    config = AgentRunnerConfig(**kwargs)
    config.prepare()
    runner = Runner(config, **handlers)
    runner.run()
    return runner


def run(spec: RunSpec, root: Path, on_event: Callable[[dict], object],
        should_cancel: Callable[[], bool], on_start: Callable[[], None] | None = None) -> RunResult:
    """Run ``spec``; returns when the process tree is gone and the run dir removed."""
    if spec.kind == "inventory":
        return run_inventory(spec, root, on_event, on_start)
    pdd, env, kwargs, problem = stage(spec, root)
    if problem:
        return RunResult(status="error", rc=None, explanation=problem)
    canceled = {"flag": False}
    artifact_dir = str(pdd / "artifacts" / "run")

    def cancel_callback() -> bool:
        if should_cancel():
            canceled["flag"] = True
            return True
        return False

    def event_handler(event: dict) -> bool:
        on_event(event)
        return False   # no job_events/*.json files: we store events ourselves

    kwargs.update(event_handler=event_handler, cancel_callback=cancel_callback)
    if on_start:
        on_start()
    runner = None
    began = time.monotonic()
    try:
        runner = _run_runner(kwargs)
        rc = runner.rc
        status, explanation = outcome(runner.status, canceled["flag"], spec, began)
    except Exception as exc:  # noqa: BLE001 - any failure to start becomes an errored job
        status, rc, explanation = "error", None, f"{type(exc).__name__}: {exc}"
    finally:
        sweep(artifact_dir)
    command, cwd, child_env = [], "", {}
    if runner is not None:
        command = list(getattr(runner.config, "command", []) or [])
        cwd = str(getattr(runner.config, "cwd", "") or "")
        child_env = dict(getattr(runner.config, "env", {}) or {})
    result = run_result(spec, env, status, rc, explanation, command, cwd, child_env)
    shutil.rmtree(pdd, ignore_errors=True)
    return result


# -- remote runs: ansible-runner's transmit / process halves (the worker half runs elsewhere) --
def transmit(spec: RunSpec, root: Path) -> tuple[bytes, dict]:
    """The ``ansible-runner transmit`` stream of ``spec`` for a worker, and the child env the
    run will get (for job_env).  The project, each folder in ``meta["cleanup"]`` (the job's
    credential files) and in ``meta["carry"]`` (the project's installed galaxy content) are
    copied inside the data dir, so a worker needs no shared filesystem; the stream starts
    with one header line ``{"turret": {"root": dir, "paths": {controller path: path inside
    the data dir}, "collections": ...}}`` that the worker uses to rewrite the controller's
    paths in runner's kwargs to its own (env vars such as ANSIBLE_COLLECTIONS_PATH included),
    and the controller's bundled collection path (``collections``) in ANSIBLE_COLLECTIONS_PATH
    to its own (local hosts need nothing: their default interpreter is the one running
    ansible-playbook wherever it runs, ``staging.PLAYBOOK_PYTHON``).
    PATH is left out: the worker's own applies; ``secrets`` (the values to scrub) lets the
    worker scrub its output before it reaches the broker.  The staging dir is removed before
    returning; raises RuntimeError when the run cannot start."""
    pdd, env, kwargs, problem = stage(spec, root)
    if problem:
        raise RuntimeError(problem)
    try:
        paths = {str(pdd): ""}
        if kwargs.get("project_dir"):
            shutil.copytree(kwargs["project_dir"], pdd / "project", symlinks=True,
                            ignore=shutil.ignore_patterns(".git"))
            kwargs["project_dir"] = str(pdd / "project")
        for prefix, folders in (("extra", spec.meta.get("cleanup")), ("content", spec.meta.get("carry"))):
            for n, folder in enumerate(folders or []):
                if os.path.isdir(folder):
                    shutil.copytree(folder, pdd / prefix / str(n), symlinks=True,
                                    ignore=shutil.ignore_patterns(".git"))
                    paths[os.path.abspath(folder)] = f"{prefix}/{n}"
        (pdd / "tmp" / ".keep").touch()     # the zip keeps no empty folder
        env.pop("PATH", None)
        out = pdd.with_name(pdd.name + ".stream")
        with open(out, "w+b") as fh:     # runner needs a real file (it reads ``.name``)
            header = {"root": str(pdd), "paths": paths, "secrets": [s for s in spec.secrets if isinstance(s, str)],
                      "collections": collections_path()}
            fh.write(json.dumps({"turret": header}).encode() + b"\n")
            ansible_runner.run(streamer="transmit", _output=fh, cancel_callback=lambda: False, **kwargs)
            fh.seek(0)
            payload = fh.read()
        out.unlink()
    finally:
        shutil.rmtree(pdd, ignore_errors=True)
    return payload, env


def process(spec: RunSpec, root: Path, frames, on_event: Callable[[dict], object], env: dict,
            canceled: Callable[[], bool], began: float, rc: Callable[[], int | None]) -> RunResult:
    """Feed a worker's output ``frames`` (a file-like object with ``readline``/``read``,
    ending with runner's ``eof`` line) through ``ansible-runner process`` into ``on_event``:
    the events, statuses and final status of the run as a local run would give them.  ``env``
    is the child env from :func:`transmit`; ``rc()`` the worker's return code once the frames
    ended; ``canceled()`` whether a cancel was requested."""
    pdd = Path(root) / f"{spec.ident}-{uuid.uuid4().hex[:8]}"
    pdd.mkdir(parents=True, mode=0o700)
    seen: dict[str, Any] = {"command": [], "cwd": "", "explanation": ""}

    def status_handler(data: dict, runner_config: Any = None) -> None:
        if data.get("status") == "starting":
            seen.update(command=data.get("command") or [], cwd=data.get("cwd") or "")
        if data.get("job_explanation"):
            seen["explanation"] = data["job_explanation"]

    def event_handler(event: dict) -> bool:
        on_event(event)
        return False

    try:
        processor = ansible_runner.run(
            streamer="process", _input=frames, private_data_dir=str(pdd), ident="run", quiet=True,
            event_handler=event_handler, status_handler=status_handler, cancel_callback=lambda: False)
        status, explanation = outcome(processor.status, canceled(), spec, began)
        if status == "error" and seen["explanation"]:
            explanation = seen["explanation"]
    except Exception as exc:  # noqa: BLE001 - a broken stream becomes an errored job
        status, explanation = "error", f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(pdd, ignore_errors=True)
    return run_result(spec, env, status, rc(), explanation, list(seen["command"]), str(seen["cwd"]), env)

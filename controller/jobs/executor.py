"""The executor: the only module that imports ansible_runner.

``run(spec, ...)`` runs one playbook / ad hoc command / inventory import in a fresh private
data directory, streams events to ``on_event``, honours cancel and timeout, and removes the
directory (and every secret written into it) before returning.  Facts this relies on
(measured, see the engine notes): a private data dir is stateful, so one fresh dir per job;
``settings=`` is dropped under ``suppress_env_files``, so ``env/settings`` is written by hand
to get ~0.1 s cancel latency; runner kills only the process group of ansible-playbook, so
every process carrying this job's ``AWX_ISOLATED_DATA_DIR`` is swept afterwards.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ansible_runner
import yaml
from ansible_runner.config.runner import RunnerConfig
from ansible_runner.runner import Runner
from ansible_runner.utils import args2cmdline, dump_artifacts

from .events import secret_pattern
from .spec import RunResult, RunSpec

_SENSITIVE = ("PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")
# ssh-add's prompts (for a key read on stdin, see _RunnerConfig); a wrong passphrase is answered
# with an empty line, which makes ssh-add give up (and the job fail) instead of asking forever
_UNLOCK_PROMPT = r"Enter passphrase for .*:\s*?$"
_BAD_UNLOCK_PROMPT = r"Bad passphrase, try again for .*:\s*?$"


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
           "ANSIBLE_HOME": str(pdd / "home"), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
           "ANSIBLE_DEPRECATION_WARNINGS": "False", "TURRET_RUN": spec.ident, **spec.envvars}
    # no -v: ansible-inventory would print its messages into the JSON on stdout
    args = ["-i", str(spec.inventory), "--list", "--export"]
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
    _emit_lines(_scrub_text(err or "", spec.secrets), on_event, counter, line)
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


@dataclass(frozen=True)
class _Untrusted:
    """A value that did not come from the template's own definition."""

    value: Any


class _VarsDumper(yaml.SafeDumper):
    """YAML for ``-e @file``: an ``_Untrusted`` value is written with every string in it (keys
    and nested values too) tagged ``!unsafe``, which ansible keeps as text it never renders."""


def _represent_untrusted(dumper: yaml.SafeDumper, data: _Untrusted) -> yaml.Node:
    value = data.value
    if isinstance(value, str):
        return dumper.represent_scalar("!unsafe", value)
    if isinstance(value, dict):
        return dumper.represent_dict({_Untrusted(k): _Untrusted(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return dumper.represent_list([_Untrusted(v) for v in value])
    return dumper.represent_data(value)


_VarsDumper.add_representer(_Untrusted, _represent_untrusted)


def extravars_yaml(extravars: dict, safe_vars: dict) -> str:
    """The extra vars file of a run.  A top-level (key, value) pair equal to one in
    ``safe_vars`` is written as plain YAML (ansible renders its Jinja); everything else is
    ``!unsafe``, so Jinja from a launch, a survey, a schedule or a credential input reaches the
    playbook as literal text and cannot run lookups on the controller."""
    doc = {key: value if key in safe_vars and safe_vars[key] == value else _Untrusted(value)
           for key, value in extravars.items()}
    return yaml.dump(doc, Dumper=_VarsDumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _passwords(spec: RunSpec) -> dict:
    """Runner's prompt -> answer map: the spec's own, plus ssh-add's when the key is locked."""
    passwords = dict(spec.passwords)
    if spec.ssh_key and spec.ssh_key_unlock:
        passwords[_UNLOCK_PROMPT] = spec.ssh_key_unlock
        passwords[_BAD_UNLOCK_PROMPT] = ""
    return passwords


class _RunnerConfig(RunnerConfig):
    """ansible-runner's config with one change: ssh-add reads the key on its stdin.

    Runner matches password prompts only in the last 100 characters of output, and
    ``ssh-add <path>`` prompts ``Enter passphrase for <path>:`` with the key's full path inside
    the run dir: with a data dir longer than ~30 characters the prompt never matched and the job
    hung until its timeout.  ``ssh-add - < <path>`` prompts ``Enter passphrase for (stdin):``
    whatever the path.  The rest is runner's own wrapper: a trap removes the key fifo even
    when ssh-add fails (a later reader would block forever on it).
    """

    def wrap_args_with_ssh_agent(self, args: list[str], ssh_key_path: str | None,
                                 ssh_auth_sock: str | None = None, silence_ssh_add: bool = False) -> list[str]:
        if not ssh_key_path or self.containerized:
            return super().wrap_args_with_ssh_agent(args, ssh_key_path, ssh_auth_sock, silence_ssh_add)
        cleanup = args2cmdline("rm", "-f", ssh_key_path)
        script = " && ".join([args2cmdline("trap", cleanup, "EXIT"), f"ssh-add - < {shlex.quote(ssh_key_path)}",
                              cleanup, args2cmdline(*args)])
        return ["ssh-agent", *(["-a", ssh_auth_sock] if ssh_auth_sock else []), "sh", "-c", script]


def _run_runner(kwargs: dict) -> Runner:
    """``ansible_runner.run(**kwargs)`` with ``_RunnerConfig``: the same steps as runner's
    ``init_runner`` for a local, non-streamed run."""
    kwargs = dict(kwargs)
    handlers = {"event_handler": kwargs.pop("event_handler", None),
                "cancel_callback": kwargs.pop("cancel_callback", None)}
    dump_artifacts(kwargs)
    config = _RunnerConfig(**kwargs)
    config.prepare()
    runner = Runner(config, **handlers)
    runner.run()
    return runner


def _write(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)


def sweep(artifact_dir: str) -> int:
    """SIGTERM then SIGKILL every process still carrying this run's marker variable.  The
    path is normalized as ansible-runner normalizes it (``abspath``) before it sets the
    variable: compared as given, a relative or ``..`` path would match no process."""
    marker = f"AWX_ISOLATED_DATA_DIR={os.path.abspath(artifact_dir)}".encode()
    return _signal_all(_processes_with(lambda env: marker in env))


def _signal_all(victims: list[int]) -> int:
    """SIGTERM, a moment for a clean exit, then SIGKILL; returns how many were signalled."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        if sig == signal.SIGTERM and victims:
            time.sleep(0.2)
    return len(victims)


def _masked_env(env: dict, secrets: list) -> dict:
    out = {}
    for key, value in env.items():
        text = str(value)
        if any(s in key.upper() for s in _SENSITIVE) or _scrub_text(text, secrets) != text:
            out[key] = "**********"
        else:
            out[key] = text
    return out


def _scrub_text(text: str, secrets: list) -> str:
    pattern = secret_pattern(secrets)
    return pattern.sub("$encrypted$", text) if pattern else text


def _stage(spec: RunSpec, root: Path) -> tuple[Path, dict, dict[str, Any], str]:
    """A fresh private data dir for ``spec`` (env/settings, extra vars, files, inventory) and
    runner's kwargs for it (no handlers yet).  Returns (dir, child env, kwargs, why the run
    cannot start: "" when it can); a run that cannot start has its dir removed already."""
    pdd = Path(root) / f"{spec.ident}-{uuid.uuid4().hex[:8]}"
    (pdd / "env").mkdir(parents=True, mode=0o700)
    tmp = pdd / "tmp"
    tmp.mkdir(mode=0o700)
    runner_settings: dict[str, Any] = {"pexpect_timeout": 0.2, "pexpect_use_poll": True}
    if spec.idle_timeout:
        runner_settings["idle_timeout"] = spec.idle_timeout   # runner ends a run silent that long
    _write(pdd / "env" / "settings", json.dumps(runner_settings))
    cmdline = []
    if spec.extravars:
        _write(pdd / "extravars.yml", extravars_yaml(spec.extravars, spec.safe_vars))
        cmdline += ["-e", f"@{pdd / 'extravars.yml'}"]
    for name, content in spec.files.items():
        _write(pdd / name, content)
    inventory = spec.inventory
    if isinstance(inventory, dict):
        (pdd / "inventory").mkdir(mode=0o700)
        _write(pdd / "inventory" / "hosts.json", json.dumps(inventory))
        inventory = str(pdd / "inventory" / "hosts.json")
    for flag, on in (("--check", spec.check), ("--diff", spec.diff), ("--become", spec.become),
                     ("--force-handlers", spec.force_handlers and spec.kind == "playbook")):
        if on:
            cmdline.append(flag)
    if spec.start_at_task and spec.kind == "playbook":
        cmdline += ["--start-at-task", spec.start_at_task]
    cmdline += [str(a).replace("{run_dir}", str(pdd)) for a in spec.args]
    venv_bin = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "ANSIBLE_LOCAL_TEMP": str(tmp),
        "ANSIBLE_REMOTE_TMP": str(tmp),
        "ANSIBLE_HOME": str(tmp / "home"),
        "ANSIBLE_FORCE_COLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "TURRET_RUN": spec.ident,      # lets an operator (and the tests) find a run's processes
        **spec.envvars,
    }
    kwargs: dict[str, Any] = dict(
        private_data_dir=str(pdd), ident="run", envvars=env, suppress_env_files=True, quiet=True,
        cmdline=" ".join(shlex.quote(c) for c in cmdline) or None,
        timeout=spec.timeout or None, passwords=_passwords(spec) or None, ssh_key=spec.ssh_key,
        verbosity=spec.verbosity or None, forks=spec.forks or None, limit=spec.limit or None,
        inventory=inventory)
    if spec.kind == "adhoc":
        kwargs.update(module=spec.module, module_args=spec.module_args, host_pattern=spec.host_pattern or "all")
    else:
        kwargs.update(playbook=spec.playbook, project_dir=spec.project_dir,
                      tags=spec.job_tags or None, skip_tags=spec.skip_tags or None)
    problem = _apply_runtime(spec, env, kwargs)
    if problem:
        shutil.rmtree(pdd, ignore_errors=True)
    return pdd, env, kwargs, problem


def _outcome(status: str, canceled: bool, spec: RunSpec, began: float) -> tuple[str, str]:
    """Runner's final status -> (Turret's status, job_explanation), the same for local and
    remote runs."""
    if status == "timeout":
        # runner says "timeout" for both limits: the run's own one is reached only if it lasted that long
        idle = spec.idle_timeout and not (spec.timeout and time.monotonic() - began >= spec.timeout)
        return "failed", (f"Job terminated due to timeout (no output for {spec.idle_timeout} seconds)"
                          if idle else "Job terminated due to timeout")
    if status == "canceled" or canceled:
        return "canceled", "Job was canceled"
    if status not in ("successful", "failed"):
        return "error", f"ansible-runner ended with status {status}"
    return status, ""


def _result(spec: RunSpec, env: dict, status: str, rc: int | None, explanation: str, command: list,
            cwd: str, child_env: dict) -> RunResult:
    return RunResult(status=status, rc=rc, explanation=explanation,
                     job_args=_scrub_text(json.dumps(command), spec.secrets), job_cwd=cwd,
                     job_env=_masked_env({k: v for k, v in child_env.items() if k in env or k.startswith(
                         ("ANSIBLE_", "RUNNER_", "AWX_", "JOB_"))}, spec.secrets))


def run(spec: RunSpec, root: Path, on_event: Callable[[dict], object],
        should_cancel: Callable[[], bool], on_start: Callable[[], None] | None = None) -> RunResult:
    """Run ``spec``; returns when the process tree is gone and the run dir removed."""
    if spec.kind == "inventory":
        return run_inventory(spec, root, on_event, on_start)
    pdd, env, kwargs, problem = _stage(spec, root)
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
        status, explanation = _outcome(runner.status, canceled["flag"], spec, began)
    except Exception as exc:  # noqa: BLE001 - any failure to start becomes an errored job
        status, rc, explanation = "error", None, f"{type(exc).__name__}: {exc}"
    finally:
        sweep(artifact_dir)
    command, cwd, child_env = [], "", {}
    if runner is not None:
        command = list(getattr(runner.config, "command", []) or [])
        cwd = str(getattr(runner.config, "cwd", "") or "")
        child_env = dict(getattr(runner.config, "env", {}) or {})
    result = _result(spec, env, status, rc, explanation, command, cwd, child_env)
    shutil.rmtree(pdd, ignore_errors=True)
    return result


# -- remote runs: ansible-runner's transmit / process halves (the worker half runs elsewhere) --
def transmit(spec: RunSpec, root: Path) -> tuple[bytes, dict]:
    """The ``ansible-runner transmit`` stream of ``spec`` for a worker, and the child env the
    run will get (for job_env).  The project (and each folder in ``meta["cleanup"]``: the
    job's credential files) is copied inside the data dir, so a worker needs no shared
    filesystem; the stream starts with one header line ``{"turret": {"root": dir, "paths":
    {controller path: path inside the data dir}}}`` that the worker uses to rewrite the
    controller's paths in runner's kwargs to its own.  PATH is left out: the worker's own
    applies; ``secrets`` (the values to scrub) lets the worker scrub its output before it
    reaches the broker.  The staging dir is removed before returning; raises RuntimeError when
    the run cannot start."""
    pdd, env, kwargs, problem = _stage(spec, root)
    if problem:
        raise RuntimeError(problem)
    try:
        paths = {str(pdd): ""}
        if kwargs.get("project_dir"):
            shutil.copytree(kwargs["project_dir"], pdd / "project", symlinks=True,
                            ignore=shutil.ignore_patterns(".git"))
            kwargs["project_dir"] = str(pdd / "project")
        for n, folder in enumerate(spec.meta.get("cleanup") or []):
            if os.path.isdir(folder):
                shutil.copytree(folder, pdd / "extra" / str(n), symlinks=True,
                                ignore=shutil.ignore_patterns(".git"))
                paths[os.path.abspath(folder)] = f"extra/{n}"
        (pdd / "tmp" / ".keep").touch()     # the zip keeps no empty folder
        env.pop("PATH", None)
        out = pdd.with_name(pdd.name + ".stream")
        with open(out, "w+b") as fh:     # runner needs a real file (it reads ``.name``)
            header = {"root": str(pdd), "paths": paths, "secrets": [s for s in spec.secrets if isinstance(s, str)]}
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
        status, explanation = _outcome(processor.status, canceled(), spec, began)
        if status == "error" and seen["explanation"]:
            explanation = seen["explanation"]
    except Exception as exc:  # noqa: BLE001 - a broken stream becomes an errored job
        status, explanation = "error", f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(pdd, ignore_errors=True)
    return _result(spec, env, status, rc(), explanation, list(seen["command"]), str(seen["cwd"]), env)


def _apply_runtime(spec: RunSpec, env: dict, kwargs: dict) -> str:
    """Point the run at its execution environment (``spec.runtime``): a virtual environment's
    ``bin`` first in PATH (runner finds ``ansible-playbook`` through it), or process isolation
    in a container runtime found on PATH.  Returns why the run cannot start ("" when it can)."""
    if spec.runtime == "venv":
        env["PATH"] = f"{os.path.join(spec.runtime_path, 'bin')}:{env['PATH']}"
        env["VIRTUAL_ENV"] = spec.runtime_path
    elif spec.runtime == "container":
        engine = shutil.which("podman", path=env["PATH"]) or shutil.which("docker", path=env["PATH"])
        if engine is None:
            return (f"The execution environment image {spec.container_image!r} is a container image, and this node "
                    "has neither podman nor docker to run it. Install one of them, or use an execution environment "
                    "whose image is empty (the controller's Python) or venv:<path> (a local virtual environment).")
        options = {"always": ["--pull=always"], "never": ["--pull=never"], "missing": ["--pull=missing"]}
        kwargs.update(process_isolation=True, process_isolation_executable=os.path.basename(engine),
                      container_image=spec.container_image, container_options=options.get(spec.container_pull))
    return ""


def _processes_with(match: Callable[[list[bytes]], bool]) -> list[int]:
    """Pids (other than this process) whose environment entries satisfy ``match``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        if match(env):
            found.append(int(entry))
    return found


def sweep_leftovers(root: Path, ident: str) -> int:
    """After a controller died: end every process of run ``ident`` and remove its folders
    (``<root>/<ident>-*``: the run dir with its secrets, a job's credential work dir).  Every
    process of a run carries an ``AWX_ISOLATED_DATA_DIR`` inside ``<root>/<ident>-<hex>/``,
    whatever its artifact dir's name (a process group would not do: ansible's workers and
    ``async`` tasks call ``setsid``, leaving the group).  Returns the processes ended."""
    prefix = f"AWX_ISOLATED_DATA_DIR={os.path.abspath(root)}/{ident}-".encode()
    ended = _signal_all(_processes_with(lambda env: any(e.startswith(prefix) for e in env)))
    for folder in Path(root).glob(f"{ident}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    return ended

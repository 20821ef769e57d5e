"""The private data dir of a run, staged for ansible-runner (locally or for ``transmit``).

Contract: :func:`stage` makes a fresh directory (mode 0700) under ``root`` holding
``env/settings``, the extra vars file, the spec's files (0600: credential material) and its
inventory, and returns runner's keyword arguments for it.  Every secret the run needs travels
in those kwargs (``passwords``, ``ssh_key``) or in the 0600 files, never on a command line.
Nothing here needs ansible-runner: the executor hands the kwargs to it.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from .extravars import extravars_yaml
from .spec import RunSpec

# ssh-add's prompts (for a key read on stdin, see executor_agent.AgentRunnerConfig); a wrong
# passphrase is answered with an empty line, which makes ssh-add give up (and the job fail)
# instead of asking forever
UNLOCK_PROMPT = r"Enter passphrase for .*:\s*?$"
BAD_UNLOCK_PROMPT = r"Bad passphrase, try again for .*:\s*?$"


# The ``ansible_python_interpreter`` Turret gives a local-connection host that names none: the
# interpreter running ansible-playbook, on whichever node and in whichever environment runs the
# job (the controller, a worker installed elsewhere, a venv or a container execution
# environment).  Interpreter discovery would pick broken pyenv shims; a concrete path would
# name the controller's interpreter, which a worker or an image does not have.  The inventory
# file is read by the yaml plugin, so ansible-core templates it (a plugin's value would not be).
PLAYBOOK_PYTHON = "{{ ansible_playbook_python }}"


def runner_passwords(spec: RunSpec) -> dict:
    """Runner's prompt -> answer map: the spec's own, plus ssh-add's when the key is locked."""
    passwords = dict(spec.passwords)
    if spec.ssh_key and spec.ssh_key_unlock:
        passwords[UNLOCK_PROMPT] = spec.ssh_key_unlock
        passwords[BAD_UNLOCK_PROMPT] = ""
    return passwords


def write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path``, readable by its owner only (it may be a secret)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)


def stage(spec: RunSpec, root: Path) -> tuple[Path, dict, dict[str, Any], str]:
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
    write_private(pdd / "env" / "settings", json.dumps(runner_settings))
    cmdline = []
    if spec.extravars:
        write_private(pdd / "extravars.yml", extravars_yaml(spec.extravars, spec.safe_vars))
        cmdline += ["-e", f"@{pdd / 'extravars.yml'}"]
    for name, content in spec.files.items():
        write_private(pdd / name, content)
    inventory = spec.inventory
    if isinstance(inventory, dict):
        (pdd / "inventory").mkdir(mode=0o700)
        write_private(pdd / "inventory" / "hosts.json", json.dumps(inventory))
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
        # a module unpacks its payload under TMPDIR and removes it only if it ends normally:
        # in the run's own folder, a canceled or timed-out job leaves nothing in the node's /tmp
        "TMPDIR": str(tmp),
        "ANSIBLE_HOME": str(tmp / "home"),
        "ANSIBLE_FORCE_COLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "TURRET_RUN": spec.ident,      # lets an operator (and the tests) find a run's processes
        **spec.envvars,
    }
    kwargs: dict[str, Any] = dict(
        private_data_dir=str(pdd), ident="run", envvars=env, suppress_env_files=True, quiet=True,
        cmdline=" ".join(shlex.quote(c) for c in cmdline) or None,
        timeout=spec.timeout or None, passwords=runner_passwords(spec) or None, ssh_key=spec.ssh_key,
        verbosity=spec.verbosity or None, forks=spec.forks or None, limit=spec.limit or None,
        inventory=inventory)
    if spec.kind == "adhoc":
        kwargs.update(module=spec.module, module_args=spec.module_args, host_pattern=spec.host_pattern or "all")
    else:
        kwargs.update(playbook=spec.playbook, project_dir=spec.project_dir,
                      tags=spec.job_tags or None, skip_tags=spec.skip_tags or None)
    problem = apply_runtime(spec, env, kwargs)
    if problem:
        shutil.rmtree(pdd, ignore_errors=True)
    return pdd, env, kwargs, problem


def apply_runtime(spec: RunSpec, env: dict, kwargs: dict) -> str:
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
        env.pop("TMPDIR", None)         # the host's path is not in the container (whose /tmp goes with it)
        kwargs.update(process_isolation=True, process_isolation_executable=os.path.basename(engine),
                      container_image=spec.container_image, container_options=options.get(spec.container_pull))
    return ""

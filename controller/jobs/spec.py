"""What a run is and what it gives back, as plain data: :class:`RunSpec` (built from the database
by a kind's ``prepare``), :class:`RunResult` (returned by the executor) and :class:`JobError`.

A leaf of ``controller.jobs``: the job kinds' preparation code and the declarations that name
it import these without loading the executor (and ansible-runner with it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class JobError(Exception):
    """Raised by ``prepare`` when a job cannot run; its message becomes job_explanation."""


@dataclass
class RunSpec:
    """Everything one run needs; built from the database by a job kind's ``prepare``."""

    ident: str
    kind: str = "playbook"                  # playbook | adhoc
    playbook: str | None = None
    project_dir: str | None = None
    inventory: Any = None                   # path, or dict rendered to hosts.json
    extravars: dict = field(default_factory=dict)
    # top-level (key, value) pairs of extravars that may hold Jinja for ansible to render (the
    # template's own vars); every other string is written ``!unsafe``, so by default none is
    safe_vars: dict = field(default_factory=dict)
    envvars: dict = field(default_factory=dict)
    passwords: dict = field(default_factory=dict)
    ssh_key: str | None = None
    ssh_key_unlock: str = ""                # passphrase of ssh_key, answered to ssh-add's prompt
    files: dict = field(default_factory=dict)   # name -> content, written 0600 into the run dir
    limit: str = ""
    job_tags: str = ""
    skip_tags: str = ""
    forks: int = 0
    verbosity: int = 0
    check: bool = False
    diff: bool = False
    become: bool = False
    start_at_task: str = ""
    force_handlers: bool = False
    timeout: int = 0
    idle_timeout: int = 0                   # seconds without output before the run is ended (0: none)
    module: str = ""
    module_args: str = ""
    host_pattern: str = "all"
    secrets: list = field(default_factory=list)  # values never to appear in job_args/job_env
    meta: dict = field(default_factory=dict)     # for the caller (host name -> id ...); unused here
    args: list = field(default_factory=list)     # extra ansible arguments; "{run_dir}" = the run folder
    # the execution environment (services.execution_environments.Runtime): "python" (the
    # controller's), "venv" (runtime_path: a virtual environment's root) or "container"
    runtime: str = "python"
    runtime_path: str = ""
    container_image: str = ""
    container_pull: str = ""                # AWX's pull policy: "", always, missing, never


@dataclass
class RunResult:
    status: str                 # successful | failed | canceled | error
    rc: int | None
    explanation: str = ""
    job_args: str = ""
    job_cwd: str = ""
    job_env: dict = field(default_factory=dict)
    output: str = ""            # kind "inventory": the ansible-inventory JSON

"""A job's execution environment applied to its run spec: which ``ansible-playbook`` runs it.

Contracts:
  * The job's recorded ``execution_environment`` (resolved at launch) decides; a job without
    one runs as before, with the controller's Python.
  * ``venv:<path>``: the environment must hold an executable ``bin/ansible-playbook``, else the
    job errors with that explanation before anything runs; local hosts then use that
    environment's ``python`` as interpreter (they use the controller's otherwise).
  * A container image: the executor runs it with process isolation (and errors the job with an
    explanation when the node has neither podman nor docker); local hosts lose the
    controller's interpreter path, which does not exist inside the image.
"""
from __future__ import annotations

import os
import sys

from ..services.execution_environments import runtime_of
from .spec import JobError, RunSpec


def _hosts(inventory) -> dict:
    return ((inventory or {}).get("all") or {}).get("hosts") or {} if isinstance(inventory, dict) else {}


def apply(ctx, job: dict, spec: RunSpec) -> None:
    """Set ``spec``'s runtime from the job's execution environment (see the module contract)."""
    ee = ctx.store.get("execution_environments", job["execution_environment"]) \
        if job.get("execution_environment") else None
    runtime = runtime_of(ee)
    spec.runtime = runtime.kind
    if runtime.kind == "python":
        return
    hosts = _hosts(spec.inventory)
    name = (ee or {}).get("name", "")
    if runtime.kind == "venv":
        playbook = os.path.join(runtime.path, "bin", "ansible-playbook")
        if not os.access(playbook, os.X_OK):
            raise JobError(f"Execution environment {name!r} names the virtual environment {runtime.path}, "
                           f"which has no executable bin/ansible-playbook.")
        spec.runtime_path = runtime.path
        python = os.path.join(runtime.path, "bin", "python")
        for hostvars in hosts.values():
            if hostvars.get("ansible_python_interpreter") == sys.executable:
                hostvars["ansible_python_interpreter"] = python
        return
    spec.container_image, spec.container_pull = runtime.image, runtime.pull
    for hostvars in hosts.values():
        if hostvars.get("ansible_python_interpreter") == sys.executable:
            hostvars.pop("ansible_python_interpreter")

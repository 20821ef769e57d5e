"""A job's execution environment applied to its run spec: which ``ansible-playbook`` runs it.

Contracts:
  * The job's recorded ``execution_environment`` (resolved at launch) decides; a job without
    one runs as before, with the controller's Python.
  * ``venv:<path>``: the environment must hold an executable ``bin/ansible-playbook``, else the
    job errors with that explanation before anything runs.
  * A container image: the executor runs it with process isolation (and errors the job with an
    explanation when the node has neither podman nor docker).
  * Local hosts need nothing here: Turret's default interpreter for them is the one running
    ansible-playbook (``staging.PLAYBOOK_PYTHON``), so the environment's own.
"""
from __future__ import annotations

import os

from ..services.execution_environments import runtime_of
from .spec import JobError, RunSpec


def apply(ctx, job: dict, spec: RunSpec) -> None:
    """Set ``spec``'s runtime from the job's execution environment (see the module contract)."""
    ee = ctx.store.get("execution_environments", job["execution_environment"]) \
        if job.get("execution_environment") else None
    runtime = runtime_of(ee)
    spec.runtime = runtime.kind
    if runtime.kind == "python":
        return
    name = (ee or {}).get("name", "")
    if runtime.kind == "venv":
        playbook = os.path.join(runtime.path, "bin", "ansible-playbook")
        if not os.access(playbook, os.X_OK):
            raise JobError(f"Execution environment {name!r} names the virtual environment {runtime.path}, "
                           f"which has no executable bin/ansible-playbook.")
        spec.runtime_path = runtime.path
        return
    spec.container_image, spec.container_pull = runtime.image, runtime.pull

"""Execution environments: which one a job runs with (AWX's resolution order) and what its
``image`` means to the local node.

An image is read in one of three documented forms:
  * empty: the controller's own Python environment (the managed "Turret (controller's Python)"
    environment, the global default);
  * ``venv:<absolute path>``, or an absolute path, to a Python virtual environment holding
    ``bin/ansible-playbook``: the job runs that environment's ``ansible-playbook``;
  * anything else is a container image reference, run through ansible-runner's process
    isolation with ``podman`` or ``docker``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ValidationError
from ..store import instances as sql

VENV_PREFIX = "venv:"
MANAGED_NAME = "Turret (controller's Python)"


@dataclass(frozen=True)
class Runtime:
    """How a job runs: ``kind`` is ``python`` (the controller's), ``venv`` (``path`` is the
    environment's root) or ``container`` (``image`` is the reference, ``pull`` AWX's policy)."""

    kind: str
    path: str = ""
    image: str = ""
    pull: str = ""


def runtime_of(ee: dict | None) -> Runtime:
    """What the image of execution environment ``ee`` (None: the controller's) names."""
    image = ((ee or {}).get("image") or "").strip()
    if not image:
        return Runtime("python")
    if image.startswith(VENV_PREFIX) or image.startswith("/"):
        return Runtime("venv", path=os.path.normpath(image[len(VENV_PREFIX):] if image.startswith(VENV_PREFIX)
                                                     else image))
    return Runtime("container", image=image, pull=(ee or {}).get("pull") or "")


def check_image(image: str) -> None:
    """A ``venv:`` image must name an absolute path (the form that is read as a path)."""
    if image.startswith(VENV_PREFIX) and not image[len(VENV_PREFIX):].startswith("/"):
        raise ValidationError({"image": ["A virtual environment image is venv:<absolute path>."]})


def resolve(ctx, job: dict, template: dict | None = None) -> int | None:
    """The execution environment a job runs with (AWX ``resolve_execution_environment``): its
    own (a launch prompt), its template's, its project's ``default_environment``, its
    organization's, else the global default (the oldest managed one); None when none exists."""
    store = ctx.store
    if job.get("execution_environment"):
        return job["execution_environment"]
    if template and template.get("execution_environment"):
        return template["execution_environment"]
    project = store.get("projects", job["project"]) if job.get("project") else None
    if project and project.get("default_environment"):
        return project["default_environment"]
    org_id = job.get("organization")
    if not org_id and job.get("inventory"):
        org_id = (store.get("inventories", job["inventory"]) or {}).get("organization")
    org = store.get("organizations", org_id) if org_id else None
    if org and org.get("default_environment"):
        return org["default_environment"]
    default = sql.default_environment(store)
    return default["id"] if default else None

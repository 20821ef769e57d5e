"""Galaxy content of projects, as AWX installs it: a project update whose project belongs to an
organization with galaxy credentials installs ``roles/requirements.yml`` and
``collections/requirements.yml`` (``.yaml`` too) with ``ansible-galaxy``, talking to the
organization's galaxy servers in their order; the project's jobs then find what was installed
first on their collections and roles paths.

The servers reach ``ansible-galaxy`` through its configuration variables
(``ANSIBLE_GALAXY_SERVER_LIST`` and ``ANSIBLE_GALAXY_SERVER_<NAME>_URL`` / ``_TOKEN`` /
``_AUTH_URL``, names ``server0``, ``server1`` ... as AWX): a token is in no argv, no file and no
output (the update's secrets mask it in its events and ``job_env``).

Content is installed into a staging folder of the update and replaces the project's content
only when the update succeeds, so a failed update leaves jobs with what they had.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..context import Context
from ..store import galaxy as galaxy_sql
from . import credential_inputs as ci


def requirements_root(ctx: Context, project_id: int) -> Path:
    """The folder holding a project's installed galaxy content (outside every project folder)."""
    return Path(ctx.settings.data_dir) / "project_requirements" / str(int(project_id))


def staging_dir(ctx: Context, project_id: int, update_id: int) -> Path:
    """Where update ``update_id`` installs (``requirements_collections``, ``requirements_roles``)."""
    return requirements_root(ctx, project_id) / f"update-{int(update_id)}"


def current_dir(ctx: Context, project_id: int) -> Path:
    """The content the project's jobs use: the last successful update's."""
    return requirements_root(ctx, project_id) / "current"


def server_env(ctx: Context, project: dict) -> tuple[dict[str, str], list[str]]:
    """(environment naming the galaxy servers of the project's organization in order, the
    secrets in it); ({}, []) when the project has no organization or it has no galaxy
    credentials, and then nothing is installed (AWX)."""
    if not project.get("organization"):
        return {}, []
    env: dict[str, str] = {}
    secrets: list[str] = []
    names: list[str] = []
    for i, cred in enumerate(galaxy_sql.organization_galaxy_credentials(ctx.store, project["organization"])):
        cred_type = ctx.store.get("credential_types", cred["credential_type"]) or {}
        inputs = ci.decrypt_inputs(ctx.vault, cred_type, cred.get("inputs"))
        prefix = f"ANSIBLE_GALAXY_SERVER_SERVER{i}"
        env[f"{prefix}_URL"] = str(inputs.get("url") or "")
        if inputs.get("token"):
            env[f"{prefix}_TOKEN"] = str(inputs["token"])
            secrets.append(str(inputs["token"]))
        if inputs.get("auth_url"):
            env[f"{prefix}_AUTH_URL"] = str(inputs["auth_url"])
        names.append(f"server{i}")
    if names:
        env["ANSIBLE_GALAXY_SERVER_LIST"] = ",".join(names)
    return env, secrets


def promote(ctx: Context, project_id: int, update_id: int) -> None:
    """Make update ``update_id``'s content the project's (a successful update)."""
    staged, current = staging_dir(ctx, project_id, update_id), current_dir(ctx, project_id)
    if not staged.is_dir():
        return
    shutil.rmtree(staged / "tmp", ignore_errors=True)     # ansible-galaxy's scratch space
    old = current.with_name(f"old-{int(update_id)}")
    if current.exists():
        current.rename(old)
    staged.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def discard(ctx: Context, project_id: int, update_id: int) -> None:
    """Drop what a failed or canceled update staged."""
    shutil.rmtree(staging_dir(ctx, project_id, update_id), ignore_errors=True)


def job_env(ctx: Context, project: dict, base_collections_path: str) -> dict[str, str]:
    """``ANSIBLE_COLLECTIONS_PATH`` (the project's installed collections first, then
    ``base_collections_path``) and ``ANSIBLE_ROLES_PATH`` for a job of ``project``."""
    current = current_dir(ctx, project["id"])
    env = {"ANSIBLE_COLLECTIONS_PATH": base_collections_path}
    if (current / "requirements_collections").is_dir():
        env["ANSIBLE_COLLECTIONS_PATH"] = f"{current / 'requirements_collections'}:{base_collections_path}"
    if (current / "requirements_roles").is_dir():
        env["ANSIBLE_ROLES_PATH"] = str(current / "requirements_roles")
    return env


def job_content(ctx: Context, project: dict) -> list[str]:
    """The folders of the project's installed galaxy content that :func:`job_env` names (those
    that exist): what a job run on a worker must carry with it, since the worker has none of
    the controller's files."""
    current = current_dir(ctx, project["id"])
    return [str(current / name) for name in ("requirements_collections", "requirements_roles")
            if (current / name).is_dir()]

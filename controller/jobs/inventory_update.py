"""Inventory updates: ``ansible-inventory`` reads a source kept in a project; the result is
imported into the inventory when the run succeeds."""
from __future__ import annotations

import json
import shutil

from .. import access
from ..services.inventory_import import apply
from ..services.project_files import project_dir
from ..services.variables import parse_vars
from ..store import jobs as q
from ..store import now_iso
from . import control, inventory_plugins
from .spec import JobError, RunSpec

_COPIED = ("source", "source_path", "source_vars", "scm_branch", "credential", "enabled_var", "enabled_value",
           "host_filter", "overwrite", "overwrite_vars", "timeout", "verbosity", "limit", "inventory",
           "source_project")


def start_update(ctx, source: dict, launch_type: str = "manual", body: dict | None = None,
                 extra_fields: dict | None = None) -> dict:
    """Queue an update of inventory ``source``; returns the new inventory_update row.  The
    source's ``UnifiedJob.start``: no prompts (``body`` is ignored); ``extra_fields`` are stored
    over the defaults."""
    now = now_iso()
    values = {f: source.get(f) for f in _COPIED}
    values.update({
        "name": source["name"], "description": source.get("description", ""), "inventory_source": source["id"],
        "unified_job_template": source["id"], "launch_type": launch_type, "status": "pending", "failed": False,
        "elapsed": 0.0, "job_args": "", "job_cwd": "", "job_env": {}, "job_explanation": "", "execution_node": "",
        "controller_node": "", "result_traceback": "", "event_processing_finished": False,
        "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "", "cancel_flag": False,
        "license_error": False, "org_host_limit_error": False, "scm_revision": "", "created": now, "modified": now,
        "created_by": ctx.user_id, "modified_by": ctx.user_id, **(extra_fields or {}),
    })
    pk = control.create_job(ctx, "inventory_update", values)
    if ctx.jobs is not None:
        ctx.jobs.notify()
    return ctx.store.get("inventory_updates", pk)


def update_info(ctx, source: dict) -> dict:
    """The ``GET /inventory_sources/N/update/`` body: whether this user may update it."""
    return {"can_update": access.holds(ctx, "inventory", source["inventory"], "update_role")}


def blocked(ctx, update: dict) -> bool:
    """Waits while another update of the same inventory source runs (AWX runs them one at a time)."""
    return q.sibling_running(ctx.store, "inventory_updates", "inventory_source", update["inventory_source"],
                             update["id"])


def request_update(ctx, source: dict) -> dict:
    """A user asks for an update: needs update_role on the source's inventory (403)."""
    access.require(access.holds(ctx, "inventory", source["inventory"], "update_role"))
    return start_update(ctx, source, launch_type="manual")


def in_project(source_path: str) -> str:
    """``source_path`` as a path relative to the project: AWX users write ``/inventory.yml``
    for the file at the project's top, so leading slashes name the project folder."""
    return source_path.lstrip("/")


def prepare(ctx, row: dict) -> RunSpec:
    """An ``scm`` source reads a file or folder of its project (its ``source_vars`` are the
    run's environment, as AWX); the cloud and constructed kinds run their inventory plugin."""
    if row.get("source") in inventory_plugins.PLUGINS:
        return inventory_plugins.prepare(ctx, row)
    project = ctx.store.get("projects", row["source_project"]) if row.get("source_project") else None
    if project is None:
        raise JobError("The project of this inventory source no longer exists.")
    root = project_dir(ctx, project).resolve()
    path = (root / in_project(row.get("source_path") or "")).resolve()
    if root != path and root not in path.parents:
        raise JobError("The source path leaves the project folder.")
    if not path.exists():
        raise JobError(f"The source {row['source_path']!r} does not exist in project {project['name']!r}.")
    env = {str(k): str(v) for k, v in parse_vars(row.get("source_vars") or "").items()}
    return RunSpec(ident=f"inventory_update-{row['id']}", kind="inventory", inventory=str(path),
                   project_dir=str(root), envvars=env, verbosity=int(row.get("verbosity") or 0),
                   timeout=int(row.get("timeout") or 0),
                   meta={"source_label": f"{project['name']}: {row['source_path']}"})


def _plain(obj: dict):
    """ansible-core writes a value a plugin composed (a template result) as
    ``{"__ansible_unsafe": value}`` in its JSON; the inventory stores the value."""
    return obj["__ansible_unsafe"] if len(obj) == 1 and "__ansible_unsafe" in obj else obj


def finish(ctx, row: dict, result, run_data: dict) -> dict:
    for path in (run_data.get("meta") or {}).get("cleanup", []):
        shutil.rmtree(path, ignore_errors=True)     # a plugin source's config and credential files
    if result.status != "successful":
        return {}
    source = ctx.store.get("inventory_sources", row["inventory_source"])
    if source is None:
        return {"status": "error", "failed": True, "job_explanation": "The inventory source was deleted."}
    counts = apply(ctx, source, json.loads(result.output, object_hook=_plain))
    project = ctx.store.get("projects", row["source_project"]) if row.get("source_project") else None
    return {"job_explanation": ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()),
            "scm_revision": (project or {}).get("scm_revision") or ""}


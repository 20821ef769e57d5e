"""Projects (manual folders, git repositories, the built-in collection project) and their
updates, which are unified jobs run by the collection's own ``project_update`` playbook."""
from __future__ import annotations

import re
from pathlib import Path

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..jobs import project_update
from ..jobs.project_update import start_update
from ..registry import Field, Registry, Relation, Resource, RoleSpec, UnifiedJob
from ..services import demo
from ..services.project_files import argument_problem, has_control, project_dir, projects_root, scm_url_problem
from ..store import jobs as jobq
from ..store.credentials import credential_type_of
from .unified import STATUS_CHOICES, add_unified_job, job_links, launched_by, unified_job_fields
from ..webhooks import fields as webhook_fields

SCM_TYPES = [("", "Manual"), ("git", "Git"), ("archive", "Remote Archive")]
_SCM_FIELDS = ("scm_type", "scm_url", "scm_branch", "scm_refspec")
_UPDATE_FLAGS = ("scm_clean", "scm_delete_on_update", "scm_update_on_launch", "scm_track_submodules",
                 "scm_update_on_push")
_REMOTE_URL = re.compile(r"^(https?|git|ssh|git\+ssh)://[^/]+|^[\w.-]+@[\w.-]+:")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60] or "project"


def _check_local_path(ctx, path: str) -> None:
    """A folder inside the projects root: relative, no ``..``, no NUL or control character,
    and its real path (symlinks resolved) inside the root."""
    if has_control(path) or ".." in Path(path).parts:
        raise ValidationError({"local_path": [f"Invalid path choice: {path!r} must name a folder inside the "
                                              f"projects root."]})
    root = projects_root(ctx).resolve()
    target = (root / path).resolve()
    if not path or Path(path).is_absolute() or root not in target.parents:
        raise ValidationError({"local_path": [f"Invalid path choice: {path!r} must name a folder inside the "
                                              f"projects root."]})
    if not target.is_dir():
        raise ValidationError({"local_path": [f"Invalid path choice: {path!r} is not a folder in the projects "
                                              f"root ({root})."]})


def _check_scm_url(ctx, url: str, scm_type: str = "git") -> None:
    if not url:
        raise ValidationError({"scm_url": ["SCM URL is required."]})
    problem = scm_url_problem(url)
    if problem:
        raise ValidationError({"scm_url": [problem]})
    if url.startswith("file:") or url.startswith("/") or url.startswith("."):
        # the Demo Project's repository is one the controller made itself (services.demo)
        if not ctx.settings.ALLOW_LOCAL_SCM_URLS and not demo.is_sample_url(ctx.settings, url):
            raise ValidationError({"scm_url": ["Local paths and file:// SCM URLs are not allowed; set "
                                               "TURRET_ALLOW_LOCAL_SCM_URLS=true to allow them."]})
        return
    if scm_type == "archive" and not re.match(r"^https?://[^/]+", url):
        raise ValidationError({"scm_url": ["Invalid archive URL: use https:// or http://."]})
    if not _REMOTE_URL.match(url):
        raise ValidationError({"scm_url": ["Invalid SCM URL: use https://, http://, git://, ssh:// or "
                                           "user@host:path."]})


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    if (existing or {}).get("managed"):
        raise PermissionDenied("The built-in project cannot be modified.")
    if merged.get("scm_type") == "":
        for flag in _UPDATE_FLAGS:
            if merged.get(flag):
                raise ValidationError({flag: ["Update options must be set to false for manual projects."]})
        if "local_path" in values or existing is None:
            _check_local_path(ctx, merged.get("local_path") or "")
    else:
        _check_scm_url(ctx, merged.get("scm_url") or "", merged.get("scm_type") or "git")
        for name in ("scm_branch", "scm_refspec"):   # git arguments too (version, refspec)
            problem = argument_problem(merged.get(name) or "")
            if problem:
                raise ValidationError({name: [problem]})
        if "local_path" in values and existing is not None and values["local_path"] != existing.get("local_path"):
            raise ValidationError({"local_path": ["Cannot change local_path for SCM based projects."]})
    cred = merged.get("credential")
    if cred is not None:
        ctype = credential_type_of(ctx.store, cred) if ctx.registry.get("credential") else None
        if (ctype or {}).get("kind") != "scm":
            raise ValidationError({"credential": ["Credential kind must be 'scm'."]})


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    scm_type = values.get("scm_type", (existing or {}).get("scm_type", ""))
    if scm_type and existing is not None:
        values.pop("local_path", None)
    if scm_type and existing is None:
        values["local_path"] = ""   # assigned from the id once it exists
    return webhook_fields.assign_key(ctx, values, existing)


def _after_save(ctx, row: dict, existing: dict | None) -> None:
    if row["scm_type"] and not row.get("local_path"):
        ctx.store.update("projects", row["id"], {"local_path": f"_{row['id']}__{_slug(row['name'])}"})
        row = ctx.store.get("projects", row["id"])
    changed = existing is None or any(row.get(f) != existing.get(f) for f in _SCM_FIELDS)
    if row["scm_type"] and changed:
        start_update(ctx, row, launch_type="manual")


def _update_state(ctx, ids: list[int]) -> dict[int, tuple[dict | None, dict | None]]:
    """{project id: (current active update, last finished update)}."""
    return jobq.update_state(ctx.store, "project_updates", "project", ids)


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    states = _update_state(ctx, [r["id"] for r in rows])
    out = {}
    for r in rows:
        current, last = states.get(r["id"], (None, None))
        if not r["scm_type"]:
            status = "ok" if project_dir(ctx, r).is_dir() else "missing"
        elif current:
            status = current["status"]
        elif last:
            status = last["status"]
        else:
            status = "never updated"
        out[r["id"]] = {
            "status": status,
            "last_job_run": last["finished"] if last else None,
            "last_job_failed": bool(last and last["failed"]),
            "last_update_failed": bool(last and last["failed"]),
            "last_updated": last["finished"] if last else None,
            "next_job_run": None,
        }
    return out


def _summary(ctx, rows: list[dict]) -> dict[int, dict]:
    states = _update_state(ctx, [r["id"] for r in rows])
    out = {}
    for r in rows:
        current, last = states.get(r["id"], (None, None))
        s = {}
        for key, job in (("current_update", current), ("last_update", last), ("last_job", last)):
            if job:
                s[key] = {"id": job["id"], "name": job["name"], "description": job["description"],
                          "status": job["status"], "failed": bool(job["failed"]), "license_error": False}
                if key == "last_job":
                    s[key]["finished"] = job["finished"]
        out[r["id"]] = s
    return out


def _related(ctx, row: dict, detail: bool) -> dict:
    current, last = _update_state(ctx, [row["id"]]).get(row["id"], (None, None))
    rel = job_links("project_updates", current_update=current, last_update=last)
    rel.update(webhook_fields.receiver_related("projects", row))
    return rel


def _before_delete(ctx, row: dict) -> None:
    if row.get("managed"):
        raise PermissionDenied("The built-in project cannot be deleted.")


def _update_visibility(ctx):
    vis = access.visibility(ctx, ctx.registry["project"])
    if vis is None:
        return None
    return f'project IN (SELECT id FROM "projects" WHERE {vis[0]})', vis[1]


# Cancel: an admin of the project.
PROJECT_UPDATE = UnifiedJob(template="project", template_fk="project", events_table="project_update_events",
                            parent_col="project_update", prepare=project_update.prepare, finish=project_update.finish,
                            start=start_update, run_role="update_role", admin=("project", "project"),
                            blocked=project_update.blocked)


def declare(reg: Registry) -> None:
    scm = [
        Field("local_path", "string", max_length=1024, default="",
              help_text="Local path (relative to the projects root) containing playbooks and related files "
                        "for this project."),
        Field("scm_type", "choice", choices=SCM_TYPES, default="", label="Source Control Type",
              help_text="Specifies the source control system used to store the project."),
        Field("scm_url", "string", max_length=1024, default="", label="Source Control URL",
              help_text="The location where the project is stored."),
        Field("scm_branch", "string", max_length=256, default="", label="Source Control Branch",
              help_text="Specific branch, tag or commit to checkout."),
        Field("scm_refspec", "string", max_length=1024, default="", label="Source Control Refspec",
              help_text="For git projects, an additional refspec to fetch."),
        Field("scm_clean", "boolean", default=False, help_text="Discard any local changes before syncing the project."),
        Field("scm_track_submodules", "boolean", default=False,
              help_text="Track submodules latest commits on defined branch."),
        Field("scm_delete_on_update", "boolean", default=False,
              help_text="Delete the project before syncing."),
        Field("credential", "id", fk="credential", null=True, default=None, on_delete="set_null"),
        Field("timeout", "integer", default=0, min_value=0,
              help_text="The amount of time (in seconds) to run before the task is canceled."),
    ]
    reg.add(Resource(
        name="project", plural="projects",
        fields=scm + [
            Field("scm_revision", "string", read_only=True, default="", label="SCM Revision",
                  help_text="The last revision fetched by a project update"),
            Field("last_job_run", "datetime", stored=False, read_only=True),
            Field("last_job_failed", "boolean", stored=False, read_only=True),
            Field("next_job_run", "datetime", stored=False, read_only=True),
            Field("status", "choice", stored=False, read_only=True, choices=[
                *STATUS_CHOICES, ("never updated", "Never Updated"), ("ok", "OK"), ("missing", "Missing")]),
            Field("organization", "id", fk="organization", null=True, default=None,
                  help_text="The organization used to determine access to this template."),
            Field("scm_update_on_launch", "boolean", default=False,
                  help_text="Update the project when a job is launched that uses the project."),
            Field("scm_update_cache_timeout", "integer", default=0, min_value=0,
                  help_text="The number of seconds after the last project update ran that a new project update "
                            "will be launched as a job dependency."),
            Field("allow_override", "boolean", default=False,
                  help_text="Allow changing the SCM branch or revision in a job template that uses this project."),
            Field("custom_virtualenv", "string", read_only=True, null=True, default=None),
            Field("default_environment", "id", fk="execution_environment", on_delete="set_null", null=True,
                  default=None,
                  help_text="The default execution environment for jobs run using this project."),
            Field("signature_validation_credential", "integer", read_only=True, null=True, default=None),
            Field("last_update_failed", "boolean", stored=False, read_only=True),
            Field("last_updated", "datetime", stored=False, read_only=True),
            Field("managed", "boolean", read_only=True, default=False),
            Field("playbook_files", "json", hidden=True, default=[]),
            Field("inventory_files", "json", hidden=True, default=[]),
            *webhook_fields.project_fields(),
        ],
        ordering=("id",), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)), unique_together=(("organization", "name"),),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}",
                     ("organization.project_admin_role",)),
            RoleSpec("use_role", "Use", "Can use the {model} in a job template", ("admin_role",)),
            RoleSpec("update_role", "Update", "May update the {model}", ("admin_role",)),
            RoleSpec("read_role", "Read", "May view settings for the {model}",
                     ("use_role", "update_role", "organization.auditor_role")),
        ],
        relations=[Relation("project_updates", "project_update", "reverse_fk", key="project", read_only=True)],
        actions=("update", "playbooks", "inventories", "copy", *webhook_fields.PROJECT_ACTIONS),
        create_role="organization.project_admin_role", capabilities=("edit", "delete", "start", "schedule", "copy"),
        validate=_validate, before_save=_before_save, after_save=_after_save, before_delete=_before_delete,
        compute=_compute, extra_summary=_summary, extra_related=_related,
    ))
    reg["organization"].relations.append(Relation("projects", "project", "reverse_fk", key="organization",
                                                  create=True))

    add_unified_job(reg, Resource(
        name="project_update", plural="project_updates", id_group="unified_job", unified_job=PROJECT_UPDATE,
        fields=unified_job_fields() + [
            Field("project", "id", fk="project", read_only=True, on_delete="cascade"),
            Field("schedule", "id", fk="schedule", null=True, default=None, on_delete="set_null",
                  help_text="The schedule that launched this update, if any.", read_only=True, index=True),
            *[Field(f.name, f.kind, read_only=True, default=f.default, null=f.null, choices=f.choices,
                    fk=f.fk, on_delete="set_null" if f.kind == "id" else "cascade") for f in scm],
            Field("job_type", "choice", read_only=True, default="check", choices=[("run", "Run"), ("check", "Check")]),
            Field("job_tags", "string", read_only=True, default=""),
            Field("webhook_guid", "string", hidden=True, default=""),   # the push delivery that started it
            Field("scm_revision", "string", read_only=True, default="",
                  help_text="The SCM Revision discovered by this update for the given project and branch."),
        ],
        ordering=("id",), search_fields=("name", "description"),
        relations=[Relation("events", "project_update_event", "reverse_fk", key="project_update", read_only=True)],
        actions=("cancel", "stdout"), creatable=False, updatable=False,
        capabilities=("delete", "start"), compute=launched_by,
        visibility=_update_visibility,
        extra_summary=lambda ctx, rows: {r["id"]: {"unified_job_template": {
            "id": r["project"], "name": r["name"], "description": r["description"],
            "unified_job_type": "project"}} for r in rows},
    ), with_host=False)


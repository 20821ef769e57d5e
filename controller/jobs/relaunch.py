"""Relaunching (``POST /jobs/N/relaunch/``, AWX's ``JobRelaunch``): the job's template as it
is now with the prompts the job was launched with (AWX re-applies its saved launch config, it
does not copy the old job), or, once the template is deleted, a copy of the job itself;
``hosts: failed`` limits it to the hosts that failed.  What a relaunch needs (``GET``), and an
ad hoc command again.  Every new job is created by :mod:`.launch`, so a relaunch obeys the same
prompt, survey, password and dispatch rules.
"""
from __future__ import annotations

import json
from typing import Any

from .. import access, status
from ..errors import APIError, ValidationError
from ..services import crud
from ..store import jobs as q
from . import launch

_HOSTS = ("all", "failed")


def relaunch_info(ctx, job: dict) -> dict:
    """The ``GET /jobs/N/relaunch/`` body: passwords the relaunch needs, and the host counts a
    retry on failed hosts would use (a message while the job still runs)."""
    retry = "Relaunch by host status not available until job finishes running." \
        if status.is_active(job["status"]) else q.retry_counts(ctx.store, job["id"])
    return {"passwords_needed_to_start": launch.passwords_needed(ctx, q.job_credential_ids(ctx.store, job["id"])),
            "retry_counts": retry}


def relaunch_adhoc(ctx, command: dict) -> dict:
    """A new ad hoc command with ``command``'s module, arguments, inventory and options, created
    (access checked, validated) and marked ``relaunch`` in one transaction."""
    resource = ctx.registry["ad_hoc_command"]
    copy = {f.name: command.get(f.name) for f in resource.fields if f.writable}
    with ctx.store.transaction():
        new = crud.create(ctx, resource, copy)
        ctx.store.update(resource.table, new["id"], {"launch_type": "relaunch"})
    return ctx.store.get(resource.table, new["id"])


def relaunch(ctx, job: dict, body: Any) -> tuple[dict, dict]:
    """A new job replaying ``job`` (AWX's ``JobRelaunch`` / ``copy_unified_job``).

    While its template exists: the template as it is now with the prompts ``job`` was launched
    with (AWX's saved launch config) through :func:`~.launch.launch_job`.  Once the template is
    deleted: a copy of ``job``'s own fields, credentials and labels.  ``hosts: failed`` limits it
    to the hosts that failed; the passwords ``job``'s credentials need must be given (in
    ``credential_passwords`` or as top-level keys).  Raises ValidationError / PermissionDenied.
    """
    if not isinstance(body, dict):
        raise APIError({"detail": "JSON parse error - not a JSON object"})
    jt = ctx.store.get("job_templates", job["job_template"]) if job.get("job_template") else None
    _require_access(ctx, job, jt)
    hosts, passwords = _validated(ctx, job, body)
    limit = _retry_limit(ctx, job, hosts) if hosts != "all" else None
    secret = json.loads(ctx.vault.decrypt(job["secret_vars"])) if job.get("secret_vars") else {}
    if jt is None:
        return _copy_job(ctx, job, limit, secret, passwords), {}
    prompts = json.loads(job["launch_prompts"]) if isinstance(job.get("launch_prompts"), str) \
        else dict(job.get("launch_prompts") or {})
    if limit is not None:
        prompts["limit"] = limit
    prompts.update(secret_vars=secret, credential_passwords=passwords)
    try:
        return launch.launch_job(ctx, jt, prompts, launch_type="relaunch", trusted=True)
    except ValidationError as exc:
        if isinstance(exc.body, dict) and "passwords_needed_to_start" in exc.body:
            # the template's current credentials need a password the old job's did not: AWX
            # creates the job, fails to start it and deletes it again
            raise ValidationError({"msg": "Error starting job!"}) from None
        raise


def _require_access(ctx, job: dict, jt: dict | None) -> None:
    """AWX's ``JobAccess.can_start``: the template's execute role; a job whose template is
    gone needs its organization's execute role (a system administrator always may)."""
    if jt is not None:
        access.require(access.holds(ctx, "job_template", jt["id"], "execute_role"))
        # survey password answers are replayed: only their author (or a system admin) may
        if job.get("secret_vars") and job.get("created_by") != ctx.user_id and not ctx.is_superuser:
            access.require(False, "Job was launched with secret prompts provided by another user.")
    elif not job.get("organization"):
        access.require(ctx.is_superuser, "Job has been orphaned from its job template and organization.")
    else:
        access.require(access.holds(ctx, "organization", job["organization"], "execute_role"))


def _validated(ctx, job: dict, body: dict) -> tuple[str, dict]:
    """(hosts, credential passwords) of a relaunch body, as AWX's ``JobRelaunchSerializer``: a
    password ``job`` needs may also come as a top-level key; every one must be given; then the
    job's own project and inventory must still exist."""
    errors: dict[str, list[str]] = {}
    hosts = body.get("hosts")
    hosts = "all" if hosts is None else hosts
    if not isinstance(hosts, str) or hosts not in _HOSTS:
        errors["hosts"] = ['"' + str(hosts) + '" is not a valid choice.']
    given = body.get("credential_passwords")
    passwords = dict(given) if isinstance(given, dict) else {}
    needed = list(dict.fromkeys(launch.passwords_needed(ctx, q.job_credential_ids(ctx.store, job["id"]))))
    passwords.update({key: body[key] for key in needed if key in body})
    missing = [key for key in needed if not passwords.get(key)]
    if missing:
        errors["credential_passwords"] = ["Missing passwords needed to start: " + ", ".join(missing)]
    if errors:
        raise ValidationError(errors)
    if not job.get("project") or ctx.store.get("projects", job["project"]) is None:
        raise ValidationError({"errors": ["Job Template Project is missing or undefined."]})
    inventory = ctx.store.get("inventories", job["inventory"]) if job.get("inventory") else None
    if inventory is None or inventory.get("pending_deletion"):
        raise ValidationError({"errors": ["Job Template Inventory is missing or undefined."]})
    return hosts, passwords


def _retry_limit(ctx, job: dict, hosts: str) -> str:
    """The limit of a retry on ``job``'s ``hosts`` (failed) hosts: their names, comma-separated.
    The job must be finished and have recorded its play recap, and some host must qualify."""
    if status.is_active(job["status"]):
        raise ValidationError({"hosts": f"Wait until job finishes before retrying on {hosts} hosts."})
    if not q.has_stats_event(ctx.store, job["id"]):
        raise ValidationError({"hosts": f"Cannot retry on {hosts} hosts, playbook stats not available."})
    names = q.failed_hosts(ctx.store, job["id"])
    if not names:
        raise ValidationError({"hosts": f"Cannot relaunch because previous job had 0 {hosts} hosts."})
    return ",".join(names)


def _copy_job(ctx, job: dict, limit: str | None, secret: dict, passwords: dict) -> dict:
    """A job whose template is gone, copied (AWX's ``copy_model_by_class`` branch): its own
    options, extra variables (survey passwords still encrypted), credentials and labels; created
    by the same :func:`~.launch.create_row` as every launched job, with no template."""
    source = {**{f: job.get(f) for f in launch.COPIED}, "id": None, "name": job["name"],
              "description": job.get("description", ""), "extra_vars": job.get("extra_vars") or "",
              "execution_environment": job.get("execution_environment")}
    labels = q.labels_summary(ctx.store, "job_labels", "job_id", [job["id"]]).get(job["id"], [])
    accepted: dict[str, Any] = {"labels": [label["id"] for label in labels]}
    if limit is not None:
        accepted["limit"] = limit
    project = ctx.store.get("projects", job["project"])
    return launch.create_row(ctx, source, project, accepted, {}, secret, passwords,
                             q.job_credential_ids(ctx.store, job["id"]), "relaunch",
                             {"job_template": None, "unified_job_template": None})

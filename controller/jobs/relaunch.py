"""Relaunching: a job again with the prompts it was launched with (``POST /jobs/N/relaunch/``,
AWX's rules: ``hosts: failed`` limits it to the hosts that failed), what a relaunch needs
(``GET``), and an ad hoc command again.  Every new job still comes from
:func:`~.launch.launch_job`, so a relaunch obeys the same prompt, survey and password rules.
"""
from __future__ import annotations

import json

from .. import status
from ..errors import ValidationError
from ..services import crud
from ..store import jobs as q
from . import launch


def relaunch_info(ctx, job: dict) -> dict:
    """The ``GET /jobs/N/relaunch/`` body: passwords the relaunch needs, and the host counts a
    retry on failed hosts would use (a message while the job still runs)."""
    retry = "Wait until job finishes before retrying on failed hosts." if status.is_active(job["status"]) \
        else q.retry_counts(ctx.store, job["id"])
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


def relaunch(ctx, job: dict, body: dict) -> tuple[dict, dict]:
    """A new job with the original's prompts; ``hosts: failed`` limits it to failed hosts."""
    jt = ctx.store.get("job_templates", job["job_template"]) if job.get("job_template") else None
    if jt is None:
        raise ValidationError({"errors": ["Job Template Project is missing or undefined."]})
    prompts = json.loads(job["launch_prompts"]) if isinstance(job.get("launch_prompts"), str) \
        else dict(job.get("launch_prompts") or {})
    hosts = (body or {}).get("hosts", "all")
    if hosts not in ("all", "failed"):
        raise ValidationError({"hosts": ['"' + str(hosts) + '" is not a valid choice.']})
    if hosts == "failed":
        if status.is_active(job["status"]):
            raise ValidationError({"hosts": "Wait until job finishes before retrying on failed hosts."})
        failed = q.failed_hosts(ctx.store, job["id"])
        if not failed:
            raise ValidationError({"hosts": "Cannot relaunch because previous job had 0 failed hosts."})
        prompts["limit"] = ",".join(failed)
    secret = json.loads(ctx.vault.decrypt(job["secret_vars"])) if job.get("secret_vars") else {}
    prompts["secret_vars"] = secret
    prompts["credential_passwords"] = (body or {}).get("credential_passwords") or {}
    if "credentials" not in prompts:
        prompts["credentials"] = q.job_credential_ids(ctx.store, job["id"])
    return launch.launch_job(ctx, jt, prompts, launch_type="relaunch", trusted=True)

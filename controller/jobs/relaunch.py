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
from ..prompts import PROMPTS
from ..registry import ENCRYPTED
from ..services import crud, surveys
from ..services.variables import VarsError, parse_vars
from ..store import jobs as q
from . import launch

_HOSTS = ("all", "failed")
SECRET_PROMPTS = "Job was launched with secret prompts provided by another user."
# prompted objects a relaunch drops once deleted: prompt -> table
_RELATED = {"credentials": "credentials", "labels": "labels", "instance_groups": "instance_groups",
            "execution_environment": "execution_environments"}


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
    with (AWX's saved launch config, minus the credentials, labels and instance groups deleted
    since) through :func:`~.launch.launch_job`.  Once the template is deleted: a copy of
    ``job``'s own fields, credentials and labels.  ``hosts: failed`` limits it to the hosts that
    failed; the passwords ``job``'s credentials need must be given (in ``credential_passwords``
    or as top-level keys).  ``body`` is the request body, or a callable reading it: it is read
    only once the user may relaunch (AWX answers 403 before any 400).  Raises ValidationError /
    PermissionDenied.
    """
    jt = ctx.store.get("job_templates", job["job_template"]) if job.get("job_template") else None
    prompts = _saved_prompts(ctx, job)
    secret = json.loads(ctx.vault.decrypt(job["secret_vars"])) if job.get("secret_vars") else {}
    _require_access(ctx, job, jt, prompts, secret)
    body = body() if callable(body) else body
    if not isinstance(body, dict):
        raise APIError({"detail": "JSON parse error - not a JSON object"})
    hosts, passwords = _validated(ctx, job, body)
    _require_secrets(job, secret)
    limit = _retry_limit(ctx, job, hosts) if hosts != "all" else None
    if jt is None:
        return _copy_job(ctx, job, limit, secret, passwords), {}
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


def _saved_prompts(ctx, job: dict) -> dict:
    """The prompts ``job`` was launched with, without the credentials, labels, instance groups
    or execution environment deleted since (AWX's launch config loses them with the object)."""
    raw = job.get("launch_prompts")
    prompts = json.loads(raw) if isinstance(raw, str) and raw else dict(raw or {})
    for key, table in _RELATED.items():
        if key not in prompts:
            continue
        wanted = prompts[key] if isinstance(prompts[key], list) else [prompts[key]]
        present = ctx.store.get_many(table, [pk for pk in wanted if pk is not None], "id")
        kept = [pk for pk in wanted if pk in present]
        if not kept:
            del prompts[key]
        elif isinstance(prompts[key], list):
            prompts[key] = kept
    return prompts


def _require_access(ctx, job: dict, jt: dict | None, prompts: dict, secret: dict) -> None:
    """AWX's ``JobAccess.can_start``: a system administrator always may.  Otherwise the
    template's execute role; with saved prompts also the right to use each prompted object, as
    the template must still ask for each prompted field (else the organization's execute role
    stands in); survey passwords another user typed are never replayed for someone else; a job
    whose template is gone needs its organization's execute role."""
    if ctx.is_superuser:
        return
    if jt is not None:
        access.require(access.holds(ctx, "job_template", jt["id"], "execute_role"))
        refusal = replay_refusal(ctx, job, jt, prompts, secret)
        if refusal is None:
            return
        if refusal == "secret":     # never allowed, not even for an organization's administrator
            access.require(False, SECRET_PROMPTS)
    if job.get("organization") and access.holds(ctx, "organization", job["organization"], "execute_role"):
        return
    if jt is None and not job.get("organization"):
        access.require(False, "Job has been orphaned from its job template and organization.")
    if jt is not None:
        access.require(False, "Job was launched with prompted fields you do not have access to.")
    access.require(False)


def replay_refusal(ctx, job: dict, template: dict, prompts: dict, secret: dict) -> str | None:
    """Why the user may not replay ``job``'s saved prompts on ``template`` (a job or workflow
    job template), as AWX's ``can_start`` checks a launch config: ``"secret"`` (survey passwords
    another user typed), ``"access"`` (a prompted object the user may not use or read),
    ``"unprompted"`` (a field the template no longer asks for); None when nothing stands in the
    way.  The caller has checked the template's execute role."""
    if not _has_prompts(prompts, secret):
        return None
    if job.get("created_by") != ctx.user_id and _typed_secrets(ctx, template, secret):
        return "secret"
    if not _may_use_prompts(ctx, prompts):
        return "access"
    if _unprompted(job, template, prompts, secret):
        return "unprompted"
    return None


def _has_prompts(prompts: dict, secret: dict) -> bool:
    """AWX's ``has_user_prompts``: the launch gave anything (an empty list or no variables is
    nothing)."""
    return bool(secret) or any(value not in (None, [], {}) for value in prompts.values())


def _typed_secrets(ctx, jt: dict, secret: dict) -> list[str]:
    """The survey passwords of the launch someone typed: those not equal to the template
    survey's current default (a launch that gave none stores the default, which is no one's
    answer -- AWX's ``vars_are_encrypted`` looks only at what the launch provided)."""
    spec = surveys.stored_spec(jt) if jt.get("survey_enabled") else {}
    defaults = surveys.defaults(spec, ctx.vault.decrypt) if spec else {}
    return [var for var, value in secret.items() if var not in defaults or defaults[var] != value]


def _unprompted(job: dict, jt: dict, prompts: dict, secret: dict) -> bool:
    """AWX's ``has_unprompted``: the launch gave a field the template no longer asks for (with a
    survey and no variables prompt, a variable outside the survey)."""
    given_vars = set(prompts.get("extra_vars") or {}) | set(secret)
    spec = surveys.stored_spec(jt) if jt.get("survey_enabled") else {}
    survey_only = bool(spec) and not jt.get("ask_variables_on_launch")
    if survey_only and given_vars - set(surveys.pivot(spec)):
        return True
    for prompt in PROMPTS:
        if prompt.key == "extra_vars":
            given = bool(given_vars) and not survey_only
        else:
            given = prompts.get(prompt.key) not in (None, [])
        # a provisioning callback's limit is the calling host, not a prompt
        callback_limit = prompt.key == "limit" and job.get("launch_type") == "callback"
        if given and not jt.get(prompt.ask_flag) and not callback_limit:
            return True
    return False


def _may_use_prompts(ctx, prompts: dict) -> bool:
    """AWX's ``JobLaunchConfigAccess.can_add`` on the saved prompts: the use role of a prompted
    inventory, of each credential and instance group; read access to the execution
    environment and each label."""
    wanted = [(resource, pk) for key, resource in (("credentials", "credential"), ("instance_groups", "instance_group"),
                                                   ("labels", "label")) for pk in prompts.get(key) or []]
    wanted += [(key, prompts[key]) for key in ("inventory", "execution_environment") if prompts.get(key)]
    return all(access.may_use_prompt(ctx, resource, pk) for resource, pk in wanted)


def _require_secrets(job: dict, secret: dict) -> None:
    """Every survey password ``job`` ran with must still be known: a job whose secret answers
    were forgotten (blanked after its run, before relaunches replayed them) is refused rather
    than run without them or with the literal ``$encrypted$`` (AWX's survey error shape)."""
    try:
        shown = parse_vars(job.get("extra_vars") or "")
    except VarsError:
        return
    lost = [var for var, value in shown.items() if value == ENCRYPTED and var not in secret]
    if lost:
        raise ValidationError({"variables_needed_to_start": [f"'{var}' value missing" for var in lost]})


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

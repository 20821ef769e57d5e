"""``launch_job()``: the only way a job comes into existence (API launch, relaunch, schedules,
later workflows and webhooks).  It applies AWX's prompt rules (a prompt the template does not
ask for is ignored and reported, not an error), validates the survey and the passwords the
credentials need, snapshots the template into the job and queues it.
"""
from __future__ import annotations

import json
from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..prompts import NO_INVENTORY, PROMPTS, Prompt
from ..registry import ENCRYPTED
from ..services import credential_inputs as ci
from ..services import surveys
from ..services import execution_environments as environments
from ..services.validation import FieldError, coerce
from ..services.variables import VarsError, parse_vars
from ..store import instances as instance_sql
from ..store import jobs as q
from ..store import now_iso
from . import control, inventory_update, project_update

COPIED = ("job_type", "inventory", "project", "playbook", "scm_branch", "forks", "limit", "verbosity",
           "job_tags", "force_handlers", "skip_tags", "start_at_task", "timeout", "use_fact_cache",
           "organization", "allow_simultaneous", "diff_mode", "become_enabled", "job_slice_count",
           "webhook_service", "webhook_credential")
_ALLOWED_KINDS = ("ssh", "vault", "cloud", "net", "kubernetes")
_PASSWORD_KEYS = ("ssh_password", "become_password", "ssh_key_unlock", "vault_password")


def _spec(jt: dict) -> dict:
    return surveys.stored_spec(jt) if jt.get("survey_enabled") else {}


def _jt_credentials(ctx, jt_id: int) -> list[int]:
    return q.template_credentials(ctx.store, jt_id)


def _cred_info(ctx, cred_id: int) -> tuple[dict, dict, dict]:
    cred = ctx.store.get("credentials", cred_id)
    ctype = ctx.store.get("credential_types", cred["credential_type"])
    return cred, ctype, ci.decrypt_inputs(ctx.vault, ctype, cred["inputs"])


def passwords_needed(ctx, cred_ids: list[int]) -> list[str]:
    needed: list[str] = []
    for cid in cred_ids:
        _cred, ctype, inputs = _cred_info(ctx, cid)
        needed += ci.passwords_needed(ctype, inputs)
    return needed


def _type_key(ctx, cred_id: int) -> str:
    """What makes two credentials exclusive on one job (AWX's unique_hash)."""
    cred, ctype, _inputs = _cred_info(ctx, cred_id)
    return ci.unique_hash(cred, ctype)[0]


def _label_defaults(ctx, jt_id: int) -> list[dict]:
    """The template's labels as ``GET launch/`` shows them: ``{id, name}`` each, by id."""
    ids = q.template_labels(ctx.store, jt_id)
    rows = ctx.store.get_many("labels", ids, "id, name")
    return [{"id": pk, "name": rows[pk]["name"]} for pk in ids if pk in rows]


def job_labels(template_labels: list[int], prompted: list[int] | None) -> list[int]:
    """The labels a new job gets: the template's, then the prompted ones not among them.
    AWX's ``copy_m2m_relationships``: labels are additive -- a prompt adds to the template's
    labels and never removes one (unlike credentials, replaced type by type)."""
    return list(dict.fromkeys([*template_labels, *(prompted or [])]))


def _credential_default(ctx, cred_id: int) -> dict:
    cred, ctype, inputs = _cred_info(ctx, cred_id)
    entry = {"id": cred["id"], "name": cred["name"], "credential_type": ctype["id"],
             "passwords_needed": ci.passwords_needed(ctype, inputs)}
    if ctype["kind"] == "vault":
        entry["vault_id"] = inputs.get("vault_id", "")
    return entry


def _default(ctx, jt_res, jt: dict, prompt: Prompt, creds: list[int]) -> Any:
    """The template's own value of ``prompt`` as ``GET launch/`` shows it (AWX's
    ``get_defaults``): a referenced object as ``{name, id}`` (an unset inventory as
    ``{"name": None, "id": None}``, another unset object as ``{}``), credentials with the
    passwords they need, instance groups as ``{id, name}`` in their order, other lists empty,
    extra_vars as text, the rest as stored."""
    if prompt.key == "credentials":
        return [_credential_default(ctx, cid) for cid in creds]
    if prompt.key == "instance_groups":
        ids = instance_sql.ordered_groups(ctx.store, "job_template", jt["id"])
        groups = ctx.store.get_many("instance_groups", ids)
        return [{"id": pk, "name": groups[pk]["name"]} for pk in ids if pk in groups]
    if prompt.list_of_ids:
        return []
    value = jt.get(prompt.key)
    if prompt.key == "inventory" and not value:
        return dict(NO_INVENTORY)
    if prompt.kind == "id":
        field = jt_res.field(prompt.key)
        target = ctx.registry.get(field.fk) if field is not None and field.fk else None
        row = ctx.store.get(target.table, value) if target is not None and value else None
        return {"name": row["name"], "id": row["id"]} if row else {}
    if prompt.kind == "boolean":
        return bool(value)
    if prompt.kind == "json":
        return value or ""
    return value


def launch_info(ctx, jt: dict) -> dict:
    """The ``GET /job_templates/N/launch/`` body (needs the template's execute_role)."""
    access.require(access.holds(ctx, "job_template", jt["id"], "execute_role"))
    spec = _spec(jt)
    creds = _jt_credentials(ctx, jt["id"])
    needed = passwords_needed(ctx, creds)
    variables = surveys.variables_needed(spec) if spec else []
    asks = {flag: bool(jt.get(flag)) for flag in sorted(p.ask_flag for p in PROMPTS)}
    jt_res = ctx.registry["job_template"]
    # AWX's get_defaults lists the credentials and the labels only when the template has some
    defaults = {p.key: _default(ctx, jt_res, jt, p, creds) for p in PROMPTS
                if p.key != "labels" and (p.key != "credentials" or creds)}
    if labels := _label_defaults(ctx, jt["id"]):
        defaults["labels"] = labels
    return {
        "can_start_without_user_input": not needed and not variables and not any(asks.values())
        and bool(jt.get("inventory")),
        "passwords_needed_to_start": needed, **asks, "survey_enabled": bool(spec.get("spec")),
        "variables_needed_to_start": variables, "credential_needed_to_start": False,
        "inventory_needed_to_start": not jt.get("inventory"),
        "job_template_data": {"name": jt["name"], "id": jt["id"], "description": jt.get("description", "")},
        "defaults": defaults,
    }


def _coerce_prompt(ctx, jt_res, prompt: Prompt, value: Any) -> Any:
    """A prompt's value typed as the template's field (a list of ids as given); 400 if it cannot be."""
    key = prompt.key
    if prompt.list_of_ids:
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValidationError({key: ["Expected a list of ids."]})
        return value
    if value is None:
        raise ValidationError({key: ["This field may not be null."]})
    field = jt_res.field(key)
    try:
        return coerce(ctx, field, value) if field is not None else value
    except FieldError as exc:
        raise ValidationError({key: [str(exc)]}) from None


def _split_prompts(ctx, jt: dict, body: dict, trusted: bool) -> tuple[dict, dict]:
    """(accepted, ignored) prompts of ``body``, extra_vars aside (:func:`_split_vars`): a value
    equal to the template's is neither; a different one is accepted (typed) when the template
    asks for it or the launch is ``trusted``, else ignored (as given)."""
    jt_res = ctx.registry["job_template"]
    accepted: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    for prompt in PROMPTS:
        key = prompt.key
        if key == "extra_vars" or key not in body:
            continue
        value = _coerce_prompt(ctx, jt_res, prompt, body[key])
        if key == "credentials":
            differs = sorted(value) != sorted(_jt_credentials(ctx, jt["id"]))
        elif key == "instance_groups":
            differs = value != instance_sql.ordered_groups(ctx.store, "job_template", jt["id"])
        else:
            differs = value != jt.get(key)
        if not differs:
            continue
        if trusted or jt.get(prompt.ask_flag):
            accepted[key] = value
        else:
            ignored[key] = body[key]
    return accepted, ignored


def _split_vars(jt: dict, spec: dict, given: dict, trusted: bool) -> tuple[dict, dict]:
    """(accepted runtime vars, ignored vars) per ask_variables_on_launch and the survey."""
    if trusted or jt.get("ask_variables_on_launch"):
        return dict(given), {}
    survey_vars = set(surveys.pivot(spec)) if spec else set()
    accepted = {k: v for k, v in given.items() if k in survey_vars}
    ignored = {k: v for k, v in given.items() if k not in survey_vars}
    return accepted, ignored


def launch_job(ctx, jt: dict, body: dict, launch_type: str = "manual", trusted: bool = False,
               extra_fields: dict | None = None) -> tuple[dict, dict]:
    """Create and queue a job of ``jt``; returns (job row, ignored_fields).

    ``trusted`` prompts come from the system (relaunch, workflow nodes, webhooks): applied as
    given, no ask_* filtering and no use checks (a schedule fires through :func:`start_job`,
    untrusted).  Raises ValidationError (400) / PermissionDenied (403) as AWX does.
    """
    if not isinstance(body, dict):
        raise APIError({"detail": "JSON parse error - not a JSON object"})
    access.require(access.holds(ctx, "job_template", jt["id"], "execute_role"))
    body = dict(body)
    if "inventory_id" in body and "inventory" not in body:
        body["inventory"] = body.pop("inventory_id")
    passwords = dict(body.get("credential_passwords") or {})
    if "credential_passwords" not in body:
        # legacy AWX clients send the passwords as top-level keys
        passwords = {k: v for k, v in body.items() if k in _PASSWORD_KEYS or k.startswith("vault_password.")}
    accepted, ignored = _split_prompts(ctx, jt, body, trusted)
    spec = _spec(jt)
    try:
        given = parse_vars(body.get("extra_vars")) if body.get("extra_vars") not in (None, "") else {}
    except VarsError as exc:
        raise ValidationError({"extra_vars": [str(exc)]}) from None
    runtime, ignored_vars = _split_vars(jt, spec, given, trusted)
    if ignored_vars:
        ignored["extra_vars"] = ignored_vars
    # survey: defaults, then answers; "$encrypted$" for a password keeps the default
    secret_vars: dict = {}
    if spec and not trusted:
        runtime, secret_vars = surveys.answer(spec, runtime, ctx.vault.decrypt)
    elif trusted and body.get("secret_vars"):
        secret_vars = dict(body["secret_vars"])
    # credentials: the prompt replaces the template's, type by type
    creds = _jt_credentials(ctx, jt["id"])
    if "credentials" in accepted:
        creds = _merge_credentials(ctx, creds, accepted["credentials"], trusted)
    needed = [p for p in passwords_needed(ctx, creds) if not passwords.get(p)]
    if needed:
        raise ValidationError({"passwords_needed_to_start": needed})
    inventory = accepted.get("inventory", jt.get("inventory"))
    if inventory is None:
        raise ValidationError({"resources_needed_to_start": ["Job Template inventory is missing or undefined."]})
    if "inventory" in accepted and not trusted and not access.holds(ctx, "inventory", inventory, "use_role"):
        raise PermissionDenied()
    project = ctx.store.get("projects", jt["project"]) if jt.get("project") else None
    if project is None:
        raise ValidationError({"project": ["A project is required to run a job."]})
    _check_instance_groups(ctx, accepted.get("instance_groups") or [], trusted)
    if "scm_branch" in accepted and not project.get("allow_override"):
        raise ValidationError({"scm_branch": ["Project does not allow override of branch."]})
    if q.project_failed(ctx.store, project["id"]) and not project.get("scm_update_on_launch"):
        raise ValidationError({"playbook": ["Missing a revision to run due to failed project update."]})
    return create_row(ctx, jt, project, accepted, runtime, secret_vars, passwords, creds, launch_type,
                   extra_fields or {}), ignored


def _check_instance_groups(ctx, groups: list[int], trusted: bool) -> None:
    """Prompted instance groups exist and (unless the system launches) the launcher may use them."""
    for gid in groups:
        if ctx.store.get("instance_groups", gid) is None:
            raise ValidationError({"instance_groups": [f'Invalid pk "{gid}" - object does not exist.']})
        if not trusted and not access.holds(ctx, "instance_group", gid, "use_role"):
            raise PermissionDenied()


def _merge_credentials(ctx, current: list[int], given: list[int], trusted: bool) -> list[int]:
    seen: dict[str, int] = {}
    for cid in given:
        cred = ctx.store.get("credentials", cid)
        if cred is None:
            raise ValidationError({"credentials": [f'Invalid pk "{cid}" - object does not exist.']})
        ctype = ctx.store.get("credential_types", cred["credential_type"])
        if ctype["kind"] not in _ALLOWED_KINDS:
            raise ValidationError({"credentials": [f"Cannot assign a Credential of kind `{ctype['kind']}`."]})
        if not trusted and not access.holds(ctx, "credential", cid, "use_role"):
            raise PermissionDenied()
        key = _type_key(ctx, cid)
        if key in seen:
            raise ValidationError({"credentials": [f"Cannot assign multiple {ctype['name']} credentials."]})
        seen[key] = cid
    missing = [cid for cid in current if _type_key(ctx, cid) not in seen]
    if missing and not trusted:
        creds = [_cred_info(ctx, c) for c in missing]
        kinds = ", ".join(sorted({t["name"] for _c, t, _i in creds}))
        names = ", ".join(c["name"] for c, _t, _i in creds)
        raise ValidationError({"credentials": [
            f"Removing {kinds} credential at launch time without replacement is not supported. "
            f"Provided list lacked credential(s): {names}."]})
    # AWX combines the template's credentials with the prompted ones, type by type: a trusted
    # replay (relaunch, workflow node, webhook) keeps the template's current credentials of
    # other types
    return [*missing, *seen.values()]


def create_row(ctx, jt: dict, project: dict, accepted: dict, runtime: dict, secret_vars: dict,
            passwords: dict, creds: list[int], launch_type: str, extra_fields: dict) -> dict:
    """The job row of an already validated launch of ``jt`` (a template, or a copy of a job whose
    template is gone: ``id`` None), its credentials and labels, dependencies, queued."""
    now = now_iso()
    base_vars = parse_vars(jt.get("extra_vars") or "")
    shown_vars = {**base_vars, **runtime, **{k: ENCRYPTED for k in secret_vars}}
    values: dict[str, Any] = {f: jt.get(f) for f in COPIED}
    values.update({k: v for k, v in accepted.items() if k in values})
    values.update({
        "name": jt["name"], "description": jt.get("description", ""), "job_template": jt["id"],
        "unified_job_template": jt["id"], "launch_type": launch_type, "status": "pending", "failed": False,
        "elapsed": 0.0, "extra_vars": json.dumps(shown_vars) if shown_vars else "",
        "artifacts": {}, "job_args": "", "job_cwd": "", "job_env": {}, "job_explanation": "",
        "execution_node": "", "controller_node": "", "result_traceback": "", "event_processing_finished": False,
        "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "", "cancel_flag": False,
        "scm_revision": project.get("scm_revision") or "", "job_slice_number": 0,
        "launch_prompts": _prompts_record(ctx, jt["id"], accepted, runtime),
        "secret_vars": ctx.vault.encrypt(json.dumps(secret_vars)) if secret_vars else "",
        "credential_passwords": ctx.vault.encrypt(json.dumps(passwords)) if passwords else "",
        "created": now, "modified": now, "created_by": ctx.user_id, "modified_by": ctx.user_id,
        **extra_fields,
    })
    values["execution_environment"] = environments.resolve(
        ctx, {**values, "execution_environment": accepted.get("execution_environment")
                      or values.get("execution_environment")}, jt)
    with ctx.store.transaction():
        if project.get("scm_type") and project.get("scm_update_on_launch") and not q.update_is_fresh(
                ctx.store, project["id"], int(project.get("scm_update_cache_timeout") or 0)):
            values["dependency_update"] = project_update.start_update(ctx, project, launch_type="dependency")["id"]
        values["dependency_inventory_updates"] = _inventory_dependencies(ctx, values["inventory"])
        pk = control.create_job(ctx, "job", values)
        q.link(ctx.store, "job_credentials", "job_id", "credential_id", pk, creds)
        labels = job_labels(q.template_labels(ctx.store, jt["id"]), accepted.get("labels"))
        q.link(ctx.store, "job_labels", "job_id", "label_id", pk, labels)
    if ctx.jobs is not None:
        ctx.jobs.notify()
    return ctx.store.get("jobs", pk)


def _prompts_record(ctx, jt_id: int, accepted: dict, runtime: dict) -> dict:
    """What a relaunch replays (AWX's JobLaunchConfig): the accepted prompts and runtime vars,
    credentials and labels only as far as they add to the template's own at launch time, so a
    relaunch picks up the template's current ones for the rest."""
    record = {**accepted, "extra_vars": runtime}
    for key, own in (("credentials", q.template_credentials), ("labels", q.template_labels)):
        if key not in record:
            continue
        added = [pk for pk in record[key] if pk not in own(ctx.store, jt_id)]
        if added:
            record[key] = added
        else:
            del record[key]
    return record


def _inventory_dependencies(ctx, inventory_id: int) -> list[int]:
    """Updates of the inventory's sources marked update_on_launch (unless fresh enough)."""
    started = []
    for source in q.sources_to_update(ctx.store, inventory_id):
        if not q.inventory_update_is_fresh(ctx.store, source["id"], int(source.get("update_cache_timeout") or 0)):
            started.append(inventory_update.start_update(ctx, source, launch_type="dependency")["id"])
    return started


def record_failed_launch(ctx, jt: dict, reason: str, extra_fields: dict | None = None,
                         launch_type: str = "scheduled") -> dict:
    """A job of ``jt`` created directly in ``error`` with ``reason`` as job_explanation: what a
    launch nobody waits for (a schedule firing) leaves when the template cannot start (missing
    survey answer, credential password, inventory ...).  Nothing is queued or run."""
    now = now_iso()
    values: dict[str, Any] = {f: jt.get(f) for f in COPIED}
    values.update({
        "name": jt["name"], "description": jt.get("description", ""), "job_template": jt["id"],
        "unified_job_template": jt["id"], "launch_type": launch_type, "status": "error", "failed": True,
        "started": None, "finished": now, "elapsed": 0.0, "extra_vars": "", "artifacts": {}, "job_args": "",
        "job_cwd": "", "job_env": {}, "job_explanation": reason, "execution_node": "", "controller_node": "",
        "result_traceback": "", "event_processing_finished": True, "launched_by_id": ctx.user_id,
        "launched_by_type": "user" if ctx.user_id else "", "cancel_flag": False, "scm_revision": "",
        "job_slice_number": 0, "launch_prompts": {}, "secret_vars": "", "credential_passwords": "",
        "created": now, "modified": now, "created_by": ctx.user_id, "modified_by": ctx.user_id,
        **(extra_fields or {}),
    })
    return ctx.store.get("jobs", control.create_job(ctx, "job", values))


def start_job(ctx, jt: dict, launch_type: str = "manual", body: dict | None = None,
              extra_fields: dict | None = None) -> dict:
    """The job template's ``UnifiedJob.start``: :func:`launch_job` with ``body`` as the prompts
    (filtered by the template's ask_* flags and survey); returns the job row."""
    job, _ignored = launch_job(ctx, jt, body or {}, launch_type=launch_type, extra_fields=extra_fields)
    return job

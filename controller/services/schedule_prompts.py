"""Launch prompts of schedules: validated at save time like a launch, replayed at fire time.

Contracts:
  * :func:`check_prompts` raises AWX's errors where a launch would ignore a field: a prompt the
    job template does not ask for answers ``{"limit": ["Field is not configured to prompt on
    launch."]}``, variables outside ``ask_variables_on_launch`` / the survey answer
    ``{"extra_data": ["Variables x are not allowed on launch. …"]}``, survey rule violations
    ``{"variables_needed_to_start": [...]}``; projects and inventory sources take no prompt.
  * Survey password answers are stored vault-encrypted; ``$encrypted$`` on update keeps the
    stored answer.  :func:`masked` shows them as ``$encrypted$``; :func:`launch_body` decrypts.
"""
from __future__ import annotations


from .. import access
from ..errors import PermissionDenied, ValidationError
from ..prompts import SCHEDULABLE
from ..registry import ENCRYPTED
from ..secrets import Vault
from ..store import instances as instance_sql
from . import surveys
from .variables import VarsError, json_mapping, parse_vars

# the schedule's prompt fields: the schedulable launch prompts (extra variables are extra_data)
PROMPTS = tuple(p.key for p in SCHEDULABLE)
NOT_PROMPTED = "Field is not configured to prompt on launch."


def loads(value) -> dict:
    """A stored JSON mapping (text or dict) -> dict; anything else -> {}."""
    return dict(json_mapping(value))


def masked(extra) -> dict:
    return {k: ENCRYPTED if Vault.is_encrypted(v) else v for k, v in loads(extra).items()}


def _loads_vars(text) -> dict:
    try:
        return parse_vars(text or "")
    except VarsError:
        return {}


def _plain_extra(ctx, values: dict, existing: dict | None, passwords: list[str]) -> dict:
    """extra_data with ``$encrypted$`` answers replaced by the stored secret (or dropped)."""
    given = values["extra_data"] if "extra_data" in values else loads((existing or {}).get("extra_data"))
    if given in (None, ""):
        given = {}
    if not isinstance(given, dict):
        kind = type(given).__name__
        raise ValidationError({"extra_data": [f'Expected a dictionary of items but got type "{kind}".']})
    extra = dict(given)
    stored = loads((existing or {}).get("extra_data"))
    for var in passwords:
        if extra.get(var) == ENCRYPTED:
            if Vault.is_encrypted(stored.get(var)):
                extra[var] = ctx.vault.decrypt(stored[var])
            else:
                extra.pop(var)
        elif Vault.is_encrypted(extra.get(var)):
            extra[var] = ctx.vault.decrypt(extra[var])
    return extra


def _check_job_template_prompts(ctx, jt: dict, merged: dict, extra: dict) -> None:
    errors: dict[str, list[str]] = {}
    for prompt in SCHEDULABLE:
        key = prompt.key
        value = merged.get(key)
        if value is None:
            continue
        current = bool(jt.get(key)) if isinstance(value, bool) else jt.get(key)
        if value == current:
            continue
        if not jt.get(prompt.ask_flag):
            errors[key] = [NOT_PROMPTED]
        elif key == "scm_branch":
            project = ctx.store.get("projects", jt["project"]) if jt.get("project") else None
            if not (project or {}).get("allow_override"):
                errors[key] = ["Project does not allow override of branch."]
    spec = surveys.stored_spec(jt) if jt.get("survey_enabled") else {}
    if extra and not jt.get("ask_variables_on_launch"):
        allowed = set(surveys.pivot(spec)) if spec else set()
        base = _loads_vars(jt.get("extra_vars"))
        refused = [k for k, v in extra.items() if k not in allowed and base.get(k, object()) != v]
        if refused:
            errors["extra_data"] = [f"Variables {', '.join(refused)} are not allowed on launch. Check the Prompt on "
                                    f"Launch setting on the Job Template to include Extra Variables."]
    if spec:
        answers = {**surveys.defaults(spec, ctx.vault.decrypt), **extra}
        _ok, problems = surveys.validate_answers(spec, answers)
        if problems:
            errors["variables_needed_to_start"] = problems
    if merged.get("inventory") is None and jt.get("inventory") is None:
        errors.setdefault("inventory", ["Job Template inventory is missing or undefined."])
    if errors:
        raise ValidationError(errors)


def check_prompts(ctx, kind: str, ujt: dict, values: dict, existing: dict | None) -> dict:
    """Validate the prompts like a launch; returns extra_data ready to store (secrets encrypted)."""
    merged = {**(existing or {}), **values}
    spec = surveys.stored_spec(ujt) if kind == "job_template" and ujt.get("survey_enabled") else {}
    passwords = surveys.password_variables(spec) if spec else []
    extra = _plain_extra(ctx, values, existing, passwords)
    if kind != "job_template":
        errors = {k: ["Field is not allowed on launch."] for k in PROMPTS if merged.get(k) is not None}
        if extra:
            errors["extra_data"] = ["Field is not allowed on launch."]
        if errors:
            raise ValidationError(errors)
    else:
        _check_job_template_prompts(ctx, ujt, merged, extra)
    if "inventory" in values and values["inventory"] is not None \
            and not access.holds(ctx, "inventory", values["inventory"], "use_role"):
        raise PermissionDenied()
    return {k: ctx.vault.encrypt(str(v)) if k in passwords else v for k, v in extra.items()}


def launch_body(ctx, row: dict) -> dict:
    """The launch prompts of a schedule (null prompts left out, survey secrets decrypted)."""
    body = {k: row[k] for k in PROMPTS if row.get(k) is not None}
    if "diff_mode" in body:
        body["diff_mode"] = bool(body["diff_mode"])
    extra = {k: ctx.vault.decrypt(v) if Vault.is_encrypted(v) else v for k, v in loads(row.get("extra_data")).items()}
    if extra:
        body["extra_vars"] = extra
    groups = instance_sql.ordered_groups(ctx.store, "schedule", row["id"])
    if groups:   # the schedule's instance_groups list (a relation, not a field)
        body["instance_groups"] = groups
    return body

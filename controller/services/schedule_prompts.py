"""Launch prompts of schedules: validated at save time like a launch, replayed at fire time.

Contracts:
  * :func:`check_prompts` raises AWX's errors where a launch would ignore a field: a prompt the
    template does not ask for answers ``{"limit": ["Field is not configured to prompt on
    launch."]}``, variables outside ``ask_variables_on_launch`` / the survey answer
    ``{"extra_data": ["Variables x are not allowed on launch. …"]}``, survey rule violations
    ``{"variables_needed_to_start": [...]}``.  A workflow job template is checked the same way
    over the prompts it has (inventory, limit, branch, tags, skip tags, extra variables and its
    survey; AWX's ``get_ask_mapping``): a field it has no prompt for is ignored, as AWX does.
    Projects and inventory sources take no prompt.
  * Survey password answers are stored vault-encrypted; ``$encrypted$`` keeps the stored
    answer, else takes the question's default, else is a 400 (AWX); beside a password answer,
    ``$encrypted$`` for any other variable is refused as a reserved keyword.  :func:`masked`
    shows them as ``$encrypted$``; :func:`launch_body` decrypts.
  * The list prompts live in the schedule's sub-lists (``credentials/``, ``labels/``,
    ``instance_groups/``).  :func:`check_credential_attach` holds AWX's attach rules of a saved
    launch configuration (LaunchConfigCredentialsBase); labels and instance groups take any
    readable object (AWX checks nothing more), a template that does not ask for them ignores
    them when the schedule fires, as a launch does.  :func:`check_prompt_access` holds AWX's
    permission rule of the object prompts (use of the inventory, read of the execution
    environment), checked before any validation.
  * :func:`launch_body` gives the launch what a person would post: the template's credentials
    with the schedule's replacing them type by type (AWX's ``create_unified_job``), the
    schedule's labels and instance groups; empty sub-lists leave the template's own.
"""
from __future__ import annotations


from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..prompts import SCHEDULABLE
from ..registry import ENCRYPTED
from ..secrets import Vault
from ..store import instances as instance_sql
from ..store import jobs as job_sql
from ..store import links
from . import credential_inputs as ci
from . import relations, surveys
from .variables import VarsError, json_mapping, parse_vars

# the schedule's prompt fields: the schedulable launch prompts (extra variables are extra_data)
PROMPTS = tuple(p.key for p in SCHEDULABLE)
NOT_PROMPTED = "Field is not configured to prompt on launch."
# the schedule's association tables of the list prompts ("table:left:right", Relation keys)
CREDENTIALS_KEY = "schedule_credentials:schedule_id:credential_id"
LABELS_KEY = "schedule_labels:schedule_id:label_id"


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


def _plain_extra(ctx, values: dict, existing: dict | None, spec: dict) -> tuple[dict, list[str]]:
    """(extra_data with ``$encrypted$`` answers replaced by the stored secret or dropped for the
    question's default, AWX's refusals of ``$encrypted$`` to add to the ``extra_data`` errors).

    AWX (LaunchConfigurationBaseSerializer): a posted ``$encrypted$`` for a password question
    with no stored answer and no default is a 400 at once; once a posted extra_data holds a
    password question, ``$encrypted$`` for any other variable is a reserved keyword."""
    given = values["extra_data"] if "extra_data" in values else loads((existing or {}).get("extra_data"))
    if given in (None, ""):
        given = {}
    if not isinstance(given, dict):
        kind = type(given).__name__
        raise ValidationError({"extra_data": [f'Expected a dictionary of items but got type "{kind}".']})
    extra = dict(given)
    stored = loads((existing or {}).get("extra_data"))
    passwords = surveys.password_variables(spec) if spec else []
    questions = surveys.pivot(spec) if spec else {}
    for var in passwords:
        if extra.get(var) == ENCRYPTED:
            if Vault.is_encrypted(stored.get(var)):
                extra[var] = ctx.vault.decrypt(stored[var])
            elif "extra_data" in values and var not in stored and not questions[var].get("default"):
                raise ValidationError({"extra_data": [f"Provided variable {var} has no database value to replace "
                                                      "with."]})
            else:
                extra.pop(var)
        elif Vault.is_encrypted(extra.get(var)):
            extra[var] = ctx.vault.decrypt(extra[var])
    reserved = []
    if "extra_data" in values and any(var in given for var in passwords):
        reserved = [f'"$encrypted$ is a reserved keyword, may not be used for {var}."'
                    for var, value in extra.items() if value == ENCRYPTED and var not in passwords]
    return extra, reserved


# AWX's model names in the extra variables refusal (``verbose_name.title()``)
_MODEL_NAMES = {"job_template": "Job Template", "workflow_job_template": "Workflow Job Template"}


def _check_template_prompts(ctx, kind: str, jt: dict, merged: dict, extra: dict, reserved: list[str]) -> None:
    """AWX's ``_accept_or_ignore_job_kwargs`` of a job or workflow job template over a saved
    launch configuration: only the prompts the template has (its row holds their ask flag);
    ``reserved`` (refusals of ``$encrypted$``) follow the other ``extra_data`` errors."""
    errors: dict[str, list[str]] = {}
    for prompt in SCHEDULABLE:
        key = prompt.key
        value = merged.get(key)
        if value is None or prompt.ask_flag not in jt:
            continue
        current = bool(jt.get(key)) if isinstance(value, bool) else jt.get(key)
        if value == current:
            continue
        if not jt.get(prompt.ask_flag):
            errors[key] = [NOT_PROMPTED]
        elif key == "scm_branch" and kind == "job_template":
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
                                    f"Launch setting on the {_MODEL_NAMES[kind]} to include Extra Variables."]
    if spec:
        answers = {**surveys.defaults(spec, ctx.vault.decrypt), **extra}
        _ok, problems = surveys.validate_answers(spec, answers)
        if problems:
            errors["variables_needed_to_start"] = problems
    if kind == "job_template" and merged.get("inventory") is None and jt.get("inventory") is None:
        errors.setdefault("inventory", ["Job Template inventory is missing or undefined."])
    if reserved:
        errors.setdefault("extra_data", []).extend(reserved)
    if errors:
        raise ValidationError(errors)


def check_prompt_access(ctx, values: dict, existing: dict | None) -> None:
    """403 unless the user may use each object prompt the save changes: the new inventory (use)
    or execution environment (read), and the one it replaces (AWX ``check_related``: a value
    given unchanged, as a PUT repeats it, is not checked).  Runs before any validation, as AWX
    checks permissions before the serializer; whatever the template asks for.  The list prompts
    are checked when attached (credentials: use; labels, instance groups: read)."""
    if ctx.is_superuser:
        return
    for field in ("inventory", "execution_environment"):
        if field not in values:
            continue
        new, current = values[field], (existing or {}).get(field)
        if new == current:
            continue
        if any(pk is not None and not access.may_use_prompt(ctx, field, pk) for pk in (new, current)):
            raise PermissionDenied()


def touches_prompts(ujt: dict, values: dict) -> bool:
    """Whether a save of ``values`` must check the prompts again (AWX: the request names a key of
    the template's ask mapping, or ``extra_data``).  A workflow's mapping is its own prompts only,
    so a field it has none for (``verbosity``) changes nothing; a template with no prompt at all
    (a project, an inventory source) is checked on any prompt key, which it refuses."""
    keys = {p.key for p in SCHEDULABLE if p.ask_flag in ujt} or set(PROMPTS)
    return "extra_data" in values or bool(keys & set(values))


def check_prompts(ctx, kind: str, ujt: dict, values: dict, existing: dict | None) -> dict:
    """Validate the prompts like a launch; returns extra_data ready to store (secrets encrypted)."""
    merged = {**(existing or {}), **values}
    templates = tuple(_MODEL_NAMES)
    spec = surveys.stored_spec(ujt) if kind in templates and ujt.get("survey_enabled") else {}
    passwords = surveys.password_variables(spec) if spec else []
    extra, reserved = _plain_extra(ctx, values, existing, spec)
    if kind not in templates:
        errors = {k: ["Field is not allowed on launch."] for k in PROMPTS if merged.get(k) is not None}
        if extra:
            errors["extra_data"] = ["Field is not allowed on launch."]
        if errors:
            raise ValidationError(errors)
    else:
        _check_template_prompts(ctx, kind, ujt, merged, extra, reserved)
    return {k: ctx.vault.encrypt(str(v)) if k in passwords else v for k, v in extra.items()}


def linked(ctx, key: str, schedule_id: int) -> list[int]:
    """The ids in one of the schedule's sub-lists (``key``: its Relation key), in attach order."""
    table, left, right = key.split(":")
    return links.linked_ids(ctx.store, table, left, right, schedule_id)


def _unique_hash(ctx, cred: dict) -> tuple[str, str, dict]:
    """(key, display) of :func:`~.credential_inputs.unique_hash`, and the credential's type."""
    ctype = ctx.store.get("credential_types", cred["credential_type"]) or {}
    return (*ci.unique_hash(cred, ctype), ctype)


def check_credential_attach(ctx, kind: str, ujt: dict, schedule: dict, cred: dict) -> None:
    """Refuse attaching ``cred`` to ``schedule`` (of template ``ujt`` of ``kind``) as AWX does:
    400 ``{"msg": …}`` when the template cannot take it, when it needs a password at launch
    (nobody types one when a schedule fires), or when its type is already provided by the
    schedule or the template already uses it.  The permission (change on the schedule, use of
    the credential) is checked by the caller first."""
    if kind != "job_template":
        raise APIError({"msg": "Related template cannot accept credentials on launch."})
    key, display, ctype = _unique_hash(ctx, cred)
    if ci.passwords_needed(ctype, ci.decrypt_inputs(ctx.vault, ctype, cred.get("inputs"))):
        raise APIError({"msg": "Credential that requires user input on launch cannot be used in saved launch "
                               "configuration."})
    if not ujt.get("ask_credential_on_launch"):
        raise APIError({"msg": "Related template is not configured to accept credentials on launch."})
    for other in ctx.store.get_many("credentials", linked(ctx, CREDENTIALS_KEY, schedule["id"])).values():
        if _unique_hash(ctx, other)[0] == key:
            raise APIError({"msg": f"This launch configuration already provides a {display} credential."})
    if cred["id"] in job_sql.template_credentials(ctx.store, ujt["id"]):
        raise APIError({"msg": f"Related template already uses {cred['name']} credential."})


def list_ids(ctx, schedule_id: int | None) -> dict[str, list[int]]:
    """The schedule's list prompts: {"credentials", "labels", "instance_groups": ids} (empty
    lists for a schedule not saved yet)."""
    if not schedule_id:
        return {"credentials": [], "labels": [], "instance_groups": []}
    return {"credentials": linked(ctx, CREDENTIALS_KEY, schedule_id), "labels": linked(ctx, LABELS_KEY, schedule_id),
            "instance_groups": instance_sql.ordered_groups(ctx.store, "schedule", schedule_id)}


def template_credentials(ctx, jt_id: int) -> list[int]:
    """The job template's own credentials (a schedule cannot attach them again)."""
    return job_sql.template_credentials(ctx.store, jt_id)


def set_lists(ctx, schedule: dict, wanted: dict[str, list[int]]) -> None:
    """Make the schedule's sub-lists hold ``wanted`` (prompt key -> ids) as an API client would:
    a detach per extra id, then an attach per missing one, each through the generic association
    (permissions, :func:`check_credential_attach`, the activity stream).  The first refusal
    raises, keyed by the prompt (``{"credentials": [msg]}``); the caller's transaction undoes
    the rest.  An ordered list (instance groups) that differs is rebuilt in the order given."""
    res = ctx.registry["schedule"]
    current = list_ids(ctx, schedule["id"])
    for key, ids in wanted.items():
        rel = res.relation(key)
        if rel is None:
            continue
        have = current.get(key, [])
        if rel.ordered and have != ids:
            drop, add = have, ids
        else:
            drop, add = [i for i in have if i not in ids], [i for i in ids if i not in have]
        target = ctx.registry[rel.target]
        try:
            for pk, on in [*((pk, False) for pk in drop), *((pk, True) for pk in add)]:
                child = ctx.store.get(target.table, pk)
                if child is None:
                    raise ValidationError({key: [f'Invalid pk "{pk}" - object does not exist.']})
                relations.associate(ctx, res, schedule, rel, child, on)
        except ValidationError:
            raise
        except APIError as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            message = body.get("msg") or body.get("detail") or body.get("error") or str(exc.body)
            raise ValidationError({key: [str(message)]}) from None


def _credentials(ctx, jt_id: int, own: list[int]) -> list[int]:
    """The template's credentials with the schedule's ``own`` replacing them type by type."""
    chosen = {}
    for cid in [*job_sql.template_credentials(ctx.store, jt_id), *own]:
        cred = ctx.store.get("credentials", cid)
        if cred is not None:
            chosen[_unique_hash(ctx, cred)[0]] = cid
    return list(chosen.values())


def launch_body(ctx, row: dict) -> dict:
    """The launch prompts of a schedule (null prompts left out, survey secrets decrypted, the
    list prompts from its sub-lists)."""
    body = {k: row[k] for k in PROMPTS if row.get(k) is not None}
    own = linked(ctx, CREDENTIALS_KEY, row["id"])
    if own and (row.get("unified_job_template_type") or "job_template") == "job_template":
        body["credentials"] = _credentials(ctx, row["unified_job_template"], own)
    labels = linked(ctx, LABELS_KEY, row["id"])
    if labels:     # a workflow's launch takes them too; updates ignore their body
        body["labels"] = labels
    if "diff_mode" in body:
        body["diff_mode"] = bool(body["diff_mode"])
    extra = {k: ctx.vault.decrypt(v) if Vault.is_encrypted(v) else v for k, v in loads(row.get("extra_data")).items()}
    if extra:
        body["extra_vars"] = extra
    groups = instance_sql.ordered_groups(ctx.store, "schedule", row["id"])
    if groups:   # the schedule's instance_groups list (a relation, not a field)
        body["instance_groups"] = groups
    return body

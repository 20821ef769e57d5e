"""Bulk job launch (AWX's ``/api/v2/bulk/job_launch/``): one workflow job (``is_bulk_job``,
named after the request) whose nodes, one per requested job and without edges, run at once.

Contracts:
  * All or nothing: every entry is validated and every permission checked before anything is
    written; the workflow job, its nodes and their credentials and labels are one transaction.
  * Permissions as AWX: execute on job and workflow job templates, update on projects and
    inventory sources, use on inventories and credentials, read on labels, instance groups
    and execution environments; a user who is not a superuser launches in one of their
    organizations (the one given, or their only one).
  * Prompts: a node's values are applied by the workflow engine when its template asks for
    them; the request's ``inventory``, ``limit``, ``scm_branch``, ``job_tags`` and
    ``skip_tags`` are the workflow job's and ``extra_vars`` reach every job.  Every value from
    the request is runtime data: the jobs write it ``!unsafe`` (jobs.spec).
  * ``BULK_JOB_MAX_LAUNCH`` is read at each request.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from .. import access
from ..errors import ValidationError
from ..jobs import control
from ..services.validation import FieldError, coerce, object_errors, require_object
from ..services.variables import VarsError, parse_vars
from ..store import bulk as bq
from ..store import now_iso
from ..store import workflows as wq
from ..workflows import engine
from ..workflows import workflow_launch as wl

DEFAULT_NAME = "Bulk Job Launch"
MAX_ID = 2147483647     # a primary key beyond cannot exist (and SQLite cannot bind past 2**63)
TOP_STRINGS = ("limit", "scm_branch", "skip_tags", "job_tags")
NODE_SCALARS = ("extra_data", "scm_branch", "job_type", "job_tags", "skip_tags", "limit", "diff_mode", "verbosity",
                "forks", "job_slice_count", "timeout", "identifier", "all_parents_must_converge")
NODE_IDS = ("unified_job_template", "inventory", "execution_environment")
NODE_LISTS = ("credentials", "labels", "instance_groups")
# template kind -> (the role a launch needs, AWX's verbose plural)
KINDS = {"job_template": ("execute_role", "Job Templates"), "workflow_job_template": ("execute_role",
         "Workflow Job Templates"), "project": ("update_role", "Projects"),
         "inventory_source": ("update_role", "Inventory Sources")}
# list key -> (resource, role needed or None for read, AWX's verbose plural)
RELATED = {"inventory": ("inventory", "use_role", "Inventories"), "credentials": ("credential", "use_role",
           "Credentials"), "labels": ("label", None, "Labels"), "instance_groups": ("instance_group", None,
           "Instance Groups"), "execution_environment": ("execution_environment", None, "Execution Environments")}


def _refuse(message: str) -> ValidationError:
    return ValidationError({"non_field_errors": [message]})


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip()) if not isinstance(value, (bool, dict, list, float)) else None
        except ValueError:
            value = None
        if value is None:
            raise FieldError("A valid integer is required.")
    if value < 1:
        raise FieldError("Ensure this value is greater than or equal to 1.")
    if value > MAX_ID:
        raise FieldError(f"Ensure this value is less than or equal to {MAX_ID}.")
    return value


def _node(ctx, entry: Any) -> tuple[dict, dict]:
    """(values, errors) of one entry of ``jobs``."""
    if not isinstance(entry, dict):
        return {}, object_errors(entry)
    res = ctx.registry["workflow_job_template_node"]
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "unified_job_template" not in entry:
        errors["unified_job_template"] = ["This field is required."]
    for key in NODE_IDS:
        if key in entry and entry[key] is not None:
            try:
                values[key] = _id(entry[key])
            except FieldError as exc:
                errors[key] = [str(exc)]
    for key in NODE_LISTS:
        if key in entry:
            items = entry[key]
            try:
                if not isinstance(items, list):
                    raise FieldError(f'Expected a list of items but got type "{type(items).__name__}".')
                values[key] = [_id(v) for v in items]
            except FieldError as exc:
                errors[key] = [str(exc)]
    for key in NODE_SCALARS:
        if key in entry:
            try:
                values[key] = coerce(ctx, res.field(key), entry[key])
            except FieldError as exc:
                errors[key] = [str(exc)]
    return values, errors


def _top(ctx, body: dict) -> dict:
    """The request's own fields (not ``jobs``), checked."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {"name": DEFAULT_NAME}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, (str, int, float)) or isinstance(name, bool):
            errors["name"] = ["Not a valid string."]
        elif len(str(name)) > 512:
            errors["name"] = ["Ensure this field has no more than 512 characters."]
        else:
            out["name"] = str(name)
    for key in ("description", *TOP_STRINGS):
        if key in body:
            value = body[key]
            if value is None:
                errors[key] = ["This field may not be null."]
            elif not isinstance(value, str) or isinstance(value, bool):
                errors[key] = ["Not a valid string."]
            elif not value.strip():
                errors[key] = ["This field may not be blank."]
            else:
                out[key] = value
    for key, target in (("organization", "organization"), ("inventory", "inventory")):
        if body.get(key) not in (None, ""):
            try:
                pk = _id(body[key])
                if ctx.store.get(ctx.registry[target].table, pk) is None:
                    raise FieldError(f'Invalid pk "{pk}" - object does not exist.')
                out[key] = pk
            except FieldError as exc:
                errors[key] = [str(exc)]
        elif key == "inventory" and key in body:
            errors[key] = ["This field may not be null."]
    if body.get("extra_vars") not in (None, ""):
        try:
            extra = parse_vars(body["extra_vars"])
            out["extra_vars"] = extra if isinstance(extra, dict) else {}
        except VarsError as exc:
            errors["extra_vars"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return out


def _nodes(ctx, body: dict) -> list[dict]:
    if "jobs" not in body:
        raise ValidationError({"jobs": ["This field is required."]})
    given = body["jobs"]
    if not isinstance(given, list):
        raise ValidationError({"jobs": [f'Expected a list of items but got type "{type(given).__name__}".']})
    if not given:
        raise ValidationError({"jobs": ["This list may not be empty."]})
    checked = [_node(ctx, entry) for entry in given]
    if any(errors for _values, errors in checked):
        raise ValidationError({"jobs": [errors for _values, errors in checked]})
    return [values for values, _errors in checked]


def _check_nodes(ctx, nodes: list[dict]) -> None:
    """AWX's request-wide checks of ``jobs``: the limit, unique identifiers (a node without
    one gets a uuid)."""
    if len(nodes) > int(ctx.settings.BULK_JOB_MAX_LAUNCH):
        raise _refuse("Number of requested jobs exceeds system setting BULK_JOB_MAX_LAUNCH")
    identifiers: set[str] = set()
    for node in nodes:
        if node.get("identifier"):
            if node["identifier"] in identifiers:
                raise _refuse(f"Identifier {node['identifier']} not unique")
            identifiers.add(node["identifier"])
        else:
            node["identifier"] = str(uuid.uuid4())


def _denied(ids: set[int]) -> str:
    return "{" + ", ".join(str(i) for i in sorted(ids)) + "}"


def _check_templates(ctx, nodes: list[dict]) -> None:
    wanted = {n["unified_job_template"] for n in nodes}
    kinds = wq.template_kinds(ctx.store, wl.template_tables(ctx), wanted)
    missing = wanted - set(kinds)
    if missing:
        raise _refuse(f"Unified Job Templates {_denied(missing)} not found or you don't have permissions to "
                      "access it")
    refused_kinds = sorted({kind for kind, _row in kinds.values() if kind not in KINDS})
    if refused_kinds:
        names = " ".join(ctx.registry[k].verbose_name.title() for k in refused_kinds)
        raise _refuse(f"Template types {names} not allowed in bulk jobs")
    by_kind: dict[str, set[int]] = {}
    for pk, (kind, _row) in kinds.items():
        by_kind.setdefault(kind, set()).add(pk)
    for kind, ids in sorted(by_kind.items()):
        role, plural = KINDS[kind]
        denied = {pk for pk in ids if not _may_launch(ctx, kind, kinds[pk][1], role)}
        if denied:
            raise _refuse(f"{plural} {_denied(denied)} not found or you don't have permissions to access it")


def _may_launch(ctx, kind: str, row: dict, role: str) -> bool:
    if kind == "inventory_source":   # Turret keeps an inventory source's update role on its inventory
        return access.holds(ctx, "inventory", row.get("inventory"), role)
    return access.holds(ctx, kind, row["id"], role)


def _check_organization(ctx, top: dict) -> None:
    """AWX: a user who is not a superuser launches in one of their organizations."""
    if ctx.is_superuser:
        return
    mine = bq.member_organizations(ctx.store, ctx.effective_roles())
    if top.get("organization") is None:
        if len(mine) == 1:
            top["organization"] = mine[0]
        elif mine:
            raise _refuse("User has permission to multiple Organizations, please set one of them in the request")
        else:
            raise _refuse("User not part of any organization, please assign an organization to assign to the "
                          "bulk job")
    elif top["organization"] not in mine:
        raise _refuse(f"Organization {top['organization']} not found or you don't have permissions to access it")


def _check_related(ctx, top: dict, nodes: list[dict]) -> None:
    for key, (resource, role, plural) in RELATED.items():
        ids: set[int] = set()
        for node in nodes:
            value = node.get(key)
            ids.update(value if isinstance(value, list) else [value] if value else [])
        if key == "inventory" and top.get("inventory"):
            ids.add(top["inventory"])
        if not ids:
            continue
        res = ctx.registry.get(resource)
        if res is None:
            denied = ids
        elif role:
            denied = {pk for pk in ids if not ctx.store.get(res.table, pk) or not access.holds(ctx, resource, pk, role)}
        else:
            denied = {pk for pk in ids if not ctx.store.get(res.table, pk) or
                      not access.can_read(ctx, res, {"id": pk})}
        if denied:
            raise _refuse(f"{plural} {_denied(denied)} not found or you don't have permissions to access it")


def _job_values(ctx, top: dict) -> dict:
    """The row of the bulk workflow job (pending; started by the caller)."""
    now = now_iso()
    extra = top.get("extra_vars") or {}
    values = wl.defaults_of(ctx, "workflow_job")
    values.update({k: top[k] for k in ("inventory", *TOP_STRINGS) if k in top})
    values.update({
        "name": top["name"], "description": top.get("description", ""), "workflow_job_template": None,
        "unified_job_template": None, "launch_type": "manual", "status": "pending", "failed": False,
        "extra_vars": json.dumps(extra) if extra else "", "launch_prompts": {"extra_vars": extra},
        "is_bulk_job": True, "organization": top.get("organization"),
        "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "",
        "created": now, "modified": now, "created_by": ctx.user_id, "modified_by": ctx.user_id,
    })
    res = ctx.registry["workflow_job"]
    return {k: v for k, v in values.items() if res.field(k) is not None and res.field(k).stored}


def _insert_nodes(ctx, pk: int, nodes: list[dict]) -> None:
    base = wl.defaults_of(ctx, "workflow_job_node")
    job_node = ctx.registry["workflow_job_node"]
    now = now_iso()
    for node in nodes:
        values = {**base, **{k: v for k, v in node.items() if k not in NODE_LISTS},
                  "workflow_job": pk, "job": None, "do_not_run": False, "created": now, "modified": now}
        node_id = wq.insert_job_node(ctx.store, {k: v for k, v in values.items() if job_node.field(k) is not None})
        if node.get("credentials"):
            wq.link_credentials(ctx.store, node_id, node["credentials"])
        if node.get("labels"):
            wq.link(ctx.store, "workflow_job_node_labels", "workflow_job_node_id", "label_id", node_id,
                    node["labels"])


def launch(ctx, body: Any) -> dict:
    """POST ``/bulk/job_launch/``: validate everything (module doc), then create the bulk
    workflow job with its nodes and start it; returns the workflow job row."""
    require_object(body)
    nodes = _nodes(ctx, body)
    top = _top(ctx, body)
    _check_nodes(ctx, nodes)
    _check_templates(ctx, nodes)
    _check_organization(ctx, top)
    _check_related(ctx, top, nodes)
    with ctx.store.transaction():
        pk = control.create_job(ctx, "workflow_job", _job_values(ctx, top))
        _insert_nodes(ctx, pk, nodes)
        started = wq.start(ctx.store, pk)
    if started:
        control.job_started(ctx, "workflow_job", pk)
    engine.advance(ctx, pk)
    return ctx.store.get("workflow_jobs", pk)

"""What a workflow job is launched with: the ``GET launch/`` body, the prompts a launch may set
(AWX's WorkflowJobTemplate launch serializer), the survey, the workflow job row, and its nodes
instantiated from the template's *current* graph (orchestration.md §2.1, §2.4, §2.6).

Contracts:
  * Prompts: ``extra_vars`` (ask_variables_on_launch, or a survey variable), ``inventory``,
    ``limit``, ``scm_branch``, ``job_tags``, ``skip_tags``, ``labels``, each behind its ask
    flag; a value equal to the template's is neither accepted nor ignored, one the template
    does not ask for is ignored (``ignored_fields``), never an error.  Accepted labels are
    added to the template's (AWX: labels are additive), never put in their place.  ``trusted`` launches
    (nested workflows, relaunches) take every value as given.
  * Survey answers are validated as a job template's; passwords are kept encrypted in
    ``secret_vars`` and shown as ``$encrypted$``.
  * Nothing here runs SQL by hand or starts a job: it builds rows for the engine.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..prompts import BY_KEY, NO_INVENTORY
from ..registry import ENCRYPTED
from ..services import surveys
from ..services.variables import VarsError, parse_vars
from ..store import instances as igq
from ..store import now_iso
from ..store import workflows as wq
from .node_launch import NODE_PROMPTS, given

PROMPT_KEYS = ("inventory", "limit", "scm_branch", "job_tags", "skip_tags", "labels")
ASK_FLAGS = ("ask_variables_on_launch", "ask_inventory_on_launch", "ask_limit_on_launch", "ask_scm_branch_on_launch",
             "ask_labels_on_launch", "ask_skip_tags_on_launch", "ask_tags_on_launch")
# template node columns that are not copied to a job node
_NOT_COPIED = {"id", "workflow_job_template", "created", "modified", "created_by", "modified_by"}


def spec_of(wfjt: dict) -> dict:
    return surveys.stored_spec(wfjt) if wfjt.get("survey_enabled") else {}


def defaults_of(ctx, name: str) -> dict:
    """Every stored field of resource ``name`` at its declared default (a fresh copy; a callable
    default, such as a node identifier's uuid, is called)."""
    return {f.name: f.default() if callable(f.default) else json.loads(json.dumps(f.default))
            for f in ctx.registry[name].stored_fields if f.name != "id"}


def template_labels(ctx, wfjt_id: int) -> list[int]:
    return wq.linked(ctx.store, "workflow_job_template_labels", "workflow_job_template_id", "label_id", wfjt_id)


def _prompts_rejected(ctx, nodes: list[dict], kinds: dict[int, tuple[str, dict]]) -> list[int]:
    """Template nodes holding a prompt their job template does not ask for (AWX's list)."""
    rejected = []
    for node in nodes:
        kind, template = kinds.get(node["unified_job_template"], ("", {}))
        if kind != "job_template":
            continue
        if any(given(node.get(k)) and not template.get(BY_KEY[k].ask_flag) for k in NODE_PROMPTS):
            rejected.append(node["id"])
    return rejected


def launch_info(ctx, wfjt: dict) -> dict:
    """The ``GET /workflow_job_templates/N/launch/`` body (needs the template's execute_role)."""
    access.require(access.holds(ctx, "workflow_job_template", wfjt["id"], "execute_role"))
    spec = spec_of(wfjt)
    nodes = wq.template_nodes(ctx.store, wfjt["id"])
    kinds = wq.template_kinds(ctx.store, template_tables(ctx), [n["unified_job_template"] for n in nodes])
    inventory = ctx.store.get("inventories", wfjt["inventory"]) if wfjt.get("inventory") else None
    labels = ctx.store.get_many("labels", template_labels(ctx, wfjt["id"]), "id, name")
    asks = {flag: bool(wfjt.get(flag)) for flag in ASK_FLAGS}
    needed = surveys.variables_needed(spec) if spec else []
    return {
        **asks, "can_start_without_user_input": not any(asks.values()) and not needed,
        "survey_enabled": bool(spec.get("spec")), "variables_needed_to_start": needed,
        "node_templates_missing": [n["id"] for n in nodes if n.get("unified_job_template") not in kinds],
        "node_prompts_rejected": _prompts_rejected(ctx, nodes, kinds),
        "workflow_job_template_data": {"name": wfjt["name"], "id": wfjt["id"],
                                       "description": wfjt.get("description", "")},
        "defaults": {"extra_vars": wfjt.get("extra_vars") or "",
                     "inventory": ({"name": inventory["name"], "id": inventory["id"]} if inventory
                                   else dict(NO_INVENTORY)),
                     "limit": wfjt.get("limit"), "scm_branch": wfjt.get("scm_branch"),
                     "job_tags": wfjt.get("job_tags"), "skip_tags": wfjt.get("skip_tags"),
                     # AWX's get_defaults lists the labels only when the template has some
                     **({"labels": [{"id": r["id"], "name": r["name"]} for r in labels.values()]} if labels else {})},
    }


def template_tables(ctx) -> dict[str, str]:
    """{template resource: table} of everything a node may run."""
    return {name: ctx.registry[name].table for name in ctx.registry.unified_templates()}


def _check_prompt(ctx, key: str, value: Any, trusted: bool) -> Any:
    """A prompt's value checked for its type (400) and, for an inventory, the launcher's use role."""
    if key == "labels":
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValidationError({key: ["Expected a list of ids."]})
        return value
    if key == "inventory":
        if isinstance(value, bool) or not isinstance(value, int) or ctx.store.get("inventories", value) is None:
            raise ValidationError({key: [f'Invalid pk "{value}" - object does not exist.']})
        if not trusted and not access.holds(ctx, "inventory", value, "use_role"):
            raise PermissionDenied()
        return value
    if value is not None and not isinstance(value, str):
        raise ValidationError({key: ["Not a valid string."]})
    return value


def split_prompts(ctx, wfjt: dict, body: dict, trusted: bool) -> tuple[dict, dict]:
    """(accepted, ignored) prompts of a launch body, extra_vars aside."""
    accepted: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    for key in PROMPT_KEYS:
        if key not in body:
            continue
        value = _check_prompt(ctx, key, body[key], trusted)
        if key == "labels":
            same = sorted(value) == template_labels(ctx, wfjt["id"])
        else:
            same = value == wfjt.get(key)
        if same:
            continue
        if trusted or wfjt.get(BY_KEY[key].ask_flag):
            accepted[key] = value
        else:
            ignored[key] = body[key]
    return accepted, ignored


def split_vars(ctx, wfjt: dict, body: dict, trusted: bool) -> tuple[dict, dict, dict]:
    """(runtime vars, secret vars, ignored vars) of a launch: survey defaults, then answers
    (validated unless trusted), with survey passwords moved to the secret vars."""
    raw = body.get("extra_vars")
    try:
        given_vars = parse_vars(raw) if raw not in (None, "") else {}
    except VarsError as exc:
        raise ValidationError({"extra_vars": [str(exc)]}) from None
    spec = spec_of(wfjt)
    survey_vars = set(surveys.pivot(spec)) if spec else set()
    if trusted or wfjt.get("ask_variables_on_launch"):
        runtime, ignored = dict(given_vars), {}
    else:
        runtime = {k: v for k, v in given_vars.items() if k in survey_vars}
        ignored = {k: v for k, v in given_vars.items() if k not in survey_vars}
    secret = dict(body.get("secret_vars") or {}) if trusted else {}
    if spec:
        runtime, passwords = surveys.answer(spec, runtime, ctx.vault.decrypt, validate=not trusted)
        secret.update(passwords)
    return runtime, secret, ignored


def _pending_row(ctx, launch_type: str, fill: Callable[[dict], None], extra_fields: dict | None = None) -> dict:
    """A new (pending) workflow job's row launched by ctx's user: the declared defaults,
    ``fill(values)`` applied to them, then the launch's own fields and ``extra_fields`` (who
    or what launched it, its schedule ...); only stored fields."""
    now = now_iso()
    values = defaults_of(ctx, "workflow_job")
    fill(values)
    values.update({"launch_type": launch_type, "status": "pending", "failed": False,
                   "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "",
                   "created": now, "modified": now, **(extra_fields or {})})
    for key in ("created_by", "modified_by"):
        if key in values:
            values[key] = ctx.user_id
    res = ctx.registry["workflow_job"]
    return {k: v for k, v in values.items() if res.field(k) is not None and res.field(k).stored}


def job_values(ctx, wfjt: dict, accepted: dict, runtime: dict, secret: dict, launch_type: str,
               extra_fields: dict) -> dict:
    """The row of a new (pending) workflow job of ``wfjt``."""
    base = parse_vars(wfjt.get("extra_vars") or "") if wfjt.get("extra_vars") else {}
    shown = {**base, **runtime, **{k: ENCRYPTED for k in secret}}

    def fill(values: dict) -> None:
        values.update({k: wfjt.get(k) for k in ("inventory", "limit", "scm_branch", "job_tags", "skip_tags",
                                                "allow_simultaneous", "webhook_service", "webhook_credential")
                       if k in values})
        values.update({k: v for k, v in accepted.items() if k in values and k != "labels"})
        values.update({
            "name": wfjt["name"], "description": wfjt.get("description", ""), "workflow_job_template": wfjt["id"],
            "unified_job_template": wfjt["id"], "extra_vars": json.dumps(shown) if shown else "",
            "launch_prompts": {**accepted, "extra_vars": runtime},
            "secret_vars": ctx.vault.encrypt(json.dumps(secret)) if secret else "",
        })
    return _pending_row(ctx, launch_type, fill, extra_fields)


# what a copied workflow job keeps of the original: the fields AWX copies for a relaunch
# (``_get_unified_job_field_names``), with the launch's own record of its prompts and secrets
COPIED = ("name", "description", "organization", "extra_vars", "secret_vars", "launch_prompts", "inventory", "limit",
          "scm_branch", "job_tags", "skip_tags", "allow_simultaneous", "execution_environment", "is_bulk_job")


def copy_values(ctx, old: dict) -> dict:
    """The row of a new (pending) relaunch of workflow job ``old``, which has no template."""
    return _pending_row(ctx, "relaunch", lambda values: values.update(
        {k: old.get(k) for k in COPIED if k in values}))


def failed_values(ctx, wfjt: dict, reason: str, launch_type: str, extra_fields: dict, status: str) -> dict:
    """The row of a workflow job that never ran: ended at once with ``reason``."""
    values = job_values(ctx, wfjt, {}, {}, {}, launch_type, extra_fields)
    values.update({"status": status, "failed": True, "finished": now_iso(), "job_explanation": reason})
    if "event_processing_finished" in values:
        values["event_processing_finished"] = True
    return values


def instantiate(ctx, wfjt_id: int, workflow_job_id: int, carried: dict[str, dict] | None = None) -> None:
    """The workflow job's nodes, edges, node credentials, labels and instance groups, copied from the
    template's current graph.  ``carried`` {identifier: old job node}: those nodes keep the old node's job and
    artifacts (relaunch from failed nodes)."""
    nodes = wq.template_nodes(ctx.store, wfjt_id)
    _copy_graph(ctx, "workflow_job_template_node", nodes, wq.template_edges(ctx.store, wfjt_id), workflow_job_id,
                carried)


def copy_nodes(ctx, old_workflow_job_id: int, workflow_job_id: int, carried: dict[str, dict] | None = None) -> None:
    """The nodes of another workflow job, with their edges, credentials, labels and instance groups
    (AWX's ``copy_nodes_from_original``: the relaunch of a workflow job that has no template);
    ``carried`` as for :func:`instantiate`."""
    nodes = wq.job_nodes(ctx.store, old_workflow_job_id)
    _copy_graph(ctx, "workflow_job_node", nodes, wq.job_edges(ctx.store, old_workflow_job_id), workflow_job_id,
                carried)


def _copy_graph(ctx, source: str, nodes: list[dict], edges: list[tuple[int, int, str]], workflow_job_id: int,
                carried: dict[str, dict] | None) -> None:
    """New job nodes of ``workflow_job_id`` made from ``nodes`` of resource ``source`` (a
    template's nodes or another job's): what a template node declares is copied, the run state
    (job, do-not-run, artifacts, attempts) starts afresh unless the node is ``carried``."""
    store = ctx.store
    ids = [n["id"] for n in nodes]
    creds = wq.template_node_links(store, f"{source}_credentials", f"{source}_id", ids)
    labels = wq.template_node_links(store, f"{source}_labels", f"{source}_id", ids)
    job_node = ctx.registry["workflow_job_node"]
    base = defaults_of(ctx, "workflow_job_node")
    declared = {f.name for f in ctx.registry["workflow_job_template_node"].stored_fields} - _NOT_COPIED
    now = now_iso()
    mapping: dict[int, int] = {}
    for node in nodes:
        values = dict(base)
        values.update({k: v for k, v in node.items() if k in declared and k in base})
        values.update({"workflow_job": workflow_job_id, "job": None, "do_not_run": False, "created": now,
                       "modified": now})
        old = (carried or {}).get(node["identifier"])
        if old is not None:
            values.update({"job": old["job"], "ancestor_artifacts": old.get("ancestor_artifacts") or {},
                           "attempts": old.get("attempts") or 1})
        values = {k: v for k, v in values.items() if job_node.field(k) is not None}
        mapping[node["id"]] = wq.insert_job_node(store, values)
        if creds.get(node["id"]):
            wq.link_credentials(store, mapping[node["id"]], creds[node["id"]])
        if labels.get(node["id"]):   # a node's labels are its prompt (AWX create_workflow_job_node)
            wq.link(store, "workflow_job_node_labels", "workflow_job_node_id", "label_id", mapping[node["id"]],
                    labels[node["id"]])
        igq.copy_groups(store, source, node["id"], "workflow_job_node", mapping[node["id"]])
    by_kind: dict[str, list[tuple[int, int]]] = {}
    for parent, child, kind in edges:
        if parent in mapping and child in mapping:
            by_kind.setdefault(kind, []).append((mapping[parent], mapping[child]))
    for kind, pairs in by_kind.items():
        wq.insert_edges(store, kind, pairs)

"""Workflow job template nodes (AWX §7.2 "Nodes"): one step of a workflow graph, running a
unified job template (job template, project, inventory source, workflow job template or
approval template: one id space) with its own prompts, linked to other nodes by
success / failure / always edges.

Contracts:
  * Prompt fields are null when not given (``""`` is a value); a value is accepted only where
    the node's template asks for that prompt (AWX: "Field is not configured to prompt on
    launch."); Turret's overrides (start_at_task, force_handlers, become_enabled) and
    ``extra_data`` are not tied to a flag (the engine decides where they apply).
  * Creating or changing a node needs admin of its workflow job template, use of its
    template (execute a JT/WFJT, update a project or an inventory source's inventory, read an
    approval template) and of a prompted inventory.  Read follows the workflow job template.
  * ``identifier`` (default a UUID4) is unique per workflow job template.
  * Edges join nodes of one workflow job template, never close a cycle, and a pair of nodes is
    linked by one edge type at most (AWX's messages).
"""
from __future__ import annotations

import uuid
from typing import Any, Sequence

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..prompts import PROMPTS
from ..registry import Field, Registry, Relation, Resource
from ..services import crud, validation
from ..store import now_iso
from ..store import workflow_templates as wfq
from .labels import labels_relation
from .unified import VERBOSITY

NODE = "workflow_job_template_node"
NODES_TABLE = "workflow_job_template_nodes"
EDGE_TYPES = wfq.EDGE_TYPES
UNIQUE_IDENTIFIER = "The fields identifier, workflow_job_template must make a unique set."
NOT_PROMPTED = "Field is not configured to prompt on launch."
# Node fields that are launch prompts (checked against the template's ask flags).
PROMPT_FIELDS = {p.key: p.ask_flag for p in PROMPTS if not p.list_of_ids and p.key != "extra_vars"}
# Values that change nothing, accepted whatever the template asks (awx.awx sends job_slice_count=1).
NEUTRAL = {"job_slice_count": 1}
# What a node may run, and the role on it (or on ``via``) that lets a user put it in a workflow.
USE_ROLES = {"job_template": ("execute_role", None), "workflow_job_template": ("execute_role", None),
             "project": ("update_role", None), "inventory_source": ("update_role", "inventory")}


def node_fields(read_only: bool) -> list[Field]:
    """The fields every node has (template nodes write them; workflow job nodes copy them)."""
    kw: dict[str, Any] = dict(null=True, default=None, read_only=read_only)
    return [
        Field("extra_data", "json", default={}, read_only=read_only, prevent_search=True),
        Field("inventory", "id", fk="inventory", on_delete="set_null",
              help_text="Inventory applied as a prompt, assuming job template prompts for inventory", **kw),
        Field("scm_branch", "string", max_length=1024, **kw),
        Field("job_type", "choice", choices=[("run", "Run"), ("check", "Check")], **kw),
        Field("job_tags", "string", max_length=1024, **kw),
        Field("skip_tags", "string", max_length=1024, **kw),
        Field("limit", "text", **kw),
        Field("diff_mode", "boolean", **kw),
        Field("verbosity", "choice", choices=VERBOSITY, **kw),
        Field("execution_environment", "id", fk="execution_environment", on_delete="set_null",
              help_text="The container image to be used for execution.", **kw),
        Field("forks", "integer", min_value=0, max_value=2147483647, **kw),
        Field("job_slice_count", "integer", min_value=0, max_value=2147483647, **kw),
        Field("timeout", "integer", min_value=0, max_value=2147483647, **kw),
        Field("start_at_task", "string", max_length=512, help_text="Turret: start the play at this task.", **kw),
        Field("force_handlers", "boolean", help_text="Turret: run handlers even after a failure.", **kw),
        Field("become_enabled", "boolean", help_text="Turret: run with privilege escalation.", **kw),
        Field("max_retries", "integer", default=0, min_value=0, max_value=100, read_only=read_only,
              help_text="Turret: how many times a failed job of this node is launched again."),
        Field("retry_delay", "integer", default=0, min_value=0, max_value=86400, read_only=read_only,
              help_text="Turret: seconds to wait before a retry."),
    ]


def graph_fields() -> list[Field]:
    """What ties a node into its graph (template and job nodes alike)."""
    return [
        Field("unified_job_template", "integer", null=True, default=None,
              help_text="The job template, project, inventory source, workflow job template or approval "
                        "template this node runs."),
        *[Field(edge, "json", stored=False, read_only=True) for edge in EDGE_TYPES],
        Field("all_parents_must_converge", "boolean", default=False,
              help_text="If enabled then the node will only run if all of the parent nodes have met the "
                        "criteria to reach this node"),
        Field("identifier", "string", max_length=512, default=lambda: str(uuid.uuid4()), index=True,
              help_text="An identifier for this node that is unique within its workflow. It is copied to "
                        "workflow job nodes corresponding to this node."),
    ]


# -- the template a node runs -----------------------------------------------------------------
def find_templates(ctx, ids: Sequence[int | None]) -> dict[int, tuple[str, dict]]:
    """``{id: (resource name, row)}`` for unified job template ids (any kind; None skipped)."""
    out: dict[int, tuple[str, dict]] = {}
    wanted = {i for i in ids if i is not None}
    for name in ctx.registry.unified_templates():
        if not wanted:
            break
        rows = ctx.store.get_many(ctx.registry[name].table, list(wanted))
        out.update({pk: (name, row) for pk, row in rows.items()})
        wanted -= set(rows)
    return out


def template_of(ctx, pk: int | None) -> tuple[str, dict] | None:
    """(resource name, row) of unified job template ``pk``, or None."""
    return find_templates(ctx, [pk]).get(pk) if pk is not None else None


def may_use_template(ctx, kind: str, row: dict) -> bool:
    """Whether the user may put template ``row`` (of resource ``kind``) in a workflow."""
    if ctx.is_superuser:
        return True
    if kind == "workflow_approval_template":   # readable, or new (create_approval_template hands it over)
        return access.can_read(ctx, ctx.registry[kind], row) or not wfq.workflow_templates_using(ctx.store, row["id"])
    role, via = USE_ROLES.get(kind, ("admin_role", None))
    if via:
        return access.holds(ctx, ctx.registry[kind].field(via).fk, row.get(via), role)
    return access.holds(ctx, kind, row["id"], role)


def _check_prompts(ctx, merged: dict, kind: str, template: dict) -> None:
    """Prompt values only where the template asks, or equal to the template's own value (AWX
    _accept_or_ignore_job_kwargs: clients send the template's values back)."""
    errors = {}
    res = ctx.registry[kind]
    for key, flag in PROMPT_FIELDS.items():
        value = merged.get(key)
        if value is None or NEUTRAL.get(key, object()) == value:
            continue
        asks = res.field(flag) is not None and template.get(flag)
        own = res.field(key) is not None and template.get(key) == (int(value) if isinstance(value, bool) else value)
        if not (asks or own):
            errors[key] = [NOT_PROMPTED]
    if errors:
        raise ValidationError(errors)


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    if "identifier" in values and not values["identifier"]:
        raise ValidationError({"identifier": ["This field may not be blank."]})
    if "unified_job_template" in values and values["unified_job_template"] is not None:
        found = template_of(ctx, values["unified_job_template"])
        if found is None:
            raise ValidationError({"unified_job_template": [
                f'Invalid pk "{values["unified_job_template"]}" - object does not exist.']})
        # only a new template needs its use: re-sending the current one (a client's idempotent PUT) does not
        if values["unified_job_template"] != (existing or {}).get("unified_job_template") \
                and not may_use_template(ctx, *found):
            raise PermissionDenied()
    if existing is not None and not ctx.is_superuser and "inventory" in values \
            and values["inventory"] != existing.get("inventory") and values["inventory"] is not None \
            and not access.holds(ctx, "inventory", values["inventory"], "use_role"):
        raise PermissionDenied()
    current = template_of(ctx, merged.get("unified_job_template"))
    if current is not None:   # AWX: a node without a template takes any prompt (checked once it gets one)
        _check_prompts(ctx, merged, *current)
    if ctx.store.exists(NODES_TABLE, "identifier = ? AND workflow_job_template = ? AND id != ?",
                        [merged.get("identifier"), merged.get("workflow_job_template"), merged.get("id") or 0]):
        raise ValidationError({"non_field_errors": [UNIQUE_IDENTIFIER]})


def _can_create(ctx, values: dict) -> bool:
    """Admin of the workflow job template, use of the template run and the inventory prompted."""
    if ctx.is_superuser:
        return True
    if not access.holds(ctx, "workflow_job_template", values.get("workflow_job_template"), "admin_role"):
        return False
    if values.get("inventory") is not None and not access.holds(ctx, "inventory", values["inventory"], "use_role"):
        return False
    found = template_of(ctx, values.get("unified_job_template"))
    return found is None or may_use_template(ctx, *found)


def _can_change(ctx, row: dict) -> bool:
    return access.holds(ctx, "workflow_job_template", row.get("workflow_job_template"), "admin_role")


def _visibility(ctx):
    vis = access.visibility(ctx, ctx.registry["workflow_job_template"])
    if vis is None:
        return None
    return f'workflow_job_template IN (SELECT id FROM "workflow_job_templates" WHERE {vis[0]})', vis[1]


# -- edges ------------------------------------------------------------------------------------
def _reaches(edges: list[tuple[int, int, str]], start: int, goal: int) -> bool:
    """Is ``goal`` reachable from ``start`` along ``edges``?"""
    children: dict[int, list[int]] = {}
    for parent, child, _edge in edges:
        children.setdefault(parent, []).append(child)
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(children.get(node, []))
    return False


def edge_validator(edge: str):
    """``validate_association`` of one edge type: same workflow, no cycle, one type per pair."""
    def validate(ctx, parent: dict, child: dict, on: bool) -> None:
        if not on:
            return
        if parent["workflow_job_template"] != child["workflow_job_template"]:
            raise APIError({"Error": "Cannot associate nodes of different workflow job templates."})
        edges = wfq.graph_edges(ctx.store, NODE, "workflow_job_template", parent["workflow_job_template"],
                                NODES_TABLE)
        if any(p == parent["id"] and c == child["id"] for p, c, e in edges if e == edge):
            return   # already linked this way: nothing changes
        if parent["id"] == child["id"] or _reaches(edges, child["id"], parent["id"]):
            raise APIError({"Error": "Cycle detected."})
        if any({p, c} == {parent["id"], child["id"]} for p, c, _e in edges):
            raise APIError({"Error": "Relationship not allowed."})
    return validate


def prompt_list_validator(prompt: str, flag: str):
    """``validate_association`` of a node's credentials: prompts of the node's template (AWX
    LaunchConfigCredentialsBase.is_valid_relation), a credential needs its use.  (Labels are not
    checked: AWX's node ``labels/`` is a plain label sub-list, see labels.labels_relation.)"""
    def validate(ctx, node: dict, child: dict, on: bool) -> None:
        if not on:
            return
        if prompt == "credentials" and not access.holds(ctx, "credential", child["id"], "use_role"):
            raise PermissionDenied()
        found = template_of(ctx, node.get("unified_job_template"))
        if found is None or ctx.registry[found[0]].field(flag) is None:
            raise APIError({"msg": f"Related template cannot accept {prompt} on launch."})
        if not found[1].get(flag):
            raise APIError({"msg": f"Related template is not configured to accept {prompt} on launch."})
    return validate


# -- output -----------------------------------------------------------------------------------
def template_summaries(ctx, ids: Sequence[int | None]) -> dict[int, dict]:
    """``summary_fields.unified_job_template`` {id, name, description, unified_job_type} by id."""
    out = {}
    for pk, (kind, row) in find_templates(ctx, ids).items():
        job_kind = ctx.registry.unified_job_of(kind)
        out[pk] = {"id": pk, "name": row.get("name"), "description": row.get("description", ""),
                   "unified_job_type": job_kind.resource if job_kind else kind}
    return out


def template_url(ctx, pk: int | None) -> str | None:
    found = template_of(ctx, pk)
    return ctx.registry[found[0]].url(pk) if found else None


def node_compute(prefix: str):
    """``compute`` of a node kind: its child id lists per edge type."""
    def compute(ctx, rows: list[dict]) -> dict[int, dict]:
        return wfq.children_of(ctx.store, prefix, [r["id"] for r in rows])
    return compute


def node_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    found = template_summaries(ctx, [r["unified_job_template"] for r in rows])
    return {r["id"]: {"unified_job_template": found[r["unified_job_template"]]}
            for r in rows if r.get("unified_job_template") in found}


def node_related(ctx, row: dict, detail: bool) -> dict:
    url = template_url(ctx, row.get("unified_job_template"))
    return {"unified_job_template": url} if url else {}


# -- services ---------------------------------------------------------------------------------
def create_approval_template(ctx, node: dict, body: Any) -> dict:
    """``POST …/create_approval_template/``: a new approval template run by ``node`` (the
    node's admin may; its template is replaced).  Returns the approval template row."""
    access.require(_can_change(ctx, node))
    res = ctx.registry["workflow_approval_template"]
    with ctx.store.transaction():
        values = validation.clean(ctx, res, body, None, partial=False)
        template = crud.insert_trusted(ctx, res, values)
        crud.update(ctx, ctx.registry[NODE], node, {"unified_job_template": template["id"]}, partial=True)
    return template


def copy_graph(ctx, source_wfjt: int, target_wfjt: int) -> None:
    """Copy every node of ``source_wfjt`` (its edges, credentials and labels) into
    ``target_wfjt``; a template the copier may not use is dropped (AWX)."""
    res = ctx.registry[NODE]
    nodes = ctx.store.rows_referencing(NODES_TABLE, "workflow_job_template", source_wfjt)
    found = find_templates(ctx, [n["unified_job_template"] for n in nodes])
    mapping: dict[int, int] = {}
    for node in nodes:
        values = {f.name: node.get(f.name) for f in res.stored_fields}
        values["workflow_job_template"] = target_wfjt
        template = found.get(node["unified_job_template"])
        if template is None or not may_use_template(ctx, *template):
            values["unified_job_template"] = None
        now = now_iso()
        mapping[node["id"]] = ctx.store.insert(NODES_TABLE, {**values, "created": now, "modified": now,
                                                             "created_by": ctx.user_id, "modified_by": ctx.user_id})
        for rel in res.relations:
            if rel.kind == "m2m" and rel.name not in EDGE_TYPES:
                ctx.store.copy_links(*rel.key.split(":"), node["id"], mapping[node["id"]])
    wfq.copy_edges(ctx.store, NODE, mapping)


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name=NODE, plural=NODES_TABLE, common_fields=False,
        fields=node_fields(read_only=False) + [
            Field("workflow_job_template", "id", fk="workflow_job_template", required=True, create_only=True),
            *graph_fields(),
        ],
        ordering=("id",), search_fields=("identifier",), summary_keys=("id",),
        named_url=(("identifier",), ("workflow_job_template.name",), ("workflow_job_template.organization.name",)),
        relations=[
            *[Relation(edge, NODE, "m2m", key=f"{wfq.edge_table(NODE, edge)}:parent_id:child_id", create=True,
                       inherit=("workflow_job_template",), validate_association=edge_validator(edge))
              for edge in EDGE_TYPES],
            Relation("credentials", "credential", "m2m",
                     key="workflow_job_template_node_credentials:workflow_job_template_node_id:credential_id",
                     validate_association=prompt_list_validator("credentials", "ask_credential_on_launch")),
            # AWX checks no prompt flag here: a launch ignores the labels of a node whose template
            # does not ask for them (workflows.node_launch.labels_for)
            labels_relation("workflow_job_template_node_labels:workflow_job_template_node_id:label_id"),
        ],
        actions=("create_approval_template",),
        create_role=None, can_create=_can_create, can_change=_can_change, visibility=_visibility, may_add=access.anyone,
        validate=_validate, compute=node_compute(NODE), extra_summary=node_summary, extra_related=node_related,
        capabilities=("edit", "delete"),
    ))

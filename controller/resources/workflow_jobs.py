"""Workflow jobs, their nodes, approvals and approval votes: the runtime side of workflows
(AWX §7.2 "Workflow jobs", orchestration §2.1, §2.5), all read-only through the API.

Contracts:
  * Workflow jobs and approvals are unified-job kinds that run no process (``prepare`` None):
    the engine (:mod:`controller.workflows`) starts, moves and ends them; its job-end and tick
    hooks are registered here.
  * Read access follows the workflow job template: a workflow job is visible to readers of its
    template and to its launcher; its nodes follow the workflow job; an approval follows the
    workflow job that spawned it; a vote follows its approval.
  * Cancel: the launcher or an admin of the template; delete: a workflow admin of the
    template's organization (AWX WorkflowJobAccess).
  * Every job a workflow spawned shows ``summary_fields.source_workflow_job``, and
    ``?unified_job_node__workflow_job=N`` lists the jobs of workflow job N (the awx CLI monitor).
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..query import parse_int64
from ..registry import Field, Registry, Relation, Resource, UnifiedJob
from ..store import rbac
from ..webhooks import fields as webhook_fields
from ..store import workflow_templates as wfq
from ..workflows import approvals, engine
from . import workflow_nodes
from .unified import (launched_by, launcher_or_admin, refuse_running_delete, template_job_visibility,
                      unified_job_fields)

NODE_FILTER = "unified_job_node__workflow_job"
JOB_NODE = "workflow_job_node"

WORKFLOW_JOB = UnifiedJob(template="workflow_job_template", template_fk="workflow_job_template", prepare=None,
                          start=engine.start_workflow, record_failure=engine.record_failed_launch, cancel=engine.cancel,
                          run_role="execute_role", admin=("workflow_job_template", "workflow_job_template"),
                          launcher_may_change=True)
APPROVAL = UnifiedJob(template="workflow_approval_template", template_fk="workflow_approval_template", prepare=None,
                      run_role="admin_role")


# -- access -----------------------------------------------------------------------------------
# AWX WorkflowJobAccess: readers of the template, its launcher, admins and auditors of the
# template's organization.
_template_visibility = template_job_visibility("workflow_job_template", "workflow_job_template",
                                                org_of_template=True)


def _workflow_job_visibility(ctx):
    """As :data:`_template_visibility`, and a bulk job (no template) is also visible to the admins
    of the organization it was launched in (AWX WorkflowJobAccess)."""
    sql, params = _template_visibility(ctx)
    org_sql, org_params = rbac.fk_to_objects_with_roles_sql("organization", "organization", ("admin_role",),
                                                            ctx.effective_roles())
    return f"({sql}) OR (is_bulk_job = 1 AND {org_sql})", [*params, *org_params]


def _workflow_job_can_delete(ctx, row: dict) -> bool:
    wfjt = ctx.store.get("workflow_job_templates", row["workflow_job_template"]) \
        if row.get("workflow_job_template") else None
    if ctx.is_superuser:
        return True
    return wfjt is not None and access.holds(ctx, "organization", wfjt.get("organization"), "workflow_admin_role")


def _visible_through_workflow_jobs(column: str):
    """Visibility of rows whose ``column`` is a job some visible workflow job's node spawned
    (or, for job nodes, names the visible workflow job)."""
    def visibility(ctx):
        vis = access.visibility(ctx, ctx.registry["workflow_job"])
        if vis is None:
            return None
        jobs = f'workflow_job IN (SELECT id FROM "workflow_jobs" WHERE {vis[0]})'
        if column == "workflow_job":
            return jobs, vis[1]
        return f'"{column}" IN (SELECT job FROM "workflow_job_nodes" WHERE job IS NOT NULL AND {jobs})', vis[1]
    return visibility


def _approval_vote_visibility(ctx):
    vis = access.visibility(ctx, ctx.registry["workflow_approval"])
    if vis is None:
        return None
    return f'approval IN (SELECT id FROM "workflow_approvals" WHERE {vis[0]})', vis[1]


# -- output -----------------------------------------------------------------------------------
def _workflow_job_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = launched_by(ctx, rows)
    for r in rows:
        out[r["id"]]["type"] = "workflow_job"   # for other objects' summary_fields.job
    return out


def _workflow_job_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    wfjts = ctx.store.get_many("workflow_job_templates", [r["workflow_job_template"] for r in rows], "id, name, "
                                                                                                    "description")
    return {r["id"]: {"workflow_job_template": wfjts[r["workflow_job_template"]],
                      "unified_job_template": {**wfjts[r["workflow_job_template"]],
                                               "unified_job_type": "workflow_job"}}
            for r in rows if r.get("workflow_job_template") in wfjts}


def _job_node_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    out = workflow_nodes.node_summary(ctx, rows)
    found = job_briefs(ctx, [r["job"] for r in rows if r.get("job")])
    for r in rows:
        if r.get("job") in found:
            out.setdefault(r["id"], {})["job"] = found[r["job"]]
    return out


def _job_node_related(ctx, row: dict, detail: bool) -> dict:
    rel = workflow_nodes.node_related(ctx, row, detail)
    brief = job_briefs(ctx, [row["job"]]).get(row["job"]) if row.get("job") else None
    if brief:
        rel["job"] = ctx.registry[brief["type"]].url(row["job"])
    return rel


def job_briefs(ctx, ids: list[int]) -> dict[int, dict]:
    """``{job id: {id, name, description, status, failed, elapsed, type}}`` for unified jobs of any kind."""
    out: dict[int, dict] = {}
    wanted = set(ids)
    for kind in ctx.registry.unified_jobs():
        if not wanted:
            break
        rows = ctx.store.get_many(kind.table, list(wanted))   # "*": not every kind has a description
        out.update({pk: {"id": pk, "name": r.get("name", ""), "description": r.get("description", ""),
                         "status": r["status"], "failed": bool(r["failed"]), "elapsed": r["elapsed"],
                         "type": kind.resource} for pk, r in rows.items()})
        wanted -= set(rows)
    return out


def _approval_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = launched_by(ctx, rows)
    for r in rows:
        out[r["id"]].update(type="workflow_approval", approval_expiration=r.get("expires"),
                            can_approve_or_deny=r["status"] == "pending" and approvals.can_decide(ctx, r))
    return out


def _approval_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    out: dict[int, dict] = approvals.approved_or_denied_by(ctx, rows)
    sources = wfq.spawning_workflow_jobs(ctx.store, [r["id"] for r in rows])
    for r in rows:
        s = out.setdefault(r["id"], {})
        if r["id"] in sources:
            s["workflow_job"] = sources[r["id"]]
        if r.get("workflow_approval_template"):
            tmpl = ctx.store.get("workflow_approval_templates", r["workflow_approval_template"])
            if tmpl:
                s["unified_job_template"] = {"id": tmpl["id"], "name": tmpl["name"],
                                             "description": tmpl["description"], "timeout": tmpl["timeout"],
                                             "unified_job_type": "workflow_approval"}
    return out


# -- jobs spawned by a workflow ---------------------------------------------------------------
def _with_source_workflow_job(previous):
    """Wrap a job kind's ``extra_summary`` with ``source_workflow_job`` (AWX's key)."""
    def summary(ctx, rows: list[dict]) -> dict[int, dict]:
        out = previous(ctx, rows) if previous else {}
        for pk, wj in wfq.spawning_workflow_jobs(ctx.store, [r["id"] for r in rows]).items():
            out.setdefault(pk, {})["source_workflow_job"] = {**wj, "failed": bool(wj["failed"])}
        return out
    return summary


def _with_node_filter(previous):
    """Wrap a job kind's ``list_filter`` with ``?unified_job_node__workflow_job=N``."""
    def list_filter(ctx, args: list[tuple[str, str]]):
        mine = None
        values = [v for k, v in args if k == NODE_FILTER]
        if values:
            try:
                mine = (wfq.node_job_filter_sql(), [parse_int64(values[-1])])
            except ValueError:
                mine = ("0", [])
        other = previous(ctx, args) if previous else None
        if mine and other:
            return f"({mine[0]}) AND ({other[0]})", mine[1] + other[1]
        return mine or other
    list_filter.keys = {NODE_FILTER, *getattr(previous, "keys", ())}
    return list_filter


def _job_name_filter(ctx, args: list[tuple[str, str]]):
    """``?job__name=X`` on workflow job nodes: the node's job (of any kind) is named X (the
    awx.awx modules find an approval's node this way)."""
    values = [v for k, v in args if k == "job__name"]
    if not values:
        return None
    tables = [kind.table for kind in ctx.registry.unified_jobs()]
    return wfq.job_named_sql(tables), [values[-1]] * len(tables)


_job_name_filter.keys = {"job__name"}  # type: ignore[attr-defined]


# -- declaration ------------------------------------------------------------------------------
def _node_graph_fields() -> list[Field]:
    ro: dict[str, Any] = dict(read_only=True)
    return [Field(f.name, f.kind, null=f.null, default=f.default if not callable(f.default) else "",
                  max_length=f.max_length, stored=f.stored, index=f.index, **ro)
            for f in workflow_nodes.graph_fields()]


def _workflow_job_fields() -> list[Field]:
    ro: dict[str, Any] = dict(read_only=True)
    null: dict[str, Any] = dict(null=True, default=None, read_only=True)
    return unified_job_fields() + [
        Field("workflow_job_template", "id", fk="workflow_job_template", on_delete="set_null", **null),
        Field("schedule", "id", fk="schedule", on_delete="set_null",
              help_text="The schedule that launched this workflow job, if any.", index=True, **null),
        Field("extra_vars", "text", default="", prevent_search=True, **ro),
        Field("allow_simultaneous", "boolean", default=False, **ro),
        Field("job_template", "integer", help_text="If automatically created for a sliced job run, the job template "
                                                    "the workflow job was created from.", **null),
        Field("is_sliced_job", "boolean", default=False, **ro),
        Field("inventory", "id", fk="inventory", on_delete="set_null", **null),
        Field("limit", "text", **null),
        Field("scm_branch", "string", **null),
        Field("webhook_service", "string", default="", **ro),
        Field("webhook_credential", "integer", **null),
        Field("webhook_guid", "string", default="", **ro),
        *webhook_fields.job_fields(),   # hidden: the status post-back context
        Field("skip_tags", "string", **null),
        Field("job_tags", "string", **null),
        Field("launch_prompts", "json", hidden=True, default={}),
        Field("secret_vars", "text", hidden=True, default=""),
        # a bulk job launch (controller.bulk): no template; read by its launcher and its organization's admins
        Field("is_bulk_job", "boolean", hidden=True, default=False),
        Field("organization", "integer", hidden=True, null=True, default=None),
    ]


def _approval_fields() -> list[Field]:
    ro: dict[str, Any] = dict(read_only=True)
    return unified_job_fields() + [
        Field("workflow_approval_template", "id", fk="workflow_approval_template", on_delete="set_null", null=True,
              default=None, **ro),
        Field("can_approve_or_deny", "boolean", stored=False, **ro),
        Field("approval_expiration", "datetime", stored=False, **ro),
        Field("timeout", "integer", default=0, **ro),
        Field("timed_out", "boolean", default=False, **ro),
        Field("expires", "datetime", null=True, default=None, index=True, **ro),
        Field("required_approvals", "integer", default=1, **ro),
        Field("on_timeout", "choice", choices=[("deny", "Deny"), ("approve", "Approve")], default="deny", **ro),
    ]


def _add_kind(reg: Registry, resource: Resource) -> None:
    """Register a job kind that has no events (the hooks add_unified_job derives, without events)."""
    kind = resource.unified_job
    assert kind is not None
    resource.before_delete = resource.before_delete or refuse_running_delete
    resource.can_change = resource.can_change or launcher_or_admin(kind)
    reg.add(resource)


def declare(reg: Registry) -> None:
    """Workflow jobs, workflow job nodes, approvals and votes; the engine's hooks; and, on every
    job kind, ``source_workflow_job`` and the node filter."""
    ro: dict[str, Any] = dict(read_only=True)
    _add_kind(reg, Resource(
        name="workflow_job", plural="workflow_jobs", id_group="unified_job", unified_job=WORKFLOW_JOB,
        fields=_workflow_job_fields(), ordering=("id",), search_fields=("name", "description"),
        summary_keys=("id", "name", "description", "status", "failed", "elapsed", "type", "canceled_on"),
        relations=[
            Relation("workflow_nodes", JOB_NODE, "reverse_fk", key="workflow_job", read_only=True),
            Relation("labels", "label", "m2m", key="workflow_job_labels:workflow_job_id:label_id", read_only=True),
        ],
        actions=("cancel", "relaunch"), creatable=False, updatable=False, capabilities=("delete", "start"),
        visibility=_workflow_job_visibility, can_delete=_workflow_job_can_delete,
        compute=_workflow_job_compute, extra_summary=_workflow_job_summary,
    ))
    reg.add(Resource(
        name=JOB_NODE, plural="workflow_job_nodes", common_fields=False,
        fields=workflow_nodes.node_fields(read_only=True) + [
            Field("workflow_job", "id", fk="workflow_job", **ro),
            *_node_graph_fields(),
            Field("job", "integer", null=True, default=None, index=True, **ro),
            Field("do_not_run", "boolean", default=False,
                  help_text="Indicates that a job will not be created when True. Workflow runtime semantics will "
                            "mark this True if the node is in a path that will decidedly not be ran. A value of "
                            "False means the node may not run.", **ro),
            Field("ancestor_artifacts", "json", hidden=True, default={}),
            Field("attempts", "integer", default=0, help_text="Turret: how many jobs this node spawned.", **ro),
            Field("retry_at", "datetime", hidden=True, null=True, default=None),
        ],
        ordering=("id",), search_fields=("identifier",), summary_keys=("id",),
        relations=[
            *[Relation(edge, JOB_NODE, "m2m", key=f"{wfq.edge_table(JOB_NODE, edge)}:parent_id:child_id",
                       read_only=True) for edge in wfq.EDGE_TYPES],
            Relation("credentials", "credential", "m2m",
                     key="workflow_job_node_credentials:workflow_job_node_id:credential_id", read_only=True),
            Relation("labels", "label", "m2m", key="workflow_job_node_labels:workflow_job_node_id:label_id",
                     read_only=True),
        ],
        creatable=False, updatable=False, deletable=False, capabilities=(),
        visibility=_visible_through_workflow_jobs("workflow_job"), compute=workflow_nodes.node_compute(JOB_NODE),
        list_filter=_job_name_filter,
        extra_summary=_job_node_summary, extra_related=_job_node_related,
    ))
    _add_kind(reg, Resource(
        name="workflow_approval", plural="workflow_approvals", id_group="unified_job", unified_job=APPROVAL,
        fields=_approval_fields(), ordering=("id",), search_fields=("name", "description"),
        summary_keys=("id", "name", "description", "status", "failed", "elapsed", "type", "canceled_on"),
        relations=[Relation("votes", "workflow_approval_vote", "reverse_fk", key="approval", read_only=True)],
        actions=("approve", "deny"), creatable=False, updatable=False, capabilities=("delete", "start"),
        visibility=_visible_through_workflow_jobs("id"), can_change=approvals.can_decide,
        can_delete=lambda ctx, row: ctx.is_superuser, compute=_approval_compute, extra_summary=_approval_summary,
    ))
    reg.add(Resource(
        name="workflow_approval_vote", plural="workflow_approval_votes", common_fields=False, listed=False,
        fields=[
            Field("approval", "id", fk="workflow_approval", **ro),
            Field("user", "id", fk="user", null=True, default=None, on_delete="set_null", **ro),
            Field("decision", "choice", choices=[("approve", "Approve"), ("deny", "Deny")], default="approve", **ro),
            Field("comment", "text", default="", **ro),
        ],
        ordering=("id",), creatable=False, updatable=False, deletable=False, capabilities=(),
        visibility=_approval_vote_visibility,
    ))
    reg["workflow_job_template"].relations.append(
        Relation("workflow_jobs", "workflow_job", "reverse_fk", key="workflow_job_template", read_only=True))
    for kind in reg.unified_jobs():
        res = reg[kind.resource]
        res.extra_summary = _with_source_workflow_job(res.extra_summary)
        res.list_filter = _with_node_filter(res.list_filter)
    reg.job_end_hooks.append(engine.job_end_hook)
    reg.tick_hooks.append(engine.tick_hook)
    reg.tick_hooks.append(approvals.expire)

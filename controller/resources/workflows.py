"""Workflow job templates and approval templates (AWX §7.2, orchestration §2.1): a graph of
nodes (:mod:`.workflow_nodes`), each running a unified job template, run as a workflow job
(:mod:`.workflow_jobs`) by the engine (:mod:`controller.workflows`).

Contracts:
  * ``organization`` is writable; creating (and copying) needs the organization's
    ``workflow_admin_role`` (a template without organization: superusers only), use of the
    inventory and of the webhook credential when given.  Changing the inventory needs its use.
  * Roles: admin (org workflow admin), execute (admin, org execute), approval (admin, org
    approval: who may approve the workflow's approval steps; execute alone may not), read.
  * Copy copies the nodes with their edges, credentials and labels; a node whose template the
    copier may not use loses it (``unified_job_template`` null), as AWX; schedules,
    notifications and roles are not copied.
  * The survey lives in the hidden ``survey_spec`` column, written only by
    :mod:`controller.services.surveys` (the job template's survey view serves both).
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..registry import Field, Registry, Relation, Resource, RoleSpec
from ..services import surveys
from ..services.template_webhooks import check_webhook_credential
from ..store import jobs as jobq
from ..store import workflow_templates as wfq
from . import workflow_nodes
from .labels import labels_relation
from .templates import WEBHOOK_SERVICES
from .unified import STATUS_CHOICES, job_links, template_status
from ..webhooks import fields as webhook_fields

UNIQUE_MESSAGE = "WorkflowJobTemplate with this (name, organization) combination already exists."
LABELS_TABLE = "workflow_job_template_labels"
TEMPLATE_STATUS = STATUS_CHOICES + [("never updated", "Never Updated")]


# -- access and validation ---------------------------------------------------------------------
def _may_use(ctx, resource: str, pk: Any, role: str = "use_role") -> bool:
    return pk is None or access.holds(ctx, resource, pk, role)


def _can_create(ctx, values: dict) -> bool:
    """AWX WorkflowJobTemplateAccess.can_add: workflow admin of the (mandatory) organization,
    use of the inventory and webhook credential; superusers always."""
    if ctx.is_superuser:
        return True
    if ctx.user is None or values.get("organization") is None:
        return False
    return (access.holds(ctx, "organization", values["organization"], "workflow_admin_role")
            and _may_use(ctx, "inventory", values.get("inventory"))
            and _may_use(ctx, "credential", values.get("webhook_credential")))


def _validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None and not ctx.is_superuser:
        for key, resource in (("inventory", "inventory"), ("webhook_credential", "credential")):
            if key in values and values[key] != existing.get(key) and not _may_use(ctx, resource, values[key]):
                raise PermissionDenied()
    merged = {**(existing or {}), **values}
    check_webhook_credential(ctx, merged)
    webhook_fields.check_settings(merged)
    if ctx.store.exists("workflow_job_templates", "name = ? AND organization IS ? AND id != ?",
                        [merged.get("name") or "", merged.get("organization"), merged.get("id") or 0]):
        raise ValidationError({"__all__": [UNIQUE_MESSAGE]})


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is None:
        values["survey_spec"] = {}
    return webhook_fields.assign_key(ctx, values, existing)


def _after_copy(ctx, original: dict, new: dict) -> None:
    workflow_nodes.copy_graph(ctx, original["id"], new["id"])


# -- output -----------------------------------------------------------------------------------
def _states(ctx, table: str, column: str, ids: list[int]) -> dict[int, tuple[dict | None, dict | None]]:
    """{template id: (current active job, last finished job)}, cached for the request."""
    known: dict = ctx.cache.setdefault(f"{table}_states", {})
    missing = [i for i in ids if i not in known]
    if missing:
        known.update(jobq.update_state(ctx.store, table, column, missing))
    return {i: known[i] for i in ids}


def _status_fields(states: dict[int, tuple[dict | None, dict | None]], pk: int) -> dict:
    return template_status(*states.get(pk, (None, None)))


def _job_brief(job: dict, last: bool) -> dict:
    brief = {k: job[k] for k in ("id", "name", "description", "status")}
    brief.update(failed=bool(job["failed"]), license_error=False)
    if last:
        brief.update(finished=job["finished"], canceled_on=job["canceled_on"])
    return brief


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    states = _states(ctx, "workflow_jobs", "workflow_job_template", [r["id"] for r in rows])
    return {r["id"]: _status_fields(states, r["id"]) for r in rows}


def _summary(ctx, rows: list[dict]) -> dict[int, dict]:
    ids = [r["id"] for r in rows]
    states = _states(ctx, "workflow_jobs", "workflow_job_template", ids)
    labels = jobq.labels_summary(ctx.store, LABELS_TABLE, "workflow_job_template_id", ids)
    recent = wfq.recent_jobs(ctx.store, "workflow_jobs", "workflow_job_template", ids)
    out = {}
    for r in rows:
        mine = labels.get(r["id"], [])
        s: dict = {"labels": {"count": len(mine), "results": mine[:10]}}
        current, last = states.get(r["id"], (None, None))
        if last:
            s["last_job"] = _job_brief(last, True)
        if current:
            s["current_job"] = _job_brief(current, False)
        survey = surveys.summary(surveys.stored_spec(r))
        if survey:
            s["survey"] = survey
        s["recent_jobs"] = [{"id": j["id"], "status": j["status"], "finished": j["finished"],
                             "canceled_on": j["canceled_on"], "type": "workflow_job"} for j in recent[r["id"]]]
        out[r["id"]] = s
    return out


def _related(ctx, row: dict, detail: bool) -> dict:
    current, last = _states(ctx, "workflow_jobs", "workflow_job_template", [row["id"]])[row["id"]]
    rel = job_links("workflow_jobs", last_job=last, current_job=current)
    rel.update(webhook_fields.receiver_related("workflow_job_templates", row))
    return rel


def _fields() -> list[Field]:
    null_text: dict[str, Any] = dict(null=True, default=None)
    return [
        Field("extra_vars", "vars", default="", prevent_search=True),
        Field("organization", "id", fk="organization", null=True, default=None, on_delete="set_null",
              help_text="The organization used to determine access to this template."),
        Field("survey_enabled", "boolean", default=False),
        Field("allow_simultaneous", "boolean", default=False),
        Field("ask_variables_on_launch", "boolean", default=False),
        Field("inventory", "id", fk="inventory", null=True, default=None, on_delete="set_null",
              help_text="Inventory applied as a prompt, assuming job template prompts for inventory"),
        Field("limit", "text", **null_text),
        Field("scm_branch", "string", max_length=1024, **null_text),
        Field("ask_inventory_on_launch", "boolean", default=False),
        Field("ask_scm_branch_on_launch", "boolean", default=False),
        Field("ask_limit_on_launch", "boolean", default=False),
        Field("webhook_service", "choice", choices=WEBHOOK_SERVICES, default="",
              help_text="Service that webhook requests will be accepted from"),
        Field("webhook_credential", "id", fk="credential", null=True, default=None, on_delete="set_null",
              help_text="Personal Access Token for posting back the status to the service API"),
        *webhook_fields.template_fields(),
        Field("ask_labels_on_launch", "boolean", default=False),
        Field("ask_skip_tags_on_launch", "boolean", default=False),
        Field("ask_tags_on_launch", "boolean", default=False),
        Field("skip_tags", "string", max_length=1024, **null_text),
        Field("job_tags", "string", max_length=1024, **null_text),
        Field("last_job_run", "datetime", stored=False, read_only=True),
        Field("last_job_failed", "boolean", stored=False, read_only=True),
        Field("next_job_run", "datetime", stored=False, read_only=True),
        Field("status", "choice", stored=False, read_only=True, choices=TEMPLATE_STATUS),
        Field("survey_spec", "json", hidden=True, default={}, prevent_search=True),
    ]


# -- approval templates -----------------------------------------------------------------------
def _approval_template_visibility(ctx):
    """Approval templates some node of a readable workflow job template runs."""
    vis = access.visibility(ctx, ctx.registry["workflow_job_template"])
    if vis is None:
        return None
    return ('id IN (SELECT unified_job_template FROM "workflow_job_template_nodes" WHERE workflow_job_template '
            f'IN (SELECT id FROM "workflow_job_templates" WHERE {vis[0]}))', vis[1])


def _approval_template_can_change(ctx, row: dict) -> bool:
    """An admin of a workflow job template running it (AWX WorkflowApprovalTemplateAccess)."""
    return any(access.holds(ctx, "workflow_job_template", pk, "admin_role")
               for pk in wfq.workflow_templates_using(ctx.store, row["id"]))


def _approval_template_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    states = _states(ctx, "workflow_approvals", "workflow_approval_template", [r["id"] for r in rows])
    return {r["id"]: _status_fields(states, r["id"]) for r in rows}


def approval_template_fields() -> list[Field]:
    """What an approval template holds (its approvals copy timeout, quorum and timeout rule)."""
    return [
        Field("timeout", "integer", default=0, min_value=0, max_value=2147483647,
              help_text="The amount of time (in seconds) before the approval node expires and fails."),
        Field("required_approvals", "integer", default=1, min_value=1, max_value=1000,
              help_text="How many distinct users must approve (Turret); one deny denies."),
        Field("on_timeout", "choice", choices=[("deny", "Deny"), ("approve", "Approve")], default="deny",
              help_text="What an expired approval does (Turret): deny (AWX) or approve."),
    ]


def declare(reg: Registry) -> None:
    """Workflow job templates, their nodes, approval templates (the job kinds that run them are
    declared by :mod:`.workflow_jobs`)."""
    reg.add(Resource(
        name="workflow_job_template", plural="workflow_job_templates", fields=_fields(),
        ordering=("name",), search_fields=("name", "description"), id_group="unified_job_template",
        named_url=(("name",), ("organization.name",)),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}",
                     ("organization.workflow_admin_role",)),
            RoleSpec("execute_role", "Execute", "May run the {model}", ("admin_role", "organization.execute_role")),
            RoleSpec("read_role", "Read", "May view settings for the {model}",
                     ("execute_role", "approval_role", "organization.auditor_role")),
            RoleSpec("approval_role", "Approve", "Can approve or deny a workflow approval node",
                     ("admin_role", "organization.approval_role")),
        ],
        relations=[
            Relation("workflow_nodes", "workflow_job_template_node", "reverse_fk", key="workflow_job_template",
                     create=True, attach=False),
            labels_relation(f"{LABELS_TABLE}:workflow_job_template_id:label_id"),
        ],
        actions=("copy", "launch", "survey_spec", *webhook_fields.TEMPLATE_ACTIONS),
        create_role="organization.workflow_admin_role", can_create=_can_create,
        capabilities=("edit", "delete", "start", "schedule", "copy"),
        validate=_validate, before_save=_before_save, compute=_compute, extra_summary=_summary,
        extra_related=_related, after_copy=_after_copy,
    ))
    reg.add(Resource(
        name="workflow_approval_template", plural="workflow_approval_templates",
        fields=approval_template_fields() + [
            Field("last_job_run", "datetime", stored=False, read_only=True),
            Field("last_job_failed", "boolean", stored=False, read_only=True),
            Field("next_job_run", "datetime", stored=False, read_only=True),
            Field("status", "choice", stored=False, read_only=True, choices=TEMPLATE_STATUS),
        ],
        ordering=("name",), search_fields=("name", "description"), id_group="unified_job_template",
        create_role=None, can_create=lambda ctx, values: ctx.is_superuser,
        visibility=_approval_template_visibility, can_change=_approval_template_can_change,
        compute=_approval_template_compute, capabilities=("edit", "delete"),
    ))
    workflow_nodes.declare(reg)

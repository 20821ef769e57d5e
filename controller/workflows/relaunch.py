"""``POST /workflow_jobs/N/relaunch/``: a workflow job again, as AWX's ``WorkflowJobRelaunch``.

Contracts:
  * With its template: a new workflow job of the template's *current* graph with the original
    prompts (``launch_type`` relaunch).  Who may, as AWX's ``WorkflowJobAccess.can_start``:
    the template's execute role, and with saved prompts the right to use what was prompted
    while the template still asks for it; survey passwords another user typed are never
    replayed for someone else.
  * Without one (a bulk job, or its template deleted): a copy of the workflow job and its
    nodes (AWX's ``create_relaunch_workflow_job``), for a system administrator only, as in
    AWX ("only superusers can relaunch orphans").
  * ``{"nodes": "failed"}`` (Turret) resumes a finished workflow job: nodes whose job
    succeeded are carried forward (same job, same artifacts), the others run again.
"""
from __future__ import annotations

import json

from .. import access, status
from ..errors import ValidationError
from ..jobs import relaunch as relaunching
from ..store import workflows as wq
from . import engine, node_launch

# AWX's WorkflowJobAccess.can_start messages, by relaunching.replay_refusal's reason
_REFUSALS = {"secret": relaunching.SECRET_PROMPTS, "access": "Job was launched with prompts you lack access to.",
             "unprompted": "Job was launched with prompts no longer accepted."}


def relaunch(ctx, workflow_job: dict, body: dict) -> dict:
    """The new workflow job (see the module contract); 400/403 as AWX answers."""
    body = body or {}
    which = body.get("nodes", "all")
    if which not in ("all", "failed"):
        raise ValidationError({"nodes": [f'"{which}" is not a valid choice.']})
    wfjt = ctx.store.get("workflow_job_templates", workflow_job["workflow_job_template"]) \
        if workflow_job.get("workflow_job_template") else None
    # only a system administrator relaunches a workflow job without a template (AWX)
    access.require(access.holds(ctx, "workflow_job_template", wfjt["id"], "execute_role") if wfjt is not None
                   else ctx.is_superuser)
    prompts = node_launch.as_dict(workflow_job.get("launch_prompts"))
    secret = json.loads(ctx.vault.decrypt(workflow_job["secret_vars"])) if workflow_job.get("secret_vars") else {}
    if wfjt is not None and not ctx.is_superuser:
        refusal = relaunching.replay_refusal(ctx, workflow_job, wfjt, prompts, secret)
        if refusal is not None:
            access.require(False, _REFUSALS[refusal])
    carried = None
    if which == "failed":
        if status.is_active(workflow_job["status"]):
            raise ValidationError({"nodes": ["Wait until the workflow job finishes before relaunching failed nodes."]})
        carried = _succeeded_nodes(ctx, workflow_job["id"])
    if wfjt is None:
        return engine.launch_copy(ctx, workflow_job, carried)
    if secret:
        prompts["secret_vars"] = secret
    row, _ignored = engine.launch_workflow(ctx, wfjt, prompts, launch_type="relaunch", trusted=True, carried=carried)
    return row


def _succeeded_nodes(ctx, workflow_job_id: int) -> dict[str, dict]:
    """{identifier: node} of the workflow job's nodes whose job ended successful."""
    nodes = wq.job_nodes(ctx.store, workflow_job_id)
    tables = [k.table for k in ctx.registry.unified_jobs()]
    jobs = wq.spawned_jobs(ctx.store, tables, [n["job"] for n in nodes])
    return {n["identifier"]: n for n in nodes
            if n.get("job") and jobs.get(n["job"], {}).get("status") == "successful" and n.get("identifier")}

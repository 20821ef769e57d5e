"""What a workflow node's job is launched with, and the launch itself (orchestration.md §2.4).

Contracts:
  * Prompts.  A node's prompt fields (inventory, limit, scm_branch, job_type, job_tags,
    skip_tags, diff_mode, verbosity, forks, job_slice_count, timeout, execution_environment,
    credentials) apply only where the node's job template has the matching ``ask_*_on_launch``;
    the workflow job's prompts (inventory, limit, scm_branch, job_tags, skip_tags) override the
    node's, again only where the template asks.  ``None`` and ``""`` both mean "not given": an
    empty workflow limit never wipes a node's limit (AWX #8561, #12991).  The workflow job's
    labels do not propagate; a node's own labels (where its template asks) are added to the
    template's; node credentials replace the template's of the same credential type.
  * Turret's per-node overrides are the node's prompt fields above (forks, limit, job_tags,
    skip_tags, verbosity, diff_mode, each behind its AWX ask flag) plus three settings AWX has
    no prompt for -- ``start_at_task``, ``force_handlers``, ``become_enabled`` -- which apply
    only when the template has ``ask_variables_on_launch``: a template that lets a launcher set
    any variable (``ansible_become`` included) already hands over that much control.
  * Variables, low to high: the template's extra_vars (and its survey defaults) < the node's
    ``extra_data`` (only with ``ask_variables_on_launch``, else only its survey variables) <
    ancestors' ``set_stats`` artifacts (parent over grandparent) < the workflow job's extra vars
    (always: AWX's "special historical case").  Everything but the template's own vars reaches
    ``launch_job`` as runtime vars, which the executor writes ``!unsafe``.
  * A job is created only by ``launch_job``, ``start_update`` (projects, inventory sources),
    a nested workflow launch or ``approvals.create_approval``.  A launch that is refused
    leaves a job in ``error`` whose explanation is the reason.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..errors import APIError, explain
from ..jobs import inventory_update, launch, project_update
from ..prompts import BY_KEY
from ..services import surveys
from ..services.bootstrap import acting_as_system
from ..services.variables import VarsError, parse_vars
from ..store import instances as igq
from ..store import workflows as wq
from ..store.schedules import savepoint
from . import approvals

NODE_PROMPTS = ("inventory", "limit", "scm_branch", "job_type", "job_tags", "skip_tags", "diff_mode", "verbosity",
                "forks", "job_slice_count", "timeout", "execution_environment")
WORKFLOW_PROMPTS = ("inventory", "limit", "scm_branch", "job_tags", "skip_tags")
NO_PROMPT_OVERRIDES = ("start_at_task", "force_handlers", "become_enabled")
NestedLaunch = Callable[..., dict]


def given(value: Any) -> bool:
    """Whether a prompt value was given: None and "" are not."""
    return value is not None and value != ""


def as_dict(value: Any) -> dict:
    """A JSON/YAML mapping column (text or already decoded) as a dict ({} when empty or bad)."""
    if isinstance(value, dict):
        return dict(value)
    if not value:
        return {}
    try:
        parsed = parse_vars(value) if isinstance(value, str) else {}
    except VarsError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def workflow_vars(ctx, wj: dict) -> tuple[dict, dict]:
    """(extra vars, secret vars) of workflow job ``wj``: the secret ones (survey passwords) are
    decrypted and replace their ``$encrypted$`` placeholders."""
    shown = as_dict(wj.get("extra_vars"))
    secret = json.loads(ctx.vault.decrypt(wj["secret_vars"])) if wj.get("secret_vars") else {}
    for key in secret:
        shown.pop(key, None)
    return shown, secret


def prompts_for(jt: dict, node: dict, wj: dict) -> dict:
    """The prompts a node's job template accepts: the node's, then the workflow job's over them."""
    accepted: dict[str, Any] = {}
    for key in NODE_PROMPTS:
        if given(node.get(key)) and jt.get(BY_KEY[key].ask_flag):
            accepted[key] = node[key]
    for key in WORKFLOW_PROMPTS:
        if given(wj.get(key)) and jt.get(BY_KEY[key].ask_flag):
            accepted[key] = wj[key]
    return accepted


def overrides_for(jt: dict, node: dict) -> dict:
    """Turret's node settings without an AWX prompt (module doc: behind ask_variables_on_launch)."""
    if not jt.get("ask_variables_on_launch"):
        return {}
    return {key: node[key] for key in NO_PROMPT_OVERRIDES if given(node.get(key))}


def runtime_vars(ctx, jt: dict, node: dict, artifacts: dict, wf_vars: dict) -> tuple[dict, dict]:
    """(runtime vars, secret vars) of a node's job, by the precedence of the module doc."""
    spec = surveys.stored_spec(jt) if jt.get("survey_enabled") else {}
    runtime = surveys.defaults(spec, ctx.vault.decrypt) if spec else {}
    secret_names = set(surveys.password_variables(spec)) if spec else set()
    data = as_dict(node.get("extra_data"))
    if not jt.get("ask_variables_on_launch"):
        allowed = set(surveys.pivot(spec)) if spec else set()
        data = {k: v for k, v in data.items() if k in allowed}
    runtime.update(data)
    runtime.update(artifacts)
    runtime.update(wf_vars)
    secret = {k: runtime.pop(k) for k in list(runtime) if k in secret_names}
    return runtime, secret


def job_template_body(ctx, jt: dict, node: dict, wj: dict, artifacts: dict) -> tuple[dict, dict]:
    """(launch body, extra fields) of the job a job-template node spawns."""
    wf_vars, wf_secret = workflow_vars(ctx, wj)
    body: dict[str, Any] = prompts_for(jt, node, wj)
    runtime, secret = runtime_vars(ctx, jt, node, artifacts, wf_vars)
    body["extra_vars"] = runtime
    secret.update(wf_secret)
    if secret:
        body["secret_vars"] = secret
    # the node's credentials replace the template's type by type (a vault by its vault id): the
    # launch's merge of a replayed prompt does it, as AWX's create_unified_job
    node_creds = wq.node_credentials(ctx.store, node["id"])
    if node_creds and jt.get("ask_credential_on_launch"):
        body["credentials"] = node_creds
    # a node's labels are a prompt too, added to the template's by the launch when it asks
    node_labels = labels_for(ctx, jt, node)
    if node_labels:
        body["labels"] = node_labels
    node_groups = igq.ordered_groups(ctx.store, "workflow_job_node", node["id"])
    if node_groups and jt.get("ask_instance_groups_on_launch"):
        body["instance_groups"] = node_groups
    return body, overrides_for(jt, node)


def labels_for(ctx, template: dict, node: dict) -> list[int]:
    """The node's labels when its template asks for labels ([] otherwise: an ignored prompt)."""
    if not template.get("ask_labels_on_launch"):
        return []
    return wq.linked(ctx.store, "workflow_job_node_labels", "workflow_job_node_id", "label_id", node["id"])


def nested_body(ctx, wfjt: dict, node: dict, wj: dict, artifacts: dict) -> dict:
    """The launch body of a nested workflow node: node extra_data < artifacts < the parent
    workflow's vars (its survey passwords stay secret), and the prompts the nested template
    asks for."""
    wf_vars, wf_secret = workflow_vars(ctx, wj)
    body: dict[str, Any] = {k: v for k, v in prompts_for(wfjt, node, wj).items() if k in WORKFLOW_PROMPTS}
    body["extra_vars"] = {**as_dict(node.get("extra_data")), **artifacts, **wf_vars}
    node_labels = labels_for(ctx, wfjt, node)
    if node_labels:
        body["labels"] = node_labels
    if wf_secret:
        body["secret_vars"] = wf_secret
    return body


def refusal(exc: Exception) -> str:
    """An API error as one line of job explanation."""
    return "Workflow node could not start its job: " + explain(exc)


def spawn(ctx, kind: str, template: dict, node: dict, wj: dict, artifacts: dict,
          launch_nested: NestedLaunch) -> dict:
    """Create the job of ``node`` (whose template ``template`` is a ``kind``) for workflow job
    ``wj``; returns the job row (in ``error`` when the launch was refused)."""
    # as the system: the workflow's launcher was checked at its launch (AWX checks node
    # permissions when nodes are saved, not when they spawn)
    sys_ctx = acting_as_system(ctx)
    extra = {"launched_by_id": wj["id"], "launched_by_type": "workflow_job"}
    if kind == "job_template":
        try:
            body, overrides = job_template_body(sys_ctx, template, node, wj, artifacts)
            with savepoint(ctx.store, "workflow_spawn"):
                job, _ignored = launch.launch_job(sys_ctx, template, body, launch_type="workflow", trusted=True,
                                                  extra_fields={**extra, **overrides})
            return job
        except APIError as exc:
            return launch.record_failed_launch(sys_ctx, template, refusal(exc), extra, launch_type="workflow")
    if kind == "project":
        return project_update.start_update(sys_ctx, template, launch_type="workflow", extra_fields=extra)
    if kind == "inventory_source":
        return inventory_update.start_update(sys_ctx, template, launch_type="workflow", extra_fields=extra)
    if kind == "workflow_job_template":
        return launch_nested(sys_ctx, template, nested_body(ctx, template, node, wj, artifacts), extra)
    if kind == "workflow_approval_template":
        return approvals.create_approval(sys_ctx, template, {**extra, "launch_type": "workflow"})
    raise ValueError(f"a workflow node cannot run a {kind}")

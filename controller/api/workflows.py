"""Action views of workflows: launch a workflow job template, cancel and relaunch a workflow
job, approve or deny an approval, give a node a new approval template (registered on the
action table when the app factory imports this module)."""
from __future__ import annotations

from flask import Response, request

from .. import access
from ..errors import MethodNotAllowed, ValidationError
from ..jobs import control
from ..prompts import PROMPTS
from ..resources import workflow_nodes
from ..services.serializer import serialize_one
from ..workflows import approvals, engine
from .actions import action
from .web import json_response, parse_body

_ALLOW = {"Allow": "GET, POST, HEAD, OPTIONS"}
# What a workflow launch may set (AWX WorkflowJobLaunchSerializer), in AWX's order.
LAUNCH_PROMPTS = ("extra_vars", "inventory", "scm_branch", "limit", "job_tags", "skip_tags", "labels")


def _reading() -> bool:
    if request.method in ("GET", "HEAD"):
        return True
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    return False


def _launched(ctx, row: dict) -> Response:
    body = {"workflow_job": row["id"], **serialize_one(ctx, ctx.registry["workflow_job"], row, mode="object")}
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})


def _launch_post_fields(ctx, res) -> dict:
    """The POST section of the launch OPTIONS: the prompts a workflow launch takes."""
    out = {}
    for prompt in PROMPTS:
        if prompt.key in LAUNCH_PROMPTS:
            out[prompt.key] = {"type": prompt.options_type, "required": False, "hidden": False,
                               "label": prompt.options_label, "help_text": prompt.launch_help, "filterable": False}
    return out


@action("launch", resource="workflow_job_template")
def workflow_launch_view(ctx, res, row) -> Response:
    if _reading():
        return json_response(engine.launch_info(ctx, row), headers=_ALLOW)
    job, ignored = engine.launch_workflow(ctx, row, parse_body())
    body = {"workflow_job": job["id"], "ignored_fields": ignored,
            **serialize_one(ctx, ctx.registry["workflow_job"], job, mode="object")}
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})


workflow_launch_view.post_fields = _launch_post_fields  # type: ignore[attr-defined]


@action("relaunch", resource="workflow_job")
def workflow_relaunch_view(ctx, res, row) -> Response:
    """POST: the template's current graph again with the original prompts; ``{"nodes":
    "failed"}`` resumes (nodes that succeeded are carried forward)."""
    if _reading():
        return json_response({}, headers=_ALLOW)
    return _launched(ctx, engine.relaunch(ctx, row, parse_body()))


@action("cancel", resource="workflow_job")
def workflow_cancel_view(ctx, res, row) -> Response:
    if _reading():
        return json_response({"can_cancel": control.can_cancel(row)}, headers=_ALLOW)
    if not control.can_cancel(row):
        raise MethodNotAllowed("POST")
    access.require(access.can_change(ctx, res, row))
    engine.cancel(ctx, row)
    return json_response(None, 202, _ALLOW)


def _decide(ctx, row: dict, approve: bool) -> Response:
    if _reading():
        return json_response({}, headers=_ALLOW)
    body = parse_body() if request.get_data() else {}
    comment = body.get("comment", "") if isinstance(body, dict) else ""
    if not isinstance(comment, str):
        raise ValidationError({"comment": ["Not a valid string."]})
    approvals.decide(ctx, row, approve, comment)
    return json_response(None, 204, _ALLOW)


@action("approve", resource="workflow_approval")
def approve_view(ctx, res, row) -> Response:
    return _decide(ctx, row, True)


@action("deny", resource="workflow_approval")
def deny_view(ctx, res, row) -> Response:
    return _decide(ctx, row, False)


@action("create_approval_template", resource="workflow_job_template_node")
def create_approval_template_view(ctx, res, row) -> Response:
    """POST {"name", "description", "timeout"}: a new approval template, run by this node."""
    if _reading():
        return json_response({}, headers=_ALLOW)
    template = workflow_nodes.create_approval_template(ctx, row, parse_body())
    body = serialize_one(ctx, ctx.registry["workflow_approval_template"], template, mode="object")
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})


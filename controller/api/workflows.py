"""Action views of workflows: launch a workflow job template, relaunch a workflow job, approve
or deny an approval, give a node a new approval template (registered on the action table when
the app factory imports this module).  A workflow job's cancel is the generic view: the kind's
``cancel`` hands it to the engine."""
from __future__ import annotations

from flask import Response, request

from ..errors import ValidationError
from ..prompts import PROMPTS
from ..resources import workflow_nodes
from ..services.serializer import serialize_one
from ..workflows import approvals, engine, relaunch
from .actions import ALLOW, action, created, reading
from .jobs import launch_field
from .web import json_response, parse_body

# What a workflow launch may set (AWX WorkflowJobLaunchSerializer), in AWX's order.
LAUNCH_PROMPTS = ("extra_vars", "inventory", "scm_branch", "limit", "job_tags", "skip_tags", "labels")


def _launched(ctx, row: dict, **extra) -> Response:
    return created({"workflow_job": row["id"], **extra,
                    **serialize_one(ctx, ctx.registry["workflow_job"], row, mode="object")})


def _launch_post_fields(ctx, res) -> dict:
    """The POST section of the launch OPTIONS: the prompts a workflow launch takes."""
    return {prompt.key: launch_field(ctx, prompt) for prompt in PROMPTS if prompt.key in LAUNCH_PROMPTS}


@action("launch", resource="workflow_job_template")
def workflow_launch_view(ctx, res, row) -> Response:
    if reading():
        return json_response(engine.launch_info(ctx, row), headers=ALLOW)
    job, ignored = engine.launch_workflow(ctx, row, parse_body())
    return _launched(ctx, job, ignored_fields=ignored)


workflow_launch_view.post_fields = _launch_post_fields  # type: ignore[attr-defined]


@action("relaunch", resource="workflow_job")
def workflow_relaunch_view(ctx, res, row) -> Response:
    """POST: the template's current graph again with the original prompts; ``{"nodes":
    "failed"}`` resumes (nodes that succeeded are carried forward)."""
    if reading():
        return json_response({}, headers=ALLOW)
    return _launched(ctx, relaunch.relaunch(ctx, row, parse_body()))


def _decide(ctx, row: dict, approve: bool) -> Response:
    if reading():
        return json_response({}, headers=ALLOW)
    body = parse_body() if request.get_data() else {}
    comment = body.get("comment", "") if isinstance(body, dict) else ""
    if not isinstance(comment, str):
        raise ValidationError({"comment": ["Not a valid string."]})
    approvals.decide(ctx, row, approve, comment)
    return json_response(None, 204, ALLOW)


@action("approve", resource="workflow_approval")
def approve_view(ctx, res, row) -> Response:
    return _decide(ctx, row, True)


@action("deny", resource="workflow_approval")
def deny_view(ctx, res, row) -> Response:
    return _decide(ctx, row, False)


@action("create_approval_template", resource="workflow_job_template_node")
def create_approval_template_view(ctx, res, row) -> Response:
    """POST {"name", "description", "timeout"}: a new approval template, run by this node."""
    if reading():
        return json_response({}, headers=ALLOW)
    template = workflow_nodes.create_approval_template(ctx, row, parse_body())
    return created(serialize_one(ctx, ctx.registry["workflow_approval_template"], template, mode="object"))


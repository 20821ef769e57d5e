"""The bulk API (AWX's ``/api/v2/bulk/``): the index, ``host_create/``, ``host_delete/`` and
``job_launch/``.

Registered before the generic blueprint (``/api/v2/bulk/<x>/`` would otherwise read as a
resource detail).  A GET of an action answers AWX's one-line description, OPTIONS its
``actions.POST`` fields (the awx CLI builds ``awx bulk host_create ...`` flags from them), a POST
makes one service call and answers 201 with AWX's body.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Response, g, request

from ..bulk import hosts, jobs
from ..errors import MethodNotAllowed
from ..services.serializer import serialize_one
from .web import json_response, one_verb_view, options_body, parse_body, require_user

bp = Blueprint("bulk", __name__)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
_ACTION_ALLOW = "GET, POST, HEAD, OPTIONS"


def _field(kind: str, label: str, help_text: str, required: bool = False, **extra) -> dict:
    return {"type": kind, "required": required, "label": label, "help_text": help_text, **extra}


_STR = "string"
HOST_CREATE_FIELDS = {
    "inventory": _field("id", "Inventory", "Primary Key ID of inventory to add hosts to.", True),
    "hosts": _field("list", "Hosts", 'List of hosts to be created, JSON. e.g. [{"name": "example.com"}, '
                    '{"name": "127.0.0.1"}]', True, child={"type": "nested object", "required": False}),
}
HOST_DELETE_FIELDS = {
    "hosts": _field("list", "Hosts", "List of hosts ids to be deleted, e.g. [105, 130, 131, 200]", True,
                    child={"type": "field", "required": False}),
}
JOB_LAUNCH_FIELDS = {
    "name": _field(_STR, "Name", "", default=jobs.DEFAULT_NAME, max_length=512),
    "jobs": _field("list", "Jobs", 'List of jobs to be launched, JSON. e.g. [{"unified_job_template": 7}, '
                   '{"unified_job_template": 10}]', True, child={"type": "nested object", "required": False}),
    "description": _field(_STR, "Description", ""),
    "extra_vars": _field("json", "Extra vars", ""),
    "organization": _field("id", "Organization", "Inherit permissions from this organization. If not provided, a "
                           "organization the user is a member of will be selected automatically.", default=None),
    "inventory": _field("id", "Inventory", ""),
    "limit": _field(_STR, "Limit", ""),
    "scm_branch": _field(_STR, "Scm branch", ""),
    "skip_tags": _field(_STR, "Skip tags", ""),
    "job_tags": _field(_STR, "Job tags", ""),
}
_DETAILS = {
    "host_create": "Bulk create hosts with this endpoint",
    "host_delete": "Bulk delete hosts with this endpoint",
    "job_launch": "Specify a list of unified job templates to launch alongside their launchtime parameters",
}
_NAMES = {"host_create": "Bulk Host Create", "host_delete": "Bulk Host Delete", "job_launch": "Bulk Job Launch"}


@bp.route("/api/v2/bulk/", methods=_METHODS, provide_automatic_options=False)
def bulk_index() -> Response:
    """The bulk index (GET): one link per action.  Its OPTIONS has no ``actions``, like AWX's."""
    return one_verb_view("GET", lambda ctx: options_body("Bulk", None),
                         lambda ctx: {name: f"/api/v2/bulk/{name}/" for name in _DETAILS})


def _action(name: str, fields: dict, run: Callable[[], tuple[dict, int]]) -> Response:
    require_user()
    g.allow = _ACTION_ALLOW
    if request.method == "OPTIONS":
        return json_response(options_body(_NAMES[name], {"POST": fields}), headers={"Allow": _ACTION_ALLOW})
    if request.method in ("GET", "HEAD"):
        return json_response({"detail": _DETAILS[name]}, headers={"Allow": _ACTION_ALLOW})
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    body, status = run()
    return json_response(body, status, headers={"Allow": _ACTION_ALLOW})


@bp.route("/api/v2/bulk/host_create/", methods=_METHODS, provide_automatic_options=False)
def bulk_host_create() -> Response:
    """POST {inventory, hosts: [...]} -> 201 {url, hosts} (all or nothing)."""
    return _action("host_create", HOST_CREATE_FIELDS, lambda: (hosts.create_hosts(g.ctx, parse_body()), 201))


@bp.route("/api/v2/bulk/host_delete/", methods=_METHODS, provide_automatic_options=False)
def bulk_host_delete() -> Response:
    """POST {hosts: [ids]} -> 201 {hosts: {id: message}} (all or nothing)."""
    return _action("host_delete", HOST_DELETE_FIELDS, lambda: (hosts.delete_hosts(g.ctx, parse_body()), 201))


def _launched() -> tuple[dict, int]:
    row = jobs.launch(g.ctx, parse_body())
    return serialize_one(g.ctx, g.ctx.registry["workflow_job"], row, mode="object"), 201


@bp.route("/api/v2/bulk/job_launch/", methods=_METHODS, provide_automatic_options=False)
def bulk_job_launch() -> Response:
    """POST {name, jobs: [...], ...} -> 201 the bulk workflow job (AWX WorkflowJobSerializer)."""
    return _action("job_launch", JOB_LAUNCH_FIELDS, _launched)

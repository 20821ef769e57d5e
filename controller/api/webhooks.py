"""Webhook routes: the unauthenticated receivers ``POST /api/v2/{job_templates|
workflow_job_templates|projects}/N/{github|gitlab|bitbucket_dc}/`` and the generic ``POST
/api/v2/{job_templates|workflow_job_templates}/N/webhook/``, and the ``webhook_key`` action
(``GET`` shows, ``POST`` rotates or sets the key; template admins).

The receivers carry no session, so no CSRF applies: they are public routes, registered before
the generic blueprint, and prove themselves by the signature :mod:`controller.webhooks.receive`
checks.  The same names are actions of those resources (OPTIONS, the OpenAPI document, related
links); an authenticated POST reaching the generic router is received the same way.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from ..registry import Resource
from ..webhooks import fields
from ..webhooks.receive import Delivery, receive
from .actions import action
from .web import client_address, ctx, json_response, parse_body, path_id, public

bp = Blueprint("webhooks", __name__)
_RESOURCES = {"job_templates": "job_template", "workflow_job_templates": "workflow_job_template",
              "projects": "project"}
_ANSWERS = {"webhook": "generic"}     # URL segment -> receiver service


def _read_body(limit: int) -> bytes | None:
    """The raw body, None when it exceeds ``limit`` bytes (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = request.stream.read(limit + 1)
    return None if len(data) > limit else data


def _answer(resource: str, ident: str, sub: str) -> Response:
    limit = int(ctx().settings.WEBHOOK_MAX_BODY_BYTES)
    body = _read_body(limit)
    if body is None:
        return json_response({"detail": f"Request body exceeds the limit of {limit} bytes."}, 413)
    headers = {name.lower(): value for name, value in request.headers.items()}
    delivery = Delivery(service=_ANSWERS.get(sub, sub), headers=headers, body=body,
                        content_type=request.mimetype or "", client=client_address())
    reply = receive(ctx(), resource, path_id(ident), delivery)
    return json_response(reply.body, reply.status, reply.headers)


@bp.route("/api/v2/<any(job_templates, workflow_job_templates, projects):plural>/<ident>/"
          "<any(github, gitlab, bitbucket_dc, webhook):sub>/", methods=["POST"], strict_slashes=False,
          provide_automatic_options=False)
@public
def receiver(plural: str, ident: str, sub: str) -> Response:
    """A delivery (projects have no generic receiver: 404)."""
    if plural == "projects" and sub == "webhook":
        return json_response({"detail": "Not found."}, 404)
    return _answer(_RESOURCES[plural], ident, sub)


def _receiver_view(sub: str):
    def view(c, res: Resource, row: dict) -> Response:
        return _answer(res.name, str(row["id"]), sub)
    view.__name__ = f"{sub}_webhook_view"
    return view


for _resource in _RESOURCES.values():
    for _sub in (*fields.RECEIVERS, *(("webhook",) if _resource != "project" else ())):
        action(_sub, resource=_resource, methods=("POST",))(_receiver_view(_sub))


def webhook_key_view(c, res: Resource, row: dict) -> Response:
    """GET: ``{"webhook_key"}``; POST: a new key (or the one given), 201."""
    if request.method == "GET":
        return json_response(fields.reveal_key(c, res.name, row))
    return json_response({"webhook_key": fields.rotate_key(c, res.name, row, parse_body())}, 201)


for _resource in _RESOURCES.values():
    action("webhook_key", resource=_resource, methods=("GET", "POST"))(webhook_key_view)

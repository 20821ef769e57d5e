"""Action sub-resources (``copy``, later ``launch``, ``update``, ``cancel`` ...).

A resource names its actions in its declaration; this module maps each name to a view that
parses the request, calls a service and renders.  Per-resource variants are keyed
``(resource name, action)`` and win over the generic one.
"""
from __future__ import annotations

from typing import Callable

from flask import Response, request

from .. import access
from ..errors import MethodNotAllowed
from ..services import crud
from ..services.serializer import serialize_one
from .web import json_response, parse_body

ActionView = Callable[..., Response]
VIEWS: dict[str, ActionView] = {}
RESOURCE_VIEWS: dict[tuple[str, str], ActionView] = {}


def action(name: str, resource: str | None = None) -> Callable[[ActionView], ActionView]:
    def register(view: ActionView) -> ActionView:
        if resource:
            RESOURCE_VIEWS[(resource, name)] = view
        else:
            VIEWS[name] = view
        return view
    return register


def dispatch(ctx, res, ident: str, name: str) -> Response:
    view = RESOURCE_VIEWS.get((res.name, name)) or VIEWS.get(name)
    if view is None:
        raise MethodNotAllowed(request.method)
    if request.method == "OPTIONS":
        return _options(ctx, res, view)
    from .generic import resolve_pk
    row = crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
    return view(ctx, res, row)


def _options(ctx, res, view: ActionView) -> Response:
    # The awx CLI reads actions.POST of some action endpoints (launch/, update/) to build
    # flags, and crashes on a 2xx answer without it: always send a POST section.
    from ..services import metadata
    fields_of = getattr(view, "post_fields", None)
    fields = fields_of(ctx, res) if fields_of else {}
    return json_response({"name": view.__name__.replace("_view", "").title(), "description": "",
                          "renders": metadata.RENDERS,
                          "parses": metadata.PARSES, "actions": {"POST": fields}},
                         headers={"Allow": "GET, POST, HEAD, OPTIONS"})


@action("copy")
def copy_view(ctx, res, row) -> Response:
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    if request.method in ("GET", "HEAD"):
        can = access.can_change(ctx, res, row) and access.can_create(ctx, res, row)
        return json_response({"can_copy": can}, headers=allow)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    body = parse_body()
    new = crud.copy(ctx, res, row, body.get("name"))
    obj = serialize_one(ctx, res, new)
    return json_response(obj, 201, {**allow, "Location": obj["url"]})

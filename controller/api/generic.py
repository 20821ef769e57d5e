"""Generic views over the registry: every resource's list, detail and sub-lists come from here.

Views parse, call a service, render.  Resource-specific behaviour lives in declarations
(hooks) or in ``Resource.actions`` (launch, update, cancel ...), never in copies of these.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, g, request
from werkzeug.routing import BaseConverter

from ..errors import MethodNotAllowed, NotFound
from ..registry import Registry
from ..services import crud, metadata, relations
from ..services.serializer import serialize_one
from . import actions
from .web import json_response, parse_body, path_id, query_args, require_user, resolve_pk

bp = Blueprint("generic", __name__)


def plural_converter(registry: Registry) -> type[BaseConverter]:
    """The URL converter of ``<plural:...>``: only a declared resource's plural matches, so a
    fixed route (``ping/``, ``me/``, ``config/``) asked with a method it lacks answers 405 with
    its ``Allow``, as AWX does, instead of falling through to these views' 404; an unknown
    name is a 404 before authentication, as AWX's URL resolver answers it.  Registered on the
    app's URL map before this blueprint (``create_app``)."""
    class Plural(BaseConverter):     # werkzeug anchors a part's pattern: any order of names matches
        regex = "(?:" + "|".join(re.escape(n) for n in registry.plurals()) + ")"
    return Plural


def _resource(plural: str):
    res = bp_registry().by_plural(plural)
    if res is None:
        raise NotFound()
    return res


def bp_registry():
    return g.ctx.registry


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


@bp.route("/api/v2/<plural:plural>/", methods=_METHODS, provide_automatic_options=False)
def list_view(plural: str) -> Response:
    ctx = require_user()
    res = _resource(plural)
    allow = {"Allow": metadata.list_allow(res)}
    g.allow = allow["Allow"]
    if request.method in ("GET", "HEAD"):
        return json_response(crud.list_page(ctx, res, query_args(), request.path),
                             headers={**allow, **res.list_headers})
    if request.method == "OPTIONS":
        return json_response(metadata.list_options(ctx, res), headers=allow)
    if request.method == "POST" and res.creatable:
        row = crud.create(ctx, res, parse_body())
        body = serialize_one(ctx, res, row)
        return json_response(body, 201, {**allow, "Location": body["url"]})
    raise MethodNotAllowed(request.method)


@bp.route("/api/v2/<plural:plural>/<ident>/", methods=_METHODS, provide_automatic_options=False)
def detail_view(plural: str, ident: str) -> Response:
    ctx = require_user()
    res = _resource(plural)
    allow = {"Allow": metadata.detail_allow(res)}
    g.allow = allow["Allow"]
    if request.method == "OPTIONS":
        # As DRF: OPTIONS never needs the object, so the CLI can probe /<res>/1/ for Allow.
        pk = path_id(ident)
        row = ctx.store.get(res.table, pk) if pk is not None else None
        return json_response(metadata.detail_options(ctx, res, row), headers=allow)
    if request.method == "DELETE" and not res.deletable:   # DRF: the method before the object
        raise MethodNotAllowed(request.method)
    row = crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
    if request.method in ("GET", "HEAD"):
        return json_response(serialize_one(ctx, res, row), headers=allow)
    if request.method in ("PUT", "PATCH"):
        new = crud.update(ctx, res, row, parse_body(), partial=request.method == "PATCH")
        return json_response(serialize_one(ctx, res, new), headers=allow)
    if request.method == "DELETE":
        crud.delete(ctx, res, row)
        return json_response(None, res.delete_status, allow)
    raise MethodNotAllowed(request.method)


# strict_slashes off: clients POST actions without the slash (awx.awx's workflow_approval
# sends .../approve), and a redirect of a POST is not followed by every client.
@bp.route("/api/v2/<plural:plural>/<ident>/<sub>/", methods=_METHODS, provide_automatic_options=False,
          strict_slashes=False)
def sub_view(plural: str, ident: str, sub: str) -> Response:
    ctx = require_user()
    res = _resource(plural)
    if sub in res.actions:
        # the method is checked, and OPTIONS answered, before the object is looked up (DRF)
        view = actions.checked_view(res, sub)
        if request.method == "OPTIONS":
            return actions.options(ctx, res, view)
        return actions.dispatch(ctx, res, crud.get_row(ctx, res, resolve_pk(ctx, res, ident)), sub)
    rel = res.relation(sub)
    if rel is None:
        raise NotFound()
    target = ctx.registry[rel.target]
    allow = {"Allow": metadata.list_allow(target, rel)}
    g.allow = allow["Allow"]
    if request.method == "OPTIONS":
        # AWX checks a non-superuser's read access to the parent first (404, 403 as GET), then
        # offers POST by the parent (access.may_add_under); a superuser is not looked up
        parent = None if ctx.is_superuser else crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
        return json_response(metadata.list_options(ctx, target, rel, parent), headers=allow)
    parent = crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
    if request.method in ("GET", "HEAD"):
        page = crud.list_page(ctx, target, query_args(), request.path,
                              scope=relations.scope(ctx, res, parent, rel),
                              first_order=relations.order(ctx, parent, rel),
                              every_member=bool(rel.lists_all and rel.lists_all(parent)))
        return json_response(page, headers={**allow, **target.list_headers})
    if request.method == "POST":
        status, row = relations.post(ctx, res, parent, rel, parse_body())
        if row is None:
            return json_response(None, status, allow)
        body = serialize_one(ctx, target, row)
        return json_response(body, status, {**allow, "Location": body["url"]})
    raise MethodNotAllowed(request.method)

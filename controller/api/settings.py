"""``/api/v2/settings/`` (the categories) and ``/api/v2/settings/<slug>/`` (one category, ``all``
or ``changed``): GET, PUT, PATCH, DELETE (reset to defaults, 204) and OPTIONS, as AWX.

Registered before the generic blueprint, whose ``/api/v2/<plural>/<ident>/`` would take these
URLs.  Views parse, call :mod:`controller.services.settings`, render.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from ..errors import MethodNotAllowed
from ..services import settings as service
from .web import json_response, one_verb_view, options_body, parse_body, require_user

bp = Blueprint("settings", __name__)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
_BASE = "/api/v2/settings/"
_CATEGORY_FIELDS = {name: {"type": "string", "label": name.capitalize(), "help_text": "", "filterable": False}
                    for name in ("url", "slug", "name")}


@bp.route(_BASE, methods=_METHODS, provide_automatic_options=False)
def category_list() -> Response:
    return one_verb_view("GET", lambda ctx: options_body("Setting Categories", {"GET": _CATEGORY_FIELDS}),
                         lambda ctx: _page(service.category_list(ctx, _BASE)))


def _page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


@bp.route(f"{_BASE}<slug>/", methods=_METHODS, provide_automatic_options=False)
def category_detail(slug: str) -> Response:
    ctx = require_user()
    allow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS" if ctx.is_superuser else "GET, HEAD, OPTIONS"
    g.allow = allow
    if request.method == "OPTIONS":
        return json_response(options_body("Setting Detail", service.options(ctx, slug)), headers={"Allow": allow})
    if request.method in ("GET", "HEAD"):
        return json_response(service.read(ctx, slug), headers={"Allow": allow})
    if request.method in ("PUT", "PATCH"):
        return json_response(service.update(ctx, slug, parse_body()), headers={"Allow": allow})
    if request.method == "DELETE":
        service.reset(ctx, slug)
        return json_response(None, 204, {"Allow": allow})
    raise MethodNotAllowed(request.method)

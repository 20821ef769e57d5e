"""The polymorphic lists /unified_jobs/ and /unified_job_templates/ (read-only)."""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from ..errors import MethodNotAllowed
from ..services import metadata, unified
from .web import json_response, query_args, require_user

bp = Blueprint("unified", __name__)
_ALLOW = {"Allow": "GET, HEAD, OPTIONS"}


def _options(ctx, names: tuple[str, ...], title: str) -> dict:
    members = unified.members(ctx, names)
    get: dict[str, dict] = {}
    for res in members:
        for name, info in metadata.list_options(ctx, res)["actions"]["GET"].items():
            get.setdefault(name, info)
    get["type"] = {"type": "choice", "hidden": False, "label": "Type", "filterable": True,
                   "choices": [[r.name, r.verbose_name.title()] for r in members]}
    return {"name": title, "description": "", "renders": metadata.RENDERS, "parses": metadata.PARSES,
            "actions": {"GET": get}, "types": [r.name for r in members],
            "search_fields": ["name", "description"], "related_search_fields": [], "object_roles": [],
            "max_page_size": 200}


def _view(title: str, jobs: bool) -> Response:
    ctx = require_user()
    names = unified.job_members(ctx) if jobs else unified.template_members(ctx)
    g.allow = _ALLOW["Allow"]
    if request.method == "OPTIONS":
        return json_response(_options(ctx, names, title), headers=_ALLOW)
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    return json_response(unified.list_page(ctx, names, query_args(), request.path, jobs), headers=_ALLOW)


@bp.route("/api/v2/unified_jobs/", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False, strict_slashes=False)   # the awx CLI monitor asks without the slash
def unified_jobs() -> Response:
    return _view("Unified Job List", jobs=True)


@bp.route("/api/v2/unified_job_templates/", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False, strict_slashes=False)   # the awx CLI monitor asks without the slash
def unified_job_templates() -> Response:
    return _view("Unified Job Template List", jobs=False)

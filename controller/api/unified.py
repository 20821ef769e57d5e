"""The polymorphic lists /unified_jobs/ and /unified_job_templates/ (read-only)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from ..services import metadata, unified
from .web import one_verb_view, options_body, query_args

bp = Blueprint("unified", __name__)


def list_options(ctx, names: tuple[str, ...], title: str) -> dict:
    members = unified.members(ctx, names)
    get: dict[str, dict] = {}
    for res in members:
        for name, info in metadata.list_options(ctx, res)["actions"]["GET"].items():
            get.setdefault(name, info)
    get["type"] = {"type": "choice", "hidden": False, "label": "Type", "filterable": True,
                   "choices": [[r.name, r.verbose_name.title()] for r in members]}
    return {**options_body(title, {"GET": get}), "types": [r.name for r in members],
            "search_fields": ["name", "description"], "related_search_fields": [], "object_roles": [],
            "max_page_size": 200}


def _view(title: str, jobs: bool) -> Response:
    def members(ctx) -> tuple[str, ...]:
        return unified.job_members(ctx) if jobs else unified.template_members(ctx)
    return one_verb_view("GET", lambda ctx: list_options(ctx, members(ctx), title),
                         lambda ctx: unified.list_page(ctx, members(ctx), query_args(), request.path, jobs))


@bp.route("/api/v2/unified_jobs/", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False, strict_slashes=False)   # the awx CLI monitor asks without the slash
def unified_jobs() -> Response:
    return _view("Unified Job List", jobs=True)


@bp.route("/api/v2/unified_job_templates/", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False, strict_slashes=False)   # the awx CLI monitor asks without the slash
def unified_job_templates() -> Response:
    return _view("Unified Job Template List", jobs=False)

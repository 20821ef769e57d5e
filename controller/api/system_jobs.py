"""``/api/v2/system_job_templates/``: AWX's list of its housekeeping templates (cleanup of
old jobs, activity stream, sessions...).  Turret keeps none: its cleanup runs by itself from
the retention settings.  The list is served, empty and read-only, because awxkit's
``awx import`` orders what it creates by a dependency graph that names this endpoint (a
schedule may belong to a system job template) and stops when ``/api/v2/`` does not list it."""
from __future__ import annotations

from flask import Blueprint, Response

from .web import one_verb_view, options_body

bp = Blueprint("system_jobs", __name__)
_FIELD = {"filterable": True, "hidden": False}


def _options() -> dict:
    get = {"id": {"type": "integer", "label": "ID", **_FIELD},
           "type": {"type": "choice", "label": "Type", "choices": [["system_job_template", "System Job Template"]],
                    **_FIELD},
           "url": {"type": "string", "label": "Url", **_FIELD},
           "name": {"type": "string", "label": "Name", **_FIELD},
           "description": {"type": "string", "label": "Description", **_FIELD},
           "job_type": {"type": "choice", "label": "Job type", "choices": [
               ["cleanup_jobs", "Remove jobs older than a certain number of days"],
               ["cleanup_activitystream", "Remove activity stream entries older than a certain number of days"],
               ["cleanup_sessions", "Removes expired browser sessions from the database"],
               ["cleanup_tokens", "Removes expired OAuth 2 access tokens and refresh tokens"]], **_FIELD}}
    return {**options_body("System Job Template List", {"GET": get}), "types": ["system_job_template"],
            "search_fields": ["name", "description"], "related_search_fields": [], "object_roles": [],
            "max_page_size": 200}


@bp.route("/api/v2/system_job_templates/", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False)
def system_job_templates() -> Response:
    return one_verb_view("GET", lambda ctx: _options(),
                         lambda ctx: {"count": 0, "next": None, "previous": None, "results": []})

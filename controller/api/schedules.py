"""List-level schedule routes: ``POST /schedules/preview/`` and ``GET /schedules/zoneinfo/``.

Registered before the generic blueprint (static segments also outrank ``<ident>`` in
Werkzeug's routing).  Views parse, call :mod:`controller.services.rrules`, render.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, g, request

from ..errors import MethodNotAllowed
from ..services import metadata, rrules, schedule_forms
from .web import json_response, parse_body, require_user

bp = Blueprint("schedules", __name__)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
_PREVIEW_FIELDS = {
    "rrule": {"type": "string", "required": False, "label": "Rrule",
              "help_text": "A value representing the schedules iCal recurrence rule."},
    "cron": {"type": "string", "required": False, "label": "Cron", "help_text": "A 5-field cron expression."},
    "interval": {"type": "integer", "required": False, "label": "Interval"},
    "interval_type": {"type": "choice", "required": False, "label": "Interval type",
                      "choices": [[t, t.capitalize()] for t in schedule_forms.INTERVAL_TYPES]},
    "date": {"type": "datetime", "required": False, "label": "Date"},
    "start_time": {"type": "datetime", "required": False, "label": "Start time"},
    "end_time": {"type": "datetime", "required": False, "label": "End time"},
    "timezone": {"type": "string", "required": False, "label": "Timezone"},
}


def _options(name: str, allow: str, actions: dict) -> Response:
    return json_response({"name": name, "description": "", "renders": metadata.RENDERS, "parses": metadata.PARSES,
                          "actions": actions}, headers={"Allow": allow})


@bp.route("/api/v2/schedules/preview/", methods=_METHODS, provide_automatic_options=False)
def preview() -> Response:
    require_user()
    allow = "POST, OPTIONS"
    g.allow = allow
    if request.method == "OPTIONS":
        return _options("Schedule Recurrence Rule Preview", allow, {"POST": _PREVIEW_FIELDS})
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    now = datetime.now(timezone.utc)
    rule = schedule_forms.rule_from_input(parse_body(), now)
    return json_response(rrules.preview(rule, now), headers={"Allow": allow})


@bp.route("/api/v2/schedules/zoneinfo/", methods=_METHODS, provide_automatic_options=False)
def zoneinfo() -> Response:
    require_user()
    allow = "GET, HEAD, OPTIONS"
    g.allow = allow
    if request.method == "OPTIONS":
        return _options("Schedule Zone Info", allow, {"GET": {}})
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    return json_response(rrules.zoneinfo_listing(), headers={"Allow": allow})

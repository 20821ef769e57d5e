"""List-level schedule routes: ``POST /schedules/preview/`` and ``GET /schedules/zoneinfo/``.

Registered before the generic blueprint (static segments also outrank ``<ident>`` in
Werkzeug's routing).  Views parse, call :mod:`controller.services.rrules`, render.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response

from ..services import rrules, schedule_forms
from .web import one_verb_view, options_body, parse_body

bp = Blueprint("schedules", __name__)
_PREVIEW_NAME = "Schedule Recurrence Rule Preview"
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


@bp.route("/api/v2/schedules/preview/", methods=_METHODS, provide_automatic_options=False)
def preview() -> Response:
    """POST a rule (rrule or the interval form) -> its next occurrences, local and UTC."""
    return one_verb_view("POST", lambda ctx: options_body(_PREVIEW_NAME, {"POST": _PREVIEW_FIELDS}),
                         lambda ctx: _preview(parse_body()))


def _preview(data) -> dict:
    now = datetime.now(timezone.utc)
    return rrules.preview(schedule_forms.rule_from_input(data, now), now)


@bp.route("/api/v2/schedules/zoneinfo/", methods=_METHODS, provide_automatic_options=False)
def zoneinfo() -> Response:
    return one_verb_view("GET", lambda ctx: options_body("Schedule Zone Info", {"GET": {}}),
                         lambda ctx: rrules.zoneinfo_listing())

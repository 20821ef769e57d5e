"""Schedule routes beside the generic ones: ``POST /schedules/preview/``, ``GET
/schedules/zoneinfo/`` and ``GET /schedules/N/unified_jobs/`` (every kind of run the schedule
launched: jobs, project and inventory updates, workflow jobs; a generic sub-list has one target).

Registered before the generic blueprint (static segments also outrank ``<ident>`` in
Werkzeug's routing).  Views parse, call :mod:`controller.services.rrules`, render.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, request

from ..services import crud, rrules, schedule_forms, unified
from .unified import list_options as unified_options
from .web import one_verb_view, options_body, parse_body, query_args, resolve_pk

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


@bp.route("/api/v2/schedules/<ident>/unified_jobs/", methods=_METHODS, provide_automatic_options=False,
          strict_slashes=False)
def unified_jobs(ident: str) -> Response:
    """The runs the schedule launched, of every kind, as ``/unified_jobs/?schedule=N`` lists them
    (404/403 for a schedule the user cannot see)."""
    def run(ctx) -> dict:
        res = ctx.registry["schedule"]
        row = crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
        return unified.list_page(ctx, unified.job_members(ctx), [*query_args(), ("schedule", str(row["id"]))],
                                 request.path, True)
    def options(ctx) -> dict:
        return unified_options(ctx, unified.job_members(ctx), "Schedule Unified Jobs List")
    return one_verb_view("GET", options, run)

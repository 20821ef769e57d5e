"""Schedule input forms (OpsGrat's): a 5-field ``cron``, an ``interval`` + ``interval_type``, a
one-off ``date``, with ``timezone`` and ``start_time`` / ``end_time`` windows -> the stored rule.

Contracts: :func:`translate` returns AWX rule text that :func:`controller.services.rrules.parse`
accepts, with the same occurrences as the form (see :mod:`controller.services.cron` for cron);
errors are ValidationError keyed by the input field.  :func:`rule_from_input` picks the one
form a body gives (``rrule`` included), for the preview endpoint.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import ValidationError
from .cron import CronError, to_rrule_bodies
from .rrules import UTC, Rule, format_dtstart, get_zone, parse

FORMS = ("rrule", "cron", "interval", "date")
INTERVAL_TYPES = ("seconds", "minutes", "hours", "days", "weeks")
_INTERVAL_FREQ = {"seconds": "MINUTELY", "minutes": "MINUTELY", "hours": "HOURLY", "days": "DAILY",
                  "weeks": "WEEKLY"}
DATETIME_FORMAT = ("Datetime has wrong format. Use one of these formats instead: "
                   "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].")


def zone_or_error(name: str | None):
    """The tzinfo of a ``timezone`` input ("" means UTC), or ValidationError on ``timezone``."""
    try:
        return get_zone(name or "UTC")
    except ValueError:
        raise ValidationError({"timezone": [f"Unknown time zone {name!r}; see /api/v2/schedules/zoneinfo/."]}) \
            from None


def parse_local(value, tz, field: str) -> datetime:
    """ISO 8601 input -> aware datetime in ``tz`` (a naive value is a wall time in ``tz``)."""
    try:
        at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({field: [DATETIME_FORMAT]}) from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def translate(form: str, values: dict, now: datetime) -> str:
    """The rule text for a ``cron``, ``interval`` or ``date`` form.

    ``values`` holds the form's inputs: ``cron`` | ``interval`` + ``interval_type`` | ``date``,
    optional ``start_time`` / ``end_time`` (cron and interval only; end_time becomes UTC UNTIL)
    and ``timezone`` (IANA, default UTC).  Without start_time a cron or interval schedule starts
    at the next whole minute after ``now``.  Raises ValidationError keyed by the input field.
    """
    tzname = values.get("timezone") or "UTC"
    tz = zone_or_error(tzname)
    tzname = "UTC" if tz is UTC else tzname
    start = parse_local(values["start_time"], tz, "start_time") if values.get("start_time") else None
    end = parse_local(values["end_time"], tz, "end_time") if values.get("end_time") else None
    if form == "date":
        for key in ("start_time", "end_time"):
            if values.get(key):
                raise ValidationError({key: ["start_time and end_time apply to cron and interval schedules."]})
        at = parse_local(values["date"], tz, "date")
        return f"{format_dtstart(at, tzname)} RRULE:FREQ=MINUTELY;INTERVAL=1;COUNT=1"
    if start is None:
        local = now.astimezone(tz)
        start = local.replace(second=0, microsecond=0)
        if start < local:
            start += timedelta(minutes=1)
    if end is not None and end <= start:
        raise ValidationError({"end_time": ["end_time must be later than start_time."]})
    until = f";UNTIL={end.astimezone(UTC):%Y%m%dT%H%M%SZ}" if end is not None else ""
    if form == "cron":
        try:
            bodies = to_rrule_bodies(values.get("cron") or "")
        except CronError as exc:
            raise ValidationError({"cron": [str(exc)]}) from None
        head = format_dtstart(start.replace(second=0, microsecond=0), tzname)
        return " ".join([head] + [f"RRULE:{body}{until}" for body in bodies])
    if form != "interval":
        raise ValueError(form)
    every, unit = values.get("interval"), values.get("interval_type")
    if not every:
        raise ValidationError({"interval": ["This field is required with interval_type."]})
    if unit not in INTERVAL_TYPES:
        raise ValidationError({"interval_type": ["This field is required with interval."]})
    if unit == "seconds":
        if every % 60:
            raise ValidationError({"interval": ["An interval in seconds must be a multiple of 60: schedules "
                                                "fire on whole minutes (FREQ=SECONDLY is not supported)."]})
        every //= 60
    return f"{format_dtstart(start, tzname)} RRULE:FREQ={_INTERVAL_FREQ[unit]};INTERVAL={every}{until}"


def rule_from_input(values: dict, now: datetime) -> Rule:
    """A Rule from exactly one of ``rrule``, ``cron``, ``interval`` or ``date`` (with their
    options), for ``POST /schedules/preview/``."""
    given = [f for f in FORMS if values.get(f) not in (None, "")]
    if not given and values.get("rrule") is None:
        raise ValidationError({"rrule": ["This field is required."]})
    if len(given) > 1:
        raise ValidationError({given[1]: [f"Give only one of rrule, cron, interval or date (got {', '.join(given)})."]})
    if not given or given[0] == "rrule":
        return parse(values["rrule"])
    if given[0] == "interval":
        try:
            values = {**values, "interval": int(values["interval"])}
        except (TypeError, ValueError):
            raise ValidationError({"interval": ["A valid integer is required."]}) from None
        if values["interval"] < 1:
            raise ValidationError({"interval": ["Ensure this value is greater than or equal to 1."]})
    return parse(translate(given[0], values, now))

"""Schedule rules: AWX-style RFC 5545 text (``DTSTART;TZID=Zone:YYYYMMDDTHHMMSS RRULE:...``).

Contracts:
  * :func:`validate` applies AWX's checks in AWX's order with AWX's messages and returns the
    list of errors (empty when the rule is accepted); :func:`parse` raises
    :class:`~controller.errors.ValidationError` ``{"rrule": [...]}`` with that list.
  * A naive ``UNTIL`` is read in the DTSTART's zone and rewritten as UTC, as AWX's
    ``coerce_naive_until`` does; :attr:`Rule.text` is the normalised text that gets stored.
  * Occurrences come from python-dateutil over a ``zoneinfo`` DTSTART, in wall-clock time.
    Times that do not exist (spring-forward gap) are skipped; a repeated wall time (fall-back)
    occurs once, at its first instant.  Unbounded MINUTELY/HOURLY rules are fast-forwarded
    towards the reference time as AWX does, so a years-old DTSTART costs nothing.
  * Every datetime returned is timezone-aware; :func:`iso_z` renders UTC as AWX/DRF do.
"""
from __future__ import annotations

import re
import warnings
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import overload

from dateutil import rrule as du
from dateutil.tz import datetime_exists

from ..errors import ValidationError

UTC = timezone.utc
MSG_DTSTART = "Valid DTSTART required in rrule. Value should start with: DTSTART:YYYYMMDDTHHMMSSZ"
MSG_NAIVE = "DTSTART cannot be a naive datetime.  Specify ;TZINFO= or YYYYMMDDTHHMMSSZZ."
MSG_MULTI = "Multiple DTSTART is not supported."
MSG_NO_RULE = "One or more rule required in rrule."
MSG_TZID = "A valid TZID must be provided (e.g., America/New_York)"
_BYDAY_PREFIX = re.compile(r".*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}")
_ALL_DTSTART = re.compile(r".*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)")
_NAIVE_DTSTART = re.compile(r".*?(DTSTART:[0-9]+T[0-9]+) ")
_RULES = re.compile(r".*?(RULE\:[^\s]*)")
_COUNT = re.compile(r".*?(COUNT\=[0-9]+)")
_DTSTART = re.compile(r"^DTSTART(?:;TZID=(?P<tz>[^:;]+))?:(?P<at>\d{8}T\d{6})(?P<z>Z?)$")
_UNTIL = re.compile(r"UNTIL=(?P<at>[0-9]+T[0-9]+)(?P<z>Z?)", re.I)
_FAST_FORWARD = {du.HOURLY: 3600, du.MINUTELY: 60}
_SCAN_LIMIT = 5000          # occurrences looked at to find one that exists (DST gaps are short)


@dataclass(frozen=True)
class Rule:
    """A validated rule: normalised text, aware DTSTART, zone name and its RRULE/EXRULE lines."""

    text: str
    dtstart: datetime
    tzname: str
    lines: tuple[str, ...]

    @property
    def tz(self):
        return self.dtstart.tzinfo


# -- zones ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def get_zone(name: str):
    """The tzinfo for an IANA name ("UTC" is datetime.timezone.utc); ValueError if unknown."""
    if name in ("UTC", "Z"):
        return UTC
    if name not in zone_names():
        raise ValueError(name)
    return zoneinfo.ZoneInfo(name)


def zoneinfo_listing() -> dict:
    """``GET /schedules/zoneinfo/``: sorted zone names and ``{link: target}`` from tzdata."""
    links: dict[str, str] = {}
    for base in [Path(p) for p in zoneinfo.TZPATH] + _tzdata_dirs():
        source = base / "tzdata.zi"
        if source.is_file():
            for line in source.read_text(errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == "L" and parts[2] in zone_names():
                    links[parts[2]] = parts[1]
            break
    zones = sorted(zone_names())
    return {"zones": zones, "links": dict(sorted(links.items()))}


def _tzdata_dirs() -> list[Path]:
    try:
        import tzdata
    except ImportError:
        return []
    return [Path(tzdata.__file__).parent / "zoneinfo"]


# -- validation and parsing -------------------------------------------------------------------------
def coerce_naive_until(text: str, tz) -> str:
    """Rewrite ``UNTIL=YYYYMMDDTHHMMSS`` (no Z) as the UTC instant of that wall time in ``tz``."""
    def fix(m: re.Match) -> str:
        if m.group("z"):
            return m.group(0)
        local = datetime.strptime(m.group("at"), "%Y%m%dT%H%M%S").replace(tzinfo=tz)
        return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return _UNTIL.sub(fix, text)


def _parse_dtstart(token: str) -> tuple[datetime, str]:
    m = _DTSTART.match(token)
    if not m:
        raise ValueError(f"unparsable DTSTART: {token}")
    tzname = m.group("tz")
    if tzname and m.group("z"):
        raise ValueError("a DTSTART with TZID must be a local time (no trailing Z)")
    if not tzname and not m.group("z"):
        raise ValueError(MSG_TZID)     # AWX: a naive DTSTART has no zone to read it in
    try:
        tz = get_zone(tzname or "UTC")
    except ValueError:
        raise ValueError(f"{MSG_TZID}. Invalid: {tzname}") from None
    at = datetime.strptime(m.group("at"), "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    return at, ("UTC" if tz is UTC else tzname)


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_possible(body: str) -> None:
    """Refuse BYMONTHDAY values no BYMONTH month has (dateutil would search until year 9999)."""
    parts = dict(p.split("=", 1) for p in body.upper().split(";") if "=" in p)
    try:
        days = [int(d) for d in parts.get("BYMONTHDAY", "").split(",") if d]
        months = [int(m) for m in parts["BYMONTH"].split(",") if m] if "BYMONTH" in parts else range(1, 13)
    except ValueError:
        return                       # dateutil reports malformed values
    if days and all(d > 0 for d in days) and not any(0 < m <= 12 and d <= _MONTH_DAYS[m - 1]
                                                      for m in months for d in days):
        raise ValueError(f"the rule never occurs: no month of BYMONTH has day {parts['BYMONTHDAY']}")


def _build(text: str) -> Rule:
    """Tokens -> Rule; ValueError with dateutil's (or our) message when it cannot be parsed."""
    tokens = text.split()
    starts = [t for t in tokens if t.upper().startswith("DTSTART")]
    if len(starts) != 1:
        raise ValueError("exactly one DTSTART is required")
    dtstart, tzname = _parse_dtstart(starts[0])
    lines = []
    for token in tokens:
        if token is starts[0]:
            continue
        name = token.split(":", 1)[0].upper()
        if name not in ("RRULE", "EXRULE") or ":" not in token:
            raise ValueError(f"unsupported property: {name}")
        lines.append(f"{name}:{token.split(':', 1)[1]}")
        _check_possible(lines[-1].split(":", 1)[1])
    normalised = coerce_naive_until(" ".join([starts[0], *lines]), dtstart.tzinfo)
    rule = Rule(normalised, dtstart, tzname, tuple(normalised.split()[1:]))
    with warnings.catch_warnings():   # COUNT with UNTIL: reported by validate(), not as a warning
        warnings.simplefilter("ignore", DeprecationWarning)
        ruleset(rule)   # dateutil's own checks (FREQ, BY* values, UNTIL vs DTSTART ...)
    return rule


def validate(text: str) -> list[str]:
    """AWX's SchedulePreviewSerializer.validate_rrule: every error, AWX wording and order."""
    if not isinstance(text, str) or not text.strip():
        return ["This field may not be blank."]
    errors: list[str] = []
    low = text.lower()
    if not _ALL_DTSTART.findall(text):
        errors.append(MSG_DTSTART)
    if _NAIVE_DTSTART.findall(text):
        errors.append(MSG_NAIVE)
    if len(_ALL_DTSTART.findall(text)) > 1:
        errors.append(MSG_MULTI)
    if "rrule:" not in low:
        errors.append(MSG_NO_RULE)
    if "exdate:" in low:
        return ["EXDATE not allowed in rrule."]
    if "rdate:" in low:
        return ["RDATE not allowed in rrule."]
    for a_rule in _RULES.findall(text):
        if "interval" not in a_rule.lower():
            errors.append(f"INTERVAL required in rrule: {a_rule}")
        elif "secondly" in a_rule.lower():
            errors.append(f"SECONDLY is not supported: {a_rule}")
        if _BYDAY_PREFIX.match(a_rule):
            errors.append(f"BYDAY with numeric prefix not supported: {a_rule}")
        if "COUNT" in a_rule and "UNTIL" in a_rule:
            errors.append(f"RRULE may not contain both COUNT and UNTIL: {a_rule}")
        count = _COUNT.match(a_rule)
        if count and int(count.group(1).split("=")[1]) > 999:
            errors.append(f"COUNT > 999 is unsupported: {a_rule}")
    try:
        _build(text)
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's rule
        errors.append(f"rrule parsing failed validation: {exc}")
    return errors


def parse(text: str) -> Rule:
    """A validated :class:`Rule`, or ValidationError ``{"rrule": [messages]}``."""
    errors = validate(text)
    if errors:
        raise ValidationError({"rrule": errors})
    return _build(text)


# -- occurrences -------------------------------------------------------------------------------------
def _fast_forward(r: du.rrule, ref: datetime | None) -> du.rrule:
    """AWX's _fast_forward_rrule: move an unbounded MINUTELY/HOURLY rule's DTSTART to the last
    interval-aligned instant before ``ref`` (in UTC), keeping the occurrences after ``ref``."""
    unit = _FAST_FORWARD.get(r._freq)
    if unit is None or r._count or ref is None:
        return r
    start = r._dtstart.astimezone(UTC)
    ref = ref.astimezone(UTC)
    if start > ref:
        return r
    step = (r._interval or 1) * unit
    offset = ((ref - start).total_seconds() // step) * step
    return r.replace(dtstart=(start + timedelta(seconds=offset)).astimezone(r._dtstart.tzinfo))


def ruleset(rule: Rule, ref: datetime | None = None) -> du.rruleset:
    """The dateutil ruleset, fast-forwarded towards ``ref`` when given."""
    rs = du.rruleset()
    for line in rule.lines:
        kind, body = line.split(":", 1)
        r = _fast_forward(du.rrulestr(body, dtstart=rule.dtstart), ref)
        (rs.exrule if kind == "EXRULE" else rs.rrule)(r)
    return rs


def occurrences_after(rule: Rule, after: datetime, count: int) -> list[datetime]:
    """Up to ``count`` existing occurrences strictly after ``after``, in the rule's zone."""
    out: list[datetime] = []
    for seen, at in enumerate(ruleset(rule, after).xafter(after, inc=False)):
        if len(out) >= count or seen >= _SCAN_LIMIT + count:
            break
        if datetime_exists(at):
            out.append(at)
    return out


def next_after(rule: Rule, after: datetime) -> datetime | None:
    """The first existing occurrence strictly after ``after`` (None when exhausted)."""
    found = occurrences_after(rule, after, 1)
    return found[0] if found else None


def first(rule: Rule) -> datetime | None:
    """The first existing occurrence (on or after DTSTART)."""
    return next_after(rule, rule.dtstart - timedelta(seconds=1))


def last(rule: Rule) -> datetime | None:
    """The last occurrence when every RRULE has COUNT or UNTIL (else None), found by looking
    back from the latest UNTIL in growing windows so a long MINUTELY rule stays cheap."""
    rules = [du.rrulestr(line.split(":", 1)[1], dtstart=rule.dtstart)
             for line in rule.lines if line.startswith("RRULE")]
    if not rules or any(not (r._count or r._until) for r in rules):
        return None
    bounds = [r._until for r in rules if r._until]
    counted = [list(r)[-1] for r in rules if r._count and r.count()]
    bound = max(bounds + counted, default=None)
    if bound is None:
        return None
    for span in (timedelta(days=1), timedelta(days=40), timedelta(days=800), None):
        ref = bound - span if span is not None else None
        found = ruleset(rule, ref).before(bound + timedelta(seconds=1), inc=True)
        if found is not None and (ref is None or found >= ref):
            return found
    return None


def until_local(rule: Rule) -> str:
    """AWX ``until``: the UNTIL of the first RRULE that has one (an EXRULE's end is not the
    schedule's), as a naive local ISO time in the DTSTART's zone, or ""."""
    for line in rule.lines:
        m = _UNTIL.search(line) if line.upper().startswith("RRULE:") else None
        if m:
            at = datetime.strptime(m.group("at"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            return at.astimezone(rule.tz).replace(tzinfo=None).isoformat()
    return ""


# -- rendering ---------------------------------------------------------------------------------------
@overload
def iso_z(at: datetime) -> str: ...


@overload
def iso_z(at: None) -> None: ...


def iso_z(at: datetime | None) -> str | None:
    """UTC ``YYYY-MM-DDTHH:MM:SSZ`` (AWX's rendering of next_run, dtstart, dtend)."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@overload
def stored_z(at: datetime) -> str: ...


@overload
def stored_z(at: None) -> None: ...


def stored_z(at: datetime | None) -> str | None:
    """UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: how every datetime is stored (``created`` of a job,
    the values filters are normalised to), so text comparison orders and matches them; the
    serializer renders it as DRF does (``…:SSZ`` when the microseconds are zero)."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def drf_iso(at: datetime) -> str:
    """DRF's DateTimeField output: isoformat with ``+00:00`` written ``Z``."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_z(text: str) -> datetime:
    """A UTC ``…Z`` text, with or without microseconds (:func:`iso_z`, :func:`stored_z`)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def rendered_z(stored: str) -> str:
    """A stored schedule time (:func:`stored_z`) as AWX renders it (``…:SSZ``, :func:`iso_z`)."""
    return iso_z(parse_z(stored))


def format_dtstart(at: datetime, tzname: str) -> str:
    """``DTSTART:…Z`` for UTC, ``DTSTART;TZID=Zone:…`` (local wall time) otherwise."""
    if tzname == "UTC":
        return "DTSTART:" + at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"DTSTART;TZID={tzname}:" + at.strftime("%Y%m%dT%H%M%S")


def preview(rule: Rule, now: datetime, count: int = 10) -> dict:
    """``POST /schedules/preview/``: the next ``count`` existing occurrences after ``now``."""
    found = occurrences_after(rule, now, count)
    return {"local": [drf_iso(at) for at in found], "utc": [iso_z(at) for at in found]}


def computed(rule: Rule, enabled: bool, now: datetime) -> dict:
    """The derived (read-only) columns of a schedule: dtstart, dtend, next_run (stored form)."""
    return {"dtstart": stored_z(first(rule)), "dtend": stored_z(last(rule)),
            "next_run": stored_z(next_after(rule, now)) if enabled else None}

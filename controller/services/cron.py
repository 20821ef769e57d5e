"""Five-field cron expressions -> equivalent RRULE bodies (OpsGrat's cron schedule form).

Contract: :func:`to_rrule_bodies` returns one or two ``FREQ=…;INTERVAL=1;BY…`` bodies whose
union fires at exactly the minutes the cron expression matches (Vixie cron semantics: when
both day-of-month and day-of-week are restricted and neither starts with ``*``, a day matches
if EITHER matches, which becomes two RRULE lines).  It raises :class:`CronError` (a message
for the ``cron`` field) for syntax errors and for what an RRULE cannot express: the
non-standard ``L``, ``W``, ``#``, ``?`` and ``H`` forms, a seconds or years field, ``@reboot``,
and expressions that never match a date.  DTSTART (second 0) and UNTIL are the caller's.
"""
from __future__ import annotations

import calendar
import re

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
BYDAY = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# (label, lowest, highest, names)
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
    ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS))
_UNSUPPORTED = re.compile(r"[LW#?H]", re.I)
_MAX_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


class CronError(ValueError):
    """The expression is invalid, or cannot be expressed as an RRULE."""


def _value(text: str, label: str, lo: int, hi: int, names: dict) -> int:
    key = text.lower()
    if key in names:
        return names[key]
    if not text.isdigit():
        raise CronError(f"Invalid {label} value {text!r}.")
    value = int(text)
    if not lo <= value <= hi:
        raise CronError(f"{label.capitalize()} value {value} is out of range {lo}-{hi}.")
    return value


def parse_field(text: str, label: str, lo: int, hi: int, names: dict) -> set[int]:
    """One cron field -> the set of values it matches."""
    if _UNSUPPORTED.search(re.sub(r"[a-z]{3}", lambda m: "" if m.group(0).lower() in names else m.group(0),
                                  text, flags=re.I)):
        raise CronError(f"The {label} field {text!r} uses a non-standard cron form (L, W, #, ?, H) "
                        f"that an RRULE cannot express.")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"Invalid step {step_text!r} in the {label} field.")
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, label, lo, hi, names), _value(b, label, lo, hi, names)
            if start > end:
                raise CronError(f"Invalid range {base!r} in the {label} field.")
        elif base:
            start = _value(base, label, lo, hi, names)
            end = hi if step_text else start
        else:
            raise CronError(f"Empty value in the {label} field.")
        values.update(range(start, end + 1, step))
    return values


def parse(expr: str) -> tuple[list[set[int]], bool, bool]:
    """(value sets for minute, hour, dom, month, dow (0 = Sunday), dom starred, dow starred)."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("A cron expression is required.")
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise CronError(f"{text} cannot be expressed as a schedule; use one of {', '.join(MACROS)}.")
        text = MACROS[text.lower()]
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"A cron expression has 5 fields (minute hour day-of-month month day-of-week); got "
                        f"{len(parts)}. Seconds and years fields are not supported.")
    sets = [parse_field(p, *spec) for p, spec in zip(parts, FIELDS)]
    if 7 in sets[4]:
        sets[4] = (sets[4] - {7}) | {0}
    return sets, parts[2].startswith("*"), parts[4].startswith("*")


def _list(values: set[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


def to_rrule_bodies(expr: str) -> list[str]:
    """The RRULE bodies (without ``RRULE:``) equivalent to ``expr``."""
    (minutes, hours, doms, months, dows), dom_star, dow_star = parse(expr)
    either = not dom_star and not dow_star      # Vixie: a day matches if EITHER field matches
    if not either and not any(d <= _MAX_DAYS[m] for m in months for d in doms):
        raise CronError("The expression never matches a date.")
    if len(minutes) == 60:
        base = ["FREQ=MINUTELY", "INTERVAL=1"] + ([] if len(hours) == 24 else [f"BYHOUR={_list(hours)}"])
    elif len(hours) == 24:
        base = ["FREQ=HOURLY", "INTERVAL=1", f"BYMINUTE={_list(minutes)}"]
    else:
        base = ["FREQ=DAILY", "INTERVAL=1", f"BYHOUR={_list(hours)}", f"BYMINUTE={_list(minutes)}"]
    if len(months) < 12:
        base.append(f"BYMONTH={_list(months)}")
    by_dom = f"BYMONTHDAY={_list(doms)}" if len(doms) < 31 else None
    by_dow = "BYDAY=" + ",".join(BYDAY[d] for d in sorted(dows)) if len(dows) < 7 else None
    if either:
        if by_dom is None or by_dow is None:   # one of them matches every day
            return [";".join(base)]
        return [";".join(base + [by_dom]), ";".join(base + [by_dow])]
    return [";".join(base + [b for b in (by_dom, by_dow) if b])]

"""Values of the query language: the integer parser every user-supplied id goes through, the
two errors the compiler raises, and the conversions of filter values to stored forms."""
from __future__ import annotations

import json
from datetime import datetime, timezone

INT64_MAX = 2 ** 63 - 1     # SQLite binds nothing wider: a bigger int is OverflowError at execute time


def parse_int64(text: str) -> int:
    """``text`` as a signed 64-bit integer written in ASCII digits, else ``ValueError``.

    The one integer parser for user input (path ids, filter values, paging, line numbers):
    ``int()`` alone takes Unicode digits (``"١"``) and ``_`` separators, and returns values
    SQLite cannot bind.  Surrounding whitespace and one sign are accepted, as ``int()`` does.
    """
    body = text.strip()
    digits = body[1:] if body[:1] in ("+", "-") else body
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a 64-bit integer: {text!r}")
    value = int(body)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"not a 64-bit integer: {text!r}")
    return value


class QueryError(Exception):
    """A malformed filter/order: HTTP 400 ``{"detail": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ForbiddenFilter(Exception):
    """Filtering/ordering on a protected field: HTTP 403 ``{"detail": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def dj_error(message: str) -> QueryError:
    """A Django ValidationError as AWX shows it: the messages JSON-dumped (DAB does
    ``json.dumps(e.messages)``)."""
    return QueryError(json.dumps([message], ensure_ascii=False))


def to_bool(value: str, allow_none: bool = False) -> bool | None:
    """A filter value as a boolean (``true/1/t``, ``false/0/f``; ``none/null`` when allowed)."""
    low = str(value).lower()
    if low in ("true", "1", "t"):
        return True
    if low in ("false", "0", "f"):
        return False
    if allow_none and low in ("none", "null"):
        return None
    raise QueryError(f'Unable to convert "{value}" to boolean')


def to_datetime(value: str) -> str:
    """Normalize to the stored form (UTC, 6-digit microseconds, ``Z``) so text comparison works."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise dj_error(f"“{value}” value has an invalid format. It must be in "
                       "YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)  # naive values are read as UTC (TIME_ZONE=UTC)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def like_escape(value: str) -> str:
    """A literal for LIKE ... ESCAPE '\\': %, _ and the escape itself lose their meaning."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

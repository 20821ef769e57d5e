"""Runner events -> stored rows: ``event_row`` (pure), secret scrubbing, and the runner's event
handler, which only enqueues the row for the one writer thread (:mod:`.event_writer`): it
must return within a millisecond or so (it runs in the pty pump and slows ansible itself).
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

import orjson

from ..store import now_iso


FAILED_EVENTS = {"runner_on_failed", "runner_on_error", "runner_on_unreachable", "runner_on_async_failed",
                 "runner_item_on_failed", "error"}
DISPLAY = {
    "playbook_on_start": ("Playbook Started", 0), "playbook_on_play_start": ("Play Started", 1),
    "playbook_on_stats": ("Playbook Complete", 1), "playbook_on_vars_prompt": ("Variables Prompted", 1),
    "playbook_on_task_start": ("Task Started", 2), "playbook_on_notify": ("Running Handlers", 2),
    "playbook_on_include": ("Including File", 2), "playbook_on_no_hosts_matched": ("No Hosts Matched", 2),
    "playbook_on_no_hosts_remaining": ("No Hosts Remaining", 2), "playbook_on_setup": ("Gathering Facts", 2),
    "playbook_on_handler_task_start": ("Handler Task Started", 2),
    "runner_on_ok": ("Host OK", 3), "runner_on_failed": ("Host Failed", 3), "runner_on_error": ("Host Failure", 3),
    "runner_on_skipped": ("Host Skipped", 3), "runner_on_unreachable": ("Host Unreachable", 3),
    "runner_on_start": ("Host Started", 3), "runner_on_no_hosts": ("No Hosts Remaining", 3),
    "runner_on_async_poll": ("Host Polling", 3), "runner_on_async_ok": ("Host Async OK", 3),
    "runner_on_async_failed": ("Host Async Failure", 3), "runner_item_on_ok": ("Item OK", 3),
    "runner_item_on_failed": ("Item Failed", 3), "runner_item_on_skipped": ("Item Skipped", 3),
    "runner_retry": ("Host Retry", 3), "runner_on_file_diff": ("File Difference", 3),
    "debug": ("Debug", 0), "verbose": ("Verbose", 0), "deprecated": ("Deprecated", 0),
    "warning": ("Warning", 0), "system_warning": ("System Warning", 0), "error": ("Error", 0),
}
# event_data keys worth keeping; the rest (e.g. full results of big loops) stays in stdout.
_KEEP_DATA = ("playbook", "playbook_uuid", "play", "play_uuid", "play_pattern", "task", "task_uuid",
              "task_action", "task_args", "task_path", "role", "host", "remote_addr", "res", "start", "end",
              "duration", "event_loop", "resolved_action", "ignore_errors", "pid", "uuid",
              "processed", "changed", "ok", "dark", "failures", "ignored", "rescued", "skipped",
              "artifact_data", "item", "name", "is_conditional")


def _dumps(value: Any) -> str:
    """Compact JSON text of kept event data: orjson (an order of magnitude faster than the
    standard library on runner events), the standard library for what orjson refuses (integers
    beyond 64 bits).  Anything else unserializable becomes its ``str()``, as before."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=str)


_clock: list = [0, ""]


def _now() -> str:
    """``now_iso()`` at most once per millisecond: stamping thousands of events a second with
    strftime each was a tenth of the event path's CPU."""
    tick = time.monotonic_ns() // 1_000_000
    if tick != _clock[0]:
        _clock[0], _clock[1] = tick, now_iso()
    return _clock[1]


def _changed(data: dict) -> bool:
    res = data.get("res")
    return bool(isinstance(res, dict) and res.get("changed"))


def event_row(event: dict, parent: str, job_id: int, now: str) -> dict[str, Any]:
    """One ansible-runner event dict -> an events-table row (runner's own line numbers tile
    the stdout from 0, so they are kept as they are)."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    kept = {k: data[k] for k in _KEEP_DATA if k in data}
    failed = kind in FAILED_EVENTS and not data.get("ignore_errors")
    changed = _changed(data)
    if kind == "playbook_on_stats":
        failed = bool(data.get("failures") or data.get("dark"))
        changed = bool(data.get("changed"))
    # values are SQLite-ready (JSON text, 0/1): the writer inserts them without converting
    return {
        parent: job_id,
        "event": kind,
        "counter": event.get("counter", 0),
        "event_data": _dumps(kept),
        "failed": int(failed),
        "changed": int(changed),
        "uuid": event.get("uuid", ""),
        "parent_uuid": event.get("parent_uuid", "") or "",
        "host_name": data.get("host", "") or "",
        "playbook": data.get("playbook", "") or "",
        "play": data.get("play", "") or "",
        "task": data.get("task", "") or "",
        "role": data.get("role", "") or "",
        "stdout": event.get("stdout", "") or "",
        "start_line": event.get("start_line", 0) or 0,
        "end_line": event.get("end_line", 0) or 0,
        "verbosity": data.get("verbosity", 0) or 0,
        "created": _awx_time(event.get("created")) or now,
        "modified": now,
    }


def _awx_time(value: Any) -> str | None:
    """Runner's "...+00:00" timestamps -> AWX's "...Z" with microseconds."""
    if not value:
        return None
    text = str(value)
    if len(text) == 32 and text.endswith("+00:00") and text[19] == ".":
        return text[:26] + "Z"        # runner's usual shape: no parsing needed
    from datetime import datetime, timezone
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def display_fields(ctx, rows: list[dict]) -> dict[int, dict]:
    """Computed ``event_display`` / ``event_level`` for event rows."""
    out = {}
    for r in rows:
        label, level = DISPLAY.get(r["event"], (r["event"], 0))
        if r["event"] == "playbook_on_play_start" and r.get("play"):
            label = f"{label} ({r['play']})"
        elif r["event"] == "playbook_on_task_start" and r.get("task"):
            label = f"{label} ({r['role'] + ' | ' if r.get('role') else ''}{r['task']})"
        out[r["id"]] = {"event_display": label, "event_level": level}
    return out


MIN_SECRET = 4   # shorter values cannot be told apart from ordinary text (AWX scrubs nothing)


def secret_pattern(secrets: list) -> "re.Pattern | None":
    """One regex matching every distinct secret (longest first), or None."""
    values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET and s != "ASK"},
                    key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in values)) if values else None


def _scrub_value(value: Any, pattern: "re.Pattern") -> Any:
    if isinstance(value, str):
        return pattern.sub("$encrypted$", value)
    if isinstance(value, dict):
        return {k: _scrub_value(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, pattern) for v in value]
    return value


def scrub(event: dict, pattern: "re.Pattern | None") -> dict:
    """Replace secret values inside an event's string *values* (never its keys or its type) with
    $encrypted$, in one pass.  Credentials are injected so they do not print; this catches a
    playbook that echoes one."""
    if pattern is None:
        return event
    return {k: (v if k in ("event", "uuid", "parent_uuid", "counter") else _scrub_value(v, pattern))
            for k, v in event.items()}


def event_handler(writer: Any, events_table: str, parent_col: str, pk: int, *,
                  pattern: "re.Pattern | None" = None, host_ids: dict[str, int] | None = None,
                  run_data: dict | None = None) -> Callable[[dict], bool]:
    """The runner's event handler of one run: scrub secrets, keep the stats event's artifacts
    and counts in ``run_data``, build the row (linking its host when ``host_ids`` is given),
    queue it for the writer (an :class:`~.event_writer.EventWriter`, or anything with its
    ``put``).  Returns False, which tells ansible-runner not to write the event to disk (the
    writer stores it).  The dispatcher runs jobs through it and the benchmark measures it, so
    both see one event path."""
    data_out = run_data if run_data is not None else {"artifacts": {}, "stats": {}}

    def handle(event: dict) -> bool:
        event = scrub(event, pattern)
        if event.get("event") == "playbook_on_stats":
            data = event.get("event_data") or {}
            data_out["artifacts"].update(data.get("artifact_data") or {})
            data_out["stats"] = data
        row = event_row(event, parent_col, pk, _now())
        if host_ids is not None:
            row["host"] = host_ids.get(row["host_name"])
        writer.put(events_table, row)
        return False
    return handle

"""A unified job's output, rebuilt from its events (which tile the stdout line by line).

Contracts:
  * :func:`render` answers ``GET /<jobs>/N/stdout/`` for any unified job, in every format
    (``txt``, ``ansi``, ``json``, ``html``, ``txt_download``, ``ansi_download``); it reads the
    job's kind from its declaration (``Resource.unified_job``), so it needs no job worker.
    Output past ``MAX_DISPLAY`` bytes is replaced by AWX's message except in downloads.
  * :func:`event_stream` yields the Server-Sent Events of a job's stored events as they arrive,
    then ``end`` once the job has finished and every event is stored.
"""
from __future__ import annotations

import html
import json
import re
import time
from typing import Iterator

from ..errors import NotFound
from ..registry import Resource
from ..status import FINISHED
from ..store import jobs as q

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
MAX_DISPLAY = 1024 * 1024
_COLORS = {"30": "#555", "31": "#c33", "32": "#393", "33": "#b80", "34": "#36c", "35": "#a3a",
           "36": "#399", "37": "#ccc", "90": "#888", "91": "#f55", "92": "#5c5", "93": "#dd5",
           "94": "#59f", "95": "#d6d", "96": "#5dd", "97": "#fff"}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def join_events(chunks: list[tuple[int, int, str]], start: int | None = None,
                end: int | None = None) -> tuple[str, int, int]:
    """(text, first line, last line) of the events' stdout, optionally cut to [start, end)."""
    lines: list[str] = []
    first = None
    last = 0
    for s, e, text in chunks:
        part = text.replace("\r\n", "\n").split("\n")
        for offset, line in enumerate(part):
            n = s + offset
            if (start is not None and n < start) or (end is not None and n >= end):
                continue
            if first is None:
                first = n
            lines.append(line)
            last = n + 1
    return ("\n".join(lines) + ("\n" if lines else "")), (first or 0), last


def to_html(text: str, title: str, dark: bool = False) -> str:
    """A standalone page with ANSI colours rendered as spans."""
    out, open_span = [], False
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m", text):
        out.append(html.escape(strip_ansi(text[pos:m.start()])))
        pos = m.end()
        if open_span:
            out.append("</span>")
            open_span = False
        codes = [c for c in m.group(1).split(";") if c]
        color = next((_COLORS[c] for c in codes if c in _COLORS), None)
        if color:
            out.append(f'<span style="color:{color}">')
            open_span = True
    out.append(html.escape(strip_ansi(text[pos:])))
    if open_span:
        out.append("</span>")
    bg, fg = ("#161b22", "#e6edf3") if dark else ("#fff", "#161b22")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>body{{background:{bg};color:{fg}}}pre{{white-space:pre-wrap;font:13px monospace}}"
            f"</style></head><body><pre>{''.join(out)}</pre></body></html>")


FORMATS = ("txt", "ansi", "json", "html", "txt_download", "ansi_download", "api")


def render(ctx, resource: Resource, row: dict, fmt: str, start: int | None = None, end: int | None = None,
           dark: bool = False) -> tuple[str | dict, str, dict[str, str]]:
    """(body, mimetype, headers) of job ``row``'s output in format ``fmt``, lines [start, end)
    (None: unbounded).  A ``json`` body is a dict to serialize; 404 for an unknown format."""
    if fmt not in FORMATS:
        raise NotFound()
    kind = resource.unified_job
    assert kind is not None, f"{resource.name} is no unified job"
    if fmt != "json":
        chunks = q.events_text(ctx.store, kind.events_table, kind.parent_col, row["id"], start, end)
        text, _first, _last = join_events(chunks, start, end)
    else:     # one read of every event serves the range and the total line count
        chunks = q.events_text(ctx.store, kind.events_table, kind.parent_col, row["id"])
        text, first, last = join_events(chunks, start, end)
        absolute_end = len(join_events(chunks)[0].splitlines())
    if fmt.endswith("_download"):
        body = text if fmt == "ansi_download" else strip_ansi(text)
        suffix = ".ansi.txt" if fmt == "ansi_download" else ".txt"
        return body, "text/plain", {
            "Content-Disposition": f'attachment; filename="{resource.name}_{row["id"]}{suffix}"'}
    size = len(text.encode())
    if size > MAX_DISPLAY:
        text = (f"Standard Output too large to display ({size} bytes), only download supported "
                f"for sizes over {MAX_DISPLAY} bytes.")
    if fmt == "json":
        return ({"range": {"start": first, "end": last, "absolute_end": absolute_end}, "content": strip_ansi(text)},
                "application/json", {})
    if fmt == "html":
        return to_html(text, f"{resource.verbose_name} {row['id']}", dark), "text/html", {}
    return (text if fmt == "ansi" else strip_ansi(text)), "text/plain", {}


_STREAMED = ("id", "counter", "event", "start_line", "end_line", "stdout", "host_name", "task", "failed", "changed")


STREAM_BUDGET = 1024 * 1024     # bytes of events in one live output response (event_stream)
RESUME_MS = 250                 # the reconnection delay asked when a response ends on its budget
RETRY_MS = 3000                 # ... and set back by a resumed response (the browsers' default)


def event_stream(store, resource: Resource, pk: int, cursor: int, poll: float = 0.25,
                 keep_alive: float = 15.0, budget: int = STREAM_BUDGET) -> Iterator[str]:
    """Server-Sent Events of job ``pk``: each stored event after counter ``cursor`` (``id`` is
    its counter, so ``Last-Event-ID`` resumes), then ``end`` with the final status once the job
    has finished and its events are all stored (or it is gone).  A comment line every
    ``keep_alive`` idle seconds keeps proxies and browsers from closing the stream.

    One response carries about ``budget`` bytes of events at most, then ends with ``retry``
    (no ``end``) and the client resumes with ``Last-Event-ID``, as ``EventSource`` does by
    itself: a server without back-pressure (granian's RSGI stream) would otherwise hold a slow
    reader's whole replay in memory, and a pool thread for as long.  ``EventSource`` keeps a
    ``retry`` for every later reconnection, so a resumed response (``cursor`` > 0) first sets it
    back: a dropped connection is not retried four times a second."""
    kind = resource.unified_job
    assert kind is not None, f"{resource.name} is no unified job"
    idle = 0.0
    sent = 0
    if cursor > 0:
        yield f"retry: {RETRY_MS}\n\n"
    while True:
        rows = q.events_after(store, kind.events_table, kind.parent_col, pk, cursor, 500)
        for ev in rows:
            cursor = ev["counter"]
            data = json.dumps({k: ev[k] for k in _STREAMED})
            event = f"id: {cursor}\nevent: {kind.parent_col}_event\ndata: {data}\n\n"
            sent += len(event)
            yield event
            if sent >= budget:
                yield f"retry: {RESUME_MS}\n\n"
                return
        if rows:
            idle = 0.0
            continue
        state = q.job_state(store, resource.table, pk)
        if state is None or (state["event_processing_finished"] and state["status"] in FINISHED):
            yield f"event: end\ndata: {json.dumps({'status': state['status'] if state else None})}\n\n"
            return
        time.sleep(poll)
        idle += poll
        if idle >= keep_alive:
            idle = 0.0
            yield ": keep-alive\n\n"

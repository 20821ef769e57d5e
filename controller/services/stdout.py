"""A unified job's output, rebuilt from its events (which tile the stdout line by line)."""
from __future__ import annotations

import html
import re

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

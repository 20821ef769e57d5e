"""The SQL statements a piece of work runs, read from SQLite's trace hook on the calling
thread's connection (the in-process test client serves a request on that thread, so a
request's statements are all there).  For tests that bound what a page or a step costs."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def traced(store) -> Iterator[list[str]]:
    """Inside the block, every statement this thread's connection runs (values bound)."""
    seen: list[str] = []
    conn = store.conn
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def statements(store, action: Callable[[], Any]) -> list[str]:
    """The statements ``action()`` runs on this thread's connection."""
    with traced(store) as seen:
        action()
    return seen


GENERATION_READ = 'SELECT coalesce(sum(n), 0) FROM "turret_table_generations"'   # a prefix: the tables follow


def counting(sql: str) -> bool:
    """Whether ``sql`` is bookkeeping rather than the page's own reads: a list's count, or a
    read of the write generations that decides whether a kept count, or kept role ids and
    summaries, still hold (controller.store.generation)."""
    return sql.startswith(("SELECT count(*)", GENERATION_READ))

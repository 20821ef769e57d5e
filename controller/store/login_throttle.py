"""SQL of the login throttle: failed logins per (client, username), shared by every process.

Under ``turret serve`` with several web worker processes a guesser's requests spread over
them, so the failures are counted in the database, not in one process's memory.  Rows older
than the counting window are deleted as new failures come, so the table stays small.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store

_TABLE = ("CREATE TABLE IF NOT EXISTS login_failures (id INTEGER PRIMARY KEY, client TEXT NOT NULL, "
          "username TEXT NOT NULL, at REAL NOT NULL)")
_INDEX = "CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (username, client, at)"
_AGE_INDEX = "CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at)"


def install(store: Store) -> None:
    """Create the table and its indexes (idempotent, cheap: runs at every start)."""
    with store.transaction():
        store.execute(_TABLE)
        store.execute(_INDEX)
        store.execute(_AGE_INDEX)


def recent(store: Store, client: str, username: str, since: float) -> tuple[int, float | None]:
    """(failures of ``username`` from ``client`` at or after ``since``, the oldest one's time)."""
    row = store.one("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures "
                    "WHERE username = ? AND client = ? AND at >= ?", (username, client, since))
    return (int(row["n"]), row["oldest"]) if row else (0, None)


def record(store: Store, client: str, username: str, at: float, forget_before: float) -> None:
    """Count one failure at ``at`` and forget every failure (of anyone) before ``forget_before``."""
    with store.transaction():
        store.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
        store.execute("INSERT INTO login_failures (client, username, at) VALUES (?, ?, ?)", (client, username, at))


def clear(store: Store, client: str, username: str) -> None:
    """Forget the failures of ``username`` from ``client`` (after a successful login)."""
    store.execute("DELETE FROM login_failures WHERE username = ? AND client = ?", (username, client))

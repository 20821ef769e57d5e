"""SQL of the settings stored through ``/api/v2/settings/``: one row per changed setting.

``value`` holds the JSON of the value (for a secret setting, the JSON of its encrypted text);
a setting without a row has its environment or table default.  Every change bumps the
``settings_version`` key of ``meta`` in the same transaction, so a process learns that its
cached copy is stale from one tiny read (``version``).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import now_iso

if TYPE_CHECKING:
    from . import Store

_TABLE = ("CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
          "value TEXT NOT NULL, modified TEXT NOT NULL)")


def install(store: Store) -> None:
    """Create the settings table (idempotent, cheap: runs at every start)."""
    with store.transaction():
        store.execute(_TABLE)


def version(store: Store) -> str | None:
    """The change stamp of the stored settings (None before the first change)."""
    return store.scalar("SELECT value FROM meta WHERE key = 'settings_version'")


def stored(store: Store) -> dict[str, dict]:
    """``{key: {"id", "value"}}`` of every stored setting, the value decoded from JSON."""
    return {r["key"]: {"id": r["id"], "value": json.loads(r["value"])}
            for r in store.query("SELECT id, key, value FROM settings")}


def _bump(store: Store) -> None:
    store.execute("INSERT INTO meta (key, value) VALUES ('settings_version', '1') ON CONFLICT (key) "
                  "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)")


def put(store: Store, key: str, value: Any) -> int:
    """Store ``value`` (JSON-able) for ``key``; returns the row id.  Call inside a transaction."""
    store.execute("INSERT INTO settings (key, value, modified) VALUES (?, ?, ?) ON CONFLICT (key) "
                  "DO UPDATE SET value = excluded.value, modified = excluded.modified",
                  (key, json.dumps(value), now_iso()))
    _bump(store)
    return store.scalar("SELECT id FROM settings WHERE key = ?", (key,))


def remove(store: Store, keys: list[str]) -> None:
    """Forget the stored values of ``keys`` (back to their defaults).  Call inside a transaction."""
    if not keys:
        return
    marks = ",".join("?" * len(keys))
    store.execute(f"DELETE FROM settings WHERE key IN ({marks})", keys)
    _bump(store)

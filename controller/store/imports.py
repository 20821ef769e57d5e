"""SQL of inventory imports: bulk upserts of hosts and groups and their links, in one
transaction (a 10,000-host source must not be 10,000 round trips through the API layer)."""
from __future__ import annotations

import json
from typing import Iterable

from . import now_iso

GROUP_HOSTS = "group_hosts"
GROUP_CHILDREN = "group_children"
# what each inventory source imported (declared as its hosts/groups sub-lists)
SOURCE_HOSTS = "inventory_source_hosts"
SOURCE_GROUPS = "inventory_source_groups"


def existing(store, table: str, inventory_id: int) -> dict[str, dict]:
    return {r["name"]: dict(r) for r in store.query(f'SELECT * FROM "{table}" WHERE inventory = ?', (inventory_id,))}


def insert_named(store, table: str, inventory_id: int, name: str, variables: dict, extra: dict) -> int:
    now = now_iso()
    return store.insert(table, {"name": name, "description": "imported", "inventory": inventory_id,
                                "variables": json.dumps(variables) if variables else "", "created": now,
                                "modified": now, **extra})


def set_variables(store, table: str, pk: int, variables: dict, extra: dict | None = None) -> None:
    store.update(table, pk, {"variables": json.dumps(variables) if variables else "", "modified": now_iso(),
                             **(extra or {})})


def link(store, table: str, left: str, right: str, pairs: Iterable[tuple[int, int]]) -> None:
    store.conn.executemany(f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}") VALUES (?, ?)', list(pairs))


def linked(store, table: str, left: str, right: str, pk: int) -> set[int]:
    return {r[0] for r in store.query(f'SELECT "{right}" FROM "{table}" WHERE "{left}" = ?', (pk,))}


def unlink_except(store, table: str, left: str, right: str, pk: int, keep: set[int]) -> None:
    for other in linked(store, table, left, right, pk) - keep:
        store.execute(f'DELETE FROM "{table}" WHERE "{left}" = ? AND "{right}" = ?', (pk, other))

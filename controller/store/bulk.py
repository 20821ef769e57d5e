"""SQL of the bulk API: many hosts written in one statement, the hosts a delete names, and the
organizations a user belongs to (the bulk job's organization).

Contracts:
  * :func:`insert_hosts` runs inside the caller's transaction (``BEGIN IMMEDIATE``: no other
    writer), so every row whose id is above the largest id read first is one of ours.
  * Nothing here checks access or validates: :mod:`controller.bulk` does, before writing.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from . import Store


def host_names(store: Store, inventory_id: int) -> set[str]:
    """Names of the hosts already in inventory ``inventory_id``."""
    return {r[0] for r in store.query("SELECT name FROM hosts WHERE inventory = ?", (inventory_id,))}


def organization_host_count(store: Store, organization_id: int) -> int:
    """Distinct host names in the organization's inventories (AWX counts a name once)."""
    return int(store.scalar("SELECT count(DISTINCT h.name) FROM hosts h JOIN inventories i ON i.id = h.inventory "
                            "WHERE i.organization = ?", (organization_id,)) or 0)


def names_in_organization(store: Store, organization_id: int, names: list[str]) -> int:
    """How many of ``names`` the organization's inventories already hold (not new to its count)."""
    if not names:
        return 0
    return int(store.scalar("SELECT count(DISTINCT h.name) FROM hosts h JOIN inventories i ON i.id = h.inventory "
                            "WHERE i.organization = ? AND h.name IN (SELECT value FROM json_each(?))",
                            (organization_id, json.dumps(sorted(set(names))))) or 0)


def insert_hosts(store: Store, rows: list[dict[str, Any]]) -> list[dict]:
    """Insert ``rows`` (same keys each, SQLite-ready values) with one executemany; returns the
    new rows (id, name) in insertion order.  Call inside a transaction."""
    if not rows:
        return []
    before = int(store.scalar("SELECT coalesce(max(id), 0) FROM hosts") or 0)
    store.insert_many("hosts", rows, ready=True)
    return [dict(r) for r in store.query("SELECT id, name FROM hosts WHERE id > ? ORDER BY id", (before,))]


def hosts_by_ids(store: Store, ids: Iterable[int]) -> list[dict]:
    """(id, inventory, name) of the hosts among ``ids`` that exist, by id."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    return [dict(r) for r in store.query("SELECT id, inventory, name FROM hosts WHERE id IN "
                                         "(SELECT value FROM json_each(?)) ORDER BY id", (json.dumps(wanted),))]


def member_organizations(store: Store, role_ids: Iterable[int]) -> list[int]:
    """Ids of the organizations whose member role is among ``role_ids`` (a user's effective roles)."""
    return [r[0] for r in store.query(
        "SELECT object_id FROM roles WHERE content_type = 'organization' AND role_field = 'member_role' "
        "AND id IN (SELECT value FROM json_each(?)) ORDER BY object_id", (json.dumps(sorted(role_ids)),))]

"""SQL of association (many-to-many) tables: ``<table>("<left>", "<right>")`` pairs, unique
per pair, as declared by an m2m ``Relation`` key ``"table:left:right"``."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def link(store: Store, table: str, left: str, right: str, left_id: int, right_id: int) -> bool:
    """Add the pair; False when it was there already."""
    return store.execute(f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}") VALUES (?, ?)',
                         (left_id, right_id)).rowcount > 0


def unlink(store: Store, table: str, left: str, right: str, left_id: int, right_id: int) -> bool:
    """Remove the pair; False when it was not there."""
    return store.delete_where(table, f'"{left}" = ? AND "{right}" = ?', [left_id, right_id]) > 0

"""SQL of association (many-to-many) tables: ``<table>("<left>", "<right>")`` pairs, unique
per pair, as declared by an m2m ``Relation`` key ``"table:left:right"``."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def link(store: Store, table: str, left: str, right: str, left_id: int, right_id: int,
         ordered: bool = False) -> bool:
    """Add the pair (``ordered``: after the owner's other links); False when it was there already."""
    if ordered:
        return store.execute(
            f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}", "position") VALUES (?, ?, '
            f'(SELECT COALESCE(MAX("position"), -1) + 1 FROM "{table}" WHERE "{left}" = ?))',
            (left_id, right_id, left_id)).rowcount > 0
    return store.execute(f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}") VALUES (?, ?)',
                         (left_id, right_id)).rowcount > 0


def position_order(table: str, left: str, right: str, left_id: int, target_table: str) -> str:
    """An ORDER BY item over ``target_table`` rows: their position in ``left_id``'s ordered links
    (``left_id`` is an integer row id, inlined because ORDER BY items take no parameters here)."""
    return (f'(SELECT "position" FROM "{table}" WHERE "{left}" = {int(left_id)} '
            f'AND "{right}" = "{target_table}"."id") ASC')


def linked_ids(store: Store, table: str, left: str, right: str, left_id: int, ordered: bool = False) -> list[int]:
    """The ids linked to ``left_id``, in association order when ``ordered``."""
    order = '"position", rowid' if ordered else "rowid"
    return [r[0] for r in store.query(f'SELECT "{right}" FROM "{table}" WHERE "{left}" = ? ORDER BY {order}',
                                      (left_id,))]


def unlink(store: Store, table: str, left: str, right: str, left_id: int, right_id: int) -> bool:
    """Remove the pair; False when it was not there."""
    return store.delete_where(table, f'"{left}" = ? AND "{right}" = ?', [left_id, right_id]) > 0

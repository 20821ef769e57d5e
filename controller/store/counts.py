"""Grouped counts over any table: how many rows point at each of many ids (list counters
such as an inventory's hosts or an organization's teams, one query per page)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def count_by(store: Store, table: str, column: str, ids: list[int], where: str = "1") -> dict[int, int]:
    """``{id: number of rows of table whose column is id}`` for the ``ids`` that have any;
    ``where`` (a fixed SQL condition, never user text) narrows the rows counted."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r[0]: r[1] for r in store.query(f'SELECT "{column}", count(*) FROM "{table}" WHERE "{column}" IN ({marks})'
                                            f' AND {where} GROUP BY "{column}"', ids)}

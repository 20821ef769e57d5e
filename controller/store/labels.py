"""SQL of labels looked up by their natural key (name, organization)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store


def label_named(store: Store, name: str, organization: Any) -> dict | None:
    """The oldest label called ``name`` in ``organization`` (an id, possibly as text), if any."""
    return store.one_dict("SELECT * FROM labels WHERE name = ? AND organization = ? ORDER BY id", (name, organization))


def attached_to(link_table: str, owner_col: str, owner_table: str, owner_where: str) -> str:
    """A WHERE fragment over labels: the label is linked through ``link_table`` (columns
    ``owner_col``, ``label_id``) to a row of ``owner_table`` matching ``owner_where`` (whose
    parameters the caller passes along)."""
    return (f'id IN (SELECT label_id FROM "{link_table}" WHERE {owner_col} IN '
            f'(SELECT id FROM "{owner_table}" WHERE {owner_where}))')

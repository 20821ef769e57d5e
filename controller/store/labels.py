"""SQL of labels looked up by their natural key (name, organization)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store


def label_named(store: Store, name: str, organization: Any) -> dict | None:
    """The oldest label called ``name`` in ``organization`` (an id, possibly as text), if any."""
    row = store.one("SELECT * FROM labels WHERE name = ? AND organization = ? ORDER BY id", (name, organization))
    return dict(row) if row else None

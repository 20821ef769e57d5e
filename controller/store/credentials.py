"""SQL of credentials as seen from the objects that use them: a credential's type, the
credentials attached to a template (association tables ``<table>(<column>, credential_id)``).

Attachment rules themselves (one per type, allowed kinds) are decided in the resources'
hooks; this module only reads.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def credential_type_of(store: Store, credential_id: int) -> dict | None:
    """``{"kind", "namespace"}`` of the credential's type; None for an unknown credential."""
    return store.one_dict("SELECT t.kind, t.namespace FROM credentials c JOIN credential_types t "
                          "ON t.id = c.credential_type WHERE c.id = ?", (credential_id,))


def credential_types(store: Store) -> dict[int, dict]:
    """``{type id: {"id", "kind", "name"}}`` of every credential type."""
    return {r["id"]: dict(r) for r in store.query("SELECT id, kind, name FROM credential_types")}


def attached_credentials(store: Store, table: str, column: str, owner_id: int) -> list[dict]:
    """Whole credential rows attached to ``owner_id`` through the association ``table``."""
    return [dict(r) for r in store.query(
        f'SELECT c.* FROM credentials c JOIN "{table}" a ON a.credential_id = c.id WHERE a."{column}" = ?',
        (owner_id,))]

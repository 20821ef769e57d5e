"""SQL of galaxy credentials and of the managed objects seeded on first start."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def managed_type_id(store: Store, namespace: str) -> int | None:
    """Id of the managed credential type with that namespace (``ssh``, ``galaxy_api_token``)."""
    return store.scalar("SELECT id FROM credential_types WHERE namespace = ? AND managed = 1 ORDER BY id LIMIT 1",
                        (namespace,))


def managed_credential(store: Store, name: str, type_id: int | None) -> dict | None:
    """The managed credential of that name and type, or None."""
    return store.one_dict("SELECT * FROM credentials WHERE name = ? AND credential_type = ? AND managed = 1",
                          (name, type_id))


def organization_galaxy_credentials(store: Store, org_id: int) -> list[dict]:
    """The galaxy credentials (rows, inputs still encrypted) of the organization, in its order."""
    rows = store.query('SELECT c.* FROM organization_galaxy_credentials l JOIN credentials c '
                       'ON c.id = l.credential_id WHERE l.organization_id = ? ORDER BY l."position", l.rowid',
                       (org_id,))
    return [dict(r) for r in rows]

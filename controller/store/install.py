"""SQL of install-wide singletons: keys of the ``meta`` table (``install_uuid``) and the one
managed project that serves the collection's own playbooks."""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def ensure_install_uuid(store: Store) -> str:
    """This installation's UUID, created (and stored) on first call; stable ever after."""
    with store.transaction():
        install_uuid = store.scalar("SELECT value FROM meta WHERE key = 'install_uuid'")
        if install_uuid is None:
            install_uuid = str(uuid.uuid4())
            store.insert("meta", {"key": "install_uuid", "value": install_uuid})
    return install_uuid


def managed_project(store: Store) -> dict | None:
    """The managed (built-in, read-only) project, if it was created."""
    return store.one_dict("SELECT * FROM projects WHERE managed = 1 LIMIT 1")

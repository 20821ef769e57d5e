"""SQL of the webhook status post-back: the few columns that decide whether a job posts."""
from __future__ import annotations


def launch_facts(store, table: str, pk: int) -> dict | None:
    """``status``, ``launch_type``, ``webhook_service`` and ``webhook_credential`` of unified
    job ``pk`` in ``table`` (None when there is no such row, or not yet committed for a reader
    on another connection): read on every job's creation, start and end, so only these."""
    return store.one_dict(f'SELECT status, launch_type, webhook_service, webhook_credential FROM "{table}" '
                          "WHERE id = ?", (pk,))

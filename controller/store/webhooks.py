"""SQL of the webhook receivers: the delivery de-duplication and the per-template launch count.

Table names come from the registry's declarations (never from a request)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Store


def previously_received(store: Store, tables: tuple[str, ...], template_id: int, service: str, guid: str) -> bool:
    """Whether a unified job of ``template_id`` in any of ``tables`` carries delivery ``guid``
    (AWX: same template, service and GUID); ``service`` "" matches any (project updates keep
    no service)."""
    for table in tables:
        sql = f'SELECT 1 FROM "{table}" WHERE unified_job_template = ? AND webhook_guid = ?'
        params: list = [template_id, guid]
        if service:
            sql += " AND webhook_service = ?"
            params.append(service)
        if store.one(sql + " LIMIT 1", params) is not None:
            return True
    return False


def webhook_launches_since(store: Store, table: str, template_id: int, since: str, limit: int) -> list[str]:
    """Creation times (oldest first, at most ``limit``) of the webhook launches of
    ``template_id`` in ``table`` created at or after ``since`` (an ISO timestamp)."""
    rows = store.query(f'SELECT created FROM "{table}" WHERE unified_job_template = ? AND launch_type = ? '
                       "AND created >= ? ORDER BY created LIMIT ?", (template_id, "webhook", since, limit))
    return [r["created"] for r in rows]

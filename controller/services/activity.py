"""The activity stream, written generically for every create/update/delete/(dis)associate.

Secret values never enter it: secret and password fields are recorded as ``$encrypted$``.
"""
from __future__ import annotations

from typing import Any

from ..registry import ENCRYPTED
from ..store import now_iso


def _shown(field, value: Any) -> Any:
    if field.secret or field.kind == "password":
        return ENCRYPTED
    if field.kind == "boolean" and value is not None:
        return bool(value)
    return value


def snapshot(resource, row: dict) -> dict:
    """The visible stored values of a row, secrets masked."""
    if resource.redact:
        row = resource.redact(row)
    return {f.name: _shown(f, row.get(f.name)) for f in resource.stored_fields if not f.hidden}


def diff(resource, before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for every visible stored field that changed."""
    if resource.redact:
        before, after = resource.redact(before), resource.redact(after)
    out = {}
    for f in resource.stored_fields:
        if f.hidden:
            continue
        old, new = before.get(f.name), after.get(f.name)
        if old != new:
            out[f.name] = [_shown(f, old), _shown(f, new)]
    return out


def record(ctx, operation: str, resource, row: dict, changes: dict | None = None,
           other=None, other_row: dict | None = None, association: str = "",
           link: tuple[str, int] | None = None) -> None:
    """Append one entry; object1 is ``resource``/``row``, object2 the associated object and
    ``link`` a further object the entry is history of (a granted role's resource)."""
    if resource.name == "activity_stream":
        return
    ctx.store.insert("activity_stream", {
        "timestamp": now_iso(),
        "operation": operation,
        "changes": changes if changes is not None else {},
        "object1": resource.name,
        "object1_id": row["id"],
        "object1_name": _label(row),
        "object2": other.name if other is not None else "",
        "object2_id": other_row["id"] if other_row else None,
        "object2_name": _label(other_row) if other_row else "",
        "object_association": association,
        "actor": ctx.user_id,
        "object_link": link[0] if link else "",
        "object_link_id": link[1] if link else None,
        "action_node": "turret",
    })


def _label(row: dict | None) -> str:
    if not row:
        return ""
    for key in ("name", "username", "role_field", "description"):
        if row.get(key):
            return str(row[key])
    return str(row.get("id", ""))

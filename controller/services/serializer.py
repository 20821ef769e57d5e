"""Rows -> AWX-shaped JSON objects, in batches (one query per foreign key, not per row).

Every object: ``id, type, url, related, summary_fields, created, modified`` then its fields;
all URLs are relative.  Secrets come out as ``$encrypted$``.
"""
from __future__ import annotations

import json
from typing import Any

from .. import access
from ..registry import ENCRYPTED, Field
from ..store import rbac
from . import named_urls

USER_SUMMARY = ("id", "username", "first_name", "last_name")


def decode(field: Field, value: Any) -> Any:
    """A stored column value -> its API representation."""
    if field.kind == "password":
        return ENCRYPTED
    if field.secret:
        return ENCRYPTED if value not in (None, "") else value
    if field.kind == "boolean":   # a nullable boolean keeps null ("not given", e.g. a node's diff_mode)
        return bool(value) if value is not None else (None if field.null else False)
    if field.kind == "json":
        if value is None or value == "":
            return {} if value == "" else None
        return json.loads(value) if isinstance(value, str) else value
    return value


def _summaries(ctx, target, ids: set[int]) -> dict[int, dict]:
    """``summary_fields`` entries for FK targets; summary keys that are not columns (an
    inventory's ``total_hosts``) come from the target's ``compute`` hook, batched."""
    keys = USER_SUMMARY if target.name == "user" else target.summary_keys
    rows = ctx.store.get_many(target.table, ids)
    computed: dict[int, dict] = {}
    if rows and target.compute and any(k not in next(iter(rows.values())) for k in keys):
        computed = target.compute(ctx, list(rows.values()))
    out = {}
    for pk, row in rows.items():
        extra = computed.get(pk, {})
        out[pk] = {k: (decode(target.field(k), row[k]) if target.field(k) else row[k]) if k in row
                   else extra[k] for k in keys if k in row or k in extra}
    return out


def related_links(ctx, resource, row: dict, detail: bool) -> dict[str, str]:
    url = resource.url(row["id"])
    rel: dict[str, str] = {}
    if detail and resource.named_url:
        named = named_urls.build(ctx, resource, row)
        if named:
            rel["named_url"] = named
    if resource.timestamps:
        for key in ("created_by", "modified_by"):
            if row.get(key):
                rel[key] = f"/api/v2/users/{row[key]}/"
    for f in resource.fk_fields:
        if f.visible and row.get(f.name) is not None:
            rel[f.name] = ctx.registry[f.fk].url(row[f.name])
    for r in resource.relations:
        rel[r.name] = f"{url}{r.name}/"
    for name in resource.actions:
        rel[name] = f"{url}{name}/"
    if resource.extra_related:
        rel.update(resource.extra_related(ctx, row, detail))
    return rel


_MODES = {"list": ("always",), "object": ("always", "not_list"), "detail": ("always", "not_list", "detail")}


def serialize(ctx, resource, rows: list[dict], detail: bool = False, mode: str | None = None) -> list[dict]:
    """Many rows of one resource -> API objects, with batched lookups.

    ``mode`` is AWX's serializer choice: "list" (list items), "object" (create/launch
    answers) or "detail" (detail GET); ``detail`` alone picks "detail" or "list"."""
    shown = _MODES[mode or ("detail" if detail else "list")]
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    computed = resource.compute(ctx, rows) if resource.compute else {}
    fk_summary: dict[str, dict[int, dict]] = {}
    for f in resource.fk_fields:
        wanted = {r[f.name] for r in rows if r.get(f.name) is not None}
        if wanted and f.visible:
            fk_summary[f.name] = _summaries(ctx, ctx.registry[f.fk], wanted)
    people: dict[int, dict] = {}
    if resource.timestamps:
        wanted = {r[k] for r in rows for k in ("created_by", "modified_by") if r.get(k)}
        if wanted:
            people = _summaries(ctx, ctx.registry["user"], wanted)
    roles = rbac.roles_of(ctx.store, resource.name, ids) if resource.has_roles else {}
    caps = access.capabilities(ctx, resource, rows) if resource.capabilities and ctx.user else {}
    extra = resource.extra_summary(ctx, rows) if resource.extra_summary else {}
    out = []
    for row in rows:
        pk = row["id"]
        summary: dict[str, Any] = {}
        for name, by_id in fk_summary.items():
            if row.get(name) in by_id:
                summary[name] = by_id[row[name]]
        for key in ("created_by", "modified_by"):
            if row.get(key) in people:
                summary[key] = people[row[key]]
        if resource.has_roles:
            summary["object_roles"] = {
                spec.field: {"description": spec.description.format(model=resource.verbose_name),
                             "name": spec.name, "id": roles.get(pk, {}).get(spec.field),
                             **({"user_only": True} if spec.user_only else {})}
                for spec in resource.roles}
        if pk in caps:
            summary["user_capabilities"] = caps[pk]
        summary.update(extra.get(pk, {}))
        obj: dict[str, Any] = {"id": pk, "type": resource.name, "url": resource.url(pk),
                               "related": related_links(ctx, resource, row, detail),
                               "summary_fields": summary}
        if resource.timestamps:
            obj["created"] = row.get("created")
            obj["modified"] = row.get("modified")
        values = computed.get(pk, {})
        for f in resource.fields:
            if not f.visible or f.shown not in shown:
                continue
            if f.name in values:
                obj[f.name] = values[f.name]
            else:
                obj[f.name] = decode(f, row.get(f.name)) if f.stored else None
        out.append(obj)
    return out


def serialize_one(ctx, resource, row: dict, detail: bool = True, mode: str | None = None) -> dict:
    return serialize(ctx, resource, [row], detail=detail, mode=mode)[0]

"""Rows -> AWX-shaped JSON objects, in batches (one query per related resource, not per row).

Every object: ``id, type, url, related, summary_fields, created, modified`` then its fields;
all URLs are relative.  Secrets come out as ``$encrypted$``.

What depends only on the declaration (which fields a mode shows and how each is decoded, the
related links' names, the object roles' texts) is worked out once per resource
(:class:`_Plan`), so a page costs per row only what depends on the row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from .. import capabilities
from ..registry import ENCRYPTED, OMIT, Field
from ..store import rbac
from . import named_urls

USER_SUMMARY = ("id", "username", "first_name", "last_name")
_USERS = "/api/v2/users/"


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
    if field.kind == "datetime" and isinstance(value, str) and value.endswith(".000000Z"):
        return value[:-8] + "Z"   # DRF's isoformat() leaves out zero microseconds
    return value


def _decoder(field: Field) -> Callable[[Any], Any] | None:
    """``decode`` bound to ``field``, or None where it returns the stored value unchanged."""
    if field.kind in ("password", "boolean", "json", "datetime") or field.secret:
        return lambda value: decode(field, value)
    return None


_MODES = {"list": ("always",), "object": ("always", "not_list"), "detail": ("always", "not_list", "detail")}


@dataclass
class _Plan:
    """What serializing one resource needs from its declaration, computed once."""

    key: tuple                                   # what the plan was built from (rebuilt if it changes)
    fields: dict[str, list[tuple[str, bool, Callable[[Any], Any] | None]]]   # mode -> (name, stored, decoder)
    fks: list[tuple[str, str, str]]              # visible FK columns: (column, target resource, its URL prefix)
    # visible FK columns and how each is summarized: (column, (target resource, the FK's own
    # summary keys (Field.summary_keys) or () for the target's)); FKs sharing a pair share a query
    summarized: list[tuple[str, tuple[str, tuple[str, ...]]]]
    links: list[str]                             # sub-paths under the object's URL: relations, then actions
    roles: list[tuple[str, str, str, bool]]      # (role field, description, name, user_only)


_PLANS: dict[int, tuple[Any, _Plan]] = {}


def _shape(resource) -> tuple:
    return (len(resource.fields), len(resource.relations), resource.actions, len(resource.roles))


def _plan(ctx, resource) -> _Plan:
    """The resource's plan (cached by identity; a resource changed since is planned again)."""
    hit = _PLANS.get(id(resource))
    if hit is not None and hit[0] is resource and hit[1].key == _shape(resource):
        return hit[1]
    fields = {mode: [(f.name, f.stored, _decoder(f)) for f in resource.fields if f.visible and f.shown in shown]
              for mode, shown in _MODES.items()}
    fks = [(f.name, str(f.fk), f"/api/v2/{ctx.registry[f.fk].plural}/") for f in resource.fk_fields if f.visible]
    roles = [(spec.field, spec.description.format(model=resource.verbose_name), spec.name, spec.user_only)
             for spec in resource.roles]
    summarized = [(f.name, (str(f.fk), f.summary_keys)) for f in resource.fk_fields if f.visible]
    plan = _Plan(_shape(resource), fields, fks, summarized,
                 [r.name for r in resource.relations] + list(resource.actions), roles)
    if len(_PLANS) > 4096:   # registries come and go in tests: keep the cache bounded
        _PLANS.clear()
    _PLANS[id(resource)] = (resource, plan)   # the reference keeps the id from being reused
    return plan


def _summaries(ctx, target, ids: set[int], keys: tuple[str, ...] = ()) -> dict[int, dict]:
    """``summary_fields`` entries for FK targets (``keys``: an FK's own, else the target's);
    summary keys that are not columns (an inventory's ``total_hosts``) come from the target's
    ``compute`` hook, batched.  Entries made of the target's own columns alone are kept while
    its table is not written (``Store.kept``): a page of teams names the same organization on
    every request.  Entries are shared: nobody changes them."""
    keys = keys or (USER_SUMMARY if target.name == "user" else target.summary_keys)
    if all(k == "id" or (target.field(k) is not None and target.field(k).stored) for k in keys):
        return ctx.store.kept(f"summaries:{target.table}:{','.join(keys)}", (target.table,), list(ids),
                              lambda missing: _read_summaries(ctx, target, missing, keys), worth=_short)
    return _read_summaries(ctx, target, ids, keys)


def _short(summary: dict) -> bool:
    """A summary worth keeping: its texts are short (a description has no length limit)."""
    return sum(len(v) for v in summary.values() if isinstance(v, str)) <= 1024


def _read_summaries(ctx, target, ids, keys: tuple[str, ...]) -> dict[int, dict]:
    rows = ctx.store.get_many(target.table, ids)
    computed: dict[int, dict] = {}
    if rows and target.compute and any(k not in next(iter(rows.values())) for k in keys):
        computed = target.compute(ctx, list(rows.values()))
    out = {}
    for pk, row in rows.items():
        extra = computed.get(pk, {})
        values = {k: (decode(target.field(k), row[k]) if target.field(k) else row[k]) if k in row
                  else extra[k] for k in keys if k in row or k in extra}
        out[pk] = {k: v for k, v in values.items() if v is not None}   # AWX leaves out None values
    return out


def related_links(ctx, resource, row: dict, detail: bool) -> dict[str, str]:
    """The ``related`` object of one row."""
    return _related(ctx, resource, _plan(ctx, resource), row, detail)


def _related(ctx, resource, plan: _Plan, row: dict, detail: bool) -> dict[str, str]:
    url = resource.url(row["id"])
    rel: dict[str, str] = {}
    if detail and resource.named_url:
        named = named_urls.build(ctx, resource, row)
        if named:
            rel["named_url"] = named
    if resource.timestamps:
        for key in ("created_by", "modified_by"):
            if row.get(key):
                rel[key] = f"{_USERS}{row[key]}/"
    for name, _target, prefix in plan.fks:
        value = row.get(name)
        if value is not None:
            rel[name] = f"{prefix}{value}/"
    for name in plan.links:
        rel[name] = f"{url}{name}/"
    if resource.extra_related:
        rel.update(resource.extra_related(ctx, row, detail))
    return rel


def _fk_summaries(ctx, resource, plan: _Plan, rows: list[dict]) -> dict[tuple, dict[int, dict]]:
    """``{(target resource, own keys): {id: summary}}`` for every FK target the rows name (and
    the users of created_by/modified_by): one query per target resource and set of keys (an FK
    declaring its own ``summary_keys``, a host's ``last_job``, is summarized apart)."""
    wanted: dict[tuple, set[int]] = {}
    for name, key in plan.summarized:
        wanted.setdefault(key, set()).update(r[name] for r in rows if r.get(name) is not None)
    if resource.timestamps:
        people = {r[k] for r in rows for k in ("created_by", "modified_by") if r.get(k)}
        if people:
            wanted.setdefault(("user", ()), set()).update(people)
    return {key: _summaries(ctx, ctx.registry[key[0]], ids, key[1]) for key, ids in wanted.items() if ids}


def serialize(ctx, resource, rows: list[dict], detail: bool = False, mode: str | None = None) -> list[dict]:
    """Many rows of one resource -> API objects, with batched lookups.

    ``mode`` is AWX's serializer choice: "list" (list items), "object" (create/launch
    answers) or "detail" (detail GET); ``detail`` alone picks "detail" or "list"."""
    if not rows:
        return []
    plan = _plan(ctx, resource)
    shown = plan.fields[mode or ("detail" if detail else "list")]
    computed = resource.compute(ctx, rows) if resource.compute else {}
    by_target = _fk_summaries(ctx, resource, plan, rows)
    fk_summary = [(name, by_target[key]) for name, key in plan.summarized if key in by_target]
    people = by_target.get(("user", ()), {}) if resource.timestamps else {}
    roles = rbac.roles_of(ctx.store, resource.name, [r["id"] for r in rows]) if resource.has_roles else {}
    caps = capabilities.user_capabilities(ctx, resource, rows) if resource.capabilities and ctx.user else {}
    extra = resource.extra_summary(ctx, rows) if resource.extra_summary else {}
    timestamps = resource.timestamps
    out = []
    for row in rows:
        pk = row["id"]
        summary: dict[str, Any] = {}
        for name, by_id in fk_summary:
            value = row.get(name)
            if value in by_id:
                summary[name] = by_id[value]
        if timestamps:
            for key in ("created_by", "modified_by"):
                if row.get(key) in people:
                    summary[key] = people[row[key]]
        if plan.roles:
            held = roles.get(pk, {})
            summary["object_roles"] = {
                field: ({"description": desc, "name": name, "id": held.get(field), "user_only": True} if user_only
                        else {"description": desc, "name": name, "id": held.get(field)})
                for field, desc, name, user_only in plan.roles}
        if pk in caps:
            summary["user_capabilities"] = caps[pk]
        if extra:
            summary.update(extra.get(pk, {}))
        obj: dict[str, Any] = {"id": pk, "type": resource.name, "url": resource.url(pk),
                               "related": _related(ctx, resource, plan, row, detail),
                               "summary_fields": summary}
        if timestamps:
            obj["created"] = row.get("created")
            obj["modified"] = row.get("modified")
        values = computed.get(pk)
        for name, stored, dec in shown:
            if values and name in values:
                if values[name] is not OMIT:
                    obj[name] = values[name]
            elif not stored:
                obj[name] = None
            else:
                value = row.get(name)
                obj[name] = value if dec is None else dec(value)
        out.append(obj)
    return out


def serialize_one(ctx, resource, row: dict, detail: bool = True, mode: str | None = None) -> dict:
    return serialize(ctx, resource, [row], detail=detail, mode=mode)[0]

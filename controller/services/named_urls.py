"""AWX named URLs: ``/api/v2/teams/Ops++Default/`` -> the team named Ops in org Default.

A resource's ``named_url`` declares its components, each a tuple of field paths
(``("name",), ("organization.name",)``).  Components are joined by ``++``, the fields of one
component by ``+``; a literal ``+`` inside a value is written ``[+]``; a null FK gives an
empty component, and an empty component matches any value of that FK (AWX).
"""
from __future__ import annotations

from urllib.parse import quote

_RESERVED = ";/?:@=&"


def _escape(value: str) -> str:
    value = value.replace("+", "[+]")
    return "".join(quote(c, safe="") if c in _RESERVED else c for c in value)


def _split(component: str) -> list[str]:
    return [p.replace("\x00", "+") for p in component.replace("[+]", "\x00").split("+")]


def _path_value(ctx, resource, row: dict, path: str):
    parts = path.split(".")
    for hop in parts[:-1]:
        fk = resource.field(hop)
        if fk is None or row.get(hop) is None:
            return None
        resource = ctx.registry[fk.fk]
        row = ctx.store.get(resource.table, row[hop])
        if row is None:
            return None
    return row.get(parts[-1])


def build(ctx, resource, row: dict) -> str | None:
    """The object's named URL, or None when the resource has no named-URL format."""
    if not resource.named_url:
        return None
    comps = []
    for component in resource.named_url:
        vals = [_path_value(ctx, resource, row, p) for p in component]
        comps.append("" if any(v is None for v in vals) else "+".join(_escape(str(v)) for v in vals))
    return f"/api/v2/{resource.plural}/{'++'.join(comps)}/"


def _path_sql(ctx, resource, path: str, value) -> tuple[str, list]:
    head, _, rest = path.partition(".")
    if not rest:
        return f'"{head}" = ?', [value]
    fk = resource.field(head)
    target = ctx.registry[fk.fk]
    sub, params = _path_sql(ctx, target, rest, value)
    return f'"{head}" IN (SELECT id FROM "{target.table}" WHERE {sub})', params


def _null_sql(ctx, resource, path: str) -> str:
    """The FK before the last field of ``path`` is null (``a.b.name``: a's b is null)."""
    head, _, rest = path.partition(".")
    if "." not in rest:
        return f'"{head}" IS NULL'
    target = ctx.registry[resource.field(head).fk]
    return f'"{head}" IN (SELECT id FROM "{target.table}" WHERE {_null_sql(ctx, target, rest)})'


def resolve(ctx, resource, identifier: str) -> int | None:
    """Primary key for a named-URL identifier, or None when nothing matches."""
    if not resource.named_url:
        return None
    comps: list[str | None] = list(identifier.split("++"))
    clauses: list[str] = []
    params: list = []
    prefer: list[str] = []      # ORDER BY terms: the object whose own named URL this is first
    if len(comps) == 1 and len(resource.named_url) > 1:
        comps = comps + [None] * (len(resource.named_url) - 1)   # legacy plain name: oldest wins
    if len(comps) != len(resource.named_url):
        return None
    for spec, text in zip(resource.named_url, comps):
        if text is None:
            continue
        if text == "" and any("." in p for p in spec):
            # AWX puts no condition on an empty component (``cred++Machine+ssh++`` names the
            # credential in any organization); one with that FK null, whose URL it is, wins
            prefer.append(f"({_null_sql(ctx, resource, spec[0])}) DESC")
            continue
        vals = _split(text)
        if len(vals) != len(spec):
            return None
        for path, val in zip(spec, vals):
            sql, p = _path_sql(ctx, resource, path, val)
            clauses.append(sql)
            params += p
    where = " AND ".join(clauses) or "0"
    order = ", ".join([*prefer, "id"])
    return ctx.store.scalar(f'SELECT id FROM "{resource.table}" WHERE {where} ORDER BY {order} LIMIT 1', params)

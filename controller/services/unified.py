"""Polymorphic lists: ``/unified_jobs/`` and ``/unified_job_templates/``.

Each member resource keeps its own table; the list is the UNION ALL of the members, each
filtered by the AWX query language compiled for that member (a filter on a field a member does
not have excludes that member, as AWX's polymorphic queryset would find no such rows), ordered
on the columns every member shares, then each row rendered by its own serializer.
"""
from __future__ import annotations

from .. import access, query
from ..context import Context
from ..errors import NotFound
from ..store import all_of
from ..store import unified as unified_sql
from .crud import _page_args, list_filter_keys, page_links
from .serializer import serialize

_ORDERABLE = {"id", "created", "modified", "name", "status", "started", "finished", "elapsed", "type",
              "launch_type", "failed"}
_TEMPLATE_ORDERABLE = {"id", "created", "modified", "name", "type"}


def job_members(ctx: Context) -> tuple[str, ...]:
    """The resources listed by ``/unified_jobs/``: every declared unified-job kind."""
    return tuple(k.resource for k in ctx.registry.unified_jobs())


def template_members(ctx: Context) -> tuple[str, ...]:
    """The resources listed by ``/unified_job_templates/``: whatever a unified-job kind runs."""
    return tuple(ctx.registry.unified_templates())


def members(ctx: Context, names: tuple[str, ...]) -> list:
    return [ctx.registry[n] for n in names if ctx.registry.get(n) is not None]


def _order(args: list[tuple[str, str]], allowed: set[str]) -> str:
    raw = next((v for k, v in reversed(args) if k in ("order_by", "order")), "id")
    parts = []
    for item in [p.strip() for p in raw.split(",") if p.strip()]:
        desc = item.startswith("-")
        name = item.lstrip("-")
        if name not in allowed:
            raise query.QueryError(f"UnifiedJob has no field named '{name}'")
        col = "_type" if name == "type" else f'"{name}"'
        parts.append(f"{col} {'DESC' if desc else 'ASC'}")
    parts.append('"id" ASC')
    return ", ".join(parts)


def list_page(ctx: Context, names: tuple[str, ...], args: list[tuple[str, str]], path: str, jobs: bool) -> dict:
    allowed = _ORDERABLE if jobs else _TEMPLATE_ORDERABLE
    order = _order(args, allowed)
    cols = sorted(allowed - {"type"})
    selects, params = [], []
    for res in members(ctx, names):
        have = {f.name for f in res.stored_fields} | {"id", "created", "modified"}
        if not set(cols) <= have:
            continue
        try:
            compiled = query.compile_query(ctx.registry, res, args,
                                           extra_reserved={"order_by", "order", *list_filter_keys(res)},
                                           role_level_sql=access.role_level_sql(ctx, res))
        except query.QueryError:
            continue   # the member has no such field: none of its rows can match
        where, where_params = all_of(access.visibility(ctx, res), res.list_filter(ctx, args) if res.list_filter
                                   else None, (compiled.where, compiled.params))
        selects.append(unified_sql.member_sql(res.table, cols, where))
        params += [res.name, *where_params]
    page, size = _page_args(args)
    if not selects:
        return {"count": 0, "next": None, "previous": None, "results": []}
    count = unified_sql.union_count(ctx.store, selects, params)
    offset = (page - 1) * size
    if page > 1 and offset >= count:
        raise NotFound("Invalid page.")
    rows = unified_sql.union_page(ctx.store, selects, params, order, size, offset)
    by_type: dict[str, list[int]] = {}
    for r in rows:
        by_type.setdefault(r["_type"], []).append(r["id"])
    rendered: dict[tuple[str, int], dict] = {}
    for name, ids in by_type.items():
        res = ctx.registry[name]
        objs = serialize(ctx, res, list(ctx.store.get_many(res.table, ids).values()))
        rendered.update({(name, o["id"]): o for o in objs})
    following, previous = page_links(path, args, page, size, offset + size < count)
    return {
        "count": count,
        "next": following,
        "previous": previous,
        "results": [rendered[(r["_type"], r["id"])] for r in rows if (r["_type"], r["id"]) in rendered],
    }

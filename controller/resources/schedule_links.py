"""Where schedules and their templates meet in the output: what a schedule shows of its
template (``summary_fields`` and ``related``) and what templates show of their schedules
(``next_job_run``, ``related.next_schedule``).

Contracts:
  * A schedule shows its template (``summary_fields.unified_job_template`` with AWX's
    ``unified_job_type``), the project (a job template's; a project schedule's own project) and
    the inventory: its own prompt, else its template's (a job template's, an inventory source's,
    a workflow's) with the inventory summary every object shows (AWX ScheduleSerializer).
  * AWX (``UnifiedJobTemplate.update_computed_fields``) keeps on every template one of its
    enabled schedules and its ``next_run``: the one whose ``next_run`` is the latest
    (``order_by('-next_run')``), which reads as a slip; Turret shows the one that runs next
    (README, Schedules).  Here both are
    computed when a page of templates is rendered (one statement per page,
    :func:`~controller.store.schedules.next_schedules`), so they never go stale.
  * ``next_job_run`` is filterable as AWX's model field is: ``next_job_run``,
    ``next_job_run__isnull`` and ``__exact/__gt/__gte/__lt/__lte`` (values read as every
    datetime filter reads them), on each template list and ``/unified_job_templates/``.
  * The template kinds' own ``compute`` / ``extra_related`` / ``list_filter`` hooks keep working:
    :func:`attach_next_run` wraps them.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..query.values import QueryError, to_bool, to_datetime
from ..registry import Registry
from ..services import rrules
from ..store import all_of
from ..store import schedules as sq

_LOOKUPS = {"": "=", "__exact": "=", "__gt": ">", "__gte": ">=", "__lt": "<", "__lte": "<="}
FILTER_KEYS = ("next_job_run__isnull", *(f"next_job_run{suffix}" for suffix in _LOOKUPS))


def _next(ctx, column: str, rows: list[dict], fresh: bool) -> dict[int, dict]:
    """The next schedule of each row.  The computed fields keep theirs in the context for the
    related links rendered right after them (``fresh``: read again); those take their entry
    out (``fresh`` False), so a long-lived context keeps none."""
    cache = ctx.cache.setdefault("next_schedule", {})
    missing = [r["id"] for r in rows if fresh or (column, r["id"]) not in cache]
    if missing:
        found = sq.next_schedules(ctx.store, column, missing)
        cache.update({(column, pk): found.get(pk) for pk in missing})
    got = {r["id"]: cache[(column, r["id"])] for r in rows}
    if not fresh:
        for r in rows:
            cache.pop((column, r["id"]), None)
    return {pk: nxt for pk, nxt in got.items() if nxt is not None}


def _filter(table: str, column: str, own: Callable[..., Any] | None) -> Callable[..., Any]:
    def list_filter(ctx, args: list[tuple[str, str]]) -> tuple[str, list] | None:
        parts: list[tuple[str, list] | None] = []
        for key, value in args:
            if key == "next_job_run__isnull":
                parts.append(sq.next_run_term(table, column, "null" if to_bool(value) else "not null"))
            elif key.startswith("next_job_run") and key[len("next_job_run"):] in _LOOKUPS:
                if value.lower() in ("none", "null") and key[len("next_job_run"):] in ("", "__exact"):
                    parts.append(sq.next_run_term(table, column, "null"))
                    continue
                if value.lower() in ("none", "null"):
                    raise QueryError("Cannot use None as a query value")
                parts.append(sq.next_run_term(table, column, _LOOKUPS[key[len("next_job_run"):]], to_datetime(value)))
        if own is not None:
            parts.append(own(ctx, args))
        return all_of(*parts) if parts else None
    list_filter.keys = (*getattr(own, "keys", ()), *FILTER_KEYS)  # type: ignore[attr-defined]
    return list_filter


def attach_next_run(reg: Registry, template: str, column: str) -> None:
    """Give template kind ``template`` its computed ``next_job_run``, ``related.next_schedule``
    and the ``next_job_run`` filters (``column``: the schedules' FK to that kind)."""
    res = reg[template]
    own_compute, own_related = res.compute, res.extra_related

    def compute(ctx, rows: list[dict]) -> dict[int, dict]:
        out = own_compute(ctx, rows) if own_compute else {}
        found = _next(ctx, column, rows, fresh=True)
        for r in rows:
            nxt = found.get(r["id"])
            out.setdefault(r["id"], {})["next_job_run"] = rrules.rendered_z(nxt["next_run"]) if nxt else None
        return out

    def related(ctx, row: dict, detail: bool) -> dict:
        rel = dict(own_related(ctx, row, detail)) if own_related else {}
        nxt = _next(ctx, column, [row], fresh=False).get(row["id"])
        if nxt:
            rel["next_schedule"] = f"/api/v2/schedules/{nxt['id']}/"
        return rel

    res.compute, res.extra_related = compute, related
    res.list_filter = _filter(res.table, column, res.list_filter)


# -- a schedule's template ------------------------------------------------------------------------------
def _templates(ctx, kinds: Mapping[str, Any], rows: list[dict]) -> dict[tuple[str, int], dict]:
    out = {}
    for kind in kinds.values():
        ids = [r["unified_job_template"] for r in rows if r.get("unified_job_template_type") == kind.resource]
        for pk, t in ctx.store.get_many(kind.table, ids).items():
            out[(kind.resource, pk)] = t
    return out


def _inventory_summaries(ctx, ids: list[int]) -> dict[int, dict]:
    """The inventory summary of ``summary_fields.inventory`` (the inventory's summary keys, the
    counts among them from its computed fields), for a page in one pass."""
    res = ctx.registry["inventory"]
    rows = ctx.store.get_many(res.table, ids)
    computed = res.compute(ctx, list(rows.values())) if rows and res.compute else {}
    return {pk: {k: row[k] if k in row else computed.get(pk, {}).get(k) for k in res.summary_keys}
            for pk, row in rows.items()}


def schedule_summaries(ctx, kinds: Mapping[str, Any], rows: list[dict]) -> dict[int, dict]:
    """``summary_fields`` a schedule adds: its template, and its template's inventory when the
    schedule has none of its own (``kinds``: the schedule kinds by template resource)."""
    found = _templates(ctx, kinds, rows)
    inherited = {t["inventory"] for t in found.values() if t.get("inventory")}
    inventories = _inventory_summaries(ctx, sorted(inherited)) if inherited else {}
    out = {}
    for r in rows:
        kind = r.get("unified_job_template_type") or "job_template"
        t = found.get((kind, r["unified_job_template"]))
        s = {}
        if t is not None:
            s["unified_job_template"] = {"id": t["id"], "name": t["name"], "description": t.get("description", ""),
                                         "unified_job_type": kinds[kind].job_type}
            if r.get("inventory") is None and t.get("inventory") in inventories:
                s["inventory"] = inventories[t["inventory"]]
        out[r["id"]] = s
    return out


def schedule_related(kind: Any, row: dict, template: dict) -> dict:
    """``related`` links a schedule adds for its template ``template`` of ``kind``."""
    rel = {"unified_job_template": f"/api/v2/{kind.table}/{template['id']}/"}
    if kind.resource == "job_template" and template.get("project"):
        rel["project"] = f"/api/v2/projects/{template['project']}/"
    elif kind.resource == "project":
        rel["project"] = f"/api/v2/projects/{template['id']}/"
    if row.get("inventory") is None and template.get("inventory"):
        rel["inventory"] = f"/api/v2/inventories/{template['inventory']}/"
    return rel

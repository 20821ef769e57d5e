"""Hosts' hooks (declared in ``inventory.py``), and what hosts and groups share by living
inside an inventory: access derived from it, no contents in smart or constructed ones, no
deletion while a job runs on it.

A host's job state is stored on its row as AWX keeps it: ``last_job`` and
``last_job_host_summary`` (foreign keys, nulled when the job or summary goes) are written by
``store.jobs.store_host_summaries`` with the job's host summaries; ``has_active_failures``
(its last summary failed), ``has_inventory_sources`` (a source imported it) and
``summary_fields.recent_jobs`` are read from them.  The SQL lives in ``store/host_jobs.py``.
"""
from __future__ import annotations

import json

from .. import access
from ..errors import APIError, ValidationError
from ..services import crud, inventory_contents
from ..services.host_filter import HostFilterError, compile_filter
from ..services.variables import VarsError, parse_vars
from ..store import host_jobs
from ..store import inventory as inv_sql

_SMART_REFUSED = "Cannot create {model} for Smart or Constructed Inventories"


# -- access derived from the inventory ---------------------------------------------------------
def inventory_visibility(ctx):
    """(sql, params) over hosts/groups: rows whose inventory the user can read."""
    vis = access.visibility(ctx, ctx.registry["inventory"])
    if vis is None:
        return None
    return f'inventory IN (SELECT id FROM "inventories" WHERE {vis[0]})', list(vis[1])


def inventory_hosts_scope(ctx, inventory: dict) -> tuple[str, list]:
    """``/inventories/N/hosts/``: a smart inventory's matches, another's own hosts."""
    return inventory_contents.inventory_hosts_sql(ctx.registry, inventory)


def is_smart(inventory: dict) -> bool:
    """``Relation.lists_all`` of ``/inventories/N/hosts/``: a smart inventory's reader sees every
    host it matches, even in inventories they cannot read (AWX
    ``InventoryHostsList.filter_read_permission = False``)."""
    return inventory.get("kind") == "smart"


def inventory_admin(ctx, row: dict) -> bool:
    return access.holds(ctx, "inventory", row.get("inventory"), "admin_role")


def refuse_smart(ctx, values: dict, model: str, as_detail: bool) -> None:
    inv = ctx.store.get("inventories", values["inventory"]) if values.get("inventory") else None
    if inv is not None and inv.get("kind") in ("smart", "constructed"):
        msg = _SMART_REFUSED.format(model=model)
        raise ValidationError({"inventory": {"detail": msg} if as_detail else [msg]})


# AWX Host._get_related_jobs: the jobs, inventory updates and ad hoc commands of its inventory
_HOST_JOBS = ("job", "inventory_update", "ad_hoc_command")


def _refuse(running: list[dict]) -> None:
    if running:
        raise APIError({"error": "Resource is being used by running jobs.", "active_jobs": running}, status=409)


def refuse_while_running(ctx, row: dict) -> None:
    """A host is in use while a job, an inventory update or an ad hoc command of its inventory
    has not ended (AWX ``Host._get_related_jobs``): 409 with those."""
    running = crud.active_jobs(ctx, "inventory", row["inventory"]) if row.get("inventory") else []
    _refuse([j for j in running if j["type"] in _HOST_JOBS])


def refuse_group_while_running(ctx, row: dict) -> None:
    """A group is in use while a job of its inventory, or an update of a source that imported
    it, has not ended (AWX ``Group._get_related_jobs``): 409 with those."""
    running = crud.active_jobs(ctx, "inventory", row["inventory"]) if row.get("inventory") else []
    sources = host_jobs.sources_importing_group(ctx.store, row["id"])
    updates = [j for s in sources for j in crud.active_jobs(ctx, "inventory_source", s)
               if j["type"] == "inventory_update"]
    _refuse([j for j in running if j["type"] == "job"] + updates)


def guarded(hook):
    """``hook`` (a delete hook of a group) preceded by :func:`refuse_group_while_running`."""
    def run(ctx, row: dict) -> None:
        refuse_group_while_running(ctx, row)
        hook(ctx, row)
    return run


# -- host hooks --------------------------------------------------------------------------------
def _split_port(name: str) -> tuple[str, int | None]:
    """AWX: ``host:port`` (exactly one colon, so not IPv6) names carry an ssh port."""
    if name.count(":") != 1:
        return name, None
    host, port_text = name.split(":")
    try:
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ValidationError({"name": [f"Invalid port specification: {port_text}"]}) from None
    return host, port


def host_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None:
        refuse_smart(ctx, values, "Host", as_detail=True)
    merged = {**(existing or {}), **values}
    name, port = _split_port(merged.get("name") or "")
    inventory = merged.get("inventory")
    if port is not None and ctx.store.exists("hosts", 'name = ? AND inventory = ? AND id != ?',
                                             [name, inventory, (existing or {}).get("id", 0)]):
        raise ValidationError({"__all__": ["Host with this Name and Inventory already exists."]})
    if ctx.store.exists("groups", "name = ? AND inventory = ?", [name, inventory]):
        raise ValidationError({"__all__": ["A Group with that name already exists."]})


def host_before_save(ctx, values: dict, existing: dict | None) -> dict:
    if "name" not in values:
        return values
    name, port = _split_port(values["name"])
    if port is not None:
        text = values["variables"] if "variables" in values else (existing or {}).get("variables")
        try:
            variables = parse_vars(text)
        except VarsError:
            variables = {}
        values["name"] = name
        values["variables"] = json.dumps({**variables, "ansible_ssh_port": port})
    return values


def host_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    """AWX ``HostSerializer``: failures from the host's last summary, sources from the sources
    that imported it (not from its inventory)."""
    failed = host_jobs.failed_summaries(ctx.store, [r["last_job_host_summary"] for r in rows
                                                    if r.get("last_job_host_summary")])
    imported = host_jobs.hosts_with_sources(ctx.store, [r["id"] for r in rows])
    return {r["id"]: {"has_active_failures": r.get("last_job_host_summary") in failed,
                      "has_inventory_sources": r["id"] in imported, "ansible_facts_modified": None}
            for r in rows}


def host_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    ids = [r["id"] for r in rows]
    groups = inv_sql.host_groups_summary(ctx.store, ids)
    recent = host_jobs.recent_jobs(ctx.store, ids)
    return {pk: {"groups": g, "recent_jobs": recent.get(pk, [])} for pk, g in groups.items()}


def host_list_filter(ctx, args: list[tuple[str, str]]):
    """``?host_filter=<smart filter>`` on host lists; errors as AWX's ``{"error": ...}``."""
    texts = [v for k, v in args if k == "host_filter" and v.strip()]
    if not texts:
        return None
    try:
        return compile_filter(ctx.registry, texts[-1])
    except HostFilterError as exc:
        raise APIError({"error": exc.message}) from None


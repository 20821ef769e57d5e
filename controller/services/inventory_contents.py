"""What an inventory holds, taken as a whole: a smart inventory's hosts, AWX's computed
counters, set-wise deletion of the contents and the deep copy.

The statements live in :mod:`controller.store.inventory`; this module decides which to run
from the registry (which resources refer to hosts and groups, what their ``on_delete`` says)
and from the smart-inventory filter grammar (:mod:`.host_filter`).

Contracts:
  * ``inventory_hosts_sql`` is the one definition of "the hosts of an inventory", used by
    the hosts sub-list, the counters and the rendered inventory (script and jobs).
  * ``clear_contents`` has the generic cascade's effects (referrers nulled or deleted,
    association rows dropped) or leaves the rows to it; it never half-deletes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..store import host_jobs
from ..store import inventory as inv_sql
from ..store.counts import count_by
from . import crud, host_filter
from .host_filter import HostFilterError

if TYPE_CHECKING:
    from ..context import Context
    from ..registry import Registry, Resource


# -- which hosts --------------------------------------------------------------------------------
def smart_hosts_sql(registry: Registry, inventory: dict) -> tuple[str, list]:
    """Hosts (over ``hosts``) a smart inventory holds: those matching its host_filter in the
    regular inventories of its organization, the lowest id of each name (AWX ``HostManager``).
    A filter that no longer compiles matches nothing."""
    try:
        sql, params = host_filter.compile_filter(registry, inventory.get("host_filter") or "")
    except HostFilterError:
        return "0", []
    scope_sql, scope_params = inv_sql.in_regular_inventories_sql(inventory.get("organization"))
    # AWX keeps one host per name (the lowest id): a name is one host to Ansible
    return inv_sql.first_per_name_sql(f"({sql}) AND {scope_sql}"), [*params, *scope_params]


def inventory_hosts_sql(registry: Registry, inventory: dict) -> tuple[str, list]:
    """The hosts of any inventory (over ``hosts``): its own, or a smart inventory's matches."""
    if inventory.get("kind") == "smart":
        return smart_hosts_sql(registry, inventory)
    return "inventory = ?", [inventory["id"]]


# -- counters -----------------------------------------------------------------------------------
def source_counts(ctx: Context, inventory_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Inventory sources per inventory, and those whose newest ended update failed (AWX's
    ``last_job_failed``), once inventory sources exist."""
    source_res = ctx.registry.get("inventory_source")
    if source_res is None or source_res.field("inventory") is None:
        return {}, {}
    sources = count_by(ctx.store, source_res.table, "inventory", inventory_ids)
    return sources, host_jobs.failed_sources_by_inventory(ctx.store, [pk for pk in inventory_ids if sources.get(pk)])


def counters(ctx: Context, inventories: list[dict]) -> dict[int, dict]:
    """AWX's computed inventory fields for many inventories with a few grouped queries (AWX
    ``Inventory.update_computed_fields``: failed hosts are those whose last summary failed)."""
    ids = [r["id"] for r in inventories]
    hosts = count_by(ctx.store, "hosts", "inventory", ids)
    failed_sql, _ = host_jobs.failed_hosts_sql()
    failed_hosts = count_by(ctx.store, "hosts", "inventory", ids, failed_sql)
    groups = count_by(ctx.store, "groups", "inventory", ids)
    sources, failed_sources = source_counts(ctx, ids)
    out = {}
    for inv in inventories:
        pk = inv["id"]
        total, failed = hosts.get(pk, 0), failed_hosts.get(pk, 0)
        if inv.get("kind") == "smart":
            sql, params = smart_hosts_sql(ctx.registry, inv)
            total = ctx.store.count("hosts", sql, params)
            failed = host_jobs.count_failed_hosts(ctx.store, sql, params) if total else 0
        out[pk] = {
            "has_active_failures": bool(failed),
            "total_hosts": total,
            "hosts_with_active_failures": failed,
            "total_groups": groups.get(pk, 0),
            "has_inventory_sources": bool(sources.get(pk, 0)),
            "total_inventory_sources": sources.get(pk, 0),
            "inventory_sources_with_failures": failed_sources.get(pk, 0),
            "pending_deletion": False,
            "organization_id": inv.get("organization"),
        }
    return out


# -- deletion and copies ----------------------------------------------------------------------
def clear_contents(ctx: Context, inventory_id: int) -> None:
    """Delete an inventory's hosts, groups and their links in a few set-wise statements, so
    deleting a 10,000-host inventory is not 10,000 cascades.  Whatever cannot be removed
    set-wise (rows with roles, protected references) is left to the generic cascade."""
    inv_sql.unlink_contents(ctx.store, inventory_id)
    for name in ("host", "group"):
        _bulk_remove(ctx, ctx.registry[name], "inventory = ?", [inventory_id])


def _bulk_remove(ctx: Context, res: Resource, where: str, params: list, depth: int = 0) -> bool:
    """Delete ``res`` rows matching ``where`` set-wise, with the effects of ``crud.remove``:
    referrers nulled or deleted (recursively), association rows dropped.  Returns False (and
    changes nothing) when some row needs the generic per-row cascade."""
    if res.has_roles or depth > 3:
        return False
    referrers = [(c, f) for c, f in ctx.registry.reverse_fks(res.name) if c.name != "activity_stream"]
    if any(f.on_delete not in ("set_null", "cascade") for _, f in referrers):
        return False
    selected = inv_sql.ids_sql(res.table, where)
    for child, fk in referrers:
        if fk.on_delete == "cascade" and not _removable(ctx, child, depth + 1):
            return False
    for child, fk in referrers:
        if fk.on_delete == "set_null":
            inv_sql.null_references(ctx.store, child.table, fk.name, selected, params)
        else:
            _bulk_remove(ctx, child, f'"{fk.name}" IN ({selected})', list(params), depth + 1)
    for table, column in crud.m2m_columns(ctx.registry, res.name):
        inv_sql.delete_referring(ctx.store, table, column, selected, params)
    ctx.store.delete_where(res.table, where, params)
    return True


def _removable(ctx: Context, res: Resource, depth: int) -> bool:
    """Can :func:`_bulk_remove` handle ``res`` and everything cascading from it?"""
    if res.has_roles or depth > 3:
        return False
    for child, fk in ctx.registry.reverse_fks(res.name):
        if child.name == "activity_stream" or fk.on_delete == "set_null":
            continue
        if fk.on_delete != "cascade" or not _removable(ctx, child, depth + 1):
            return False
    return True


def copy_contents(ctx: Context, source_id: int, target_id: int, stamp: dict) -> None:
    """Copy hosts, groups and their links from one inventory into another (AWX deep copy).

    ``stamp`` holds the created/modified columns for the new rows.
    """
    cols = ["name", "description", "variables"]
    for res_name, extra in (("host", ["enabled", "instance_id"]), ("group", [])):
        res = ctx.registry[res_name]
        names = cols + [c for c in extra if res.field(c) is not None]
        inv_sql.copy_rows(ctx.store, res.table, names, source_id, target_id, stamp)
    inv_sql.copy_links(ctx.store, source_id, target_id)

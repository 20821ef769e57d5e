"""The SQL of inventories' contents: the group graph, smart-inventory membership, counters,
bulk deletion and deep copies.

Tables: ``hosts`` and ``groups`` (each with an ``inventory`` column), ``group_hosts``
(``group_id``, ``host_id``) and ``group_children`` (``parent_id``, ``child_id``).  The group
graph is a DAG inside one inventory; recursive CTEs use ``UNION`` so even a corrupt cycle
terminates.  Every ``*_sql`` function returns ``(sql, params)`` usable as a WHERE over the
named table (an ``id IN (...)`` expression, or a column test).
"""
from __future__ import annotations

from . import host_filter
from .host_filter import HostFilterError

GROUP_HOSTS = "group_hosts"
GROUP_CHILDREN = "group_children"


def _ancestors_cte(start_sql: str) -> str:
    """Ids of every ancestor of the groups selected by ``start_sql`` (a SELECT of ids)."""
    return ("WITH RECURSIVE anc(id) AS ("
            f" SELECT parent_id FROM {GROUP_CHILDREN} WHERE child_id IN ({start_sql})"
            f" UNION SELECT gc.parent_id FROM {GROUP_CHILDREN} gc JOIN anc ON gc.child_id = anc.id)"
            " SELECT id FROM anc")


def _descendants_cte(start_sql: str) -> str:
    """Ids of every descendant of the groups selected by ``start_sql``."""
    return ("WITH RECURSIVE des(id) AS ("
            f" SELECT child_id FROM {GROUP_CHILDREN} WHERE parent_id IN ({start_sql})"
            f" UNION SELECT gc.child_id FROM {GROUP_CHILDREN} gc JOIN des ON gc.parent_id = des.id)"
            " SELECT id FROM des")


# -- sub-list scopes ------------------------------------------------------------------------
def root_groups_sql(inventory_id: int) -> tuple[str, list]:
    """Groups of the inventory that have no parent group (over ``groups``)."""
    return (f"inventory = ? AND id NOT IN (SELECT child_id FROM {GROUP_CHILDREN})", [inventory_id])


def all_hosts_sql(group_id: int) -> tuple[str, list]:
    """Hosts of the group and of all its descendants (over ``hosts``)."""
    return (f"id IN (SELECT host_id FROM {GROUP_HOSTS} WHERE group_id = ? OR group_id IN "
            f"({_descendants_cte('?')}))", [group_id, group_id])


def all_groups_sql(host_id: int) -> tuple[str, list]:
    """Groups the host is in, directly or through a child group (over ``groups``)."""
    direct = f"SELECT group_id FROM {GROUP_HOSTS} WHERE host_id = ?"
    return (f"id IN ({direct}) OR id IN ({_ancestors_cte(direct)})", [host_id, host_id])


def potential_children_sql(group: dict) -> tuple[str, list]:
    """Groups of the same inventory that could become children: not the group itself, not
    one of its ancestors, not already below it (AWX ``GroupPotentialChildrenList``)."""
    return (f"inventory = ? AND id != ? AND id NOT IN ({_ancestors_cte('?')})"
            f" AND id NOT IN ({_descendants_cte('?')})",
            [group["inventory"], group["id"], group["id"], group["id"]])


def creates_cycle(store, parent_id: int, child_id: int) -> bool:
    """Would making ``child_id`` a child of ``parent_id`` close a loop?"""
    if parent_id == child_id:
        return True
    return store.one(f"SELECT 1 FROM ({_descendants_cte('?')}) WHERE id = ? LIMIT 1",
                     (child_id, parent_id)) is not None


# -- smart inventories ------------------------------------------------------------------------
def smart_hosts_sql(registry, inventory: dict) -> tuple[str, list]:
    """Hosts (over ``hosts``) a smart inventory holds: those matching its host_filter in the
    regular inventories of its organization (AWX ``HostManager``).  A filter that no longer
    compiles matches nothing."""
    try:
        sql, params = host_filter.compile_filter(registry, inventory.get("host_filter") or "")
    except HostFilterError:
        return "0", []
    scope = "SELECT id FROM inventories WHERE kind != 'smart'"
    scope_params: list = []
    if inventory.get("organization") is not None:
        scope += " AND organization = ?"
        scope_params.append(inventory["organization"])
    return f"({sql}) AND inventory IN ({scope})", [*params, *scope_params]


def inventory_hosts_sql(registry, inventory: dict) -> tuple[str, list]:
    """The hosts of any inventory (over ``hosts``): its own, or a smart inventory's matches."""
    if inventory.get("kind") == "smart":
        return smart_hosts_sql(registry, inventory)
    return "inventory = ?", [inventory["id"]]


# -- counters -----------------------------------------------------------------------------------
def _grouped(store, table: str, column: str, ids: list[int], where: str = "1") -> dict[int, int]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(store.query(f'SELECT "{column}", count(*) FROM "{table}" WHERE "{column}" IN ({marks})'
                            f' AND {where} GROUP BY "{column}"', ids))


def source_counts(ctx, inventory_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Inventory sources per inventory, and failed ones, once inventory sources exist."""
    source_res = ctx.registry.get("inventory_source")
    if source_res is None or source_res.field("inventory") is None:
        return {}, {}
    sources = _grouped(ctx.store, source_res.table, "inventory", inventory_ids)
    failed = source_res.field("last_job_failed")
    if failed is None or not failed.stored:
        return sources, {}
    return sources, _grouped(ctx.store, source_res.table, "inventory", inventory_ids, '"last_job_failed" = 1')


def counters(ctx, inventories: list[dict]) -> dict[int, dict]:
    """AWX's computed inventory fields for many inventories with a few grouped queries."""
    ids = [r["id"] for r in inventories]
    hosts = _grouped(ctx.store, "hosts", "inventory", ids)
    groups = _grouped(ctx.store, "groups", "inventory", ids)
    sources, failed_sources = source_counts(ctx, ids)
    out = {}
    for inv in inventories:
        pk = inv["id"]
        total = hosts.get(pk, 0)
        if inv.get("kind") == "smart":
            sql, params = smart_hosts_sql(ctx.registry, inv)
            total = ctx.store.count("hosts", sql, params)
        out[pk] = {
            "has_active_failures": False,
            "total_hosts": total,
            "hosts_with_active_failures": 0,
            "total_groups": groups.get(pk, 0),
            "has_inventory_sources": bool(sources.get(pk, 0)),
            "total_inventory_sources": sources.get(pk, 0),
            "inventory_sources_with_failures": failed_sources.get(pk, 0),
            "pending_deletion": False,
            "prevent_instance_group_fallback": False,
            "organization_id": inv.get("organization"),
        }
    return out


def host_groups_summary(store, host_ids: list[int]) -> dict[int, dict]:
    """``summary_fields.groups`` of hosts: ``{count, results: [{id, name}] (first 5 by name)}``."""
    out = {pk: {"count": 0, "results": []} for pk in host_ids}
    if not host_ids:
        return out
    marks = ",".join("?" * len(host_ids))
    rows = store.query(
        "SELECT host_id, id, name, n FROM (SELECT gh.host_id, g.id, g.name,"
        " row_number() OVER (PARTITION BY gh.host_id ORDER BY g.name, g.id) AS rn,"
        " count(*) OVER (PARTITION BY gh.host_id) AS n"
        f' FROM {GROUP_HOSTS} gh JOIN "groups" g ON g.id = gh.group_id WHERE gh.host_id IN ({marks}))'
        " WHERE rn <= 5 ORDER BY host_id, rn", host_ids)
    for row in rows:
        entry = out[row["host_id"]]
        entry["count"] = row["n"]
        entry["results"].append({"id": row["id"], "name": row["name"]})
    return out


# -- deletion and copies ----------------------------------------------------------------------
def clear_contents(ctx, inventory_id: int) -> None:
    """Delete an inventory's hosts, groups and their links in a few set-wise statements, so
    deleting a 10,000-host inventory is not 10,000 cascades.  Whatever cannot be removed
    set-wise (rows with roles, protected references) is left to the generic cascade."""
    store = ctx.store
    groups = 'SELECT id FROM "groups" WHERE inventory = ?'
    hosts = 'SELECT id FROM "hosts" WHERE inventory = ?'
    store.execute(f"DELETE FROM {GROUP_HOSTS} WHERE group_id IN ({groups}) OR host_id IN ({hosts})",
                  (inventory_id, inventory_id))
    store.execute(f"DELETE FROM {GROUP_CHILDREN} WHERE parent_id IN ({groups}) OR child_id IN ({groups})",
                  (inventory_id, inventory_id))
    for name in ("host", "group"):
        _bulk_remove(ctx, ctx.registry[name], "inventory = ?", [inventory_id])


def _bulk_remove(ctx, res, where: str, params: list, depth: int = 0) -> bool:
    """Delete ``res`` rows matching ``where`` set-wise, with the effects of ``crud.remove``:
    referrers nulled or deleted (recursively), association rows dropped.  Returns False (and
    changes nothing) when some row needs the generic per-row cascade."""
    if res.has_roles or depth > 3:
        return False
    referrers = [(c, f) for c, f in ctx.registry.reverse_fks(res.name) if c.name != "activity_stream"]
    if any(f.on_delete not in ("set_null", "cascade") for _, f in referrers):
        return False
    selected = f'SELECT id FROM "{res.table}" WHERE {where}'
    for child, fk in referrers:
        if fk.on_delete == "cascade" and not _removable(ctx, child, depth + 1):
            return False
    for child, fk in referrers:
        if fk.on_delete == "set_null":
            ctx.store.execute(f'UPDATE "{child.table}" SET "{fk.name}" = NULL WHERE "{fk.name}" IN ({selected})',
                              params)
        else:
            _bulk_remove(ctx, child, f'"{fk.name}" IN ({selected})', list(params), depth + 1)
    from .crud import m2m_columns
    for table, column in m2m_columns(ctx.registry, res.name):
        ctx.store.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({selected})', params)
    ctx.store.delete_where(res.table, where, params)
    return True


def _removable(ctx, res, depth: int) -> bool:
    """Can :func:`_bulk_remove` handle ``res`` and everything cascading from it?"""
    if res.has_roles or depth > 3:
        return False
    for child, fk in ctx.registry.reverse_fks(res.name):
        if child.name == "activity_stream" or fk.on_delete == "set_null":
            continue
        if fk.on_delete != "cascade" or not _removable(ctx, child, depth + 1):
            return False
    return True


def copy_contents(ctx, source_id: int, target_id: int, stamp: dict) -> None:
    """Copy hosts, groups and their links from one inventory into another (AWX deep copy).

    ``stamp`` holds the created/modified columns for the new rows.
    """
    store = ctx.store
    cols = ["name", "description", "variables"]
    for res_name, extra in (("host", ["enabled", "instance_id"]), ("group", [])):
        res = ctx.registry[res_name]
        names = cols + [c for c in extra if res.field(c) is not None]
        stamp_cols = list(stamp)
        col_sql = ", ".join(f'"{c}"' for c in names + stamp_cols)
        sel_sql = ", ".join([f'"{c}"' for c in names] + ["?"] * len(stamp_cols))
        store.execute(f'INSERT INTO "{res.table}" ("inventory", {col_sql}) '
                      f'SELECT ?, {sel_sql} FROM "{res.table}" WHERE inventory = ? ORDER BY id',
                      [target_id, *stamp.values(), source_id])
    # Map old ids to new ones through the (inventory, name) key, unique in both tables.
    host_map = ('SELECT o.id AS old, n.id AS new FROM "hosts" o JOIN "hosts" n ON n.name = o.name'
                " AND n.inventory = ? WHERE o.inventory = ?")
    group_map = host_map.replace('"hosts"', '"groups"')
    store.execute(f"INSERT OR IGNORE INTO {GROUP_HOSTS} (group_id, host_id)"
                  f" SELECT g.new, h.new FROM {GROUP_HOSTS} gh JOIN ({group_map}) g ON g.old = gh.group_id"
                  f" JOIN ({host_map}) h ON h.old = gh.host_id",
                  (target_id, source_id, target_id, source_id))
    store.execute(f"INSERT OR IGNORE INTO {GROUP_CHILDREN} (parent_id, child_id)"
                  f" SELECT p.new, c.new FROM {GROUP_CHILDREN} gc JOIN ({group_map}) p ON p.old = gc.parent_id"
                  f" JOIN ({group_map}) c ON c.old = gc.child_id",
                  (target_id, source_id, target_id, source_id))


def copy_inventory(ctx, resource, row: dict, name) -> dict:
    """``POST /inventories/N/copy/``: the generic copy plus hosts, groups and links, in one
    transaction (smart inventories have no contents of their own)."""
    from . import crud        # late: crud -> serializer -> resources -> this module
    from ..store import now_iso
    with ctx.store.transaction():
        new = crud.copy(ctx, resource, row, name)
        if new.get("kind") != "smart":
            now = now_iso()
            copy_contents(ctx, row["id"], new["id"], {"created": now, "modified": now,
                                                      "created_by": ctx.user_id, "modified_by": ctx.user_id})
    return new

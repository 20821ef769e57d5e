"""SQL of inventories' contents: the group graph, host and group selects, summaries, set-wise
deletion and deep copies.

Tables: ``hosts`` and ``groups`` (each with an ``inventory`` column), ``group_hosts``
(``group_id``, ``host_id``) and ``group_children`` (``parent_id``, ``child_id``).  The group
graph is a DAG inside one inventory; recursive CTEs use ``UNION`` so even a corrupt cycle
terminates.  Every ``*_sql`` function is a compiler: it returns ``(sql, params)`` usable as a
WHERE over the named table (an ``id IN (...)`` expression, or a column test).  Functions that
take a ``where`` accept such a compiled fragment (never user text) with its parameters.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from sqlite3 import Row

    from . import Store

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


# -- sub-list scopes (compilers) ----------------------------------------------------------------
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


def in_regular_inventories_sql(organization: int | None) -> tuple[str, list]:
    """Hosts (over ``hosts``) of the regular (not smart) inventories of ``organization``, or
    of every organization when it is None: the scope a smart inventory's filter searches."""
    scope = "SELECT id FROM inventories WHERE kind != 'smart'"
    params: list = []
    if organization is not None:
        scope += " AND organization = ?"
        params.append(organization)
    return f"inventory IN ({scope})", params


def first_per_name_sql(where: str) -> str:
    """Hosts (over ``hosts``) matching ``where``, one per name: the lowest id."""
    return f'id IN (SELECT min(id) FROM "hosts" WHERE {where} GROUP BY name)'


def creates_cycle(store: Store, parent_id: int, child_id: int) -> bool:
    """Would making ``child_id`` a child of ``parent_id`` close a loop?"""
    if parent_id == child_id:
        return True
    return store.one(f"SELECT 1 FROM ({_descendants_cte('?')}) WHERE id = ? LIMIT 1",
                     (child_id, parent_id)) is not None


# -- selects ------------------------------------------------------------------------------------
def hosts_where(store: Store, where: str, params: Sequence[Any], enabled_only: bool) -> list[dict]:
    """``id, name, variables, enabled`` of the hosts matching ``where``, by name then id."""
    if enabled_only:
        where = f"({where}) AND enabled = 1"
    rows = store.query(f'SELECT id, name, variables, enabled FROM "hosts" WHERE {where} ORDER BY name, id', params)
    return [dict(r) for r in rows]


def host_variables(store: Store, where: str, params: Sequence[Any], name: str, enabled_only: bool) -> Row | None:
    """The ``variables`` row of the host called ``name`` among those matching ``where``."""
    if enabled_only:
        where = f"({where}) AND enabled = 1"
    return store.one(f'SELECT variables FROM "hosts" WHERE ({where}) AND name = ? LIMIT 1', [*params, name])


def host_named(store: Store, inventory_id: int, name: str) -> dict | None:
    """The host of that name in the inventory, if any."""
    return store.one_dict('SELECT * FROM "hosts" WHERE inventory = ? AND name = ?', (inventory_id, name))


def groups_of(store: Store, inventory_id: int) -> list[Row]:
    """``id, name, variables`` of the inventory's groups, by name then id."""
    return store.query('SELECT id, name, variables FROM "groups" WHERE inventory = ? ORDER BY name, id',
                       (inventory_id,))


def group_members(store: Store, inventory_id: int) -> list[Row]:
    """``(group_id, host_id)`` links inside the inventory, by host name then host id."""
    return store.query(
        f'SELECT gh.group_id, gh.host_id FROM {GROUP_HOSTS} gh'
        ' JOIN "groups" g ON g.id = gh.group_id JOIN "hosts" h ON h.id = gh.host_id'
        ' WHERE g.inventory = ? AND h.inventory = ? ORDER BY h.name, h.id', (inventory_id, inventory_id))


def group_child_names(store: Store, inventory_id: int) -> list[Row]:
    """``(parent_id, name)`` of every child group inside the inventory, by child name then id."""
    return store.query(
        f'SELECT gc.parent_id, c.name FROM {GROUP_CHILDREN} gc'
        ' JOIN "groups" c ON c.id = gc.child_id JOIN "groups" p ON p.id = gc.parent_id'
        ' WHERE c.inventory = ? AND p.inventory = ? ORDER BY c.name, c.id', (inventory_id, inventory_id))


# -- summaries ----------------------------------------------------------------------------------
def host_groups_summary(store: Store, host_ids: list[int]) -> dict[int, dict]:
    """``summary_fields.groups`` of hosts: ``{count, results: [{id, name}] (first 5 by name)}``."""
    out: dict[int, dict] = {pk: {"count": 0, "results": []} for pk in host_ids}
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


# -- set-wise deletion ----------------------------------------------------------------------------
def recursive_delete_targets(store: Store, group_id: int) -> tuple[list[int], list[int]]:
    """What AWX's recursive group delete removes besides the group itself: ``(group ids, host
    ids)``.  A descendant group goes when every parent it has is going; a host goes when every
    group it is in is going (hosts elsewhere in the inventory, or also in a surviving group,
    stay)."""
    links = store.query(f"SELECT gc.parent_id, gc.child_id FROM {GROUP_CHILDREN} gc JOIN \"groups\" g"
                        " ON g.id = gc.child_id WHERE g.inventory = (SELECT inventory FROM \"groups\" WHERE id = ?)",
                        (group_id,))
    parents: dict[int, set[int]] = {}
    children: dict[int, list[int]] = {}
    for parent, child in links:
        parents.setdefault(child, set()).add(parent)
        children.setdefault(parent, []).append(child)
    going, queue = {group_id}, list(children.get(group_id, []))
    while queue:
        child = queue.pop(0)
        if child not in going and parents.get(child, set()) <= going:
            going.add(child)
            queue += children.get(child, [])
    marks = ", ".join("?" * len(going))
    memberships = store.query(f"SELECT host_id, group_id FROM {GROUP_HOSTS} WHERE host_id IN"
                              f" (SELECT host_id FROM {GROUP_HOSTS} WHERE group_id IN ({marks}))", list(going))
    groups_of_host: dict[int, set[int]] = {}
    for host, group in memberships:
        groups_of_host.setdefault(host, set()).add(group)
    hosts = sorted(h for h, groups in groups_of_host.items() if groups <= going)
    return sorted(going - {group_id}), hosts


def unlink_contents(store: Store, inventory_id: int) -> None:
    """Drop every group-host and group-group link that touches the inventory's groups or hosts."""
    groups = 'SELECT id FROM "groups" WHERE inventory = ?'
    hosts = 'SELECT id FROM "hosts" WHERE inventory = ?'
    store.execute(f"DELETE FROM {GROUP_HOSTS} WHERE group_id IN ({groups}) OR host_id IN ({hosts})",
                  (inventory_id, inventory_id))
    store.execute(f"DELETE FROM {GROUP_CHILDREN} WHERE parent_id IN ({groups}) OR child_id IN ({groups})",
                  (inventory_id, inventory_id))


def ids_sql(table: str, where: str) -> str:
    """A SELECT of the ids of ``table`` matching ``where`` (to nest as ``col IN (...)``)."""
    return f'SELECT id FROM "{table}" WHERE {where}'


def null_references(store: Store, table: str, column: str, selected: str, params: Sequence[Any]) -> None:
    """``table.column = NULL`` where it names one of the ``selected`` ids (see :func:`ids_sql`)."""
    store.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" IN ({selected})', params)


def delete_referring(store: Store, table: str, column: str, selected: str, params: Sequence[Any]) -> None:
    """Delete the rows of ``table`` (an association table) whose ``column`` is a ``selected`` id."""
    store.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({selected})', params)


# -- deep copies ----------------------------------------------------------------------------------
def copy_rows(store: Store, table: str, columns: list[str], source_id: int, target_id: int,
              stamp: dict[str, Any]) -> None:
    """Copy ``columns`` of the source inventory's rows of ``table`` (hosts or groups) into the
    target inventory, in id order; ``stamp`` gives the created/modified columns' values."""
    stamp_cols = list(stamp)
    col_sql = ", ".join(f'"{c}"' for c in columns + stamp_cols)
    sel_sql = ", ".join([f'"{c}"' for c in columns] + ["?"] * len(stamp_cols))
    store.execute(f'INSERT INTO "{table}" ("inventory", {col_sql}) '
                  f'SELECT ?, {sel_sql} FROM "{table}" WHERE inventory = ? ORDER BY id',
                  [target_id, *stamp.values(), source_id])


def copy_links(store: Store, source_id: int, target_id: int) -> None:
    """Copy the group-host and group-group links of the source inventory onto the copies made
    by :func:`copy_rows` (old and new rows are matched by their unique (inventory, name))."""
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

"""What a group's plain deletion does to what it held (AWX's ``Group.delete`` signals).

AWX has two group deletions: ``DELETE /groups/N/`` deletes recursively (the resource's
``before_delete``), while a group disassociated from ``/inventories/N/groups/`` is deleted
alone and its ``post_delete`` signal hands the group's hosts and child groups to each of the
group's parents.  A group with no parent leaves its hosts ungrouped and its children as root
groups of the inventory.  Nothing else (other groups, hosts) is deleted.
"""
from __future__ import annotations

from ..store import inventory as inv_sql
from ..store import links
from . import activity


def move_contents_to_parents(ctx, group: dict) -> None:
    """``Relation.detach_delete`` hook of an inventory's groups: before ``group`` is deleted,
    link its hosts and child groups to each of its parents, each new link recorded as an
    ``associate`` entry on the parent (AWX records these m2m additions too)."""
    store, registry = ctx.store, ctx.registry
    parents = links.linked_ids(store, inv_sql.GROUP_CHILDREN, "child_id", "parent_id", group["id"])
    if not parents:
        return
    hosts = links.linked_ids(store, inv_sql.GROUP_HOSTS, "group_id", "host_id", group["id"])
    children = links.linked_ids(store, inv_sql.GROUP_CHILDREN, "parent_id", "child_id", group["id"])
    moves = ((inv_sql.GROUP_HOSTS, "group_id", "host_id", "host", "hosts", hosts),
             (inv_sql.GROUP_CHILDREN, "parent_id", "child_id", "group", "children", children))
    for parent_row in store.get_many("groups", parents).values():
        for table, left, right, target, association, ids in moves:
            for child_row in store.get_many(registry[target].table, ids).values():
                if links.link(store, table, left, right, parent_row["id"], child_row["id"]):
                    activity.record(ctx, "associate", registry["group"], parent_row, other=registry[target],
                                    other_row=child_row, association=association)

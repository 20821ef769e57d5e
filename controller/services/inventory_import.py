"""Apply an ``ansible-inventory --list --export`` result to an inventory, AWX's way.

Hosts and groups are matched by name.  Everything imported is linked to its source
(``/inventory_sources/N/hosts/``).  ``overwrite`` removes what this source imported before but
no longer reports, and makes imported groups' memberships exactly the source's;
``overwrite_vars`` replaces variables instead of merging them.  ``host_filter`` (a regex) and
``enabled_var``/``enabled_value`` work as in AWX.
"""
from __future__ import annotations

import re
from typing import Any

from ..store import imports as db
from ..store.imports import SOURCE_GROUPS, SOURCE_HOSTS
from . import crud
from .variables import parse_vars

_SKIP = ("_meta", "all", "ungrouped")


def _enabled(hostvars: dict, var: str, value: str) -> bool:
    if not var:
        return True
    current: Any = hostvars
    for part in var.split("."):
        if not isinstance(current, dict) or part not in current:
            return True
        current = current[part]
    return str(current).lower() == str(value).lower() if value else bool(current)


def apply(ctx, source: dict, data: dict) -> dict[str, int]:
    """Import ``data`` into the source's inventory; returns counts of what changed."""
    store = ctx.store
    inv_id = source["inventory"]
    keep_host = re.compile(source["host_filter"]).search if source.get("host_filter") else (lambda _n: True)
    hostvars = (data.get("_meta") or {}).get("hostvars") or {}
    groups = {name: body or {} for name, body in data.items() if name not in _SKIP and isinstance(body, dict)}
    names = set(hostvars)
    for body in list(groups.values()) + [data.get("ungrouped") or {}, data.get("all") or {}]:
        names.update(body.get("hosts") or [])
    names = {n for n in names if keep_host(n)}
    overwrite, replace_vars = bool(source.get("overwrite")), bool(source.get("overwrite_vars"))
    counts = {"hosts_added": 0, "hosts_updated": 0, "hosts_removed": 0, "groups_added": 0, "groups_removed": 0}
    with store.transaction():
        hosts = db.existing(store, "hosts", inv_id)
        host_ids: dict[str, int] = {}
        for name in sorted(names):
            new_vars = hostvars.get(name) or {}
            enabled = _enabled(new_vars, source.get("enabled_var") or "", source.get("enabled_value") or "")
            if name in hosts:
                old = parse_vars(hosts[name]["variables"])
                db.set_variables(store, "hosts", hosts[name]["id"], new_vars if replace_vars else {**old, **new_vars},
                                 {"enabled": enabled})
                host_ids[name] = hosts[name]["id"]
                counts["hosts_updated"] += 1
            else:
                host_ids[name] = db.insert_named(store, "hosts", inv_id, name, new_vars,
                                                 {"enabled": enabled, "instance_id": ""})
                counts["hosts_added"] += 1
        existing_groups = db.existing(store, "groups", inv_id)
        group_ids: dict[str, int] = {}
        for name, body in sorted(groups.items()):
            new_vars = body.get("vars") or {}
            if name in existing_groups:
                old = parse_vars(existing_groups[name]["variables"])
                db.set_variables(store, "groups", existing_groups[name]["id"],
                                 new_vars if replace_vars else {**old, **new_vars})
                group_ids[name] = existing_groups[name]["id"]
            else:
                group_ids[name] = db.insert_named(store, "groups", inv_id, name, new_vars, {})
                counts["groups_added"] += 1
        for name, body in groups.items():
            gid = group_ids[name]
            members = {host_ids[h] for h in body.get("hosts") or [] if h in host_ids}
            children = {group_ids[c] for c in body.get("children") or [] if c in group_ids}
            db.link(store, db.GROUP_HOSTS, "group_id", "host_id", [(gid, h) for h in members])
            db.link(store, db.GROUP_CHILDREN, "parent_id", "child_id", [(gid, c) for c in children])
            if overwrite:
                db.unlink_except(store, db.GROUP_HOSTS, "group_id", "host_id", gid, members)
                db.unlink_except(store, db.GROUP_CHILDREN, "parent_id", "child_id", gid, children)
        all_vars = (data.get("all") or {}).get("vars") or {}
        if all_vars or replace_vars:
            inv = store.get("inventories", inv_id)
            merged = all_vars if replace_vars else {**parse_vars(inv["variables"]), **all_vars}
            db.set_variables(store, "inventories", inv_id, merged)
        previous_hosts = db.linked(store, SOURCE_HOSTS, "source_id", "host_id", source["id"])
        previous_groups = db.linked(store, SOURCE_GROUPS, "source_id", "group_id", source["id"])
        db.link(store, SOURCE_HOSTS, "source_id", "host_id", [(source["id"], h) for h in host_ids.values()])
        db.link(store, SOURCE_GROUPS, "source_id", "group_id", [(source["id"], g) for g in group_ids.values()])
        if overwrite:
            for pk in previous_hosts - set(host_ids.values()):
                row = store.get("hosts", pk)
                if row:
                    crud.remove(ctx, ctx.registry["host"], row)
                    counts["hosts_removed"] += 1
            for pk in previous_groups - set(group_ids.values()):
                row = store.get("groups", pk)
                if row:
                    crud.remove(ctx, ctx.registry["group"], row)
                    counts["groups_removed"] += 1
    return counts

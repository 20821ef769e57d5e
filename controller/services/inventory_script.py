"""An inventory rendered as Ansible's JSON inventory (``ansible-inventory --list`` / the
``script`` inventory plugin format), as AWX's ``Inventory.get_script_data`` does.

Shape::

    {"all": {"hosts": [ungrouped host names], "children": [every group name], "vars": {...}},
     "<group>": {"hosts": [...], "children": [...], "vars": {...}},   # keys only when non-empty
     "_meta": {"hostvars": {"<host>": {...}}}}                         # with hostvars

Options (AWX query parameters; any non-empty value is true, as AWX's ``bool(str)``):
``hostvars`` adds ``_meta.hostvars``; ``towervars`` adds ``remote_tower_enabled``,
``remote_tower_id``, ``remote_host_enabled``, ``remote_host_id`` to each host's vars;
``all`` includes disabled hosts (default: enabled only); ``subset=sliceNofM`` keeps every
M-th host starting at the N-th (job slicing); ``host=<name>`` answers that host's vars only.

Cost: a fixed handful of queries whatever the size (hosts, groups, group-host links, group
links); variables are parsed once per distinct text.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import APIError, NotFound
from ..store import inventory as inv_sql
from .inventory_contents import inventory_hosts_sql
from .variables import VarsError, VarsTooLarge, parse_vars

if TYPE_CHECKING:
    from ..context import Context

_SLICE = re.compile(r"^slice(?P<number>\d+)of(?P<step>\d+)$")


class _VarsCache:
    """parse_vars with a memo: 10,000 hosts usually share a few distinct texts.

    Text that does not parse is skipped (``{}``), as it always was; text that would expand
    beyond the bound (stored before the bound existed) raises VarsTooLarge — a 400 for the
    endpoint, an errored job for the executor — rather than silently dropping variables a
    play may depend on (``ansible_host``, ``ansible_connection``)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict] = {}

    def __call__(self, text: Any, owner: str = "") -> dict:
        key = text if isinstance(text, str) else ""
        if key not in self.seen:
            try:
                self.seen[key] = parse_vars(key)
            except VarsTooLarge as exc:
                raise VarsTooLarge(f"{owner}: {exc}" if owner else str(exc)) from None
            except VarsError:
                self.seen[key] = {}
        return dict(self.seen[key])


def parse_slice(subset: str) -> tuple[int, int]:
    """``sliceNofM`` -> (N, M); ParseError-like 400 otherwise (AWX messages)."""
    if not subset.startswith("slice"):
        raise APIError({"detail": "Subset does not use any supported syntax."})
    match = _SLICE.match(subset)
    if not match:
        raise APIError({"detail": f"Could not parse subset as slice specification: {subset}"})
    number, step = int(match["number"]), int(match["step"])
    if number > step:
        raise APIError({"detail": "Slice number must be less than total number of slices."})
    if number < 1:
        raise APIError({"detail": "Slice number must be 1 or higher."})
    return number, step


def _hosts(ctx: Context, inventory: dict, show_all: bool) -> list[dict]:
    sql, params = inventory_hosts_sql(ctx.registry, inventory)
    return inv_sql.hosts_where(ctx.store, sql, params, enabled_only=not show_all)


def host_vars(ctx: Context, inventory: dict, name: str, show_all: bool) -> dict:
    """One host's variables (``?host=<name>``); 404 when it is not in the inventory."""
    sql, params = inventory_hosts_sql(ctx.registry, inventory)
    row = inv_sql.host_variables(ctx.store, sql, params, name, enabled_only=not show_all)
    if row is None:
        raise NotFound()
    return _VarsCache()(row["variables"], f"Host {name}")


def script_data(ctx: Context, inventory: dict, *, hostvars: bool = False, towervars: bool = False,
                show_all: bool = False, subset: str = "") -> dict:
    """The whole inventory in script format (see the module docstring)."""
    parse = _VarsCache()
    hosts = _hosts(ctx, inventory, show_all)
    if subset:
        number, step = parse_slice(subset)
        hosts = hosts[number - 1::step]
    names = {h["id"]: h["name"] for h in hosts}
    data: dict[str, Any] = {}
    all_group: dict[str, Any] = data.setdefault("all", {})
    inv_vars = parse(inventory.get("variables"), f"Inventory {inventory.get('name')}")
    if inv_vars:
        all_group["vars"] = inv_vars
    if inventory.get("kind") == "smart":
        all_group["hosts"] = [h["name"] for h in hosts]
    else:
        _add_groups(ctx, inventory["id"], names, data, all_group, parse)
    if hostvars:
        meta: dict[str, dict] = {}
        for host in hosts:
            hv = parse(host["variables"], f"Host {host['name']}")
            if towervars:
                enabled = "true" if host["enabled"] else "false"
                hv.update(remote_tower_enabled=enabled, remote_tower_id=host["id"],
                          remote_host_enabled=enabled, remote_host_id=host["id"])
            meta[host["name"]] = hv
        data["_meta"] = {"hostvars": meta}
    return data


def _add_groups(ctx: Context, inventory_id: int, names: dict[int, str], data: dict, all_group: dict,
                parse: _VarsCache) -> None:
    store = ctx.store
    members: dict[int, list[str]] = {}
    grouped: set[int] = set()
    for row in inv_sql.group_members(store, inventory_id):
        if row["host_id"] in names:   # disabled or outside the slice: left out
            members.setdefault(row["group_id"], []).append(names[row["host_id"]])
            grouped.add(row["host_id"])
    children: dict[int, list[str]] = {}
    for row in inv_sql.group_child_names(store, inventory_id):
        children.setdefault(row["parent_id"], []).append(row["name"])
    all_group["hosts"] = [name for pk, name in names.items() if pk not in grouped]
    group_names = []
    for group in inv_sql.groups_of(store, inventory_id):
        info: dict[str, Any] = {}
        if group["id"] in members:
            info["hosts"] = members[group["id"]]
        if group["id"] in children:
            info["children"] = children[group["id"]]
        group_vars = parse(group["variables"], f"Group {group['name']}")
        if group_vars:
            info["vars"] = group_vars
        if info:
            data[group["name"]] = info
        group_names.append(group["name"])
    if group_names:
        all_group["children"] = group_names

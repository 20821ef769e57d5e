"""Inventories, hosts and groups (AWX §6.7-6.9).

An inventory is ``""`` (hosts and groups of its own), ``"smart"`` (the hosts matching its
``host_filter`` in its organization's inventories) or ``"constructed"`` (the hosts and groups its
one auto-created ``constructed`` source imports from its ``input_inventories``; also served as
``/constructed_inventories/``, see ``constructed.py``).  Hosts and groups have no roles: they
are visible when their inventory is, and changeable by whoever holds the inventory's
``admin_role``.  The SQL lives in ``store/inventory.py``, whole-inventory logic (smart
hosts, counters, bulk deletion, copies) in ``services/inventory_contents.py``, the filter grammar in
``services/host_filter.py``, the Ansible JSON rendering in ``services/inventory_script.py``.
"""
from __future__ import annotations

import json
from typing import Any

from .. import access
from ..errors import APIError, ValidationError
from ..jobs.inventory_plugins import INPUT_INVENTORIES
from ..services import crud, groups, inventory_contents
from ..services.host_filter import HostFilterError, compile_filter
from ..services.variables import VarsError, parse_vars
from ..registry import Field, Registry, Relation, Resource, RoleSpec
from ..store import inventory as inv_sql
from ..store import now_iso

_SMART_REFUSED = "Cannot create {model} for Smart or Constructed Inventories"
# AWX Inventory._enforce_constructed_source: the name of a constructed inventory's one source
AUTO_SOURCE_NAME = "Auto-created source for: {name}"
_CROSS_INVENTORY = "Cannot associate two items from different inventories."


# -- inventories ------------------------------------------------------------------------------
def _inventory_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None:
        kind = values.get("kind")
        if kind and kind != existing.get("kind"):
            # AWX InventoryDetail.update: only a non-empty kind that differs is refused.
            raise APIError({"error": 'You cannot turn a regular inventory into a "smart" or '
                                     '"constructed" inventory.'}, status=405)
    kind = values.get("kind") or (existing or {}).get("kind") or ""
    host_filter = values["host_filter"] if "host_filter" in values else (existing or {}).get("host_filter")
    if host_filter:
        try:
            compile_filter(ctx.registry, host_filter)
        except HostFilterError as exc:
            raise ValidationError({"host_filter": [exc.message]}) from None
    if kind == "smart" and not host_filter:
        raise ValidationError({"host_filter": ["Smart inventories must specify host_filter"]})


def _inventory_before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is not None:
        values.pop("kind", None)     # kind never changes (a null/"" kind is ignored)
    if values.get("host_filter") == "":
        values["host_filter"] = None
    return values


def _inventory_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    return inventory_contents.counters(ctx, rows)


def _inventory_after_save(ctx, row: dict, existing: dict | None) -> None:
    """AWX Inventory.save: a constructed inventory always has an inventory source, made (with
    AWX's values) whenever it has none.  Renaming the inventory leaves the source's name alone
    (as AWX); deleting it deletes the source (the source's inventory key cascades)."""
    if row.get("kind") != "constructed" or ctx.store.exists("inventory_sources", "inventory = ?", [row["id"]]):
        return
    crud.insert_trusted(ctx, ctx.registry["inventory_source"], {
        "name": AUTO_SOURCE_NAME.format(name=row["name"])[:512], "inventory": row["id"], "source": "constructed",
        "overwrite": True, "overwrite_vars": True, "update_on_launch": True})


def _inventory_related(ctx, row: dict, detail: bool) -> dict[str, str]:
    """AWX: a constructed inventory links its address under /constructed_inventories/."""
    if row.get("kind") != "constructed":
        return {}
    return {"constructed_url": f"/api/v2/constructed_inventories/{row['id']}/"}


def _inventory_after_copy(ctx, row: dict, new: dict) -> None:
    """AWX deep copy: the copy gets the original's hosts, groups and their links (a smart
    inventory has no contents of its own)."""
    if new.get("kind") != "smart":
        now = now_iso()
        inventory_contents.copy_contents(ctx, row["id"], new["id"], {
            "created": now, "modified": now, "created_by": ctx.user_id, "modified_by": ctx.user_id})


def _inventory_before_delete(ctx, row: dict) -> None:
    inventory_contents.clear_contents(ctx, row["id"])


def _input_inventory(ctx, inventory: dict, source: dict, on: bool) -> None:
    """An input inventory is another inventory that is not constructed (AWX's message), and not
    the inventory itself (a constructed source of a regular inventory would read its own output)."""
    if on and source.get("kind") == "constructed":
        raise APIError({"error": "You cannot add a constructed inventory to another constructed inventory."})
    if on and source["id"] == inventory["id"]:
        raise ValidationError({"detail": ["An input inventory must be another inventory."]})


def _inventory_hosts_scope(ctx, inventory: dict) -> tuple[str, list]:
    return inventory_contents.inventory_hosts_sql(ctx.registry, inventory)


def _own_children(ctx, inventory: dict, child: dict, on: bool) -> None:
    """/inventories/N/hosts|groups/: no links into smart inventories, no moves between
    inventories, and no deleting another inventory's object through this list."""
    if inventory.get("kind") == "smart":
        raise APIError({"detail": "Smart inventories have no hosts or groups of their own."})
    if child.get("inventory") != inventory["id"]:
        raise APIError({"detail": _CROSS_INVENTORY})


# -- hosts and groups: access derived from the inventory ---------------------------------------
def _inventory_visibility(ctx):
    """(sql, params) over hosts/groups: rows whose inventory the user can read."""
    vis = access.visibility(ctx, ctx.registry["inventory"])
    if vis is None:
        return None
    return f'inventory IN (SELECT id FROM "inventories" WHERE {vis[0]})', list(vis[1])


def _inventory_admin(ctx, row: dict) -> bool:
    return access.holds(ctx, "inventory", row.get("inventory"), "admin_role")


def _refuse_smart(ctx, values: dict, model: str, as_detail: bool) -> None:
    inv = ctx.store.get("inventories", values["inventory"]) if values.get("inventory") else None
    if inv is not None and inv.get("kind") in ("smart", "constructed"):
        msg = _SMART_REFUSED.format(model=model)
        raise ValidationError({"inventory": {"detail": msg} if as_detail else [msg]})


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


def _host_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None:
        _refuse_smart(ctx, values, "Host", as_detail=True)
    merged = {**(existing or {}), **values}
    name, port = _split_port(merged.get("name") or "")
    inventory = merged.get("inventory")
    if port is not None and ctx.store.exists("hosts", 'name = ? AND inventory = ? AND id != ?',
                                             [name, inventory, (existing or {}).get("id", 0)]):
        raise ValidationError({"__all__": ["Host with this Name and Inventory already exists."]})
    if ctx.store.exists("groups", "name = ? AND inventory = ?", [name, inventory]):
        raise ValidationError({"__all__": ["A Group with that name already exists."]})


def _host_before_save(ctx, values: dict, existing: dict | None) -> dict:
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


def _host_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    sources, _ = inventory_contents.source_counts(ctx, sorted({r["inventory"] for r in rows}))
    with_sources = {pk for pk, n in sources.items() if n}
    return {r["id"]: {"has_active_failures": False, "has_inventory_sources": r.get("inventory") in with_sources,
                      "last_job": None, "last_job_host_summary": None, "ansible_facts_modified": None}
            for r in rows}


def _host_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    groups = inv_sql.host_groups_summary(ctx.store, [r["id"] for r in rows])
    return {pk: {"groups": g, "recent_jobs": []} for pk, g in groups.items()}


def _host_list_filter(ctx, args: list[tuple[str, str]]):
    """``?host_filter=<smart filter>`` on host lists; errors as AWX's ``{"error": ...}``."""
    texts = [v for k, v in args if k == "host_filter" and v.strip()]
    if not texts:
        return None
    try:
        return compile_filter(ctx.registry, texts[-1])
    except HostFilterError as exc:
        raise APIError({"error": exc.message}) from None


def _group_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None:
        _refuse_smart(ctx, values, "Group", as_detail=False)
    merged = {**(existing or {}), **values}
    if merged.get("name") in ("all", "_meta"):
        raise ValidationError({"name": ["Invalid group name."]})
    if ctx.store.exists("hosts", "name = ? AND inventory = ?", [merged.get("name"), merged.get("inventory")]):
        raise ValidationError({"__all__": ["A Host with that name already exists."]})


def _group_before_delete(ctx, row: dict) -> None:
    """AWX's recursive group delete: the child groups left with no other parent and the hosts
    left in no other group go with the group (without activity entries of their own, as AWX)."""
    groups, hosts = inv_sql.recursive_delete_targets(ctx.store, row["id"])
    for table, name, ids in (("groups", "group", groups), ("hosts", "host", hosts)):
        for pk in ids:
            child = ctx.store.get(table, pk)
            if child is not None:
                crud.remove(ctx, ctx.registry[name], child)


def _same_inventory(ctx, parent: dict, child: dict, on: bool) -> None:
    if on and parent.get("inventory") != child.get("inventory"):
        raise APIError({"detail": _CROSS_INVENTORY})


def _no_cycle(ctx, parent: dict, child: dict, on: bool) -> None:
    _same_inventory(ctx, parent, child, on)
    if on and inv_sql.creates_cycle(ctx.store, parent["id"], child["id"]):
        raise APIError({"error": "Cyclical Group association."})


def _existing_host(ctx, group: dict, body: dict) -> dict | None:
    """AWX GroupHostsList.create: a known host name with no variables is attached, not created."""
    if body.get("variables", "") not in ("", "{}", "---", None):
        return None
    return inv_sql.host_named(ctx.store, group["inventory"], body.get("name", ""))


def _scope(fn):
    return lambda ctx, parent: fn(parent["id"])


def _inventory_roles() -> list[RoleSpec]:
    return [
        RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}",
                 ("organization.inventory_admin_role",)),
        RoleSpec("update_role", "Update", "May update the {model}", ("admin_role",)),
        RoleSpec("adhoc_role", "Ad Hoc", "May run ad hoc commands on the {model}", ("admin_role",)),
        RoleSpec("use_role", "Use", "Can use the {model} in a job template", ("adhoc_role",)),
        RoleSpec("read_role", "Read", "May view settings for the {model}",
                 ("use_role", "update_role", "organization.auditor_role")),
    ]


def _counter(name: str, kind: str, help_text: str) -> Field:
    return Field(name, kind, stored=False, read_only=True, default=False if kind == "boolean" else 0,
                 help_text=help_text)


def _vars(model: str) -> Field:
    return Field("variables", "vars", default="", help_text=f"{model} variables in JSON or YAML format.")


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="inventory", plural="inventories", api_key="inventory", verbose_name="inventory",
        fields=[
            Field("organization", "id", fk="organization", required=True, null=True, on_delete="set_null",
                  help_text="Organization containing this inventory."),
            Field("kind", "choice", default="", choices=[
                ("", "Hosts have a direct link to this inventory."),
                ("smart", "Hosts for inventory generated using the host_filter property."),
                ("constructed", "Parse list of source inventories with the constructed inventory plugin.")],
                help_text="Kind of inventory being represented."),
            Field("host_filter", "text", null=True, default=None,
                  help_text="Filter that will be applied to the hosts of this inventory."),
            _vars("Inventory"),
            _counter("has_active_failures", "boolean",
                     "This field is deprecated and will be removed in a future release. Flag indicating "
                     "whether any hosts in this inventory have failed."),
            _counter("total_hosts", "integer", "This field is deprecated and will be removed in a future "
                     "release. Total number of hosts in this inventory."),
            _counter("hosts_with_active_failures", "integer", "This field is deprecated and will be removed "
                     "in a future release. Number of hosts in this inventory with active failures."),
            _counter("total_groups", "integer", "This field is deprecated and will be removed in a future "
                     "release. Total number of groups in this inventory."),
            _counter("has_inventory_sources", "boolean", "This field is deprecated and will be removed in a "
                     "future release. Flag indicating whether this inventory has any external inventory sources."),
            _counter("total_inventory_sources", "integer",
                     "Total number of external inventory sources configured within this inventory."),
            _counter("inventory_sources_with_failures", "integer",
                     "Number of external inventory sources in this inventory with failures."),
            _counter("pending_deletion", "boolean", "Flag indicating the inventory is being deleted."),
            Field("prevent_instance_group_fallback", "boolean", default=False,
                  help_text="If enabled, the inventory will prevent adding any organization instance groups to the "
                            "list of preferred instances groups to run associated job templates on."),
        ],
        ordering=("name",), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)), unique_together=(("name", "organization"),),
        summary_keys=("id", "name", "description", "has_active_failures", "total_hosts",
                      "hosts_with_active_failures", "total_groups", "has_inventory_sources",
                      "total_inventory_sources", "inventory_sources_with_failures", "organization_id", "kind"),
        roles=_inventory_roles(), create_role="organization.inventory_admin_role",
        capabilities=("edit", "delete", "copy", "adhoc"),
        relations=[
            Relation("hosts", "host", "reverse_fk", key="inventory", create=True,
                     scope_hook=_inventory_hosts_scope, validate_association=_own_children),
            # AWX InventoryGroupsList: disassociating deletes the group alone (not recursively)
            Relation("groups", "group", "reverse_fk", key="inventory", create=True,
                     validate_association=_own_children, detach_delete=groups.move_contents_to_parents),
            Relation("root_groups", "group", "derived", read_only=True,
                     scope_hook=_scope(inv_sql.root_groups_sql)),
            # what a "constructed" inventory source reads (AWX's constructed inventories' inputs)
            Relation("input_inventories", "inventory", "m2m", key=INPUT_INVENTORIES, ordered=True,
                     validate_association=_input_inventory),
        ],
        actions=("variable_data", "script", "copy"),
        validate=_inventory_validate, before_save=_inventory_before_save, compute=_inventory_compute,
        after_save=_inventory_after_save, extra_related=_inventory_related,
        before_delete=_inventory_before_delete, after_copy=_inventory_after_copy, delete_status=202,
    ))
    reg["organization"].relations.append(
        Relation("inventories", "inventory", "reverse_fk", key="organization", read_only=True))

    host_access: dict[str, Any] = dict(visibility=_inventory_visibility, can_change=_inventory_admin,
                                       can_create=_inventory_admin, capabilities=("edit", "delete"))
    reg.add(Resource(
        name="host", plural="hosts",
        fields=[
            Field("inventory", "id", fk="inventory", required=True, create_only=True),
            Field("enabled", "boolean", default=True,
                  help_text="Is this host online and available for running jobs?"),
            Field("instance_id", "string", default="", max_length=1024,
                  help_text="The value used by the remote inventory source to uniquely identify the host"),
            _vars("Host"),
            Field("has_active_failures", "boolean", stored=False, read_only=True, default=False),
            Field("has_inventory_sources", "boolean", stored=False, read_only=True, default=False),
            Field("last_job", "integer", stored=False, read_only=True, null=True, default=None),
            Field("last_job_host_summary", "integer", stored=False, read_only=True, null=True, default=None),
            Field("ansible_facts_modified", "datetime", stored=False, read_only=True, null=True, default=None,
                  help_text="The date and time ansible_facts was last modified."),
        ],
        ordering=("name",), indexes=(("inventory", "name"),), search_fields=("name", "description"),
        named_url=(("name",), ("inventory.name",), ("inventory.organization.name",)),
        unique_together=(("name", "inventory"),),
        relations=[
            Relation("groups", "group", "m2m", key=f"{inv_sql.GROUP_HOSTS}:host_id:group_id",
                     create=True, inherit=("inventory",), validate_association=_same_inventory),
            Relation("all_groups", "group", "derived", read_only=True,
                     scope_hook=_scope(inv_sql.all_groups_sql)),
        ],
        actions=("variable_data",),
        validate=_host_validate, before_save=_host_before_save, compute=_host_compute,
        extra_summary=_host_summary, list_filter=_host_list_filter, **host_access,
    ))

    reg.add(Resource(
        name="group", plural="groups",
        fields=[
            Field("inventory", "id", fk="inventory", required=True, create_only=True),
            _vars("Group"),
        ],
        ordering=("name",), indexes=(("inventory", "name"),), search_fields=("name", "description"),
        named_url=(("name",), ("inventory.name",), ("inventory.organization.name",)),
        unique_together=(("name", "inventory"),),
        relations=[
            Relation("hosts", "host", "m2m", key=f"{inv_sql.GROUP_HOSTS}:group_id:host_id",
                     create=True, inherit=("inventory",), validate_association=_same_inventory,
                     find_existing=_existing_host),
            # AWX GroupChildrenList: {"disassociate": true} without "id" deletes this group alone
            Relation("children", "group", "m2m", key=f"{inv_sql.GROUP_CHILDREN}:parent_id:child_id",
                     create=True, inherit=("inventory",), validate_association=_no_cycle,
                     detach_all_deletes_parent=groups.move_contents_to_parents),
            Relation("all_hosts", "host", "derived", read_only=True,
                     scope_hook=_scope(inv_sql.all_hosts_sql)),
            Relation("potential_children", "group", "derived", read_only=True,
                     scope_hook=lambda ctx, parent: inv_sql.potential_children_sql(parent)),
        ],
        actions=("variable_data",),
        validate=_group_validate, before_delete=_group_before_delete, **host_access,
    ))

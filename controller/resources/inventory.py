"""Inventories, hosts and groups (AWX §6.7-6.9).

An inventory is ``""`` (hosts and groups of its own), ``"smart"`` (the hosts matching its
``host_filter`` in its organization's inventories) or ``"constructed"`` (the hosts and groups its
one auto-created ``constructed`` source imports from its ``input_inventories``; also served as
``/constructed_inventories/``, see ``constructed.py``).  Hosts and groups have no roles: they
are visible when their inventory is, and changeable by whoever holds the inventory's
``admin_role``; changing a ``host_filter`` needs the organization's ``inventory_admin_role``.
The hosts' hooks (and what hosts and groups share) live in ``hosts.py``, the SQL in
``store/inventory.py`` and ``store/host_jobs.py``, whole-inventory logic (smart hosts, counters,
bulk deletion, copies) in ``services/inventory_contents.py``, filtering on the counters in
``services/inventory_filters.py``, the filter grammar in ``services/host_filter.py``, the Ansible
JSON rendering in ``services/inventory_script.py``.
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..jobs.inventory_plugins import INPUT_INVENTORIES
from ..services import crud, groups, inventory_contents, inventory_filters
from ..services.host_filter import HostFilterError, compile_filter
from ..registry import Field, Registry, Relation, Resource, RoleSpec
from ..store import host_jobs
from ..store import inventory as inv_sql
from ..store import now_iso
from ..store.imports import SOURCE_GROUPS, SOURCE_HOSTS
from . import hosts

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
    _require_filter_admin(ctx, values, existing)
    if host_filter:
        try:
            compile_filter(ctx.registry, host_filter)
        except HostFilterError as exc:
            raise ValidationError({"host_filter": [exc.message]}) from None
    if kind == "smart" and not host_filter:
        raise ValidationError({"host_filter": ["Smart inventories must specify host_filter"]})


def _require_filter_admin(ctx, values: dict, existing: dict | None) -> None:
    """AWX ``InventoryAccess.can_admin``: a new, non-empty ``host_filter`` chooses which hosts
    of the organization's inventories the inventory shows, so it needs the organization's
    ``inventory_admin_role`` - the inventory's own admin role is not enough (403).  A create
    already needs that role (``create_role``)."""
    if existing is None or ctx.is_superuser:
        return
    new = values.get("host_filter")
    if not new or new == existing.get("host_filter") or existing.get("organization") is None:
        return
    if not access.holds(ctx, "organization", existing["organization"], "inventory_admin_role"):
        raise PermissionDenied()


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


def _own_children(ctx, inventory: dict, child: dict, on: bool) -> None:
    """/inventories/N/hosts|groups/: no links into smart inventories, no moves between
    inventories, and no deleting another inventory's object through this list."""
    if inventory.get("kind") == "smart":
        raise APIError({"detail": "Smart inventories have no hosts or groups of their own."})
    if child.get("inventory") != inventory["id"]:
        raise APIError({"detail": _CROSS_INVENTORY})


def _group_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None:
        hosts.refuse_smart(ctx, values, "Group", as_detail=False)
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


# AWX: a group dropped from an inventory's (root) groups is deleted alone, not recursively
_detach_group = hosts.guarded(groups.move_contents_to_parents)


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
                     scope_hook=hosts.inventory_hosts_scope, lists_all=hosts.is_smart,
                     validate_association=_own_children),
            # AWX InventoryGroupsList: disassociating deletes the group alone (not recursively)
            Relation("groups", "group", "reverse_fk", key="inventory", create=True,
                     validate_association=_own_children, detach_delete=_detach_group),
            # AWX InventoryRootGroupsList: creates, attaches and detaches as the groups list does
            Relation("root_groups", "group", "reverse_fk", key="inventory", create=True,
                     scope_hook=_scope(inv_sql.root_groups_sql), validate_association=_own_children,
                     detach_delete=_detach_group),
            # what a "constructed" inventory source reads (AWX's constructed inventories' inputs)
            Relation("input_inventories", "inventory", "m2m", key=INPUT_INVENTORIES, ordered=True,
                     validate_association=_input_inventory),
            Relation("job_templates", "job_template", "reverse_fk", key="inventory", read_only=True),
        ],
        actions=("variable_data", "script", "copy"),
        validate=_inventory_validate, before_save=_inventory_before_save, compute=_inventory_compute,
        list_filter=inventory_filters.counters_filter,
        after_save=_inventory_after_save, extra_related=_inventory_related,
        before_delete=_inventory_before_delete, after_copy=_inventory_after_copy, delete_status=202,
    ))
    reg["organization"].relations.append(
        Relation("inventories", "inventory", "reverse_fk", key="organization", read_only=True))

    host_access: dict[str, Any] = dict(can_change=hosts.inventory_admin, can_create=hosts.inventory_admin,
                                       may_add=access.holds_some("inventory.admin_role"),
                                       capabilities=("edit", "delete"))
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
            # written with a job's host summaries (store.jobs.store_host_summaries)
            # AWX SUMMARIZABLE_FK_FIELDS["last_job"] (a job has no license_error) + HostSerializer's
            # job_template_id/name
            Field("last_job", "id", fk="job", read_only=True, null=True, default=None, on_delete="set_null",
                  index=True, summary_keys=("id", "name", "description", "finished", "status", "failed",
                                            "canceled_on", "job_template_id", "job_template_name")),
            Field("last_job_host_summary", "id", fk="job_host_summary", read_only=True, null=True, default=None,
                  on_delete="set_null", index=True),
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
            # the sources that imported it, what ran on it (AWX's host sub-lists)
            Relation("inventory_sources", "inventory_source", "m2m", key=f"{SOURCE_HOSTS}:host_id:source_id",
                     read_only=True),
            Relation("ad_hoc_commands", "ad_hoc_command", "derived", read_only=True,
                     scope_hook=_scope(host_jobs.host_ad_hoc_commands_sql)),
            Relation("ad_hoc_command_events", "ad_hoc_command_event", "reverse_fk", key="host", read_only=True),
        ],
        actions=("variable_data",),
        validate=hosts.host_validate, before_save=hosts.host_before_save, compute=hosts.host_compute,
        extra_summary=hosts.host_summary, list_filter=hosts.host_list_filter, visibility=hosts.inventory_visibility,
        before_delete=hosts.refuse_while_running, **host_access,
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
                     detach_all_deletes_parent=_detach_group, reverse_name="parents"),
            Relation("all_hosts", "host", "derived", read_only=True,
                     scope_hook=_scope(inv_sql.all_hosts_sql)),
            Relation("potential_children", "group", "derived", read_only=True,
                     scope_hook=lambda ctx, parent: inv_sql.potential_children_sql(parent)),
            # AWX's group sub-lists: its sources, and what ran on its hosts (all_hosts)
            Relation("inventory_sources", "inventory_source", "m2m", key=f"{SOURCE_GROUPS}:group_id:source_id",
                     read_only=True),
            Relation("job_host_summaries", "job_host_summary", "derived", read_only=True,
                     scope_hook=lambda ctx, parent: host_jobs.of_group_hosts_sql("host", parent["id"])),
            Relation("job_events", "job_event", "derived", read_only=True,
                     scope_hook=lambda ctx, parent: host_jobs.of_group_hosts_sql("host", parent["id"])),
            Relation("ad_hoc_commands", "ad_hoc_command", "derived", read_only=True,
                     scope_hook=_scope(host_jobs.group_ad_hoc_commands_sql)),
        ],
        actions=("variable_data",),
        validate=_group_validate, before_delete=hosts.guarded(_group_before_delete),
        visibility=hosts.inventory_visibility, **host_access,
    ))

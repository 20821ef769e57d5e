"""Inventory sources (an inventory file or directory kept in a project) and inventory updates,
unified jobs that import it with ``ansible-inventory``."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import access
from ..errors import ValidationError
from ..jobs import inventory_plugins, inventory_update
from ..registry import Field, Registry, Relation, Resource, UnifiedJob
from ..services.project_files import confined, has_control, project_dir
from ..store import jobs as jobq
from ..store.imports import SOURCE_GROUPS, SOURCE_HOSTS
from .unified import add_unified_job, launched_by, unified_job_fields

SOURCES = [("file", "File, Directory or Script"), ("constructed", "Template additional groups and hostvars at runtime"),
           ("scm", "Sourced from a Project"), ("ec2", "Amazon EC2"), ("gce", "Google Compute Engine"),
           ("azure_rm", "Microsoft Azure Resource Manager"), ("vmware", "VMware vCenter"),
           ("satellite6", "Red Hat Satellite 6"), ("openstack", "OpenStack"), ("rhv", "Red Hat Virtualization"),
           ("controller", "Red Hat Ansible Automation Platform"), ("insights", "Red Hat Insights"),
           ("terraform", "Terraform State"), ("openshift_virtualization", "OpenShift Virtualization")]


def _source_fields() -> list[Field]:
    return [
        Field("source", "choice", choices=SOURCES, default="scm"),
        Field("source_path", "string", max_length=1024, default="",
              help_text="Path of the inventory file or directory, relative to the project."),
        Field("source_vars", "vars", default="", help_text="Inventory source variables in YAML or JSON format."),
        Field("scm_branch", "string", max_length=1024, default=""),
        Field("credential", "id", fk="credential", null=True, default=None, on_delete="set_null"),
        Field("enabled_var", "string", default="",
              help_text="Retrieve the enabled state from the given dict of host variables."),
        Field("enabled_value", "string", default="",
              help_text="Only used when enabled_var is set. Value when the host is considered enabled."),
        Field("host_filter", "string", default="",
              help_text="Regular expression where only matching host names will be imported."),
        Field("overwrite", "boolean", default=False,
              help_text="Overwrite local groups and hosts from remote inventory source."),
        Field("overwrite_vars", "boolean", default=False,
              help_text="Overwrite local variables from remote inventory source."),
        Field("timeout", "integer", default=0, min_value=0),
        Field("verbosity", "choice", choices=[(0, "0 (WARNING)"), (1, "1 (INFO)"), (2, "2 (DEBUG)")], default=1),
        Field("limit", "string", default=""),
    ]


def _inventory_vis_sql(ctx, column: str = "inventory"):
    vis = access.visibility(ctx, ctx.registry["inventory"])
    if vis is None:
        return None
    return f'"{column}" IN (SELECT id FROM "inventories" WHERE {vis[0]})', vis[1]


def _can_admin(ctx, row: dict) -> bool:
    return access.holds(ctx, "inventory", row.get("inventory"), "admin_role")


def _check_source_confined(ctx, path: str, project_id: int | None) -> None:
    """A source path that exists already must not lead out of the project through a symlink
    (the update checks again when it runs: a git checkout may change in between)."""
    project = ctx.store.get("projects", project_id) if path and project_id else None
    if project is None:
        return
    root = project_dir(ctx, project)
    if os.path.lexists(root / path) and confined(root, path) is None:
        raise ValidationError({"source_path": ["Must be a path inside the project folder."]})


def _check_plugin_source(ctx, merged: dict, path: str) -> None:
    """AWX's rules for the inventory plugin kinds: no source path, and a credential of the
    kind's cloud type (required except for ec2, openshift_virtualization and constructed)."""
    source = merged["source"]
    if path:
        raise ValidationError({"source_path": ["Cannot set source_path if not SCM type."]})
    cred = ctx.store.get("credentials", merged["credential"]) if merged.get("credential") else None
    namespace = inventory_plugins.PLUGINS[source][2]
    if cred is None:
        if source not in inventory_plugins.CREDENTIAL_OPTIONAL:
            raise ValidationError({"credential": ["Credential is required for a cloud source."]})
        return
    ctype = ctx.store.get("credential_types", cred["credential_type"]) or {}
    if source != "constructed" and ctype.get("namespace") != namespace:
        raise ValidationError({"credential": [f"Cloud-based inventory sources (such as {source}) require "
                                              "credentials for the matching cloud service."]})


# AWX CONSTRUCTED_INVENTORY_SOURCE_EDITABLE_FIELDS: what may change on a constructed inventory's source
CONSTRUCTED_EDITABLE = ("source_vars", "update_cache_timeout", "limit", "verbosity")


def _check_constructed_edit(values: dict, existing: dict) -> None:
    """AWX: the auto-created source of a constructed inventory changes only in
    :data:`CONSTRUCTED_EDITABLE`; any other field sent with a new value is refused."""
    for name, value in values.items():
        old = existing.get(name)
        same = bool(old) == value if isinstance(value, bool) else old == value
        if not same and name not in CONSTRUCTED_EDITABLE:
            raise ValidationError({"error": f"Cannot change field '{name}' on a constructed inventory source."})


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    inv = ctx.store.get("inventories", merged["inventory"]) if merged.get("inventory") else None
    kind = (inv or {}).get("kind")
    if existing is None and kind in ("smart", "constructed"):
        # a constructed inventory's one source is made with it (resources/inventory.py)
        raise ValidationError({"inventory": {"detail": "Cannot create Inventory Source for Smart or Constructed "
                                                       "Inventories"}})
    if existing is not None and kind == "constructed":
        _check_constructed_edit(values, existing)
    path = inventory_update.in_project(merged.get("source_path") or "")
    if has_control(path) or Path(path).is_absolute() or ".." in Path(path).parts:
        raise ValidationError({"source_path": ["Must be a path relative to the project folder."]})
    _check_source_confined(ctx, path, merged.get("source_project"))
    if merged.get("source") == "scm":
        if not merged.get("source_project"):
            raise ValidationError({"source_project": ["Project required for scm type sources."]})
        if not path:
            raise ValidationError({"source_path": ["This field is required for scm type sources."]})
    if merged.get("source") == "file":
        raise ValidationError({"source": ['"file" sources need a path on the controller; use "scm" with a project.']})
    if merged.get("source") in inventory_plugins.PLUGINS:
        _check_plugin_source(ctx, merged, path)
    if merged.get("host_filter"):
        import re
        try:
            re.compile(merged["host_filter"])
        except re.error as exc:
            raise ValidationError({"host_filter": [f"Invalid regular expression: {exc}"]}) from None
    dup = ctx.store.exists("inventory_sources", "inventory = ? AND name = ? AND id != ?",
                           [merged.get("inventory"), merged.get("name"), (existing or {}).get("id", 0)])
    if dup:
        raise ValidationError({"__all__": ["Inventory source with this Inventory and Name already exists."]})


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    states = jobq.update_state(ctx.store, "inventory_updates", "inventory_source", [r["id"] for r in rows])
    out = {}
    for r in rows:
        current, last = states.get(r["id"], (None, None))
        status = current["status"] if current else (last["status"] if last else "never updated")
        out[r["id"]] = {"status": status, "last_job_run": last["finished"] if last else None,
                        "last_job_failed": bool(last and last["failed"]),
                        "last_update_failed": bool(last and last["failed"]),
                        "last_updated": last["finished"] if last else None, "next_job_run": None}
    return out


# Cancel: an admin of the inventory.
INVENTORY_UPDATE = UnifiedJob(template="inventory_source", template_fk="inventory_source",
                              events_table="inventory_update_events", parent_col="inventory_update",
                              prepare=inventory_update.prepare, finish=inventory_update.finish,
                              start=inventory_update.start_update, run_role="update_role",
                              blocked=inventory_update.blocked,
                              admin=("inventory", "inventory"))


def declare(reg: Registry) -> None:
    ro: dict[str, Any] = dict(read_only=True)
    reg.add(Resource(
        name="inventory_source", plural="inventory_sources",
        fields=_source_fields() + [
            Field("inventory", "id", fk="inventory", required=True, create_only=True),
            Field("source_project", "id", fk="project", null=True, default=None, on_delete="cascade"),
            Field("update_on_launch", "boolean", default=False),
            Field("update_cache_timeout", "integer", default=0, min_value=0),
            Field("custom_virtualenv", "string", null=True, default=None, **ro),
            Field("execution_environment", "id", fk="execution_environment", on_delete="set_null", null=True,
                  default=None,
                  help_text="The container image to be used for execution."),
            Field("status", "string", stored=False, **ro),
            Field("last_job_run", "datetime", stored=False, **ro),
            Field("last_job_failed", "boolean", stored=False, **ro),
            Field("next_job_run", "datetime", stored=False, **ro),
            Field("last_update_failed", "boolean", stored=False, **ro),
            Field("last_updated", "datetime", stored=False, **ro),
        ],
        ordering=("name",), search_fields=("name", "description"),
        named_url=(("name",), ("inventory.name",), ("inventory.organization.name",)),
        relations=[
            Relation("inventory_updates", "inventory_update", "reverse_fk", key="inventory_source", read_only=True),
            Relation("hosts", "host", "m2m", key=f"{SOURCE_HOSTS}:source_id:host_id", read_only=True),
            Relation("groups", "group", "m2m", key=f"{SOURCE_GROUPS}:source_id:group_id", read_only=True),
        ],
        actions=("update",), capabilities=("edit", "delete", "start", "schedule"),
        visibility=_inventory_vis_sql, can_change=_can_admin, can_create=_can_admin,
        may_add=access.holds_some("inventory.admin_role"),
        validate=_validate, compute=_compute,
    ))
    reg["inventory"].relations.append(Relation("inventory_sources", "inventory_source", "reverse_fk",
                                               key="inventory", create=True, attach=False))
    reg["project"].relations.append(Relation("scm_inventory_sources", "inventory_source", "reverse_fk",
                                             key="source_project", read_only=True))
    add_unified_job(reg, Resource(
        name="inventory_update", plural="inventory_updates", id_group="unified_job", unified_job=INVENTORY_UPDATE,
        fields=unified_job_fields() + [
            Field(f.name, f.kind, choices=f.choices, fk=f.fk, null=f.null, default=f.default,
                  on_delete="set_null" if f.kind == "id" else "cascade", **ro) for f in _source_fields()
        ] + [
            Field("inventory", "id", fk="inventory", on_delete="cascade", **ro),
            Field("inventory_source", "id", fk="inventory_source", on_delete="cascade", **ro),
            Field("schedule", "id", fk="schedule", null=True, default=None, on_delete="set_null",
                  help_text="The schedule that launched this update, if any.", index=True, **ro),
            Field("source_project", "integer", null=True, default=None, **ro),
            Field("source_project_update", "integer", null=True, default=None, **ro),
            Field("license_error", "boolean", default=False, **ro),
            Field("org_host_limit_error", "boolean", default=False, **ro),
            Field("instance_group", "integer", null=True, default=None, **ro),
            Field("scm_revision", "string", default="", **ro),
        ],
        ordering=("id",), search_fields=("name", "description"),
        relations=[Relation("events", "inventory_update_event", "reverse_fk", key="inventory_update",
                            read_only=True)],
        actions=("cancel", "stdout"), creatable=False, updatable=False, capabilities=("delete", "start"),
        compute=launched_by, visibility=_inventory_vis_sql,
    ), with_host=False)

"""Bulk host create and delete (AWX's ``/api/v2/bulk/host_create/`` and ``/bulk/host_delete/``).

Contracts:
  * Each host is validated as a regular host would be, ``host:port`` names included (the
    split name is the one checked for duplicates, stored and returned).
  * All or nothing: every host is validated, and every check (limit, inventory kind,
    permissions, duplicate names, the organization's ``max_hosts``) passes, before one row is
    written; the writes are one transaction.
  * Errors are AWX's bodies: per-host field errors under ``{"hosts": {"<index>": {...}}}``,
    request-wide ones under ``non_field_errors``; a delete the user may not do is 403
    ``{"inventories": {...}}``.
  * Activity stream as AWX: one ``update`` entry on the inventory per request, whose changes
    are ``total_hosts`` [old, new] (create) or the deleted hosts (delete, one entry per
    inventory).  Inventory host counts are derived, so they are right at once.
  * Limits are read when the request arrives (settings ``BULK_HOST_MAX_CREATE`` and
    ``BULK_HOST_MAX_DELETE``), so a change applies without restart.
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..services import activity, crud
from ..services.validation import FieldError, coerce, object_errors, require_object
from ..store import bulk as bq
from ..store import now_iso

HOST_KEYS = ("name", "enabled", "instance_id", "description", "variables")   # AWX's BulkHostSerializer order
NOT_FOUND = "Hosts do not exist or you lack permission to delete it"


def _field_errors(ctx, host: Any) -> tuple[dict, dict]:
    """(stored values, {field: [message]}) of one host of the request."""
    if not isinstance(host, dict):
        return {}, object_errors(host)
    res = ctx.registry["host"]
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in HOST_KEYS:
        field = res.field(key)
        if key not in host:
            if key == "name":
                errors[key] = ["This field is required."]
            else:
                values[key] = field.default
            continue
        try:
            values[key] = coerce(ctx, field, host[key])
        except FieldError as exc:
            errors[key] = [str(exc)]
            continue
        if key == "name" and values[key] in ("", None):
            errors[key] = ["This field may not be blank."]
    if not errors:
        values = _split_name_port(ctx, values, errors)
    return values, errors


def _split_name_port(ctx, values: dict, errors: dict[str, list[str]]) -> dict:
    """AWX's BulkHostSerializer is a HostSerializer: a ``host:port`` name (exactly one colon)
    becomes the name plus ``ansible_ssh_port`` in the variables, through the host resource's
    own ``before_save`` hook, or the per-host ``{"name": ["Invalid port specification: X"]}``.
    (AWX skips the host-vs-group name check here: a bulk host has no inventory of its own.)"""
    hook = ctx.registry["host"].before_save
    if hook is None:
        return values
    try:
        return hook(ctx, dict(values), None)
    except ValidationError as exc:
        errors.update({str(k): list(v) for k, v in dict(exc.body).items()})
        return values


def _list_of(body: dict, key: str) -> list:
    """``body[key]`` as a non-empty list, or DRF's ListField error."""
    if key not in body:
        raise ValidationError({key: ["This field is required."]})
    value = body[key]
    if not isinstance(value, list):
        raise ValidationError({key: [f'Expected a list of items but got type "{type(value).__name__}".']})
    if not value:
        raise ValidationError({key: ["This list may not be empty."]})
    return value


def _inventory(ctx, body: dict) -> dict:
    if body.get("inventory") in (None, ""):
        raise ValidationError({"inventory": ["This field is required." if "inventory" not in body
                                             else "This field may not be null."]})
    try:
        pk = coerce(ctx, ctx.registry["host"].field("inventory"), body["inventory"])
    except FieldError as exc:
        raise ValidationError({"inventory": [str(exc)]}) from None
    return ctx.store.get("inventories", pk)


def _check_max_hosts(ctx, inventory: dict, names: list[str]) -> None:
    """The organization's ``max_hosts`` (0: no limit), counted as AWX: names it already holds
    are not new.  403 beyond."""
    org = ctx.store.get("organizations", inventory["organization"]) if inventory.get("organization") else None
    if not org or not int(org.get("max_hosts") or 0):
        return
    new = len(set(names)) - bq.names_in_organization(ctx.store, org["id"], names)
    if bq.organization_host_count(ctx.store, org["id"]) + new > int(org["max_hosts"]):
        raise PermissionDenied(f"You have already reached the maximum number of {org['max_hosts']} hosts allowed "
                               "for your organization. Contact your System Administrator for assistance.")


def _validated_hosts(ctx, inventory: dict, given: list) -> list[dict]:
    """The hosts to create, or the first failing check's error (module doc's order: AWX's)."""
    hosts: list[dict] = []
    errors: dict[str, dict] = {}
    for index, host in enumerate(given):
        values, problems = _field_errors(ctx, host)
        if problems:
            errors[str(index)] = problems
        hosts.append(values)
    if errors:
        raise ValidationError({"hosts": errors})
    if inventory.get("kind"):
        raise ValidationError({"non_field_errors": [
            "Hosts can only be created in manual inventories (not smart or constructed types)."]})
    if len(hosts) > int(ctx.settings.BULK_HOST_MAX_CREATE):
        raise ValidationError({"non_field_errors": ["Number of hosts exceeds system setting BULK_HOST_MAX_CREATE"]})
    if not access.holds(ctx, "inventory", inventory["id"], "admin_role"):
        raise ValidationError({"non_field_errors": [
            f"Inventory with id {inventory['id']} not found or lack permissions to add hosts."]})
    existing = bq.host_names(ctx.store, inventory["id"])
    names = [h["name"] for h in hosts]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    duplicates = [n for n in names if n in existing or seen[n] > 1]
    if duplicates:
        raise ValidationError({"non_field_errors": [
            f"Hostnames must be unique in an inventory. Duplicates found: {duplicates!r}"]})
    _check_max_hosts(ctx, inventory, names)
    return hosts


def create_hosts(ctx, body: Any) -> dict:
    """POST ``{"inventory": id, "hosts": [{name, description, enabled, variables, instance_id}]}``:
    every host created in one transaction; returns AWX's body (``url``, ``hosts`` with ids)."""
    require_object(body)
    with ctx.store.transaction():
        inventory = _inventory(ctx, body)
        hosts = _validated_hosts(ctx, inventory, _list_of(body, "hosts"))
        old_total = ctx.store.count("hosts", "inventory = ?", [inventory["id"]])
        now = now_iso()
        stamp = {"created": now, "modified": now, "created_by": ctx.user_id, "modified_by": ctx.user_id}
        rows = [{**{k: int(v) if isinstance(v, bool) else v for k, v in h.items()},
                 "inventory": inventory["id"], **stamp} for h in hosts]
        created = bq.insert_hosts(ctx.store, rows)
        activity.record(ctx, "update", ctx.registry["inventory"], inventory,
                        {"total_hosts": [old_total, old_total + len(created)]})
    inv_url = f"/api/v2/inventories/{inventory['id']}/"
    out = []
    for host, row in zip(hosts, created):
        out.append({**{k: host[k] for k in HOST_KEYS}, "id": row["id"], "url": f"/api/v2/hosts/{row['id']}/",
                    "inventory": inv_url})
    return {"url": inv_url, "hosts": out}


def _delete_ids(ctx, body: Any) -> list[int]:
    require_object(body)
    given = _list_of(body, "hosts")
    if any(isinstance(h, bool) or not isinstance(h, int) for h in given):
        raise ValidationError({"hosts": ["Expected a list of host ids (integers)."]})
    limit = int(ctx.settings.BULK_HOST_MAX_DELETE)
    if len(given) > limit:
        raise ValidationError({"ERROR": ["Number of hosts exceeds system setting BULK_HOST_MAX_DELETE"],
                               "BULK_HOST_MAX_DELETE": [str(limit)], "Hosts_count": [str(len(given))]})
    return given


def delete_hosts(ctx, body: Any) -> dict:
    """POST ``{"hosts": [id, ...]}``: every host deleted in one transaction (group links and job
    host summaries go with them, as for a single delete); returns ``{"hosts": {id: message}}``."""
    ids = _delete_ids(ctx, body)
    host_res, inv_res = ctx.registry["host"], ctx.registry["inventory"]
    with ctx.store.transaction():
        found = bq.hosts_by_ids(ctx.store, ids)
        missing = sorted(set(ids) - {h["id"] for h in found})
        if missing:
            raise ValidationError({"hosts": {str(pk): NOT_FOUND for pk in missing}})
        inventories = ctx.store.get_many("inventories", [h["inventory"] for h in found])
        refused = {inv["name"]: "Lack permissions to delete hosts from this inventory."
                   for inv in inventories.values() if not access.holds(ctx, "inventory", inv["id"], "admin_role")}
        if refused:
            raise APIError({"inventories": refused}, status=403)
        manual_only = {inv["name"]: "Hosts can only be deleted from manual inventories."
                       for inv in inventories.values() if inv.get("kind")}
        if manual_only:
            raise ValidationError({"inventories": manual_only})
        deleted: dict[int, list[dict]] = {pk: [] for pk in inventories}
        for host in found:
            crud.remove(ctx, host_res, host)
            deleted[host["inventory"]].append({"host_id": host["id"], "host_name": host["name"]})
        for pk, gone in deleted.items():
            activity.record(ctx, "update", inv_res, inventories[pk], {"deleted_hosts": gone})
    return {"hosts": {str(h["id"]): f"The host {h['name']} was deleted" for h in found}}

"""Access control: one visibility filter under every list, one permission check per action.

Superusers see and do everything; system auditors read everything.  Everyone else goes
through object roles (AWX's legacy role model): a role is held directly, through a team's
member_role, or through a declared ancestor (organization admin ⊃ object admin ⊃ read).
"""
from __future__ import annotations

from typing import Any

from .context import Context
from .errors import PermissionDenied
from .store import rbac


def visibility(ctx: Context, resource) -> tuple[str, list] | None:
    """SQL restricting ``resource``'s table to what ctx.user may read; None = everything."""
    if ctx.is_auditor:
        return None
    if resource.visibility is not None:
        return resource.visibility(ctx)
    if resource.has_roles:
        return rbac.objects_with_role_ids_sql(resource.name, resource.read_role, ctx.effective_roles())
    return None


def role_level_sql(ctx: Context, resource):
    """The ``role_level=`` filter: objects on which the user holds the given role."""
    def compile_(role_field: str) -> tuple[str, list]:
        if ctx.is_superuser:
            return "1", []
        return rbac.objects_with_role_ids_sql(resource.name, role_field, ctx.effective_roles())
    return compile_


def can_read(ctx: Context, resource, row: dict) -> bool:
    vis = visibility(ctx, resource)
    if vis is None:
        return True
    sql, params = vis
    return ctx.store.exists(resource.table, f"id = ? AND ({sql})", [row["id"], *params])


def holds(ctx: Context, content_type: str, object_id: int | None, role_field: str) -> bool:
    """Does the user hold ``role_field`` of that object (effectively)?"""
    if ctx.is_superuser:
        return True
    if object_id is None or not ctx.user:
        return False
    rid = rbac.role_id(ctx.store, content_type, object_id, role_field)
    return rid is not None and rid in ctx.effective_roles()


def _role_ref_holds(ctx: Context, resource, ref: str, values: dict) -> bool:
    """``ref`` is "admin_role" (on the object itself) or "organization.admin_role" (via an FK)."""
    if "." in ref:
        fk_name, role_field = ref.split(".", 1)
        fk = resource.field(fk_name)
        return holds(ctx, fk.fk, values.get(fk_name), role_field)
    return holds(ctx, resource.name, values.get("id"), ref)


def _may(ctx: Context, resource, row: dict, role_ref: str) -> bool:
    """Superuser, else the resource's can_change hook, else the declared role."""
    if ctx.is_superuser:
        return True
    if resource.can_change is not None:
        return bool(resource.can_change(ctx, row))
    if not resource.has_roles:
        return False
    return _role_ref_holds(ctx, resource, role_ref, row)


def can_change(ctx: Context, resource, row: dict) -> bool:
    return _may(ctx, resource, row, resource.change_role)


def can_delete(ctx: Context, resource, row: dict) -> bool:
    if resource.can_delete is not None:
        return bool(resource.can_delete(ctx, row))
    return _may(ctx, resource, row, resource.delete_role)


def can_create(ctx: Context, resource, data: dict) -> bool:
    # A can_create hook decides alone, superusers included: some rules bind everyone
    # (a personal token is minted by its owner only).
    if resource.can_create is not None:
        return bool(resource.can_create(ctx, data))
    if ctx.is_superuser:
        return True
    if resource.create_role == "authenticated":
        return ctx.user is not None
    if not resource.create_role:
        return False
    return _role_ref_holds(ctx, resource, resource.create_role, data)


def can_move(ctx: Context, resource, before: dict, after: dict) -> bool:
    """Changing the FK that ``create_role`` goes through (a team's organization) needs that
    role on the new target too, or anyone could move objects into places they don't admin."""
    ref = resource.create_role
    if ctx.is_superuser or not ref or "." not in ref:
        return True
    fk_name = ref.split(".", 1)[0]
    if before.get(fk_name) == after.get(fk_name):
        return True
    return _role_ref_holds(ctx, resource, ref, after)


def require(allowed: bool, detail: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(detail)


def capabilities(ctx: Context, resource, rows: list[dict]) -> dict[int, dict[str, bool]]:
    """``summary_fields.user_capabilities`` for many rows at once."""
    out: dict[int, dict[str, bool]] = {}
    for row in rows:
        edit = can_change(ctx, resource, row)
        caps: dict[str, Any] = {}
        for cap in resource.capabilities:
            if cap == "edit":
                caps[cap] = edit
            elif cap == "delete":
                caps[cap] = can_delete(ctx, resource, row)
            elif cap == "copy":
                caps[cap] = edit and can_create(ctx, resource, row)
            else:
                role = {"start": "execute_role", "use": "use_role", "adhoc": "adhoc_role",
                        "schedule": "execute_role", "update": "update_role"}.get(cap, "admin_role")
                caps[cap] = holds(ctx, resource.name, row["id"], role) if resource.has_roles else edit
        out[row["id"]] = caps
    return out


def sync_roles(ctx: Context, resource, row: dict, created: bool) -> None:
    """Create an object's roles (on create) and rebuild their implicit parents.

    Called after create and after any change of a foreign key a role ancestry goes through.
    """
    if not resource.has_roles:
        return
    store = ctx.store
    if created:
        mine = rbac.create_roles(store, resource.name, row["id"], [r.field for r in resource.roles])
    else:
        mine = rbac.roles_of(store, resource.name, [row["id"]])[row["id"]]
        missing = [r.field for r in resource.roles if r.field not in mine]
        if missing:
            mine.update(rbac.create_roles(store, resource.name, row["id"], missing))
    for spec in resource.roles:
        parents = []
        for ref in spec.parents:
            if "." in ref:
                fk_name, role_field = ref.split(".", 1)
                fk = resource.field(fk_name)
                target = row.get(fk_name)
                if fk is not None and target is not None:
                    pid = rbac.role_id(store, fk.fk, target, role_field)
                    if pid is not None:
                        parents.append(pid)
            elif ref in mine:
                parents.append(mine[ref])
        rbac.set_implicit_parents(store, mine[spec.field], parents)
    ctx.forget_roles()


def role_fks(resource) -> set[str]:
    """FK field names that role ancestry goes through (a change means re-sync)."""
    return {ref.split(".", 1)[0] for spec in resource.roles for ref in spec.parents if "." in ref}

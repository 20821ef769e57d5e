"""Access control: one visibility filter under every list, one permission check per action.

Superusers see and do everything; system auditors read everything.  Everyone else goes
through object roles (AWX's legacy role model): a role is held directly, through a team's
member_role, or through a declared ancestor (organization admin ⊃ object admin ⊃ read).

No answer lists the roles a user holds (an organization auditor holds one per object of the
organization): the store's role-ancestor table answers from the few roles the user is a
direct member of, and the organization-level roles decide organization-scoped objects.
"""
from __future__ import annotations

from typing import Any

from .context import Context
from .errors import APIError, PermissionDenied
from .store import rbac

# Past this many target objects (organizations) the foreign-key shortcut is left out: the
# object term alone is exact, the shortcut only spares it the rows it admits.
_MAX_VIA = 200


def visibility(ctx: Context, resource) -> tuple[str, list] | None:
    """SQL restricting ``resource``'s table to what ctx.user may read; None = everything."""
    if ctx.is_auditor:
        return None
    if resource.visibility is not None:
        return resource.visibility(ctx)
    if resource.has_roles:
        return objects_held_sql(ctx, resource, resource.read_role)
    return None


def role_level_sql(ctx: Context, resource):
    """The ``role_level=`` filter: objects on which the user holds the given role."""
    def compile_(role_field: str) -> tuple[str, list]:
        if ctx.is_superuser:
            return "1", []
        return objects_held_sql(ctx, resource, role_field)
    return compile_


def implied_through_fks(resource, role_field: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(fk, target resource, target role fields)``: holding one of those roles of the object
    ``fk`` names implies ``role_field`` on every object of ``resource`` pointing at it (the
    declared ancestry :func:`sync_roles` turns into role_parents rows: ``organization.auditor_role``
    parent of team read, or parent of an own role that is an ancestor of it)."""
    via: dict[str, set[str]] = {}
    seen: set[str] = set()
    todo = [role_field]
    while todo:
        spec = resource.role(todo.pop())
        if spec is None or spec.field in seen:
            continue
        seen.add(spec.field)
        for ref in spec.parents:
            if "." in ref:
                fk_name, target_field = ref.split(".", 1)
                via.setdefault(fk_name, set()).add(target_field)
            else:
                todo.append(ref)
    out = []
    for fk_name, fields in sorted(via.items()):
        fk = resource.field(fk_name)
        if fk is not None and fk.fk:
            out.append((fk_name, fk.fk, tuple(sorted(fields))))
    return out


def objects_held_sql(ctx: Context, resource, role_field: str,
                     also: tuple[tuple[str, str, tuple[str, ...]], ...] = ()) -> tuple[str, list]:
    """Objects of ``resource`` on which the user holds ``role_field``: those whose organization
    (any foreign key of the declared ancestry) the user holds an implying role of, or else
    through the object's own role (grants, team membership, creator admin).

    ``also``: more ``(fk, target resource, target role fields)`` that admit an object on their
    own (a visibility hook's rule beyond roles: every member of a team's organization sees
    the team), decided the same way."""
    uid = ctx.user_id if ctx.user_id is not None else -1
    via, terms = [], []
    for fk_name, target, fields in implied_through_fks(resource, role_field):
        ids = _targets_held(ctx, target, fields)
        if len(ids) <= _MAX_VIA:   # else left out: implied, so the object term admits them too
            via.append((fk_name, ids))
    for fk_name, target, fields in also:
        ids = _targets_held(ctx, target, fields)
        if len(ids) <= _MAX_VIA:
            via.append((fk_name, ids))
        else:   # not implied by the object term: ask the table inside the statement instead
            terms.append(rbac.fk_to_objects_with_roles_sql(fk_name, target, fields, ctx.effective_roles()))
    return rbac.visible_objects_sql(resource.name, role_field, uid, via, terms)


def _roles_held_of(ctx: Context, content_type: str) -> set[tuple[int, str]]:
    """``(object id, role field)`` of every role of ``content_type`` the user holds, asked once
    per request (forgotten with the roles).  For organizations: as short as the user's
    organizations times their roles there."""
    held = ctx.cache.setdefault("held_orgs", {})
    if content_type not in held:
        uid = ctx.user_id if ctx.user_id is not None else -1
        held[content_type] = rbac.roles_held_of(ctx.store, uid, content_type)
    return held[content_type]


def _targets_held(ctx: Context, content_type: str, fields: tuple[str, ...]) -> list[int]:
    """Objects of ``content_type`` (organizations) on which the user holds one of ``fields``."""
    return sorted({pk for pk, field in _roles_held_of(ctx, content_type) if field in fields})


def holds_any(ctx: Context, content_type: str, role_field: str) -> bool:
    """Does the user hold ``role_field`` of any object of ``content_type`` (an organization
    admin or auditor anywhere)?  Superusers do."""
    if ctx.is_superuser:
        return True
    if content_type != "organization":      # objects can be many: one indexed look-up instead
        return ctx.user_id is not None and ctx.store.one(*rbac.holds_any_sql(content_type, role_field,
                                                                            ctx.user_id)) is not None
    return any(field == role_field for _, field in _roles_held_of(ctx, content_type))


def organizations_held(ctx: Context, role_field: str) -> list[int]:
    """The organizations on which the user holds ``role_field`` (effectively)."""
    return _targets_held(ctx, "organization", (role_field,))


def holds_some(*refs: str):
    """A ``may_add`` hook: the user holds one of ``refs`` ("project.use_role") on some object."""
    pairs = [ref.split(".", 1) for ref in refs]
    return lambda ctx: any(holds_any(ctx, ctype, role) for ctype, role in pairs)


def anyone(ctx: Context) -> bool:
    """A ``may_add`` hook: every user may create some (AWX's ``if not data: return True``)."""
    return ctx.user is not None


def may_add(ctx: Context, resource) -> bool:
    """May the user create some object of ``resource``: AWX's ``can_add({})``, which decides
    whether a list's OPTIONS offers POST.  The resource's ``may_add`` hook, else its
    ``create_role`` held on some object ("organization.inventory_admin_role": an inventory
    admin of some organization); superusers always."""
    if ctx.is_superuser:
        return True
    if ctx.user is None:
        return False
    if resource.may_add is not None:
        return bool(resource.may_add(ctx))
    ref = resource.create_role
    if ref == "authenticated":
        return True
    if not ref or "." not in ref:
        return False
    fk_name, role_field = ref.split(".", 1)
    fk = resource.field(fk_name)
    return fk is not None and fk.fk is not None and holds_any(ctx, fk.fk, role_field)


def may_add_under(ctx: Context, resource, relation, parent: dict | None) -> bool:
    """May the user be offered POST on the writable sub-list ``relation`` of ``parent`` (a row
    they read; None only for a superuser, who is not asked to read it), listing ``resource``:
    AWX's ``ModelAccessPermission.check_post_permissions``.

    A sub-list that creates children through the parent's key (AWX's views with a
    ``parent_key``) asks the child's ``can_add({parent_key: parent})``, here :func:`can_create`
    with that key alone; any other (attach lists, role members, m2m) needs only the parent's
    read access, which the caller checked.  Superusers always.  An error the check raises
    hides POST, as AWX's metadata skips a method whose check raises."""
    if ctx.is_superuser:
        return True
    if ctx.user is None or parent is None:
        return False
    if relation.kind != "reverse_fk" or not relation.create or not relation.checks_add:
        return True
    try:
        return can_create(ctx, resource, {relation.key: parent["id"]})
    except APIError:
        return False


def can_read(ctx: Context, resource, row: dict) -> bool:
    vis = visibility(ctx, resource)
    if vis is None:
        return True
    sql, params = vis
    return ctx.store.exists(resource.table, f"id = ? AND ({sql})", [row["id"], *params])


# AWX JobLaunchConfigAccess: the role a prompted object needs, by its resource ("read": read access)
_PROMPT_ROLES = {"inventory": "use_role", "credential": "use_role", "instance_group": "use_role",
                 "execution_environment": "read", "label": "read"}


def may_use_prompt(ctx: Context, resource: str, pk: int) -> bool:
    """May the user prompt object ``pk`` of ``resource`` into a launch or a saved launch
    configuration (a schedule, a relaunch)?  AWX ``JobLaunchConfigAccess``: the use role of an
    inventory, a credential or an instance group; read access to an execution environment or
    a label (a missing object is neither)."""
    role = _PROMPT_ROLES[resource]
    if role == "read":
        return can_read(ctx, ctx.registry[resource], {"id": pk})
    return holds(ctx, resource, pk, role)


def holds(ctx: Context, content_type: str, object_id: int | None, role_field: str) -> bool:
    """Does the user hold ``role_field`` of that object (effectively)?  Answers are kept for
    the request (:func:`controller.capabilities.user_capabilities` fills them for a whole page in one
    query)."""
    if ctx.is_superuser:
        return True
    if object_id is None or not ctx.user:
        return False
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return False   # not an id: no object, no role
    cache = ctx.cache.setdefault("holds", {})
    key = (content_type, pk, role_field)
    if key not in cache:
        cache[key] = bool(rbac.held_among(ctx.store, ctx.user_id or -1, content_type, [pk], [role_field]))
    return cache[key]


def role_ref_target(resource, ref: str, values: dict) -> tuple[str, Any, str]:
    """``ref`` is "admin_role" (on the object itself) or "organization.admin_role" (via an FK):
    the (content type, object id, role field) it names for ``values``."""
    if "." in ref:
        fk_name, role_field = ref.split(".", 1)
        fk = resource.field(fk_name)
        return fk.fk, values.get(fk_name), role_field
    return resource.name, values.get("id"), ref


def _role_ref_holds(ctx: Context, resource, ref: str, values: dict) -> bool:
    return holds(ctx, *role_ref_target(resource, ref, values))


def left_to_superusers(ctx: Context, resource) -> bool:
    """Is the resource's ``manage_setting`` off, so that only superusers change or delete its
    objects (teams while MANAGE_ORGANIZATION_AUTH is off)?"""
    return bool(resource.manage_setting) and not getattr(ctx.settings, resource.manage_setting)


def _may(ctx: Context, resource, row: dict, role_ref: str) -> bool:
    """Superuser, else nobody while the resource's ``manage_setting`` is off, else the
    resource's can_change hook, else the declared role."""
    if ctx.is_superuser:
        return True
    if left_to_superusers(ctx, resource):
        return False
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
        rbac.set_implicit_parents(store, mine[spec.field], parents, new=created)
    ctx.forget_roles()


def role_fks(resource) -> set[str]:
    """FK field names that role ancestry goes through (a change means re-sync)."""
    return {ref.split(".", 1)[0] for spec in resource.roles for ref in spec.parents if "." in ref}

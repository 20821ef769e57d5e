"""Sub-lists and the association protocol (``{"id": N}`` / ``{"id": N, "disassociate": 1}``).

Each Relation kind says how the sub-list is scoped (SQL over the target's table) and what
attach/detach mean.  Role-based kinds are AWX's grant/revoke.
"""
from __future__ import annotations

from typing import Any

from .. import access, query
from ..context import Context
from ..errors import APIError, NotFound, PermissionDenied
from ..registry import Relation, Resource
from ..store import links, rbac
from . import activity, crud


def scope(ctx: Context, parent_res: Resource, parent: dict, rel: Relation) -> tuple[str, list]:
    """SQL (over the target table) selecting the members of this sub-list."""
    pid = parent["id"]
    if rel.scope_hook is not None:
        return rel.scope_hook(ctx, parent)
    kind = rel.kind
    if kind == "reverse_fk":
        return f'"{rel.key}" = ?', [pid]
    if kind == "role_members":
        return rbac.members_sql(rbac.role_id(ctx.store, parent_res.name, pid, rel.key))
    if kind == "member_of":
        return rbac.holders_sql(rel.target, rel.key, pid)
    if kind == "m2m":
        table, left, right = rel.key.split(":")
        return f'id IN (SELECT "{right}" FROM "{table}" WHERE "{left}" = ?)', [pid]
    if kind == "object_roles":
        return rbac.object_roles_sql(parent_res.name, pid)
    if kind == "user_roles":
        return rbac.user_roles_sql(pid)
    if kind == "team_roles":
        return rbac.team_roles_sql(rbac.role_id(ctx.store, "team", pid, "member_role"))
    if kind == "role_users":
        return rbac.members_sql(pid)
    if kind == "role_teams":
        return rbac.role_teams_sql(pid)
    if kind == "access_list":
        return rbac.access_list_sql(rbac.role_id(ctx.store, parent_res.name, pid, parent_res.read_role))
    if kind == "activity":
        return ("(object1 = ? AND object1_id = ?) OR (object2 = ? AND object2_id = ?)"
                " OR (object_link = ? AND object_link_id = ?)",
                [parent_res.name, pid, parent_res.name, pid, parent_res.name, pid])
    raise ValueError(f"unknown relation kind {kind}")


def order(ctx: Context, parent: dict, rel: Relation) -> str | None:
    """The sub-list's own ORDER BY item (an ordered m2m lists in association order), or None."""
    if rel.kind != "m2m" or not rel.ordered:
        return None
    table, left, right = rel.key.split(":")
    return links.position_order(table, left, right, parent["id"], ctx.registry[rel.target].table)


def _require_role_admin(ctx: Context, role_row: dict) -> None:
    """Granting or revoking a role needs admin on the role's object; membership of organizations
    and teams only a superuser's when MANAGE_ORGANIZATION_AUTH is off (AWX)."""
    if not ctx.is_superuser and not ctx.settings.MANAGE_ORGANIZATION_AUTH and \
            role_row["content_type"] in ("organization", "team") and role_row["role_field"] in ("admin_role",
                                                                                                "member_role"):
        raise PermissionDenied()
    res = ctx.registry.get(role_row["content_type"])
    ok = ctx.is_superuser or (res is not None and access.holds(
        ctx, res.name, role_row["object_id"], "admin_role" if res.role("admin_role") else role_row["role_field"]))
    if not ok:
        raise PermissionDenied()


def may_change_role(ctx: Context, role_row: dict) -> bool:
    """Whether the user may grant or revoke ``role_row`` (the rule ``associate`` enforces): the web
    UI shows grant/revoke buttons by it."""
    try:
        _require_role_admin(ctx, role_row)
    except PermissionDenied:
        return False
    return True


def _grant_team(ctx: Context, role_row: dict, team: dict, on: bool) -> bool:
    spec = ctx.registry[role_row["content_type"]].role(role_row["role_field"])
    if on and spec is not None and spec.user_only:
        raise APIError({"msg": "You cannot assign an Organization participation role as a child role for a Team."})
    member = rbac.role_id(ctx.store, "team", team["id"], "member_role")
    if member is None:   # every team gets its roles when created: a row without them is not a team
        raise NotFound()
    if member == role_row["id"]:
        raise APIError({"msg": "A team cannot be granted its own member role."})
    return (rbac.add_parent if on else rbac.remove_parent)(ctx.store, role_row["id"], member)


def _role_link(ctx: Context, role_row: dict) -> tuple[str, int]:
    """A role change is also history of the role's object (AWX records the role's resource)."""
    return role_row["content_type"], role_row["object_id"]


def _apply(ctx: Context, parent_res: Resource, parent: dict, rel: Relation, target: Resource, child: dict,
           on: bool) -> tuple[bool, tuple[str, int] | None]:
    """Perform one (dis)association; returns (changed, linked object or None)."""
    store = ctx.store
    kind = rel.kind
    if kind == "reverse_fk":
        access.require(access.can_change(ctx, parent_res, parent) and access.can_change(ctx, target, child))
        if child.get(rel.key) == parent["id"]:
            return False, None
        store.update(target.table, child["id"], {rel.key: parent["id"]})
        if rel.key in access.role_fks(target):   # a team moved to this organization: ancestry follows
            access.sync_roles(ctx, target, {**child, rel.key: parent["id"]}, created=False)
        return True, None
    if kind == "role_members":
        role = dict(store.get("roles", rbac.role_id(store, parent_res.name, parent["id"], rel.key)))
        _require_role_admin(ctx, role)
        return (rbac.add_member if on else rbac.remove_member)(store, role["id"], child["id"]), None
    if kind == "m2m":
        access.require(rel.may_attach(ctx, parent, child) if rel.may_attach is not None else
                       access.can_change(ctx, parent_res, parent) and access.can_read(ctx, target, child))
        table, left, right = rel.key.split(":")
        if on:
            return links.link(store, table, left, right, parent["id"], child["id"], ordered=rel.ordered), None
        return links.unlink(store, table, left, right, parent["id"], child["id"]), None
    if kind in ("user_roles", "team_roles", "role_users", "role_teams"):
        # the same grant seen from either end: a user's/team's roles, or a role's users/teams
        role, actor = (child, parent) if kind.endswith("_roles") else (parent, child)
        _require_role_admin(ctx, role)
        if kind in ("team_roles", "role_teams"):
            return _grant_team(ctx, role, actor, on), _role_link(ctx, role)
        return (rbac.add_member if on else rbac.remove_member)(store, role["id"], actor["id"]), _role_link(ctx, role)
    raise APIError({"detail": 'Method "POST" not allowed.'}, status=405)


def associate(ctx: Context, parent_res: Resource, parent: dict, rel: Relation, child: dict, on: bool) -> None:
    """Attach (on) or detach a child; permission checks per kind; a change that changes
    something is recorded in the activity stream once (a repeated grant records nothing); a detach
    through a ``detach_deletes_unused`` relation then deletes a child that nothing links any more."""
    target = ctx.registry[rel.target]
    with ctx.store.transaction():
        if rel.validate_association is not None:
            rel.validate_association(ctx, parent, child, on)
        if rel.kind == "reverse_fk" and not on:
            # AWX: disassociating from a parent-key list deletes the child (as the relation says).
            crud.delete(ctx, target, child, before_delete=rel.detach_delete)
            return
        changed, link = _apply(ctx, parent_res, parent, rel, target, child, on)
        ctx.forget_roles()
        if changed:
            activity.record(ctx, "associate" if on else "disassociate", parent_res, parent,
                            other=target, other_row=child, association=rel.name, link=link)
        if rel.detach_deletes_unused and not on:
            # AWX checks after every detach, even one that removed nothing
            _delete_if_unused(ctx, target, child)


def _delete_if_unused(ctx: Context, target: Resource, child: dict) -> None:
    """Delete ``child`` (recorded as a delete) when no association table of any resource links it
    any more; its own delete permission is not needed (AWX: ``Label.is_detached`` then delete)."""
    tables = {(rel.key.split(":")[0], rel.key.split(":")[2])
              for res in ctx.registry for rel in res.relations if rel.kind == "m2m" and rel.target == target.name}
    if any(ctx.store.exists(table, f'"{column}" = ?', [child["id"]]) for table, column in sorted(tables)):
        return
    activity.record(ctx, "delete", target, child, activity.snapshot(target, child))
    crud.remove(ctx, target, child)


def _refuse_beyond_cap(ctx: Context, parent_res: Resource, parent: dict, rel: Relation) -> None:
    """A capped sub-list refuses an attach or create, before anything else is looked at, while the
    parent already holds more than ``rel.max_links`` children (AWX counts before the POST, so a
    parent can reach max_links + 1).  A detach is never refused: AWX refuses it too, which would
    leave a parent over the cap unable to shed a label; Turret does not copy that."""
    table, left, _right = rel.key.split(":")
    if ctx.store.count(table, f'"{left}" = ?', [parent["id"]]) > rel.max_links:
        raise APIError({"msg": f"Maximum number of {rel.name} for {parent_res.verbose_name} reached."})


def post(ctx: Context, parent_res: Resource, parent: dict, rel: Relation, body: Any) -> tuple[int, dict | None]:
    """The association protocol for ``POST <parent>/<rel>/``; returns (status, created row)."""
    if rel.read_only or not rel.writable:
        raise APIError({"detail": 'Method "POST" not allowed.'}, status=405)
    if not isinstance(body, dict):
        raise APIError({"detail": "invalid type for post data"})
    if rel.max_links and "disassociate" not in body:
        _refuse_beyond_cap(ctx, parent_res, parent, rel)
    target = ctx.registry[rel.target]
    # Create-only sub-lists (attach=False) treat every body as a new child, as AWX's
    # SubListCreateAPIView: an "id" must not move or delete an existing object.
    if "id" in body and rel.attach:
        raw = body["id"]
        try:
            pk = query.parse_int64(str(raw)) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else -1
        except ValueError:
            pk = -1
        if pk < 0:
            raise APIError({"msg": '"id" field must be an integer.'})
        child = ctx.store.get(target.table, pk)
        if child is None:
            raise APIError({"detail": f"{target.model_name} matching query does not exist."})
        if not access.can_read(ctx, target, child):
            raise PermissionDenied()
        associate(ctx, parent_res, parent, rel, child, on="disassociate" not in body)
        return 204, None
    if "disassociate" in body and rel.attach:
        if rel.detach_all_deletes_parent is not None:
            crud.delete(ctx, parent_res, parent, before_delete=rel.detach_all_deletes_parent)
            return 204, None
        raise APIError({"msg": '"id" is required to disassociate'})
    if not rel.create:
        raise APIError({"msg": f"{target.model_name} 'id' field is missing."})
    inject = {rel.key: parent["id"]} if rel.kind == "reverse_fk" else None
    if rel.inherit:
        inject = {**(inject or {}), **{name: parent.get(name) for name in rel.inherit}}
    with ctx.store.transaction():
        existing = rel.find_existing(ctx, parent, body) if rel.find_existing is not None else None
        if existing is not None:
            associate(ctx, parent_res, parent, rel, existing, on=True)
            return 204, None
        row = crud.create(ctx, target, body, inject=inject)
        if rel.kind == "m2m":
            associate(ctx, parent_res, parent, rel, row, on=True)
        if rel.kind == "role_members":
            associate(ctx, parent_res, parent, rel, row, on=True)
    return 201, row

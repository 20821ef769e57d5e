"""``summary_fields.user_capabilities``: what the user may do with each row of a page.

For a superuser the answer is the same for every row unless a hook binds them too (then, as
for everyone else, row by row); for others the object roles the checks need are read for the
whole page in one query per content type, into the request's cache that :func:`access.holds`
reads, and each row is then decided by the same checks a write would make
(:func:`access.can_change`, :func:`access.can_delete`, :func:`access.can_create`).
"""
from __future__ import annotations

from typing import Any

from . import access
from .context import Context
from .store import rbac

# Capability -> the object role it needs (resources with roles).
_CAP_ROLES = {"start": "execute_role", "use": "use_role", "adhoc": "adhoc_role",
              "schedule": "execute_role", "update": "update_role"}


def user_capabilities(ctx: Context, resource, rows: list[dict]) -> dict[int, dict[str, bool]]:
    """``summary_fields.user_capabilities`` for many rows at once: the roles they need are
    asked in one query per content type (:func:`_prefetch_holds`), then decided per row.

    A request that may not write (a read-scoped token) may take no action: every capability
    is false, as AWX's ``get_user_capabilities`` answers; except that, as there, objects whose
    ``manage_setting`` is off answer whether the user is a superuser (that check comes first)."""
    if not ctx.may_write:
        answer = ctx.is_superuser if access.left_to_superusers(ctx, resource) else False
        return {row["id"]: dict.fromkeys(resource.capabilities, answer) for row in rows}
    if ctx.is_superuser and not hook_decides_for_superusers(resource):
        # a superuser holds every role and no hook of this resource decides for them: every
        # row answers the same (a page of 25 asked ~100 checks for it)
        return {row["id"]: dict.fromkeys(resource.capabilities, True) for row in rows}
    return capabilities_per_row(ctx, resource, rows)


def hook_decides_for_superusers(resource) -> bool:
    """Whether a capability of ``resource`` is decided by a hook that binds superusers too:
    ``delete`` by ``can_delete``, ``copy`` by ``can_create`` (:func:`access.can_delete`,
    :func:`access.can_create`); every other check lets a superuser through first."""
    return ("delete" in resource.capabilities and resource.can_delete is not None) or \
        ("copy" in resource.capabilities and resource.can_create is not None)


def capabilities_per_row(ctx: Context, resource, rows: list[dict]) -> dict[int, dict[str, bool]]:
    """:func:`user_capabilities` decided row by row, for any user."""
    if not ctx.is_superuser and ctx.user:
        _prefetch_holds(ctx, resource, rows)
    out: dict[int, dict[str, bool]] = {}
    for row in rows:
        edit = access.can_change(ctx, resource, row)
        caps: dict[str, Any] = {}
        for cap in resource.capabilities:
            if cap == "edit":
                caps[cap] = edit
            elif cap == "delete":
                caps[cap] = access.can_delete(ctx, resource, row)
            elif cap == "copy":
                caps[cap] = edit and access.can_create(ctx, resource, row)
            elif not resource.has_roles:
                caps[cap] = _held_through_jobs(ctx, resource, row, cap, edit)
            else:
                caps[cap] = access.holds(ctx, resource.name, row["id"], _CAP_ROLES.get(cap, "admin_role"))
        out[row["id"]] = caps
    return out


def _held_through_jobs(ctx: Context, resource, row: dict, cap: str, edit: bool) -> bool:
    """``start`` of a template without roles of its own (an inventory source): the run role its
    job kind declares, held on the object whose admin administers those jobs, named by the
    same column on the template (AWX ``InventorySourceAccess.can_start``: update_role of the
    inventory).  Any other capability of a role-less resource follows ``edit``."""
    if cap != "start":
        return edit
    for kind in ctx.registry.unified_jobs():
        target, column = kind.admin
        if kind.template == resource.name and target and column in row:
            return access.holds(ctx, target, row[column], kind.run_role)
    return edit


def _prefetch_holds(ctx: Context, resource, rows: list[dict]) -> None:
    """Answer, for a page, every declared role check :func:`user_capabilities` makes (change,
    delete, copy's create, start/use/...) with one query per content type, into the cache
    :func:`access.holds` reads.  Hooks (``can_change`` ...) still decide alone where declared."""
    refs: list[str] = []
    if resource.has_roles and resource.can_change is None:
        refs.append(resource.change_role)
        if "delete" in resource.capabilities and resource.can_delete is None:
            refs.append(resource.delete_role)
    if "copy" in resource.capabilities and resource.can_create is None and resource.create_role \
            and resource.create_role != "authenticated":
        refs.append(resource.create_role)
    if resource.has_roles:
        refs += [_CAP_ROLES.get(c, "admin_role") for c in resource.capabilities if c not in ("edit", "delete", "copy")]
    wanted: dict[str, tuple[set[int], set[str]]] = {}
    for row in rows:
        for ref in dict.fromkeys(refs):
            ctype, pk, field = access.role_ref_target(resource, ref, row)
            if isinstance(pk, int) and not isinstance(pk, bool):
                ids, fields = wanted.setdefault(ctype, (set(), set()))
                ids.add(pk)
                fields.add(field)
    cache = ctx.cache.setdefault("holds", {})
    for ctype, (ids, fields) in wanted.items():
        got = rbac.held_among(ctx.store, ctx.user_id or -1, ctype, sorted(ids), sorted(fields))
        for pk in ids:
            for field in fields:
                cache[(ctype, pk, field)] = (pk, field) in got

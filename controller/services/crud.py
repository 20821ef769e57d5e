"""Generic list/create/read/update/delete over any declared resource.

Each operation checks access, validates, writes inside one transaction (with its roles and
its activity-stream entry) and returns stored rows; rendering is the web layer's job.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .. import access, query
from ..errors import APIError, NotFound, PermissionDenied, ValidationError
from ..store import jobs as jobq
from ..store import all_of, now_iso, rbac
from . import activity, validation
from .serializer import serialize

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


# -- reading ------------------------------------------------------------------------------
def _page_args(args: list[tuple[str, str]]) -> tuple[int, int]:
    values = dict(args)
    try:
        size = query.parse_int64(values.get("page_size", str(PAGE_SIZE)))
        size = PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    except ValueError:
        size = PAGE_SIZE
    try:
        page = query.parse_int64(values.get("page", "1"))
    except ValueError:
        raise NotFound("Invalid page.") from None
    if page < 1 or (page - 1) * size > query.INT64_MAX:   # an offset SQLite could not bind
        raise NotFound("Invalid page.")
    return page, size


def page_links(path: str, args: list[tuple[str, str]], page: int, size: int,
               has_next: bool) -> tuple[str | None, str | None]:
    """``(next, previous)``: the request's arguments (``page_size`` as served) with ``page``
    last, encoded once for both; None where there is no such page."""
    if not has_next and page <= 1:
        return None, None
    kept = [(k, v) for k, v in args if k != "page"]
    if any(k == "page_size" for k, _ in kept):
        kept = [(k, str(size) if k == "page_size" else v) for k, v in kept]
    head = f"{path}?{urlencode(kept)}&page=" if kept else f"{path}?page="
    return (f"{head}{page + 1}" if has_next else None), (f"{head}{page - 1}" if page > 1 else None)


def list_filter_keys(resource) -> set[str]:
    """Query keys the resource's ``list_filter`` handles itself (its ``keys`` attribute): the
    query language leaves them alone."""
    return set(getattr(resource.list_filter, "keys", ()))


def list_page(ctx, resource, args: list[tuple[str, str]], path: str,
              scope: tuple[str, list] | None = None, extra_reserved: frozenset = frozenset(),
              first_order: str | None = None, every_member: bool = False) -> dict:
    """One page of ``resource`` visible to ctx.user, filtered by the AWX query language.

    ``scope`` restricts to a sub-list (SQL over the resource's table); ``first_order`` is the
    sub-list's own order (an ORDER BY item), used unless the request gives ``order_by``;
    ``every_member``: the scope's rows are shown whatever the user may read of each
    (``Relation.lists_all``: the parent's read check stands for them).
    The page is read first; the count needs a statement of its own only when the page is full
    (a short page, or an empty one past the first, already says how many rows there are).
    """
    compiled, where, params = _matching(ctx, resource, args, scope, extra_reserved, every_member)
    page, size = _page_args(args)
    count_disabled = dict(args).get("count_disabled") in ("1", "true", "True")
    offset = (page - 1) * size
    order_by = compiled.order_by
    if first_order and not any(k in ("order", "order_by") for k, _ in args):
        order_by = f"{first_order}, {order_by}"
    rows = ctx.store.page(resource.table, where, params, order_by, size, offset)
    if not rows and page > 1 and not count_disabled:
        raise NotFound("Invalid page.")     # the offset is at or past the count
    count = None
    if not count_disabled:
        short = len(rows) < size and (rows or page == 1)     # a short page ends the list
        count = offset + len(rows) if short else ctx.store.count(resource.table, where, params)
    results = serialize(ctx, resource, rows)
    if resource.list_transform:
        results = resource.list_transform(ctx, results, args)
    if count_disabled:
        return {"results": results}
    following, previous = page_links(path, args, page, size, count is not None and offset + size < count)
    return {"count": count, "next": following, "previous": previous, "results": results}


def _matching(ctx, resource, args: list[tuple[str, str]], scope: tuple[str, list] | None,
              extra_reserved: frozenset = frozenset(), every_member: bool = False):
    """(compiled query, WHERE, params) of what ctx.user sees of ``resource`` that ``args`` select."""
    compiled = query.compile_query(ctx.registry, resource, args,
                                   role_level_sql=access.role_level_sql(ctx, resource),
                                   extra_reserved=set(extra_reserved) | list_filter_keys(resource),
                                   text_index=getattr(ctx.store, "text_indexes", None))
    extra = resource.list_filter(ctx, args) if resource.list_filter else None
    visible = None if every_member and scope is not None else access.visibility(ctx, resource)
    where, params = all_of(visible, scope, extra, (compiled.where, compiled.params))
    return compiled, where, params


def count(ctx, resource, args: list[tuple[str, str]]) -> int:
    """A list's ``count`` (same visibility, same query language) without reading or serializing
    a row: the dashboard's tiles and chart ask dozens of these a page."""
    _compiled, where, params = _matching(ctx, resource, args, None)
    return ctx.store.count(resource.table, where, params)


def get_row(ctx, resource, pk: int) -> dict:
    """A row the user may read; 404 when missing, 403 when hidden from them."""
    row = ctx.store.get(resource.table, pk)
    if row is None:
        raise NotFound()
    if not access.can_read(ctx, resource, row):
        raise PermissionDenied()
    return row


# -- writing ------------------------------------------------------------------------------
def _stamp(ctx, values: dict, creating: bool) -> None:
    now = now_iso()
    values["modified"] = now
    values["modified_by"] = ctx.user_id
    if creating:
        values["created"] = now
        values["created_by"] = ctx.user_id


def create(ctx, resource, data: Any, inject: dict | None = None) -> dict:
    """Validate and store a new object; the creator (if not superuser) becomes its admin."""
    if not resource.creatable:
        raise APIError({"detail": 'Method "POST" not allowed.'}, status=405)
    with ctx.store.transaction():
        if inject and isinstance(data, dict):
            data = {**data, **inject}
        values = validation.clean(ctx, resource, data, None, partial=False)
        for f in resource.stored_fields:
            # read-only columns start at their declared default, not NULL
            if f.name not in values and not f.writable and f.default is not None and not callable(f.default):
                values[f.name] = f.default
        if inject:
            values.update(inject)
        access.require(access.can_create(ctx, resource, values))
        row = _insert(ctx, resource, _prepare(ctx, resource, values, None))
        if resource.after_save:
            resource.after_save(ctx, row, None)
            row = ctx.store.get(resource.table, row["id"])
        activity.record(ctx, "create", resource, row, activity.snapshot(resource, row))
    return row


def _grant_creator(ctx, resource, pk: int) -> None:
    """Whoever creates (or copies) an object administers it, unless they already administer
    everything."""
    if ctx.user and not ctx.is_superuser and resource.role("admin_role"):
        role = rbac.role_id(ctx.store, resource.name, pk, "admin_role")
        if role is not None and ctx.user_id is not None:   # created with the object; a real user
            rbac.add_member(ctx.store, role, ctx.user_id)
        ctx.forget_roles()


def _prepare(ctx, resource, values: dict, existing: dict | None) -> dict:
    """The resource's hooks before any write (create, copy, update): ``validate`` then
    ``before_save``, each seeing ``existing`` (``None`` on create); the values to store."""
    if resource.validate:
        resource.validate(ctx, values, existing)
    if resource.before_save:
        values = resource.before_save(ctx, values, existing)
    return values


def _insert(ctx, resource, values: dict, grant_creator: bool = True) -> dict:
    """Store a new row (stamped, its roles made, its creator granted admin unless
    ``grant_creator`` is false) and return it as stored; no hooks, no activity entry."""
    if resource.timestamps:
        _stamp(ctx, values, creating=True)
    pk = ctx.store.insert(resource.table, values)
    row = ctx.store.get(resource.table, pk)
    access.sync_roles(ctx, resource, row, created=True)
    if grant_creator:
        _grant_creator(ctx, resource, pk)
    return row


def insert_trusted(ctx, resource, values: dict) -> dict:
    """Store a system-defined object (seeds such as the built-in project) without request
    validation; roles and the activity stream are still derived as for any create."""
    with ctx.store.transaction():
        full = {f.name: (f.default() if callable(f.default) else f.default)
                for f in resource.stored_fields if f.name not in values}
        full.update(values)
        row = _insert(ctx, resource, full, grant_creator=False)
        activity.record(ctx, "create", resource, row, activity.snapshot(resource, row))
    return row


def update(ctx, resource, row: dict, data: Any, partial: bool) -> dict:
    """PUT (partial False) or PATCH an object the user may change."""
    if not resource.updatable:
        raise APIError({"detail": f'Method "{"PATCH" if partial else "PUT"}" not allowed.'}, status=405)
    access.require(access.can_change(ctx, resource, row))
    with ctx.store.transaction():
        values = _prepare(ctx, resource, validation.clean(ctx, resource, data, row, partial=partial), row)
        stored = {k: v for k, v in values.items() if _differs(row.get(k), v)}
        access.require(access.can_move(ctx, resource, row, {**row, **stored}))
        if stored and resource.timestamps:
            _stamp(ctx, stored, creating=False)
        ctx.store.update(resource.table, row["id"], stored)
        new = ctx.store.get(resource.table, row["id"])
        if access.role_fks(resource) & set(stored):
            access.sync_roles(ctx, resource, new, created=False)
        if resource.after_save:
            resource.after_save(ctx, new, row)
            # the hook may remove the object (a deprovisioned instance): answer what was saved
            new = ctx.store.get(resource.table, row["id"]) or new
        changes = activity.diff(resource, row, new)
        changes.pop("modified", None)
        if changes:
            activity.record(ctx, "update", resource, new, changes)
    return new


def _differs(old: Any, new: Any) -> bool:
    if isinstance(new, bool):
        return old is None or bool(old) != new
    if isinstance(new, (dict, list)):
        try:
            return json.loads(old) != new if isinstance(old, str) else old != new
        except ValueError:
            return True
    return old != new


def delete(ctx, resource, row: dict, before_delete: Callable[..., Any] | None = None) -> None:
    """Delete an object and everything that cannot exist without it; ``before_delete``, when
    given, replaces the resource's own hook (a relation's ``detach_delete``)."""
    if not resource.deletable:
        raise APIError({"detail": 'Method "DELETE" not allowed.'}, status=405)
    access.require(access.can_delete(ctx, resource, row))
    with ctx.store.transaction():
        hook = before_delete or resource.before_delete
        if hook:
            hook(ctx, row)
        running = active_jobs(ctx, resource.name, row["id"])
        if running:
            raise APIError({"error": "Resource is being used by running jobs.", "active_jobs": running},
                           status=409)
        activity.record(ctx, "delete", resource, row, activity.snapshot(resource, row))
        remove(ctx, resource, row)


def active_jobs(ctx, resource_name: str, pk: int) -> list[dict]:
    """Unified jobs not finished yet that reference an object through a foreign key."""
    out = []
    for child, fk in ctx.registry.reverse_fks(resource_name):
        if child.field("cancel_flag") is not None and child.field("status") is not None:
            out += [{"id": i, "type": child.name} for i in jobq.active_using(ctx.store, child.table, fk.name, pk)]
    return out


def remove(ctx, resource, row: dict) -> None:
    """Delete without access checks or activity (cascades call this for children)."""
    pk = row["id"]
    for child, fk in ctx.registry.reverse_fks(resource.name):
        if fk.on_delete == "set_null":
            ctx.store.clear_references(child.table, fk.name, pk)
        elif fk.on_delete == "cascade":
            if _is_leaf(ctx.registry, child):
                # events and summaries: nothing hangs off them but references that become null (a
                # host's last_job_host_summary): a statement per referrer, one to delete them all
                where = f'"{fk.name}" = ?'
                for referrer, ref in ctx.registry.reverse_fks(child.name):
                    ctx.store.clear_references_in(referrer.table, ref.name, child.table, where, [pk])
                ctx.store.delete_where(child.table, where, [pk])
                continue
            for sub in ctx.store.rows_referencing(child.table, fk.name, pk):
                remove(ctx, child, sub)
    for table, column in m2m_columns(ctx.registry, resource.name):
        ctx.store.delete_where(table, f'"{column}" = ?', [pk])
    if resource.has_roles:
        rbac.delete_object_roles(ctx.store, resource.name, pk)
    if resource.name == "user":
        rbac.delete_user_memberships(ctx.store, pk)
        ctx.store.delete_where("sessions", "user_id = ?", [pk])
    ctx.store.delete(resource.table, pk)


def _is_leaf(registry, resource) -> bool:
    """Whether nothing hangs off ``resource``'s rows but nullable references (its rows can go
    in bulk): no roles, links or children that go with them."""
    return (not resource.has_roles and resource.name != "user"
            and all(f.on_delete == "set_null" for _r, f in registry.reverse_fks(resource.name))
            and not m2m_columns(registry, resource.name))


def m2m_columns(registry, name: str) -> list[tuple[str, str]]:
    """(table, column) pairs of association tables that reference resource ``name``."""
    out = []
    for res in registry:
        for rel in res.relations:
            if rel.kind == "m2m":
                table, left, right = rel.key.split(":")
                if res.name == name:
                    out.append((table, left))
                if rel.target == name:
                    out.append((table, right))
    return sorted(set(out))


def can_copy(ctx, resource, row: dict) -> bool:
    """Copying needs the right to change the original and to create its like."""
    return access.can_change(ctx, resource, row) and access.can_create(ctx, resource, row)


def copy(ctx, resource, row: dict, name: Any) -> dict:
    """A new object with ``row``'s stored values (secrets stay encrypted) and associations.

    The copy is the original changed by the request (its ``name``) and stored as a new row, so
    it runs the write pipeline of an update, in one transaction: ``validate`` and
    ``before_save`` see the new values with the original as ``existing`` (under id -1, so the
    original's own name counts as taken), then ``after_save``, then ``after_copy(ctx, row,
    new)`` for what a deep copy adds (an inventory's hosts and groups ...)."""
    access.require(can_copy(ctx, resource, row))
    with ctx.store.transaction():
        if name in (None, ""):
            raise ValidationError({"name": ["This field is required."]})
        original = {**row, "id": -1}
        changed = validation.clean(ctx, resource, {"name": name}, original, partial=True)
        changed = _prepare(ctx, resource, changed, original)
        values = {f.name: row.get(f.name) for f in resource.stored_fields}
        values.update(changed)
        new = _insert(ctx, resource, values)
        pk = new["id"]
        for rel in resource.relations:
            if rel.kind == "m2m":
                ctx.store.copy_links(*rel.key.split(":"), row["id"], pk)
        if resource.after_save:
            resource.after_save(ctx, new, original)
        if resource.after_copy:
            resource.after_copy(ctx, row, new)
        new = ctx.store.get(resource.table, pk)
        activity.record(ctx, "create", resource, new, activity.snapshot(resource, new))
    return new

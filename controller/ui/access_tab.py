"""Each object's access tab: who holds which of its roles, grant and revoke for users and teams;
on a user's or team's own tab, the roles they hold.

Grants and revokes are the API's association protocol (``POST /api/v2/roles/N/users/`` and
``/teams/`` with ``{"id": X}`` / ``{"id": X, "disassociate": true}``) through
``relations.post``: the same permission rules (admin of the role's object; organization and team
membership only when MANAGE_ORGANIZATION_AUTH allows), the same activity-stream entries.
Buttons follow ``relations.may_change_role``; the service refuses a forged post anyway.
"""
from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from ..errors import APIError, NotFound
from ..services import crud, relations
from .base import ctx, detail, flatten_errors, listing, page_view, registry, render
from .blueprint import bp
from .forms import fk_choices
from .generic import section_of, ui_plural, ui_resource

MEMBERS_SHOWN = 50       # direct members listed per role (the role's own page pages through more)


def _role_rows(res, row: dict) -> list[dict]:
    """The object's roles as stored rows (content_type, object_id, role_field), declaration order."""
    found = listing(registry("role"), [("page_size", "50")],
                    scope=relations.scope(ctx(), res, row, res.relation("object_roles")))
    order = {spec.field: i for i, spec in enumerate(res.roles)}
    rows = [ctx().store.get("roles", r["id"]) for r in found["results"]]
    return sorted((r for r in rows if r is not None), key=lambda r: order.get(r["role_field"], 99))


def _holders(role: dict) -> dict[str, Any]:
    """One role's direct users and teams, and whether the viewer may change them."""
    role_res = registry("role")
    spec = registry(role["content_type"]).role(role["role_field"])
    args = [("page_size", str(MEMBERS_SHOWN)), ("order_by", "username")]
    users = listing(registry("user"), args, scope=relations.scope(ctx(), role_res, role, role_res.relation("users")))
    teams = listing(registry("team"), [("page_size", str(MEMBERS_SHOWN)), ("order_by", "name")],
                    scope=relations.scope(ctx(), role_res, role, role_res.relation("teams")))
    return {"id": role["id"], "field": role["role_field"], "name": spec.name if spec else role["role_field"],
            "description": spec.description.format(model=registry(role["content_type"]).verbose_name) if spec else "",
            "users": users["results"], "teams": teams["results"], "user_only": bool(spec and spec.user_only),
            "may_change": relations.may_change_role(ctx(), role)}


def _held_roles(res, row: dict) -> list[dict]:
    """The roles a user or team holds (their ``roles`` sub-list), each with its object."""
    found = listing(registry("role"), [("page_size", "200")],
                    scope=relations.scope(ctx(), res, row, res.relation("roles")))
    out = []
    for r in found["results"]:
        stored = ctx().store.get("roles", r["id"])
        summary = r.get("summary_fields") or {}
        out.append({"id": r["id"], "name": r.get("name"), "resource_type": summary.get("resource_type_display_name"),
                    "resource_name": summary.get("resource_name"), "resource_id": summary.get("resource_id"),
                    "plural": _plural(summary.get("resource_type")),
                    "may_change": stored is not None and relations.may_change_role(ctx(), stored)})
    return out


def _plural(type_name: str | None) -> str | None:
    res = ctx().registry.get(type_name or "")
    return ui_plural(res) if res else None


def _apply(role_id: int, kind: str, member_id: int, on: bool) -> None:
    """Grant (on) or revoke ``role_id`` for a user or team: ``POST /roles/N/<users|teams>/``."""
    role_res = registry("role")
    role = crud.get_row(ctx(), role_res, role_id)
    body: dict[str, Any] = {"id": member_id}
    if not on:
        body["disassociate"] = True
    relations.post(ctx(), role_res, role, role_res.relation("users" if kind == "user" else "teams"), body)


def _posted_int(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return int(text) if text.isdigit() else None


def _handle_post(res, row: dict, own_roles: set[int]) -> dict[str, list[str]]:
    """A grant or revoke form: ``role`` + ``user`` or ``team`` (+ ``action`` revoke).  A role of
    another object is only revocable from its holder's own tab."""
    role_id, action = _posted_int("role"), request.form.get("action", "grant")
    kind = request.form.get("kind") or ("team" if "team" in request.form else "user")
    kind = kind if kind in ("user", "team") else "user"
    member = _posted_int(kind)
    errors: dict[str, list[str]] = {}
    if role_id is None:
        errors["role"] = ["Choose a role."]
    elif role_id not in own_roles:
        raise NotFound()
    if member is None:
        errors[kind] = [f"Choose a {kind}."]
    if errors:
        return errors
    try:
        _apply(role_id, kind, member, on=action != "revoke")   # type: ignore[arg-type]
    except APIError as exc:
        if exc.status != 400:
            raise
        return {kind: flatten_errors(exc.body)}
    return {}


@bp.route("/<plural>/<int:pk>/access", methods=["GET", "POST"])
@page_view
def access_tab(plural: str, pk: int):
    res = ui_resource(plural)
    if not res.has_roles and res.name not in ("user", "team"):
        raise NotFound()
    row, obj = detail(res, pk)
    roles = [_holders(r) for r in _role_rows(res, row)] if res.has_roles else []
    held = _held_roles(res, row) if res.name in ("user", "team") else []
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        allowed = {r["id"] for r in roles} | {r["id"] for r in held}
        errors = _handle_post(res, row, allowed)
        if not errors:
            return redirect(url_for("ui.access_tab", plural=plural, pk=pk, saved=1))
    grantable = [r for r in roles if r["may_change"]]
    name = obj.get("name") or obj.get("username") or f"#{pk}"
    return render("access.html", _code=400 if errors else 200, obj=obj, name=name, plural=plural,
                  section=section_of(plural), roles=roles, held=held, errors=errors,
                  grantable=grantable, users=fk_choices("user") if grantable else [],
                  teams=fk_choices("team") if grantable else [], form=request.form)

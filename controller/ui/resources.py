"""Inventories, hosts, groups, projects, credentials, users, teams, activity stream."""
from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..jobs.project_update import request_update
from ..services import credential_inputs, crud, relations
from ..services.project_files import project_files
from ..services.variables import vars_text
from .blueprint import bp
from .base import caps, ctx, detail, field_errors, list_args, listing, page_view, registry, render


def _orgs(role: str | None = None) -> list[dict]:
    args = [("page_size", "200"), ("order_by", "name")]
    if role:
        args.append(("role_level", role))
    return crud.list_page(ctx(), registry("organization"), args, "/")["results"]


def _can_create(name: str, values: dict | None = None) -> bool:
    """Offer a "new" form: the organization-scoped create check against any organization the
    user may use (the service decides for real on submit)."""
    res = registry(name)
    if ctx().is_superuser:
        return True
    if res.create_role and "organization." in str(res.create_role):
        return any(access.can_create(ctx(), res, {**(values or {}), "organization": o["id"]}) for o in _orgs())
    return access.can_create(ctx(), res, values or {})


def _form_values(names: tuple[str, ...], ints: tuple[str, ...] = ()) -> dict:
    out: dict = {}
    for name in names:
        if name not in request.form:
            continue
        value = request.form.get(name, "")
        if name in ints:
            out[name] = int(value) if value.isdigit() else (None if value == "" else value)
        else:
            out[name] = value
    return out


# -- inventories ---------------------------------------------------------------------------
@bp.route("/inventories", methods=["GET", "POST"])
@page_view
def inventories():
    res = registry("inventory")
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        values = _form_values(("name", "description", "organization", "variables"), ints=("organization",))
        try:
            row = crud.create(ctx(), res, values)
            return redirect(url_for("ui.inventory", pk=row["id"]))
        except ValidationError as exc:
            errors = field_errors(exc)
    data = listing(res, list_args(("search", "page")))
    return render("inventories.html", _code=400 if errors else 200, data=data, errors=errors, values=values,
                  orgs=_orgs(), can_create=_can_create("inventory"), search=request.args.get("search", ""))


@bp.route("/inventories/<int:pk>", methods=["GET", "POST"])
@page_view
def inventory(pk: int):
    res = registry("inventory")
    row, obj = detail(res, pk)
    errors: dict = {}
    host_errors: dict = {}
    host_values: dict = {}
    variables = vars_text(row.get("variables"))
    if request.method == "POST" and request.form.get("form") == "variables":
        variables = request.form.get("variables", "")
        try:
            crud.update(ctx(), res, row, {"variables": variables}, partial=True)
            return redirect(url_for("ui.inventory", pk=pk, saved=1))
        except ValidationError as exc:
            errors = field_errors(exc)
    elif request.method == "POST" and request.form.get("form") == "host":
        host_values = _form_values(("name", "description", "variables"))
        try:
            crud.create(ctx(), registry("host"), {**host_values, "inventory": pk})
            return redirect(url_for("ui.inventory", pk=pk, created=host_values.get("name", "")))
        except ValidationError as exc:
            host_errors = field_errors(exc)
    tab = request.args.get("tab", "hosts")
    sub = "groups" if tab == "groups" else "hosts"
    target = registry("host" if sub == "hosts" else "group")
    data = listing(target, list_args(("search", "page")), scope=relations.scope(ctx(), res, row, res.relation(sub)))
    status = 400 if errors or host_errors else 200
    return render("inventory.html", _code=status, inv=obj, data=data, tab=sub, errors=errors,
                  host_errors=host_errors, host_values=host_values, variables=variables,
                  can_edit=caps(obj).get("edit"), can_add_host=access.can_create(ctx(), registry("host"),
                                                                                {"inventory": pk}),
                  search=request.args.get("search", ""))


def _vars_page(name: str, pk: int, template: str):
    res = registry(name)
    row, obj = detail(res, pk)
    errors: dict = {}
    variables = vars_text(row.get("variables"))
    if request.method == "POST":
        variables = request.form.get("variables", "")
        values: dict[str, Any] = {"variables": variables}
        if "description" in request.form:
            values["description"] = request.form["description"]
        if name == "host":
            values["enabled"] = request.form.get("enabled") == "on"
        try:
            crud.update(ctx(), res, row, values, partial=True)
            return redirect(url_for(f"ui.{name}", pk=pk, saved=1))
        except ValidationError as exc:
            errors = field_errors(exc)
            obj = {**obj, "description": request.form.get("description", obj.get("description"))}
    extra: dict = {}
    if name == "group":
        extra["data"] = listing(registry("host"), list_args(("page",)),
                                scope=relations.scope(ctx(), res, row, res.relation("hosts")))
    if name == "host":
        extra["data"] = listing(registry("group"), list_args(("page",)),
                                scope=relations.scope(ctx(), res, row, res.relation("groups")))
    return render(template, _code=400 if errors else 200, obj=obj, errors=errors, variables=variables,
                  can_edit=caps(obj).get("edit"), **extra)


@bp.route("/hosts/<int:pk>", methods=["GET", "POST"])
@page_view
def host(pk: int):
    return _vars_page("host", pk, "host.html")


@bp.route("/groups/<int:pk>", methods=["GET", "POST"])
@page_view
def group(pk: int):
    return _vars_page("group", pk, "host.html")


# -- projects ------------------------------------------------------------------------------
@bp.route("/projects", methods=["GET"])
@page_view
def projects():
    data = listing(registry("project"), list_args(("search", "page")))
    return render("projects.html", data=data, search=request.args.get("search", ""))


@bp.route("/projects/<int:pk>", methods=["GET"])
@page_view
def project(pk: int):
    res = registry("project")
    row, obj = detail(res, pk)
    playbooks = project_files(ctx(), row, "playbook")
    updates = listing(registry("project_update"), [("order_by", "-id"), ("page_size", "10")],
                      scope=relations.scope(ctx(), res, row, res.relation("project_updates")))
    can_sync = bool(row.get("scm_type")) and access.holds(ctx(), "project", pk, "update_role")
    return render("project.html", obj=obj, playbooks=playbooks, updates=updates, can_sync=can_sync)


@bp.route("/projects/<int:pk>/sync", methods=["POST"])
@page_view
def project_sync(pk: int):
    row = crud.get_row(ctx(), registry("project"), pk)
    request_update(ctx(), row)           # SCM projects only, with update_role
    return redirect(url_for("ui.project", pk=pk))


# -- credentials ---------------------------------------------------------------------------
def _cred_types() -> list[dict]:
    return crud.list_page(ctx(), registry("credential_type"), [("page_size", "200"), ("order_by", "name")],
                          "/")["results"]


def _cred_form(obj: dict | None):
    res = registry("credential")
    types = _cred_types()
    type_text = request.values.get("credential_type", "")
    type_id = int(type_text) if type_text.isdigit() else (obj or {}).get("credential_type")
    ctype = next((t for t in types if t["id"] == type_id), None)
    fields = credential_inputs.type_fields(ctype) if ctype else []
    required = set((ctype or {}).get("inputs", {}).get("required") or [])
    errors: dict = {}
    values = dict(obj or {})
    if request.method == "POST" and request.form.get("form") == "save" and ctype is not None:
        inputs: dict[str, Any] = {}
        for f in fields:
            raw = request.form.get(f"input_{f['id']}", "")
            if f.get("type") == "boolean":
                inputs[f["id"]] = raw == "on"
            elif f.get("secret") and raw == "" and obj is not None and (obj.get("inputs") or {}).get(f["id"]):
                inputs[f["id"]] = "$encrypted$"     # left blank: keep the stored secret
            elif raw != "":
                inputs[f["id"]] = raw
        body = {"name": request.form.get("name", ""), "description": request.form.get("description", ""),
                "credential_type": ctype["id"], "inputs": inputs}
        org = request.form.get("organization", "")
        body["organization"] = int(org) if org.isdigit() else None
        if obj is None and body["organization"] is None:
            body["user"] = ctx().user_id
        try:
            if obj is None:
                row = crud.create(ctx(), res, body)
            else:
                row = crud.update(ctx(), res, crud.get_row(ctx(), res, obj["id"]), body, partial=True)
            return redirect(url_for("ui.credentials", saved=row["id"]))
        except ValidationError as exc:
            errors = field_errors(exc)
            values.update({k: v for k, v in body.items() if k != "inputs"})
            values["inputs"] = {**(values.get("inputs") or {}),
                                **{k: v for k, v in inputs.items() if v != "$encrypted$"}}
    return render("credential_form.html", _code=400 if errors else 200, obj=obj, values=values, types=types,
                  ctype=ctype, fields=fields, required=required, errors=errors, orgs=_orgs())


@bp.route("/credentials", methods=["GET"])
@page_view
def credentials():
    data = listing(registry("credential"), list_args(("search", "page", "credential_type")))
    return render("credentials.html", data=data, search=request.args.get("search", ""),
                  can_create=ctx().user is not None)


@bp.route("/credentials/new", methods=["GET", "POST"])
@page_view
def credential_new():
    return _cred_form(None)


@bp.route("/credentials/<int:pk>", methods=["GET", "POST"])
@page_view
def credential(pk: int):
    res = registry("credential")
    _row, obj = detail(res, pk)
    if request.method == "POST" and not caps(obj).get("edit"):
        raise PermissionDenied()
    return _cred_form(obj)


# -- people and history --------------------------------------------------------------------
@bp.route("/users", methods=["GET"])
@page_view
def users():
    data = listing(registry("user"), list_args(("search", "page")))
    return render("simple_list.html", title="Users", data=data, search=request.args.get("search", ""),
                  columns=[("username", "Username"), ("first_name", "First name"), ("last_name", "Last name"),
                           ("email", "Email"), ("is_superuser", "Superuser")])


@bp.route("/teams", methods=["GET"])
@page_view
def teams():
    data = listing(registry("team"), list_args(("search", "page")))
    return render("simple_list.html", title="Teams", data=data, search=request.args.get("search", ""), link="ui.team",
                  columns=[("name", "Name"), ("description", "Description"), ("summary_fields.organization.name",
                                                                              "Organization")])


@bp.route("/teams/<int:pk>", methods=["GET"])
@page_view
def team(pk: int):
    res = registry("team")
    row, obj = detail(res, pk)
    rel = request.args.get("show", "users")
    rel = rel if rel in ("users", "roles") else "users"
    data = listing(registry("user" if rel == "users" else "role"), list_args(("page",)),
                   scope=relations.scope(ctx(), res, row, res.relation(rel)))
    columns = ([("username", "Username"), ("first_name", "First name"), ("last_name", "Last name")] if rel == "users"
               else [("summary_fields.resource_type", "Type"), ("summary_fields.resource_name", "Resource"),
                     ("name", "Role")])
    return render("simple_list.html", title=f"Team {obj['name']}: {'members' if rel == 'users' else 'permissions'}",
                  data=data, search=None, columns=columns,
                  tabs=[("Members", url_for("ui.team", pk=pk)), ("Permissions", url_for("ui.team", pk=pk,
                                                                                        show="roles"))])


@bp.route("/users/<int:pk>/roles", methods=["GET"])
@page_view
def user_roles(pk: int):
    res = registry("user")
    row, obj = detail(res, pk)
    data = listing(registry("role"), list_args(("page",)), scope=relations.scope(ctx(), res, row,
                                                                                 res.relation("roles")))
    return render("simple_list.html", title=f"Permissions of {obj['username']}", data=data, search=None,
                  columns=[("summary_fields.resource_type", "Type"), ("summary_fields.resource_name", "Resource"),
                           ("name", "Role")])


@bp.route("/activity", methods=["GET"])
@page_view
def activity():
    args = list_args(("page", "object1", "operation"))
    args.append(("order_by", "-id"))
    data = listing(registry("activity_stream"), args)
    return render("simple_list.html", title="Activity stream", data=data, search=None,
                  columns=[("timestamp", "Time"), ("summary_fields.actor.username", "Actor"),
                           ("operation", "Operation"), ("object1", "Object"), ("changes", "Changes")])

"""Generic pages for every resource without a page of its own: list, new, detail, edit, delete.

Each resource is one :class:`Page` line (its list columns, which declared fields its form leaves
out); the form itself comes from the declaration (``forms.form_fields``) and every write goes
through ``crud`` — the same validation and permission checks as the API.  A resource needing
more (a user's password pair, a team's members, an inventory source's sync, a token shown once)
has a small hook here, not a page of its own.  Specific pages (``/ui/inventories``,
``/ui/hosts/<pk>`` ...) are registered with static URL parts, so Werkzeug prefers them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from .. import access
from ..errors import NotFound, PermissionDenied
from ..jobs.inventory_update import request_update
from ..services import crud, relations
from .blueprint import bp
from .base import caps, ctx, detail, list_args, listing, page_view, registry, render, ui_object
from .forms import FormField, fk_choices, form_fields, render_form, submit


@dataclass(frozen=True)
class Page:
    """How one resource shows in the generic pages."""

    resource: str
    section: str                                  # "Organizations": list title, <title> section
    columns: tuple[tuple[str, str], ...]          # (dotted key of the API object, header); first links
    sortable: tuple[str, ...] = ("name",)
    exclude: tuple[str, ...] = ()                 # declared writable fields the form leaves out
    label: str = "name"                           # the key that names an object (<h1>, title)
    prefill: tuple[str, ...] = ()                 # create-form fields a query argument may preset
    list_page: bool = True                        # False: the list is a specific page elsewhere
    related: tuple[tuple[str, str], ...] = ()     # (relation, heading): sub-lists shown on the detail page


NAME = ("name", "Name")
DESCRIPTION = ("description", "Description")
ORG = ("summary_fields.organization.name", "Organization")
INVENTORY = ("summary_fields.inventory.name", "Inventory")

PAGES: dict[str, Page] = {
    "organizations": Page("organization", "Organizations", (NAME, DESCRIPTION), ("name", "id", "modified"),
                          related=(("teams", "Teams"), ("users", "Members"), ("admins", "Administrators"))),
    "users": Page("user", "Users", (("username", "Username"), ("first_name", "First name"),
                                   ("last_name", "Last name"), ("email", "Email"), ("is_superuser", "Superuser")),
                  ("username", "first_name", "last_name", "email"), label="username",
                  related=(("teams", "Teams"), ("organizations", "Organizations"))),
    "teams": Page("team", "Teams", (NAME, DESCRIPTION, ORG), ("name", "id"), prefill=("organization",)),
    "credential_types": Page("credential_type", "Credential types", (NAME, ("kind", "Kind"), ("managed", "Managed")),
                             ("name", "kind", "id")),
    "tokens": Page("o_auth2_access_token", "Tokens", (("description", "Description"), ("scope", "Scope"),
                                                     ("summary_fields.user.username", "User"),
                                                     ("expires", "Expires")),
                   ("description", "scope", "expires", "id"), label="description"),
    "inventories": Page("inventory", "Inventories", (NAME, ORG), list_page=False, prefill=("organization",),
                        exclude=("prevent_instance_group_fallback",)),
    "hosts": Page("host", "Hosts", (NAME, DESCRIPTION, INVENTORY, ("enabled", "Enabled")),
                  ("name", "id", "modified"), prefill=("inventory",)),
    "groups": Page("group", "Groups", (NAME, DESCRIPTION, INVENTORY), ("name", "id"), prefill=("inventory",)),
    "inventory_sources": Page("inventory_source", "Inventory sources",
                              (NAME, ("source", "Source"), INVENTORY, ("status", "Status"),
                               ("last_updated", "Last updated")),
                              ("name", "source", "status", "last_updated", "id"), prefill=("inventory",),
                              exclude=("execution_environment",)),
}

# UI addresses whose resource is not the API's plural (the contract keeps /ui/templates)
ALIASES = {"templates": "job_template", "workflow_templates": "workflow_job_template"}


def ui_page(plural: str) -> Page:
    """The generic page of a UI plural, or 404 (an HTML page, as everything under /ui/)."""
    page = PAGES.get(plural)
    if page is None:
        raise NotFound()
    return page


def ui_resource(plural: str):
    """The resource a /ui/<plural>/ address is about: a generic page's, an alias, or the API's."""
    if plural in PAGES:
        return registry(PAGES[plural].resource)
    if plural in ALIASES:
        return registry(ALIASES[plural])
    res = ctx().registry.by_plural(plural)
    if res is None or not res.listed:
        raise NotFound()
    return res


def ui_plural(resource) -> str:
    """The /ui/<plural> of a resource (the inverse of ``ui_resource``)."""
    return next((k for k, v in ALIASES.items() if v == resource.name), resource.plural)


def section_of(plural: str) -> str:
    """The section a /ui/<plural>/ page belongs to (its <title>'s middle part): "Organizations"."""
    if plural in PAGES:
        return PAGES[plural].section
    return plural.replace("_", " ").capitalize()


def object_name(page: Page, obj: dict) -> str:
    return str(obj.get(page.label) or f"{page.resource.replace('_', ' ')} #{obj['id']}")


def may_create(resource) -> bool:
    """Whether to offer a "new" form (the service decides for real on submit): what a list's
    OPTIONS decides for ``POST``, AWX's ``can_add({})`` (:func:`access.may_add`)."""
    return resource.creatable and access.may_add(ctx(), resource)


# -- per-resource form hooks ---------------------------------------------------------------
def _user_fields(fields: list[FormField], obj: dict | None) -> list[FormField]:
    """A user's form: the password typed twice; superuser flags only for superusers."""
    if not ctx().is_superuser:
        fields = [f for f in fields if f.name not in ("is_superuser", "is_system_auditor")]
    out = []
    for f in fields:
        out.append(f)
        if f.name == "password":
            f.required = obj is None
            f.help_text = "Leave empty to keep the current password." if obj is not None else ""
            out.append(FormField("password_confirm", "Confirm password", widget="password", required=obj is None))
    return out


def _token_fields(fields: list[FormField], obj: dict | None) -> list[FormField]:
    for f in fields:
        if f.name == "scope":
            f.widget, f.choices = "select", [("write", "Write"), ("read", "Read")]
    return fields


def _team_fields(fields: list[FormField], obj: dict | None) -> list[FormField]:
    """A team's organization is chosen once: the API refuses another one on change (AWX
    ``TeamAccess.can_change``), so the edit form shows it disabled and never reads it back."""
    if obj is not None:
        for f in fields:
            if f.name == "organization":
                # a disabled select is not posted: after a refused save it shows the stored value
                f.read_only, f.value = True, obj.get("organization")
    return fields


FIELD_HOOKS: dict[str, Callable[[list[FormField], dict | None], list[FormField]]] = {
    "user": _user_fields, "o_auth2_access_token": _token_fields, "team": _team_fields,
}


def build_fields(page: Page, obj: dict | None, posted: bool) -> list[FormField]:
    res = registry(page.resource)
    fields = form_fields(res, obj, values=request.form if posted else None, exclude=page.exclude)
    if obj is None and not posted:
        for f in fields:
            if f.name in page.prefill and request.args.get(f.name):
                f.value = request.args[f.name]
    hook = FIELD_HOOKS.get(res.name)
    return hook(fields, obj) if hook else fields


def _check_pair(fields: list[FormField]) -> dict[str, list[str]]:
    """The user form's two passwords must match before anything is saved."""
    if any(f.name == "password_confirm" for f in fields) and \
            request.form.get("password", "") != request.form.get("password_confirm", ""):
        return {"password_confirm": ["The two passwords do not match."]}
    return {}


def _save(page: Page, row: dict | None, fields: list[FormField]) -> tuple[BaseResponse | None, dict[str, list[str]]]:
    """Save the posted form: (the page to answer with, {}) or (None, errors placed on fields)."""
    res = registry(page.resource)
    errors = _check_pair(fields)
    if not errors:
        saved, errors = submit(res, row, fields)
        if saved is not None:
            if res.name == "o_auth2_access_token" and row is None:
                # the token's value is shown this once, on the page that created it
                return _detail_page(page, saved, created=True), {}
            return redirect(url_for("ui.generic_detail", plural=_plural_of(page), pk=saved["id"], saved=1)), {}
    for f in fields:
        if f.name in errors:
            f.errors = errors[f.name]
    return None, errors


def _plural_of(page: Page) -> str:
    return next(k for k, v in PAGES.items() if v is page)


# -- routes --------------------------------------------------------------------------------
@bp.route("/<plural>", methods=["GET"])
@page_view
def generic_list(plural: str):
    page = ui_page(plural)
    if not page.list_page:
        raise NotFound()
    res = registry(page.resource)
    data = listing(res, list_args(("search",) + tuple(f.name for f in res.fields if f.filterable)))
    new_href = url_for("ui.generic_new", plural=plural) if may_create(res) else None
    return render("list.html", data=data, section=page.section, noun=res.verbose_name, columns=page.columns,
                  sortable=page.sortable, new_href=new_href,
                  detail_href=lambda r: url_for("ui.generic_detail", plural=plural, pk=r["id"]))


@bp.route("/<plural>/new", methods=["GET", "POST"])
@page_view
def generic_new(plural: str):
    page = ui_page(plural)
    res = registry(page.resource)
    if not may_create(res):
        raise PermissionDenied()
    fields = build_fields(page, None, request.method == "POST")
    errors: dict = {}
    if request.method == "POST":
        answer, errors = _save(page, None, fields)
        if answer is not None:
            return answer
    return render_form(fields, title=f"New {res.verbose_name}", section=page.section, errors=errors,
                       cancel=f"/ui/{plural}")


@bp.route("/<plural>/<int:pk>/edit", methods=["GET", "POST"])
@page_view
def generic_edit(plural: str, pk: int):
    page = ui_page(plural)
    res = registry(page.resource)
    row, obj = detail(res, pk)
    if not caps(obj).get("edit"):
        raise PermissionDenied()
    fields = build_fields(page, obj, request.method == "POST")
    errors: dict = {}
    if request.method == "POST":
        answer, errors = _save(page, row, fields)
        if answer is not None:
            return answer
    name = object_name(page, obj)
    return render_form(fields, title=f"Edit {name}", section=page.section, errors=errors, obj=obj,
                       cancel=url_for("ui.generic_detail", plural=plural, pk=pk))


@bp.route("/<plural>/<int:pk>", methods=["GET"])
@page_view
def generic_detail(plural: str, pk: int):
    page = ui_page(plural)
    row, obj = detail(registry(page.resource), pk)
    return _detail_page(page, row, obj=obj)


def _detail_page(page: Page, row: dict, created: bool = False, obj: dict | None = None):
    res = registry(page.resource)
    obj = obj or ui_object(res, row)
    plural = _plural_of(page)
    extra: dict[str, Any] = {}
    if res.name == "team":
        extra["members"] = listing(registry("user"), list_args(()),
                                   scope=relations.scope(ctx(), res, row, res.relation("users")))
        extra["can_manage"] = _may_manage_members(row)
        extra["user_choices"] = fk_choices("user") if extra["can_manage"] else []
    extra["related"] = [(heading, ui_plural(registry(res.relation(rel).target)), listing(
        registry(res.relation(rel).target), [("page_size", "10"), ("order_by", "-id")],
        scope=relations.scope(ctx(), res, row, res.relation(rel)))) for rel, heading in page.related]
    if res.name == "inventory_source":
        extra["updates"] = listing(registry("inventory_update"), [("order_by", "-id"), ("page_size", "10")],
                                   scope=relations.scope(ctx(), res, row, res.relation("inventory_updates")))
        extra["can_sync"] = access.holds(ctx(), "inventory", row["inventory"], "update_role")
    return render("object.html", obj=obj, page=page, plural=plural, name=object_name(page, obj),
                  rows=detail_rows(res, obj), can=caps(obj), has_access=res.has_roles or res.name in ("user", "team"),
                  created=created, **extra)


def detail_rows(resource, obj: dict) -> list[tuple[str, Any, str | None]]:
    """(label, shown value, link) of an object's visible declared fields; FKs by name."""
    out: list[tuple[str, Any, str | None]] = []
    for f in resource.fields:
        if not f.visible or f.secret or f.kind == "password" or f.name in ("name",):
            continue
        value = obj.get(f.name)
        link = None
        if f.kind == "id" and f.fk and value is not None:
            summary = (obj.get("summary_fields") or {}).get(f.name) or {}
            target = registry(f.fk)
            value = summary.get("name") or summary.get("username") or f"#{value}"
            link = f"/ui/{ui_plural(target)}/{obj[f.name]}"
        out.append((f.verbose_label(), value, link))
    return out


def _may_manage_members(team: dict) -> bool:
    if ctx().is_superuser:
        return True
    return bool(ctx().settings.MANAGE_ORGANIZATION_AUTH) and access.holds(ctx(), "team", team["id"], "admin_role")


@bp.route("/teams/<int:pk>/members", methods=["POST"])
@page_view
def team_members(pk: int):
    """Add (``user``) or remove (``remove``) a team member: the API's ``/teams/N/users/`` POST."""
    res = registry("team")
    row = crud.get_row(ctx(), res, pk)
    text = request.form.get("remove") or request.form.get("user") or ""
    if not text.isdigit():
        return redirect(url_for("ui.generic_detail", plural="teams", pk=pk))
    body: dict[str, Any] = {"id": int(text)}
    if request.form.get("remove"):
        body["disassociate"] = True
    relations.post(ctx(), res, row, res.relation("users"), body)
    return redirect(url_for("ui.generic_detail", plural="teams", pk=pk))


@bp.route("/<any(hosts, groups):plural>/<int:pk>/links", methods=["POST"])
@page_view
def host_group_links(plural: str, pk: int):
    """Put a host in a group or take it out, from either side: ``name`` (a group's or host's name in
    the same inventory) adds, ``remove`` (its id) removes — the API's ``/hosts/N/groups/`` and
    ``/groups/N/hosts/`` association POSTs."""
    res = registry(plural[:-1])
    row = crud.get_row(ctx(), res, pk)
    rel = res.relation("groups" if plural == "hosts" else "hosts")
    other = registry(rel.target)
    body: dict[str, Any]
    if request.form.get("remove", "").isdigit():
        body = {"id": int(request.form["remove"]), "disassociate": True}
    else:
        name = request.form.get("name", "").strip()
        found = crud.list_page(ctx(), other, [("name", name), ("inventory", str(row["inventory"])),
                                              ("page_size", "1")], "/")["results"] if name else []
        if not found:
            return redirect(url_for(f"ui.{res.name}", pk=pk, missing=name or "?"))
        body = {"id": found[0]["id"]}
    relations.post(ctx(), res, row, rel, body)
    return redirect(url_for(f"ui.{res.name}", pk=pk, linked=1))


@bp.route("/inventory_sources/<int:pk>/sync", methods=["POST"])
@page_view
def inventory_source_sync(pk: int):
    """Start an inventory update (update_role on the inventory; the service refuses otherwise)."""
    row = crud.get_row(ctx(), registry("inventory_source"), pk)
    request_update(ctx(), row)
    return redirect(url_for("ui.generic_detail", plural="inventory_sources", pk=pk, synced=1))


@bp.route("/<plural>/<int:pk>/delete", methods=["POST"])
@page_view
def generic_delete(plural: str, pk: int):
    """Delete any object the user may delete (``crud.delete`` decides); back to its list."""
    res = ui_resource(plural)
    row = crud.get_row(ctx(), res, pk)
    parent = row.get("inventory") if res.name in ("host", "group") else None
    crud.delete(ctx(), res, row)
    if parent:
        return redirect(url_for("ui.inventory", pk=parent, deleted=1))
    return redirect(f"/ui/{plural}?deleted=1")

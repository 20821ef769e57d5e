"""Inventories, hosts, groups, credentials, settings, the activity stream (projects are
``projects.py``'s pages).  Forms come from the form engine (``forms.py``); users, teams,
organizations, credential types, tokens and inventory sources are ``generic.py``'s pages."""
from __future__ import annotations

import json
from typing import Any

from flask import redirect, request, url_for

from ..errors import NotFound, PermissionDenied, ValidationError
from ..services import credential_inputs, crud, relations
from ..services import settings as settings_service
from ..services.variables import vars_text
from .blueprint import bp
from .host_history import host_history
from .access_tab import access_tab
from .base import caps, ctx, detail, field_errors, list_args, listing, page_view, registry, render
from .forms import FormField, fk_choices, form_fields, nonfield_errors, place_errors, read_form, submit
from .generic import may_create


def _orgs(role: str | None = None) -> list[dict]:
    args = [("page_size", "200"), ("order_by", "name")]
    if role:
        args.append(("role_level", role))
    return crud.list_page(ctx(), registry("organization"), args, "/")["results"]


def _can_create(name: str) -> bool:
    """Offer a "new" form for resource ``name`` (kept for the notification pages)."""
    return may_create(registry(name))


# -- inventories ---------------------------------------------------------------------------
INVENTORY_FORM = ("name", "description", "organization", "variables")
HOST_FORM = {"host": ("name", "description", "enabled", "variables"), "group": ("name", "description", "variables")}


@bp.route("/inventories", methods=["GET", "POST"])
@page_view
def inventories():
    """The inventories list, with the new-inventory form folded under it."""
    res = registry("inventory")
    posted = request.method == "POST"
    fields = form_fields(res, None, values=request.form if posted else None, only=INVENTORY_FORM)
    errors: dict = {}
    if posted:
        row, errors = submit(res, None, fields)
        if row is not None:
            return redirect(url_for("ui.inventory", pk=row["id"]))
    data = listing(res, list_args(("search", "kind", "organization")))
    return render("inventories.html", _code=400 if errors else 200, data=data, fields=fields,
                  general=nonfield_errors(errors, fields), can_create=may_create(res),
                  search=request.args.get("search", ""))


@bp.route("/inventories/<int:pk>", methods=["GET", "POST"])
@page_view
def inventory(pk: int):
    """An inventory: its hosts or groups (searchable), its variables (edited in place)."""
    res = registry("inventory")
    row, obj = detail(res, pk)
    fields = form_fields(res, obj, values=request.form if request.method == "POST" else None, only=("variables",))
    fields[0].value = request.form.get("variables", "") if request.method == "POST" else vars_text(row.get("variables"))
    errors: dict = {}
    if request.method == "POST":
        saved, errors = submit(res, row, fields)
        if saved is not None:
            return redirect(url_for("ui.inventory", pk=pk, saved=1))
    tab = request.args.get("tab", "hosts")
    sub = tab if tab in ("groups", "inventory_sources") else "hosts"
    target = registry({"hosts": "host", "groups": "group", "inventory_sources": "inventory_source"}[sub])
    data = listing(target, list_args(("search",)), scope=relations.scope(ctx(), res, row, res.relation(sub)))
    may_admin = bool(caps(obj).get("edit"))
    return render("inventory.html", _code=400 if errors else 200, inv=obj, data=data, tab=sub, fields=fields,
                  general=nonfield_errors(errors, fields), can_edit=may_admin, can_delete=caps(obj).get("delete"),
                  search=request.args.get("search", ""))


def _vars_page(name: str, pk: int, template: str):
    """A host's or group's page: its form (name, description, enabled, variables) and its
    groups (a host's) or hosts (a group's)."""
    res = registry(name)
    row, obj = detail(res, pk)
    posted = request.method == "POST"
    if posted and not caps(obj).get("edit"):
        raise PermissionDenied()
    fields = form_fields(res, obj, values=request.form if posted else None, only=HOST_FORM[name])
    if not posted:
        next(f for f in fields if f.name == "variables").value = vars_text(row.get("variables"))
    errors: dict = {}
    if posted:
        saved, errors = submit(res, row, fields)
        if saved is not None:
            return redirect(url_for(f"ui.{name}", pk=pk, saved=1))
    other = "groups" if name == "host" else "hosts"
    extra: dict[str, Any] = {"data": listing(registry(other[:-1]), list_args(("page",)),
                                             scope=relations.scope(ctx(), res, row, res.relation(other)))}
    if name == "host":
        extra["history"] = host_history(row)      # AWX's host job history (h19b)
    return render(template, _code=400 if errors else 200, obj=obj, fields=fields, errors=errors,
                  general=nonfield_errors(errors, fields), can_edit=caps(obj).get("edit"),
                  can_delete=caps(obj).get("delete"), variables=vars_text(row.get("variables")), **extra)


@bp.route("/hosts/<int:pk>", methods=["GET", "POST"])
@page_view
def host(pk: int):
    return _vars_page("host", pk, "host.html")


@bp.route("/groups/<int:pk>", methods=["GET", "POST"])
@page_view
def group(pk: int):
    return _vars_page("group", pk, "host.html")


# -- credentials ---------------------------------------------------------------------------
def _cred_types() -> list[dict]:
    return crud.list_page(ctx(), registry("credential_type"), [("page_size", "200"), ("order_by", "name")],
                          "/")["results"]


ASK_HELP = "Type ASK to be prompted for it at launch."


def _input_widget(spec: dict) -> str:
    if spec.get("type") == "boolean":
        return "checkbox"
    if spec.get("secret"):
        return "secret_text" if spec.get("multiline") else "password"
    if spec.get("multiline"):
        return "textarea"
    return "select" if spec.get("choices") else "text"


def _input_fields(ctype: dict, obj: dict | None, posted: bool, errors: dict) -> list[FormField]:
    """The type's input schema as form fields (``inputs.<id>`` posts as ``input_<id>``): secrets
    write-only, choices as selects, multiline as text areas, booleans as checkboxes."""
    stored = (obj or {}).get("inputs") or {}
    required = set(ctype.get("inputs", {}).get("required") or [])
    out = []
    for spec in credential_inputs.type_fields(ctype):
        key, widget = spec["id"], _input_widget(spec)
        ff = FormField(f"input_{key}", spec.get("label") or key, widget=widget, required=key in required,
                       help_text=" ".join(filter(None, [spec.get("help_text", ""), ASK_HELP if spec.get(
                           "ask_at_runtime") else ""])), errors=list(errors.get(key, [])),
                       choices=[("", "")] + [(c, c) for c in spec.get("choices", [])],
                       has_secret=bool(spec.get("secret")) and stored.get(key) == "$encrypted$")
        if spec.get("secret"):
            pass                    # never echoed, not even after an error
        elif posted:
            ff.value = (ff.name in request.form) if widget == "checkbox" else request.form.get(ff.name, "")
        else:
            ff.value = stored.get(key, spec.get("default", False if widget == "checkbox" else ""))
        out.append(ff)
    return out


def _read_inputs(fields: list[FormField]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for ff in fields:
        key, raw = ff.name[len("input_"):], request.form.get(ff.name, "")
        if ff.widget == "checkbox":
            inputs[key] = ff.name in request.form
        elif ff.widget in ("password", "secret_text") and raw == "" and ff.has_secret:
            inputs[key] = "$encrypted$"     # left blank: keep the stored secret
        elif raw != "":
            inputs[key] = raw
    return inputs


def _cred_form(obj: dict | None):
    """A credential's form: name, description, organization and type from the declaration, the
    inputs from the chosen type's schema.  Choosing another type (the select submits itself, or
    "Show inputs") re-renders with that type's inputs and what was typed, saving nothing."""
    res = registry("credential")
    types = _cred_types()
    type_text = request.values.get("credential_type", "")
    type_id = int(type_text) if type_text.isdigit() else (obj or {}).get("credential_type")
    ctype = next((t for t in types if t["id"] == type_id), None)
    posted = request.method == "POST"
    if posted and obj is not None and not caps(obj).get("edit"):
        raise PermissionDenied()
    shown_for = request.form.get("inputs_for")     # the type whose inputs the posted page showed
    saving = posted and request.form.get("form") != "choose" and (
        ctype is None or shown_for is None or shown_for == str(ctype["id"]))
    overrides = {"organization": {"choices": [("", "None (personal)")] + (fk_choices("organization") or [])},
                 "credential_type": {"choices": [("", "Choose…")] + [(t["id"], t["name"]) for t in types],
                                     "read_only": obj is not None, "value": ctype["id"] if ctype else None,
                                     "attrs": {"data-autosubmit": ""} if obj is None else {}}}
    fields = form_fields(res, obj, values=request.form if posted else None,
                         only=("name", "description", "organization", "credential_type"), overrides=overrides)
    errors: dict = {}
    refused = False
    inputs_fields = _input_fields(ctype, obj, posted and shown_for == str(type_id), {}) if ctype else []
    if saving:
        body = {**read_form(fields, request.form), "inputs": _read_inputs(inputs_fields)}
        if obj is None and body.get("organization") is None:
            body["user"] = ctx().user_id
        try:
            if obj is None:
                row = crud.create(ctx(), res, body)
            else:
                row = crud.update(ctx(), res, crud.get_row(ctx(), res, obj["id"]), body, partial=True)
            return redirect(url_for("ui.credential", pk=row["id"], saved=1))
        except ValidationError as exc:
            refused, errors = True, field_errors(exc)
            place_errors(fields, errors)
            raw = exc.body.get("inputs") if isinstance(exc.body, dict) else None
            if isinstance(raw, dict) and ctype is not None:   # {"inputs": {"username": [...]}}: beside each
                inputs_fields = _input_fields(ctype, obj, True, {k: v if isinstance(v, list) else [v]
                                                                 for k, v in raw.items()})
                errors.pop("inputs")
            elif ctype is not None:
                inputs_fields = _input_fields(ctype, obj, True, {})
    return render("credential_form.html", _code=400 if refused else 200, obj=obj, ctype=ctype,
                  fields=fields, inputs_fields=inputs_fields, errors=errors, input_errors=errors.get("inputs", []),
                  general=nonfield_errors({k: v for k, v in errors.items() if k != "inputs"}, fields),
                  editable=obj is None or bool(caps(obj).get("edit")))


@bp.route("/credentials", methods=["GET"])
@page_view
def credentials():
    data = listing(registry("credential"), list_args(("search", "credential_type", "organization")))
    return render("credentials.html", data=data, search=request.args.get("search", ""),
                  can_create=ctx().user is not None)


@bp.route("/credentials/new", methods=["GET", "POST"])
@page_view
def credential_new():
    return _cred_form(None)


@bp.route("/credentials/<int:pk>", methods=["GET", "POST"])
@page_view
def credential(pk: int):
    _row, obj = detail(registry("credential"), pk)
    return _cred_form(obj)


# -- users' roles (the access tab), settings, history --------------------------------------
@bp.route("/users/<int:pk>/roles", methods=["GET"])
@page_view
def user_roles(pk: int):
    """The old address of a user's permissions: their access tab."""
    return access_tab("users", pk)


SETTING_WIDGETS = {bool: "checkbox", int: "number", list: "json", dict: "json"}
HIDDEN_CATEGORIES = ("all", "changed")      # views over the others, not forms of their own


def _setting_fields(slug: str, values: dict, posted: bool, errors: dict) -> list[FormField]:
    """One form field per setting of the category, typed by the setting's declared type."""
    catalog = settings_service.catalog()
    out = []
    for key, value in values.items():
        setting = catalog.get(key)
        if setting is None:
            continue        # derived, read-only entries (named URL rules)
        widget = "password" if setting.secret else SETTING_WIDGETS.get(setting.type, "text")
        if setting.choices:
            widget = "select"
        ff = FormField(key, key.replace("_", " ").capitalize(), widget=widget, help_text=setting.help,
                       choices=[(c, c) for c in setting.choices], errors=list(errors.get(key, [])),
                       has_secret=setting.secret and value == "$encrypted$", kind="integer")
        if posted and widget != "password":
            ff.value = (key in request.form) if widget == "checkbox" else request.form.get(key, "")
        elif widget != "password":
            ff.value = value
        out.append(ff)
    return out


def _setting_body(fields: list[FormField]) -> dict[str, Any]:
    """The posted settings, typed as the settings API expects (invalid text goes as typed: the
    service's message lands beside the field)."""
    body: dict[str, Any] = {}
    for ff in fields:
        raw = request.form.get(ff.name, "")
        if ff.widget == "checkbox":
            body[ff.name] = ff.name in request.form
        elif ff.name not in request.form:
            continue                 # not posted: unchanged (the API's PATCH)
        elif ff.widget == "password":
            if raw:
                body[ff.name] = raw
        elif ff.widget == "json":
            try:
                body[ff.name] = json.loads(raw) if raw.strip() else None
            except ValueError:
                body[ff.name] = raw
        else:
            body[ff.name] = raw
    return body


@bp.route("/settings", methods=["GET"])
@page_view
def settings_index():
    """The settings categories (superusers and system auditors, as the API)."""
    if not ctx().is_auditor:
        raise PermissionDenied()
    cats = [(slug, name) for slug, name in settings_service.categories().items() if slug not in HIDDEN_CATEGORIES]
    return render("settings.html", categories=cats, fields=None, slug=None, title="Settings")


@bp.route("/settings/<slug>", methods=["GET", "POST"])
@page_view
def settings_category(slug: str):
    """One category's settings as a form; superusers save it through ``settings.update``."""
    if slug in HIDDEN_CATEGORIES:
        raise PermissionDenied() if not ctx().is_auditor else NotFound()
    values = settings_service.read(ctx(), slug)           # 403 / 404 as the API
    posted = request.method == "POST"
    errors: dict = {}
    fields = _setting_fields(slug, values, posted, {})
    if posted:
        try:
            settings_service.update(ctx(), slug, _setting_body(fields))
            return redirect(url_for("ui.settings_category", slug=slug, saved=1))
        except ValidationError as exc:
            errors = field_errors(exc)
            fields = _setting_fields(slug, values, True, errors)
    name = settings_service.categories()[slug]
    return render("settings.html", _code=400 if errors else 200, categories=None, fields=fields, slug=slug,
                  title=name, general=nonfield_errors(errors, fields), can_save=ctx().is_superuser)


@bp.route("/activity", methods=["GET"])
@page_view
def activity():
    args = list_args(("page", "object1", "operation"))
    args.append(("order_by", "-id"))
    data = listing(registry("activity_stream"), args)
    return render("simple_list.html", title="Activity stream", data=data, search=None,
                  columns=[("timestamp", "Time"), ("summary_fields.actor.username", "Actor"),
                           ("operation", "Operation"), ("object1", "Object"), ("changes", "Changes")])

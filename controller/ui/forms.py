"""The form engine: a resource's create/edit form derived from its registry declaration.

One declaration drives the API's validation, its OPTIONS and these forms, so a page never
restates a field's type, choices or required-ness: :func:`form_fields` turns the writable
:class:`~controller.registry.Field` s into :class:`FormField` s (kind -> widget, FK -> a select of
the objects the user may use, secrets write-only), :func:`read_form` turns a posted form back into
the API body, and :func:`submit` hands that body to ``crud.create`` / ``crud.update`` — the
service validates, and its errors come back beside the fields that caused them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping, Sequence

from flask import Response, request

from ..errors import APIError, ValidationError
from ..registry import ENCRYPTED, Field
from ..services import crud
from .base import ctx, field_errors, registry, render

WIDGETS: dict[str, str] = {
    "string": "text", "text": "textarea", "integer": "number", "float": "number", "boolean": "checkbox",
    "choice": "select", "id": "select", "json": "json", "vars": "yaml", "datetime": "datetime",
    "email": "email", "password": "password",
}
FK_LIMIT = 200       # more candidates than this: the FK is typed as an ID (a select would not scale)
NONE_CHOICE = ("", "---------")


@dataclass
class FormField:
    """One input of a form: ``<input name=NAME id="f-NAME">``, its error in ``<p id="e-NAME">``."""

    name: str
    label: str
    widget: str = "text"
    required: bool = False
    help_text: str = ""
    choices: list[tuple[Any, str]] = dc_field(default_factory=list)   # (value, label); value as stored
    value: Any = None          # stored value, or the text the user typed when re-rendered after an error
    errors: list[str] = dc_field(default_factory=list)
    has_secret: bool = False   # a secret is stored: the input stays empty, empty keeps it
    read_only: bool = False    # shown disabled and never read back (create_only on an edit form)
    fk: str | None = None      # target resource of a foreign key
    kind: str = "string"       # the declared kind (how read_form types the posted text)
    attrs: dict[str, str] = dc_field(default_factory=dict)   # extra attributes (data-autosubmit ...)

    @property
    def text(self) -> str:
        """The value as an input's text (JSON pretty-printed, None empty)."""
        if self.value is None:
            return ""
        if isinstance(self.value, (dict, list)):
            return json.dumps(self.value, indent=2)
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    @property
    def checked(self) -> bool:
        return self.value in (True, "on", "true", "1", 1)

    def selected(self, choice: Any) -> bool:
        return str(choice) == self.text or (choice in ("", None) and self.value in ("", None))


def fk_choices(target: str, role_level: str | None = None, limit: int = FK_LIMIT) -> list[tuple[Any, str]] | None:
    """(id, name) of the ``target`` objects the user can see (with ``role_level``, only those they
    hold that role on), by name; None when more than ``limit`` exist (an ID input then)."""
    res = registry(target)
    label = "name" if res.field("name") else ("username" if res.field("username") else "id")
    args = [("page_size", str(limit)), ("order_by", label)]
    if role_level and res.role(role_level):
        args.append(("role_level", role_level))
    page = crud.list_page(ctx(), res, args, "/")
    if (page.get("count") or 0) > limit:
        return None
    return [(o["id"], str(o.get(label) or o["id"])) for o in page["results"]]


def _fk_role(resource, f: Field) -> str | None:
    """The role a user needs on an FK target to pick it: the create role's when the declaration
    creates through this FK (``create_role="organization.inventory_admin_role"``), else
    ``use_role`` where the target has one."""
    fk_name, _, role = str(resource.create_role or "").partition(".")
    if fk_name == f.name and role:
        return role
    return "use_role" if registry(f.fk or "").role("use_role") else None


def _widget(f: Field) -> str:
    if f.kind == "string" and f.choices:
        return "select"
    return WIDGETS[f.kind]


def _derive(resource, f: Field, obj: dict | None) -> FormField:
    ff = FormField(name=f.name, label=f.verbose_label(), widget=_widget(f), required=f.required,
                   help_text=f.help_text, fk=f.fk, kind=f.kind, read_only=bool(obj is not None and f.create_only))
    if f.choices:
        ff.choices = [(v, lab) for v, lab in f.choices]
        if not f.required and all(v not in ("", None) for v, _ in ff.choices):
            ff.choices.insert(0, NONE_CHOICE)
    if f.kind == "id" and f.fk:
        found = fk_choices(f.fk, _fk_role(resource, f))
        if found is None:
            ff.widget = "number"
        else:
            ff.choices = ([] if f.required and obj is None and found else [NONE_CHOICE]) + found
    if f.secret or f.kind == "password":
        ff.widget = "password"
        ff.has_secret = bool(obj and obj.get(f.name) == ENCRYPTED)
        return ff
    if obj is not None:
        ff.value = obj.get(f.name)
    elif f.default is not None and not callable(f.default):
        ff.value = f.default
    if ff.widget == "select" and ff.fk and ff.value not in (None, "") and not any(
            str(v) == str(ff.value) for v, _ in ff.choices):
        # the stored target is not one the user may pick: still shown, so saving keeps it
        name = ((obj or {}).get("summary_fields", {}).get(f.name) or {}).get("name") or f"#{ff.value}"
        ff.choices.append((ff.value, name))
    return ff


def _typed_value(ff: FormField, values: Mapping) -> Any:
    """What the form shows after a post: the user's text (checkbox: whether it was ticked)."""
    if ff.widget == "checkbox":
        return ff.name in values and values.get(ff.name) not in ("", "off", "false")
    return values.get(ff.name, "")


def form_fields(resource, obj: dict | None = None, *, values: Mapping | None = None,
                errors: Mapping[str, list[str]] | None = None, only: Sequence[str] | None = None,
                exclude: Sequence[str] = (), overrides: Mapping[str, Any] | None = None) -> list[FormField]:
    """The fields of a create form (``obj`` None) or an edit form (``obj`` the serialized API
    object) of ``resource``, in declaration order (``only`` gives its own order).

    ``values`` (a posted form) wins over ``obj`` so nothing typed is lost on an error (secrets are
    never echoed); ``errors`` (``field_errors(exc)``) land on their fields; ``overrides[name]``
    replaces attributes the declaration cannot say (a select's choices, required-ness, a label)."""
    names = list(only) if only is not None else [f.name for f in resource.fields if f.writable]
    out = []
    for name in names:
        if name in exclude:
            continue
        f = resource.field(name)
        if f is None or not f.writable:
            continue
        ff = _derive(resource, f, obj)
        for key, value in (overrides or {}).get(name, {}).items():
            setattr(ff, key, value)
        if values is not None and not ff.read_only and ff.widget != "password":
            ff.value = _typed_value(ff, values)
        ff.errors = list((errors or {}).get(name, []))
        out.append(ff)
    return out


def nonfield_errors(errors: Mapping[str, list[str]], fields: Sequence[FormField]) -> list[str]:
    """Messages not about one of the form's fields ("detail", "__all__", a field not shown)."""
    shown = {f.name for f in fields}
    out = []
    for key, messages in errors.items():
        if key in shown:
            continue
        prefix = "" if key in ("detail", "error", "__all__", "non_field_errors", "msg") else f"{key}: "
        out += [f"{prefix}{m}" for m in messages]
    return out


def _number(raw: str, kind: str) -> Any:
    text = raw.strip()
    if text == "":
        return None
    try:
        return float(text) if kind == "float" else int(text)
    except ValueError:
        return raw            # not a number: the service says so beside the field


def read_form(fields: Sequence[FormField], form: Mapping, obj: dict | None = None) -> dict[str, Any]:
    """The API body a posted form means, typed per widget.

    A checkbox not posted is False; an empty FK or number is None; a select's text maps back to
    its typed choice; JSON is parsed (invalid JSON stays text so the service's own message shows);
    variables stay YAML/JSON text; an empty secret is left out (a stored one is kept); read-only
    fields are never read."""
    body: dict[str, Any] = {}
    for ff in fields:
        if ff.read_only:
            continue
        if ff.widget == "checkbox":
            body[ff.name] = form.get(ff.name) not in (None, "", "off", "false")
            continue
        if ff.name not in form:
            continue
        raw = form.get(ff.name, "")
        if ff.widget == "password":
            if raw not in ("", ENCRYPTED):
                body[ff.name] = raw
        elif ff.fk:
            body[ff.name] = _number(raw, "integer")
        elif ff.widget == "select":
            body[ff.name] = next((v for v, _ in ff.choices if str(v) == raw), raw)
        elif ff.widget == "number":
            body[ff.name] = _number(raw, ff.kind)
        elif ff.widget == "json":
            try:
                body[ff.name] = json.loads(raw) if raw.strip() else None
            except ValueError:
                body[ff.name] = raw
        elif ff.widget == "datetime":
            body[ff.name] = raw or None
        else:
            body[ff.name] = raw
    return body


def place_errors(fields: Sequence[FormField], errors: Mapping[str, list[str]]) -> None:
    """Put each message on its field (re-render after a refused save)."""
    for ff in fields:
        ff.errors = list(errors.get(ff.name, []))


def submit(resource, row: dict | None, fields: list[FormField], *, extra: Mapping[str, Any] | None = None,
           inject: Mapping[str, Any] | None = None) -> tuple[dict | None, dict[str, list[str]]]:
    """Save the posted form: ``crud.create`` (``row`` None) or ``crud.update`` (partial) with
    :func:`read_form` + ``extra``.  Returns (stored row, {}) or (None, errors), the errors also
    placed on ``fields`` whose values keep what was typed; 403/404 propagate (the HTML error page)."""
    body = {**read_form(fields, request.form, row), **(extra or {})}
    try:
        if row is None:
            return crud.create(ctx(), resource, body, inject=dict(inject) if inject else None), {}
        return crud.update(ctx(), resource, row, body, partial=True), {}
    except ValidationError as exc:
        errors = field_errors(exc)
    except APIError as exc:
        if exc.status != 400:
            raise
        errors = field_errors(ValidationError(exc.body))
    for ff in fields:
        if not ff.read_only and ff.widget != "password":
            ff.value = _typed_value(ff, request.form)
    place_errors(fields, errors)
    return None, errors


def render_form(fields: Sequence[FormField], *, title: str, section: str, errors: Mapping | None = None,
                obj: dict | None = None, cancel: str | None = None, template: str = "form.html",
                **values: Any) -> Response:
    """The standard form page: ``<title>`` "{title} | {section} | Turret", ``<h1>`` the title, the
    fields, non-field errors in ``<div class="errors" role="alert">``, a Save button; 400 when
    there are errors (nothing typed is lost: the fields carry the posted values)."""
    errors = dict(errors or {})
    return render(template, _code=400 if errors else 200, fields=fields, title=title, section=section,
                  errors=errors, general=nonfield_errors(errors, fields), obj=obj, cancel=cancel, **values)

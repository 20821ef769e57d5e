"""Notification templates (list, create, edit, test) and the notification switches of the objects
that notify (job templates, projects, organizations, inventory sources, workflow job templates).

Forms are built from the type registry (``controller.notifications.types.TYPES``); secret fields
are write-only: left empty on an edit, they are sent as ``$encrypted$``, which keeps the stored
value.  Writes go through the same services as the API (``crud``, ``relations.post``, the test
action's service), so validation, permissions and the activity stream are the API's.
"""
from __future__ import annotations

import json
from typing import Any

from flask import redirect, request, url_for

from ..errors import ValidationError
from ..notifications import routing
from ..notifications.types import TYPES
from ..services import crud, relations
from .base import caps, ctx, detail, field_errors, list_args, listing, page_view, registry, render
from .blueprint import bp
from .resources import _can_create, _orgs

ENCRYPTED = "$encrypted$"
EVENTS = (("started", "Start"), ("success", "Success"), ("error", "Failure"))
# UI path segment -> (resource, whether it also notifies about workflow approvals)
NOTIFIERS = {
    "templates": ("job_template", False),
    "projects": ("project", False),
    "organizations": ("organization", True),
    "inventory_sources": ("inventory_source", False),
    "workflow_templates": ("workflow_job_template", True),
}


def _type_names() -> list[tuple[str, str]]:
    return sorted(((name, t.label) for name, t in TYPES.items()), key=lambda item: item[1].lower())


def config_from_form(type_name: str, editing: dict | None) -> dict[str, Any]:
    """The ``notification_configuration`` a submitted form asks for.  Values the form cannot
    type (a non-number in a number field, bad JSON) are passed on as text so the API's own
    validation names the field; an empty secret on an edit keeps the stored one."""
    ntype = TYPES[type_name]
    stored = (editing or {}).get("notification_configuration") or {}
    out: dict[str, Any] = {}
    for f in ntype.fields:
        raw = request.form.get(f"cfg_{f.name}", "")
        if f.kind == "bool":
            out[f.name] = request.form.get(f"cfg_{f.name}") == "on"
        elif f.kind == "password":
            if raw:
                out[f.name] = raw
            elif stored.get(f.name) == ENCRYPTED and editing and editing.get("notification_type") == type_name:
                out[f.name] = ENCRYPTED
            elif not f.required:
                out[f.name] = ""
        elif f.kind == "int":
            if raw.strip():
                out[f.name] = int(raw) if raw.strip().lstrip("-").isdigit() else raw
        elif f.kind == "list":
            out[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "object":
            try:
                out[f.name] = json.loads(raw) if raw.strip() else {}
            except ValueError:
                out[f.name] = raw
        elif raw != "" or f.required:
            out[f.name] = raw
    return out


def _messages_from_form() -> Any:
    raw = request.form.get("messages", "").strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw                       # the API answers with its own message for the field


def _form(obj: dict | None):
    """The create/edit form of a notification template (``obj`` None: a new one)."""
    res = registry("notification_template")
    type_name = request.values.get("notification_type") or (obj or {}).get("notification_type") or ""
    if type_name not in TYPES:
        type_name = ""
    values: dict[str, Any] = dict(obj or {})
    errors: dict = {}
    if request.method == "POST" and request.form.get("form") == "save" and type_name:
        org = request.form.get("organization", "")
        body = {"name": request.form.get("name", ""), "description": request.form.get("description", ""),
                "organization": int(org) if org.isdigit() else None, "notification_type": type_name,
                "notification_configuration": config_from_form(type_name, obj),
                "messages": _messages_from_form()}
        try:
            if obj is None:
                row = crud.create(ctx(), res, body)
            else:
                row = crud.update(ctx(), res, crud.get_row(ctx(), res, obj["id"]), body, partial=True)
            return redirect(url_for("ui.notification_template", pk=row["id"], saved=1))
        except ValidationError as exc:
            errors = field_errors(exc)
            config = {k: v for k, v in body["notification_configuration"].items() if v != ENCRYPTED}
            values.update({k: v for k, v in body.items() if k != "notification_configuration"})
            values["notification_configuration"] = {**(values.get("notification_configuration") or {}), **config}
            values["messages_text"] = request.form.get("messages", "")
    if "messages_text" not in values:
        custom = values.get("messages")
        # AWX shows "no custom messages" as null or as every event mapped to null
        customized = isinstance(custom, dict) and any(v for v in custom.values())
        values["messages_text"] = json.dumps(custom, indent=2) if customized else ""
    recent = None
    if obj is not None:
        row = crud.get_row(ctx(), res, obj["id"])
        recent = listing(registry("notification"), [("order_by", "-id"), ("page_size", "10")],
                         scope=relations.scope(ctx(), res, row, res.relation("notifications")))
    tested = request.args.get("tested", "")
    pending = bool(recent and tested.isdigit() and any(
        n["id"] == int(tested) and n["status"] == "pending" for n in recent["results"]))
    return render("notification_form.html", _code=400 if errors else 200, obj=obj, values=values,
                  types=_type_names(), ntype=TYPES.get(type_name), type_name=type_name, errors=errors,
                  orgs=_orgs(), recent=recent, tested=tested, pending=pending, ENCRYPTED=ENCRYPTED,
                  editable=obj is None or bool(caps(obj).get("edit")))


@bp.route("/notification_templates", methods=["GET"])
@page_view
def notification_templates():
    data = listing(registry("notification_template"), list_args(("search", "page", "notification_type")))
    labels = {name: t.label for name, t in TYPES.items()}
    return render("notification_templates.html", data=data, labels=labels, search=request.args.get("search", ""),
                  can_create=_can_create("notification_template"))


@bp.route("/notification_templates/new", methods=["GET", "POST"])
@page_view
def notification_template_new():
    return _form(None)


@bp.route("/notification_templates/<int:pk>", methods=["GET", "POST"])
@page_view
def notification_template(pk: int):
    _row, obj = detail(registry("notification_template"), pk)
    return _form(obj)


@bp.route("/notification_templates/<int:pk>/test", methods=["POST"])
@page_view
def notification_template_test(pk: int):
    """Send a test message (the API's ``test`` action) and show its notification record."""
    row = crud.get_row(ctx(), registry("notification_template"), pk)
    notification_id = routing.send_test(ctx(), row)
    return redirect(url_for("ui.notification_template", pk=pk, tested=notification_id) + "#notifications")


@bp.route("/<any(templates, projects, organizations, inventory_sources, workflow_templates):kind>/<int:pk>"
          "/notifications", methods=["GET", "POST"])
@page_view
def notification_switches(kind: str, pk: int):
    """AWX's notifications tab: every notification template the user can see, with one switch per
    event; a switch posts the API's association body to the object's sub-list."""
    name, approvals = NOTIFIERS[kind]
    res = registry(name)
    row, obj = detail(res, pk)
    events = EVENTS + ((("approvals", "Approval"),) if approvals else ())
    if request.method == "POST":
        event = request.form.get("event", "")
        template = request.form.get("template", "")
        if event in dict(events) and template.isdigit():
            body: dict[str, Any] = {"id": int(template)}
            if request.form.get("on") != "1":
                body["disassociate"] = True
            relations.post(ctx(), res, row, res.relation(f"notification_templates_{event}"), body)
        return redirect(url_for("ui.notification_switches", kind=kind, pk=pk))
    attached = {}
    for event, _label in events:
        scope = relations.scope(ctx(), res, row, res.relation(f"notification_templates_{event}"))
        page = crud.list_page(ctx(), registry("notification_template"), [("page_size", "200")], "/", scope=scope)
        attached[event] = {t["id"] for t in page["results"]}
    data = listing(registry("notification_template"), list_args(("search", "page")))
    labels = {tname: t.label for tname, t in TYPES.items()}
    return render("notification_switches.html", obj=obj, kind=kind, events=events, attached=attached, data=data,
                  labels=labels, can_edit=bool(caps(obj).get("edit")), search=request.args.get("search", ""))

"""Notification templates, their send records (notifications), and where templates attach.

Contracts:
  * ``notification_configuration`` is validated against the type's fields as AWX does, stored
    with every secret encrypted (``before_save`` is its only writer), shown with secrets as
    ``$encrypted$`` (``compute``) and masked in the activity stream (``redact``).
  * ``messages`` are validated on save with AWX's errors and merged into the stored ones (AWX
    keeps an event or a message/body left out of an update).
  * Access as AWX's (no object roles on templates): visible to notification admins and auditors
    of the template's organization; notification admins create, change, delete and test.
    A notification (send record) is visible with its template; it is read-only.
  * Templates attach per event group (``notification_templates_{started,success,error}``, plus
    ``_approvals`` on organizations and workflow job templates); every unified job lists its
    own sends under ``notifications/``.  The job hooks of :mod:`controller.notifications.routing`
    snapshot routing at creation and record sends at start and end.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import access
from ..errors import APIError, ValidationError
from ..notifications import configuration, messages, routing
from ..notifications.types import TYPES
from ..registry import OMIT, Field, Registry, Relation, Resource
from ..store import notifications as q
from ..store import rbac

STATUS = [("pending", "Pending"), ("successful", "Successful"), ("failed", "Failed")]
_CONFIG_HELP = ("The type's settings (see OPTIONS: one entry per type). Secret settings are stored encrypted and "
                "read back as $encrypted$; sending $encrypted$ keeps the stored value.")
_EMPTY_MESSAGES = {"started": None, "success": None, "error": None, "workflow_approval": None}


def _org_sql(ctx) -> tuple[str, list]:
    """Organizations where the user administers notifications or audits."""
    return rbac.fk_to_objects_with_roles_sql("organization", "organization",
                                             ("notification_admin_role", "auditor_role"), ctx.effective_roles())


def _template_visibility(ctx):
    return _org_sql(ctx)


def _notification_visibility(ctx):
    sql, params = _org_sql(ctx)
    return f'notification_template IN (SELECT id FROM "notification_templates" WHERE {sql})', params


def _can_change(ctx, row: dict) -> bool:
    return access.holds(ctx, "organization", row.get("organization"), "notification_admin_role")


def _validate(ctx, values: dict, existing: dict | None) -> None:
    type_name = values.get("notification_type") or (existing or {}).get("notification_type")
    if existing is not None and values.get("organization") not in (None, existing.get("organization")) \
            and not access.holds(ctx, "organization", values["organization"], "notification_admin_role"):
        raise ValidationError({"organization": ["You do not have permission to use this organization."]})
    if "messages" in values:
        errors = messages.check_messages(values["messages"], configuration.type_of(type_name))
        if errors:
            raise ValidationError({"messages": errors})
    if "notification_configuration" in values or existing is None:
        submitted = values.get("notification_configuration")
        if submitted is None:
            submitted = values["notification_configuration"] = {}
        errors = configuration.check(type_name, submitted, existing is not None)
        if errors:
            raise configuration.validation_error(errors)
    if existing is not None:
        # a kept secret must not follow a changed endpoint (credentials ask for re-entry alike):
        # a Turret hardening, where AWX swaps $encrypted$ back whatever else changes
        errors = configuration.kept_secret_conflicts(type_name, existing.get("notification_type"),
                                                     values.get("notification_configuration"),
                                                     existing.get("notification_configuration"))
        if errors:
            raise ValidationError({"notification_configuration": errors})


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    type_name = str(values.get("notification_type") or (existing or {}).get("notification_type") or "")
    if "notification_configuration" in values:
        values["notification_configuration"] = configuration.prepare(
            ctx.vault, type_name, values["notification_configuration"],
            (existing or {}).get("notification_configuration"))
    if existing is not None and "messages" in values:
        values["messages"] = messages.merge_messages(routing.template_messages(existing), values["messages"])
    return values


# AWX refuses to delete a template while a send of it younger than this is pending
_PENDING_GUARD = timedelta(hours=8)


def _before_delete(ctx, row: dict) -> None:
    """AWX's refusal (405) to delete a template with a pending send under eight hours old."""
    since = (datetime.now(timezone.utc) - _PENDING_GUARD).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if q.has_pending_since(ctx.store, row["id"], since):
        raise APIError({"error": "Delete not allowed while there are pending notifications"}, status=405)


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    return {r["id"]: {"notification_configuration": configuration.mask(r.get("notification_type"),
                                                                        r.get("notification_configuration"))}
            for r in rows}


def _redact(row: dict) -> dict:
    masked = configuration.mask(row.get("notification_type"), row.get("notification_configuration"))
    return {**row, "notification_configuration": json.dumps(masked, separators=(",", ":"))}


def _recent(ctx, rows: list[dict]) -> dict[int, dict]:
    """``summary_fields.recent_notifications``: the template's five newest sends (AWX)."""
    out: dict[int, dict] = {}
    for r in rows:
        recent = ctx.store.page("notifications", "notification_template = ?", [r["id"]], "created DESC, id DESC", 5, 0)
        out[r["id"]] = {"recent_notifications": [{"id": n["id"], "status": n["status"], "created": n["created"],
                                                  "error": n["error"]} for n in recent]}
    return out


# AWX's NotificationSerializer: the types whose records show a subject / a body at all
_NO_SUBJECT = ("webhook", "awssns")
_WITH_BODY = ("email", "webhook", "pagerduty", "awssns")


def _stored_body(raw: Any) -> Any:
    """A record's body as stored (its column holds JSON text of a str or a dict)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _shown_body(ntype: str, body: Any) -> Any:
    """AWX's ``get_body``: for webhook, pagerduty and awssns a dict body with a "body" key
    shows that value, a text body that parses to a JSON object shows the object; otherwise
    the body as stored."""
    if ntype in ("webhook", "pagerduty", "awssns"):
        if isinstance(body, dict):
            if "body" in body:
                return body["body"]
        elif isinstance(body, str):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
    return body


def _notification_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    """A send record as AWX shows it: the body by :func:`_shown_body`; no ``subject`` for
    webhook and awssns, no ``body`` but for email, webhook, pagerduty and awssns."""
    out: dict[int, dict] = {}
    for r in rows:
        ntype = str(r.get("notification_type") or "")
        shown: dict[str, Any] = {"body": _shown_body(ntype, _stored_body(r.get("body")))
                                 if ntype in _WITH_BODY else OMIT}
        if ntype in _NO_SUBJECT:
            shown["subject"] = OMIT
        out[r["id"]] = shown
    return out


def _job_notifications_scope(job_type: str):
    def scope(ctx, parent: dict) -> tuple[str, list]:
        return "job_type = ? AND job = ?", [job_type, parent["id"]]
    scope.__name__ = f"{job_type}_notifications_scope"
    return scope


# AWX's ``notification_attach_roles``: the roles on the owner that allow an attach (any of them);
# owners not named here need only read access to the owner
_ATTACH_ROLES: dict[str, tuple[str, ...]] = {"organization": ("admin_role", "auditor_role"),
                                             "project": ("admin_role",)}


def _attach_rule(owner: str):
    """AWX's rule for (de)attaching a notification template to an ``owner`` (the same both ways):
    change on the template (a notification admin of its organization), and a role of
    :data:`_ATTACH_ROLES` on the owner, else read access to it."""
    roles = _ATTACH_ROLES.get(owner)

    def may_attach(ctx, parent: dict, template: dict) -> bool:
        if not _can_change(ctx, template):
            return False
        if roles is None:
            return access.can_read(ctx, ctx.registry[owner], parent)
        return any(access.holds(ctx, owner, parent["id"], role) for role in roles)
    may_attach.__name__ = f"may_attach_to_{owner}"
    return may_attach


def _attach_relations(owner: str) -> list[Relation]:
    rels = []
    for group in routing.ATTACH_POINTS[owner]:
        table, left, right = routing.attach_table(owner, group)
        rels.append(Relation(f"notification_templates_{group}", "notification_template", "m2m",
                             key=f"{table}:{left}:{right}", may_attach=_attach_rule(owner)))
    return rels


def notification_template_fields() -> list[Field]:
    """The fields of a notification template, types from the registry of types."""
    choices = sorted(((name, t.label) for name, t in TYPES.items()), key=lambda c: c[0])
    return [
        Field("organization", "id", fk="organization", required=True,
              help_text="Organization this notification template belongs to."),
        Field("notification_type", "choice", required=True, default=None, choices=choices),
        Field("notification_configuration", "json", default={}, prevent_search=True, help_text=_CONFIG_HELP,
              options={name: _init_parameters(t) for name, t in sorted(TYPES.items())}),
        Field("messages", "json", null=True, default=_EMPTY_MESSAGES,
              help_text="Optional custom messages for notification template.",
              options={name: t.default_messages for name, t in sorted(TYPES.items())}),
    ]


def _init_parameters(ntype) -> dict[str, dict]:
    """A type's fields as AWX's OPTIONS shows a backend's ``init_parameters``."""
    return {f.name: {"label": f.label, "type": f.kind, **({"default": f.default} if f.default is not None else {})}
            for f in ntype.fields}


def declare(reg: Registry) -> None:
    """Add notification templates and notifications, the attach relations, the job hooks."""
    ro: dict[str, Any] = dict(read_only=True)
    reg.add(Resource(
        name="notification_template", plural="notification_templates",
        fields=notification_template_fields(),
        ordering=("name",), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)), unique_together=(("organization", "name"),),
        relations=[Relation("notifications", "notification", "reverse_fk", key="notification_template",
                            read_only=True)],
        create_role="organization.notification_admin_role", visibility=_template_visibility,
        can_change=_can_change, capabilities=("edit", "delete", "copy"), actions=("test", "copy"),
        validate=_validate, before_save=_before_save, before_delete=_before_delete, compute=_compute,
        redact=_redact, extra_summary=_recent,
    ))
    reg.add(Resource(
        name="notification", plural="notifications", common_fields=False,
        fields=[
            Field("notification_template", "id", fk="notification_template", **ro),
            Field("error", "text", default="", **ro),
            Field("status", "choice", choices=STATUS, default="pending", **ro),
            Field("notifications_sent", "integer", default=0, **ro),
            Field("notification_type", "choice", choices=notification_template_fields()[1].choices,
                  default=None, **ro),
            Field("recipients", "text", default="", **ro),
            Field("subject", "text", default="", **ro),
            Field("body", "json", default="", **ro),
            Field("job_type", "string", null=True, default=None,
                  help_text="Kind of the job this notification is about (null for a test).", **ro),
            Field("job", "integer", null=True, default=None, help_text="Id of the job it is about.", **ro),
            Field("event", "string", default="",
                  help_text="started, success, error; running, approved, timed_out, denied (approvals); test.", **ro),
            Field("attempts", "integer", default=0, help_text="Delivery attempts made so far.", **ro),
            Field("next_attempt", "datetime", null=True, default=None, hidden=True),
            Field("claimed_at", "datetime", null=True, default=None, hidden=True),
            Field("claimed_by", "string", null=True, default=None, hidden=True),
            Field("destination", "string", null=True, default=None, hidden=True),
            Field("sent_at", "datetime", null=True, default=None, hidden=True),
        ],
        ordering=("id",), search_fields=("subject", "notification_type", "body"),
        summary_keys=("id", "status", "notification_type"),
        creatable=False, updatable=False, deletable=False, capabilities=(),
        visibility=_notification_visibility, compute=_notification_compute,
    ))
    org = reg["organization"]
    org.relations.append(Relation("notification_templates", "notification_template", "reverse_fk",
                                  key="organization", create=True, attach=False))
    for owner in routing.ATTACH_POINTS:
        res = reg.get(owner)
        if res is not None:
            res.relations.extend(_attach_relations(owner))
    for kind in reg.unified_jobs():
        reg[kind.resource].relations.append(Relation(
            "notifications", "notification", "derived", read_only=True,
            scope_hook=_job_notifications_scope(kind.resource)))
    reg.job_create_hooks.append(routing.on_job_created)
    reg.job_start_hooks.append(routing.on_job_started)
    reg.job_end_hooks.append(routing.on_job_ended)

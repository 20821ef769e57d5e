"""Who is notified of what: the routing snapshot taken when a job is created, and the send
records its events create.

Contracts:
  * :func:`on_job_created` (a ``job_create_hook``, inside the job's creating transaction) stores
    the job's routing: the notification templates attached to its template, project, source
    and organization, per event group, as AWX's inheritance says.  Attaching or detaching
    later changes what new jobs notify, never what a created job does.  An ad hoc command is
    the exception: AWX routes it by the hosts it ran on, read when each event comes.
  * :func:`on_job_started` / :func:`on_job_ended` (start and end hooks) create one pending send
    record per template and event, rendered now (INSERT OR IGNORE on the unique key: an event
    announced twice records once), then ring the sender's doorbell (:func:`delivery.wake`
    with the context's ``jobs``: in a web worker of ``turret serve`` that also wakes the
    serving parent's sender).  Nothing is sent here: a job's start or end never waits for an
    endpoint.
  * A job created without a snapshot (before this module existed) is routed when its event comes.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from ..store import notifications as q
from ..store import now_iso
from . import configuration, delivery, job_context, messages

log = logging.getLogger("turret.notifications")

GROUPS = ("started", "success", "error")
ENDED = ("successful", "failed", "error", "canceled")
APPROVALS = "approvals"
# resources that notification templates attach to, and the event groups each offers
ATTACH_POINTS: dict[str, tuple[str, ...]] = {
    "organization": (*GROUPS, APPROVALS), "job_template": GROUPS, "project": GROUPS,
    "inventory_source": GROUPS, "workflow_job_template": (*GROUPS, APPROVALS),
}


# kinds routed when each event comes, never snapshot: an ad hoc command's routing follows the
# hosts it ran on (AWX reads them at each send)
_LIVE_ROUTES = ("ad_hoc_command",)


def attach_table(owner: str, group: str) -> tuple[str, str, str]:
    """(table, owner column, template column) of the association of ``owner`` resources with the
    notification templates of event group ``group``."""
    return f"{owner}_notification_templates_{group}", f"{owner}_id", "notification_template_id"


def _owners(ctx, job_type: str, row: dict) -> list[tuple[str, Any]]:
    """(resource, id) of everything whose attached templates a job of ``job_type`` inherits
    (AWX: template ∪ project ∪ organization; updates: source/project ∪ organization; workflow
    jobs and their approvals: workflow job template ∪ organization; ad hoc commands: the
    organizations of the hosts it has events of, as AWX's, so none before it ran on a host)."""
    store = ctx.store
    if job_type == "job":
        jt = store.get("job_templates", row["job_template"]) if row.get("job_template") else None
        org = row.get("organization") or (jt or {}).get("organization")
        return [("job_template", row.get("job_template")), ("project", row.get("project")), ("organization", org)]
    if job_type == "project_update":
        project = store.get("projects", row["project"]) if row.get("project") else None
        return [("project", row.get("project")), ("organization", (project or {}).get("organization"))]
    if job_type == "inventory_update":
        source = store.get("inventory_sources", row["inventory_source"]) if row.get("inventory_source") else None
        inventory = store.get("inventories", source["inventory"]) if source and source.get("inventory") else None
        return [("inventory_source", row.get("inventory_source")),
                ("organization", (inventory or {}).get("organization"))]
    if job_type == "ad_hoc_command":
        return [("organization", org) for org in q.ad_hoc_host_organizations(store, row["id"])]
    if job_type in ("workflow_job", "workflow_approval"):
        wj = row if job_type == "workflow_job" else _workflow_job_row(ctx, row)
        wfjt_id = (wj or {}).get("workflow_job_template")
        wfjt = store.get("workflow_job_templates", wfjt_id) if wfjt_id else None
        return [("workflow_job_template", wfjt_id), ("organization", (wfjt or {}).get("organization"))]
    return []


def _workflow_job_row(ctx, approval: dict) -> dict | None:
    pk = q.workflow_job_of_approval(ctx.store, approval)
    return ctx.store.get("workflow_jobs", pk) if pk else None


def compute_routes(ctx, job_type: str, row: dict) -> dict[str, list[int]]:
    """The templates a job notifies, per event group (approvals: only the approvals group)."""
    groups: tuple[str, ...] = GROUPS
    if job_type == "workflow_approval":
        groups = (APPROVALS,)
    elif job_type == "workflow_job":
        groups = (*GROUPS, APPROVALS)
    routes: dict[str, list[int]] = {}
    owners = _owners(ctx, job_type, row)
    for group in groups:
        found: set[int] = set()
        for owner, pk in owners:
            if pk is not None and group in ATTACH_POINTS.get(owner, ()) and ctx.registry.get(owner):
                table, column, _ = attach_table(owner, group)
                found.update(q.attached_templates(ctx.store, table, column, [pk]))
        routes[group] = sorted(found)
    return routes


def on_job_created(ctx, job_type: str, pk: int) -> None:
    """``job_create_hook``: snapshot the job's routing (in the creating transaction).  A job
    created already ended (a launch that could not start) has its end recorded here, as no
    worker will ever announce it, when a workflow node launched it; a schedule's such launch
    notifies nobody (AWX: its task manager sends ``failed`` for the workflow node, the
    scheduler nothing)."""
    row = ctx.store.get(ctx.registry[job_type].table, pk)
    if row is None or job_type in _LIVE_ROUTES:
        return
    q.save_routing(ctx.store, job_type, pk, compute_routes(ctx, job_type, row))
    if row.get("status") in ENDED and job_type != "workflow_approval" and row.get("launch_type") != "scheduled":
        _record_event(ctx, job_type, pk, started=False)


def _routes(ctx, job_type: str, row: dict) -> dict[str, list[int]]:
    if job_type in _LIVE_ROUTES:
        return compute_routes(ctx, job_type, row)
    routes = q.routing_of(ctx.store, job_type, row["id"])
    if routes is None:
        routes = compute_routes(ctx, job_type, row)
        q.save_routing(ctx.store, job_type, row["id"], routes)
    return routes


def approval_event(row: dict, started: bool = False) -> str:
    """The approval sub-event of an approval row's state: running, approved, timed_out, denied
    ("" for an end that is none of them, e.g. canceled with its workflow)."""
    if started:
        return "running"
    if row.get("timed_out"):
        return "timed_out"
    return {"successful": "approved", "failed": "denied"}.get(row.get("status") or "", "")


def on_job_started(ctx, job_type: str, pk: int) -> None:
    """``job_start_hook``: record the ``started`` sends (an approval: its ``running`` sub-event)."""
    _record_event(ctx, job_type, pk, started=True)


def on_job_ended(ctx, job_type: str, pk: int) -> None:
    """``job_end_hook``: record the ``success`` sends of a successful job, the ``error`` sends of
    any other end (failed, error, canceled while running, reaped); an approval's sub-event.  A
    job canceled before it started sends nothing (AWX: only a job's run, or the task manager
    failing it, notifies; cancelling a pending job only sets its status)."""
    row = ctx.store.get(ctx.registry[job_type].table, pk)
    if row is not None and row.get("status") == "canceled" and not row.get("started") \
            and job_type != "workflow_approval":
        return
    _record_event(ctx, job_type, pk, started=False)


def _record_event(ctx, job_type: str, pk: int, started: bool) -> None:
    row = ctx.store.get(ctx.registry[job_type].table, pk)
    if row is None:
        return
    if job_type == "workflow_approval":
        sub = approval_event(row, started)
        if not sub:
            return
        group, event, tmpl_event = APPROVALS, sub, "workflow_approval"
    else:
        group = "started" if started else ("success" if row.get("status") == "successful" else "error")
        event, tmpl_event, sub = group, group, ""
    template_ids = _routes(ctx, job_type, row).get(group) or []
    if not template_ids:
        return
    context = job_context.build(ctx, job_type, row, approval_status=sub)
    created = 0
    with ctx.store.transaction():
        for tid in template_ids:
            template = ctx.store.get("notification_templates", tid)
            if template is not None:
                ntype = configuration.type_of(template["notification_type"])
                subject, body = messages.render(template_messages(template), ntype, tmpl_event, context, sub)
                created += record(ctx, template, subject, body, job_type, pk, event) is not None
    if created:
        delivery.wake(ctx.jobs)


def template_messages(template: dict) -> Any:
    """A template row's ``messages`` as data."""
    value = template.get("messages")
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            return None
    return value


def record(ctx, template: dict, subject: str, body: Any, job_type: str | None, job_id: int | None,
           event: str) -> int | None:
    """Insert one pending send record (None when this template, job and event has one)."""
    now = now_iso()
    return q.insert_pending(ctx.store, {
        "notification_template": template["id"], "status": "pending", "error": "", "notifications_sent": 0,
        "notification_type": template["notification_type"],
        "recipients": configuration.recipients(template["notification_type"], template["notification_configuration"]),
        "subject": subject, "body": json.dumps(body), "job_type": job_type, "job": job_id, "event": event,
        "attempts": 0,
        "next_attempt": now, "created": now, "modified": now,
    })


def test_message(ctx, template: dict) -> tuple[str, Any]:
    """AWX's test message of a template: (subject, body)."""
    base = job_context.url_base(ctx.settings)
    subject = f"Notification Test {template['id']} {base}"
    text = f"Test Notification {template['id']} {base}"
    ntype = configuration.type_of(template["notification_type"])
    if ntype is not None and ntype.body_is_json:
        return subject, json.dumps({"body": text})   # AWX's webhook test: that JSON text
    return subject, text


def send_test(ctx, template: dict) -> int:
    """Record a test send of ``template`` (no job; each test is a new record) and ring the
    sender's doorbell; returns the record's id."""
    subject, body = test_message(ctx, template)
    with ctx.store.transaction():
        pk = record(ctx, template, subject, body, None, None, "test")
    delivery.wake(ctx.jobs)
    assert pk is not None   # test records have no job: the unique key never matches another
    return pk

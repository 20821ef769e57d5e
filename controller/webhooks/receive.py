"""One webhook delivery, from the raw request to a queued job: verify, parse, filter,
de-duplicate, rate-limit, launch, record.

Contracts:
  * Answers (``Reply``): 403 unknown object, wrong service or no key; 401 no signature or
    token, 403 a wrong one (no job either way); 400 a body that is no JSON object or a launch the
    template refuses; 200 ``{"message": "Webhook ignored", "reason"}`` (a ping, a filtered event
    or ref, a project without ``scm_update_on_push``); 202 ``{"message": "Webhook previously
    received, aborting."}`` for a GUID already launched (no second job); 429 with
    ``Retry-After`` past ``WEBHOOK_RATE_LIMIT`` launches a minute; 202 ``{"message": "Job
    queued.", "job", "type"}``.  The body limit (413) is the web layer's.
  * The duplicate check, the rate limit and the launch share one write transaction: two
    deliveries of one GUID racing each other launch once.
  * The payload becomes the job's runtime extra vars (AWX's ``awx_``/``tower_webhook_*`` and the
    generic receiver's extractors), bypassing ``ask_variables_on_launch`` as AWX does; the
    executor writes runtime vars ``!unsafe``, so Jinja in a payload is never rendered.
  * Every delivery to an existing object is one activity-stream entry (``object_association``
    "webhook") with service, event, GUID, ref, result, reason, job, client and size: never the
    key, a signature or the payload.  Unauthenticated rejections are recorded at most
    ``REJECTED_RECORDS_PER_MINUTE`` per object and clock minute, counted in the database so the
    cap holds across every process of ``turret serve``; the rest are only logged (once a minute).
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs

from ..errors import APIError
from ..jobs import launch, project_update
from ..notifications import delivery as notifications
from ..services import activity, surveys
from ..services.bootstrap import acting_as_system
from ..services.validation import load_json
from ..store import webhook_rejections as rejections
from ..store import webhooks as sql
from ..workflows import engine
from . import status, verify
from .fields import extractors_of, stored_key

log = logging.getLogger("turret.webhooks")

PREFIXES = ("awx", "tower")      # AWX's JOB_VARIABLE_PREFIXES
# receiving resource -> (kind of job it starts, tables a delivery GUID is looked up in)
TARGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "job_template": ("job", ("jobs", "workflow_jobs")),
    "workflow_job_template": ("workflow_job", ("jobs", "workflow_jobs")),
    "project": ("project_update", ("project_updates",)),
}
IGNORED = "Webhook ignored"
DUPLICATE = "Webhook previously received, aborting."
NOT_ACCEPTED = "This object does not accept webhooks of this service."


@dataclass
class Delivery:
    """What the web layer hands over: the service named by the URL and the raw request."""

    service: str                    # github | gitlab | bitbucket_dc | generic
    headers: Mapping[str, str]         # keyed by lower-case names
    body: bytes
    content_type: str = ""
    client: str = ""


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


def _parse(delivery: Delivery) -> Any:
    """The JSON object delivered (GitHub may send it form-encoded as ``payload=``)."""
    body = delivery.body
    if delivery.content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8"), max_num_fields=10).get("payload")
        body = values[0].encode("utf-8") if values else b""
    if not body.strip():
        return {}
    value = load_json(body)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


# Unauthenticated rejections recorded per object and clock minute, across every process of the
# controller (counted in the database): a flood of forged deliveries must not grow the activity
# stream without bound; the rest are only counted in the log.
REJECTED_RECORDS_PER_MINUTE = 30
clock: Callable[[], float] = time.time      # the wall clock the minutes are cut from
# (resource, id) -> the minute this process found full: its further rejections of that minute
# cost no database write at all, so a flood past the cap is as cheap as it ever was
_full: dict[tuple[str, int], int] = {}
_full_lock = threading.Lock()


def _record_rejection(ctx, res, row: dict, entry: dict) -> None:
    """Record a rejection's activity entry unless REJECTED_RECORDS_PER_MINUTE of this object
    were recorded this minute by any process.  Under the cap the count and the entry are one
    write transaction (as the entry alone was); past it, one count per process and minute, then
    nothing but memory.  The first rejection past the cap (of all processes) is logged."""
    minute, key = int(clock() // 60), (res.name, row["id"])
    if _full.get(key) == minute:
        return
    with ctx.store.transaction():
        seen = rejections.count(ctx.store, res.name, row["id"], minute)
        if seen <= REJECTED_RECORDS_PER_MINUTE:
            activity.record(ctx, "update", res, row, changes={"webhook": entry}, association="webhook")
            return
    if seen == REJECTED_RECORDS_PER_MINUTE + 1:
        log.warning("webhook: more than %d rejected deliveries a minute to %s %s; not recording them all",
                    REJECTED_RECORDS_PER_MINUTE, res.name, row["id"])
    with _full_lock:
        for stale in [k for k, m in _full.items() if m < minute]:   # bounded: objects under fire now
            del _full[stale]
        _full[key] = minute


def _record(ctx, res, row: dict, delivery: Delivery, result: str, **facts: Any) -> None:
    """One activity entry for the delivery (short facts only: no key, signature or payload);
    unauthenticated rejections at most REJECTED_RECORDS_PER_MINUTE a minute per object."""
    entry = {"service": delivery.service, "result": result, "client": delivery.client[:64],
             "bytes": len(delivery.body)}
    entry.update({k: (v[:200] if isinstance(v, str) else v) for k, v in facts.items() if v not in (None, "")})
    if result == "rejected":
        _record_rejection(ctx, res, row, entry)
        return
    activity.record(ctx, "update", res, row, changes={"webhook": entry}, association="webhook")


def receive(ctx, resource: str, pk: int | None, delivery: Delivery) -> Reply:
    """Handle one delivery to ``/<resource>/<pk>/<delivery.service>/`` (module docstring)."""
    res = ctx.registry[resource]
    row = ctx.store.get(res.table, pk) if pk is not None else None
    if row is None:
        return Reply(403, {"detail": NOT_ACCEPTED})
    if delivery.service != "generic" and row.get("webhook_service") != delivery.service:
        _record(ctx, res, row, delivery, "rejected", reason=f"webhook_service is not {delivery.service}")
        return Reply(403, {"detail": NOT_ACCEPTED})
    event = verify.event_type(delivery.service, delivery.headers)
    proof = verify.check_proof(delivery.service, stored_key(ctx, row), delivery.headers, delivery.body, event)
    if not proof.ok:
        _record(ctx, res, row, delivery, "rejected", event=event, reason=proof.reason)
        detail = "Authentication credentials were not provided." if proof.status == 401 else \
            "You do not have permission to perform this action."
        headers = {"WWW-Authenticate": 'Signature realm="webhook"'} if proof.status == 401 else {}
        return Reply(proof.status, {"detail": detail}, headers)
    try:
        payload = _parse(delivery)
    except ValueError as exc:          # JSON, UTF-8 and depth errors alike
        _record(ctx, res, row, delivery, "rejected", event=event, reason="body is not a JSON object")
        return Reply(400, {"detail": f"JSON parse error - {str(exc)[:200]}"})
    guid = verify.event_guid(delivery.service, delivery.headers, delivery.body)
    branch = verify.branch_ref(delivery.service, event, payload)
    reason = _ignored(delivery.service, resource, row, event, branch)
    facts = dict(event=event, guid=guid, ref=branch)
    if reason:
        _record(ctx, res, row, delivery, "ignored", reason=reason, **facts)
        return Reply(200, {"message": IGNORED, "reason": reason})
    return _launch(ctx, res, row, delivery, payload, facts)


def _ignored(service: str, resource: str, row: dict, event: str, branch: str) -> str:
    reason = verify.ignored_reason(service, event, row.get("webhook_events") or "",
                                   row.get("webhook_ref_filter") or "", branch)
    if reason or resource != "project":
        return reason
    if not row.get("scm_type"):
        return "the project is not under source control"
    if not row.get("scm_update_on_push"):
        return "scm_update_on_push is off"
    if event not in verify.PUSH_EVENTS.get(service, ()):
        return f"event {event or '(none)'} is not a push"
    return ""


def _retry_after(ctx, table: str, pk: int) -> int:
    """Seconds until the template may launch again (0: now), per ``WEBHOOK_RATE_LIMIT``."""
    limit = int(getattr(ctx.settings, "WEBHOOK_RATE_LIMIT", 0) or 0)
    if limit <= 0:
        return 0
    now = datetime.now(timezone.utc)
    since = (now - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    recent = sql.webhook_launches_since(ctx.store, table, pk, since, limit)
    if len(recent) < limit:
        return 0
    oldest = datetime.strptime(recent[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return max(1, math.ceil(60 - (now - oldest).total_seconds()))


def webhook_vars(service: str, event: str, guid: str, ref: Any, status_api: str | None, payload: Any,
                 extractors: dict) -> dict:
    """AWX's extra vars of a webhook launch (both prefixes), after the generic receiver's
    extracted ones."""
    out = {name: verify.lookup(payload, path) for name, path in extractors.items()} if service == "generic" else {}
    for prefix in PREFIXES:
        out.update({f"{prefix}_webhook_event_type": event, f"{prefix}_webhook_event_guid": guid,
                    f"{prefix}_webhook_event_ref": ref, f"{prefix}_webhook_status_api": status_api,
                    f"{prefix}_webhook_payload": payload})
    return out


def _launch(ctx, res, row: dict, delivery: Delivery, payload: Any, facts: dict) -> Reply:
    kind, tables = TARGETS[res.name]
    table = ctx.registry[kind].table
    service, guid = delivery.service, facts["guid"]
    job_service = "generic" if service == "generic" else row.get("webhook_service") or service
    # as the system: a verified delivery launches as the template's webhook, not as a user
    # (AWX's receivers authenticate nobody); without the job workers, as a wake-up from inside
    # the launch's transaction would find nothing committed yet (they are woken after it)
    system = acting_as_system(ctx, jobs=None)
    try:
        with ctx.store.transaction():
            if sql.previously_received(ctx.store, tables, row["id"], "" if kind == "project_update" else job_service,
                                       guid):
                _record(ctx, res, row, delivery, "duplicate", **facts)
                return Reply(202, {"message": DUPLICATE})
            wait = _retry_after(ctx, table, row["id"])
            if wait:
                _record(ctx, res, row, delivery, "rate limited", **facts)
                return Reply(429, {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                             {"Retry-After": str(wait)})
            job = _start(system, res.name, row, delivery, payload, job_service, facts)
            _record(ctx, res, row, delivery, "launched", job=job["id"], **facts)
    except APIError as exc:            # the template cannot launch (inventory, passwords ...)
        _record(ctx, res, row, delivery, "refused", reason=json.dumps(exc.body)[:200], **facts)
        return Reply(exc.status, exc.body if isinstance(exc.body, dict) else {"detail": str(exc.body)})
    if ctx.jobs is not None:
        ctx.jobs.notify()              # once committed, so the woken worker finds the job
    status.wake(ctx.jobs)              # its creation's status post is recorded: the job process sends it
    if kind == "workflow_job":         # it started here: its "started" sends are recorded, committed
        notifications.wake(ctx.jobs)
    return Reply(202, {"message": "Job queued.", "job": job["id"], "type": kind})


def _add_survey_defaults(system, row: dict, body: dict) -> None:
    """A webhook answers no survey: the template's survey defaults apply, as AWX does (under the
    webhook's vars; password defaults as secret vars, shown ``$encrypted$``)."""
    if not row.get("survey_enabled"):
        return
    body["extra_vars"], body["secret_vars"] = surveys.answer(surveys.stored_spec(row), body["extra_vars"],
                                                             system.vault.decrypt, validate=False)


def _start(system, resource: str, row: dict, delivery: Delivery, payload: Any, job_service: str,
           facts: dict) -> dict:
    service, event, guid = delivery.service, facts["event"], facts["guid"]
    if resource == "project":
        return project_update.start_update(system, row, launch_type="webhook", extra_fields={"webhook_guid": guid})
    ref = verify.event_ref(service, event, payload) if service != "generic" else None
    status_api = verify.status_api(service, event, payload, ref) if service != "generic" else None
    body = {"extra_vars": webhook_vars(service, event, guid, ref, status_api, payload, extractors_of(row))}
    _add_survey_defaults(system, row, body)
    extra = {"launch_type": "webhook", "webhook_service": job_service, "webhook_guid": guid,
             "webhook_credential": row.get("webhook_credential") if service != "generic" else None,
             "webhook_status_context": {"service": job_service, "status_api": status_api or "", "ref": ref,
                                        "branch": facts["ref"], "event": event, "guid": guid}}
    if resource == "workflow_job_template":
        job, _ignored = engine.launch_workflow(system, row, body, launch_type="webhook", trusted=True,
                                               extra_fields=extra)
    else:
        job, _ignored = launch.launch_job(system, row, body, launch_type="webhook", trusted=True, extra_fields=extra)
    return job

"""Action views of job templates and jobs: launch, relaunch, and the live output stream."""
from __future__ import annotations

import json
import time

from flask import Response, request, stream_with_context

from ..errors import MethodNotAllowed
from ..jobs import launch as launching
from ..query import parse_int64
from ..services.serializer import serialize_one
from ..store import jobs as q
from .actions import action
from .web import json_response, parse_body

_ALLOW = {"Allow": "GET, POST, HEAD, OPTIONS"}
_LAUNCH_FIELDS = {
    "extra_vars": ("json", "Extra vars"), "inventory": ("id", "Inventory"), "scm_branch": ("string", "Scm branch"),
    "limit": ("string", "Limit"), "job_tags": ("string", "Job tags"), "skip_tags": ("string", "Skip tags"),
    "job_type": ("choice", "Job type"), "verbosity": ("choice", "Verbosity"), "diff_mode": ("boolean", "Diff mode"),
    "credentials": ("list_of_ids", "Credentials"), "credential_passwords": ("json", "Credential passwords"),
    "execution_environment": ("id", "Execution environment"), "labels": ("list_of_ids", "Labels"),
    "forks": ("integer", "Forks"), "job_slice_count": ("integer", "Job slice count"),
    "timeout": ("integer", "Timeout"), "instance_groups": ("list_of_ids", "Instance groups"),
}


def _launch_post_fields(ctx, res) -> dict:
    out = {}
    for name, (kind, label) in _LAUNCH_FIELDS.items():
        info = {"type": kind, "required": False, "hidden": False, "label": label, "filterable": False}
        field = ctx.registry["job_template"].field(name)
        if kind == "choice" and field is not None and field.choices:
            info["choices"] = [[v, lab] for v, lab in field.choices]
        if kind == "integer":
            info["min_value"] = 0
        out[name] = info
    return out


@action("launch", resource="job_template")
def launch_view(ctx, res, row) -> Response:
    if request.method in ("GET", "HEAD"):
        return json_response(launching.launch_info(ctx, row), headers=_ALLOW)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    job, ignored = launching.launch_job(ctx, row, parse_body())
    body = {"job": job["id"], "ignored_fields": ignored, **serialize_one(ctx, ctx.registry["job"], job, mode="object")}
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})


launch_view.post_fields = _launch_post_fields  # type: ignore[attr-defined]


@action("relaunch", resource="job")
def relaunch_view(ctx, res, row) -> Response:
    if request.method in ("GET", "HEAD"):
        counts = q.retry_counts(ctx.store, row["id"])
        active = row["status"] in ("new", "pending", "waiting", "running")
        return json_response({"passwords_needed_to_start": launching._passwords_needed(
            ctx, q.job_credential_ids(ctx.store, row["id"])),
            "retry_counts": "Wait until job finishes before retrying on failed hosts." if active else counts},
            headers=_ALLOW)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    job, _ignored = launching.relaunch(ctx, row, parse_body())
    body = {"job": job["id"], **serialize_one(ctx, ctx.registry["job"], job, mode="object")}
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})


@action("events_stream", resource="job", methods=("GET",))
def events_stream_view(ctx, res, row) -> Response:
    """Server-Sent Events: every stored event of the job as it arrives, then ``end``.
    ``Last-Event-ID`` (a counter) resumes after a reconnect."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    store = ctx.store
    start = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        cursor = max(parse_int64(start), 0)
    except ValueError:       # not a counter we could have sent: replay from the start
        cursor = 0
    pk = row["id"]

    def generate():
        nonlocal cursor
        idle = 0.0
        while True:
            rows = q.events_after(store, "job_events", "job", pk, cursor, 500)
            for ev in rows:
                cursor = ev["counter"]
                data = {k: ev[k] for k in ("id", "counter", "event", "start_line", "end_line", "stdout",
                                           "host_name", "task", "failed", "changed")}
                yield f"id: {cursor}\nevent: job_event\ndata: {json.dumps(data)}\n\n"
            state = q.job_state(store, "jobs", pk)
            if not rows:
                if state is None or (state["event_processing_finished"] and state["status"] in
                                     ("successful", "failed", "error", "canceled")):
                    yield f"event: end\ndata: {json.dumps({'status': state['status'] if state else None})}\n\n"
                    return
                time.sleep(0.25)
                idle += 0.25
                if idle >= 15:       # keep proxies and browsers from closing an idle stream
                    idle = 0.0
                    yield ": keep-alive\n\n"
            else:
                idle = 0.0

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@action("relaunch", resource="ad_hoc_command")
def adhoc_relaunch_view(ctx, res, row) -> Response:
    """A new ad hoc command with the same module, arguments, inventory and options."""
    from ..services import crud
    if request.method in ("GET", "HEAD"):
        return json_response({"passwords_needed_to_start": []}, headers=_ALLOW)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    copy = {f.name: row.get(f.name) for f in res.fields if f.writable}
    new = crud.create(ctx, res, copy)
    crud_row = ctx.store.get(res.table, new["id"])
    ctx.store.update(res.table, new["id"], {"launch_type": "relaunch"})
    body = {"ad_hoc_command": new["id"], **serialize_one(ctx, res, {**crud_row, "launch_type": "relaunch"})}
    return json_response(body, 201, {**_ALLOW, "Location": body["url"]})

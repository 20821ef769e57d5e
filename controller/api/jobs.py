"""Action views of job templates and jobs: launch, relaunch, and the live output stream
(registered on the action table when the app factory imports this module)."""
from __future__ import annotations

from flask import Response, request

from ..jobs import launch as launching
from ..jobs import relaunch as relaunching
from ..prompts import PROMPTS, Prompt
from ..query import parse_int64
from ..services import stdout
from ..services.serializer import serialize_one
from .actions import ALLOW, action, created, reading
from .web import json_response, parse_body

# Not a prompt (no ask flag): what the credentials ask for at launch.  AWX lists it after credentials.
_PASSWORDS_FIELD = {"type": "json", "required": False, "hidden": False, "label": "Credential passwords",
                    "help_text": "The passwords the credentials ask for on launch, by name (ssh_password, "
                                 "become_password, ssh_key_unlock, vault_password or vault_password.<vault id>).",
                    "filterable": False}


def launch_field(ctx, prompt: Prompt) -> dict:
    """One prompt's launch OPTIONS entry (of a job or a workflow template); choices are the job
    template field's own."""
    info = {"type": prompt.options_type, "required": False, "hidden": False, "label": prompt.options_label,
            "help_text": prompt.launch_help, "filterable": False}
    field = ctx.registry["job_template"].field(prompt.key)
    if prompt.kind == "choice" and field is not None and field.choices:
        info["choices"] = [[v, lab] for v, lab in field.choices]
    if prompt.kind == "integer":
        info["min_value"] = 0
    return info


def _launch_post_fields(ctx, res) -> dict:
    """The POST section of the launch OPTIONS: every prompt, in the table's (AWX's) order."""
    out = {}
    for prompt in PROMPTS:
        out[prompt.key] = launch_field(ctx, prompt)
        if prompt.key == "credentials":
            out["credential_passwords"] = dict(_PASSWORDS_FIELD)
    return out


@action("launch", resource="job_template")
def launch_view(ctx, res, row) -> Response:
    if reading():
        return json_response(launching.launch_info(ctx, row), headers=ALLOW)
    job, ignored = launching.launch_job(ctx, row, parse_body())
    return created({"job": job["id"], "ignored_fields": ignored,
                    **serialize_one(ctx, ctx.registry["job"], job, mode="object")})


launch_view.post_fields = _launch_post_fields  # type: ignore[attr-defined]


@action("relaunch", resource="job")
def relaunch_view(ctx, res, row) -> Response:
    if reading():
        return json_response(relaunching.relaunch_info(ctx, row), headers=ALLOW)
    job, _ignored = relaunching.relaunch(ctx, row, parse_body)    # read after the access check
    return created({"job": job["id"], **serialize_one(ctx, ctx.registry["job"], job, mode="object")})


@action("events_stream", methods=("GET",))
def events_stream_view(ctx, res, row) -> Response:
    """Server-Sent Events: every stored event of the job as it arrives, then ``end``.
    ``Last-Event-ID`` (a counter) resumes after a reconnect; any other text replays from the start."""
    try:
        cursor = max(parse_int64(request.headers.get("Last-Event-ID") or request.args.get("after") or "0"), 0)
    except ValueError:
        cursor = 0
    # no stream_with_context: the stream needs only the store, and a server may iterate it on
    # another thread than the one that called the app (controller.api.rsgi)
    return Response(stdout.event_stream(ctx.store, res, row["id"], cursor),
                    mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@action("relaunch", resource="ad_hoc_command")
def adhoc_relaunch_view(ctx, res, row) -> Response:
    """A new ad hoc command with the same module, arguments, inventory and options."""
    if reading():
        return json_response({"passwords_needed_to_start": []}, headers=ALLOW)
    new = relaunching.relaunch_adhoc(ctx, row)
    return created({"ad_hoc_command": new["id"], **serialize_one(ctx, res, new)})

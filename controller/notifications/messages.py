"""Message templates of notifications, as AWX's: validated on save, rendered per send.

Contracts:
  * :func:`check_messages` returns AWX's error list for a ``messages`` value (structure, subject
    without newline, every template renders in a sandbox with StrictUndefined against
    :data:`CONTEXT_STUB`; a webhook body is rendered once more, AWX's second check, which
    never asks it to be a JSON object: AWX's is disabled).
  * :func:`render` never raises: a template that fails at send time renders AWX's error text
    (jobs) or ``""`` (approvals).  Bodies are the rendered text for every type, as AWX stores
    them (the webhook sender reads a JSON object out of it, see ``channels.webhook``).
  * Templates render in Jinja's ``ImmutableSandboxedEnvironment``: no attribute of a Python
    object beyond plain data, no mutation, no import.
"""
from __future__ import annotations

import json
import traceback
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .types import NotificationType

EVENTS = ("started", "success", "error", "workflow_approval")
APPROVAL_EVENTS = ("running", "approved", "timed_out", "denied")

# AWX's defaults (CustomNotificationBase), used when a type declares none for an event
DEFAULT_MSG = "{{ job_friendly_name }} #{{ job.id }} '{{ job.name }}' {{ job.status }}: {{ url }}"
DEFAULT_BODY = ("{{ job_friendly_name }} #{{ job.id }} had status {{ job.status }}, view details at {{ url }}\n\n"
                "{{ job_metadata }}")
_APPROVAL_TEXT = {
    "running": 'The approval node "{{ approval_node_name }}" needs review. This node can be viewed at: '
               "{{ workflow_url }}",
    "approved": 'The approval node "{{ approval_node_name }}" was approved. {{ workflow_url }}',
    "timed_out": 'The approval node "{{ approval_node_name }}" has timed out. {{ workflow_url }}',
    "denied": 'The approval node "{{ approval_node_name }}" was denied. {{ workflow_url }}',
}
FALLBACK_MESSAGES: dict[str, Any] = {
    **{event: {"message": DEFAULT_MSG, "body": DEFAULT_BODY} for event in ("started", "success", "error")},
    "workflow_approval": {sub: {"message": text, "body": text + "\n\n{{ job_metadata }}"}
                          for sub, text in _APPROVAL_TEXT.items()},
}
BLANK_BODY = "\r\n".join(["The template rendering return a blank body.", "Please check the template.",
                          "Refer to https://github.com/ansible/awx/issues/13983", "for further information."])

# What a message may use, with sample values: AWX's context stub (validation renders against it).
CONTEXT_STUB: dict[str, Any] = {
    "job": {
        "allow_simultaneous": False, "artifacts": {}, "controller_node": "foo_controller",
        "created": "2018-11-13T06:04:00Z", "custom_virtualenv": "my_venv", "description": "Sample job description",
        "diff_mode": False, "elapsed": 0.403018, "execution_node": "turret", "failed": False, "finished": False,
        "force_handlers": False, "forks": 0,
        "host_status_counts": {"skipped": 1, "ok": 5, "changed": 3, "failures": 0, "dark": 0, "failed": False,
                               "processed": 0, "rescued": 0, "ignored": 0},
        "id": 42, "job_explanation": "Sample job explanation", "job_slice_count": 1, "job_slice_number": 0,
        "job_tags": "", "job_type": "run", "launch_type": "workflow", "limit": "bar_limit",
        "modified": "2018-12-13T06:04:00Z", "name": "Stub JobTemplate", "playbook": "ping.yml", "scm_branch": "",
        "scm_revision": "", "skip_tags": "", "start_at_task": "", "started": "2019-07-29T17:38:14.137461Z",
        "status": "running",
        "summary_fields": {
            "created_by": {"first_name": "", "id": 1, "last_name": "", "username": "admin"},
            "instance_group": {"id": 1, "name": "default"},
            "inventory": {"description": "Sample inventory description", "has_active_failures": False,
                          "has_inventory_sources": False, "hosts_with_active_failures": 0, "id": 17,
                          "inventory_sources_with_failures": 0, "kind": "", "name": "Stub Inventory",
                          "organization_id": 121, "total_groups": 0, "total_hosts": 1,
                          "total_inventory_sources": 0},
            "job_template": {"description": "Sample job template description", "id": 39, "name": "Stub JobTemplate"},
            "labels": {"count": 0, "results": []},
            "project": {"description": "Sample project description", "id": 38, "name": "Stub project",
                        "scm_type": "git", "status": "successful"},
            "schedule": {"description": "Sample schedule", "id": 42, "name": "Stub schedule",
                         "next_run": "2038-01-01T00:00:00Z"},
            "unified_job_template": {"description": "Sample unified job template description", "id": 39,
                                     "name": "Stub Job Template", "unified_job_type": "job"},
        },
        "timeout": 0, "type": "job", "url": "/api/v2/jobs/13/", "use_fact_cache": False, "verbosity": 0,
    },
    "job_friendly_name": "Job",
    "url": "https://turret.example.com/ui/jobs/1010",
    "approval_status": "approved",
    "approval_node_name": "Approve Me",
    "approval_url": "https://turret.example.com/api/v2/workflow_approvals/1011/",
    "workflow_url": "https://turret.example.com/ui/workflow_jobs/1010",
    "job_metadata": json.dumps({"id": 42, "name": "Stub Job Template", "url": "https://turret.example.com/ui/jobs/13",
                                "created_by": "admin", "started": "2019-08-07T21:46:38.362630+00:00",
                                "finished": False, "status": "running", "traceback": "", "friendly_name": "Job",
                                "inventory": "Stub Inventory", "project": "Stub project", "playbook": "ping.yml",
                                "credential": "Stub credential", "limit": "", "extra_vars": {}, "hosts": {}},
                               indent=4),
}


class _DescriptiveUndefined(StrictUndefined):
    """StrictUndefined that fails even when printed, naming the missing field (AWX's
    DescriptiveUndefined: "Field 'x' unavailable")."""

    __repr__ = __str__ = StrictUndefined._fail_with_undefined_error

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._undefined_hint = self._undefined_name


def _collect(messages: dict, errors: list[str], event: str) -> list[str]:
    """The message/body strings of one event's ``{"message", "body"}`` dict (errors appended)."""
    out = []
    for kind, text in messages.items():
        if kind not in ("message", "body"):
            errors.append(f"Message type '{kind}' invalid, must be either 'message' or 'body'")
            continue
        if text is None:
            continue
        if not isinstance(text, str):
            errors.append(f"Expected string for '{kind}', found {type(text)}, ")
            continue
        if kind == "message" and "\n" in text:
            errors.append(f"Messages cannot contain newlines (found newline in {event} event)")
            continue
        out.append(text)
    return out


def _entry(value: Any, errors: list[str], known: bool, invalid: str, what: str) -> dict | None:
    """An event's (or approval sub-event's) value as a dict, else None: with AWX's ``invalid``
    error when the name is not ``known``, silently when nothing is given (None), with AWX's
    type error for any other non-dict."""
    if not known:
        errors.append(invalid)
        return None
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(f"Expected dict for {what}, found {type(value)}")
        return None
    return value


def _structure(messages: Any, errors: list[str]) -> list[str]:
    """AWX's structural checks; returns every template string to test-render."""
    if not isinstance(messages, dict):
        errors.append(f"Expected dict for 'messages' field, found {type(messages)}")
        return []
    texts: list[str] = []
    for event, value in messages.items():
        entry = _entry(value, errors, event in EVENTS, f"Event '{event}' invalid, must be one of 'started', "
                       "'success', 'error', or 'workflow_approval'", f"event '{event}'")
        if entry is None:
            continue
        if event != "workflow_approval":
            texts += _collect(entry, errors, event)
            continue
        for sub, sub_value in entry.items():
            sub_entry = _entry(sub_value, errors, sub in APPROVAL_EVENTS,
                               f"Workflow Approval event '{sub}' invalid, must be one of 'running', 'approved', "
                               "'timed_out', or 'denied'", f"workflow approval event '{sub}'")
            if sub_entry is not None:
                texts += _collect(sub_entry, errors, event)
    return texts


def _strict_env() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=_DescriptiveUndefined)


def check_messages(messages: Any, ntype: NotificationType | None) -> list[str]:
    """AWX's validation of ``messages`` for a template of type ``ntype``; the error list."""
    if messages is None:
        return []
    errors: list[str] = []
    for text in _structure(messages, errors):
        try:
            _strict_env().from_string(text).render(CONTEXT_STUB)
        except TemplateSyntaxError as exc:
            errors.append(f"Unable to render message '{text}': {exc.message}")
        except UndefinedError as exc:
            errors.append(f"Field '{exc.message}' unavailable")
        except SecurityError as exc:
            errors.append(f"Security error due to field '{exc.message}'")
    if ntype is not None and ntype.body_is_json and isinstance(messages, dict):
        # AWX checks only that a webhook body renders (its JSON-object check is disabled: AWX
        # issue 14410); it looks at each event's own "body" key, so approval bodies are not checked
        for event, value in messages.items():
            body = value.get("body") if isinstance(value, dict) else None
            if not body:
                continue
            try:
                _strict_env().from_string(body).render(CONTEXT_STUB)
            except Exception as exc:  # noqa: BLE001 - any failure is the user's template's
                errors.append(f"Webhook body for '{event}' is not valid. The following gave an error ({exc}).")
    return errors


def merge_messages(old: Any, new: Any) -> Any:
    """AWX's save-time merge: an event (or approval sub-event) left out of ``new``, or a
    message/body left out of one, keeps the stored one."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    merged = json.loads(json.dumps(new))
    for event in EVENTS:
        old_event, new_event = old.get(event) or {}, merged.get(event) or {}
        if not new_event and old_event:
            merged[event] = old_event
            continue
        if event == "workflow_approval" and old_event:
            for sub in APPROVAL_EVENTS:
                if not new_event.get(sub) and old_event.get(sub):
                    new_event[sub] = old_event[sub]
                elif new_event.get(sub) and old_event.get(sub):
                    _keep_missing(old_event[sub], new_event[sub])
            merged[event] = new_event
        elif new_event and old_event:
            _keep_missing(old_event, new_event)
        merged.setdefault(event, None)
    return merged


def _keep_missing(old: dict, new: dict) -> None:
    for kind in ("message", "body"):
        if kind not in new and old.get(kind):
            new[kind] = old[kind]


def templates_for(messages: Any, ntype: NotificationType | None, event: str, sub: str = "") -> tuple[str, str]:
    """(subject template, body template) of ``event`` (``workflow_approval`` + ``sub``): the
    template's own, else the type's default, else AWX's."""
    own: dict = {}
    if isinstance(messages, dict):
        own = messages.get(event) or {}
        if sub:
            own = (own.get(sub) or {}) if isinstance(own, dict) else {}
    defaults: dict = dict((ntype.default_messages if ntype else None) or {})
    fallback = FALLBACK_MESSAGES.get(event) or {}
    default = defaults.get(event) or fallback
    if sub:
        default = (default.get(sub) if isinstance(default, dict) else None) or fallback.get(sub) or {}
    subject = own.get("message") if isinstance(own, dict) else None
    body = own.get("body") if isinstance(own, dict) else None
    return subject or default.get("message") or "", body or default.get("body") or ""


def _render_one(template: str, context: dict, approval: bool) -> str:
    env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined)
    try:
        return env.from_string(template).render(**context)
    except (TemplateSyntaxError, UndefinedError, SecurityError) as exc:
        if approval:
            return ""
        trace = "".join(traceback.format_exception(None, exc, exc.__traceback__)).replace("\n", "\r\n")
        return "\r\n".join([exc.message or "", trace])


def render(messages: Any, ntype: NotificationType | None, event: str, context: dict,
           sub: str = "") -> tuple[str, Any]:
    """(subject, body) of one send, both text."""
    subject_t, body_t = templates_for(messages, ntype, event, sub)
    approval = event == "workflow_approval"
    subject = _render_one(subject_t, context, approval) if subject_t else ""
    body = _render_one(body_t, context, approval) if body_t else ""
    if not approval and len(body.strip().splitlines()) < 1:
        body = BLANK_BODY
    return subject, body

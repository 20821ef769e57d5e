"""Approval steps of workflows (orchestration.md §2.5, plus Turret's quorum).

An approval is a unified job that runs no process: it is created ``pending`` by the engine for
an approval node and ends ``successful`` (approved) or ``failed`` (denied, or timed out), or
``canceled`` with its workflow.  Whoever ends it announces the end through
``controller.jobs.control.job_ended`` so the workflow moves on (the engine listens there; this
module never imports it).

Quorum: ``required_approvals`` distinct users must approve; each user votes once; one deny
denies.  Every vote is stored (``workflow_approval_votes``) with its comment.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..jobs import control
from ..store import approvals as q

RESOURCE = "workflow_approval"
ALREADY_DECIDED = "This workflow step has already been approved or denied."
ALREADY_VOTED = "You have already voted on this workflow step."
NOT_ALLOWED = "User does not have permission to approve or deny this workflow."
ON_TIMEOUT = ("deny", "approve")


def _iso(at: datetime) -> str:
    """``at`` written as the store writes timestamps (UTC, microseconds, ``Z``), so stored
    times compare as text."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _elapsed(started: str | None, finished: datetime) -> float:
    begun = _parse(started)
    return round((finished - begun).total_seconds(), 3) if begun else 0.0


def create_approval(ctx, template: dict, extra_fields: dict | None = None) -> dict:
    """A new approval job of approval template ``template``: ``pending`` (waiting for votes),
    with the template's name, timeout, quorum and timeout outcome copied, and ``expires`` =
    created + timeout when the timeout is positive (None: it never expires).  ``extra_fields``
    (launch_type, launched_by_* ...) are stored as given and win over the defaults.

    Created through ``control.create_job`` (the job-create hooks see it, inside the caller's
    transaction when there is one), then announced started (``job_started``): waiting for votes
    is what an approval's run is (AWX sends its "running" approval notification then)."""
    now = datetime.now(timezone.utc)
    timeout = int(template.get("timeout") or 0)
    stamp = _iso(now)
    values: dict[str, Any] = {
        "name": template["name"], "description": template.get("description") or "",
        "workflow_approval_template": template["id"], "unified_job_template": template["id"],
        "launch_type": "workflow", "status": "pending", "failed": False, "started": stamp,
        "finished": None, "elapsed": 0.0, "timeout": timeout, "timed_out": False,
        "expires": _iso(now + timedelta(seconds=timeout)) if timeout > 0 else None,
        "required_approvals": max(int(template.get("required_approvals") or 1), 1),
        "on_timeout": template.get("on_timeout") if template.get("on_timeout") in ON_TIMEOUT else "deny",
        "job_args": "", "job_cwd": "", "job_env": {}, "job_explanation": "", "execution_node": "",
        "controller_node": "", "result_traceback": "", "event_processing_finished": True,
        "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "",
        "cancel_flag": False, "created": stamp, "modified": stamp,
        "created_by": ctx.user_id, "modified_by": ctx.user_id,
        **(extra_fields or {}),
    }
    pk = control.create_job(ctx, RESOURCE, values)
    control.job_started(ctx, RESOURCE, pk)
    row = ctx.store.get(q.APPROVALS, pk)
    assert row is not None
    return row


def can_decide(ctx, approval: dict) -> bool:
    """Superusers, and holders of ``approval_role`` on the workflow job template whose workflow
    spawned the approval (its parents: the template's admin, the organization's admin and
    approval roles).  Execute alone is not enough; an approval of no workflow template (deleted)
    is for superusers only."""
    if ctx.is_superuser:
        return True
    wfjt = q.workflow_template_of(ctx.store, approval["id"])
    return wfjt is not None and access.holds(ctx, "workflow_job_template", wfjt, "approval_role")


def _explanation(approve: bool, user: dict, comment: str) -> str:
    """Who concluded it (and why, when they said)."""
    verb = "Approved" if approve else "Denied"
    return f"{verb} by {user['username']}" + (f": {comment}" if comment else ".")


def decide(ctx, approval: dict, approve: bool, comment: str = "") -> None:
    """``POST /workflow_approvals/N/approve|deny/``: record the user's vote and conclude the
    approval when the vote decides it (a deny, or the ``required_approvals``-th distinct approve).

    403 (AWX's detail) without the right to decide, checked first as AWX does; 400
    ``{"error": ...}`` once it is no longer pending, or when this user already voted; 400
    ``{"comment": [...]}`` for a comment that is not text.  The vote and the conclusion commit
    together, under the write lock, so of two simultaneous deciding votes only one lands."""
    if ctx.user_id is None or not can_decide(ctx, approval):
        raise PermissionDenied(NOT_ALLOWED)
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ValidationError({"comment": ["Not a valid string."]})
    pk, concluded = approval["id"], False
    with ctx.store.transaction():
        current = ctx.store.get(q.APPROVALS, pk) or approval
        if current["status"] != "pending":
            raise APIError({"error": ALREADY_DECIDED})
        if q.has_voted(ctx.store, pk, ctx.user["id"]):
            raise APIError({"error": ALREADY_VOTED})
        q.add_vote(ctx.store, pk, ctx.user["id"], "approve" if approve else "deny", comment)
        needed = max(int(current.get("required_approvals") or 1), 1)
        if not approve or q.approvals_count(ctx.store, pk) >= needed:
            now = datetime.now(timezone.utc)
            concluded = q.conclude(ctx.store, pk, "successful" if approve else "failed", _iso(now),
                                   _elapsed(current.get("started"), now), _explanation(approve, ctx.user, comment))
    if concluded:
        control.job_ended(ctx, RESOURCE, pk)


def expire(ctx, now: datetime) -> list[int]:
    """The tick hook: every pending approval whose ``expires`` has passed at ``now`` concludes by
    its ``on_timeout`` ("deny": failed, "approve": successful), ``timed_out`` true, with AWX's
    explanation.  Returns the ids it concluded (each announced once through ``job_ended``)."""
    done = []
    for row in q.expired(ctx.store, _iso(now)):
        status = "successful" if row.get("on_timeout") == "approve" else "failed"
        explanation = (f"The approval node {row['name']} ({row['id']}) has expired after "
                       f"{row['timeout']} seconds.")
        with ctx.store.transaction():
            ended = q.conclude(ctx.store, row["id"], status, _iso(now), _elapsed(row.get("started"), now),
                               explanation, timed_out=True)
        if ended:
            done.append(row["id"])
            control.job_ended(ctx, RESOURCE, row["id"])
    return done


def approved_or_denied_by(ctx, rows: list[dict]) -> dict[int, dict]:
    """``summary_fields.approved_or_denied_by`` ({id, username, first_name, last_name}, AWX's
    shape) of concluded approvals: the user whose vote concluded it.  Approvals still pending,
    timed out or canceled get none."""
    decided = [r["id"] for r in rows if r.get("status") in ("successful", "failed") and not r.get("timed_out")]
    by = q.deciders(ctx.store, decided)
    return {pk: {"approved_or_denied_by": user} for pk, user in by.items()}

"""Status post-back of webhook launches (AWX's ``WebhookMixin.update_webhook_status``): a job or
workflow job launched by a GitHub, GitLab or Bitbucket Data Center webhook, whose template has a
``webhook_credential``, reports its status changes to the commit the event named.

Which changes post, as AWX (its state tables, :data:`STATES`): the job's creation (``pending``,
or the status it was created in), its start (``running``: GitLab ``running``, Bitbucket DC
``INPROGRESS``; GitHub has no such state and gets nothing) and its end.  The request, as AWX:

* GitHub: ``POST <pull_request.statuses_url>`` with ``Authorization: token <token>`` (AWX
  posts only for ``pull_request`` events: only they carry a status URL);
* GitLab: ``POST <host>/api/v4/projects/<id>/statuses/<sha>`` with ``PRIVATE-TOKEN: <token>``;
* Bitbucket DC: ``POST <host>/rest/build-status/1.0/commits/<sha>`` with
  ``Authorization: Bearer <token>``;

a JSON body ``{"state", "context" (Bitbucket: "key"): "ansible/awx", "target_url" (Bitbucket:
"url"): <the job's UI page>, "description"}`` (``ansible/awx``: branch protection rules written
for AWX keep matching).  The setting ``WEBHOOK_STATUS_API_URL`` (``scheme://host[:port][/prefix]``)
replaces the origin of every status URL (a GitHub Enterprise or a test server).

Contracts:
  * One sender, the job process: every post-back of a job is sent by the :class:`Poster` of the
    process that runs the job stack (``AppState.start_jobs``: under ``turret serve`` with web
    workers, the serving parent; otherwise the one process), whichever process made the
    change.  The hooks only *record* the change in the database outbox
    (:mod:`controller.store.webhook_status`), in the transaction that made it, and ring the
    poster (:func:`wake`: a web worker sends it a datagram, :mod:`controller.jobs.wake`).  A
    web worker thus does no network call and runs no status thread; a recorded post outlives
    the process that recorded it (one recorded while no poster runs leaves at its next start,
    within :data:`KEEP_SECONDS`).
  * In order per job: the outbox ids are the order of the job's changes, and a post is claimed
    only when every earlier post of its job is done, so the posts of one job leave one after
    the other in that order (the creation post included, across processes).  A rolled-back
    creation records nothing, so nothing is posted for a job that never existed.
  * Off the job's path: sending happens on the poster's threads (at most :data:`WORKERS`),
    each network wait bounded by :data:`TIMEOUT`.  A dead or slow endpoint delays no job, no
    request and no other job's post-back (only the later posts of its own job).
  * At most once, best effort (as AWX): each status of a job is recorded once; a post is
    claimed before it is sent and marked done after, sent or failed; a failure is logged and
    never retried, and a claim left by a poster that died mid-send is given up after
    :data:`STALE_SECONDS`, unsent (it may have left).  A stopping poster sends no post it had
    not handed to a thread yet: it claims nothing once stopped and gives back (unsent, queued
    again) a claim it made while the stop came, so the next poster sends it.
  * Quiet while waiting: the poster polls with a read (is a post claimable now?), takes the
    write lock only to claim one (never while all its threads are busy: it claims no more
    posts than it has free threads), and sweeps (gives up stale rows, prunes) at most once
    per :data:`SWEEP_SECONDS`; a job's post waiting behind its post being sent costs no write
    (the end of that send rings the poster).  The claiming loop, the hand-off and the stop
    are the frame it shares with the notification sender
    (:class:`controller.services.outbox.OutboxSender`).
  * The token (decrypted from the credential only to send) is never logged, stored or raised:
    the outbox holds the job and the status only; logs name the service, the host, the job and
    the HTTP status at most.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import VERSION
from ..context import Context
from ..jobs import wake as wakes
from ..notifications.channels.base import SendError, host_of, request
from ..notifications.job_context import job_url
from ..services.outbox import OutboxSender
from ..services import credential_inputs as ci
from ..services.variables import json_mapping
from ..store import webhook_status as q

log = logging.getLogger("turret.webhooks")

KINDS = ("job", "workflow_job")    # the unified jobs a webhook launches
CONTEXT = "ansible/awx"            # AWX's context/key for an open (non-Tower) install
TIMEOUT = 10.0                     # seconds: bound of every network wait of one post
WORKERS = 4                        # sending threads of the poster
POLL = 1.0                         # seconds between the poster's looks when no ring came
STALE_SECONDS = 300.0              # a claim this old was left by a dead poster (a post takes <= 3 TIMEOUT)
SWEEP_SECONDS = 60.0               # give-up of stale rows and pruning run at most this often
STOP_WAIT = 5.0                    # seconds stop() waits for the claiming thread
KEEP_SECONDS = 86400.0             # done rows (and queued ones never sent) are forgotten after a day
USER_AGENT = f"Turret {VERSION}"

# AWX's service_statuses: job status -> the service's state; a status missing here posts nothing
STATES: dict[str, dict[str, str]] = {
    "github": {"pending": "pending", "successful": "success", "failed": "failure",
               "canceled": "failure", "error": "error"},
    "gitlab": {"pending": "pending", "running": "running", "successful": "success", "failed": "failed",
               "error": "failed", "canceled": "canceled"},
    "bitbucket_dc": {"pending": "INPROGRESS", "running": "INPROGRESS", "successful": "SUCCESSFUL",
                     "failed": "FAILED", "error": "FAILED", "canceled": "FAILED"},
}
# AWX's service_header: (header, value format of the token)
HEADERS: dict[str, tuple[str, str]] = {
    "github": ("Authorization", "token {}"),
    "gitlab": ("PRIVATE-TOKEN", "{}"),
    "bitbucket_dc": ("Authorization", "Bearer {}"),
}


@dataclass(frozen=True)
class StatusPost:
    """One post-back, ready to send (``headers`` hold the token: never log this object)."""
    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    def __repr__(self) -> str:   # a traceback or a debug print must not show the token
        return f"StatusPost(host={host_of(self.url)!r}, state={self.body.get('state')!r})"


# -- pure parts ---------------------------------------------------------------------------------
def override_origin(url: str, base: str) -> str:
    """``url`` with its ``scheme://host[:port]`` replaced by ``base`` (which may add a path
    prefix); ``url`` unchanged when ``base`` is empty."""
    if not base:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return base.rstrip("/") + rest


def build_post(service: str, status_api: str, status: str, token: str, target_url: str,
               name: str = "", base: str = "") -> StatusPost | None:
    """The post AWX makes for a job of ``service`` reaching ``status``, or None when AWX posts
    nothing (an unknown service, no status URL, or a status the service has no state for)."""
    states = STATES.get(service)
    if not states or not status_api or status not in states:
        return None
    state = states[status]
    description = f"{name}: {status}" if name else status
    if service == "bitbucket_dc":
        body = {"state": state, "key": CONTEXT, "url": target_url, "description": description}
    else:
        body = {"state": state, "context": CONTEXT, "target_url": target_url, "description": description}
    header, fmt = HEADERS[service]
    headers = {header: fmt.format(token), "Content-Type": "application/json", "User-Agent": USER_AGENT}
    if service == "github":
        headers["Accept"] = "application/vnd.github+json"
    return StatusPost(override_origin(status_api, base), headers, body)


def status_api_of(row: dict) -> str:
    """Where the job's status goes: the ``status_api`` of the status context the receiver stored
    with the job (AWX's ``awx_webhook_status_api``; "" when the event had none)."""
    value = json_mapping(row.get("webhook_status_context")).get("status_api")
    return value if isinstance(value, str) else ""


def reports_status(row: dict | None) -> bool:
    """Whether a job row posts its status back: launched by a webhook of a known service, with
    a webhook credential (AWX posts only then)."""
    return bool(row and row.get("launch_type") == "webhook" and row.get("webhook_credential")
                and row.get("webhook_service") in STATES)


# -- the hooks (Registry.job_create_hooks / job_start_hooks / job_end_hooks) --------------------
def wake(jobs: Any = None) -> None:
    """Ring the poster: this process's doorbell and, when ``jobs`` (the caller's
    ``Context.jobs``) is a web worker's :class:`controller.jobs.wake.WakeSender`, the job
    process's.  Never blocks nor raises: the post is in the database either way."""
    wakes.ring_webhook_status()
    elsewhere = getattr(jobs, "wake_webhook_status", None)
    if elsewhere is not None:
        elsewhere()


def record_change(ctx, kind: str, pk: int, status: str | None) -> None:
    """Record the post of job ``pk`` reaching ``status`` (None: its stored status) when it posts
    one (see :func:`reports_status`, a status URL and a state for the status), in the caller's
    transaction, and ring the poster.  No network, no thread."""
    if kind not in KINDS:
        return
    row = q.launch_facts(ctx.store, ctx.registry[kind].table, pk)
    if row is None or not reports_status(row):
        return
    status = status or row["status"]
    if status not in STATES[row["webhook_service"]] or not status_api_of(row):
        return
    if q.record(ctx.store, kind, pk, status, time.time()):
        wake(ctx.jobs)


def on_job_created(ctx, kind: str, pk: int) -> None:
    """Creation hook (inside the creating transaction): post the status the job was created in."""
    record_change(ctx, kind, pk, None)


def on_job_started(ctx, kind: str, pk: int) -> None:
    """Start hook: post ``running``."""
    record_change(ctx, kind, pk, "running")


def on_job_ended(ctx, kind: str, pk: int) -> None:
    """End hook: post the final status stored on the job."""
    record_change(ctx, kind, pk, None)


def declare_status_hooks(reg) -> None:
    """Register the post-back on every unified job's creation, start and end."""
    reg.job_create_hooks.append(on_job_created)
    reg.job_start_hooks.append(on_job_started)
    reg.job_end_hooks.append(on_job_ended)


# -- sending --------------------------------------------------------------------------------------
def prepare(ctx: Context, kind: str, pk: int, status: str) -> StatusPost | None:
    """The post for job ``pk`` reaching ``status``, read from the store now (None: nothing to post)."""
    row = ctx.store.get(ctx.registry[kind].table, pk)
    if not reports_status(row):
        return None
    cred = ctx.store.get("credentials", row["webhook_credential"])
    ctype = ctx.store.get("credential_types", cred["credential_type"]) if cred else None
    if cred is None or ctype is None:
        log.warning("webhook status of %s %s: its webhook credential is gone", kind, pk)
        return None
    token = ci.decrypt_inputs(ctx.vault, ctype, cred["inputs"]).get("token")
    if not token:
        log.warning("webhook status of %s %s: credential %s has no token", kind, pk, cred["id"])
        return None
    base = str(ctx.settings.WEBHOOK_STATUS_API_URL or "")
    return build_post(row["webhook_service"], status_api_of(row), status, str(token),
                      job_url(ctx, kind, pk), f"{row.get('name') or kind} #{pk}", base)


def send(post: StatusPost, timeout: float | None = None) -> int:
    """POST ``post`` (waits bounded by ``timeout``, default :data:`TIMEOUT`); the HTTP status of
    the answer.  Raises SendError (host named, no token) when there is no answer."""
    data = json.dumps(post.body).encode("utf-8")
    return request("POST", post.url, body=data, headers=post.headers, timeout=timeout or TIMEOUT,
                   what="webhook status").status


def deliver(ctx: Context, kind: str, pk: int, status: str) -> int | None:
    """Prepare and send one post-back; the answer's HTTP status (None: nothing sent).  Never raises."""
    try:
        post = prepare(ctx, kind, pk, status)
        if post is None:
            return None
        code = send(post)
    except SendError as exc:
        log.warning("webhook status of %s %s (%s) not sent: %s", kind, pk, status, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a bad row or store moment must not kill the thread
        log.error("webhook status of %s %s (%s) failed: %s", kind, pk, status, type(exc).__name__)
        return None
    if code >= 400:
        log.warning("webhook status of %s %s (%s): %s answered %s", kind, pk, status, host_of(post.url), code)
    return code


def settled(store, kind: str | None = None, pk: int | None = None) -> bool:
    """Whether no post (of job ``pk`` of ``kind`` when given) is queued or being sent."""
    return q.unsettled(store, kind, pk) == 0


class Poster(OutboxSender[dict]):
    """The post-back sender of the process running the job stack: claims the outbox's due posts
    (see the module contract) and sends each on one of :data:`WORKERS` threads; rung by
    :func:`wake`, else polling every :data:`POLL` seconds (the frame:
    :class:`controller.services.outbox.OutboxSender`).  A claimed item is an outbox row
    (``id``, ``kind``, ``job``, ``status``)."""

    name = "turret-webhook-status"
    pool_name = "turret-webhook-status"
    label = "webhook status"
    sweep_every = SWEEP_SECONDS
    swept_note = "post(s) given up unsent (a stale claim or queued too long)"
    log = logging.getLogger("turret.webhooks")

    def __init__(self, state: Any, poll: float = POLL, workers: int = WORKERS) -> None:
        super().__init__(state, wakes.WEBHOOK_STATUS_DOORBELL, poll, workers, stop_wait=STOP_WAIT)

    def has_due(self) -> bool:
        """A post is claimable now (one waiting behind its job's post being sent is not: the
        end of that send rings the poster)."""
        return q.has_queued(self.ctx.store)

    def sweep_needed(self) -> bool:
        """Some row is not done (a stale claim may block its job's next posts)."""
        return q.unsettled(self.ctx.store) > 0

    def sweep(self, now: float) -> int:
        """Give up stale claims and posts queued too long, prune the old done rows."""
        store = self.ctx.store
        given_up = q.give_up_stale(store, now - STALE_SECONDS, now - KEEP_SECONDS, now)
        q.prune(store, now - KEEP_SECONDS)
        return given_up

    def claim(self, limit: int, now: float) -> list[dict]:
        return q.claim_next(self.ctx.store, self.owner, now, limit)

    def release(self, items: list[dict]) -> None:
        q.release(self.ctx.store, [row["id"] for row in items], self.owner)

    def ident(self, item: dict) -> int:
        return item["id"]

    def send(self, item: dict) -> None:
        """Deliver one post, then mark it done, sent or failed (never sent again)."""
        try:
            deliver(self.ctx, item["kind"], item["job"], item["status"])
        finally:
            try:
                q.conclude(self.ctx.store, item["id"], self.owner, time.time())
            except Exception as exc:  # noqa: BLE001 - the claim goes stale and is given up later
                log.error("webhook status of %s %s: concluding failed (%s)", item["kind"], item["job"],
                          type(exc).__name__)

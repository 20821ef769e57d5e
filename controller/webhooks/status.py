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
  * Off the job's path: the hooks only queue (a cheap read of the job row); posting happens on
    this process's status threads, with a bounded wait (:data:`TIMEOUT`).  A dead or slow
    endpoint delays no job, no request and no other job's post-back.
  * In order per job: the posts of one job go out one after the other, in the order of the
    changes; a post made when the job is created waits until the creating transaction has
    committed (and is dropped when it rolled back).
  * At most once, best effort (as AWX): a failed post is logged and not retried.
  * The token (decrypted from the credential only to send) is never logged, stored or raised:
    logs name the service, the host, the job and the HTTP status at most.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import VERSION
from ..context import Context
from ..notifications.channels.base import SendError, host_of, request
from ..notifications.job_context import job_url
from ..services.bootstrap import acting_as_system
from ..services import credential_inputs as ci
from ..services.variables import json_mapping
from ..store import webhook_status as q

log = logging.getLogger("turret.webhooks")

KINDS = ("job", "workflow_job")    # the unified jobs a webhook launches
CONTEXT = "ansible/awx"            # AWX's context/key for an open (non-Tower) install
TIMEOUT = 10.0                     # seconds: bound of every network wait of one post
WORKERS = 4                        # status threads of the process
COMMIT_WAIT = 10.0                 # seconds a creation post waits for its job to be committed
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
def _queue_change(ctx, kind: str, pk: int, status: str | None, wait_commit: bool) -> None:
    if kind not in KINDS:
        return
    row = q.launch_facts(ctx.store, ctx.registry[kind].table, pk)
    if row is None or not reports_status(row):
        return
    poster().enqueue(acting_as_system(ctx, jobs=None), kind, pk, status or row["status"], wait_commit)


def on_job_created(ctx, kind: str, pk: int) -> None:
    """Creation hook (inside the creating transaction): post the status the job was created in."""
    _queue_change(ctx, kind, pk, None, wait_commit=True)


def on_job_started(ctx, kind: str, pk: int) -> None:
    """Start hook: post ``running``."""
    _queue_change(ctx, kind, pk, "running", wait_commit=False)


def on_job_ended(ctx, kind: str, pk: int) -> None:
    """End hook: post the final status stored on the job."""
    _queue_change(ctx, kind, pk, None, wait_commit=False)


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


def deliver(ctx: Context, kind: str, pk: int, status: str, wait_commit: bool) -> int | None:
    """Prepare and send one post-back; the answer's HTTP status (None: nothing sent).  Never raises."""
    try:
        if wait_commit and not _wait_for_row(ctx, kind, pk):
            return None   # the creating transaction rolled back: no such job
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


def _wait_for_row(ctx: Context, kind: str, pk: int) -> bool:
    deadline = time.monotonic() + COMMIT_WAIT
    while q.launch_facts(ctx.store, ctx.registry[kind].table, pk) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Poster:
    """The process's status threads: one FIFO per job (posts of a job stay in order), drained by
    at most :data:`WORKERS` daemon threads (a slow endpoint holds one thread, not the others)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._lock = threading.Lock()
        self._chains: dict[tuple[int, str, int], deque] = {}
        self._ready: deque = deque()
        self._wake = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._workers = workers
        self._busy = 0

    def enqueue(self, ctx: Context, kind: str, pk: int, status: str, wait_commit: bool) -> None:
        """Queue one post-back of job ``pk`` (after the job's earlier ones)."""
        key = (id(ctx.store), kind, pk)
        with self._lock:
            chain = self._chains.get(key)
            if chain is None:
                self._chains[key] = deque([(ctx, status, wait_commit)])
                self._ready.append(key)
                self._wake.notify()
                idle = len(self._threads) - self._busy
                if len(self._threads) < self._workers and len(self._ready) > idle:
                    thread = threading.Thread(target=self._run, name="turret-webhook-status", daemon=True)
                    self._threads.append(thread)
                    thread.start()
            else:
                chain.append((ctx, status, wait_commit))

    def idle(self, kind: str | None = None, pk: int | None = None) -> bool:
        """Whether nothing is queued or being sent (for job ``pk`` of ``kind`` when given)."""
        with self._lock:
            return not any(kind is None or key[1:] == (kind, pk) for key in self._chains)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._ready:
                    self._wake.wait()
                key = self._ready.popleft()
                self._busy += 1
            try:
                self._drain(key)
            finally:
                with self._lock:
                    self._busy -= 1

    def _drain(self, key: tuple[int, str, int]) -> None:
        _store, kind, pk = key
        while True:
            with self._lock:
                chain = self._chains[key]
                if not chain:
                    del self._chains[key]
                    return
                ctx, status, wait_commit = chain.popleft()
            deliver(ctx, kind, pk, status, wait_commit)


_POSTER: Poster | None = None
_POSTER_LOCK = threading.Lock()


def poster() -> Poster:
    """This process's :class:`Poster` (created on first use)."""
    global _POSTER
    with _POSTER_LOCK:
        if _POSTER is None:
            _POSTER = Poster()
        return _POSTER

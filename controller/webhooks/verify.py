"""What each service's delivery says, read from its headers and body (pure: no I/O).

Per service (AWX ``awx/api/views/webhooks.py``, plus Turret's additions):

* ``github``: event ``X-GitHub-Event``, GUID ``X-GitHub-Delivery``, signature
  ``X-Hub-Signature-256: sha256=<hex>`` (preferred) or AWX's ``X-Hub-Signature: sha1=<hex>``,
  an HMAC of the raw body under the key.
* ``gitlab``: event ``X-Gitlab-Event``, GUID the sha1 of the body (as AWX: GitLab sends none it
  keeps across retries), ``X-Gitlab-Token`` equal to the key (constant-time compare).
* ``bitbucket_dc``: event ``X-Event-Key``, GUID ``X-Request-Id``, signature ``X-Hub-Signature:
  sha1=<hex>|sha256=<hex>``; ``diagnostics:ping`` is sent unsigned.
* ``generic`` (Turret): event ``X-Turret-Event`` (default ``webhook``), GUID
  ``X-Turret-Delivery`` or ``Idempotency-Key``, proof either ``X-Turret-Signature:
  sha256=<hex>`` (HMAC-SHA256 of the body) or ``X-Turret-Token: <key>``.

Every service falls back to the sha1 of the body when its GUID header is missing, so a
retried delivery is still recognised.  Refs: :func:`event_ref` is AWX's (a commit SHA or a tag,
``awx_webhook_event_ref``); :func:`branch_ref` is the full ref name ``webhook_ref_filter``
matches (``refs/heads/main``): the branch or tag pushed to, or the target branch of a pull or
merge request.
"""
from __future__ import annotations

import fnmatch
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlparse

ZERO_SHA = "0" * 40
SERVICES = ("github", "gitlab", "bitbucket_dc", "generic")

# AWX's ref_keys: the payload path of awx_webhook_event_ref, per service and event
REF_KEYS: dict[str, dict[str, str]] = {
    "github": {"pull_request": "pull_request.head.sha", "pull_request_review": "pull_request.head.sha",
               "pull_request_review_comment": "pull_request.head.sha", "push": "after",
               "release": "release.tag_name", "commit_comment": "comment.commit_id", "create": "ref",
               "page_build": "build.commit"},
    "gitlab": {"Push Hook": "checkout_sha", "Tag Push Hook": "checkout_sha",
               "Merge Request Hook": "object_attributes.last_commit.id"},
    "bitbucket_dc": {"repo:refs_changed": "changes.0.toHash", "mirror:repo_synchronized": "changes.0.toHash",
                     "pr:opened": "pullRequest.toRef.latestCommit",
                     "pr:from_ref_updated": "pullRequest.toRef.latestCommit",
                     "pr:modified": "pullRequest.toRef.latestCommit"},
    "generic": {},
}
# the full ref a filter matches: a path, and a prefix when the payload holds a bare branch name
BRANCH_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    "github": {"push": ("ref", ""), "pull_request": ("pull_request.base.ref", "refs/heads/"),
               "pull_request_review": ("pull_request.base.ref", "refs/heads/"),
               "pull_request_review_comment": ("pull_request.base.ref", "refs/heads/"),
               "release": ("release.tag_name", "refs/tags/")},
    "gitlab": {"Push Hook": ("ref", ""), "Tag Push Hook": ("ref", ""),
               "Merge Request Hook": ("object_attributes.target_branch", "refs/heads/")},
    "bitbucket_dc": {"repo:refs_changed": ("changes.0.ref.id", ""),
                     "mirror:repo_synchronized": ("changes.0.ref.id", ""),
                     "pr:opened": ("pullRequest.toRef.id", ""), "pr:from_ref_updated": ("pullRequest.toRef.id", ""),
                     "pr:modified": ("pullRequest.toRef.id", "")},
    "generic": {},
}
# Bitbucket DC events AWX acts on (others answer "Webhook ignored")
BITBUCKET_EVENTS = tuple(REF_KEYS["bitbucket_dc"])
# events that mean "the repository changed": what syncs a project
PUSH_EVENTS = {"github": ("push",), "gitlab": ("Push Hook", "Tag Push Hook"),
               "bitbucket_dc": ("repo:refs_changed", "mirror:repo_synchronized")}


@dataclass
class Proof:
    """The outcome of checking a delivery's signature or token."""

    ok: bool
    status: int = 200        # 401: no proof sent, 403: a wrong one
    reason: str = ""


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value ("" when absent); ``headers`` is keyed by lower-case names."""
    value = headers.get(name.lower())
    return value.strip() if isinstance(value, str) else ""


def event_type(service: str, headers: Mapping[str, str]) -> str:
    name = {"github": "X-GitHub-Event", "gitlab": "X-Gitlab-Event", "bitbucket_dc": "X-Event-Key",
            "generic": "X-Turret-Event"}[service]
    return header(headers, name) or ("webhook" if service == "generic" else "")


def event_guid(service: str, headers: Mapping[str, str], body: bytes) -> str:
    names = {"github": ("X-GitHub-Delivery",), "gitlab": (), "bitbucket_dc": ("X-Request-Id",),
             "generic": ("X-Turret-Delivery", "Idempotency-Key")}[service]
    for name in names:
        value = header(headers, name)
        if value:
            return value[:128]
    return hashlib.sha1(body).hexdigest()   # noqa: S324 - an identifier (AWX's GitLab GUID), not a MAC


def _digest_matches(key: str, body: bytes, algorithm: str, sent: str) -> bool:
    if algorithm not in ("sha1", "sha256"):
        return False
    mac = hmac.new(key.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return hmac.compare_digest(mac.encode(), sent.strip().lower().encode("ascii", "replace"))


def _signed(key: str, body: bytes, value: str, default_alg: str = "") -> Proof:
    algorithm, sep, digest = value.partition("=")
    if not sep:
        algorithm, digest = default_alg, value
    if _digest_matches(key, body, algorithm.strip().lower(), digest):
        return Proof(True)
    return Proof(False, 403, "signature does not match")


def check_proof(service: str, key: str, headers: Mapping[str, str], body: bytes, event: str) -> Proof:
    """Whether the delivery proves it knows ``key`` the way ``service`` signs (module docstring).
    Never raises; compares in constant time."""
    if not key:
        return Proof(False, 403, "no webhook key is set")
    if service == "github":
        value = header(headers, "X-Hub-Signature-256") or header(headers, "X-Hub-Signature")
        return _signed(key, body, value) if value else Proof(False, 401, "signature header missing")
    if service == "gitlab":
        token = header(headers, "X-Gitlab-Token")
        if not token:
            return Proof(False, 401, "token header missing")
        same = hmac.compare_digest(key.encode(), token.encode("utf-8", "replace"))
        return Proof(True) if same else Proof(False, 403, "token does not match")
    if service == "bitbucket_dc":
        if event == "diagnostics:ping":
            return Proof(True)     # Bitbucket does not sign its ping (AWX); it launches nothing
        value = header(headers, "X-Hub-Signature")
        return _signed(key, body, value) if value else Proof(False, 401, "signature header missing")
    value = header(headers, "X-Turret-Signature")
    if value:
        return _signed(key, body, value, default_alg="sha256")
    token = header(headers, "X-Turret-Token")
    if token:
        same = hmac.compare_digest(key.encode(), token.encode("utf-8", "replace"))
        return Proof(True) if same else Proof(False, 403, "token does not match")
    return Proof(False, 401, "signature or token header missing")


def lookup(payload: Any, path: str) -> Any:
    """The value at dotted ``path`` (digits index lists), None when any step is missing."""
    value = payload
    for element in path.split("."):
        if isinstance(value, list) and element.isdigit():
            index = int(element)
            value = value[index] if index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(element)
        else:
            return None
    return value


def event_ref(service: str, event: str, payload: Any) -> Any:
    """AWX's ``awx_webhook_event_ref``: a commit SHA (or tag) per :data:`REF_KEYS`; None for a
    deleted ref (all-zero SHA) or an event without one."""
    key = REF_KEYS[service].get(event)
    value = lookup(payload, key) if key else None
    return None if value == ZERO_SHA else value


def branch_ref(service: str, event: str, payload: Any) -> str:
    """The full ref name a ``webhook_ref_filter`` is matched against ("" when the event has none)."""
    path, prefix = BRANCH_KEYS[service].get(event, ("ref", ""))
    value = lookup(payload, path)
    if not isinstance(value, str) or not value:
        return ""
    return value if value.startswith("refs/") else prefix + value


def status_api(service: str, event: str, payload: Any, ref: Any) -> str | None:
    """AWX's ``awx_webhook_status_api``: where the commit status is posted (None when none)."""
    if not isinstance(payload, dict):
        return None
    if service == "github":
        value = lookup(payload, "pull_request.statuses_url") if event == "pull_request" else None
        return value if isinstance(value, str) else None
    if service == "gitlab":
        project = payload.get("project")
        if event not in REF_KEYS["gitlab"] or not isinstance(project, dict) or not project.get("web_url"):
            return None
        parsed = urlparse(str(project["web_url"]))
        return f"{parsed.scheme}://{parsed.netloc}/api/v4/projects/{project.get('id')}/statuses/{ref}"
    if service == "bitbucket_dc":
        if event not in REF_KEYS["bitbucket_dc"] or ref is None:
            return None
        href = lookup(payload, "actor.links.self.0.href") or lookup(payload, "repository.links.self.0.href")
        if not isinstance(href, str):
            return None
        parsed = urlparse(href)
        return f"{parsed.scheme}://{parsed.netloc}/rest/build-status/1.0/commits/{ref}"
    return None


def ignored_reason(service: str, event: str, allowed: str, ref_filter: str, ref: str) -> str:
    """Why this event launches nothing ("" when it launches): a ping, an event Bitbucket DC
    receivers ignore (AWX), one outside the template's ``webhook_events``, or a ref outside its
    ``webhook_ref_filter``."""
    if service == "github" and event == "ping":
        return "ping event"
    if service == "bitbucket_dc" and event not in BITBUCKET_EVENTS:
        return f"event {event or '(none)'} is not one Bitbucket Data Center receivers act on"
    events = [e.strip() for e in (allowed or "").split(",") if e.strip()]
    if events and event not in events:
        return f"event {event or '(none)'} is not in webhook_events"
    if ref_filter and not fnmatch.fnmatchcase(ref, ref_filter):
        return f"ref {ref or '(none)'} does not match webhook_ref_filter"
    return ""

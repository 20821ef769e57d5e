"""The webhook fields templates, projects and jobs declare, and the life of a webhook key.

Contracts:
  * ``webhook_key`` is a hidden column holding the key encrypted with the data directory's
    vault: never output, filtered on or written by the generic views.  It is generated (50
    random letters and digits, as AWX) when ``webhook_service`` is set and no key exists, and a
    copy or a new template never inherits one.  Only :func:`reveal_key` / :func:`rotate_key`
    (``GET/POST …/N/webhook_key/``, template admins) show or replace it.
  * ``webhook_events`` is a comma list of event names ("" = every event), ``webhook_ref_filter``
    an fnmatch glob on the event's ref ("" = any ref), ``webhook_extractors`` (generic receiver)
    ``{extra var name: "dotted.path.in.payload"}``.
"""
from __future__ import annotations

import re
import secrets
import string
from typing import Any

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..registry import ENCRYPTED, Field
from ..services import activity
from ..services.credential_inputs import as_dict

KEY_LENGTH = 50                    # AWX's generated key length
MIN_USER_KEY = 16                  # a user-chosen key shorter than this is refused
MAX_KEY = 256
SERVICES = [("", "---------"), ("github", "GitHub"), ("gitlab", "GitLab"), ("bitbucket_dc", "BitBucket DataCenter")]
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EVENT = re.compile(r"^[A-Za-z0-9_:. -]+$")
MAX_EXTRACTORS = 50


def template_fields() -> list[Field]:
    """Fields a job or workflow job template adds for webhooks (``webhook_service`` and
    ``webhook_credential`` are declared by the templates themselves)."""
    return [
        Field("webhook_key", "string", hidden=True, default="", prevent_search=True),
        *filter_fields(),
        Field("webhook_extractors", "json", default={},
              help_text="Generic receiver: extra variables taken from the JSON payload, as "
                        '{"var_name": "path.in.payload"} (list items by index: "alerts.0.name").'),
    ]


def filter_fields() -> list[Field]:
    """The per-template filters (AWX has none: every event launches)."""
    return [
        Field("webhook_events", "string", max_length=1024, default="",
              help_text="Comma-separated events that launch (e.g. push,pull_request; GitLab: Push Hook); "
                        "empty: every event."),
        Field("webhook_ref_filter", "string", max_length=1024, default="",
              help_text="Glob the event's ref must match (e.g. refs/heads/main); empty: any ref."),
    ]


def project_fields() -> list[Field]:
    """Fields a project adds: a push to its repository syncs it."""
    return [
        Field("scm_update_on_push", "boolean", default=False,
              help_text="Update the project when its repository's webhook reports a push."),
        Field("webhook_service", "choice", choices=SERVICES, default="",
              help_text="Service that webhook requests will be accepted from"),
        Field("webhook_key", "string", hidden=True, default="", prevent_search=True),
        *filter_fields(),
    ]


def job_fields() -> list[Field]:
    """The hidden status context a webhook launch stores with its job or workflow job:
    ``{"service", "status_api", "ref", "event", "guid"}`` (read by :mod:`.status`)."""
    return [Field("webhook_status_context", "json", hidden=True, default={}, prevent_search=True)]


# -- validation and keys ----------------------------------------------------------------------
def check_settings(merged: dict) -> None:
    """Refuse malformed filters and extractors (400, AWX/DRF shaped)."""
    events = merged.get("webhook_events") or ""
    if any(not _EVENT.match(e.strip()) for e in events.split(",") if e.strip()):
        raise ValidationError({"webhook_events": ["Enter event names separated by commas."]})
    extractors = merged.get("webhook_extractors")
    if isinstance(extractors, str):      # a stored row holds JSON text
        extractors = extractors_of(merged) if extractors.strip() else {}
    if extractors is None:
        return
    if not isinstance(extractors, dict) or len(extractors) > MAX_EXTRACTORS:
        raise ValidationError({"webhook_extractors": [
            f'Expected an object of at most {MAX_EXTRACTORS} {{"var_name": "path.in.payload"}} entries.']})
    for name, path in extractors.items():
        if not _VAR_NAME.match(name) or name.startswith(("awx_", "tower_")):
            raise ValidationError({"webhook_extractors": [f"{name!r} is not a valid variable name."]})
        if not isinstance(path, str) or not path or len(path) > 512:
            raise ValidationError({"webhook_extractors": [f"The path of {name} must be a non-empty string."]})


def extractors_of(row: dict) -> dict:
    """The template's extractors as a dict (stored rows hold JSON text)."""
    return as_dict(row.get("webhook_extractors"))


def new_key() -> str:
    """50 random letters and digits (AWX ``get_random_string(length=50)``)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(KEY_LENGTH))


def assign_key(ctx, values: dict, existing: dict | None) -> dict:
    """``before_save`` step: a new row (a copy too) starts without the original's key; a key is
    generated when ``webhook_service`` is set and none is stored."""
    if existing is None or existing.get("id") == -1:     # a create, or a copy (crud.copy: id -1)
        values["webhook_key"] = new_key_for(ctx, values.get("webhook_service", (existing or {}).get("webhook_service")))
        return values
    service = values.get("webhook_service", (existing or {}).get("webhook_service"))
    stored = values.get("webhook_key", (existing or {}).get("webhook_key"))
    if service and not stored:
        values["webhook_key"] = ctx.vault.encrypt(new_key())
    return values


def new_key_for(ctx, service: str | None) -> str:
    """A new row's stored key: a fresh encrypted one when a service is set, else none."""
    return ctx.vault.encrypt(new_key()) if service else ""


def stored_key(ctx, row: dict) -> str:
    """The plain key of ``row`` ("" when none)."""
    value = row.get("webhook_key") or ""
    return ctx.vault.decrypt(value) if value else ""


def _require_admin(ctx, resource: str, row: dict) -> None:
    if ctx.user is None or not access.holds(ctx, resource, row["id"], "admin_role"):
        raise PermissionDenied()


def reveal_key(ctx, resource: str, row: dict) -> dict:
    """``GET …/webhook_key/``: ``{"webhook_key": key}`` for the template's admins (403 else)."""
    _require_admin(ctx, resource, row)
    return {"webhook_key": stored_key(ctx, row)}


def rotate_key(ctx, resource: str, row: dict, body: Any) -> str:
    """``POST …/webhook_key/``: store a new generated key, or the user's own ``{"webhook_key":
    "…"}`` (16 to 256 printable characters), and return it.  Template admins only; the activity
    stream records that the key changed, never the key."""
    _require_admin(ctx, resource, row)
    given = body.get("webhook_key") if isinstance(body, dict) else None
    if given in (None, ""):
        key = new_key()
    elif not isinstance(given, str) or not (MIN_USER_KEY <= len(given) <= MAX_KEY) or not given.isprintable() \
            or given != given.strip():
        raise ValidationError({"webhook_key": [
            f"Enter a key of {MIN_USER_KEY} to {MAX_KEY} printable characters without surrounding spaces."]})
    else:
        key = given
    res = ctx.registry[resource]
    ctx.store.update(res.table, row["id"], {"webhook_key": ctx.vault.encrypt(key)})
    activity.record(ctx, "update", res, row, changes={"webhook_key": [ENCRYPTED, ENCRYPTED]})
    return key

RECEIVERS = ("github", "gitlab", "bitbucket_dc")
TEMPLATE_ACTIONS = ("webhook_key", *RECEIVERS, "webhook")    # the generic receiver is for templates
PROJECT_ACTIONS = ("webhook_key", *RECEIVERS)


def receiver_related(plural: str, row: dict) -> dict:
    """AWX's ``related.webhook_receiver`` (the URL of the template's service), when one is set."""
    service = row.get("webhook_service")
    return {"webhook_receiver": f"/api/v2/{plural}/{row['id']}/{service}/"} if service else {}

"""The webhook credential of a template (job template or workflow job template, AWX
``WebhookTemplateMixin``): the token its jobs' status is posted back with.

Contract: :func:`check_webhook_credential` refuses (400, AWX's messages) a webhook credential that
is not a Personal Access Token, or whose kind is not the token of the selected service.
"""
from __future__ import annotations

from ..errors import ValidationError
from ..store import credentials as cred_sql


def check_webhook_credential(ctx, merged: dict) -> None:
    """Validate ``merged`` (the stored template with the change applied): its
    ``webhook_credential``, when set, must be the token credential of its ``webhook_service``."""
    cred = merged.get("webhook_credential")
    if cred is None:
        return
    ctype = cred_sql.credential_type_of(ctx.store, cred)
    if ctype is None or ctype["kind"] != "token":
        raise ValidationError({"webhook_credential": ["Must be a Personal Access Token."]})
    service = merged.get("webhook_service")
    if not service or ctype["namespace"] != f"{service}_token":
        raise ValidationError({"webhook_credential": ["Must match the selected webhook service."]})

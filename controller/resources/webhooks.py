"""Webhook declarations beyond the fields (those live with each template, project and job
resource, from :mod:`controller.webhooks.fields`): the job hooks of the status post-back."""
from __future__ import annotations

from ..registry import Registry
from ..webhooks.status import declare_status_hooks


def declare(reg: Registry) -> None:
    """Register the webhook hooks on the registry (the post-back's job hooks are added here)."""
    declare_status_hooks(reg)

"""Approval steps of workflows (stub: signatures of the contract; being written)."""
from __future__ import annotations

from datetime import datetime


def create_approval(ctx, template: dict, extra_fields: dict | None = None) -> dict:
    raise NotImplementedError


def decide(ctx, approval: dict, approve: bool, comment: str = "") -> None:
    raise NotImplementedError


def expire(ctx, now: datetime) -> None:
    raise NotImplementedError

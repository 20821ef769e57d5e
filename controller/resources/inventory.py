"""Inventory resources (declared in a later step)."""
from __future__ import annotations

from .registry import Registry


def declare(reg: Registry) -> None:
    """Add this domain's resources to the registry."""

"""Registers every unified job kind with the dispatcher."""
from __future__ import annotations

from . import project_update
from .dispatcher import register

register(project_update.KIND)

"""Registers every unified job kind with the dispatcher."""
from __future__ import annotations

from . import adhoc_run, inventory_update, job_run, project_update
from .dispatcher import register

register(project_update.KIND)
register(job_run.KIND)
register(adhoc_run.KIND)
register(inventory_update.KIND)

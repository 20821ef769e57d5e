"""Every unified job kind, declared once: ``KINDS`` maps a resource name to its ``JobKind``.

A plain mapping built at import, so a process that runs no job workers (``JOB_WORKERS=0``,
or ``turret serve`` before its workers have started) knows the kinds too: views such as
``stdout`` need each kind's events table, and must not depend on workers having started.
"""
from __future__ import annotations

from . import adhoc_run, inventory_update, job_run, project_update
from .dispatcher import JobKind

KINDS: dict[str, JobKind] = {kind.resource: kind for kind in (
    project_update.KIND, job_run.KIND, adhoc_run.KIND, inventory_update.KIND)}

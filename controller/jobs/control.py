"""Stopping unified jobs: the one place a cancel starts (API, later schedules and workflows),
and :func:`job_ended`, the one place the end of a job is announced."""
from __future__ import annotations

import logging

from .. import access, metrics, status
from ..errors import MethodNotAllowed
from ..store import jobs as q

log = logging.getLogger("turret.jobs")


def _announce(ctx, hooks: list, what: str, resource: str, pk: int) -> None:
    for hook in hooks:
        try:
            hook(ctx, resource, pk)
        except Exception:  # noqa: BLE001 - a listener must not undo or hide what happened to the job
            log.exception("job-%s hook %s failed for %s %s", what, getattr(hook, "__name__", hook), resource, pk)


def create_job(ctx, resource: str, values: dict) -> int:
    """Insert unified job ``values`` into ``resource``'s table and announce it to the registry's
    ``job_create_hooks``, in one transaction (joining the caller's): every unified job is
    created here.  Returns its id."""
    with ctx.store.transaction():
        pk = q.insert_job(ctx.store, ctx.registry[resource].table, values)
        job_created(ctx, resource, pk)
    return pk


def job_created(ctx, resource: str, pk: int) -> None:
    """Tell the registry's ``job_create_hooks`` that unified job ``pk`` was just inserted (call
    it inside the inserting transaction; :func:`create_job` does)."""
    _announce(ctx, ctx.registry.job_create_hooks, "create", resource, pk)


def job_started(ctx, resource: str, pk: int) -> None:
    """Tell the registry's ``job_start_hooks`` that unified job ``pk`` is now ``running``."""
    _announce(ctx, ctx.registry.job_start_hooks, "start", resource, pk)


def job_ended(ctx, resource: str, pk: int) -> None:
    """Tell the registry's ``job_end_hooks`` that unified job ``pk`` of ``resource`` has ended
    (its final status stored).  A failing hook is logged, never raised: the job has ended
    whatever a listener makes of it."""
    try:
        metrics.count_job_finished(resource, q.status_of(ctx.store, ctx.registry[resource].table, pk) or "")
    except Exception:  # noqa: BLE001 - counting must never hide a job's end
        log.exception("counting the end of %s %s failed", resource, pk)
    _announce(ctx, ctx.registry.job_end_hooks, "end", resource, pk)


def can_cancel(row: dict) -> bool:
    """Whether the job could still be canceled (it has not ended)."""
    return status.is_active(row["status"])


def cancel(ctx, resource, row: dict) -> None:
    """Cancel a job: at once when it has not started, else flag it for its worker (which may
    live in another process) and wake the local one; a kind with its own ``cancel`` (a
    workflow job) is handed to it.  405 when it has ended, 403 without the right to change it."""
    if not can_cancel(row):
        raise MethodNotAllowed("POST")
    access.require(access.can_change(ctx, resource, row))
    kind = resource.unified_job
    if kind is not None and kind.cancel is not None:     # its engine stops it (and what it spawned)
        kind.cancel(ctx, row)
        return
    if q.cancel_pending(ctx.store, resource.table, row["id"]):
        job_ended(ctx, resource.name, row["id"])
        return
    q.flag_cancel(ctx.store, resource.table, row["id"])
    if ctx.jobs is not None:
        ctx.jobs.cancel(resource.name, row["id"])

"""The state behind ``/api/v2/metrics/``: one :class:`controller.metrics.Snapshot` read from
the store when the endpoint is scraped (gauges are never kept in sync by callers).

Contracts:
  * Counts are system-wide (the endpoint is for superusers and auditors, as AWX's).
  * ``statuses`` counts every unified job (jobs, project and inventory updates, ad hoc
    commands, workflow jobs, approvals) by status; ``running`` / ``pending`` are two of them.
  * Instances are the ``instance`` resource's rows rendered as the API renders them (so
    ``capacity`` and ``consumed_capacity`` equal ``/api/v2/instances/``).
"""
from __future__ import annotations

from .. import metrics
from ..config import AWX_COMPAT_VERSION
from ..context import Context
from ..store import dashboard as sql
from .bootstrap import acting_as_system
from .serializer import serialize

COUNTED = ("organization", "user", "team", "inventory", "project", "job_template", "workflow_job_template",
           "schedule", "host")


def _instances(ctx: Context) -> list[metrics.InstanceSnapshot]:
    res = ctx.registry.get("instance")
    if res is None:
        return []
    out = []
    for item in serialize(acting_as_system(ctx), res, sql.instances(ctx.store)):
        out.append(metrics.InstanceSnapshot(
            hostname=str(item.get("hostname") or ""), uuid=str(item.get("uuid") or ""),
            node_type=str(item.get("node_type") or "hybrid"), capacity=int(item.get("capacity") or 0),
            consumed_capacity=int(item.get("consumed_capacity") or 0), cpu=float(item.get("cpu") or 0),
            # AWX reports memory in bytes on the instance and calls the gauge "RAM (Kb)": kept as is
            memory=int(item.get("memory") or 0), enabled=bool(item.get("enabled", True)),
            version=str(item.get("version") or "")))
    return out


def snapshot(ctx: Context, install_uuid: str) -> metrics.Snapshot:
    """The current state for the gauges (see the module contract)."""
    registry, store = ctx.registry, ctx.store
    tables = [registry[k.resource].table for k in registry.unified_jobs()]
    statuses = sql.status_counts(store, tables)
    counts = {name: sql.table_count(store, registry[name].table) for name in COUNTED if registry.get(name)}
    return metrics.Snapshot(
        version=AWX_COMPAT_VERSION, install_uuid=install_uuid, statuses=statuses,
        running=statuses.get("running", 0), pending=statuses.get("pending", 0), counts=counts,
        hosts_active=sql.table_count(store, "hosts", "enabled = 1"), instances=_instances(ctx))

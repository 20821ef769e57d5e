"""Action view of instances: ``GET /instances/N/health_check/`` shows the last health check,
``POST`` runs one now (a superuser's action, as AWX) and answers with its result.  Registered
on the action table when the app factory imports this module."""
from __future__ import annotations

from flask import Response

from .. import access
from ..services import instances
from .actions import action, reading
from .web import json_response

_HEALTH = ("uuid", "hostname", "version", "last_health_check", "errors", "cpu", "memory", "cpu_capacity",
           "mem_capacity", "capacity")


@action("health_check", resource="instance", methods=("GET", "POST"))
def instance_health_check_view(ctx, res, row) -> Response:
    if not reading():
        access.require(ctx.is_superuser)
        row = instances.health_check(ctx, row)
    configured = int(getattr(ctx.settings, "CAPACITY", 0) or 0) if row["hostname"] == instances.node_name() else 0
    body = {k: row.get(k) for k in _HEALTH}
    body.update(capacity=instances.capacity(row, configured), ip_address=row.get("ip_address") or "")
    return json_response(body, 200, {"Allow": "GET, POST, HEAD, OPTIONS"})

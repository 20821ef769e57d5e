"""``/api/v2/dashboard/``, ``/dashboard/graphs/jobs/`` and ``/api/v2/metrics/`` (read-only);
the numbers come from :mod:`controller.services.dashboard` and :mod:`controller.services.monitoring`."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from .. import metrics
from ..errors import NotAuthenticated, PermissionDenied
from ..services import dashboard, monitoring
from .web import json_response, public, require_user, slow

bp = Blueprint("dashboard", __name__)


@bp.route("/api/v2/dashboard/", methods=["GET", "HEAD"])
def dashboard_view() -> Response:
    return json_response(dashboard.dashboard(require_user()))


@bp.route("/api/v2/dashboard/graphs/jobs/", methods=["GET", "HEAD"])
@slow
def jobs_graph() -> Response:
    ctx = require_user()
    return json_response(dashboard.jobs_graph(ctx, request.args.get("period", "month"),
                                              request.args.get("job_type", "all")))


@bp.route("/api/v2/metrics/", methods=["GET", "HEAD"])
@public      # authentication is decided here: ALLOW_METRICS_FOR_ANONYMOUS_USERS may open it
@slow
def metrics_view() -> Response:
    """Prometheus text for superusers and auditors; AWX's JSON rendering for ``?format=json``
    or a client that prefers ``application/json`` (awxkit's ``awx metrics`` asks so)."""
    ctx = g.ctx
    if not ctx.settings.ALLOW_METRICS_FOR_ANONYMOUS_USERS:
        if ctx.user is None:
            raise NotAuthenticated()
        if not ctx.is_auditor:
            raise PermissionDenied()
    text = metrics.render(monitoring.snapshot(ctx, current_app.config["TURRET"].install_uuid))
    wants = request.accept_mimetypes.best_match(["text/plain", "application/json"], default="text/plain")
    if request.args.get("format") == "json" or wants == "application/json":
        return json_response(metrics.render_json(text))
    return Response(text, mimetype="text/plain", content_type=metrics.CONTENT_TYPE)

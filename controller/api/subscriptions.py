"""Licence and subscription routes of ``/api/v2/config/`` (AWX open edition behaviour, see
:mod:`controller.services.subscriptions`); ``GET /api/v2/config/`` itself lives in root."""
from __future__ import annotations

from flask import Blueprint, Response

from ..services import subscriptions
from .web import json_response, parse_body, require_user

bp = Blueprint("subscriptions", __name__)


def config_write(method: str) -> Response:
    """POST / DELETE ``/api/v2/config/`` (called by root's config view)."""
    ctx = require_user()
    if method == "DELETE":
        subscriptions.remove_license(ctx)
        return json_response(None, 204)
    return json_response(subscriptions.install_license(ctx, parse_body()))


@bp.route("/api/v2/config/subscriptions/", methods=["POST"])
def subscriptions_view() -> Response:
    return json_response(subscriptions.list_subscriptions(require_user(), parse_body()))


@bp.route("/api/v2/config/attach/", methods=["POST"])
def attach_view() -> Response:
    return json_response(subscriptions.attach_subscription(require_user(), parse_body()))

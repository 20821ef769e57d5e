"""Action view of notification templates: ``POST /notification_templates/N/test/`` records a
test send and answers 202 ``{"notification": id}`` (registered on the action table when the app
factory imports this module).  Testing needs the right to change the template (AWX's
``can_start``)."""
from __future__ import annotations

from flask import Response

from .. import access
from ..notifications import routing
from .actions import action
from .web import json_response


@action("test", resource="notification_template", methods=("POST",))
def notification_test_view(ctx, res, row) -> Response:
    access.require(access.can_change(ctx, res, row))
    pk = routing.send_test(ctx, row)
    return json_response({"notification": pk}, 202,
                         {"Allow": "POST, OPTIONS", "Location": ctx.registry["notification"].url(pk)})

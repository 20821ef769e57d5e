"""Action view of notification templates: ``POST /notification_templates/N/test/`` records a
test send and answers 202 with ``notification`` (its id) and the whole send record as
``/notifications/N/`` shows it (AWX's ``NotificationTemplateTest``), registered on the action
table when the app factory imports this module.  Testing needs the right to change the
template (AWX's ``can_start``)."""
from __future__ import annotations

from flask import Response

from .. import access
from ..notifications import routing
from ..services.serializer import serialize_one
from .actions import action
from .web import json_response


@action("test", resource="notification_template", methods=("POST",))
def notification_test_view(ctx, res, row) -> Response:
    access.require(access.can_change(ctx, res, row))
    pk = routing.send_test(ctx, row)
    notification = ctx.registry["notification"]
    record = serialize_one(ctx, notification, ctx.store.get(notification.table, pk))
    return json_response({"notification": pk, **record}, 202,
                         {"Allow": "POST, OPTIONS", "Location": notification.url(pk)})


notification_test_view.view_name = "Notification Template Test"  # type: ignore[attr-defined]

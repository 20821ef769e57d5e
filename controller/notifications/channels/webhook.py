"""JSON-body senders with AWX's exact semantics: ``webhook``, ``grafana`` and ``pagerduty``."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ...services.variables import json_mapping
from .base import (USER_AGENT, Message, SendError, basic_auth, post_json, request, require_ok,
                   resolve_location)

PAGERDUTY_EVENTS = "https://events.pagerduty.com"
PAGERDUTY_PATH = "/generic/2010-04-15/create_event.json"
# AWX's WebhookBackend.MAX_RETRIES: how many 301/307 answers are followed.
MAX_REDIRECTS = 5


def json_object(body: Any) -> dict:
    """AWX's ``format_body`` of webhook and grafana: the body as a JSON object, else ``{}``."""
    return json_mapping(body)


def webhook_payload(body: Any) -> Any:
    """What AWX's webhook backend sends of a body: the JSON object it parses to; ``{}`` when it is
    not JSON (or empty); any other JSON value (``"{{ job.id }}"`` renders ``42``) leaves the
    text as it is, sent as a JSON string."""
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        if isinstance(parsed, dict):
            return parsed
    return body or {}


def send_webhook(config: dict[str, Any], message: Message) -> int:
    """AWX's webhook: POST or PUT the body (:func:`webhook_payload`) as UTF-8 JSON with
    ``Content-Type: application/json``, a User-Agent and the configured ``headers`` on top;
    Basic auth when a username or password is set; 301/307 followed up to 5 times (same method
    and body); 4xx/5xx raise ``Error sending webhook notification: <status>``."""
    method = str(config.get("http_method") or "POST").upper()
    if method not in ("POST", "PUT"):
        raise SendError("HTTP method must be either 'POST' or 'PUT'.")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **{str(k): str(v) for k, v in (config.get("headers") or {}).items()}}
    if config.get("username") or config.get("password"):
        headers["Authorization"] = basic_auth(str(config.get("username") or ""), str(config.get("password") or ""))
    data = json.dumps(webhook_payload(message.body), ensure_ascii=False).encode("utf-8")
    url = str(config.get("url") or "")
    verify = not config.get("disable_ssl_verification")
    for _ in range(MAX_REDIRECTS):
        reply = request(method, url, body=data, headers=headers, timeout=message.timeout, verify=verify,
                        what="webhook notification")
        if reply.status not in (301, 307):
            break
        target = resolve_location(url, reply)
        if target is None:
            raise SendError("Webhook notification received a redirect to a blank URL")
        url = target
    else:
        raise SendError(f"Webhook notification max number of retries [{MAX_REDIRECTS}] exceeded.")
    if reply.status >= 400:
        raise SendError(f"Error sending webhook notification: {reply.status}")
    # AWX counts only 2xx answers as sent (a 3xx other than 301/307 is no error, and no send).
    return 1 if 200 <= reply.status < 299 else 0


def _epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch of an ISO timestamp (naive means UTC)."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def grafana_annotation(config: dict[str, Any], message: Message) -> dict[str, Any]:
    """AWX's annotation: ``time``/``timeEnd`` from the body's ``started``/``finished`` (the
    default body is the job metadata), ``isRegion``, optional dashboard/panel ids and tags,
    the subject as ``text``."""
    body = json_object(message.body)
    data: dict[str, Any] = {}
    if "started" in body:
        try:
            data["time"] = data["timeEnd"] = _epoch_ms(body["started"])
            if body.get("finished"):
                data["timeEnd"] = _epoch_ms(body["finished"])
        except (TypeError, ValueError):
            raise SendError(f"Error converting time {body.get('started')} and/or timeEnd "
                            f"{body.get('finished')} to int.") from None
    data["isRegion"] = config.get("isRegion", True)
    if config.get("dashboardId") is not None:
        data["dashboardId"] = int(config["dashboardId"])
    if config.get("panelId") is not None:
        data["panelId"] = int(config["panelId"])
    if config.get("annotation_tags"):
        data["tags"] = list(config["annotation_tags"])
    data["text"] = message.subject
    return data


def send_grafana(config: dict[str, Any], message: Message) -> int:
    """POST the annotation to ``<grafana_url>/api/annotations`` with the key as Bearer token."""
    url = str(config.get("grafana_url") or "").rstrip("/") + "/api/annotations"
    require_ok(post_json(url, grafana_annotation(config, message), message, what="grafana",
                         headers={"Authorization": f"Bearer {config.get('grafana_key') or ''}"},
                         verify=not config.get("grafana_no_verify_ssl")), "grafana")
    return 1


def pagerduty_event(config: dict[str, Any], message: Message) -> dict[str, Any]:
    """A ``trigger`` event of PagerDuty's Events API v1 (what AWX's pygerduty call sends):
    the subject as description, the body (a JSON object when it parses as one) as details,
    ``client_name`` as client."""
    body = message.body
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
            body = parsed if isinstance(parsed, dict) else body
        except ValueError:
            pass
    event: dict[str, Any] = {"service_key": str(config.get("service_key") or ""), "event_type": "trigger",
                             "description": message.subject, "details": body}
    if config.get("client_name"):
        event["client"] = str(config["client_name"])
    return event


def send_pagerduty(config: dict[str, Any], message: Message) -> int:
    """POST the event; PagerDuty answers ``{"status": "success", ...}`` or an error document.
    (``subdomain`` and ``token`` belong to PagerDuty's REST API, which sending does not use.)"""
    url = str(config.get("api_url") or PAGERDUTY_EVENTS).rstrip("/") + PAGERDUTY_PATH
    reply = post_json(url, pagerduty_event(config, message), message, what="pagerduty")
    answer = reply.json() or {}
    if reply.status >= 400 or answer.get("status") != "success":
        detail = answer.get("message") or answer.get("status") or f"HTTP {reply.status}"
        raise SendError(f"Error sending notification pagerduty: {reply.status} {detail}")
    return 1

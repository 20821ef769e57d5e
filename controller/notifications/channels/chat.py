"""Chat senders: AWX's ``slack``, ``mattermost``, ``rocketchat``; Turret's ``teams``, ``telegram``, ``discord``.

AWX's chat types post the rendered ``message`` (subject) only, as AWX does.  Turret's use the
body too (as detail text) because their formats have room for it.
"""
from __future__ import annotations

from typing import Any

from .base import Message, SendError, as_list, post_json, require_ok, text_of, truncate

SLACK_API = "https://slack.com/api"
TELEGRAM_API = "https://api.telegram.org"
TEAMS_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Discord embed colours by job status (green, red, blue for anything in between).
DISCORD_COLORS = {"successful": 0x2EB67D, "failed": 0xE01E5A, "error": 0xE01E5A, "canceled": 0x9E9E9E}


def send_slack(config: dict[str, Any], message: Message) -> int:
    """``chat.postMessage`` per channel with the token as Bearer; ``#chan`` and ``chan,thread_ts``
    as AWX; ``hex_color`` (``#RGB``/``#RRGGBB``) turns the text into a coloured attachment.
    Slack answers 200 with ``"ok": false`` on failure: that raises, naming Slack's error code."""
    token = str(config.get("token") or "")
    color = str(config.get("hex_color") or "")
    color = color if color.startswith("#") and len(color) in (4, 7) else ""
    url = str(config.get("api_url") or SLACK_API).rstrip("/") + "/chat.postMessage"
    sent = 0
    for recipient in as_list(config.get("channels")):
        channel, _, thread = recipient.removeprefix("#").partition(",")
        payload: dict[str, Any] = {"channel": channel, "as_user": True}
        if thread:
            payload["thread_ts"] = thread
        if color:
            payload["attachments"] = [{"color": color, "text": message.subject}]
        else:
            payload["text"] = message.subject
        reply = require_ok(post_json(url, payload, message, what="slack",
                                     headers={"Content-Type": "application/json;charset=utf-8",
                                              "Authorization": f"Bearer {token}"}), "slack")
        answer = reply.json() or {}
        if not answer.get("ok"):
            raise SendError(f"Slack Notification unable to send {recipient}: {answer.get('error', 'no answer')}")
        sent += 1
    return sent


def send_mattermost(config: dict[str, Any], message: Message) -> int:
    """POST ``{"text": subject}`` plus the optional channel, username and icon_url (AWX)."""
    payload = {}
    for key, name in (("mattermost_icon_url", "icon_url"), ("mattermost_channel", "channel"),
                      ("mattermost_username", "username")):
        if config.get(key) is not None:
            payload[name] = str(config[key]).strip()
    payload["text"] = message.subject
    require_ok(post_json(str(config.get("mattermost_url") or ""), payload, message, what="mattermost",
                         verify=not config.get("mattermost_no_verify_ssl")), "mattermost")
    return 1


def send_rocketchat(config: dict[str, Any], message: Message) -> int:
    """POST ``{"text": subject}`` plus the optional username and icon_url (AWX)."""
    payload: dict[str, Any] = {"text": message.subject}
    for key, name in (("rocketchat_icon_url", "icon_url"), ("rocketchat_username", "username")):
        if config.get(key) is not None:
            payload[name] = str(config[key]).strip()
    require_ok(post_json(str(config.get("rocketchat_url") or ""), payload, message, what="rocket.chat",
                         verify=not config.get("rocketchat_no_verify_ssl")), "rocket.chat")
    return 1


def teams_card(message: Message) -> dict[str, Any]:
    """The Power Automate Workflows envelope: a ``message`` whose attachments hold one Adaptive
    Card 1.4 (the flow iterates ``body.attachments``; a bare card fails in the flow)."""
    blocks: list[dict[str, Any]] = [{"type": "TextBlock", "text": message.subject, "weight": "Bolder", "wrap": True}]
    if isinstance(message.body, str) and message.body.strip():
        blocks.append({"type": "TextBlock", "text": message.body, "wrap": True})
    if message.status:
        blocks.append({"type": "FactSet", "facts": [{"title": "Status:", "value": message.status}]})
    content: dict[str, Any] = {"$schema": TEAMS_CARD_SCHEMA, "type": "AdaptiveCard", "version": "1.4", "body": blocks}
    if message.url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": message.url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}


def send_teams(config: dict[str, Any], message: Message) -> int:
    """POST the card to the Workflows URL; any 2xx (usually 202) is delivered."""
    require_ok(post_json(str(config.get("webhook_url") or ""), teams_card(message), message, what="teams"), "teams")
    return 1


def send_telegram(config: dict[str, Any], message: Message) -> int:
    """``sendMessage`` per chat id with ``text`` (subject, then body; ≤ 4096 characters) and the
    optional ``parse_mode``; Telegram's ``"ok": false`` raises with its description."""
    base = str(config.get("api_url") or TELEGRAM_API).rstrip("/")
    url = f"{base}/bot{config.get('bot_token') or ''}/sendMessage"
    sent = 0
    for chat_id in as_list(config.get("chat_ids")):
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text_of(message, 4096)}
        if config.get("parse_mode"):
            payload["parse_mode"] = str(config["parse_mode"])
        if config.get("disable_notification"):
            payload["disable_notification"] = True
        reply = post_json(url, payload, message, what="telegram")
        answer = reply.json() or {}
        if not answer.get("ok"):
            detail = answer.get("description") or f"HTTP {reply.status}"
            raise SendError(f"Telegram could not send to chat {chat_id}: {detail}")
        sent += 1
    return sent


def discord_payload(config: dict[str, Any], message: Message) -> dict[str, Any]:
    """``content`` = subject (≤ 2000 characters); one embed with the body (≤ 4096), the link and
    a colour by status when there is a body or a link."""
    payload: dict[str, Any] = {"content": truncate(message.subject, 2000)}
    if config.get("username"):
        payload["username"] = str(config["username"])
    if config.get("avatar_url"):
        payload["avatar_url"] = str(config["avatar_url"])
    body = message.body if isinstance(message.body, str) else ""
    if body.strip() or message.url:
        embed: dict[str, Any] = {"title": truncate(message.subject, 256),
                                 "color": DISCORD_COLORS.get(message.status, 0x3B82F6)}
        if body.strip():
            embed["description"] = truncate(body, 4096)
        if message.url:
            embed["url"] = message.url
        payload["embeds"] = [embed]
    return payload


def send_discord(config: dict[str, Any], message: Message) -> int:
    """POST the payload to the channel webhook; Discord answers 204 (or 200 with ``?wait=true``)."""
    require_ok(post_json(str(config.get("webhook_url") or ""), discord_payload(config, message), message,
                         what="discord"), "discord")
    return 1

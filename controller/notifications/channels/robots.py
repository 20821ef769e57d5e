"""Group robots: ``dingtalk`` (custom robot, optional signing) and ``wecom`` (WeCom group robot).

Both answer HTTP 200 even when they refuse a message: success is ``errcode == 0`` in the JSON
answer, anything else is a failure carrying the robot's ``errcode`` and ``errmsg``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, Callable
from urllib.parse import quote_plus

from .base import Message, Reply, SendError, as_list, post_json, require_ok, text_of, truncate_bytes

# WeCom's documented limits: text content 2048 bytes, markdown content 4096 bytes.
WECOM_TEXT_BYTES = 2048
WECOM_MARKDOWN_BYTES = 4096


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: url-quoted base64 of HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def dingtalk_url(webhook_url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with ``timestamp`` and ``sign`` appended when a secret is set."""
    if not secret:
        return webhook_url
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def dingtalk_payload(config: dict[str, Any], message: Message) -> dict[str, Any]:
    """``text`` or ``markdown`` (``msgtype``) with the ``at`` block; mentioned mobiles and user ids
    are also written into the text, where DingTalk needs them to highlight the mention."""
    mobiles = as_list(config.get("at_mobiles"))
    user_ids = as_list(config.get("at_user_ids"))
    mentions = " ".join(f"@{m}" for m in [*mobiles, *user_ids])
    if config.get("msgtype") == "markdown":
        body = message.body if isinstance(message.body, str) else ""
        text = f"#### {message.subject}\n\n{body}".rstrip()
        if message.url:
            text += f"\n\n[{message.url}]({message.url})"
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {
            "title": message.subject, "text": f"{text}\n\n{mentions}" if mentions else text}}
    else:
        text = text_of(message)
        payload = {"msgtype": "text", "text": {"content": f"{text} {mentions}" if mentions else text}}
    payload["at"] = {"atMobiles": mobiles, "atUserIds": user_ids, "isAtAll": bool(config.get("is_at_all"))}
    return payload


def check_errcode(reply: Reply, what: str) -> None:
    """Raise unless the robot answered ``{"errcode": 0, ...}``."""
    require_ok(reply, what)
    answer = reply.json()
    if not isinstance(answer, dict) or "errcode" not in answer:
        raise SendError(f"Error sending notification {what}: unexpected answer (HTTP {reply.status})")
    if answer["errcode"] != 0:
        raise SendError(f"{what} robot refused the message: errcode {answer['errcode']}: {answer.get('errmsg', '')}")


def send_dingtalk(config: dict[str, Any], message: Message, clock: Callable[[], float] = time.time) -> int:
    """POST to the robot; with a ``secret`` the URL is signed with the current time in ms."""
    url = dingtalk_url(str(config.get("webhook_url") or ""), str(config.get("secret") or ""), int(clock() * 1000))
    check_errcode(post_json(url, dingtalk_payload(config, message), message, what="dingtalk"), "dingtalk")
    return 1


def wecom_payload(config: dict[str, Any], message: Message) -> dict[str, Any]:
    """``text`` (with ``mentioned_list``/``mentioned_mobile_list``) or ``markdown`` (mentions as
    ``<@userid>``; WeCom markdown has no mobile mentions), cut to WeCom's byte limits."""
    users = as_list(config.get("mentioned_list"))
    mobiles = as_list(config.get("mentioned_mobile_list"))
    if config.get("msgtype") == "markdown":
        body = message.body if isinstance(message.body, str) else ""
        text = f"**{message.subject}**\n{body}".rstrip()
        if message.url:
            text += f"\n[{message.url}]({message.url})"
        if users:
            text += "\n" + " ".join(f"<@{u}>" for u in users)
        return {"msgtype": "markdown", "markdown": {"content": truncate_bytes(text, WECOM_MARKDOWN_BYTES)}}
    content: dict[str, Any] = {"content": truncate_bytes(text_of(message), WECOM_TEXT_BYTES)}
    if users:
        content["mentioned_list"] = users
    if mobiles:
        content["mentioned_mobile_list"] = mobiles
    return {"msgtype": "text", "text": content}


def send_wecom(config: dict[str, Any], message: Message) -> int:
    """POST to the group robot's webhook (its ``key`` query parameter is the secret)."""
    check_errcode(post_json(str(config.get("webhook_url") or ""), wecom_payload(config, message), message,
                            what="wecom"), "wecom")
    return 1

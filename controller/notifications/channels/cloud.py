"""Cloud APIs: ``twilio`` (SMS) and ``awssns`` (SNS Publish signed with AWS Signature V4 by hand,
:mod:`controller.services.sigv4`: boto3 is not a dependency).
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

from ...services.sigv4 import sigv4_headers
from .base import USER_AGENT, Message, SendError, as_list, basic_auth, request

TWILIO_API = "https://api.twilio.com"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def send_twilio(config: dict[str, Any], message: Message) -> int:
    """One SMS per ``to_numbers`` entry (``POST /2010-04-01/Accounts/<sid>/Messages.json`` with
    To, From, Body = subject; Basic auth sid:token).  As AWX, every number is tried; any failure
    raises after the others were sent."""
    sid = str(config.get("account_sid") or "")
    base = str(config.get("api_url") or TWILIO_API).rstrip("/")
    url = f"{base}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
    headers = {"Content-Type": FORM, "User-Agent": USER_AGENT, "Accept": "application/json",
               "Authorization": basic_auth(sid, str(config.get("account_token") or ""))}
    sent, failures = 0, []
    for number in as_list(config.get("to_numbers")):
        form = urlencode({"To": number, "From": str(config.get("from_number") or ""), "Body": message.subject})
        try:
            reply = request("POST", url, body=form.encode("utf-8"), headers=headers, timeout=message.timeout,
                            what="twilio")
        except SendError as exc:
            failures.append(f"{number}: {exc}")
            continue
        if reply.status >= 400:
            answer = reply.json() or {}
            failures.append(f"{number}: {reply.status} {answer.get('message', '')}".rstrip())
        else:
            sent += 1
    if failures:
        raise SendError(f"Twilio could not send {len(failures)} of {sent + len(failures)} SMS: " + "; ".join(failures))
    return sent


def sns_message(body: Any) -> str:
    """AWX's ``format_body`` of awssns: JSON text of an object body, any other text as is."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body
    return json.dumps(body) if isinstance(body, dict) else (body if isinstance(body, str) else json.dumps(body))


def send_awssns(config: dict[str, Any], message: Message) -> int:
    """``Publish`` (API version 2010-03-31) of the body to ``sns_topic_arn``; the region comes
    from ``aws_region`` or else the topic ARN; ``api_url`` overrides the regional endpoint."""
    topic = str(config.get("sns_topic_arn") or "")
    arn = re.match(r"arn:[^:]+:sns:([^:]+):", topic)
    region = str(config.get("aws_region") or (arn.group(1) if arn else ""))
    if not region:
        raise SendError("AWS SNS needs aws_region (or a topic ARN that names the region)")
    if not config.get("aws_access_key_id") or not config.get("aws_secret_access_key"):
        raise SendError("AWS SNS needs aws_access_key_id and aws_secret_access_key")
    url = str(config.get("api_url") or f"https://sns.{region}.amazonaws.com").rstrip("/") + "/"
    form = urlencode({"Action": "Publish", "Version": "2010-03-31", "TopicArn": topic,
                      "Message": sns_message(message.body)}, quote_via=quote).encode("utf-8")
    headers = sigv4_headers("POST", url, form, {"Content-Type": FORM}, region=region, service="sns",
                            access_key=str(config["aws_access_key_id"]),
                            secret_key=str(config["aws_secret_access_key"]),
                            session_token=str(config.get("aws_session_token") or ""))
    headers["User-Agent"] = USER_AGENT
    reply = request("POST", url, body=form, headers=headers, timeout=message.timeout, what="awssns")
    if reply.status >= 400:
        text = reply.body.decode("utf-8", "replace")
        code = re.search(r"<Code>([^<]*)</Code>", text)
        detail = re.search(r"<Message>([^<]*)</Message>", text)
        raise SendError(f"AWS SNS Publish failed: {reply.status} {code.group(1) if code else ''} "
                        f"{detail.group(1) if detail else ''}".rstrip())
    return 1

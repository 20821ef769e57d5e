"""Cloud APIs: ``twilio`` (SMS) and ``awssns`` (SNS Publish signed with AWS Signature V4 by hand).

SigV4 is written with hashlib/hmac instead of boto3 (not a dependency; one request type).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import quote, unquote, urlencode, urlsplit

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


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(method: str, url: str, body: bytes, headers: Mapping[str, str], *, region: str, service: str,
                  access_key: str, secret_key: str, session_token: str = "",
                  now: datetime | None = None) -> dict[str, str]:
    """``headers`` plus Host, X-Amz-Date, (X-Amz-Security-Token) and the SigV4 Authorization.

    Every given header is signed.  The path is used as given (already URI-encoded, '/' if empty).
    """
    parts = urlsplit(url)
    moment = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    signed = {"host": parts.netloc, "x-amz-date": moment, **{k.lower(): str(v) for k, v in headers.items()}}
    if session_token:
        signed["x-amz-security-token"] = session_token
    names = sorted(signed)
    pairs = sorted((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
                   for k, _, v in (p.partition("=") for p in parts.query.split("&") if p))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical = "\n".join([method, parts.path or "/", query,
                           "".join(f"{n}:{' '.join(signed[n].split())}\n" for n in names),
                           ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{moment[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", moment, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), moment[:8]), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {**dict(headers), "Host": parts.netloc, "X-Amz-Date": moment}
    if session_token:
        out["X-Amz-Security-Token"] = session_token
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out


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

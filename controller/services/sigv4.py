"""AWS Signature Version 4 request signing, written with hashlib/hmac (boto3 is not a
dependency): the SNS notification channel and the AWS Secrets Manager credential lookup sign
their one request type each with :func:`sigv4_headers`.

Contract: pure (no I/O); the secret key only enters the HMAC chain and never the result.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Mapping
from urllib.parse import quote, unquote, urlsplit


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

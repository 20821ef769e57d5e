"""Delinea (formerly Thycotic): ``thycotic_tss`` (Secret Server) and ``thycotic_dsv`` (DevOps
Secrets Vault), over their REST APIs as Delinea's SDKs call them."""
from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from .base import Backend, field, required, secret, text
from .http import LookupFailed, call, expect_ok, json_body

TSS_INPUTS = {
    "fields": [
        field("server_url", "Secret Server URL",
              help_text="The Base URL of Secret Server e.g. https://myserver/SecretServer or "
                        "https://mytenant.secretservercloud.com"),
        field("username", "Username", help_text="The (Application) user username"),
        field("domain", "Domain", help_text="The (Application) user domain"),
        secret("password", "Password", help_text="The corresponding password"),
    ],
    "metadata": [
        field("secret_id", "Secret ID", help_text="The integer ID of the secret"),
        field("secret_field", "Secret Field", help_text="The field to extract from the secret"),
    ],
    "required": ["server_url", "username", "password", "secret_id", "secret_field"],
}

DSV_INPUTS = {
    "fields": [
        field("tenant", "Tenant", help_text='The tenant e.g. "ex" when the URL is https://ex.secretsvaultcloud.com'),
        {"id": "tld", "label": "Top-level Domain (TLD)",
         "help_text": 'The TLD of the tenant e.g. "com" when the URL is https://ex.secretsvaultcloud.com',
         "choices": ["ca", "com", "com.au", "eu"], "default": "com"},
        field("client_id", "Client ID"),
        secret("client_secret", "Client Secret"),
    ],
    "metadata": [
        field("path", "Secret Path", help_text="The secret path e.g. /test/secret1"),
        field("secret_field", "Secret Field", help_text="The field to extract from the secret"),
        field("secret_decoding", "Should the secret be base64 decoded?",
              help_text="Specify whether the secret should be base64 decoded, typically used for storing files, "
                        "such as SSH keys", choices=["No Decoding", "Decode Base64"], default="No Decoding"),
    ],
    "required": ["tenant", "client_id", "client_secret", "path", "secret_field", "secret_decoding"],
}
DSV_URL = "https://{}.secretsvaultcloud.{}"


def _bearer(reply_json: Any, key: str) -> dict[str, str]:
    token = reply_json.get(key) if isinstance(reply_json, dict) else None
    if not token:
        raise LookupFailed("the token answer has no " + key)
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def tss_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """``POST <server>/oauth2/token`` (password grant, with the domain when given), then
    ``GET <server>/api/v1/secrets/<id>``: the item whose slug (or field name) is
    ``secret_field``; a file field's content is read from ``.../fields/<slug>``."""
    required(params, "server_url", "username", "password", "secret_id", "secret_field")
    base = text(params, "server_url").rstrip("/")
    grant = {"grant_type": "password", "username": text(params, "username"), "password": text(params, "password")}
    if params.get("domain"):
        grant["domain"] = text(params, "domain")
    reply = expect_ok(call("POST", base + "/oauth2/token", body=urlencode(grant).encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}))
    headers = _bearer(reply.json(), "access_token")
    secret_id = quote(text(params, "secret_id"), safe="")
    answer = expect_ok(call("GET", f"{base}/api/v1/secrets/{secret_id}", headers=headers)).json()
    wanted = text(params, "secret_field")
    items = answer.get("items") if isinstance(answer, dict) else None
    for item in items or []:
        if wanted in (item.get("slug"), item.get("fieldName")):
            if item.get("isFile") or item.get("fileAttachmentId"):
                slug = quote(str(item.get("slug") or wanted), safe="")
                return expect_ok(call("GET", f"{base}/api/v1/secrets/{secret_id}/fields/{slug}",
                                      headers=headers)).text
            value = item.get("itemValue")
            return "" if value is None else str(value)
    raise LookupFailed(f"the secret has no field {wanted}")


def dsv_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """``POST <tenant URL>/v1/token`` (client credentials), ``GET /v1/secrets/<path>``: the
    field of the secret's ``data`` (base64-decoded when asked)."""
    required(params, "tenant", "client_id", "client_secret", "path", "secret_field")
    base = DSV_URL.format(text(params, "tenant"), text(params, "tld", "com").strip("."))
    body, headers = json_body({"grant_type": "client_credentials", "client_id": text(params, "client_id"),
                               "client_secret": text(params, "client_secret")})
    auth = _bearer(expect_ok(call("POST", base + "/v1/token", body=body, headers=headers)).json(), "accessToken")
    path = "/".join(quote(p, safe="") for p in text(params, "path").strip("/").split("/"))
    answer = expect_ok(call("GET", f"{base}/v1/secrets/{path}", headers=auth)).json()
    data = answer.get("data") if isinstance(answer, dict) else None
    wanted = text(params, "secret_field")
    if not isinstance(data, dict) or wanted not in data:
        raise LookupFailed(f"the secret has no field {wanted}")
    value = str(data[wanted])
    if text(params, "secret_decoding") == "Decode Base64":
        try:
            return base64.b64decode(value).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise LookupFailed(f"field {wanted} is not base64") from None
    return value


BACKENDS = (
    Backend("thycotic_dsv", "Thycotic DevOps Secrets Vault", DSV_INPUTS, dsv_lookup),
    Backend("thycotic_tss", "Thycotic Secret Server", TSS_INPUTS, tss_lookup),
)

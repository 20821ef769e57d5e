"""CyberArk: ``conjur`` (Conjur Secrets Manager) and ``aim`` (Central Credential Provider),
with AWX's inputs and requests."""
from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping
from urllib.parse import quote, urlencode, urljoin

from .base import Backend, field, required, secret, text
from .http import LookupFailed, Reply, call, expect_ok

CONJUR_INPUTS = {
    "fields": [
        field("url", "Conjur URL", format="url"),
        secret("api_key", "API Key"),
        field("account", "Account"),
        field("username", "Username"),
        field("cacert", "Public Key Certificate", multiline=True),
    ],
    "metadata": [
        field("secret_path", "Secret Identifier", help_text="The identifier for the secret e.g., /some/identifier"),
        field("secret_version", "Secret Version",
              help_text="Used to specify a specific secret version (if left empty, the latest version will be used)."),
    ],
    "required": ["url", "api_key", "account", "username"],
}

AIM_INPUTS = {
    "fields": [
        field("url", "CyberArk CCP URL", format="url"),
        field("webservice_id", "Web Service ID",
              help_text="The CCP Web Service ID. Leave blank to default to AIMWebService."),
        secret("app_id", "Application ID"),
        secret("client_key", "Client Key", multiline=True),
        secret("client_cert", "Client Certificate", multiline=True),
        field("verify", "Verify SSL Certificates", "boolean", default=True),
    ],
    "metadata": [
        field("object_query", "Object Query",
              help_text="Lookup query for the object. Ex: Safe=TestSafe;Object=testAccountName123"),
        field("object_query_format", "Object Query Format", default="Exact", choices=["Exact", "Regexp"]),
        field("object_property", "Object Property",
              help_text="The property of the object to return. Available properties: Username, Password and "
                        "Address."),
        field("reason", "Reason",
              help_text="Object request reason. This is only needed if it is required by the object's policy."),
    ],
    "required": ["url", "app_id", "object_query"],
}


def _is_base64(token: str) -> bool:
    try:
        return base64.b64encode(base64.b64decode(token.encode())) == token.encode()
    except (binascii.Error, ValueError):
        return False


def _first_ok(method: str, urls: list[str], **kwargs: Any) -> Reply:
    """Conjur Enterprise paths first, then Conjur Cloud's (``api/...``) when the first fails."""
    reply = call(method, urls[0], **kwargs)
    if reply.status >= 400:
        reply = call(method, urls[1], **kwargs)
    return expect_ok(reply)


def conjur_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """Authenticate with the API key (``POST authn/<account>/<login>/authenticate``), then read
    the variable (``GET secrets/<account>/variable/<id>[?version=N]``)."""
    required(params, "url", "api_key", "account", "username", "secret_path")
    url, cacert = text(params, "url"), params.get("cacert") or None
    account, login = quote(text(params, "account"), safe=""), quote(text(params, "username"), safe="")
    variable = quote(text(params, "secret_path"), safe="")
    auth = "/".join(["authn", account, login, "authenticate"])
    reply = _first_ok("POST", [urljoin(url, auth), urljoin(url, "api/" + auth)],
                      headers={"Content-Type": "text/plain", "Accept-Encoding": "base64"},
                      body=text(params, "api_key").encode(), cacert=cacert)
    token = reply.text
    token = token if _is_base64(token) else base64.b64encode(token.encode()).decode()
    path = "/".join(["secrets", account, "variable", variable])
    query = ("?" + urlencode({"version": text(params, "secret_version")})) if params.get("secret_version") else ""
    reply = _first_ok("GET", [urljoin(url, path) + query, urljoin(url, "api/" + path) + query],
                      headers={"Authorization": f'Token token="{token}"'}, cacert=cacert)
    return reply.text


_AIM_PROPERTIES = {"": "Content", "username": "UserName", "password": "Content", "address": "Address"}


def aim_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """``GET <webservice>/api/Accounts?AppId=..&Query=..&QueryFormat=..[&reason=..]`` with the
    client certificate; the answer's property (Content = the password by default)."""
    required(params, "url", "app_id", "object_query")
    query = {"AppId": text(params, "app_id"), "Query": text(params, "object_query"),
             "QueryFormat": text(params, "object_query_format", "Exact")}
    if params.get("reason"):
        query["reason"] = text(params, "reason")
    service = text(params, "webservice_id", "AIMWebService")
    url = urljoin(text(params, "url"), "/".join([service, "api", "Accounts"])) + "?" + urlencode(query, quote_via=quote)
    cert = (text(params, "client_cert"), text(params, "client_key")) if params.get("client_cert") else None
    reply = expect_ok(call("GET", url, client_cert=cert, verify=params.get("verify") is not False))
    wanted = text(params, "object_property")
    key = _AIM_PROPERTIES.get(wanted.lower(), wanted.capitalize())
    answer = reply.json()
    if not isinstance(answer, dict) or key not in answer:
        raise LookupFailed(f"Property {wanted} not found in object, available properties: Username, Password "
                           "and Address")
    return str(answer[key])


BACKENDS = (
    Backend("conjur", "CyberArk Conjur Secrets Manager Lookup", CONJUR_INPUTS, conjur_lookup),
    Backend("aim", "CyberArk Central Credential Provider Lookup", AIM_INPUTS, aim_lookup),
)

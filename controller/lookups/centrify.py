"""Centrify Vault (``centrify_vault_kv``): an OAuth2 client-credentials token, the account's id
by a RedRock query, then a password checkout, as AWX's plugin does."""
from __future__ import annotations

import base64
import json
from typing import Any, Mapping
from urllib.parse import urlencode, urljoin

from .base import Backend, field, required, secret, text
from .http import LookupFailed, call, expect_ok, json_body

INPUTS = {
    "fields": [
        field("url", "Centrify Tenant URL", help_text="Centrify Tenant URL", format="url"),
        field("client_id", "Centrify API User",
              help_text="Centrify API User, having necessary permissions as mentioned in support doc"),
        secret("client_password", "Centrify API Password",
               help_text="Password of Centrify API User with necessary permissions"),
        field("oauth_application_id", "OAuth2 Application ID",
              help_text="Application ID of the configured OAuth2 Client (defaults to 'awx')", default="awx"),
        field("oauth_scope", "OAuth2 Scope", help_text="Scope of the configured OAuth2 Client (defaults to 'awx')",
              default="awx"),
    ],
    "metadata": [
        field("account-name", "Account Name",
              help_text="Local system account or Domain account name enrolled in Centrify Vault. eg. (root or "
                        "DOMAIN/Administrator)"),
        field("system-name", "System Name", help_text="Machine Name enrolled with in Centrify Portal"),
    ],
    "required": ["url", "account-name", "system-name", "client_id", "client_password"],
}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"     # a name with a quote cannot end the literal


def centrify_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    required(params, "url", "client_id", "client_password", "account-name", "system-name")
    url = text(params, "url")
    login = base64.b64encode(f"{text(params, 'client_id')}:{text(params, 'client_password')}".encode()).decode()
    form = urlencode({"grant_type": "client_credentials", "scope": text(params, "oauth_scope", "awx")}).encode()
    reply = expect_ok(call("POST", urljoin(url, f"/oauth2/token/{text(params, 'oauth_application_id', 'awx')}"),
                           body=form, headers={"Authorization": f"Basic {login}",
                                               "Content-Type": "application/x-www-form-urlencoded"}))
    token = (reply.json() or {}).get("access_token") if isinstance(reply.json(), dict) else None
    if not token:
        raise LookupFailed("OAuth request to tenant was unsuccessful")
    headers = {"Authorization": f"Bearer {token}", "X-CENTRIFY-NATIVE-CLIENT": "true"}
    script = (f"Select ID from VaultAccount where  Name={_quoted(text(params, 'system-name'))} "
              f"and User={_quoted(text(params, 'account-name'))}")
    body, json_headers = json_body({"Script": script})
    reply = expect_ok(call("POST", urljoin(url, "/Redrock/query"), body=body, headers={**json_headers, **headers}))
    try:
        account = reply.json()["Result"]["Results"][0]["Row"]["ID"]
    except (IndexError, KeyError, TypeError):
        raise LookupFailed("Error Detected!! Check the Inputs") from None
    body = json.dumps({"ID": account}).encode()
    reply = expect_ok(call("POST", urljoin(url, "/ServerManage/CheckoutPassword"), body=body,
                           headers={**json_headers, **headers}))
    try:
        return str(reply.json()["Result"]["Password"])
    except (KeyError, TypeError):
        raise LookupFailed("Password Not Found") from None


BACKENDS = (Backend("centrify_vault_kv", "Centrify Vault Credential Provider Lookup", INPUTS, centrify_lookup),)

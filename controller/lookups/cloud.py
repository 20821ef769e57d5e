"""Cloud secret stores: ``azure_kv`` (Microsoft Azure Key Vault) and
``aws_secretsmanager_credential`` (AWS Secrets Manager), over their REST APIs.

AWX reaches them through the vendors' SDKs, which honour endpoint overrides from the
environment AWX runs the lookup in (``AWX_TASK_ENV``): ``AZURE_AUTHORITY_HOST`` for the Azure AD
login, ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / ``AWS_ENDPOINT_URL`` for AWS.  The same variables
are honoured here.  AWS requests are signed with :mod:`controller.services.sigv4`.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Mapping
from urllib.parse import quote, urlencode, urlsplit

from ..services.sigv4 import sigv4_headers
from .base import Backend, field, required, secret, text
from .http import LookupFailed, call, expect_ok

AZURE_CLOUDS = {   # cloud name -> (Azure AD authority host, Key Vault DNS suffix)
    "AzureCloud": ("login.microsoftonline.com", "vault.azure.net"),
    "AzureChinaCloud": ("login.chinacloudapi.cn", "vault.azure.cn"),
    "AzureUSGovernment": ("login.microsoftonline.us", "vault.usgovcloudapi.net"),
    "AzureGermanCloud": ("login.microsoftonline.de", "vault.microsoftazure.de"),
}
AZURE_INPUTS = {
    "fields": [
        field("url", "Vault URL (DNS Name)", format="url"),
        field("client", "Client ID"),
        secret("secret", "Client Secret"),
        field("tenant", "Tenant ID"),
        {"id": "cloud_name", "label": "Cloud Environment", "help_text": "Specify which azure cloud environment to use.",
         "choices": sorted(AZURE_CLOUDS), "default": "AzureCloud"},
    ],
    "metadata": [
        field("secret_field", "Secret Name", help_text="The name of the secret to look up."),
        field("secret_version", "Secret Version",
              help_text="Used to specify a specific secret version (if left empty, the latest version will be used)."),
    ],
    "required": ["url", "client", "secret", "tenant", "secret_field"],
}
AZURE_API_VERSION = "7.4"

AWS_INPUTS = {
    "fields": [
        field("aws_access_key", "AWS Access Key"),
        secret("aws_secret_key", "AWS Secret Key"),
    ],
    "metadata": [
        field("region_name", "AWS Secrets Manager Region", help_text="Region which the secrets manager is located"),
        field("secret_name", "AWS Secret Name"),
    ],
    "required": ["aws_access_key", "aws_secret_key", "region_name", "secret_name"],
}


def azure_kv_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """A client-credentials token from Azure AD for the vault's resource, then
    ``GET <vault>/secrets/<name>[/<version>]?api-version=7.4``: the secret's ``value``."""
    required(params, "url", "client", "secret", "tenant", "secret_field")
    authority, suffix = AZURE_CLOUDS.get(text(params, "cloud_name", "AzureCloud"), AZURE_CLOUDS["AzureCloud"])
    authority = env.get("AZURE_AUTHORITY_HOST") or f"https://{authority}"
    vault = text(params, "url").rstrip("/")
    host = urlsplit(vault).hostname or ""
    # the token's audience is the Key Vault service of the vault's cloud (its DNS suffix)
    resource = next((s for _a, s in AZURE_CLOUDS.values() if host.endswith("." + s)), suffix)
    form = urlencode({"grant_type": "client_credentials", "client_id": text(params, "client"),
                      "client_secret": text(params, "secret"), "scope": f"https://{resource}/.default"}).encode()
    tenant = quote(text(params, "tenant"), safe="")
    reply = expect_ok(call("POST", f"{authority.rstrip('/')}/{tenant}/oauth2/v2.0/token", body=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}))
    token = reply.json().get("access_token") if isinstance(reply.json(), dict) else None
    if not token:
        raise LookupFailed("the Azure AD answer has no access_token")
    path = "/".join(quote(p, safe="") for p in (text(params, "secret_field"), text(params, "secret_version")) if p)
    reply = expect_ok(call("GET", f"{vault}/secrets/{path}?api-version={AZURE_API_VERSION}",
                           headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}))
    answer = reply.json()
    if not isinstance(answer, dict) or "value" not in answer:
        raise LookupFailed("the Key Vault answer has no value")
    return str(answer["value"])


def aws_secretsmanager_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """``GetSecretValue`` (JSON 1.1 protocol, SigV4-signed): ``SecretString``, or
    ``SecretBinary`` decoded."""
    required(params, "aws_access_key", "aws_secret_key", "region_name", "secret_name")
    region = text(params, "region_name")
    endpoint = (env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or env.get("AWS_ENDPOINT_URL")
                or f"https://secretsmanager.{region}.amazonaws.com")
    url = endpoint.rstrip("/") + "/"
    body = json.dumps({"SecretId": text(params, "secret_name")}).encode()
    headers = sigv4_headers("POST", url, body, {"Content-Type": "application/x-amz-json-1.1",
                                                "X-Amz-Target": "secretsmanager.GetSecretValue"},
                            region=region, service="secretsmanager", access_key=text(params, "aws_access_key"),
                            secret_key=text(params, "aws_secret_key"))
    reply = call("POST", url, body=body, headers=headers)
    if reply.status >= 400:
        answer = reply.json() if reply.body[:1] == b"{" else {}
        kind = str((answer or {}).get("__type", "")).rsplit("#", 1)[-1]
        raise LookupFailed(f"HTTP {reply.status}" + (f" {kind}" if kind else ""))
    answer = reply.json()
    if isinstance(answer, dict) and "SecretString" in answer:
        return str(answer["SecretString"])
    if isinstance(answer, dict) and "SecretBinary" in answer:
        return base64.b64decode(answer["SecretBinary"]).decode("utf-8", errors="replace")
    raise LookupFailed("the answer has neither SecretString nor SecretBinary")


BACKENDS = (
    Backend("azure_kv", "Microsoft Azure Key Vault", AZURE_INPUTS, azure_kv_lookup),
    Backend("aws_secretsmanager_credential", "AWS Secrets Manager lookup", AWS_INPUTS, aws_secretsmanager_lookup),
)

"""HashiCorp Vault: ``hashivault_kv`` (KV secrets engine v1/v2) and ``hashivault_ssh`` (signed
SSH certificates), with AWX's inputs and behaviour.

Authentication, in AWX's order: a token; else userpass, AppRole, Kubernetes (the pod's
service-account token) or TLS client certificate through ``POST /v1/auth/<path>/login``
(``auth_path`` from the metadata, else the credential's ``default_auth_path``).  Requests carry
the token both as ``Authorization: Bearer`` and ``X-Vault-Token``, the namespace as
``X-Vault-Namespace``; a 412 (Vault Enterprise consistency) is retried up to five times.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path, PurePosixPath
from typing import Any, Mapping
from urllib.parse import quote, urlencode, urljoin

from .base import Backend, field, required, secret, text
from .http import LookupFailed, Reply, call, expect_ok, json_body

K8S_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

_BASE: dict[str, Any] = {
    "fields": [
        field("url", "Server URL", format="url", help_text="The URL to the HashiCorp Vault"),
        secret("token", "Token", help_text="The access token used to authenticate to the Vault server"),
        field("cacert", "CA Certificate", multiline=True,
              help_text="The CA certificate used to verify the SSL certificate of the Vault server"),
        field("role_id", "AppRole role_id", multiline=False, help_text="The Role ID for AppRole Authentication"),
        secret("secret_id", "AppRole secret_id", multiline=False,
               help_text="The Secret ID for AppRole Authentication"),
        field("client_cert_public", "Client Certificate", multiline=True,
              help_text="The PEM-encoded client certificate used for TLS client authentication. This should "
                        "include the certificate and any intermediate certififcates."),
        secret("client_cert_private", "Client Certificate Key", multiline=True,
               help_text="The certificate private key used for TLS client authentication."),
        field("client_cert_role", "TLS Authentication Role", multiline=False,
              help_text="The role configured in Hashicorp Vault for TLS client authentication. If not provided, "
                        "Hashicorp Vault may assign roles based on the certificate used."),
        field("namespace", "Namespace name (Vault Enterprise only)", multiline=False,
              help_text="Name of the namespace to use when authenticate and retrieve secrets"),
        field("kubernetes_role", "Kubernetes role", multiline=False,
              help_text="The Role for Kubernetes Authentication. This is the named role, configured in Vault "
                        "server, for AWX pod auth policies. see "
                        "https://www.vaultproject.io/docs/auth/kubernetes#configuration"),
        field("username", "Username", secret=False, help_text="Username for user authentication."),
        secret("password", "Password", help_text="Password for user authentication."),
        field("default_auth_path", "Path to Auth", multiline=False, default="approle",
              help_text="The Authentication path to use if one isn't provided in the metadata when linking to an "
                        "input field. Defaults to 'approle'"),
    ],
    "metadata": [
        field("secret_path", "Path to Secret",
              help_text="The path to the secret stored in the secret backend e.g, /some/secret/. It is "
                        "recommended that you use the secret backend field to identify the storage backend and to "
                        "use this field for locating a specific secret within that store. However, if you prefer "
                        "to fully identify both the secret backend and one of its secrets using only this field, "
                        "join their locations into a single path without any additional separators, e.g, "
                        "/location/of/backend/some/secret."),
        field("auth_path", "Path to Auth", multiline=False,
              help_text="The path where the Authentication method is mounted e.g, approle"),
    ],
    "required": ["url", "secret_path"],
}

KV_INPUTS: dict[str, Any] = copy.deepcopy(_BASE)
KV_INPUTS["fields"].append({"id": "api_version", "label": "API Version", "choices": ["v1", "v2"],
                            "help_text": "API v1 is for static key/value lookups.  API v2 is for versioned "
                                         "key/value lookups.", "default": "v1"})
KV_INPUTS["metadata"] = [
    field("secret_backend", "Name of Secret Backend",
          help_text="The name of the kv secret backend (if left empty, the first segment of the secret path will "
                    "be used)."),
    *KV_INPUTS["metadata"],
    field("secret_key", "Key Name", help_text="The name of the key to look up in the secret."),
    field("secret_version", "Secret Version (v2 only)",
          help_text="Used to specify a specific secret version (if left empty, the latest version will be used)."),
]
KV_INPUTS["required"] += ["api_version", "secret_key"]

SSH_INPUTS: dict[str, Any] = copy.deepcopy(_BASE)
SSH_INPUTS["metadata"] = [
    field("public_key", "Unsigned Public Key", multiline=True),
    *SSH_INPUTS["metadata"],
    field("role", "Role Name", help_text="The name of the role used to sign."),
    field("valid_principals", "Valid Principals",
          help_text="Valid principals (either usernames or hostnames) that the certificate should be signed for."),
]
SSH_INPUTS["required"] += ["public_key", "role"]


def _api(params: Mapping[str, Any]) -> str:
    return urljoin(text(params, "url"), "v1")


def _send(method: str, url: str, params: Mapping[str, Any], headers: dict[str, str],
          body: bytes | None = None, client_cert: bool = False) -> Reply:
    """One Vault request, retried while Vault answers 412 (a replica not caught up yet)."""
    if params.get("namespace"):
        headers = {**headers, "X-Vault-Namespace": text(params, "namespace")}
    cert = (text(params, "client_cert_public"), text(params, "client_cert_private")) if client_cert else None
    for attempt in range(5):
        reply = call(method, url, headers=headers, body=body, cacert=params.get("cacert") or None, client_cert=cert)
        if reply.status != 412 or attempt == 4:
            return reply
        time.sleep(1)
    return reply


def _login(params: Mapping[str, Any]) -> str:
    """A client token: the given one, or one from the first auth method the inputs configure."""
    if params.get("token"):
        return text(params, "token")
    use_cert = False
    if params.get("username") and params.get("password"):
        login: dict[str, Any] = {"username": params["username"], "password": params["password"]}
    elif params.get("role_id") and params.get("secret_id"):
        login = {"role_id": params["role_id"], "secret_id": params["secret_id"]}
    elif params.get("kubernetes_role"):
        try:
            jwt = K8S_TOKEN.read_text().rstrip()
        except OSError:
            raise LookupFailed("Kubernetes authentication needs the pod's service account token") from None
        login = {"role": params["kubernetes_role"], "jwt": jwt}
    elif params.get("client_cert_public") and params.get("client_cert_private"):
        login, use_cert = {"name": params.get("client_cert_role")}, True
    else:
        raise LookupFailed("Token, Username/Password, AppRole, Kubernetes, or TLS authentication parameters "
                           "must be set")
    auth_path = text(params, "auth_path") or text(params, "default_auth_path", "approle")
    url = "/".join([_api(params), "auth", auth_path, "login"]).rstrip("/")
    if "username" in login:
        url += "/" + quote(str(login["username"]), safe="")
    body, headers = json_body(login)
    reply = expect_ok(_send("POST", url, params, headers, body, client_cert=use_cert))
    try:
        return str(reply.json()["auth"]["client_token"])
    except (KeyError, TypeError):
        raise LookupFailed("the Vault login answer has no auth.client_token") from None


def _token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Vault-Token": token, "Accept": "application/json"}


def kv_lookup(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """Read ``secret_key`` of the secret at ``secret_path`` (v1: ``GET /v1/<backend>/<path>``;
    v2: ``GET /v1/<mount>/data/<path>[?version=N]``)."""
    required(params, "url", "secret_path")
    token = _login(params)
    path, backend = text(params, "secret_path"), text(params, "secret_backend")
    version = text(params, "api_version", "v1")
    query = ""
    if version == "v2":
        if params.get("secret_version"):
            query = "?" + urlencode({"version": text(params, "secret_version")})
        if backend:
            segments = [backend, "data", path]
        else:
            mount, *rest = PurePosixPath(path.lstrip("/")).parts or (path,)
            segments = [mount, "data", *rest]
    else:
        segments = [backend, path] if backend else [path]
    # AWX joins the parts with "/" as given; empty and doubled slashes are dropped here
    joined = "/".join(part.strip("/") for part in ["v1", *segments] if part.strip("/"))
    url = urljoin(text(params, "url"), joined) + query
    reply = expect_ok(_send("GET", url, params, _token_headers(token)))
    data = reply.json()
    if version == "v2":
        data = (data or {}).get("data") if isinstance(data, dict) else None
    content = data.get("data") if isinstance(data, dict) else None
    if not isinstance(content, dict):
        raise LookupFailed(f"no data at {path}")
    key = text(params, "secret_key")
    if not key:
        raise LookupFailed("secret_key is required")
    if key != "data" and key not in content and isinstance(content.get("data"), dict):
        content = content["data"]     # a v2 answer read as v1: look one level down, as AWX
    if key not in content:
        raise LookupFailed(f"{key} is not present at {path}")
    value = content[key]
    return value if isinstance(value, str) else str(value)


def ssh_sign(params: dict[str, Any], env: Mapping[str, str]) -> str:
    """Sign ``public_key`` with ``role`` (``POST /v1/<secret_path>/sign/<role>``): the signed
    certificate."""
    required(params, "url", "secret_path", "public_key", "role")
    token = _login(params)
    request: dict[str, Any] = {"public_key": params["public_key"]}
    if params.get("valid_principals"):
        request["valid_principals"] = params["valid_principals"]
    body, headers = json_body(request)
    url = "/".join([_api(params), text(params, "secret_path").strip("/"), "sign", text(params, "role")]).rstrip("/")
    reply = expect_ok(_send("POST", url, params, {**headers, **_token_headers(token)}, body))
    try:
        return str(reply.json()["data"]["signed_key"])
    except (KeyError, TypeError):
        raise LookupFailed("the Vault answer has no data.signed_key") from None


BACKENDS = (
    Backend("hashivault_kv", "HashiCorp Vault Secret Lookup", KV_INPUTS, kv_lookup),
    Backend("hashivault_ssh", "HashiCorp Vault Signed SSH", SSH_INPUTS, ssh_sign),
)

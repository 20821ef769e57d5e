"""Each external lookup against a local HTTP server that answers as the real service would:
the requests they send (paths, headers, bodies, signatures) and the value they return, TLS
with a given CA, and failures that never carry a secret."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from controller.lookups import BACKENDS, LookupFailed
from controller.lookups import delinea
from controller.services.sigv4 import sigv4_headers
from tests.support.receivers import make_certificate
from tests.support.secret_stores import FakeVault, Request, RouteServer


def run(namespace: str, params: dict, env: dict | None = None) -> str:
    return BACKENDS[namespace].fetch(params, env or {})


def test_conjur_authenticates_then_reads_the_variable():
    def authenticate(req: Request):
        return (200, "conjur-session-token") if req.body == b"conjur-api-key" else (401, "")

    def variable(req: Request):
        expected = base64.b64encode(b"conjur-session-token").decode()
        if req.headers.get("authorization") != f'Token token="{expected}"':
            return 403, ""
        return 200, b"conjur-secret" + (req.query.get("version", [""])[0]).encode()
    routes = {("POST", "/authn/acct/host%2Fapp/authenticate"): authenticate,
              ("GET", "/secrets/acct/variable/db%2Fpassword"): variable}
    with RouteServer(routes) as server:
        params = {"url": server.url, "api_key": "conjur-api-key", "account": "acct", "username": "host/app",
                  "secret_path": "db/password"}
        assert run("conjur", params) == "conjur-secret"
        assert run("conjur", {**params, "secret_version": "3"}) == "conjur-secret3"
        with pytest.raises(LookupFailed) as err:
            run("conjur", {**params, "api_key": "wrong-api-key"})
        assert str(err.value) == "HTTP 404" and "wrong-api-key" not in str(err.value)
        # Conjur Cloud paths (api/...) are tried after the Enterprise ones
        assert [r.path for r in server.requests[-2:]] == ["/authn/acct/host%2Fapp/authenticate",
                                                          "/api/authn/acct/host%2Fapp/authenticate"]


def test_aim_reads_the_requested_property():
    def accounts(req: Request):
        if req.query.get("AppId") != ["aim-app"] or req.query.get("Query") != ["Safe=S;Object=o"]:
            return 403, {"ErrorMsg": "denied"}
        return 200, {"Content": "aim-password", "UserName": "aim-user", "Address": "db.example"}
    with RouteServer({("GET", "/AIMWebService/api/Accounts"): accounts}) as server:
        params = {"url": server.url + "/", "app_id": "aim-app", "object_query": "Safe=S;Object=o", "verify": True}
        assert run("aim", params) == "aim-password"
        assert run("aim", {**params, "object_property": "username"}) == "aim-user"
        assert run("aim", {**params, "object_property": "Address"}) == "db.example"
        assert server.requests[0].query["QueryFormat"] == ["Exact"]
        with pytest.raises(LookupFailed):
            run("aim", {**params, "object_property": "Colour"})


def test_thycotic_secret_server_reads_a_field_and_a_file():
    def token(req: Request):
        form = req.fields()
        ok = form == {"grant_type": "password", "username": "svc", "password": "tss-pw", "domain": "CORP"}
        return (200, {"access_token": "tss-token"}) if ok else (400, {"error": "invalid_grant"})

    def secret(req: Request):
        if req.headers.get("authorization") != "Bearer tss-token":
            return 401, {}
        return 200, {"id": 12, "items": [{"slug": "password", "fieldName": "Password", "itemValue": "tss-secret"},
                                         {"slug": "private-key", "fieldName": "Private Key", "isFile": True,
                                          "fileAttachmentId": 7, "itemValue": "*** Not Valid For Display ***"}]}
    routes = {("POST", "/SecretServer/oauth2/token"): token, ("GET", "/SecretServer/api/v1/secrets/12"): secret,
              ("GET", "/SecretServer/api/v1/secrets/12/fields/private-key"): lambda req: (200, b"KEY FILE")}
    with RouteServer(routes) as server:
        params = {"server_url": server.url + "/SecretServer", "username": "svc", "domain": "CORP",
                  "password": "tss-pw", "secret_id": "12", "secret_field": "password"}
        assert run("thycotic_tss", params) == "tss-secret"
        assert run("thycotic_tss", {**params, "secret_field": "private-key"}) == "KEY FILE"
        with pytest.raises(LookupFailed, match="HTTP 400"):
            run("thycotic_tss", {**params, "password": "bad-tss-pw"})


def test_thycotic_dsv_reads_and_decodes(monkeypatch):
    def token(req: Request):
        ok = req.json() == {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "dsv-secret"}
        return (200, {"accessToken": "dsv-token"}) if ok else (401, {})

    def secret(req: Request):
        encoded = base64.b64encode(b"decoded-value").decode()
        return 200, {"path": "test/secret1", "data": {"password": "dsv-value", "file": encoded}}
    routes = {("POST", "/dsv-ex-com/v1/token"): token, ("GET", "/dsv-ex-com/v1/secrets/test/secret1"): secret}
    with RouteServer(routes) as server:
        # the tenant URL is https://<tenant>.secretsvaultcloud.<tld>: point the template at the local server
        monkeypatch.setattr(delinea, "DSV_URL", server.url + "/dsv-{}-{}")
        params = {"tenant": "ex", "tld": "com", "client_id": "cid", "client_secret": "dsv-secret",
                  "path": "/test/secret1", "secret_field": "password", "secret_decoding": "No Decoding"}
        assert run("thycotic_dsv", params) == "dsv-value"
        assert run("thycotic_dsv", {**params, "secret_field": "file", "secret_decoding": "Decode Base64"}) == \
            "decoded-value"


def test_azure_key_vault_logs_in_then_reads_the_secret():
    def login(req: Request):
        form = req.fields()
        ok = form.get("client_secret") == "az-secret" and form.get("grant_type") == "client_credentials"
        return (200, {"access_token": "az-token", "token_type": "Bearer"}) if ok else (401, {})

    def secret(req: Request):
        if req.headers.get("authorization") != "Bearer az-token" or req.query.get("api-version") != ["7.4"]:
            return 401, {}
        return 200, {"value": "az-value", "id": "https://x/secrets/db/v2"}
    routes = {("POST", "/tenant-1/oauth2/v2.0/token"): login, ("GET", "/secrets/db/v2"): secret}
    with RouteServer(routes) as server:
        params = {"url": server.url, "client": "client-1", "secret": "az-secret", "tenant": "tenant-1",
                  "cloud_name": "AzureCloud", "secret_field": "db", "secret_version": "v2"}
        assert run("azure_kv", params, {"AZURE_AUTHORITY_HOST": server.url}) == "az-value"
        assert server.requests[0].fields()["scope"] == "https://vault.azure.net/.default"


def test_aws_secrets_manager_signs_with_sigv4():
    seen: list[Request] = []

    def get_secret(req: Request):
        seen.append(req)
        if req.headers.get("x-amz-target") != "secretsmanager.GetSecretValue":
            return 400, {"__type": "UnknownOperationException"}
        if req.json() == {"SecretId": "missing"}:
            return 400, {"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException", "message": "nope"}
        return 200, {"Name": "prod/db", "SecretString": "aws-value"}
    with RouteServer({("POST", "/"): get_secret}) as server:
        params = {"aws_access_key": "AKIDEXAMPLE", "aws_secret_key": "aws-secret-key", "region_name": "eu-west-1",
                  "secret_name": "prod/db"}
        assert run("aws_secretsmanager_credential", params, {"AWS_ENDPOINT_URL": server.url}) == "aws-value"
        req = seen[0]
        auth = req.headers["authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") and "/eu-west-1/secretsmanager/" in auth
        # the signature is the one the shared signer computes for the same request and moment
        moment = datetime.strptime(req.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        again = sigv4_headers("POST", server.url + "/", req.body, {
            "Content-Type": req.headers["content-type"], "X-Amz-Target": req.headers["x-amz-target"]},
            region="eu-west-1", service="secretsmanager", access_key="AKIDEXAMPLE", secret_key="aws-secret-key",
            now=moment)
        assert again["Authorization"] == auth
        with pytest.raises(LookupFailed) as err:
            run("aws_secretsmanager_credential", {**params, "secret_name": "missing"},
                {"AWS_ENDPOINT_URL_SECRETS_MANAGER": server.url})
        assert str(err.value) == "HTTP 400 ResourceNotFoundException"


def test_centrify_checks_out_the_password():
    def token(req: Request):
        expected = "Basic " + base64.b64encode(b"api-user:centrify-pw").decode()
        ok = req.headers.get("authorization") == expected and req.fields()["scope"] == "awx"
        return (200, {"access_token": "c-token"}) if ok else (401, {})

    def query(req: Request):
        script = req.json()["Script"]
        assert "Name='web01'" in script and "User='root'" in script
        return 200, {"Result": {"Results": [{"Row": {"ID": "acc-9"}}]}}

    def checkout(req: Request):
        return (200, {"Result": {"Password": "centrify-value"}}) if req.json() == {"ID": "acc-9"} else (404, {})
    routes = {("POST", "/oauth2/token/awx"): token, ("POST", "/Redrock/query"): query,
              ("POST", "/ServerManage/CheckoutPassword"): checkout}
    with RouteServer(routes) as server:
        assert run("centrify_vault_kv", {"url": server.url, "client_id": "api-user", "client_password": "centrify-pw",
                                         "account-name": "root", "system-name": "web01"}) == "centrify-value"


def test_vault_over_tls_with_its_ca(tmp_path: Path):
    pem = make_certificate(tmp_path).read_text()
    ca = pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"
    with FakeVault(kv1={"kv/app": {"password": "tls-value"}}, certificate=tmp_path / "receiver.pem") as vault:
        params = {"url": vault.url, "token": vault.token, "api_version": "v1", "secret_path": "/kv/app",
                  "secret_key": "password"}
        assert vault.url.startswith("https://")
        assert run("hashivault_kv", {**params, "cacert": ca}) == "tls-value"
        with pytest.raises(LookupFailed, match="cannot reach https://127.0.0.1"):
            run("hashivault_kv", params)


def test_failures_name_no_secret():
    with pytest.raises(LookupFailed) as err:
        run("hashivault_kv", {"url": "http://127.0.0.1:9/", "token": "never-shown-token", "api_version": "v1",
                              "secret_path": "/kv/app", "secret_key": "k"})
    assert "cannot reach http://127.0.0.1:9" in str(err.value) and "never-shown-token" not in str(err.value)
    with pytest.raises(LookupFailed, match="Token, Username/Password, AppRole"):
        run("hashivault_kv", {"url": "http://127.0.0.1:9/", "api_version": "v1", "secret_path": "/x",
                              "secret_key": "k"})
    with pytest.raises(LookupFailed, match="Invalid URL"):
        run("aim", {"url": "file:///etc/passwd", "app_id": "a", "object_query": "q"})
    assert json.dumps(sorted(BACKENDS)) == json.dumps(sorted([
        "aim", "aws_secretsmanager_credential", "azure_kv", "centrify_vault_kv", "conjur", "hashivault_kv",
        "hashivault_ssh", "thycotic_dsv", "thycotic_tss"]))

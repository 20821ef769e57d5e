"""Credential input sources (issue 16 item 7b): the external credential types AWX ships, the
``/api/v2/credential_input_sources/`` resource (shape, validation, AWX's permissions), and the
external credential test endpoints against a local HTTP server speaking HashiCorp Vault's API.

Resolution in real jobs is in test_credential_lookup_jobs.py; the other backends are in
test_credential_lookup_backends.py.
"""
from __future__ import annotations

import pytest

from tests.support.secret_stores import FakeVault

from conftest import unique

EXTERNAL = {   # AWX 24.6.1's awx.credential_plugins entry points -> type names
    "conjur": "CyberArk Conjur Secrets Manager Lookup",
    "hashivault_kv": "HashiCorp Vault Secret Lookup",
    "hashivault_ssh": "HashiCorp Vault Signed SSH",
    "azure_kv": "Microsoft Azure Key Vault",
    "aim": "CyberArk Central Credential Provider Lookup",
    "centrify_vault_kv": "Centrify Vault Credential Provider Lookup",
    "thycotic_dsv": "Thycotic DevOps Secrets Vault",
    "thycotic_tss": "Thycotic Secret Server",
    "aws_secretsmanager_credential": "AWS Secrets Manager lookup",
}


@pytest.fixture(scope="module")
def vault():
    with FakeVault(kv1={"kv/app": {"password": "kv1-secret-value"}},
                   kv2={"secret/app": [{"password": "old-v1"}, {"password": "kv2-secret-value"}]}) as server:
        yield server


def type_id(admin, namespace: str) -> int:
    found = admin.get(f"/api/v2/credential_types/?namespace={namespace}").json
    assert found["count"] == 1, found
    return found["results"][0]["id"]


def make_cred(admin, namespace: str, inputs: dict, org: int | None = None) -> dict:
    body = {"name": unique("cred"), "credential_type": type_id(admin, namespace), "inputs": inputs,
            "organization": org or admin.get("/api/v2/organizations/?name=Default").json["results"][0]["id"]}
    resp = admin.post("/api/v2/credentials/", body)
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.fixture(scope="module")
def org(admin):
    resp = admin.post("/api/v2/organizations/", {"name": unique("org")})
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.fixture(scope="module")
def source(admin, vault, org) -> dict:
    return make_cred(admin, "hashivault_kv", {"url": vault.url, "token": vault.token, "api_version": "v2"}, org["id"])


def test_external_types_are_managed_as_awx_ships_them(admin):
    found = admin.get("/api/v2/credential_types/?kind=external&page_size=50").json
    assert {t["namespace"]: t["name"] for t in found["results"]} == EXTERNAL
    assert all(t["managed"] and t["injectors"] == {} for t in found["results"])
    kv = next(t for t in found["results"] if t["namespace"] == "hashivault_kv")
    assert [f["id"] for f in kv["inputs"]["metadata"]] == ["secret_backend", "secret_path", "auth_path",
                                                           "secret_key", "secret_version"]
    assert kv["inputs"]["required"] == ["url", "secret_path", "api_version", "secret_key"]
    api_version = next(f for f in kv["inputs"]["fields"] if f["id"] == "api_version")
    assert api_version["choices"] == ["v1", "v2"] and api_version["default"] == "v1"
    assert {f["id"] for f in kv["inputs"]["fields"] if f.get("secret")} == {"token", "secret_id",
                                                                             "client_cert_private", "password"}
    # managed: neither changed nor deleted
    assert admin.patch(f"/api/v2/credential_types/{kv['id']}/", {"description": "x"}).status_code == 403
    assert admin.delete(f"/api/v2/credential_types/{kv['id']}/").status_code == 403


def test_external_credential_keeps_its_token_encrypted(admin, source, app_state):
    assert source["inputs"]["token"] == "$encrypted$" and source["kind"] == "hashivault_kv"
    stored = app_state.store.get("credentials", source["id"])["inputs"]
    assert "root-token" not in stored


def test_create_shape_and_sub_list(admin, source, org):
    target = make_cred(admin, "ssh", {"username": "deploy"}, org["id"])
    resp = admin.post("/api/v2/credential_input_sources/", {
        "target_credential": target["id"], "source_credential": source["id"], "input_field_name": "password",
        "description": "from vault", "metadata": {"secret_path": "/secret/app", "secret_key": "password"}})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["type"] == "credential_input_source" and "name" not in body
    assert body["url"] == f"/api/v2/credential_input_sources/{body['id']}/"
    assert body["metadata"] == {"secret_path": "/secret/app", "secret_key": "password"}
    assert body["related"]["target_credential"] == f"/api/v2/credentials/{target['id']}/"
    assert body["related"]["source_credential"] == f"/api/v2/credentials/{source['id']}/"
    assert body["summary_fields"]["source_credential"]["name"] == source["name"]
    assert body["summary_fields"]["user_capabilities"] == {"delete": True}
    sub = admin.get(f"/api/v2/credentials/{target['id']}/input_sources/").json
    assert [s["id"] for s in sub["results"]] == [body["id"]]
    cred = admin.get(f"/api/v2/credentials/{target['id']}/").json
    assert cred["related"]["input_sources"] == f"/api/v2/credentials/{target['id']}/input_sources/"
    # what awx.awx's credential_input_source module looks up
    found = admin.get(f"/api/v2/credential_input_sources/?target_credential={target['id']}"
                      "&input_field_name=password").json
    assert found["count"] == 1
    # one source per input field
    again = admin.post(f"/api/v2/credentials/{target['id']}/input_sources/", {
        "source_credential": source["id"], "input_field_name": "password",
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
    assert again.status_code == 400 and "__all__" in again.json, again.json
    # created through the sub-list: the target comes from the URL
    other = admin.post(f"/api/v2/credentials/{target['id']}/input_sources/", {
        "source_credential": source["id"], "input_field_name": "become_password",
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
    assert other.status_code == 201 and other.json["target_credential"] == target["id"], other.json


@pytest.mark.parametrize("change, errors", [
    ({"input_field_name": "nope"}, {"input_field_name": [
        "Input field must be defined on target credential (options are become_method, become_password, "
        "become_username, password, ssh_key_data, ssh_key_unlock, ssh_public_key_data, username)."]}),
    ({"metadata": {"secret_path": "/x", "secret_key": "k", "bogus": 1}},
     {"metadata": ["Additional properties are not allowed ('bogus' was unexpected)"]}),
    ({"metadata": {"secret_path": 5, "secret_key": "k"}}, {"metadata": {"secret_path": ["5 is not of type 'string'"]}}),
    ({"metadata": {"secret_path": "/x"}}, {"metadata": {"secret_key": ["required for HashiCorp Vault Secret Lookup"]}}),
    ({"metadata": ["x"]}, {"metadata": ["list provided, expected dict"]}),
])
def test_validation(admin, source, org, change, errors):
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    body = {"target_credential": target["id"], "source_credential": source["id"], "input_field_name": "password",
            "metadata": {"secret_path": "/x", "secret_key": "k"}, **change}
    resp = admin.post("/api/v2/credential_input_sources/", body)
    assert resp.status_code == 400 and resp.json == errors, resp.json


def test_source_must_be_external_and_target_must_not(admin, source, org):
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    resp = admin.post("/api/v2/credential_input_sources/", {
        "target_credential": target["id"], "source_credential": target["id"], "input_field_name": "password"})
    assert resp.status_code == 400 and resp.json == {"source_credential": ["Source must be an external credential"]}
    resp = admin.post("/api/v2/credential_input_sources/", {
        "target_credential": source["id"], "source_credential": source["id"], "input_field_name": "token",
        "metadata": {"secret_path": "/x", "secret_key": "k"}})
    assert resp.status_code == 400 and resp.json == {"target_credential": ["Target must be a non-external credential"]}
    missing = admin.post("/api/v2/credential_input_sources/", {"input_field_name": "password"})
    assert missing.status_code == 400 and set(missing.json) >= {"target_credential", "source_credential"}


def test_choices_are_checked_on_update_and_the_required_input_may_be_empty(admin, vault, org):
    ssh_source = make_cred(admin, "hashivault_ssh", {"url": vault.url, "token": vault.token}, org["id"])
    # a machine credential with a required-less type; a vault credential requires vault_password,
    # and may be created without it when an input source is to supply it
    target = make_cred(admin, "vault", {"vault_id": "prod"}, org["id"])
    resp = admin.post("/api/v2/credential_input_sources/", {
        "target_credential": target["id"], "source_credential": ssh_source["id"],
        "input_field_name": "vault_password", "metadata": {"secret_path": "/ssh", "role": "r",
                                                           "public_key": "ssh-ed25519 AAA"}})
    assert resp.status_code == 201, resp.json
    kv = make_cred(admin, "hashivault_kv", {"url": vault.url, "token": vault.token, "api_version": "v1"}, org["id"])
    # switching the source re-validates the metadata against the new type
    bad = admin.patch(f"/api/v2/credential_input_sources/{resp.json['id']}/", {"source_credential": kv["id"]})
    assert bad.status_code == 400 and bad.json == {
        "metadata": ["Additional properties are not allowed ('public_key', 'role' were unexpected)"]}, bad.json
    good = admin.patch(f"/api/v2/credential_input_sources/{resp.json['id']}/", {
        "source_credential": kv["id"], "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
    assert good.status_code == 200 and good.json["source_credential"] == kv["id"], good.json
    aim = make_cred(admin, "aim", {"url": vault.url, "app_id": "a"}, org["id"])
    wrong = admin.patch(f"/api/v2/credential_input_sources/{resp.json['id']}/", {
        "source_credential": aim["id"], "metadata": {"object_query": "Safe=S", "object_query_format": "Fuzzy"}})
    assert wrong.status_code == 400 and wrong.json == {
        "metadata": {"object_query_format": ["'Fuzzy' is not one of ['Exact', 'Regexp']"]}}


def test_deleting_either_credential_deletes_its_sources(admin, source, vault, org, app_state):
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    own_source = make_cred(admin, "hashivault_kv", {"url": vault.url, "token": vault.token, "api_version": "v1"},
                           org["id"])
    ids = []
    for field_name, src in (("password", source), ("become_password", own_source)):
        resp = admin.post("/api/v2/credential_input_sources/", {
            "target_credential": target["id"], "source_credential": src["id"], "input_field_name": field_name,
            "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
    assert admin.delete(f"/api/v2/credentials/{own_source['id']}/").status_code == 204
    assert app_state.store.get("credential_input_sources", ids[1]) is None
    assert app_state.store.get("credential_input_sources", ids[0]) is not None
    assert admin.delete(f"/api/v2/credentials/{target['id']}/").status_code == 204
    assert app_state.store.get("credential_input_sources", ids[0]) is None


def _grant(admin, user_id: int, cred: dict, role: str) -> None:
    role_id = cred["summary_fields"]["object_roles"][role]["id"]
    assert admin.post(f"/api/v2/users/{user_id}/roles/", {"id": role_id}).status_code == 204


def test_permissions_follow_awx(admin, make_user, source, org):
    """Create/change: admin of the target and use of the source; delete: admin of the target;
    see: readers of the target."""
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    uid, user = make_user()
    body = {"target_credential": target["id"], "source_credential": source["id"], "input_field_name": "password",
            "metadata": {"secret_path": "/kv/app", "secret_key": "password"}}
    assert user.post("/api/v2/credential_input_sources/", body).status_code == 403
    _grant(admin, uid, target, "admin_role")
    assert user.post("/api/v2/credential_input_sources/", body).status_code == 403   # no use of the source
    _grant(admin, uid, source, "use_role")
    made = user.post("/api/v2/credential_input_sources/", body)
    assert made.status_code == 201, made.json
    reader_id, reader = make_user()
    assert reader.get("/api/v2/credential_input_sources/").json["count"] == 0
    assert reader.get(f"/api/v2/credential_input_sources/{made.json['id']}/").status_code == 403
    _grant(admin, reader_id, target, "read_role")
    listed = reader.get("/api/v2/credential_input_sources/").json
    assert [s["id"] for s in listed["results"]] == [made.json["id"]]
    assert listed["results"][0]["summary_fields"]["user_capabilities"] == {"delete": False}
    assert reader.delete(f"/api/v2/credential_input_sources/{made.json['id']}/").status_code == 403
    assert reader.patch(f"/api/v2/credential_input_sources/{made.json['id']}/",
                        {"description": "x"}).status_code == 403
    assert user.delete(f"/api/v2/credential_input_sources/{made.json['id']}/").status_code == 204


def test_type_test_endpoint_runs_the_lookup(admin, vault):
    kv = type_id(admin, "hashivault_kv")
    ok = admin.post(f"/api/v2/credential_types/{kv}/test/", {
        "inputs": {"url": vault.url, "token": vault.token, "api_version": "v1"},
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
    assert ok.status_code == 202 and ok.json == {}
    missing = admin.post(f"/api/v2/credential_types/{kv}/test/", {
        "inputs": {"url": vault.url, "token": vault.token, "api_version": "v1"},
        "metadata": {"secret_path": "/kv/none", "secret_key": "password"}})
    assert missing.status_code == 400 and missing.json == {"inputs": "HTTP 404"}
    denied = admin.post(f"/api/v2/credential_types/{kv}/test/", {
        "inputs": {"url": vault.url, "token": "wrong-token-value", "api_version": "v1"},
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}})
    assert denied.status_code == 400 and denied.json == {"inputs": "HTTP 403"}
    ssh = type_id(admin, "ssh")
    assert admin.post(f"/api/v2/credential_types/{ssh}/test/", {}).status_code == 400


def test_credential_test_endpoint_uses_stored_inputs(admin, make_user, source, vault):
    ok = admin.post(f"/api/v2/credentials/{source['id']}/test/",
                    {"metadata": {"secret_path": "/secret/app", "secret_key": "password"}})
    assert ok.status_code == 202, ok.json
    # the stored token is kept for $encrypted$; a new one replaces it
    kept = admin.post(f"/api/v2/credentials/{source['id']}/test/", {
        "inputs": {"token": "$encrypted$"}, "metadata": {"secret_path": "/secret/app", "secret_key": "password"}})
    assert kept.status_code == 202
    replaced = admin.post(f"/api/v2/credentials/{source['id']}/test/", {
        "inputs": {"token": "not-the-token"}, "metadata": {"secret_path": "/secret/app", "secret_key": "password"}})
    assert replaced.status_code == 400 and replaced.json == {"inputs": "HTTP 403"}
    absent_key = admin.post(f"/api/v2/credentials/{source['id']}/test/",
                            {"metadata": {"secret_path": "/secret/app", "secret_key": "nokey"}})
    assert absent_key.status_code == 400 and absent_key.json == {"inputs": "nokey is not present at /secret/app"}
    _uid, stranger = make_user()
    assert stranger.post(f"/api/v2/credentials/{source['id']}/test/", {}).status_code in (403, 404)
    assert admin.get(f"/api/v2/credentials/{source['id']}/test/").status_code == 405


def test_activity_stream_records_the_source_without_secrets(admin, source, org):
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    made = admin.post("/api/v2/credential_input_sources/", {
        "target_credential": target["id"], "source_credential": source["id"], "input_field_name": "password",
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}}).json
    entries = admin.get(f"/api/v2/credential_input_sources/{made['id']}/activity_stream/").json["results"]
    assert [e["operation"] for e in entries] == ["create"]
    assert "root-token" not in str(entries)


def test_a_copied_credential_keeps_its_input_sources(admin, source, org):
    target = make_cred(admin, "ssh", {"username": "u"}, org["id"])
    made = admin.post(f"/api/v2/credentials/{target['id']}/input_sources/", {
        "source_credential": source["id"], "input_field_name": "password",
        "metadata": {"secret_path": "/kv/app", "secret_key": "password"}}).json
    copy = admin.post(f"/api/v2/credentials/{target['id']}/copy/", {"name": unique("copy")})
    assert copy.status_code == 201, copy.json
    copied = admin.get(f"/api/v2/credentials/{copy.json['id']}/input_sources/").json["results"]
    assert [(s["source_credential"], s["input_field_name"], s["metadata"]) for s in copied] == \
        [(source["id"], "password", made["metadata"])]
    assert copied[0]["id"] != made["id"]

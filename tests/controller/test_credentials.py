"""Credential types and credentials through the API: shapes, validation, ownership, RBAC,
copy, named URLs, and the secrecy canary (a secret must never come back out)."""
from __future__ import annotations

import logging
import os
import secrets
import stat

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec

from controller.resources import credentials as cred_module
from controller.resources.credentials import seed_managed_types
from controller.services import credential_inputs as ci

from conftest import ADMIN_PASSWORD, Client, unique  # tests/controller/conftest.py (rootdir-less import)

MANAGED_MESSAGE = {"detail": "Modifications not allowed for managed credential types"}
CUSTOM_INPUTS = {"fields": [{"id": "api_url", "label": "API URL"},
                            {"id": "api_token", "label": "API token", "secret": True},
                            {"id": "tls", "label": "TLS", "type": "boolean"}],
                 "required": ["api_url"]}
CUSTOM_INJECTORS = {"env": {"MY_API_TOKEN": "{{ api_token }}", "MY_API_URL": "{{ api_url }}"}}


@pytest.fixture(scope="module", autouse=True)
def seeded(app_state):
    """Managed types exist (the lead wires seed_managed_types into start-up)."""
    seed_managed_types(app_state)


def pem(encrypted_with: str | None = None) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    enc = ser.BestAvailableEncryption(encrypted_with.encode()) if encrypted_with else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, enc).decode()


def type_id(client, name: str) -> int:
    found = client.get(f"/api/v2/credential_types/?name={name}").json
    assert found["count"] == 1, found
    return found["results"][0]["id"]


def role_of(obj: dict, role: str) -> int:
    return obj["summary_fields"]["object_roles"][role]["id"]


def grant(admin, uid: int, role_id: int) -> None:
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id}).status_code == 204


def stored_inputs(app_state, pk: int) -> dict:
    return ci.as_dict(app_state.store.get("credentials", pk)["inputs"])


def make_custom_type(admin, **extra) -> dict:
    resp = admin.post("/api/v2/credential_types/", {"name": unique("ctype"), "kind": "cloud",
                                                    "inputs": CUSTOM_INPUTS, "injectors": CUSTOM_INJECTORS, **extra})
    assert resp.status_code == 201, resp.json
    return resp.json


def make_machine(admin, org_id: int | None = None, **inputs) -> dict:
    body = {"name": unique("cred"), "credential_type": type_id(admin, "Machine"),
            "inputs": inputs or {"username": "u"}}
    body["organization"] = org_id if org_id is not None else admin.post(
        "/api/v2/organizations/", {"name": unique("org")}).json["id"]
    resp = admin.post("/api/v2/credentials/", body)
    assert resp.status_code == 201, resp.json
    return resp.json


# -- credential types ----------------------------------------------------------------------
def test_managed_types_are_seeded_once_with_awx_names(admin, app_state):
    assert seed_managed_types(app_state) == 0          # idempotent
    for name in ("Machine", "Source Control", "Vault", "Network", "GitHub Personal Access Token",
                 "Red Hat Ansible Automation Platform"):
        assert admin.get(f"/api/v2/credential_types/?name={name}").json["count"] == 1, name
    machine = admin.get(f"/api/v2/credential_types/{type_id(admin, 'Machine')}/").json
    assert (machine["kind"], machine["namespace"], machine["managed"]) == ("ssh", "ssh", True)
    fields = {f["id"]: f for f in machine["inputs"]["fields"]}
    assert list(fields) == ["username", "password", "ssh_key_data", "ssh_public_key_data", "ssh_key_unlock",
                            "become_method", "become_username", "become_password"]
    assert fields["password"]["secret"] and fields["password"]["ask_at_runtime"]
    assert fields["ssh_key_data"]["format"] == "ssh_private_key" and fields["ssh_key_data"]["multiline"]
    assert admin.get("/api/v2/credential_types/Machine+ssh/").json["id"] == machine["id"]
    assert machine["related"]["named_url"] == "/api/v2/credential_types/Machine+ssh/"
    aap = admin.get("/api/v2/credential_types/?name=Red Hat Ansible Automation Platform").json["results"][0]
    assert (aap["kind"], aap["namespace"]) == ("cloud", "controller")
    assert {f["id"] for f in aap["inputs"]["fields"]} == {"host", "username", "password", "oauth_token", "verify_ssl"}
    vault = admin.get("/api/v2/credential_types/?name=Vault").json["results"][0]
    assert vault["inputs"]["required"] == ["vault_password"]
    kinds = [(t["kind"], t["name"]) for t in admin.get("/api/v2/credential_types/?page_size=200").json["results"]]
    assert kinds == sorted(kinds)   # ordering (kind, name)


def test_seeding_refreshes_a_changed_managed_definition(admin, app_state):
    pk = type_id(admin, "Network")
    app_state.store.update("credential_types", pk, {"inputs": {"fields": []}})
    assert seed_managed_types(app_state) == 1
    assert admin.get(f"/api/v2/credential_types/{pk}/").json["inputs"]["required"] == ["username"]


def test_managed_types_cannot_be_changed_or_deleted(admin):
    pk = type_id(admin, "Machine")
    resp = admin.patch(f"/api/v2/credential_types/{pk}/", {"description": "x"})
    assert (resp.status_code, resp.json) == (403, MANAGED_MESSAGE)
    resp = admin.put(f"/api/v2/credential_types/{pk}/", {"name": "Machine", "kind": "ssh"})
    assert (resp.status_code, resp.json) == (403, MANAGED_MESSAGE)
    resp = admin.delete(f"/api/v2/credential_types/{pk}/")
    assert (resp.status_code, resp.json) == (403, {"detail": "Deletion not allowed for managed credential types"})


def test_custom_types_must_be_cloud_or_net(admin):
    resp = admin.post("/api/v2/credential_types/", {"name": unique("t"), "kind": "ssh"})
    assert (resp.status_code, resp.json) == (400, {"kind": ["Must be 'cloud' or 'net', not ssh"]})
    resp = admin.post("/api/v2/credential_types/", {"name": unique("t"), "kind": "net"})
    assert resp.status_code == 201 and resp.json["managed"] is False and resp.json["namespace"] is None
    assert resp.json["inputs"] == {} and resp.json["injectors"] == {}


@pytest.mark.parametrize("body, key, expected", [
    ({"inputs": {"fields": [{"id": "bad id", "label": "X"}]}}, "inputs", "id must match"),
    ({"inputs": {"fields": [{"id": "tower", "label": "X"}]}}, "inputs", "'tower' is a reserved field name"),
    ({"inputs": {"fields": [{"id": "a", "label": "A", "ask_at_runtime": True}]}}, "inputs",
     "'ask_at_runtime' is not supported for custom credentials."),
    ({"inputs": {"fields": [{"id": "a", "label": "A"}], "required": ["b"]}}, "inputs", "'b' is not a declared"),
    ({"inputs": {"fields": [{"id": "a", "label": "A"}]}, "injectors": {"env": {"X": "{{ b }}"}}},
     "injectors", "env.X uses an undefined field (b)"),
    ({"inputs": {"fields": [{"id": "a", "label": "A"}]}, "injectors": {"file": {"tmpl": "x"}}},
     "injectors", "must be 'template' or 'template.<name>'"),
    ({"injectors": {"env": {"X": "{% for %}"}}}, "injectors", "Syntax error rendering template for X"),
])
def test_custom_type_schemas_are_validated(admin, body, key, expected):
    resp = admin.post("/api/v2/credential_types/", {"name": unique("t"), "kind": "cloud", **body})
    assert resp.status_code == 400, resp.json
    assert list(resp.json) == [key] and any(expected in m for m in resp.json[key]), resp.json


def test_type_in_use_keeps_its_inputs_and_cannot_be_deleted(admin):
    ctype = make_custom_type(admin)
    org = admin.post("/api/v2/organizations/", {"name": unique("org")}).json
    cred = admin.post("/api/v2/credentials/", {"name": "c", "credential_type": ctype["id"], "organization": org["id"],
                                               "inputs": {"api_url": "https://x"}}).json
    url = f"/api/v2/credential_types/{ctype['id']}/"
    resp = admin.patch(url, {"inputs": {"fields": []}})
    assert (resp.status_code, resp.json) == (
        403, {"inputs": "Modifications to inputs are not allowed for credential types that are in use"})
    assert admin.patch(url, {"injectors": {"env": {"OTHER": "{{ api_url }}"}}}).status_code == 200
    assert admin.patch(url, {"inputs": CUSTOM_INPUTS, "description": "same inputs"}).status_code == 200
    resp = admin.delete(url)
    assert (resp.status_code, resp.json) == (403, {"detail": "Credential types that are in use cannot be deleted"})
    assert admin.get(f"{url}credentials/").json["results"][0]["id"] == cred["id"]
    assert admin.delete(f"/api/v2/credentials/{cred['id']}/").status_code == 204
    assert admin.delete(url).status_code == 204


def test_only_superusers_create_types_but_everyone_reads_them(make_user):
    _, user = make_user()
    assert user.post("/api/v2/credential_types/", {"name": unique("t"), "kind": "cloud"}).status_code == 403
    assert user.get("/api/v2/credential_types/?name=Machine").json["count"] == 1


# -- credentials: shape, options, lookups --------------------------------------------------
def test_options_and_object_shape(admin):
    opts = admin.options("/api/v2/credentials/").json
    post = opts["actions"]["POST"]
    assert post["credential_type"]["type"] == "id" and post["credential_type"]["required"] is True
    assert post["inputs"]["type"] == "json" and post["organization"]["type"] == "id"
    assert post["user"]["write_only"] is True and post["team"]["write_only"] is True
    assert "kind" not in post and "user" not in opts["actions"]["GET"]
    assert opts["actions"]["GET"]["kind"]["type"] == "string"
    assert opts["object_roles"] == ["admin_role", "use_role", "read_role"]
    assert admin.options("/api/v2/credential_types/").json["actions"]["POST"]["inputs"]["type"] == "json"
    cred = make_machine(admin, username="deploy", password="pw")
    assert cred["inputs"] == {"username": "deploy", "password": "$encrypted$"}
    assert (cred["kind"], cred["cloud"], cred["kubernetes"], cred["managed"]) == ("ssh", False, False, False)
    assert cred["summary_fields"]["credential_type"] == {"id": cred["credential_type"], "name": "Machine",
                                                         "description": ""}
    assert cred["summary_fields"]["user_capabilities"] == {"edit": True, "delete": True, "copy": True, "use": True}
    assert "user" not in cred and "team" not in cred
    for rel in ("owner_users", "owner_teams", "copy", "credential_type", "organization", "object_roles"):
        assert rel in cred["related"]
    aap = admin.post("/api/v2/credentials/", {"name": unique("c"), "organization": cred["organization"],
                                              "credential_type": type_id(admin, "Red Hat Ansible Automation Platform"),
                                              "inputs": {"host": "https://h", "verify_ssl": True}}).json
    assert (aap["kind"], aap["cloud"]) == ("controller", True)


def test_cli_style_lookups_and_named_urls(admin, make_org):
    org = make_org(unique("Org"))
    cred = make_machine(admin, org["id"])
    mid = cred["credential_type"]
    found = admin.get(f"/api/v2/credentials/?credential_type={mid}&organization={org['id']}&name={cred['name']}").json
    assert [c["id"] for c in found["results"]] == [cred["id"]]
    named = f"/api/v2/credentials/{cred['name']}++Machine+ssh++{org['name']}/"
    assert cred["related"]["named_url"] == named
    assert admin.get(named).json["id"] == cred["id"]
    assert admin.get(f"/api/v2/credentials/{cred['name']}++Machine+ssh++nope/").status_code == 404
    personal = admin.post("/api/v2/credentials/", {"name": unique("mine"), "credential_type": mid,
                                                   "user": 1, "inputs": {}}).json
    assert personal["organization"] is None
    assert personal["related"]["named_url"] == f"/api/v2/credentials/{personal['name']}++Machine+ssh++/"
    assert admin.get(personal["related"]["named_url"]).json["id"] == personal["id"]
    assert admin.get(f"/api/v2/credentials/?credential_type__name=Machine&name={cred['name']}").json["count"] == 1


def test_filtering_on_inputs_is_forbidden(admin):
    for query in ("inputs__icontains=x", "inputs=x", "or__inputs__contains=x", "not__inputs=x"):
        resp = admin.get(f"/api/v2/credentials/?{query}")
        assert (resp.status_code, resp.json) == (403, {"detail": "Filtering on inputs is not allowed."}), query
    resp = admin.get("/api/v2/organizations/?credentials__inputs__icontains=x")
    assert resp.status_code == 403


def test_unique_together_and_owner_rules(admin, make_org):
    org = make_org()
    cred = make_machine(admin, org["id"])
    body = {"name": cred["name"], "credential_type": cred["credential_type"], "organization": org["id"]}
    resp = admin.post("/api/v2/credentials/", body)
    assert resp.status_code == 400 and "already exists" in resp.json["__all__"][0]
    resp = admin.post("/api/v2/credentials/", {"name": "x", "credential_type": cred["credential_type"]})
    assert (resp.status_code, resp.json) == (400, {"detail": ["Missing 'user', 'team', or 'organization'."]})
    resp = admin.post("/api/v2/credentials/", {"name": "x", "credential_type": cred["credential_type"],
                                               "organization": org["id"], "user": 1})
    assert (resp.status_code, resp.json) == (400, {"detail": [
        "Only one of 'user', 'team', or 'organization' should be provided, received organization, user fields."]})


# -- credentials: inputs -------------------------------------------------------------------
def test_inputs_are_validated_against_the_type(admin, make_org):
    org = make_org()
    base = {"name": unique("c"), "organization": org["id"], "credential_type": type_id(admin, "Machine")}
    resp = admin.post("/api/v2/credentials/", {**base, "inputs": {"username": "u", "bogus": 1}})
    assert (resp.status_code, resp.json) == (400, {"inputs": {"bogus": [
        "Additional properties are not allowed ('bogus' was unexpected)"]}})
    resp = admin.post("/api/v2/credentials/", {**base, "inputs": {"password": "$encrypted$"}})
    assert (resp.status_code, resp.json) == (400, {"inputs": [
        "$encrypted$ is a reserved keyword, and cannot be used for password."]})
    resp = admin.post("/api/v2/credentials/", {**base, "inputs": {"ssh_key_data": pem("phrase")}})
    assert resp.json == {"inputs": {"ssh_key_unlock": ["must be set when SSH key is encrypted."]}}
    vault = {**base, "credential_type": type_id(admin, "Vault")}
    resp = admin.post("/api/v2/credentials/", {**vault, "inputs": {"vault_id": "x"}})   # AWX: required is
    assert (resp.status_code, resp.json["inputs"]) == (201, {"vault_id": "x"})         # checked at use
    custom = make_custom_type(admin)
    resp = admin.post("/api/v2/credentials/", {**base, "credential_type": custom["id"],
                                               "inputs": {"api_url": "u", "tls": "yes"}})
    assert (resp.status_code, resp.json) == (400, {"inputs": {"tls": ["'yes' is not of type 'boolean'"]}})


def test_update_replaces_inputs_and_keeps_encrypted_values(admin, app_state, make_org):
    cred = make_machine(admin, make_org()["id"], username="a", password="pw1", become_password="b1")
    url = f"/api/v2/credentials/{cred['id']}/"
    before = stored_inputs(app_state, cred["id"])
    resp = admin.patch(url, {"inputs": {"username": "b", "password": "$encrypted$"}})
    assert resp.status_code == 200 and resp.json["inputs"] == {"username": "b", "password": "$encrypted$"}
    after = stored_inputs(app_state, cred["id"])
    assert after["password"] == before["password"]          # same ciphertext, not re-encrypted
    assert "become_password" not in after                    # omitted fields are dropped
    resp = admin.put(url, {"name": cred["name"], "credential_type": cred["credential_type"],
                           "organization": cred["organization"], "inputs": {"password": "pw2"}})
    assert resp.status_code == 200
    assert app_state.vault.decrypt(stored_inputs(app_state, cred["id"])["password"]) == "pw2"
    resp = admin.patch(url, {"inputs": {"become_password": "$encrypted$"}})
    assert resp.json == {"inputs": ["$encrypted$ is a reserved keyword, and cannot be used for become_password."]}
    assert admin.patch(url, {"user": 1}).json["inputs"] == {"password": "$encrypted$"}   # create-only: ignored


def test_changing_the_type_revalidates_and_is_refused_when_in_use(admin, app_state, make_org):
    cred = make_machine(admin, make_org()["id"], username="a", password="pw")
    url = f"/api/v2/credentials/{cred['id']}/"
    scm = type_id(admin, "Source Control")
    resp = admin.patch(url, {"credential_type": scm})
    assert resp.status_code == 200 and resp.json["kind"] == "scm"
    assert app_state.vault.decrypt(stored_inputs(app_state, cred["id"])["password"]) == "pw"
    resp = admin.patch(url, {"credential_type": type_id(admin, "Vault")})
    assert resp.status_code == 400 and set(resp.json["inputs"]) == {"username", "password"}
    cred_module.IN_USE_CHECKS.append(lambda ctx, row: row["id"] == cred["id"])
    try:
        resp = admin.patch(url, {"credential_type": cred["credential_type"]})
    finally:
        cred_module.IN_USE_CHECKS.pop()
    assert (resp.status_code, list(resp.json)) == (400, ["credential_type"])


def test_copy_keeps_encrypted_values(admin, app_state, make_org):
    cred = make_machine(admin, make_org()["id"], username="a", password="pw")
    assert admin.get(f"/api/v2/credentials/{cred['id']}/copy/").json == {"can_copy": True}
    resp = admin.post(f"/api/v2/credentials/{cred['id']}/copy/", {"name": "copied"})
    assert resp.status_code == 201, resp.json
    copy = resp.json
    assert copy["id"] != cred["id"] and copy["inputs"] == {"username": "a", "password": "$encrypted$"}
    assert (copy["organization"], copy["credential_type"]) == (cred["organization"], cred["credential_type"])
    assert stored_inputs(app_state, copy["id"]) == stored_inputs(app_state, cred["id"])
    assert app_state.vault.decrypt(stored_inputs(app_state, copy["id"])["password"]) == "pw"


def test_activity_stream_masks_secrets(admin, make_org):
    cred = make_machine(admin, make_org()["id"], username="a", password="pw-activity")
    admin.patch(f"/api/v2/credentials/{cred['id']}/", {"inputs": {"username": "b", "password": "pw-activity-2"}})
    entries = admin.get(f"/api/v2/credentials/{cred['id']}/activity_stream/").json["results"]
    assert [e["operation"] for e in entries] == ["create", "update"]
    assert '"password":"$encrypted$"' in entries[0]["changes"]["inputs"]
    assert "pw-activity" not in str(entries)


# -- ownership and RBAC --------------------------------------------------------------------
def test_org_credential_admin_can_create_and_member_cannot(admin, make_user, make_org):
    org = make_org()
    admin_id, cred_admin = make_user()
    member_id, member = make_user()
    grant(admin, admin_id, role_of(org, "credential_admin_role"))
    grant(admin, member_id, role_of(org, "member_role"))
    body = {"name": unique("c"), "credential_type": type_id(admin, "Machine"), "organization": org["id"],
            "inputs": {"username": "u"}}
    assert member.post("/api/v2/credentials/", body).status_code == 403
    resp = cred_admin.post("/api/v2/credentials/", body)
    assert resp.status_code == 201, resp.json
    assert member.get(f"/api/v2/credentials/{resp.json['id']}/").status_code == 403
    assert cred_admin.patch(f"/api/v2/credentials/{resp.json['id']}/", {"description": "d"}).status_code == 200
    created = cred_admin.post(f"/api/v2/organizations/{org['id']}/credentials/",
                              {"name": unique("c"), "credential_type": body["credential_type"], "inputs": {}})
    assert created.status_code == 201 and created.json["organization"] == org["id"]
    listed = admin.get(f"/api/v2/organizations/{org['id']}/credentials/").json["results"]
    assert {c["id"] for c in listed} == {resp.json["id"], created.json["id"]}


def test_use_role_holders_see_but_cannot_change(admin, make_user, make_org):
    cred = make_machine(admin, make_org()["id"], username="u", password="pw")
    uid, user = make_user()
    assert user.get(f"/api/v2/credentials/{cred['id']}/").status_code == 403
    grant(admin, uid, role_of(cred, "use_role"))
    seen = user.get(f"/api/v2/credentials/{cred['id']}/").json
    assert seen["inputs"] == {"username": "u", "password": "$encrypted$"}
    assert seen["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False, "copy": False, "use": True}
    assert [c["id"] for c in user.get("/api/v2/credentials/").json["results"]] == [cred["id"]]
    assert user.patch(f"/api/v2/credentials/{cred['id']}/", {"description": "x"}).status_code == 403
    assert user.delete(f"/api/v2/credentials/{cred['id']}/").status_code == 403
    assert user.post(f"/api/v2/credentials/{cred['id']}/copy/", {"name": "c2"}).status_code == 403
    assert "PUT" not in user.options(f"/api/v2/credentials/{cred['id']}/").json["actions"]


def test_personal_credentials(admin, make_user):
    uid, user = make_user(first_name="Ann", last_name="Lee")
    _, other = make_user()
    machine = type_id(admin, "Machine")
    resp = user.post("/api/v2/credentials/", {"name": "mine", "credential_type": machine, "user": uid,
                                              "inputs": {"password": "pw"}})
    assert resp.status_code == 201, resp.json
    cred = resp.json
    assert cred["organization"] is None
    assert cred["summary_fields"]["owners"] == [{"id": uid, "type": "user", "name": user_name(admin, uid),
                                                 "description": "Ann Lee", "url": f"/api/v2/users/{uid}/"}]
    assert [u["id"] for u in admin.get(f"/api/v2/credentials/{cred['id']}/owner_users/").json["results"]] == [uid]
    assert other.get(f"/api/v2/credentials/{cred['id']}/").status_code == 403
    resp = other.post("/api/v2/credentials/", {"name": "theirs", "credential_type": machine, "user": uid})
    assert resp.status_code == 403
    resp = admin.post(f"/api/v2/users/{uid}/credentials/", {"name": "given", "credential_type": machine})
    assert resp.status_code == 201, resp.json
    mine = user.get(f"/api/v2/users/{uid}/credentials/").json["results"]
    assert {c["name"] for c in mine} == {"mine", "given"}
    assert user.post(f"/api/v2/credentials/{cred['id']}/copy/", {"name": "mine2"}).status_code == 201


def user_name(admin, uid: int) -> str:
    return admin.get(f"/api/v2/users/{uid}/").json["username"]


def test_team_owned_credentials(admin, make_user, make_org):
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).json
    lead_id, lead = make_user()
    member_id, member = make_user()
    grant(admin, lead_id, role_of(team, "admin_role"))
    grant(admin, member_id, role_of(team, "member_role"))
    body = {"name": unique("c"), "credential_type": type_id(admin, "Machine"), "team": team["id"]}
    assert member.post("/api/v2/credentials/", body).status_code == 403
    resp = lead.post("/api/v2/credentials/", body)
    assert resp.status_code == 201, resp.json
    cred = resp.json
    assert cred["organization"] == org["id"]                 # team => the team's organization
    owners = [(o["type"], o["id"]) for o in cred["summary_fields"]["owners"]]
    assert ("team", team["id"]) in owners and ("organization", org["id"]) in owners
    assert [t["id"] for t in admin.get(f"/api/v2/credentials/{cred['id']}/owner_teams/").json["results"]] == [team["id"]]
    seen = member.get(f"/api/v2/credentials/{cred['id']}/")
    assert seen.status_code == 200 and seen.json["summary_fields"]["user_capabilities"]["use"] is True
    assert member.patch(f"/api/v2/credentials/{cred['id']}/", {"description": "x"}).status_code == 403
    assert [c["id"] for c in admin.get(f"/api/v2/teams/{team['id']}/credentials/").json["results"]] == [cred["id"]]
    made = admin.post(f"/api/v2/teams/{team['id']}/credentials/", {"name": unique("c"),
                                                                   "credential_type": body["credential_type"]})
    assert made.status_code == 201 and made.json["organization"] == org["id"]


def test_create_only_sub_lists_ignore_ids(admin, make_user):
    uid, _ = make_user()
    cred = make_machine(admin)
    resp = admin.post(f"/api/v2/users/{uid}/credentials/", {"id": cred["id"], "disassociate": True})
    assert resp.status_code == 400 and "name" in resp.json    # validated as a new credential
    assert admin.get(f"/api/v2/credentials/{cred['id']}/").status_code == 200


# -- the secrecy canary (acceptance) -------------------------------------------------------
class Recorder:
    """Wraps clients so every response body is kept for the final leak check."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str, int, bytes]] = []

    def wrap(self, client: Client) -> Client:
        original = client.request

        def request(method, path, json=None, **kw):
            resp = original(method, path, json=json, **kw)
            self.bodies.append((method, path, resp.status_code, resp.get_data()))
            return resp
        client.request = request  # type: ignore[method-assign]
        return client


def _all_pages(client, url: str) -> list[dict]:
    out = []
    while url:
        page = client.get(url).json
        out += page["results"]
        url = page["next"]
    return out


def test_secrets_never_leak(app, app_state, make_user, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", app.logger.name, "controller"):
        caplog.set_level(logging.DEBUG, logger=name)
    canary = f"CANARY{secrets.token_hex(8)}"
    key = pem(f"{canary}-unlock")
    key_body = max(key.splitlines(), key=len)               # a line of the key's base64
    rec = Recorder()
    admin = rec.wrap(Client(app, "admin", ADMIN_PASSWORD))
    org = admin.post("/api/v2/organizations/", {"name": unique("canary-org")}).json
    custom = make_custom_type(admin)

    def create(type_name_or_id, inputs, **extra):
        ct = type_name_or_id if isinstance(type_name_or_id, int) else type_id(admin, type_name_or_id)
        resp = admin.post("/api/v2/credentials/", {"name": unique("canary"), "credential_type": ct,
                                                   "organization": org["id"], "inputs": inputs, **extra})
        assert resp.status_code == 201, resp.json
        return resp.json

    machine = create("Machine", {"username": "deploy", "password": f"{canary}-ssh", "ssh_key_data": key,
                                 "ssh_key_unlock": f"{canary}-unlock", "become_method": "sudo",
                                 "become_password": f"{canary}-become"})
    vault = create("Vault", {"vault_password": f"{canary}-vault", "vault_id": "prod"})
    api = create(custom["id"], {"api_url": "https://api", "api_token": f"{canary}-api", "tls": True})
    # failures must not echo the secret either
    bad = admin.post("/api/v2/credentials/", {"name": unique("bad"), "credential_type": type_id(admin, "Machine"),
                                              "organization": org["id"],
                                              "inputs": {"password": f"{canary}-bad", "bogus": f"{canary}-bogus"}})
    assert bad.status_code == 400
    bad = admin.post("/api/v2/credentials/", {"name": unique("bad"), "credential_type": type_id(admin, "Machine"),
                                              "organization": org["id"], "inputs": {"ssh_key_data": f"{canary}-key"}})
    assert bad.status_code == 400
    bad = admin.post("/api/v2/credentials/", {"name": unique("bad"), "credential_type": custom["id"],
                                              "organization": org["id"], "inputs": {"api_token": 42}})
    assert bad.status_code == 400
    # updates: the $encrypted$ round trip, then a changed secret
    url = f"/api/v2/credentials/{machine['id']}/"
    before = stored_inputs(app_state, machine["id"])
    echoed = admin.get(url).json["inputs"]
    assert admin.put(url, {"name": machine["name"], "credential_type": machine["credential_type"],
                           "organization": org["id"], "inputs": {**echoed, "username": "deploy2"}}).status_code == 200
    assert {k: v for k, v in stored_inputs(app_state, machine["id"]).items() if k != "username"} == \
        {k: v for k, v in before.items() if k != "username"}
    assert admin.patch(f"/api/v2/credentials/{vault['id']}/",
                       {"inputs": {"vault_password": f"{canary}-vault-2", "vault_id": "prod"}}).status_code == 200
    copy = admin.post(f"{url}copy/", {"name": unique("canary-copy")})
    assert copy.status_code == 201
    # a user who may use (not edit) the credential reads it too
    uid, user = make_user()
    user = rec.wrap(user)
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_of(machine, "use_role")})
    personal = rec.wrap(user).post(f"/api/v2/users/{uid}/credentials/", {
        "name": "personal", "credential_type": custom["id"], "inputs": {"api_url": "u", "api_token": f"{canary}-p"}})
    assert personal.status_code == 201
    for client in (admin, user):
        for path in ("/api/v2/credentials/?page_size=200", url, f"{url}owner_users/", f"{url}owner_teams/",
                     f"{url}object_roles/", f"{url}access_list/", f"{url}activity_stream/", f"{url}copy/",
                     machine["related"]["named_url"], f"/api/v2/users/{uid}/credentials/",
                     f"/api/v2/organizations/{org['id']}/credentials/", f"/api/v2/credentials/{vault['id']}/",
                     f"/api/v2/credentials/{api['id']}/", f"/api/v2/credential_types/{custom['id']}/credentials/"):
            client.get(path)
        client.options("/api/v2/credentials/")
        client.options(url)
    stream = _all_pages(admin, "/api/v2/activity_stream/?page_size=200")
    assert any(e["object1"] == "credential" and e["operation"] == "update" for e in stream)
    assert admin.delete(f"/api/v2/credentials/{api['id']}/").status_code == 204
    stream += _all_pages(admin, "/api/v2/activity_stream/?page_size=200")

    # it really was stored, encrypted
    stored = stored_inputs(app_state, machine["id"])
    assert app_state.vault.decrypt(stored["password"]) == f"{canary}-ssh"
    assert app_state.vault.decrypt(stored["ssh_key_data"]) == key
    assert app_state.vault.decrypt(stored_inputs(app_state, vault["id"])["vault_password"]) == f"{canary}-vault-2"
    assert app_state.vault.decrypt(stored_inputs(app_state, copy.json["id"])["become_password"]) == f"{canary}-become"
    key_file = app_state.settings.data_dir / "secret.key"
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

    needles = (canary, key_body)
    assert len(rec.bodies) > 40
    for method, path, status, body in rec.bodies:
        for needle in needles:
            assert needle.encode() not in body, f"{method} {path} ({status}) leaked a secret"
    for entry in stream:
        assert not any(n in str(entry) for n in needles), entry
    raw_stream = app_state.store.query("SELECT * FROM activity_stream")
    assert not any(n in str(tuple(r)) for r in raw_stream for n in needles)
    app.logger.debug("log capture self-check")             # proves the capture below sees app logs
    assert "log capture self-check" in caplog.text
    logged = caplog.text + "".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    out, err = capfd.readouterr()
    for needle in needles:
        assert needle not in logged and needle not in out and needle not in err
    files = [p for p in app_state.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files) or any(p.suffix in (".db", ".sqlite3") for p in files)
    for path in files:
        raw = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in raw, f"{path.name} holds a plaintext secret"

"""The form engine's pages in-process (Flask test client): forms derived from the registry for
organizations, users (password pair), teams (membership), credential types, credentials of any
type, tokens, inventories, hosts, groups, inventory sources (sync) and settings.  Every post is
checked against the API's state afterwards; refused posts re-render what was typed, 400, with
the service's message beside the field that caused it."""
from __future__ import annotations

import json
import re

import pytest

from .forms_support import Api, created_id, field_error, form_fixtures, input_value, login, post


app, admin = form_fixtures()


@pytest.fixture(scope="module")
def api(app):
    return Api(app)


def test_organization_create_edit_delete_round_trip(admin, api):
    page = admin.get("/ui/organizations/new")
    assert page.status_code == 200 and "<title>New organization | Organizations | Turret</title>" in page.text
    assert 'id="f-name"' in page.text and '<label for="f-max_hosts">' in page.text   # derived, not hand-written
    bad = post(admin, "/ui/organizations/new", {"name": "", "description": "kept text", "max_hosts": "many"})
    assert bad.status_code == 400
    assert field_error(bad.text, "name") == "This field may not be blank."
    assert field_error(bad.text, "max_hosts") == "A valid integer is required."
    assert input_value(bad.text, "description") == "kept text" and input_value(bad.text, "max_hosts") == "many"
    assert api.get("/api/v2/organizations/?description=kept+text")["count"] == 0
    pk = created_id(post(admin, "/ui/organizations/new", {"name": "Forms Org", "description": "d", "max_hosts": "7"}))
    org = api.get(f"/api/v2/organizations/{pk}/")
    assert (org["name"], org["description"], org["max_hosts"]) == ("Forms Org", "d", 7)
    detail = admin.get(f"/ui/organizations/{pk}")
    assert "<h1>Forms Org</h1>" in detail.text and 'data-action="delete"' in detail.text
    edit = admin.get(f"/ui/organizations/{pk}/edit")
    assert input_value(edit.text, "name") == "Forms Org" and input_value(edit.text, "max_hosts") == "7"
    resp = post(admin, f"/ui/organizations/{pk}/edit", {"name": "Forms Org 2", "description": "", "max_hosts": "0"})
    assert resp.status_code == 302
    org = api.get(f"/api/v2/organizations/{pk}/")
    assert (org["name"], org["description"], org["max_hosts"]) == ("Forms Org 2", "", 0)
    assert post(admin, f"/ui/organizations/{pk}/delete", {}).status_code == 302
    assert api.get(f"/api/v2/organizations/{pk}/") == 404


def test_user_password_pair_and_password_change(app, admin, api):
    mismatch = post(admin, "/ui/users/new", {"username": "pair-user", "first_name": "Pat", "password": "pw-one-1",
                                             "password_confirm": "pw-two-2"})
    assert mismatch.status_code == 400
    assert field_error(mismatch.text, "password_confirm") == "The two passwords do not match."
    assert input_value(mismatch.text, "username") == "pair-user" and input_value(mismatch.text, "first_name") == "Pat"
    assert "pw-one-1" not in mismatch.text                                  # secrets are never echoed
    assert api.get("/api/v2/users/?username=pair-user")["count"] == 0
    missing = post(admin, "/ui/users/new", {"username": "pair-user", "password": "", "password_confirm": ""})
    assert missing.status_code == 400 and field_error(missing.text, "password") == "Password required for new User."
    pk = created_id(post(admin, "/ui/users/new", {"username": "pair-user", "email": "p@example.com",
                                                  "password": "pw-one-1", "password_confirm": "pw-one-1"}))
    user = api.get(f"/api/v2/users/{pk}/")
    assert user["email"] == "p@example.com" and user["is_superuser"] is False
    own = login(app, "pair-user", "pw-one-1")
    form = own.get(f"/ui/users/{pk}/edit")
    assert 'id="f-is_superuser"' not in form.text                  # only superusers see the flags
    assert "Leave empty to keep the current password." in form.text
    kept = post(own, f"/ui/users/{pk}/edit", {"username": "pair-user", "first_name": "Pat", "password": "",
                                              "password_confirm": ""})
    assert kept.status_code == 302 and api.get(f"/api/v2/users/{pk}/")["first_name"] == "Pat"
    login(app, "pair-user", "pw-one-1")                              # an empty password kept the old one
    changed = post(own, f"/ui/users/{pk}/edit", {"username": "pair-user", "password": "pw-new-3",
                                                 "password_confirm": "pw-new-3"})
    assert changed.status_code == 302
    login(app, "pair-user", "pw-new-3")
    # a user may not make themselves superuser, even by posting the flag the form does not show
    post(own, f"/ui/users/{pk}/edit", {"username": "pair-user", "is_superuser": "on"})
    assert api.get(f"/api/v2/users/{pk}/")["is_superuser"] is False


def test_team_create_and_membership(app, admin, api):
    page = admin.get("/ui/teams/new?organization=1")
    assert '<option value="1" selected' in page.text                      # preset from the query
    pk = created_id(post(admin, "/ui/teams/new", {"name": "Form Team", "organization": "1"}))
    assert api.get(f"/api/v2/teams/{pk}/")["organization"] == 1
    assert f'<a href="/ui/teams/{pk}">Form Team</a>' in admin.get("/ui/organizations/1").text   # its teams
    # the edit form shows the organization disabled and does not read it back: a team stays put
    other = api.post("/api/v2/organizations/", {"name": "Form Team Elsewhere"})
    assert re.search(r'<select[^>]*id="f-organization"[^>]*disabled', admin.get(f"/ui/teams/{pk}/edit").text)
    moved = post(admin, f"/ui/teams/{pk}/edit", {"name": "Form Team", "description": "kept",
                                                 "organization": str(other["id"])})
    assert moved.status_code == 302
    assert (api.get(f"/api/v2/teams/{pk}/")["organization"], api.get(f"/api/v2/teams/{pk}/")["description"]) \
        == (1, "kept")
    api.post("/api/v2/teams/", {"name": "Form Team Twin", "organization": 1})
    refused = post(admin, f"/ui/teams/{pk}/edit", {"name": "Form Team Twin"})     # a refused save
    assert refused.status_code == 400 and '<option value="1" selected' in refused.text
    user = api.user("team-joiner", "joiner-pw-1")
    resp = post(admin, f"/ui/teams/{pk}/members", {"user": str(user["id"])})
    assert resp.status_code == 302
    assert [u["username"] for u in api.get(f"/api/v2/teams/{pk}/users/")["results"]] == ["team-joiner"]
    detail = admin.get(f"/ui/teams/{pk}")
    assert "team-joiner" in detail.text and "Remove team-joiner" in detail.text
    post(admin, f"/ui/teams/{pk}/members", {"remove": str(user["id"])})
    assert api.get(f"/api/v2/teams/{pk}/users/")["count"] == 0
    # the joiner cannot manage the team's members: no buttons, and a forged post is refused
    joiner = login(app, "team-joiner", "joiner-pw-1")
    api.post(f"/api/v2/teams/{pk}/users/", {"id": user["id"]})
    assert "Remove team-joiner" not in joiner.get(f"/ui/teams/{pk}").text
    forged = post(joiner, f"/ui/teams/{pk}/members", {"remove": str(user["id"])})
    assert forged.status_code == 403 and "<h1>Permission denied</h1>" in forged.text
    assert api.get(f"/api/v2/teams/{pk}/users/")["count"] == 1


def test_credential_type_json_inputs_are_validated_beside_the_field(admin, api):
    bad = post(admin, "/ui/credential_types/new", {"name": "Form Type", "kind": "cloud", "inputs": "{not json",
                                                   "injectors": ""})
    assert bad.status_code == 400 and field_error(bad.text, "inputs")
    assert input_value(bad.text, "inputs") == "{not json"
    inputs = {"fields": [{"id": "api_key", "label": "API key", "type": "string", "secret": True},
                         {"id": "region", "label": "Region", "type": "string", "choices": ["eu", "us"]}],
              "required": ["api_key"]}
    pk = created_id(post(admin, "/ui/credential_types/new", {
        "name": "Form Type", "kind": "cloud", "inputs": json.dumps(inputs),
        "injectors": json.dumps({"env": {"FORM_KEY": "{{ api_key }}"}})}))
    ctype = api.get(f"/api/v2/credential_types/{pk}/")
    assert ctype["inputs"] == inputs and ctype["injectors"] == {"env": {"FORM_KEY": "{{ api_key }}"}}
    # a credential of the new type: its inputs come from the type's schema
    form = admin.get(f"/ui/credentials/new?credential_type={pk}")
    assert 'id="f-input_api_key"' in form.text and 'type="password"' in form.text
    assert '<option value="eu"' in form.text
    # not a choice of the schema (a forged post): the service's message beside that input
    bad = post(admin, f"/ui/credentials/new?credential_type={pk}", {
        "form": "save", "credential_type": str(pk), "name": "typed cred", "organization": "1",
        "input_api_key": "k-123", "input_region": "mars"})
    assert bad.status_code == 400 and "is not one of" in field_error(bad.text, "input_region")
    assert input_value(bad.text, "name") == "typed cred" and "k-123" not in bad.text
    cred_id = created_id(post(admin, f"/ui/credentials/new?credential_type={pk}", {
        "form": "save", "credential_type": str(pk), "name": "typed cred", "organization": "1",
        "input_api_key": "k-123", "input_region": "us"}))
    cred = api.get(f"/api/v2/credentials/{cred_id}/")
    assert cred["inputs"] == {"api_key": "$encrypted$", "region": "us"}


def test_credential_secret_is_write_only_and_kept_when_left_empty(app, admin, api):
    machine = api.get("/api/v2/credential_types/?namespace=ssh")["results"][0]
    pk = created_id(post(admin, f"/ui/credentials/new?credential_type={machine['id']}", {
        "form": "save", "credential_type": str(machine["id"]), "name": "form-machine", "organization": "1",
        "input_username": "bob", "input_password": "s3cret-value"}))
    store = app.config["TURRET"].store
    stored = store.get("credentials", pk)["inputs"]
    page = admin.get(f"/ui/credentials/{pk}")
    assert "s3cret-value" not in page.text and 'data-secret="password"' in page.text
    resp = post(admin, f"/ui/credentials/{pk}", {"form": "save", "credential_type": str(machine["id"]),
                                                 "name": "form-machine", "organization": "1",
                                                 "input_username": "alice", "input_password": ""})
    assert resp.status_code == 302
    cred = api.get(f"/api/v2/credentials/{pk}/")
    assert cred["inputs"]["username"] == "alice" and cred["inputs"]["password"] == "$encrypted$"
    after = json.loads(store.get("credentials", pk)["inputs"])
    assert after["password"] == json.loads(stored)["password"]          # the same ciphertext: kept


def test_token_is_shown_once_and_works(app, admin, api):
    resp = post(admin, "/ui/tokens/new", {"description": "form token", "scope": "read"})
    assert resp.status_code == 200 and 'id="token-value"' in resp.text
    token = resp.text.split('id="token-value">', 1)[1].split("<", 1)[0]
    me = app.test_client().get("/api/v2/me/", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["results"][0]["username"] == "admin"
    listed = api.get("/api/v2/tokens/?description=form+token")["results"][0]
    assert listed["scope"] == "read"
    assert token not in admin.get(f"/ui/tokens/{listed['id']}").text


def test_host_variables_yaml_validated_and_host_edit(admin, api):
    inv = api.post("/api/v2/inventories/", {"name": "form-inv", "organization": 1})
    form = admin.get(f"/ui/hosts/new?inventory={inv['id']}")
    assert f'<option value="{inv["id"]}" selected' in form.text
    bad = post(admin, "/ui/hosts/new", {"inventory": str(inv["id"]), "name": "web-1", "variables": "a: [1,"})
    assert bad.status_code == 400 and field_error(bad.text, "variables")
    assert input_value(bad.text, "variables") == "a: [1," and input_value(bad.text, "name") == "web-1"
    pk = created_id(post(admin, "/ui/hosts/new", {"inventory": str(inv["id"]), "name": "web-1", "enabled": "on",
                                                  "variables": "http_port: 8080"}))
    host = api.get(f"/api/v2/hosts/{pk}/")
    assert host["inventory"] == inv["id"] and host["enabled"] is True and "8080" in host["variables"]
    page = admin.get(f"/ui/hosts/{pk}")
    assert "<title>web-1 | Hosts | Turret</title>" in page.text and "http_port: 8080" in page.text
    resp = post(admin, f"/ui/hosts/{pk}", {"name": "web-1", "description": "edited", "variables": "http_port: 81"})
    assert resp.status_code == 302
    host = api.get(f"/api/v2/hosts/{pk}/")
    assert host["enabled"] is False and host["description"] == "edited" and "81" in host["variables"]
    group = created_id(post(admin, "/ui/groups/new", {"inventory": str(inv["id"]), "name": "webservers"}))
    assert api.get(f"/api/v2/groups/{group}/")["inventory"] == inv["id"]
    # the host joins the group from its page, and leaves it from the group's
    missing = post(admin, f"/ui/hosts/{pk}/links", {"name": "no-such-group"})
    assert "no-such-group" in admin.get(missing.headers["Location"]).text
    assert post(admin, f"/ui/hosts/{pk}/links", {"name": "webservers"}).status_code == 302
    assert [g["name"] for g in api.get(f"/api/v2/hosts/{pk}/groups/")["results"]] == ["webservers"]
    assert 'aria-label="Remove web-1"' in admin.get(f"/ui/groups/{group}").text
    post(admin, f"/ui/groups/{group}/links", {"remove": str(pk)})
    assert api.get(f"/api/v2/groups/{group}/hosts/")["count"] == 0
    assert post(admin, f"/ui/hosts/{pk}/delete", {}).status_code == 302
    assert api.get(f"/api/v2/inventories/{inv['id']}/hosts/")["count"] == 0


def test_inventory_create_edit_and_source_sync(admin, api):
    pk = created_id(post(admin, "/ui/inventories/new", {"name": "form-inv-2", "organization": "1",
                                                        "variables": "region: eu"}))
    assert api.get(f"/api/v2/inventories/{pk}/")["variables"].strip() == "region: eu"
    resp = post(admin, f"/ui/inventories/{pk}/edit", {"name": "form-inv-2b", "organization": "1",
                                                      "description": "", "variables": "region: us"})
    assert resp.status_code == 302
    inv = api.get(f"/api/v2/inventories/{pk}/")
    assert inv["name"] == "form-inv-2b" and "us" in inv["variables"]
    project = api.get("/api/v2/projects/?name=Turret+Collection+Playbooks")["results"][0]
    bad = post(admin, "/ui/inventory_sources/new", {"inventory": str(pk), "name": "", "source": "scm",
                                                    "source_project": str(project["id"]), "verbosity": "2"})
    assert bad.status_code == 400 and field_error(bad.text, "name")
    assert '<option value="2" selected' in bad.text                       # the choice typed back
    src = created_id(post(admin, "/ui/inventory_sources/new", {
        "inventory": str(pk), "name": "form-src", "source": "scm", "source_project": str(project["id"]),
        "source_path": "inventory.yml", "verbosity": "2", "overwrite": "on"}))
    body = api.get(f"/api/v2/inventory_sources/{src}/")
    assert (body["source"], body["verbosity"], body["overwrite"], body["update_on_launch"]) == ("scm", 2, True, False)
    page = admin.get(f"/ui/inventory_sources/{src}")
    assert 'data-action="sync"' in page.text
    before = api.get(f"/api/v2/inventory_sources/{src}/inventory_updates/")["count"]
    assert post(admin, f"/ui/inventory_sources/{src}/sync", {}).status_code == 302
    updates = api.get(f"/api/v2/inventory_sources/{src}/inventory_updates/")
    assert updates["count"] == before + 1
    shown = admin.get(f"/ui/inventory_sources/{src}").text
    assert f'href="/api/v2/inventory_updates/{updates["results"][0]["id"]}/stdout/?format=txt"' in shown


def test_settings_page_saves_through_the_settings_service(app, admin, api):
    page = admin.get("/ui/settings/ui")
    assert 'id="f-CUSTOM_LOGIN_INFO"' in page.text
    resp = post(admin, "/ui/settings/ui", {"CUSTOM_LOGIN_INFO": "Welcome, operators", "CUSTOM_LOGO": "not-a-logo"})
    assert resp.status_code == 400 and "Invalid format for custom logo" in field_error(resp.text, "CUSTOM_LOGO")
    assert input_value(resp.text, "CUSTOM_LOGIN_INFO") == "Welcome, operators"
    assert api.get("/api/v2/settings/ui/")["CUSTOM_LOGIN_INFO"] == ""          # all or nothing
    logo = "data:image/png;base64,iVBORw0KGgo="
    resp = post(admin, "/ui/settings/ui", {"CUSTOM_LOGIN_INFO": "Welcome, operators", "CUSTOM_LOGO": logo,
                                           "UI_LIVE_UPDATES_ENABLED": "on"})
    assert resp.status_code == 302
    assert api.get("/api/v2/settings/ui/")["CUSTOM_LOGIN_INFO"] == "Welcome, operators"
    assert "Welcome, operators" in app.test_client().get("/ui/login").text
    assert f'src="{logo}"' in admin.get("/ui/").text                          # the header's logo
    api.user("settings-peeker", "peeker-pw-1")
    peeker = login(app, "settings-peeker", "peeker-pw-1")
    assert "/ui/settings" not in peeker.get("/ui/").text
    refused = post(peeker, "/ui/settings/ui", {"CUSTOM_LOGIN_INFO": "hijacked"})
    assert refused.status_code == 403 and "<h1>Permission denied</h1>" in refused.text
    assert api.get("/api/v2/settings/ui/")["CUSTOM_LOGIN_INFO"] == "Welcome, operators"


def test_foreign_keys_offer_only_what_the_user_may_use(app, api):
    org_a = api.post("/api/v2/organizations/", {"name": "fk-org-a"})
    org_b = api.post("/api/v2/organizations/", {"name": "fk-org-b"})
    user = api.user("fk-user", "fk-user-pw-1")
    inv_admin = api.get(f"/api/v2/organizations/{org_a['id']}/")["summary_fields"]["object_roles"]
    api.post(f"/api/v2/users/{user['id']}/roles/", {"id": inv_admin["inventory_admin_role"]["id"]})
    api.post(f"/api/v2/organizations/{org_b['id']}/users/", {"id": user["id"]})      # sees B, may not use it
    client = login(app, "fk-user", "fk-user-pw-1")
    form = client.get("/ui/inventories/new").text
    select = re.search(r'<select id="f-organization".*?</select>', form, re.S).group(0)
    assert "fk-org-a" in select and "fk-org-b" not in select
    pk = created_id(post(client, "/ui/inventories/new", {"name": "fk-inv", "organization": str(org_a["id"])}))
    assert api.get(f"/api/v2/inventories/{pk}/")["organization"] == org_a["id"]
    refused = post(client, "/ui/inventories/new", {"name": "fk-inv-b", "organization": str(org_b["id"])})
    assert refused.status_code == 403 and "<h1>Permission denied</h1>" in refused.text
    assert api.get("/api/v2/inventories/?name=fk-inv-b")["count"] == 0

"""A sub-list's OPTIONS offers POST as AWX 24.6.1 decides it for a non-superuser.

AWX's metadata (awx/api/metadata.py ``Metadata.determine_actions``) runs the view's permission
check for a cloned POST: ``ModelAccessPermission.check_post_permissions``
(awx/api/permissions.py) reads the parent, then, only for views that declare a ``parent_key``
(reverse-FK lists that create children), asks the child's ``can_add({parent_key: parent})``.
Attach lists, role members and m2m lists offer POST to every reader of the parent, even where
the POST itself is then refused.  A non-superuser's OPTIONS first needs the parent readable
(``check_options_permissions``: 404 / 403 as GET); a superuser is never refused.

Each case checks the offer against a real POST by the same user.
"""
from __future__ import annotations

import pytest

from tests.controller.conftest import unique
from tests.support.jobs import make_inventory, make_jt, make_project, type_id

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"
RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
V2 = "/api/v2"


def role_of(admin, obj: dict, role: str) -> int:
    return admin.get(obj["url"]).json["summary_fields"]["object_roles"][role]["id"]


def grant(admin, uid: int, obj: dict, role: str) -> None:
    """Give user ``uid`` the ``role`` of ``obj`` (an API body)."""
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": role_of(admin, obj, role)}).status_code == 204


def ids(client, url: str) -> set[int]:
    """The ids a list shows ``client`` (up to 200)."""
    resp = client.get(f"{url}?page_size=200")
    assert resp.status_code == 200, resp.json
    return {r["id"] for r in resp.json["results"]}


def offers_post(client, url: str) -> bool:
    resp = client.options(url)
    assert resp.status_code == 200, resp.json
    return "POST" in resp.json["actions"]


@pytest.fixture(scope="module")
def world(admin, app_state, make_org):
    """An organization with a project, an inventory, a job template and a machine credential."""
    org = make_org()
    project = make_project(admin, app_state.settings.data_dir, org, {"site.yml": PLAY})
    inventory = make_inventory(admin, org, hosts=())
    jt = make_jt(admin, project, inventory, "site.yml")
    cred = admin.post(f"{V2}/credentials/", {"name": unique("cred"), "organization": org["id"],
                                             "credential_type": type_id(admin, "ssh"), "inputs": {}})
    assert cred.status_code == 201, cred.json
    return {"org": org, "project": project, "inventory": inventory, "jt": jt, "cred": cred.json}


@pytest.fixture()
def person(admin, make_user, world):
    """person(*(obj name, role)) -> (user id, client) holding those roles of ``world``'s objects."""
    def make(*roles: tuple[str, str]):
        uid, client = make_user()
        for name, role in roles:
            grant(admin, uid, world[name], role)
        return uid, client
    return make


# -- parent-key lists: can_add({parent_key: parent}) ----------------------------------------------
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
PARENT_KEY_LISTS = {
    # case: (parent in world, parent's plural, sub-list, child's key, refused role, allowed role, body)
    "organization teams need the organization admin": (
        "org", "organizations", "teams", "organization", ("org", "member_role"), ("org", "admin_role"),
        lambda: {"name": unique("team")}),
    "inventory hosts need the inventory admin": (
        "inventory", "inventories", "hosts", "inventory", ("inventory", "read_role"), ("inventory", "admin_role"),
        lambda: {"name": unique("host")}),
    "job template schedules need execute": (
        "jt", "job_templates", "schedules", "unified_job_template", ("jt", "read_role"), ("jt", "execute_role"),
        lambda: {"name": unique("s"), "rrule": RULE}),
}


@pytest.mark.parametrize("case", list(PARENT_KEY_LISTS))
def test_parent_key_lists_offer_post_by_can_add(admin, world, person, case):
    parent, plural, sub, key, refused_role, allowed_role, body = PARENT_KEY_LISTS[case]
    url = f"{V2}/{plural}/{world[parent]['id']}/{sub}/"
    _uid, refused = person(refused_role)
    kept_out = body()
    assert not offers_post(refused, url)
    resp = refused.post(url, kept_out)
    assert (resp.status_code, resp.json) == (403, NO_PERMISSION)
    _uid, allowed = person(allowed_role)
    made = body()
    assert offers_post(allowed, url)
    resp = allowed.post(url, made)
    assert resp.status_code == 201, resp.json
    assert resp.json[key] == world[parent]["id"] and resp.json["name"] == made["name"]
    stored = {r["name"] for r in admin.get(f"{url}?page_size=200").json["results"]}
    assert made["name"] in stored and kept_out["name"] not in stored


def test_input_sources_need_the_target_admin_only(admin, world, person):
    """AWX asks ``can_add({"target_credential": parent})``: the source is not named yet, so
    only the target's admin role decides the offer."""
    source = admin.post(f"{V2}/credentials/", {
        "name": unique("vault"), "organization": world["org"]["id"],
        "credential_type": type_id(admin, "hashivault_kv"),
        "inputs": {"url": "https://vault.invalid", "token": "t", "api_version": "v2"}})
    assert source.status_code == 201, source.json
    url = f"{V2}/credentials/{world['cred']['id']}/input_sources/"
    body = {"source_credential": source.json["id"], "input_field_name": "password",
            "metadata": {"secret_path": "/secret/app", "secret_key": "password"}}
    uid, user = person(("cred", "use_role"))
    grant(admin, uid, source.json, "use_role")
    assert not offers_post(user, url)
    assert user.post(url, body).status_code == 403
    assert ids(admin, url) == set()
    uid, owner = person(("cred", "admin_role"))
    grant(admin, uid, source.json, "use_role")
    assert offers_post(owner, url)
    made = owner.post(url, body)
    assert made.status_code == 201, made.json
    assert (made.json["target_credential"], made.json["source_credential"]) == (world["cred"]["id"], source.json["id"])
    assert ids(admin, url) == {made.json["id"]}


# -- lists without a parent key: every reader of the parent is offered POST ------------------------
def test_attach_lists_offer_post_to_every_reader(admin, world, person):
    """AWX's JobTemplateCredentialsList and OrganizationUsersList declare no ``parent_key``:
    POST is offered to whoever reads the parent, though only an admin's attach succeeds."""
    jt_url = f"{V2}/job_templates/{world['jt']['id']}/credentials/"
    cred = {"id": world["cred"]["id"]}
    _uid, runner = person(("jt", "execute_role"), ("cred", "use_role"))
    assert offers_post(runner, jt_url)
    assert runner.post(jt_url, cred).status_code == 403
    assert cred["id"] not in ids(admin, jt_url)
    _uid, jt_admin = person(("jt", "admin_role"), ("cred", "use_role"))
    assert offers_post(jt_admin, jt_url)
    assert jt_admin.post(jt_url, cred).status_code == 204
    assert cred["id"] in ids(admin, jt_url)

    users_url = f"{V2}/organizations/{world['org']['id']}/users/"
    newcomer, _client = person()
    _uid, member = person(("org", "member_role"))
    assert offers_post(member, users_url)
    assert member.post(users_url, {"id": newcomer}).status_code == 403
    assert newcomer not in ids(admin, users_url)
    _uid, org_admin = person(("org", "admin_role"))
    assert offers_post(org_admin, users_url)
    assert org_admin.post(users_url, {"id": newcomer}).status_code == 204
    assert newcomer in ids(admin, users_url)


def test_credential_type_credentials_offer_post_to_every_reader(admin, world, person):
    """AWX's CredentialTypeCredentialList has no ``parent_key`` (``checks_add=False``): anyone
    may create a credential of the type they own."""
    ssh = type_id(admin, "ssh")
    url = f"{V2}/credential_types/{ssh}/credentials/"
    uid, plain = person()
    assert offers_post(plain, url)
    refused = unique("c")
    assert plain.post(url, {"name": refused, "organization": world["org"]["id"]}).status_code == 403
    made = plain.post(url, {"name": unique("c"), "user": uid})
    assert made.status_code == 201, made.json
    assert made.json["credential_type"] == ssh
    mine = {c["name"] for c in admin.get(f"{V2}/users/{uid}/credentials/").json["results"]}
    assert mine == {made.json["name"]}
    assert admin.get(f"{V2}/credentials/?name={refused}").json["count"] == 0


# -- the parent first, superusers never refused -------------------------------------------------
def test_parent_must_be_readable_before_the_answer(admin, world, person):
    url = f"{V2}/inventories/{world['inventory']['id']}/hosts/"
    _uid, stranger = person()
    assert stranger.options(url).status_code == 403
    assert stranger.get(url).status_code == 403
    assert stranger.options(f"{V2}/inventories/999999/hosts/").status_code == 404
    # AWX's always_allow_superuser: the parent is not looked up
    missing = admin.options(f"{V2}/inventories/999999/hosts/")
    assert missing.status_code == 200 and "POST" in missing.json["actions"]


def test_own_tokens_only(admin, world, person):
    """AWX offers POST on /users/N/tokens/ to every reader of N (its POST then mints a token
    for the caller); Turret refuses to mint another user's token, and says so in OPTIONS."""
    uid, member = person(("org", "member_role"))
    _other, org_admin = person(("org", "admin_role"))
    own = f"{V2}/users/{uid}/tokens/"
    assert offers_post(member, own)
    assert member.post(own, {"scope": "read"}).status_code == 201
    assert org_admin.get(own).status_code == 200
    assert not offers_post(org_admin, own)
    before = ids(admin, own)
    assert org_admin.post(own, {"scope": "read"}).status_code == 403
    assert ids(admin, own) == before

"""Activity stream: every write recorded exactly once, generically, and no secret ever in it.

Shape (reference 7.6): ``operation`` create|update|delete|associate|disassociate; ``changes`` is
field -> value for create/delete (a snapshot) and field -> [old, new] for update, with only the
fields that changed; ``object1``/``object2`` are type names, ``object_association`` the
relationship; ``actor`` and ``summary_fields.actor`` say who did it.

Secrets: activity.py records password/secret fields as ``$encrypted$``; the tests put canary
strings into passwords and check that neither any stream body nor any byte of the data
directory (database, -wal, -shm, keys) contains them.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from conftest import Client, unique

ENCRYPTED = "$encrypted$"
STREAM = "/api/v2/activity_stream/"


# -- helpers --------------------------------------------------------------------------------
def all_results(client: Client, url: str) -> list[dict]:
    out: list[dict] = []
    url = url + ("&" if "?" in url else "?") + "page_size=200"
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code, resp.json)
        out += resp.json["results"]
        url = resp.json["next"]
    return out


def ids_of(client: Client, url: str) -> set[int]:
    return {e["id"] for e in all_results(client, url)}


class Recorder:
    """New stream entries since the last call (as seen by the superuser, oldest first)."""

    def __init__(self, admin: Client) -> None:
        self.admin = admin
        top = admin.get(f"{STREAM}?order_by=-id&page_size=1").json["results"]
        self.mark = top[0]["id"] if top else 0

    def new(self) -> list[dict]:
        got = all_results(self.admin, f"{STREAM}?id__gt={self.mark}&order_by=id")
        if got:
            self.mark = got[-1]["id"]
        return got

    def one(self) -> dict:
        got = self.new()
        assert len(got) == 1, [(e["operation"], e["object1"], e["object2"]) for e in got]
        return got[0]


@pytest.fixture(scope="module")
def admin_id(admin) -> int:
    return admin.get("/api/v2/me/").json["results"][0]["id"]


@pytest.fixture()
def rec(admin) -> Recorder:
    return Recorder(admin)


def _ok(resp, status=204):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp


def _check_actor(entry: dict, uid: int, username: str) -> None:
    assert entry["actor"] == uid
    assert entry["related"]["actor"] == f"/api/v2/users/{uid}/"
    actor = entry["summary_fields"]["actor"]
    assert actor["id"] == uid and actor["username"] == username
    assert set(actor) == {"id", "username", "first_name", "last_name"}


def _check_common(entry: dict, operation: str, object1: str, obj: dict, object2: str = "") -> None:
    assert entry["type"] == "activity_stream"
    assert entry["url"] == f"{STREAM}{entry['id']}/"
    assert entry["operation"] == operation
    assert entry["object1"] == object1 and entry["object2"] == object2
    assert obj["url"] in entry["related"][object1]
    label = obj.get("name", obj.get("username"))
    assert {"id": obj["id"], "name": label} in entry["summary_fields"][object1]
    datetime.strptime(entry["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")


def _is_snapshot(changes: dict) -> bool:
    """create/delete changes are field -> value (no [old, new] pairs)."""
    return all(not (isinstance(v, list) and len(v) == 2) for v in changes.values())


# ==========================================================================================
# create / update / delete, once each, with the right changes
# ==========================================================================================
def test_organization_create_update_delete(admin, admin_id, rec):
    name = unique("org")
    org = _ok(admin.post("/api/v2/organizations/", {"name": name, "description": "d1", "max_hosts": 5}), 201).json
    e = rec.one()
    _check_common(e, "create", "organization", org)
    _check_actor(e, admin_id, "admin")
    assert e["object_association"] == ""
    assert {"name": name, "description": "d1", "max_hosts": 5}.items() <= e["changes"].items()
    assert _is_snapshot(e["changes"])
    assert admin.get(e["url"]).json == e

    # update: only the changed fields, each as [old, new]
    _ok(admin.patch(org["url"], {"description": "d2", "name": name, "max_hosts": 5}), 200)
    e = rec.one()
    _check_common(e, "update", "organization", org)
    assert e["changes"] == {"description": ["d1", "d2"]}
    # an update that changes nothing is not a write
    _ok(admin.patch(org["url"], {"description": "d2"}), 200)
    assert rec.new() == []
    # PUT with one field different: only that one
    renamed = unique("org-renamed")
    _ok(admin.put(org["url"], {"name": renamed, "description": "d2", "max_hosts": 5}), 200)
    e = rec.one()
    assert e["operation"] == "update" and e["changes"] == {"name": [name, renamed]}
    assert {"id": org["id"], "name": renamed} in e["summary_fields"]["organization"]

    # delete: a snapshot of the last state
    _ok(admin.delete(org["url"]))
    e = rec.one()
    assert e["operation"] == "delete" and e["object1"] == "organization"
    assert {"name": renamed, "description": "d2", "max_hosts": 5}.items() <= e["changes"].items()
    assert _is_snapshot(e["changes"])
    assert {"id": org["id"], "name": renamed} in e["summary_fields"]["organization"]
    _check_actor(e, admin_id, "admin")


def test_user_create_update_delete(admin, admin_id, rec):
    username = unique("person")
    user = _ok(admin.post("/api/v2/users/", {"username": username, "password": "pw-user-1",
                                             "first_name": "Ann", "email": "ann@example.com"}), 201).json
    e = rec.one()
    _check_common(e, "create", "user", user)
    expected = {"username": username, "first_name": "Ann", "email": "ann@example.com",
                "is_superuser": False, "is_system_auditor": False}
    assert expected.items() <= e["changes"].items()
    assert e["changes"].get("password", ENCRYPTED) == ENCRYPTED
    assert _is_snapshot(e["changes"])

    _ok(admin.patch(user["url"], {"first_name": "Anna", "last_name": ""}), 200)
    e = rec.one()
    assert e["operation"] == "update" and e["changes"] == {"first_name": ["Ann", "Anna"]}

    _ok(admin.patch(user["url"], {"password": "pw-user-2"}), 200)
    e = rec.one()
    assert e["operation"] == "update" and set(e["changes"]) == {"password"}
    assert e["changes"]["password"] == [ENCRYPTED, ENCRYPTED]
    # "$encrypted$" and "" mean "unchanged": nothing to record
    _ok(admin.patch(user["url"], {"password": ENCRYPTED}), 200)
    _ok(admin.patch(user["url"], {"password": ""}), 200)
    assert rec.new() == []

    _ok(admin.delete(user["url"]))
    e = rec.one()
    assert e["operation"] == "delete" and e["object1"] == "user"
    assert {"username": username, "first_name": "Anna"}.items() <= e["changes"].items()
    assert e["changes"].get("password", ENCRYPTED) == ENCRYPTED


def test_team_create_update_delete(admin, make_org, rec):
    org = make_org()
    rec.new()
    name = unique("team")
    team = _ok(admin.post("/api/v2/teams/", {"name": name, "organization": org["id"]}), 201).json
    e = rec.one()
    _check_common(e, "create", "team", team)
    assert {"name": name, "organization": org["id"], "description": ""}.items() <= e["changes"].items()
    _ok(admin.patch(team["url"], {"description": "the team"}), 200)
    assert rec.one()["changes"] == {"description": ["", "the team"]}
    _ok(admin.delete(team["url"]))
    e = rec.one()
    assert e["operation"] == "delete" and e["changes"]["organization"] == org["id"]
    assert e["changes"]["description"] == "the team"


def test_writes_by_a_non_superuser_name_them_as_actor(admin, make_user, make_org, rec):
    org = make_org()
    uid, user = make_user(first_name="Olga", last_name="Admin")
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": uid}))
    rec.new()
    team = _ok(user.post("/api/v2/teams/", {"name": unique("t"), "organization": org["id"]}), 201).json
    entries = rec.new()
    assert [(e["operation"], e["object1"]) for e in entries] == [("create", "team")]
    username = admin.get(f"/api/v2/users/{uid}/").json["username"]
    _check_actor(entries[0], uid, username)
    assert entries[0]["summary_fields"]["actor"]["first_name"] == "Olga"
    _ok(user.patch(team["url"], {"description": "mine"}), 200)
    _check_actor(rec.one(), uid, username)
    # refused writes leave no trace
    assert user.patch(f"/api/v2/users/{admin.get('/api/v2/me/').json['results'][0]['id']}/",
                      {"first_name": "x"}).status_code == 403
    assert user.post("/api/v2/organizations/", {"name": unique("nope")}).status_code == 403
    assert rec.new() == []


def test_actor_is_cleared_when_the_actor_is_deleted(admin, make_user, make_org, rec):
    org = make_org()
    uid, user = make_user()
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": uid}))
    rec.new()
    _ok(user.patch(org["url"], {"description": "by a soon deleted user"}), 200)
    entry = rec.one()
    assert entry["actor"] == uid
    _ok(admin.delete(f"/api/v2/users/{uid}/"))
    rec.new()
    again = admin.get(entry["url"]).json
    assert again["actor"] is None
    assert "actor" not in again["summary_fields"] and "actor" not in again["related"]
    assert again["changes"] == entry["changes"]


# ==========================================================================================
# associate / disassociate
# ==========================================================================================
@pytest.fixture(scope="module")
def assoc(admin, make_org, make_user):
    org = make_org()
    team = _ok(admin.post("/api/v2/teams/", {"name": unique("assoc"), "organization": org["id"]}), 201).json
    uid, _ = make_user()
    user = admin.get(f"/api/v2/users/{uid}/").json
    roles = {f"org.{k}": v["id"] for k, v in org["summary_fields"]["object_roles"].items()}
    roles.update({f"team.{k}": v["id"] for k, v in team["summary_fields"]["object_roles"].items()})
    return {"org": org, "team": team, "user": user, "roles": roles}


# case -> (sub-list url, child posted as {"id": ...}, object1, object2, object_association)
ASSOCIATIONS = {
    "org_users": ("/api/v2/organizations/{org}/users/", "user", "organization", "user", "users"),
    "org_admins": ("/api/v2/organizations/{org}/admins/", "user", "organization", "user", "admins"),
    "team_users": ("/api/v2/teams/{team}/users/", "user", "team", "user", "users"),
    "user_roles": ("/api/v2/users/{user}/roles/", "role:team.read_role", "user", "role", "roles"),
    "role_users": ("/api/v2/roles/{role:team.admin_role}/users/", "user", "role", "user", "users"),
    "team_roles": ("/api/v2/teams/{team}/roles/", "role:org.read_role", "team", "role", "roles"),
    "role_teams": ("/api/v2/roles/{role:org.auditor_role}/teams/", "team", "role", "team", "teams"),
}


def _fill(assoc, template: str) -> str:
    out = template
    for key in ("org", "team", "user"):
        out = out.replace("{" + key + "}", str(assoc[key]["id"]))
    while "{role:" in out:
        start = out.index("{role:")
        end = out.index("}", start)
        out = out[:start] + str(assoc["roles"][out[start + 6:end]]) + out[end + 1:]
    return out


def _child_id(assoc, spec: str) -> int:
    return assoc["roles"][spec[5:]] if spec.startswith("role:") else assoc[spec]["id"]


@pytest.mark.parametrize("case", list(ASSOCIATIONS))
def test_associate_and_disassociate_recorded_once(admin, admin_id, assoc, rec, case):
    template, child, object1, object2, association = ASSOCIATIONS[case]
    url, child_id = _fill(assoc, template), _child_id(assoc, child)
    parent_id = int(url.split("/")[4])
    rec.new()
    _ok(admin.post(url, {"id": child_id}))
    assert child_id in ids_of(admin, url)
    e = rec.one()
    assert (e["operation"], e["object1"], e["object2"], e["object_association"]) == \
        ("associate", object1, object2, association)
    assert {e2["id"] for e2 in e["summary_fields"][object1]} >= {parent_id}
    assert child_id in {x["id"] for x in e["summary_fields"][object2]}
    _check_actor(e, admin_id, "admin")
    _ok(admin.post(url, {"id": child_id, "disassociate": True}))
    assert child_id not in ids_of(admin, url)
    e = rec.one()
    assert (e["operation"], e["object1"], e["object2"], e["object_association"]) == \
        ("disassociate", object1, object2, association)


@pytest.mark.parametrize("case", ["org_users", "team_users", "user_roles", "team_roles"])
def test_association_that_changes_nothing_is_not_recorded(admin, assoc, rec, case):
    """AWX records m2m changes from Django's m2m_changed pk_set, which omits ids already
    (or no longer) present: re-attaching a member or detaching a non-member is no write."""
    template, child = ASSOCIATIONS[case][:2]
    url, child_id = _fill(assoc, template), _child_id(assoc, child)
    _ok(admin.post(url, {"id": child_id}))
    rec.new()
    _ok(admin.post(url, {"id": child_id}))
    assert rec.new() == []
    _ok(admin.post(url, {"id": child_id, "disassociate": True}))
    assert len(rec.new()) == 1
    _ok(admin.post(url, {"id": child_id, "disassociate": True}))
    assert rec.new() == []


def test_create_through_a_sublist_records_create_and_associate(admin, assoc, rec):
    url = f"/api/v2/organizations/{assoc['org']['id']}/users/"
    user = _ok(admin.post(url, {"username": unique("sub"), "password": "pw-sub"}), 201).json
    entries = rec.new()
    assert [(e["operation"], e["object1"], e["object2"]) for e in entries] == \
        [("create", "user", ""), ("associate", "organization", "user")]
    assert user["url"] in entries[1]["related"]["user"]
    _ok(admin.delete(user["url"]))


@pytest.mark.parametrize("how", ["user_roles", "role_users"])
def test_role_grant_shows_in_the_stream_of_the_roles_object(admin, make_user, make_org, how):
    """AWX links a role (dis)association to the role's content object as well
    (signals.activity_stream_associate: 'Record the role for RBAC changes'), so granting
    org admin shows in that organization's activity stream."""
    org = make_org()
    uid, _ = make_user()
    rid = org["summary_fields"]["object_roles"]["admin_role"]["id"]
    before = ids_of(admin, f"{org['related']['activity_stream']}")
    if how == "user_roles":
        _ok(admin.post(f"/api/v2/users/{uid}/roles/", {"id": rid}))
    else:
        _ok(admin.post(f"/api/v2/roles/{rid}/users/", {"id": uid}))
    new = [e for e in all_results(admin, org["related"]["activity_stream"]) if e["id"] not in before]
    assert [e["operation"] for e in new] == ["associate"]
    assert f"/api/v2/users/{uid}/" in new[0]["related"]["user"]


# ==========================================================================================
# <resource>/N/activity_stream/: only entries about that object
# ==========================================================================================
def test_object_stream_holds_only_that_objects_entries(admin, make_org, make_user):
    o1, o2 = make_org(), make_org()
    uid, _ = make_user()
    rec = Recorder(admin)
    _ok(admin.patch(o1["url"], {"description": "one"}), 200)
    _ok(admin.patch(o2["url"], {"description": "two"}), 200)
    _ok(admin.post(f"/api/v2/organizations/{o1['id']}/users/", {"id": uid}))
    _ok(admin.post(f"/api/v2/organizations/{o2['id']}/admins/", {"id": uid}))
    team = _ok(admin.post("/api/v2/teams/", {"name": unique("t"), "organization": o1["id"]}), 201).json
    rec.new()
    for org, other in ((o1, o2), (o2, o1)):
        stream = all_results(admin, f"/api/v2/organizations/{org['id']}/activity_stream/")
        assert stream, "the organization's own create entry at least"
        for e in stream:
            assert org["url"] in e["related"].get("organization", []), e
            assert other["url"] not in e["related"].get("organization", [])
        ops = sorted((e["operation"], e["object2"]) for e in stream)
        assert ("create", "") in ops and ("update", "") in ops
    s1 = all_results(admin, f"/api/v2/organizations/{o1['id']}/activity_stream/")
    assert any(e["operation"] == "associate" and e["object_association"] == "users" for e in s1)
    assert not any(e["object_association"] == "admins" for e in s1)
    # the team's stream has its create only; the user's has its create and both associations
    t_stream = all_results(admin, f"/api/v2/teams/{team['id']}/activity_stream/")
    assert [(e["operation"], e["object1"]) for e in t_stream] == [("create", "team")]
    u_stream = all_results(admin, f"/api/v2/users/{uid}/activity_stream/")
    assert sorted(e["operation"] for e in u_stream) == ["associate", "associate", "create"]
    assert all(f"/api/v2/users/{uid}/" in e["related"]["user"] for e in u_stream)


def test_a_new_object_does_not_inherit_a_deleted_objects_history(admin, make_org, make_user):
    """Ids must not be reused: a new organization (or user) must not show, or be shown,
    the stream of a deleted one that happened to have the same id."""
    old = make_org()
    _ok(admin.patch(old["url"], {"description": "old history"}), 200)
    _ok(admin.delete(old["url"]))
    new = make_org()
    stream = all_results(admin, f"/api/v2/organizations/{new['id']}/activity_stream/")
    assert [(e["operation"], e["changes"].get("name")) for e in stream] == [("create", new["name"])]

    old_uid, old_client = make_user()
    old_name = admin.get(f"/api/v2/users/{old_uid}/").json["username"]
    _ok(old_client.patch(f"/api/v2/users/{old_uid}/", {"first_name": "Previous"}), 200)
    _ok(admin.delete(f"/api/v2/users/{old_uid}/"))
    new_uid, new_client = make_user()
    seen = all_results(new_client, STREAM)
    assert not any(old_name in str(e["summary_fields"]) for e in seen), \
        "a new user sees the history of the deleted user whose id they got"


# ==========================================================================================
# secrets
# ==========================================================================================
def _data_files(app_state):
    files = [p for p in app_state.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files) or files, files
    return files


def test_secrets_never_reach_the_stream_or_the_disk(app, app_state, admin, make_org):
    canaries = [f"CANARY-{unique('pw')}-Zq8", f"CANARY-{unique('pw')}-Xr5", f"CANARY-{unique('pw')}-Wt3",
                f"CANARY-{unique('pw')}-Vs1"]
    org = make_org()
    # created with a password, created through a sub-list, password changed by PATCH and PUT
    user = _ok(admin.post("/api/v2/users/", {"username": unique("canary"), "password": canaries[0]}), 201).json
    sub = _ok(admin.post(f"/api/v2/organizations/{org['id']}/users/",
                         {"username": unique("canary-sub"), "password": canaries[1]}), 201).json
    _ok(admin.patch(sub["url"], {"password": canaries[2]}), 200)
    _ok(admin.put(user["url"], {"username": user["username"], "password": canaries[3]}), 200)
    me = Client(app, user["username"], canaries[3])
    assert me.get("/api/v2/me/").json["results"][0]["id"] == user["id"]
    # a failed login with a canary-looking password is not stored either
    assert Client(app, sub["username"], canaries[0] + "-wrong").get("/api/v2/me/").status_code == 401
    # tokens: the plaintext is shown once and never again
    tokens = []
    for url, client in (("/api/v2/tokens/", me), (f"/api/v2/users/{user['id']}/personal_tokens/", me),
                        ("/api/v2/tokens/", admin)):
        tok = _ok(client.post(url, {"description": "canary token", "scope": "write"}), 201).json
        assert tok["token"] not in ("", "************")
        tokens.append(tok["token"])
        assert Client(app, token=tok["token"]).get("/api/v2/me/").status_code == 200
    token_entries = [e for e in all_results(admin, STREAM) if e["object1"] == "o_auth2_access_token"]
    assert len(token_entries) >= 3

    secrets = canaries + tokens
    # every stream body, as raw bytes: the global list, pages, details and per-object lists
    bodies = []
    url = f"{STREAM}?page_size=200"
    while url:
        resp = admin.get(url)
        bodies.append(resp.get_data())
        url = resp.json["next"]
    for e in all_results(admin, STREAM):
        bodies.append(admin.get(e["url"]).get_data())
    for obj in (user, sub, org):
        bodies.append(admin.get(f"{obj['url']}activity_stream/").get_data())
    bodies.append(me.get(STREAM).get_data())
    bodies.append(admin.get(f"{STREAM}?search=encrypted").get_data())
    for body in bodies:
        for secret in secrets:
            assert secret.encode() not in body
    for obj in (user, sub):
        assert admin.get(obj["url"]).json.get("password", ENCRYPTED) == ENCRYPTED
    # the stream records the password change, masked
    pw_changes = [e for e in all_results(admin, f"{sub['url']}activity_stream/") if "password" in e["changes"]]
    assert pw_changes and all(ENCRYPTED in str(e["changes"]["password"]) for e in pw_changes)

    # and nothing on disk: database, WAL, shared memory, keys — every file, as bytes
    files = _data_files(app_state)
    assert any(p.name.endswith(".sqlite3") for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:12]}... found in {path.name}"


# ==========================================================================================
# filtering and search
# ==========================================================================================
def test_filter_and_search(admin, make_org, admin_id):
    rec = Recorder(admin)
    name = unique("findme-org")
    org = make_org(name)
    created = rec.one()
    renamed = unique("renamed-org")
    _ok(admin.patch(org["url"], {"name": renamed}), 200)
    updated = rec.one()
    team = _ok(admin.post("/api/v2/teams/", {"name": unique("findme-team"), "organization": org["id"]}), 201).json
    team_created = rec.one()
    uid = _ok(admin.post("/api/v2/users/", {"username": unique("member"), "password": "pw-m"}), 201).json["id"]
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": uid}))
    associated = rec.new()[-1]

    updates = all_results(admin, f"{STREAM}?operation=update")
    assert updated["id"] in {e["id"] for e in updates}
    assert {e["operation"] for e in updates} == {"update"}

    teams = all_results(admin, f"{STREAM}?object1=team")
    assert team_created["id"] in {e["id"] for e in teams}
    assert {e["object1"] for e in teams} == {"team"}
    assert created["id"] not in {e["id"] for e in teams}

    # search looks in `changes`: the create (name) and the rename ([old, new]) mention it
    assert ids_of(admin, f"{STREAM}?search={name}") == {created["id"], updated["id"]}
    assert ids_of(admin, f"{STREAM}?search={renamed}") == {updated["id"]}
    assert ids_of(admin, f"{STREAM}?search={team['name']}") == {team_created["id"]}
    assert ids_of(admin, f"{STREAM}?object1=organization&operation=create&search={name}") == {created["id"]}
    assert ids_of(admin, f"{STREAM}?operation=delete&search={name}") == set()
    # other filters work on the stream too
    mine = all_results(admin, f"{STREAM}?actor={admin_id}&operation=associate")
    assert associated["id"] in {e["id"] for e in mine}
    assert {(e["actor"], e["operation"]) for e in mine} == {(admin_id, "associate")}
    assert ids_of(admin, f"{STREAM}?object_association=users&object1=organization") >= {associated["id"]}
    # filtering on an unknown field is a 400, not a silent match-all
    bad = admin.get(f"{STREAM}?no_such_field=1")
    assert bad.status_code == 400 and "detail" in bad.json


# ==========================================================================================
# who sees what
# ==========================================================================================
def test_non_admin_sees_entries_about_readable_objects_and_their_own(admin, make_org, make_user):
    org, hidden_org = make_org(), make_org()
    m_id, m = make_user()
    x_id, x = make_user()
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": m_id}))
    rec = Recorder(admin)
    _ok(admin.patch(org["url"], {"description": "visible to members"}), 200)
    org_update = rec.one()
    _ok(admin.patch(hidden_org["url"], {"description": "not for m"}), 200)
    hidden_update = rec.one()
    _ok(m.patch(f"/api/v2/users/{m_id}/", {"first_name": "Em"}), 200)
    m_own = rec.one()
    _ok(x.patch(f"/api/v2/users/{x_id}/", {"first_name": "Ex"}), 200)
    x_own = rec.one()
    _ok(admin.patch(f"/api/v2/users/{x_id}/", {"last_name": "Tra"}), 200)
    about_x = rec.one()

    m_sees = ids_of(m, STREAM)
    assert {org_update["id"], m_own["id"]} <= m_sees
    assert not ({hidden_update["id"], x_own["id"], about_x["id"]} & m_sees)
    x_sees = ids_of(x, STREAM)
    assert {x_own["id"], about_x["id"]} <= x_sees
    assert not ({org_update["id"], hidden_update["id"], m_own["id"]} & x_sees)

    # the rule, for every entry m can see: m did it, or m can read what it is about
    for e in all_results(m, STREAM):
        if e["actor"] == m_id:
            continue
        about = e["related"][e["object1"]][0]
        assert m.get(about).status_code == 200, e
    # hidden entries are hidden on detail and on the object's own stream too
    assert m.get(hidden_update["url"]).status_code in (403, 404)
    assert m.get(x_own["url"]).status_code in (403, 404)
    assert m.get(org_update["url"]).json["id"] == org_update["id"]
    assert m.get(f"/api/v2/organizations/{hidden_org['id']}/activity_stream/").status_code == 403
    got = m.get(f"/api/v2/organizations/{org['id']}/activity_stream/").json["results"]
    assert org_update["id"] in {e["id"] for e in got}


def test_own_actions_stay_visible_after_losing_access(admin, make_org, make_user):
    org = make_org()
    uid, user = make_user()
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": uid}))
    rec = Recorder(admin)
    team = _ok(user.post("/api/v2/teams/", {"name": unique("mine"), "organization": org["id"]}), 201).json
    created = rec.new()[0]
    assert created["object1"] == "team"
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": uid, "disassociate": True}))
    # the creator was made team admin on create; drop that too
    rid = team["summary_fields"]["object_roles"]["admin_role"]["id"]
    _ok(admin.post(f"/api/v2/roles/{rid}/users/", {"id": uid, "disassociate": True}))
    assert user.get(team["url"]).status_code == 403
    assert created["id"] in ids_of(user, STREAM)


def test_superuser_and_auditor_see_everything(app_state, admin, make_user):
    _, auditor = make_user(is_system_auditor=True)
    everything = {r[0] for r in app_state.store.query("SELECT id FROM activity_stream")}
    assert ids_of(admin, STREAM) == everything
    assert ids_of(auditor, STREAM) == everything


def test_stream_is_read_only(admin, make_org):
    org = make_org()
    entry = all_results(admin, f"{org['related']['activity_stream']}")[0]
    assert admin.post(STREAM, {"operation": "delete"}).status_code == 405
    for method in ("put", "patch"):
        resp = getattr(admin, method)(entry["url"], {"operation": "delete", "changes": {}})
        assert resp.status_code == 405
    assert admin.delete(entry["url"]).status_code == 405
    assert admin.get(entry["url"]).json == entry
    options = admin.options(STREAM).json
    assert "POST" not in options["actions"]
    assert "changes" in options["search_fields"]

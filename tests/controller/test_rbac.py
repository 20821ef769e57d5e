"""RBAC matrix: who sees and who may change organizations, teams, users and roles.

The world (built once per module) is two organizations A and B, teams TA and TA2 in A and
TB in B, two plain users ua (member of A) and ub (member of B), and one actor per kind of
access:

    super          the bootstrap superuser
    auditor        is_system_auditor
    org_admin      A.admin_role
    org_member     A.member_role
    team_member    TA.member_role (not an organization member)
    team_admin     TA.admin_role  (not an organization member)
    direct_reader  TA.read_role only
    outsider       no roles at all
    b_member       B.member_role

Expectations are written as data below (actor x action x object -> allowed) and every
case checks the resulting state, not only the status code: a refused PATCH/DELETE leaves
the object byte-for-byte unchanged, a refused grant leaves the role membership unchanged.

Where AWX's exact behaviour depends on settings or is ambiguous the tests follow the
contract documented in controller/access.py and controller/store/rbac.py:
* visibility is "holds read_role (directly, through a team, or by ancestry)"; the world runs
  with AWX's ORG_ADMINS_CAN_SEE_ALL_USERS off (on, its default, org admins see every user and
  team: test_settings_effects.py), so an org admin sees the teams of their organization and
  the users of organizations they can read.
* users are visible to themselves and to whoever can read an organization they belong to;
  superusers are visible to everyone (AWX UserAccess.filtered_queryset).
* an object hidden from the user answers 403 on detail (crud.get_row), not 404.
"""
from __future__ import annotations

import pytest

from conftest import Client, unique

ACTORS = ("super", "auditor", "org_admin", "org_member", "team_member", "team_admin",
          "direct_reader", "outsider", "b_member")
ALL = "ALL"   # everything in the table
FORBIDDEN = {"detail": "You do not have permission to perform this action."}

A_PEOPLE = {"org_admin", "org_member", "ua"}
B_PEOPLE = {"b_member", "ub"}


def _for(default=frozenset(), **by_actor):
    """{actor: expected} with ``default`` for actors not named."""
    return {a: by_actor.get(a, default) for a in ACTORS}


# -- visibility: which objects appear in each list ------------------------------------------
VISIBLE = {
    "organizations": _for(super=ALL, auditor=ALL, org_admin={"A"}, org_member={"A"}, b_member={"B"}),
    # AWX TeamAccess: members of an organization see its teams
    "teams": _for(super=ALL, auditor=ALL, org_admin={"TA", "TA2"}, org_member={"TA", "TA2"},
                  team_member={"TA"}, team_admin={"TA"}, direct_reader={"TA"}, b_member={"TB"}),
    # AWX UserAccess: every superuser is listed to everyone
    "users": {"super": ALL, "auditor": ALL, "org_admin": A_PEOPLE | {"super"},
              "org_member": A_PEOPLE | {"super"}, "team_member": {"team_member", "super"},
              "team_admin": {"team_admin", "super"}, "direct_reader": {"direct_reader", "super"},
              "outsider": {"outsider", "super"}, "b_member": B_PEOPLE | {"super"}},
}

# -- PATCH / DELETE: actors allowed per object (everyone else: 403 and nothing changes) -----
PATCH = {
    "A": {"super", "org_admin"},
    "B": {"super"},
    "TA": {"super", "org_admin", "team_admin"},      # org admin => team admin
    "TA2": {"super", "org_admin"},
    "TB": {"super"},
    "ua": {"super", "org_admin"},                     # admin of an org ua belongs to
    "ub": {"super"},
    "super": {"super"},                               # nobody else edits a superuser
    "outsider": {"super", "outsider"},                # a user may edit themselves
}
DELETE = {
    "A": {"super", "org_admin"},
    "B": {"super"},
    "TA": {"super", "org_admin", "team_admin"},
    "TA2": {"super", "org_admin"},
    "TB": {"super"},
    "ua": {"super", "org_admin"},
    "ub": {"super"},
    "outsider": {"super"},                            # nobody may delete themselves
}

# -- POST create: actors allowed ------------------------------------------------------------
CREATE = {
    "team_in_A": {"super", "org_admin"},
    "team_in_B": {"super"},
    "team_via_A_teams": {"super", "org_admin"},
    "team_via_B_teams": {"super"},
    "organization": {"super"},
    "user": {"super", "org_admin"},                   # any organization admin may create users
    "user_via_A_users": {"super", "org_admin"},
    "user_via_B_users": {"super"},
    "user_via_A_admins": {"super", "org_admin"},
}

# -- grants of a role to a user: (role, target user, allowed actors, actors skipped because
#    they already hold that role directly so a grant/revoke would change the world) ---------
GRANTS = [
    ("TA.member_role", "ua", {"super", "org_admin"}, ()),   # team_admin cannot even see ua
    ("A.admin_role", "ua", {"super", "org_admin"}, ()),
    ("TB.member_role", "ua", {"super"}, ()),
    ("A.member_role", "self", {"super", "org_admin"}, ("org_member",)),
    ("A.admin_role", "self", {"super"}, ("org_admin",)),
    ("TA.admin_role", "self", {"super", "org_admin"}, ("team_admin",)),
    ("TA.member_role", "self", {"super", "org_admin", "team_admin"}, ("team_member",)),
    ("TB.member_role", "self", {"super"}, ()),
    ("B.member_role", "self", {"super"}, ("b_member",)),
    ("B.admin_role", "self", {"super"}, ()),
]
# grants of a role to a team: (team, role, allowed actors)
TEAM_GRANTS = [
    ("TA", "A.auditor_role", {"super", "org_admin"}),
    ("TA2", "TA.read_role", {"super", "org_admin"}),        # team_admin cannot see TA2
    ("TB", "A.read_role", {"super"}),                       # org_admin cannot see TB
    ("TA", "TB.read_role", {"super"}),
]

# -- role_level filter: objects on which the actor holds the role (ancestry included) ------
ROLE_LEVEL = {
    ("organizations", "admin_role"): _for(super=ALL, org_admin={"A"}),
    ("organizations", "member_role"): _for(super=ALL, org_admin={"A"}, org_member={"A"}, b_member={"B"}),
    ("teams", "admin_role"): _for(super=ALL, org_admin={"TA", "TA2"}, team_admin={"TA"}),
    ("teams", "member_role"): _for(super=ALL, org_admin={"TA", "TA2"}, team_admin={"TA"},
                                   team_member={"TA"}),
    ("teams", "read_role"): _for(super=ALL, org_admin={"TA", "TA2"}, team_admin={"TA"},
                                 team_member={"TA"}, direct_reader={"TA"}),
}
# Whether a system auditor "holds" read_role for role_level is not documented (AWX routes
# it through singleton roles): read_role is checked for every actor except the auditor.
ROLE_LEVEL_SKIP = {(("teams", "read_role"), "auditor")}

# -- direct roles (GET /users/N/roles/ never lists implicit roles) -------------------------
DIRECT_ROLES = {
    "org_admin": {"A.admin_role"}, "org_member": {"A.member_role"}, "team_member": {"TA.member_role"},
    "team_admin": {"TA.admin_role"}, "direct_reader": {"TA.read_role"}, "outsider": set(),
    "b_member": {"B.member_role"}, "ua": {"A.member_role"}, "ub": {"B.member_role"}, "auditor": set(),
}

# -- access_list: users with effective access to an object --------------------------------
ACCESS_LIST = {
    "A": {"super", "org_admin", "org_member", "ua"},
    "B": {"super", "b_member", "ub"},
    "TA": {"super", "org_admin", "team_member", "team_admin", "direct_reader"},
    "TB": {"super"},
}


# ==========================================================================================
# the world
# ==========================================================================================
class World:
    def __init__(self) -> None:
        self.client: dict[str, Client] = {}
        self.uid: dict[str, int] = {}
        self.org: dict[str, int] = {}
        self.team: dict[str, int] = {}
        self.roles: dict[str, dict[str, int]] = {}   # object key -> {role_field: role id}

    def ref(self, key: str) -> tuple[str, int]:
        if key in self.org:
            return "organizations", self.org[key]
        if key in self.team:
            return "teams", self.team[key]
        return "users", self.uid[key]

    def url(self, key: str) -> str:
        plural, pk = self.ref(key)
        return f"/api/v2/{plural}/{pk}/"

    def role(self, spec: str) -> int:
        key, field = spec.split(".")
        return self.roles[key][field]

    def ids(self, plural: str, keys) -> set[int]:
        return {self.ref(k)[1] for k in keys if self.ref(k)[0] == plural}


def _ok(resp, status=204):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp


@pytest.fixture(scope="module")
def world(app, admin, make_user, make_org) -> World:
    w = World()
    _ok(admin.patch("/api/v2/settings/system/", {"ORG_ADMINS_CAN_SEE_ALL_USERS": False}), 200)
    w.client["super"] = admin
    w.uid["super"] = admin.get("/api/v2/me/").json["results"][0]["id"]
    for key in ("A", "B"):
        org = make_org(unique(f"org{key}"))
        w.org[key] = org["id"]
        w.roles[key] = {f: r["id"] for f, r in org["summary_fields"]["object_roles"].items()}
    for key, org in (("TA", "A"), ("TA2", "A"), ("TB", "B")):
        team = _ok(admin.post("/api/v2/teams/", {"name": unique(key), "organization": w.org[org]}), 201).json
        w.team[key] = team["id"]
        w.roles[key] = {f: r["id"] for f, r in team["summary_fields"]["object_roles"].items()}
    for name in ACTORS[1:] + ("ua", "ub"):
        extra = {"is_system_auditor": True} if name == "auditor" else {}
        w.uid[name], w.client[name] = make_user(unique(name), **extra)
    _ok(admin.post(f"/api/v2/organizations/{w.org['A']}/admins/", {"id": w.uid["org_admin"]}))
    for who in ("org_member", "ua"):
        _ok(admin.post(f"/api/v2/organizations/{w.org['A']}/users/", {"id": w.uid[who]}))
    for who in ("b_member", "ub"):
        _ok(admin.post(f"/api/v2/organizations/{w.org['B']}/users/", {"id": w.uid[who]}))
    _ok(admin.post(f"/api/v2/teams/{w.team['TA']}/users/", {"id": w.uid["team_member"]}))
    _ok(admin.post(f"/api/v2/roles/{w.role('TA.admin_role')}/users/", {"id": w.uid["team_admin"]}))
    _ok(admin.post(f"/api/v2/users/{w.uid['direct_reader']}/roles/", {"id": w.role("TA.read_role")}))
    return w


def list_ids(client: Client, url: str) -> set[int]:
    """Every id of a (paginated) list, following ``next``."""
    out: set[int] = set()
    url = url + ("&" if "?" in url else "?") + "page_size=200"
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code, resp.json)
        out |= {o["id"] for o in resp.json["results"]}
        assert len(out) <= resp.json["count"]
        url = resp.json["next"]
    return out


def table_ids(app_state, table: str) -> set[int]:
    return {r[0] for r in app_state.store.query(f'SELECT id FROM "{table}"')}


def role_users(admin: Client, rid: int) -> set[int]:
    return list_ids(admin, f"/api/v2/roles/{rid}/users/")


def role_teams(admin: Client, rid: int) -> set[int]:
    return list_ids(admin, f"/api/v2/roles/{rid}/teams/")


def expected_ids(w: World, app_state, plural: str, expected) -> set[int]:
    return table_ids(app_state, plural) if expected == ALL else w.ids(plural, expected)


def visible_roles(w: World, actor: str) -> set[int]:
    """Roles are visible exactly when the object they belong to is."""
    keys = set(VISIBLE["organizations"][actor]) | set(VISIBLE["teams"][actor])
    return {rid for k in keys for rid in w.roles[k].values()}


# ==========================================================================================
# list visibility
# ==========================================================================================
@pytest.mark.parametrize("plural", ["organizations", "teams", "users"])
@pytest.mark.parametrize("actor", ACTORS)
def test_list_visibility(world, app_state, actor, plural):
    got = list_ids(world.client[actor], f"/api/v2/{plural}/")
    assert got == expected_ids(world, app_state, plural, VISIBLE[plural][actor])


@pytest.mark.parametrize("actor", ACTORS)
def test_role_list_visibility(world, app_state, actor):
    got = list_ids(world.client[actor], "/api/v2/roles/")
    if actor in ("super", "auditor"):
        assert got == table_ids(app_state, "roles")
    else:
        assert got == visible_roles(world, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_activity_stream_visibility(world, app_state, actor):
    """Entries about objects the actor can read, plus the actor's own actions."""
    got = list_ids(world.client[actor], "/api/v2/activity_stream/")
    rows = [dict(r) for r in app_state.store.query(
        "SELECT id, actor, object1, object1_id, object_link, object_link_id FROM activity_stream")]
    if actor in ("super", "auditor"):
        assert got == {r["id"] for r in rows}
        return
    readable = {
        "organization": world.ids("organizations", VISIBLE["organizations"][actor]),
        "team": world.ids("teams", VISIBLE["teams"][actor]),
        "user": world.ids("users", VISIBLE["users"][actor]),
        "role": visible_roles(world, actor),
        "o_auth2_access_token": {r[0] for r in app_state.store.query(
            "SELECT id FROM tokens WHERE user = ?", (world.uid[actor],))},
        # global execution environments (the seeded managed one) are everyone's, as AWX
        "execution_environment": {r[0] for r in app_state.store.query(
            "SELECT id FROM execution_environments WHERE organization IS NULL")},
    }
    # a role grant is also history of the role's object (object_link), so readers of that
    # object see it
    expected = {r["id"] for r in rows
                if r["actor"] == world.uid[actor] or r["object1_id"] in readable.get(r["object1"], ())
                or (r["object_link"] and r["object_link_id"] in readable.get(r["object_link"], ()))}
    assert got == expected
    # detail agrees with the list: listed entries open, the others answer 403/404
    for entry_id in {r["id"] for r in rows}:
        status = world.client[actor].get(f"/api/v2/activity_stream/{entry_id}/").status_code
        assert status == 200 if entry_id in expected else status in (403, 404), entry_id


# ==========================================================================================
# detail GET: 200 with the object, or 403 with nothing of it
# ==========================================================================================
DETAIL_OBJECTS = ["A", "B", "TA", "TA2", "TB", "ua", "ub", "super", "outsider"]


def _visible(plural: str, key: str, actor: str) -> bool:
    exp = VISIBLE[plural][actor]
    return exp == ALL or key in exp


def _plural_of(key: str) -> str:
    return "organizations" if key in ("A", "B") else "teams" if key.startswith("T") else "users"


@pytest.mark.parametrize("key", DETAIL_OBJECTS)
@pytest.mark.parametrize("actor", ACTORS)
def test_detail_get(world, actor, key):
    plural, pk = world.ref(key)
    resp = world.client[actor].get(world.url(key))
    sub = world.client[actor].get(f"{world.url(key)}activity_stream/")
    if _visible(plural, key, actor):
        assert resp.status_code == 200
        assert resp.json["id"] == pk and resp.json["url"] == world.url(key)
        assert sub.status_code == 200
    else:
        assert resp.status_code == 403
        assert resp.json == FORBIDDEN
        assert sub.status_code == 403 and "results" not in sub.json


@pytest.mark.parametrize("spec", ["A.admin_role", "A.read_role", "B.member_role", "TA.member_role",
                                  "TB.read_role"])
@pytest.mark.parametrize("actor", ACTORS)
def test_role_detail_get(world, actor, spec):
    key = spec.split(".")[0]
    resp = world.client[actor].get(f"/api/v2/roles/{world.role(spec)}/")
    users = world.client[actor].get(f"/api/v2/roles/{world.role(spec)}/users/")
    if _visible(_plural_of(key), key, actor):
        assert resp.status_code == 200
        assert resp.json["summary_fields"]["resource_id"] == world.ref(key)[1]
        assert users.status_code == 200
    else:
        assert resp.status_code == 403 and resp.json == FORBIDDEN
        assert users.status_code == 403 and "results" not in users.json


# ==========================================================================================
# PATCH
# ==========================================================================================
PATCH_FIELD = {"organizations": "description", "teams": "description", "users": "first_name"}


@pytest.mark.parametrize("key", list(PATCH))
@pytest.mark.parametrize("actor", ACTORS)
def test_patch(world, admin, actor, key):
    plural, _ = world.ref(key)
    field = PATCH_FIELD[plural]
    before = admin.get(world.url(key)).json
    new = unique("patched")
    resp = world.client[actor].patch(world.url(key), {field: new})
    after = admin.get(world.url(key)).json
    if actor in PATCH[key]:
        assert resp.status_code == 200, resp.json
        assert resp.json[field] == new
        assert after[field] == new
    else:
        assert resp.status_code == 403
        assert "detail" in resp.json and field not in resp.json
        assert after == before


def test_no_one_moves_a_team_by_changing_its_organization(world, admin):
    """AWX TeamAccess.can_change refuses a team's new organization to everyone, superusers
    included (403 "Unable to change organization on a team."): neither an org A admin nor a
    superuser moves TA2 into org B by PATCH or PUT; the same organization, or another field,
    still saves."""
    before = admin.get(world.url("TA2")).json
    b_teams = list_ids(admin, f"/api/v2/organizations/{world.org['B']}/teams/")
    try:
        for client, method in ((world.client["org_admin"], "patch"), (admin, "patch"), (admin, "put")):
            body = {"organization": world.org["B"]} if method == "patch" else \
                {"name": before["name"], "description": before["description"], "organization": world.org["B"]}
            resp = getattr(client, method)(world.url("TA2"), body)
            assert resp.status_code == 403, resp.json
            assert resp.json == {"detail": "Unable to change organization on a team."}
            assert admin.get(world.url("TA2")).json == before
        assert list_ids(admin, f"/api/v2/organizations/{world.org['B']}/teams/") == b_teams
        same = _ok(admin.put(world.url("TA2"), {"name": before["name"], "description": "kept here",
                                                 "organization": world.org["A"]}), 200).json
        assert (same["organization"], same["description"]) == (world.org["A"], "kept here")
    finally:   # keep the world intact for the other cases even when the move went through
        now = admin.get(world.url("TA2")).json
        if now["organization"] != world.org["A"]:
            _ok(admin.post(f"/api/v2/organizations/{world.org['A']}/teams/", {"id": now["id"]}), 204)
        _ok(admin.patch(world.url("TA2"), {"description": before["description"]}), 200)


# ==========================================================================================
# DELETE (on a fresh copy of the object with the same grants, so the world survives)
# ==========================================================================================
def mirror(w: World, admin: Client, key: str) -> str:
    """A new object like ``key``: same organization, same direct user and team grants."""
    plural, pk = w.ref(key)
    src = admin.get(w.url(key)).json
    if plural == "users":
        new = _ok(admin.post("/api/v2/users/", {"username": unique("mirror"), "password": "pw-mirror"}), 201).json
        for rid in list_ids(admin, f"/api/v2/users/{pk}/roles/"):
            _ok(admin.post(f"/api/v2/users/{new['id']}/roles/", {"id": rid}))
        return f"/api/v2/users/{new['id']}/"
    body = {"name": unique("mirror")}
    if plural == "teams":
        body["organization"] = src["organization"]
    new = _ok(admin.post(f"/api/v2/{plural}/", body), 201).json
    for field, role in src["summary_fields"]["object_roles"].items():
        new_rid = new["summary_fields"]["object_roles"][field]["id"]
        for uid in role_users(admin, role["id"]):
            _ok(admin.post(f"/api/v2/roles/{new_rid}/users/", {"id": uid}))
        for tid in role_teams(admin, role["id"]):
            _ok(admin.post(f"/api/v2/roles/{new_rid}/teams/", {"id": tid}))
    if plural == "teams":
        for rid in list_ids(admin, f"/api/v2/teams/{pk}/roles/"):
            _ok(admin.post(f"/api/v2/teams/{new['id']}/roles/", {"id": rid}))
    return new["url"]


@pytest.mark.parametrize("key", list(DELETE))
@pytest.mark.parametrize("actor", ACTORS)
def test_delete(world, admin, actor, key):
    url = mirror(world, admin, key)
    plural = _plural_of(key)
    pk = int(url.rstrip("/").rsplit("/", 1)[1])
    before = admin.get(url).json
    try:
        resp = world.client[actor].delete(url)
        if actor in DELETE[key]:
            assert resp.status_code == 204 and resp.get_data() == b""
            assert admin.get(url).status_code == 404
            if plural != "users":
                ctype = "organization" if plural == "organizations" else "team"
                left = admin.get(f"/api/v2/roles/?content_type={ctype}&object_id={pk}").json
                assert left["count"] == 0, "roles of a deleted object must go with it"
        else:
            assert resp.status_code == 403 and "detail" in resp.json
            assert admin.get(url).json == before
    finally:
        admin.delete(url)


def test_nobody_deletes_themselves(app, admin, make_user):
    uid, me = make_user(unique("selfdel"))
    resp = me.delete(f"/api/v2/users/{uid}/")
    assert resp.status_code == 403
    assert admin.get(f"/api/v2/users/{uid}/").status_code == 200
    caps = me.get(f"/api/v2/users/{uid}/").json["summary_fields"]["user_capabilities"]
    assert caps == {"edit": True, "delete": False}
    admin_id = admin.get("/api/v2/me/").json["results"][0]["id"]
    caps = admin.get(f"/api/v2/users/{admin_id}/").json["summary_fields"]["user_capabilities"]
    assert caps == {"edit": True, "delete": False}


# ==========================================================================================
# user_capabilities agree with PATCH/DELETE
# ==========================================================================================
CAPS_CASES = [(actor, key) for key in DELETE for actor in ACTORS
              if key in PATCH and _visible(_plural_of(key), key, actor)]


@pytest.mark.parametrize("actor,key", CAPS_CASES)
def test_user_capabilities_match_permissions(world, actor, key):
    expected = {"edit": actor in PATCH[key], "delete": actor in DELETE[key]}
    if key == actor:   # nobody may delete themselves
        expected["delete"] = False
    detail = world.client[actor].get(world.url(key)).json
    assert detail["summary_fields"]["user_capabilities"] == expected
    plural, pk = world.ref(key)
    listed = world.client[actor].get(f"/api/v2/{plural}/?id={pk}").json["results"]
    assert [o["summary_fields"]["user_capabilities"] for o in listed] == [expected]


# ==========================================================================================
# POST create
# ==========================================================================================
def _create_request(w: World, what: str) -> tuple[str, dict, str, str]:
    """(url, body, list url to look the object up, lookup key)."""
    name = unique(what)
    if what.startswith("team_in_"):
        return "/api/v2/teams/", {"name": name, "organization": w.org[what[-1]]}, "/api/v2/teams/", "name"
    if what.startswith("team_via_"):
        return f"/api/v2/organizations/{w.org[what[9]]}/teams/", {"name": name}, "/api/v2/teams/", "name"
    if what == "organization":
        return "/api/v2/organizations/", {"name": name}, "/api/v2/organizations/", "name"
    body = {"username": name, "password": "pw-created"}
    if what == "user":
        return "/api/v2/users/", body, "/api/v2/users/", "username"
    org, sub = what.split("_")[2], what.split("_")[3]
    return f"/api/v2/organizations/{w.org[org]}/{sub}/", body, "/api/v2/users/", "username"


@pytest.mark.parametrize("what", list(CREATE))
@pytest.mark.parametrize("actor", ACTORS)
def test_create(world, admin, actor, what):
    url, body, lookup, key = _create_request(world, what)
    name = body[key]
    resp = world.client[actor].post(url, body)
    found = admin.get(f"{lookup}?{key}={name}").json["results"]
    try:
        if actor not in CREATE[what]:
            assert resp.status_code == 403 and "detail" in resp.json
            assert found == []
            return
        assert resp.status_code == 201, resp.json
        assert resp.json[key] == name and resp.headers["Location"] == resp.json["url"]
        assert [o["id"] for o in found] == [resp.json["id"]]
        if what.startswith("team_"):
            assert resp.json["organization"] == world.org[what[-1] if what.startswith("team_in_") else what[9]]
            admins = role_users(admin, resp.json["summary_fields"]["object_roles"]["admin_role"]["id"])
            # the creator (unless superuser) becomes admin of what they create
            assert admins == (set() if actor == "super" else {world.uid[actor]})
        if what.startswith("user_via_"):
            org, sub = what.split("_")[2], what.split("_")[3]
            assert resp.json["id"] in list_ids(admin, f"/api/v2/organizations/{world.org[org]}/{sub}/")
    finally:
        for obj in found:
            admin.delete(obj["url"])


def test_non_superuser_cannot_grant_superuser_or_auditor(world, admin):
    org_admin = world.client["org_admin"]
    for flag in ("is_superuser", "is_system_auditor"):
        before = admin.get(world.url("ua")).json
        resp = org_admin.patch(world.url("ua"), {flag: True})
        assert resp.status_code == 403
        assert admin.get(world.url("ua")).json == before and before[flag] is False
        # not even on themselves
        me = world.url("org_admin")
        before = admin.get(me).json
        assert org_admin.patch(me, {flag: True}).status_code == 403
        assert admin.get(me).json == before
        # nor by creating a user
        name = unique("escalate")
        resp = org_admin.post("/api/v2/users/", {"username": name, "password": "pw-x", flag: True})
        assert resp.status_code == 403
        assert admin.get(f"/api/v2/users/?username={name}").json["count"] == 0
    # the superuser can
    uid = _ok(admin.post("/api/v2/users/", {"username": unique("promoted"), "password": "pw-x"}), 201).json["id"]
    resp = admin.patch(f"/api/v2/users/{uid}/", {"is_system_auditor": True})
    assert resp.status_code == 200 and admin.get(f"/api/v2/users/{uid}/").json["is_system_auditor"] is True
    admin.delete(f"/api/v2/users/{uid}/")


def test_user_edits_self_but_not_others(world, admin, make_user):
    uid, me = make_user(unique("selfedit"), password="old-pw-1")
    resp = me.patch(f"/api/v2/users/{uid}/", {"first_name": "Me", "email": "me@example.com"})
    assert resp.status_code == 200
    got = admin.get(f"/api/v2/users/{uid}/").json
    assert (got["first_name"], got["email"]) == ("Me", "me@example.com")
    before = admin.get(world.url("b_member")).json
    assert me.patch(world.url("b_member"), {"first_name": "Hijack"}).status_code == 403
    assert admin.get(world.url("b_member")).json == before
    # changing one's own password: the new one works, the old one no longer does
    assert me.patch(f"/api/v2/users/{uid}/", {"password": "new-pw-2"}).status_code == 200
    name = got["username"]
    assert Client(me.app, name, "new-pw-2").get("/api/v2/me/").json["results"][0]["id"] == uid
    assert Client(me.app, name, "old-pw-1").get("/api/v2/me/").status_code == 401


# ==========================================================================================
# grant / revoke of roles to users, through every endpoint that does it
# ==========================================================================================
def _vias(role_spec: str) -> list[str]:
    vias = ["role_users", "user_roles"]
    key, field = role_spec.split(".")
    if key.startswith("T") and field == "member_role":
        vias.append("team_users")
    if key in ("A", "B") and field in ("member_role", "admin_role"):
        vias.append("org_users" if field == "member_role" else "org_admins")
    return vias


GRANT_CASES = [
    pytest.param(role, target, allowed, actor, via, id=f"{actor}-{role}-to-{target}-via-{via}")
    for role, target, allowed, skip in GRANTS
    for actor in ACTORS if actor not in skip
    for via in _vias(role)
]


def _grant(w: World, client: Client, via: str, role_spec: str, uid: int, on: bool):
    rid = w.role(role_spec)
    key = role_spec.split(".")[0]
    extra = {} if on else {"disassociate": True}
    if via == "role_users":
        return client.post(f"/api/v2/roles/{rid}/users/", {"id": uid, **extra})
    if via == "user_roles":
        return client.post(f"/api/v2/users/{uid}/roles/", {"id": rid, **extra})
    if via == "team_users":
        return client.post(f"/api/v2/teams/{w.team[key]}/users/", {"id": uid, **extra})
    sub = "users" if via == "org_users" else "admins"
    return client.post(f"/api/v2/organizations/{w.org[key]}/{sub}/", {"id": uid, **extra})


@pytest.mark.parametrize("role,target,allowed,actor,via", GRANT_CASES)
def test_grant_and_revoke(world, admin, role, target, allowed, actor, via):
    w = world
    who = actor if target == "self" else target
    uid, rid = w.uid[who], w.role(role)
    obj_url = w.url(role.split(".")[0])
    assert uid not in role_users(admin, rid), "precondition: not a direct member yet"
    saw_before = w.client[who].get(obj_url).status_code
    client = w.client[actor]
    resp = _grant(w, client, via, role, uid, on=True)
    if actor in allowed:
        assert resp.status_code == 204 and resp.get_data() == b""
        assert uid in role_users(admin, rid)
        assert rid in list_ids(admin, f"/api/v2/users/{uid}/roles/")
        assert w.client[who].get(obj_url).status_code == 200, "a granted role gives read access"
        resp = _grant(w, client, via, role, uid, on=False)
        assert resp.status_code == 204 and resp.get_data() == b""
        assert uid not in role_users(admin, rid)
        assert w.client[who].get(obj_url).status_code == saw_before
        return
    try:
        assert resp.status_code == 403, (resp.status_code, resp.json)
        assert "detail" in resp.json
        assert uid not in role_users(admin, rid)
        # nor may they revoke it once someone allowed to has granted it (unless that grant
        # made them admin of the object: then revoking it is theirs to do)
        if not (target == "self" and role.endswith(".admin_role")):
            _ok(_grant(w, admin, via, role, uid, on=True))
            resp = _grant(w, client, via, role, uid, on=False)
            assert resp.status_code == 403
            assert uid in role_users(admin, rid)
    finally:
        _grant(w, admin, via, role, uid, on=False)
    assert uid not in role_users(admin, rid)


TEAM_GRANT_CASES = [
    pytest.param(team, role, allowed, actor, via, id=f"{actor}-{role}-to-{team}-via-{via}")
    for team, role, allowed in TEAM_GRANTS for actor in ACTORS for via in ("team_roles", "role_teams")
]


def _team_grant(w: World, client: Client, via: str, team: str, role_spec: str, on: bool):
    tid, rid = w.team[team], w.role(role_spec)
    extra = {} if on else {"disassociate": True}
    if via == "team_roles":
        return client.post(f"/api/v2/teams/{tid}/roles/", {"id": rid, **extra})
    return client.post(f"/api/v2/roles/{rid}/teams/", {"id": tid, **extra})


@pytest.mark.parametrize("team,role,allowed,actor,via", TEAM_GRANT_CASES)
def test_team_grant_and_revoke(world, admin, team, role, allowed, actor, via):
    w = world
    tid, rid = w.team[team], w.role(role)
    assert tid not in role_teams(admin, rid)
    resp = _team_grant(w, w.client[actor], via, team, role, on=True)
    if actor in allowed:
        assert resp.status_code == 204
        assert tid in role_teams(admin, rid)
        assert rid in list_ids(admin, f"/api/v2/teams/{tid}/roles/")
        resp = _team_grant(w, w.client[actor], via, team, role, on=False)
        assert resp.status_code == 204
        assert tid not in role_teams(admin, rid)
        assert rid not in list_ids(admin, f"/api/v2/teams/{tid}/roles/")
        return
    try:
        assert resp.status_code == 403 and "detail" in resp.json
        assert tid not in role_teams(admin, rid)
        _ok(_team_grant(w, admin, via, team, role, on=True))
        assert _team_grant(w, w.client[actor], via, team, role, on=False).status_code == 403
        assert tid in role_teams(admin, rid)
    finally:
        _team_grant(w, admin, via, team, role, on=False)


@pytest.mark.parametrize("role", ["A.member_role", "A.admin_role", "B.member_role"])
@pytest.mark.parametrize("via", ["team_roles", "role_teams"])
def test_team_cannot_get_organization_participation_roles(world, admin, role, via):
    team = "TB" if role.startswith("B") else "TA"
    resp = _team_grant(world, admin, via, team, role, on=True)
    assert resp.status_code == 400
    assert isinstance(resp.json.get("msg"), str) and resp.json["msg"]
    assert world.team[team] not in role_teams(admin, world.role(role))
    assert world.role(role) not in list_ids(admin, f"/api/v2/teams/{world.team[team]}/roles/")


# ==========================================================================================
# role ancestry and inheritance through teams
# ==========================================================================================
def test_org_admin_is_admin_of_every_team_in_the_org(world, admin):
    w = world
    new = _ok(admin.post("/api/v2/teams/", {"name": unique("later"), "organization": w.org["A"]}), 201).json
    try:
        oa = w.client["org_admin"]
        assert new["id"] in list_ids(oa, "/api/v2/teams/?role_level=admin_role")
        assert oa.get(new["url"]).json["summary_fields"]["user_capabilities"] == {"edit": True, "delete": True}
        assert _ok(oa.patch(new["url"], {"description": "by org admin"}), 200).json["description"] == "by org admin"
        # implicit: not a direct member and not listed among their direct roles
        assert role_users(admin, new["summary_fields"]["object_roles"]["admin_role"]["id"]) == set()
        assert new["summary_fields"]["object_roles"]["admin_role"]["id"] not in \
            list_ids(admin, f"/api/v2/users/{w.uid['org_admin']}/roles/")
        # a new org admin gets it at once; losing org admin loses it
        ua = w.client["ua"]
        assert ua.patch(new["url"], {"description": "x"}).status_code == 403
        _ok(admin.post(f"/api/v2/organizations/{w.org['A']}/admins/", {"id": w.uid["ua"]}))
        try:
            assert _ok(ua.patch(new["url"], {"description": "by ua"}), 200).json["description"] == "by ua"
            assert new["id"] in list_ids(ua, "/api/v2/teams/?role_level=member_role")
        finally:
            _ok(admin.post(f"/api/v2/organizations/{w.org['A']}/admins/",
                           {"id": w.uid["ua"], "disassociate": True}))
        assert ua.patch(new["url"], {"description": "again"}).status_code == 403
        assert admin.get(new["url"]).json["description"] == "by ua"
        # still visible to ua as a member of A (AWX TeamAccess), but no longer administered
        assert ua.get(new["url"]).json["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False}
    finally:
        admin.delete(new["url"])


def test_team_members_inherit_roles_granted_to_the_team(world, admin):
    w = world
    a_url, rid = w.url("A"), w.role("A.read_role")
    _ok(admin.post(f"/api/v2/teams/{w.team['TA']}/roles/", {"id": rid}))
    try:
        for who in ("team_member", "team_admin"):   # team admin ⊃ team member
            c = w.client[who]
            assert list_ids(c, "/api/v2/organizations/") == {w.org["A"]}
            body = c.get(a_url).json
            assert body["id"] == w.org["A"]
            assert body["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False}
            assert list_ids(c, "/api/v2/users/") == w.ids("users", A_PEOPLE | {who, "super"})
            before = admin.get(a_url).json
            assert c.patch(a_url, {"description": "read only"}).status_code == 403
            assert admin.get(a_url).json == before
        # a read grant on the team itself is not team membership
        assert list_ids(w.client["direct_reader"], "/api/v2/organizations/") == set()
        access = list_ids(admin, f"/api/v2/organizations/{w.org['A']}/access_list/")
        assert {w.uid["team_member"], w.uid["team_admin"]} <= access
        assert w.uid["direct_reader"] not in access
        # the team's roles list it; the member's direct roles do not
        assert rid in list_ids(admin, f"/api/v2/teams/{w.team['TA']}/roles/")
        assert rid not in list_ids(admin, f"/api/v2/users/{w.uid['team_member']}/roles/")
        # leaving the team loses the inherited access
        _ok(admin.post(f"/api/v2/teams/{w.team['TA']}/users/", {"id": w.uid["team_member"], "disassociate": True}))
        try:
            assert w.client["team_member"].get(a_url).status_code == 403
        finally:
            _ok(admin.post(f"/api/v2/teams/{w.team['TA']}/users/", {"id": w.uid["team_member"]}))
        assert w.client["team_member"].get(a_url).status_code == 200
    finally:
        _ok(admin.post(f"/api/v2/teams/{w.team['TA']}/roles/", {"id": rid, "disassociate": True}))
    # revoking the team grant removes the inherited access
    for who in ("team_member", "team_admin"):
        c = w.client[who]
        assert list_ids(c, "/api/v2/organizations/") == set()
        assert c.get(a_url).status_code == 403
        assert list_ids(c, "/api/v2/users/") == {w.uid[who], w.uid["super"]}
    assert w.uid["team_member"] not in list_ids(admin, f"/api/v2/organizations/{w.org['A']}/access_list/")


def test_team_granted_admin_lets_members_change(world, admin):
    w = world
    tb_url, rid = w.url("TB"), w.role("TB.admin_role")
    member = w.client["team_member"]
    before = admin.get(tb_url).json
    assert member.patch(tb_url, {"description": "nope"}).status_code == 403
    assert admin.get(tb_url).json == before
    _ok(admin.post(f"/api/v2/roles/{rid}/teams/", {"id": w.team["TA"]}))
    try:
        assert member.get(tb_url).json["summary_fields"]["user_capabilities"] == {"edit": True, "delete": True}
        assert _ok(member.patch(tb_url, {"description": "via team"}), 200).json["description"] == "via team"
        assert w.team["TB"] in list_ids(member, "/api/v2/teams/?role_level=admin_role")
    finally:
        _ok(admin.post(f"/api/v2/roles/{rid}/teams/", {"id": w.team["TA"], "disassociate": True}))
    assert member.get(tb_url).status_code == 403
    after = admin.get(tb_url).json
    assert member.patch(tb_url, {"description": "after revoke"}).status_code == 403
    assert admin.get(tb_url).json == after and after["description"] == "via team"


ROLE_LEVEL_CASES = [pytest.param(plural, role, actor, id=f"{plural}-{role}-{actor}")
                    for (plural, role), table in ROLE_LEVEL.items() for actor in ACTORS
                    if ((plural, role), actor) not in ROLE_LEVEL_SKIP]


@pytest.mark.parametrize("plural,role,actor", ROLE_LEVEL_CASES)
def test_role_level_filter(world, app_state, plural, role, actor):
    got = list_ids(world.client[actor], f"/api/v2/{plural}/?role_level={role}")
    assert got == expected_ids(world, app_state, plural, ROLE_LEVEL[(plural, role)][actor])


# ==========================================================================================
# access_list, direct roles, object_roles
# ==========================================================================================
@pytest.mark.parametrize("key", list(ACCESS_LIST))
def test_access_list(world, admin, key):
    plural, pk = world.ref(key)
    got = list_ids(admin, f"/api/v2/{plural}/{pk}/access_list/")
    expected = {world.uid[u] for u in ACCESS_LIST[key]}
    assert expected <= got
    # Whether system auditors are listed is not part of the documented contract (AWX lists
    # them through its singleton role); everyone else without access must not be.
    others = {world.uid[u] for u in world.uid if u not in ACCESS_LIST[key] and u != "auditor"}
    assert not (got & others)
    # only those who can read the object may see who has access to it
    for actor in ACTORS:
        resp = world.client[actor].get(f"/api/v2/{plural}/{pk}/access_list/")
        assert resp.status_code == (200 if _visible(plural, key, actor) else 403)


@pytest.mark.parametrize("who", list(DIRECT_ROLES))
def test_user_roles_lists_direct_roles(world, admin, who):
    expected = {world.role(spec) for spec in DIRECT_ROLES[who]}
    assert list_ids(admin, f"/api/v2/users/{world.uid[who]}/roles/") == expected
    if who in world.client:
        assert list_ids(world.client[who], f"/api/v2/users/{world.uid[who]}/roles/") == expected


@pytest.mark.parametrize("key", ["A", "TA"])
def test_object_roles_ids_name_real_roles(world, admin, key):
    plural, pk = world.ref(key)
    body = admin.get(world.url(key)).json
    by_field = {f: r["id"] for f, r in body["summary_fields"]["object_roles"].items()}
    assert set(by_field.values()) == list_ids(admin, f"/api/v2/{plural}/{pk}/object_roles/")
    options = admin.options(f"/api/v2/{plural}/").json
    assert set(options["object_roles"]) == set(by_field)
    for field, rid in by_field.items():
        role = admin.get(f"/api/v2/roles/{rid}/").json
        assert role["summary_fields"]["resource_id"] == pk
        assert role["summary_fields"]["resource_type"] == body["type"]
        assert role["related"][body["type"]] == body["url"]
        assert role["name"] == body["summary_fields"]["object_roles"][field]["name"]


# ==========================================================================================
# scoped tokens and the awx CLI grant flow
# ==========================================================================================
def test_read_scope_token_sees_but_cannot_change(world, admin):
    w = world
    resp = w.client["org_admin"].post("/api/v2/tokens/", {"description": "ro", "scope": "read",
                                                          "application": None})
    assert resp.status_code == 201, resp.json
    ro = Client(admin.app, token=resp.json["token"])
    assert list_ids(ro, "/api/v2/organizations/") == {w.org["A"]}
    assert list_ids(ro, "/api/v2/teams/") == {w.team["TA"], w.team["TA2"]}
    for url, body in ((w.url("A"), {"description": "ro"}), (w.url("TA"), {"description": "ro"}),
                      (w.url("ua"), {"first_name": "ro"})):
        before = admin.get(url).json
        assert ro.patch(url, body).status_code == 403
        assert ro.delete(url).status_code == 403
        assert admin.get(url).json == before
    name = unique("ro-team")
    assert ro.post("/api/v2/teams/", {"name": name, "organization": w.org["A"]}).status_code == 403
    assert admin.get(f"/api/v2/teams/?name={name}").json["count"] == 0
    rid = w.role("TA.member_role")
    assert ro.post(f"/api/v2/roles/{rid}/users/", {"id": w.uid["ua"]}).status_code == 403
    assert w.uid["ua"] not in role_users(admin, rid)
    # the same user with a write token can
    resp = w.client["org_admin"].post("/api/v2/tokens/", {"description": "rw", "scope": "write"})
    rw = Client(admin.app, token=resp.json["token"])
    assert _ok(rw.patch(w.url("TA2"), {"description": "rw token"}), 200).json["description"] == "rw token"


@pytest.mark.parametrize("actor", ["super", "org_admin"])
def test_awx_cli_user_grant_flow(world, admin, actor):
    """awx users grant --team X --role member, then revoke (awxkit cli/custom.py)."""
    w = world
    cli = w.client[actor]
    options = cli.options("/api/v2/teams/")
    assert options.status_code == 200 and "member_role" in options.json["object_roles"]
    resp = cli.get(f"/api/v2/teams/{w.team['TA2']}", follow_redirects=True)   # no trailing slash
    assert resp.status_code == 200
    assert resp.history and resp.history[0].status_code in (301, 308)
    rid = resp.json["summary_fields"]["object_roles"]["member_role"]["id"]
    uid = w.uid["ua"]
    resp = cli.post(f"/api/v2/users/{uid}/roles/", {"id": rid, "associate": True})
    assert resp.status_code == 204 and resp.get_data() == b""
    assert uid in role_users(admin, rid)
    assert w.team["TA2"] in list_ids(admin, f"/api/v2/users/{uid}/teams/")
    assert w.team["TA2"] in list_ids(w.client["ua"], "/api/v2/teams/?role_level=member_role")
    resp = cli.post(f"/api/v2/users/{uid}/roles/", {"id": rid, "disassociate": True})
    assert resp.status_code == 204 and resp.get_data() == b""
    assert uid not in role_users(admin, rid)
    assert w.team["TA2"] not in list_ids(admin, f"/api/v2/users/{uid}/teams/")
    assert w.team["TA2"] not in list_ids(w.client["ua"], "/api/v2/teams/?role_level=member_role")


def test_world_unchanged_at_the_end(world, app_state):
    """Every mutating case above restored the world: visibility is still exactly as declared."""
    for plural in ("organizations", "teams", "users"):
        for actor in ACTORS:
            got = list_ids(world.client[actor], f"/api/v2/{plural}/")
            assert got == expected_ids(world, app_state, plural, VISIBLE[plural][actor]), (plural, actor)

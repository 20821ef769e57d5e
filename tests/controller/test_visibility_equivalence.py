"""Visibility and ``user_capabilities`` are exactly what the enumerating algorithm gave.

Before the role-ancestor table, every request listed every role the user holds with a
recursive query over ``role_parents`` and filtered lists against that list (bound as JSON),
and built ``user_capabilities`` with one role look-up per row and role.  That algorithm is kept
here, in the test, as the reference: :func:`old_algorithm` swaps it in (the recursive query,
the JSON-list SQL builders, the per-row ``holds``) for the same in-process requests.

A seeded world (two organizations; teams, one pair granted each other's admin role, a cycle;
credentials, projects, inventories, job templates, workflow templates and instance groups in
both; users who are organization admin, member, auditor, execute, project admin, notification
admin, team members through grants, object-level admin/read/use/execute/adhoc/approve
grantees, the creator of an object, a system auditor, a superuser and a user with nothing) is
listed by every user at every list, ``role_level`` filter and role sub-list of a resource with
roles: ids and ``user_capabilities`` must be identical, for both values of
ORG_ADMINS_CAN_SEE_ALL_USERS, and again after grants are revoked, a team moves and objects go.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

import pytest
from conftest import Client, unique

from controller import access, capabilities
from controller.context import Context
from controller.store import instances as instance_sql
from controller.store import rbac

pytestmark = pytest.mark.slow   # ~15 s: every user at ~80 lists, twice

# -- the old algorithm (verbatim SQL of the release before the role-ancestor table) -----------
EFFECTIVE_CTE = (
    "WITH RECURSIVE eff(id) AS ("
    " SELECT role_id FROM role_members WHERE user_id = ?"
    " UNION SELECT rp.role_id FROM role_parents rp JOIN eff ON rp.parent_id = eff.id)"
    " SELECT id FROM eff"
)


OLD_CALLS: list = []   # users the old algorithm answered for (proof that it ran)


class OldRoles(set):
    """The old ``ctx.effective_roles()``: a set of role ids (with the user id a caller of the
    new API may read)."""

    user_id: int = -1


def old_effective(store, user_id) -> OldRoles:
    OLD_CALLS.append(user_id)
    out = OldRoles(r[0] for r in store.query(EFFECTIVE_CTE, (user_id,))) if user_id is not None else OldRoles()
    out.user_id = user_id if user_id is not None else -1
    return out


def old_objects_with_role_sql(content_type, role_field, user_id):
    return (f"id IN (SELECT object_id FROM roles WHERE content_type = ? AND role_field = ?"
            f" AND id IN ({EFFECTIVE_CTE}))", [content_type, role_field, user_id])


def old_objects_with_role_ids_sql(content_type, role_field, role_ids):
    return ("id IN (SELECT object_id FROM roles WHERE content_type = ? AND role_field = ?"
            " AND id IN (SELECT value FROM json_each(?)))",
            [content_type, role_field, json.dumps(sorted(role_ids))])


def old_fk_to_objects_with_roles_sql(column, content_type, role_fields, role_ids):
    marks = ",".join("?" * len(role_fields))
    return (f'"{column}" IN (SELECT object_id FROM roles WHERE content_type = ? AND role_field IN ({marks})'
            f" AND id IN (SELECT value FROM json_each(?)))",
            [content_type, *role_fields, json.dumps(sorted(role_ids))])


def old_access_list_sql(role):
    return ("(is_superuser = 1 OR id IN (SELECT m.user_id FROM role_members m WHERE m.role_id IN ("
            " WITH RECURSIVE anc(id) AS (SELECT ? UNION SELECT rp.parent_id FROM role_parents rp"
            " JOIN anc ON rp.role_id = anc.id) SELECT id FROM anc)))", [role or 0])


def old_users_visible_sql(user_id):
    return (f"is_superuser = 1 OR id = ?"
            f" OR id IN (SELECT m.user_id FROM role_members m JOIN roles r ON r.id = m.role_id"
            f" WHERE r.content_type = 'organization' AND r.role_field IN ('member_role', 'admin_role')"
            f" AND r.object_id IN (SELECT object_id FROM roles WHERE content_type = 'organization'"
            f" AND role_field = 'read_role' AND id IN ({EFFECTIVE_CTE})))", [user_id, user_id])


def old_holds_any_sql(content_type, role_field, user_id):
    return (f"SELECT 1 FROM roles WHERE content_type = ? AND role_field = ? AND id IN ({EFFECTIVE_CTE})"
            f" LIMIT 1", [content_type, role_field, user_id])


def old_holds_any(ctx, content_type, role_field):
    return ctx.store.one(*old_holds_any_sql(content_type, role_field, ctx.user_id or 0)) is not None


def old_holds(ctx, content_type, object_id, role_field):
    if ctx.is_superuser:
        return True
    if object_id is None or not ctx.user:
        return False
    rid = rbac.role_id(ctx.store, content_type, object_id, role_field)
    return rid is not None and rid in ctx.effective_roles()


def old_objects_held_sql(ctx, resource, role_field, also=()):
    """The generic visibility, and the team hook's ``own OR organization member`` before."""
    roles = ctx.effective_roles()
    parts = [old_objects_with_role_ids_sql(resource.name, role_field, roles)]
    parts += [old_fk_to_objects_with_roles_sql(fk, target, fields, roles) for fk, target, fields in also]
    if len(parts) == 1:
        return parts[0]
    return " OR ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]


def old_groups_of_orgs_sql(store):
    def groups_of_orgs_sql(user_id):
        return ("id IN (SELECT instance_group_id FROM organization_instance_groups WHERE organization_id IN "
                "(SELECT object_id FROM roles WHERE content_type = 'organization' AND role_field = 'admin_role' "
                "AND id IN (SELECT value FROM json_each(?))))", [json.dumps(sorted(old_effective(store, user_id)))])
    return groups_of_orgs_sql


@contextmanager
def old_algorithm(monkeypatch, store) -> Iterator[None]:
    """Every request made inside decides access with the old algorithm."""
    def effective_roles(self):
        if "eff" not in self.cache:
            self.cache["eff"] = old_effective(self.store, self.user_id)
        return self.cache["eff"]

    with monkeypatch.context() as patch:
        patch.setattr(Context, "effective_roles", effective_roles)
        for name, fn in (("objects_with_role_sql", old_objects_with_role_sql),
                         ("objects_with_role_ids_sql", old_objects_with_role_ids_sql),
                         ("fk_to_objects_with_roles_sql", old_fk_to_objects_with_roles_sql),
                         ("access_list_sql", old_access_list_sql), ("users_visible_sql", old_users_visible_sql),
                         ("holds_any_sql", old_holds_any_sql)):
            patch.setattr(rbac, name, fn)
        patch.setattr(access, "holds", old_holds)
        patch.setattr(access, "holds_any", old_holds_any)
        patch.setattr(access, "objects_held_sql", old_objects_held_sql)
        patch.setattr(capabilities, "_prefetch_holds", lambda ctx, resource, rows: None)
        patch.setattr(instance_sql, "groups_of_orgs_sql", old_groups_of_orgs_sql(store))
        yield


# -- the world -----------------------------------------------------------------------------------
ROLE_LISTS = ("organizations", "teams", "credentials", "projects", "inventories", "job_templates",
              "workflow_job_templates", "instance_groups")
OTHER_LISTS = ("users", "roles", "instances", "hosts", "groups", "notification_templates", "execution_environments",
               "labels", "role_user_assignments", "role_team_assignments", "schedules", "applications")


def _ok(resp, status=201):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp.json


def _roles(obj: dict) -> dict[str, int]:
    return {f: r["id"] for f, r in obj["summary_fields"]["object_roles"].items()}


class World:
    def __init__(self) -> None:
        self.users: dict[str, tuple[int, Client]] = {}
        self.objs: dict[str, tuple[str, dict]] = {}   # key -> (plural, row)

    def role(self, key: str, field: str) -> int:
        return _roles(self.objs[key][1])[field]


def _grant_user(admin, w: World, who: str, key: str, field: str) -> None:
    _ok(admin.post(f"/api/v2/users/{w.users[who][0]}/roles/", {"id": w.role(key, field)}), 204)


def _grant_team(admin, w: World, team: str, key: str, field: str, on: bool = True) -> None:
    body = {"id": w.role(key, field), **({} if on else {"disassociate": True})}
    _ok(admin.post(f"/api/v2/teams/{w.objs[team][1]['id']}/roles/", body), 204)


@pytest.fixture(scope="module")
def world(app, app_state, admin, make_user) -> World:
    w = World()
    ssh = admin.get("/api/v2/credential_types/?namespace=ssh").json["results"][0]["id"]
    projects_root = app_state.settings.data_dir / "projects"
    for o in ("A", "B"):
        org = _ok(admin.post("/api/v2/organizations/", {"name": unique(f"org{o}")}))
        w.objs[o] = ("organizations", org)
        folder = unique(f"folder{o}")
        (projects_root / folder).mkdir(parents=True, exist_ok=True)
        (projects_root / folder / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
        made = {
            "P": ("projects", {"local_path": folder}), "I": ("inventories", {}),
            "C": ("credentials", {"credential_type": ssh, "inputs": {"username": "u"}}),
            "W": ("workflow_job_templates", {}),
        }
        for kind, (plural, extra) in made.items():
            w.objs[kind + o] = (plural, _ok(admin.post(f"/api/v2/{plural}/", {
                "name": unique(kind + o), "organization": org["id"], **extra})))
        _ok(admin.post("/api/v2/hosts/", {"name": unique("h"), "inventory": w.objs["I" + o][1]["id"]}))
        _ok(admin.post("/api/v2/groups/", {"name": unique("g"), "inventory": w.objs["I" + o][1]["id"]}))
        w.objs["J" + o] = ("job_templates", _ok(admin.post("/api/v2/job_templates/", {
            "name": unique("J" + o), "project": w.objs["P" + o][1]["id"], "inventory": w.objs["I" + o][1]["id"],
            "playbook": "site.yml"})))
        w.objs["G" + o] = ("instance_groups", _ok(admin.post("/api/v2/instance_groups/", {"name": unique("G" + o)})))
        _ok(admin.post(f"/api/v2/organizations/{org['id']}/instance_groups/", {"id": w.objs["G" + o][1]["id"]}), 204)
        _ok(admin.post("/api/v2/notification_templates/", {
            "name": unique("N" + o), "organization": org["id"], "notification_type": "webhook",
            "notification_configuration": {"url": "http://127.0.0.1:9/", "headers": {}}}))
        _ok(admin.post("/api/v2/labels/", {"name": unique("L" + o), "organization": org["id"]}))
        _ok(admin.post("/api/v2/schedules/", {"name": unique("S" + o), "unified_job_template": w.objs["J" + o][1]["id"],
                                              "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    for key, o in (("T1", "A"), ("T2", "A"), ("T3", "B")):
        w.objs[key] = ("teams", _ok(admin.post("/api/v2/teams/", {"name": unique(key),
                                                                  "organization": w.objs[o][1]["id"]})))
    w.objs["CT"] = ("credentials", _ok(admin.post("/api/v2/credentials/", {   # owned by a team
        "name": unique("CT"), "credential_type": ssh, "inputs": {}, "team": w.objs["T3"][1]["id"]})))
    for who in ("auditor", "nobody", "org_admin", "org_member", "org_auditor", "executor", "proj_admin_b",
                "notif_admin", "t1_member", "t3_member", "t3_admin", "direct", "creator"):
        extra = {"is_system_auditor": True} if who == "auditor" else {}
        w.users[who] = make_user(unique(who), **extra)
    a_id, b_id = w.objs["A"][1]["id"], w.objs["B"][1]["id"]
    _ok(admin.post(f"/api/v2/organizations/{a_id}/admins/", {"id": w.users["org_admin"][0]}), 204)
    for who in ("org_member", "creator", "t1_member", "direct"):
        _ok(admin.post(f"/api/v2/organizations/{a_id}/users/", {"id": w.users[who][0]}), 204)
    for who in ("t3_member", "proj_admin_b"):
        _ok(admin.post(f"/api/v2/organizations/{b_id}/users/", {"id": w.users[who][0]}), 204)
    _grant_user(admin, w, "org_auditor", "A", "auditor_role")
    _grant_user(admin, w, "executor", "A", "execute_role")
    _grant_user(admin, w, "proj_admin_b", "B", "project_admin_role")
    _grant_user(admin, w, "notif_admin", "A", "notification_admin_role")
    _grant_user(admin, w, "creator", "A", "project_admin_role")
    _grant_user(admin, w, "t3_admin", "T3", "admin_role")
    _ok(admin.post(f"/api/v2/teams/{w.objs['T1'][1]['id']}/users/", {"id": w.users["t1_member"][0]}), 204)
    _ok(admin.post(f"/api/v2/teams/{w.objs['T3'][1]['id']}/users/", {"id": w.users["t3_member"][0]}), 204)
    for key, field in (("IB", "adhoc_role"), ("JB", "admin_role"), ("CA", "read_role"), ("WB", "approval_role"),
                       ("GA", "use_role"), ("PB", "update_role")):
        _grant_user(admin, w, "direct", key, field)
    # teams: T1 and T2 administer each other (a cycle), T2 audits organization B and uses things
    _grant_team(admin, w, "T1", "T2", "admin_role")
    _grant_team(admin, w, "T2", "T1", "admin_role")
    _grant_team(admin, w, "T2", "B", "auditor_role")
    for key, field in (("PA", "use_role"), ("IA", "admin_role"), ("JB", "execute_role"), ("CB", "use_role"),
                       ("WA", "execute_role"), ("GB", "read_role")):
        _grant_team(admin, w, "T2", key, field)
    _grant_team(admin, w, "T3", "IA", "use_role")
    creator = w.users["creator"][1]   # a project admin of A creates a project: they administer it
    folder = unique("folderC")
    (projects_root / folder).mkdir(parents=True, exist_ok=True)
    w.objs["PC"] = ("projects", _ok(creator.post("/api/v2/projects/", {
        "name": unique("PC"), "organization": a_id, "local_path": folder})))
    w.users["super"] = (admin.get("/api/v2/me/").json["results"][0]["id"], admin)
    return w


def urls(w: World) -> list[str]:
    out = [f"/api/v2/{p}/" for p in ROLE_LISTS + OTHER_LISTS]
    out += ["/api/v2/job_templates/?order_by=-project__name",
            "/api/v2/inventories/?search=I&order_by=organization__name",
            "/api/v2/projects/?or__name__icontains=PA&or__organization__name__icontains=orgB",
            "/api/v2/teams/?organization__name__icontains=org&order_by=-name", "/api/v2/credentials/?not__name=x"]
    for plural, fields in (("teams", ("admin_role", "member_role", "read_role")),
                           ("projects", ("admin_role", "use_role", "update_role")),
                           ("inventories", ("adhoc_role", "use_role", "update_role")),
                           ("job_templates", ("execute_role", "admin_role")),
                           ("workflow_job_templates", ("approval_role", "execute_role")),
                           ("credentials", ("use_role",)), ("organizations", ("admin_role", "member_role")),
                           ("instance_groups", ("use_role",))):
        out += [f"/api/v2/{plural}/?role_level={f}" for f in fields]
    for o in ("A", "B"):
        org = w.objs[o][1]["id"]
        out += [f"/api/v2/organizations/{org}/{sub}/" for sub in
                ("teams", "projects", "inventories", "credentials", "users", "admins", "instance_groups")]
    for key in [k for k in ("T1", "T2", "T3") if k in w.objs]:
        out += [f"/api/v2/teams/{w.objs[key][1]['id']}/{sub}/" for sub in ("users", "roles", "access_list")]
    for key in [k for k in ("PA", "IB", "JB", "CT", "WA", "GA") if k in w.objs]:
        plural, row = w.objs[key]
        out += [f"/api/v2/{plural}/{row['id']}/{sub}/" for sub in ("access_list", "object_roles")]
    for who in ("t1_member", "direct", "creator"):
        out.append(f"/api/v2/users/{w.users[who][0]}/roles/")
    return out


def snapshot(w: World, clients: dict[str, Client]) -> dict:
    """{(user, url): (status, [(id, user_capabilities), ...] over every page)}"""
    out = {}
    for who, client in clients.items():
        for url in urls(w):
            items, status, page = [], None, f"{url}{'&' if '?' in url else '?'}page_size=200"
            while page:
                resp = client.get(page)
                status = resp.status_code
                if status != 200:
                    break
                body = resp.json
                items += [(r["id"], r.get("summary_fields", {}).get("user_capabilities")) for r in body["results"]]
                page = body.get("next")
            out[(who, url)] = (status, items)
    return out


def compare(w: World, app_state, monkeypatch) -> dict:
    clients = {who: client for who, (_, client) in w.users.items()}
    new = snapshot(w, clients)
    OLD_CALLS.clear()
    with old_algorithm(monkeypatch, app_state.store):
        old = snapshot(w, clients)
    assert {w.users[who][0] for who in ("nobody", "t1_member", "direct")} <= set(OLD_CALLS)
    differ = {k: (old[k], new[k]) for k in old if old[k] != new[k]}
    assert not differ, list(differ.items())[:3]
    assert all(status == 200 for (who, url), (status, _) in new.items() if who == "super"), "every list answers"
    return new


@pytest.mark.parametrize("see_all", [True, False])
def test_every_user_sees_and_may_what_the_old_algorithm_said(world, app_state, admin, monkeypatch, see_all):
    _ok(admin.patch("/api/v2/settings/system/", {"ORG_ADMINS_CAN_SEE_ALL_USERS": see_all}), 200)
    try:
        got = compare(world, app_state, monkeypatch)
    finally:
        _ok(admin.patch("/api/v2/settings/system/", {"ORG_ADMINS_CAN_SEE_ALL_USERS": True}), 200)
    # from first principles, so the comparison cannot pass on two empty answers
    ids = {who: {i for i, _ in got[(who, "/api/v2/projects/")][1]} for who in world.users}
    pa, pb, pc = (world.objs[k][1]["id"] for k in ("PA", "PB", "PC"))
    assert ids["nobody"] == set() and {pa, pb, pc} <= ids["auditor"]
    assert ids["org_auditor"] == {pa, pc}
    assert ids["org_admin"] == {pa, pb, pc}   # A's admin administers T2, which audits organization B
    assert pb in ids["proj_admin_b"] and pb in ids["t1_member"] and pa in ids["t1_member"]   # via T2, the cycle
    assert ids["creator"] == {pa, pc}   # project admin of A (and admin of what they created)
    teams = {i for i, _ in got[("t1_member", "/api/v2/teams/")][1]}
    assert world.objs["T3"][1]["id"] in teams   # T2 audits organization B, T1's members administer T2
    caps = dict(got[("direct", "/api/v2/job_templates/")][1])
    assert caps[world.objs["JB"][1]["id"]]["edit"] is True and caps[world.objs["JB"][1]["id"]]["start"] is True


def test_still_the_same_after_revokes_moves_and_deletions(world, app_state, admin, monkeypatch):
    _grant_team(admin, world, "T1", "T2", "admin_role", on=False)       # breaks the cycle
    _grant_team(admin, world, "T2", "B", "auditor_role", on=False)
    _ok(admin.post(f"/api/v2/users/{world.users['direct'][0]}/roles/",
                   {"id": world.role("JB", "admin_role"), "disassociate": True}), 204)
    _ok(admin.post(f"/api/v2/organizations/{world.objs['A'][1]['id']}/teams/",
                   {"id": world.objs["T3"][1]["id"]}), 204)
    _ok(admin.patch(f"/api/v2/projects/{world.objs['PB'][1]['id']}/",
                    {"organization": world.objs["A"][1]["id"]}), 200)
    _ok(admin.delete(f"/api/v2/job_templates/{world.objs['JA'][1]['id']}/"), 204)
    _ok(admin.delete(f"/api/v2/teams/{world.objs['T2'][1]['id']}/"), 204)
    del world.objs["JA"], world.objs["T2"]
    got = compare(world, app_state, monkeypatch)
    ids = {i for i, _ in got[("t1_member", "/api/v2/projects/")][1]}
    assert ids == set(), "T1's members lost everything with T2"
    pb = world.objs["PB"][1]["id"]
    assert pb in {i for i, _ in got[("org_admin", "/api/v2/projects/")][1]}   # moved into A
    assert pb not in {i for i, _ in got[("proj_admin_b", "/api/v2/projects/")][1]}

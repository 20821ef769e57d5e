"""The role-ancestor table stays the transitive closure of ``role_parents`` whatever changes it.

After every kind of change that writes roles or grants (object create, team grants with a
cycle, revoke, a team moved to another organization by attaching it, object and
organization deletion, user deletion) the stored table is compared with the closure computed
here from first principles (a walk over ``role_parents`` in Python), and every user's held
roles with the old recursive query.  Then: the table is rebuilt on start when missing or built
by another version, a page's ``user_capabilities`` costs the same number of statements for 5
rows as for 40, and the visibility SQL reads index ranges of the table, never a scan.
"""
from __future__ import annotations

import pytest

from controller.store import Store, role_ancestors

from conftest import unique
from tests.support.sql_trace import counting

# The algorithm before the table: every role a user holds, by a recursive walk per request.
OLD_EFFECTIVE = ("WITH RECURSIVE eff(id) AS ( SELECT role_id FROM role_members WHERE user_id = ?"
                 " UNION SELECT rp.role_id FROM role_parents rp JOIN eff ON rp.parent_id = eff.id) SELECT id FROM eff")


def closure(store: Store) -> set[tuple[int, int, str, int, str]]:
    """(descendant, ancestor, content_type, object_id, role_field) computed in Python."""
    roles = {r["id"]: (r["content_type"], r["object_id"], r["role_field"])
             for r in store.query("SELECT id, content_type, object_id, role_field FROM roles")}
    parents: dict[int, set[int]] = {}
    for child, parent in store.query("SELECT role_id, parent_id FROM role_parents"):
        parents.setdefault(child, set()).add(parent)
    out = set()
    for rid, (ctype, oid, field) in roles.items():
        seen, todo = set(), [rid]
        while todo:
            r = todo.pop()
            if r not in seen:
                seen.add(r)
                todo += parents.get(r, ())
        out.update((rid, a, ctype, oid, field) for a in seen)
    return out


def stored(store: Store) -> set[tuple[int, int, str, int, str]]:
    return {tuple(r) for r in store.query(
        "SELECT descendant, ancestor, content_type, object_id, role_field FROM role_ancestors")}


def assert_in_step(app_state) -> None:
    store = app_state.store
    want = closure(store)
    got = stored(store)
    assert got == want, {"missing": sorted(want - got)[:10], "extra": sorted(got - want)[:10]}
    for (uid,) in store.query("SELECT id FROM users"):
        old = {r[0] for r in store.query(OLD_EFFECTIVE, (uid,))}
        new = {r[0] for r in store.query(
            "SELECT descendant FROM role_ancestors WHERE ancestor IN (SELECT role_id FROM role_members"
            " WHERE user_id = ?)", (uid,))}
        assert new == old, uid


def _ok(resp, status=204):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp.json


def _roles(obj: dict) -> dict[str, int]:
    return {f: r["id"] for f, r in obj["summary_fields"]["object_roles"].items()}


def test_table_follows_every_change_of_roles_and_grants(app_state, admin, make_user, make_org):
    assert_in_step(app_state)
    org_a, org_b = make_org(unique("orgA")), make_org(unique("orgB"))
    teams = {}
    for key, org in (("T1", org_a), ("T2", org_a), ("T3", org_b)):
        teams[key] = _ok(admin.post("/api/v2/teams/", {"name": unique(key), "organization": org["id"]}), 201)
    inv = _ok(admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org_b["id"]}), 201)
    uid, _ = make_user(unique("u"))
    _ok(admin.post(f"/api/v2/teams/{teams['T1']['id']}/users/", {"id": uid}))
    t1, t2, t3 = (_roles(teams[k]) for k in ("T1", "T2", "T3"))
    # T1 administers T2 and T2 administers T1: a cycle through both member roles
    _ok(admin.post(f"/api/v2/teams/{teams['T1']['id']}/roles/", {"id": t2["admin_role"]}))
    _ok(admin.post(f"/api/v2/teams/{teams['T2']['id']}/roles/", {"id": t1["admin_role"]}))
    _ok(admin.post(f"/api/v2/teams/{teams['T2']['id']}/roles/", {"id": _roles(inv)["adhoc_role"]}))
    _ok(admin.post(f"/api/v2/teams/{teams['T2']['id']}/roles/", {"id": _roles(org_b)["auditor_role"]}))
    assert_in_step(app_state)
    held = app_state.store.query("SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor = ?",
                                 (_roles(inv)["read_role"], t1["member_role"]))
    assert held, "T1's members hold the inventory's read role through T2 (cycle) and the org auditor grant"

    # revoke one edge of the cycle: T1 members no longer reach T2's grants
    _ok(admin.post(f"/api/v2/teams/{teams['T1']['id']}/roles/", {"id": t2["admin_role"], "disassociate": True}))
    assert_in_step(app_state)
    assert not app_state.store.query("SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor = ?",
                                     (_roles(inv)["read_role"], t1["member_role"]))

    # a team moved to another organization by attaching it to a sub-list, then back (a PATCH
    # of its organization is refused, as AWX refuses it, and changes nothing)
    refused = admin.patch(f"/api/v2/teams/{teams['T3']['id']}/", {"organization": org_a["id"]})
    assert refused.status_code == 403 and refused.get_json()["detail"] == "Unable to change organization on a team."
    assert admin.get(f"/api/v2/teams/{teams['T3']['id']}/").get_json()["organization"] == org_b["id"]
    _ok(admin.post(f"/api/v2/organizations/{org_a['id']}/teams/", {"id": teams["T3"]["id"]}))
    assert_in_step(app_state)
    assert app_state.store.query("SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor = ?",
                                 (t3["admin_role"], _roles(org_a)["admin_role"]))
    _ok(admin.post(f"/api/v2/organizations/{org_b['id']}/teams/", {"id": teams["T3"]["id"]}))
    assert_in_step(app_state)
    assert app_state.store.query("SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor = ?",
                                 (t3["admin_role"], _roles(org_b)["admin_role"]))
    assert not app_state.store.query("SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor = ?",
                                     (t3["admin_role"], _roles(org_a)["admin_role"]))

    # deletions: a team in the middle of grants, an organization with objects, a user
    _ok(admin.delete(f"/api/v2/teams/{teams['T2']['id']}/"))
    assert_in_step(app_state)
    _ok(admin.delete(f"/api/v2/organizations/{org_b['id']}/"))
    assert_in_step(app_state)
    _ok(admin.delete(f"/api/v2/users/{uid}/"))
    assert_in_step(app_state)


def test_install_rebuilds_a_missing_or_foreign_table(app_state, admin, make_org):
    org = make_org(unique("org"))
    team = _ok(admin.post("/api/v2/teams/", {"name": unique("t"), "organization": org["id"]}), 201)
    store = app_state.store
    want = stored(store)
    assert want and not role_ancestors.install(store), "an up-to-date table is kept as it is"
    with store.transaction():   # another writer (an older release) drops an edge by hand
        store.execute("DELETE FROM role_parents WHERE role_id = ? AND parent_id = ?",
                      (_roles(team)["admin_role"], _roles(org)["admin_role"]))
    assert stored(store) != closure(store)
    assert not role_ancestors.install(store) and stored(store) == closure(store), "the next start catches up"
    with store.transaction():
        store.execute("INSERT INTO role_parents (role_id, parent_id, implicit) VALUES (?, ?, 1)",
                      (_roles(team)["admin_role"], _roles(org)["admin_role"]))
    assert stored(store) == want
    with store.transaction():
        store.execute("DROP TABLE role_ancestors")
    assert role_ancestors.install(store) and stored(store) == want
    with store.transaction():
        store.execute("UPDATE meta SET value = 'older' WHERE key = 'role_ancestors_version'")
        store.execute("DELETE FROM role_ancestors WHERE object_id % 2 = 0")
    assert role_ancestors.install(store) and stored(store) == want
    assert_in_step(app_state)


@pytest.fixture()
def count_statements(app_state, monkeypatch):
    """A list of the SQL statements this thread's store runs from now on."""
    seen: list[str] = []
    for name in ("query", "one", "scalar", "execute"):
        original = getattr(Store, name)

        def wrapper(self, sql, params=(), _original=original):
            seen.append(sql)
            return _original(self, sql, params)
        monkeypatch.setattr(Store, name, wrapper)
    return seen


def test_capabilities_of_a_page_cost_the_same_for_5_rows_as_for_40(app_state, admin, make_user, make_org,
                                                                    count_statements):
    org = make_org(unique("org"))
    for i in range(40):
        _ok(admin.post("/api/v2/teams/", {"name": unique(f"t{i}"), "organization": org["id"]}), 201)
    uid, member = make_user(unique("member"))
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": uid}))
    _ok(admin.post(f"/api/v2/users/{uid}/roles/", {"id": _roles(org)["auditor_role"]}))
    _ok(member.get("/api/v2/me/"), 200)   # the first request of a user writes its login
    costs = {}
    for size in (5, 40):
        count_statements.clear()
        body = _ok(member.get(f"/api/v2/teams/?organization={org['id']}&page_size={size}"), 200)
        assert len(body["results"]) == size
        assert all(r["summary_fields"]["user_capabilities"] == {"edit": False, "delete": False}
                   for r in body["results"])
        # the list's count is left out: the page of 40 is the whole list, so its count may be
        # the one kept from the page of 5 (test_kept_counts)
        costs[size] = len([s for s in count_statements if not counting(s)])
    assert costs[5] == costs[40], costs


def test_visibility_reads_index_ranges_not_every_role(app_state, admin, make_user, make_org):
    """The page and count of a non-superuser's list use the ancestor index for the roles they
    hold; the organization-level shortcut binds organization ids, never role ids."""
    from controller import access
    from controller.context import Context

    org = make_org(unique("org"))
    uid, _ = make_user(unique("auditor"))
    _ok(admin.post(f"/api/v2/users/{uid}/roles/", {"id": _roles(org)["auditor_role"]}))
    user = app_state.store.get("users", uid)
    ctx = Context(store=app_state.store, registry=app_state.registry, settings=app_state.settings, user=user)
    sql, params = access.visibility(ctx, app_state.registry["project"])
    assert params[0] == org["id"] and len(params) == 4, params   # org id, then user id, type, role field
    plan = " | ".join(r[3] for r in app_state.store.query(f"EXPLAIN QUERY PLAN SELECT count(*) FROM projects"
                                                           f" WHERE {sql}", params))
    assert "role_ancestors_by_ancestor" in plan and "SCAN role_ancestors" not in plan, plan

"""What list pages keep between requests through Store.kept (generation.Kept): an object's
role ids (controller.store.rbac.roles_of) and the summaries of the objects a page's foreign
keys name (controller.services.serializer).  Read again after any write to their table, by
this process or another, never kept inside a transaction."""
from __future__ import annotations

import pytest

from controller.store import Store, generation, rbac
from tests.support.sql_trace import traced

ROLE_READ = "SELECT id, object_id, role_field FROM roles"


@pytest.fixture()
def teams(admin, make_org):
    org = make_org()
    ids = []
    for n in range(3):
        resp = admin.post("/api/v2/teams/", {"name": f"kept-roles-{n}", "organization": org["id"]})
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
    return ids


def _roles(store: Store, ids: list[int]) -> tuple[dict, list[str]]:
    with traced(store) as seen:
        found = rbac.roles_of(store, "team", ids)
    return found, [s for s in seen if s.startswith(ROLE_READ)]


def _stored(store: Store, pk: int) -> dict[str, int]:
    return {r["role_field"]: r["id"] for r in store.query(
        "SELECT id, role_field FROM roles WHERE content_type = 'team' AND object_id = ?", (pk,))}


def test_role_ids_are_read_once_and_served_while_roles_are_not_written(app_state, teams):
    store = app_state.store
    first, reads = _roles(store, teams)
    assert len(reads) == 1
    assert first == {pk: _stored(store, pk) for pk in teams}
    assert set(first[teams[0]]) == {"admin_role", "member_role", "read_role"}
    again, reads = _roles(store, teams)
    assert reads == [] and again == first
    # only the ids not yet kept are read
    subset, reads = _roles(store, teams[:1])
    assert reads == [] and subset == {teams[0]: first[teams[0]]}


def test_a_page_shows_kept_role_ids_without_reading_roles(app_state, admin, teams):
    path = "/api/v2/teams/?order_by=id&id__in=" + ",".join(map(str, teams))
    admin.get(path)
    with traced(app_state.store) as seen:
        body = admin.get(path).json
    assert not [s for s in seen if s.startswith(ROLE_READ)]
    shown = {t["id"]: {f: r["id"] for f, r in t["summary_fields"]["object_roles"].items()} for t in body["results"]}
    assert shown == {pk: _stored(app_state.store, pk) for pk in teams}


def test_a_write_to_roles_here_or_in_another_process_is_seen(app_state, teams):
    store = app_state.store
    _roles(store, teams)
    with store.transaction():
        store.execute("DELETE FROM roles WHERE content_type = 'team' AND object_id = ? AND role_field = 'read_role'",
                      (teams[0],))
    found, reads = _roles(store, teams)
    assert len(reads) == 1 and "read_role" not in found[teams[0]] and "read_role" in found[teams[1]]
    other = Store(store.path)      # what another web worker or the job process has
    try:
        with other.transaction():
            other.execute("INSERT INTO roles (content_type, object_id, role_field) VALUES ('team', ?, 'read_role')",
                          (teams[0],))
    finally:
        other.close()
    found, reads = _roles(store, teams)
    assert len(reads) == 1 and found[teams[0]] == _stored(store, teams[0])
    assert "read_role" in found[teams[0]]


def test_inside_a_transaction_nothing_is_kept_or_served(app_state, teams):
    store = app_state.store
    _roles(store, teams)
    with pytest.raises(LookupError), store.transaction():
        store.execute("DELETE FROM roles WHERE content_type = 'team' AND object_id = ? AND role_field = 'admin_role'",
                      (teams[1],))
        found, reads = _roles(store, teams)
        assert len(reads) == 1 and "admin_role" not in found[teams[1]]
        raise LookupError("roll back")
    found, reads = _roles(store, teams)
    assert "admin_role" in found[teams[1]] and found[teams[1]] == _stored(store, teams[1])


def test_each_answer_is_the_callers_own(app_state, teams):
    store = app_state.store
    mine = rbac.roles_of(store, "team", teams)
    mine[teams[0]]["admin_role"] = -1
    mine[teams[0]]["made_up"] = 1
    assert rbac.roles_of(store, "team", teams)[teams[0]] == _stored(store, teams[0])


def test_a_full_kept_drops_everything_and_counts_off_reads_every_time(tmp_path):
    kept = generation.Kept(("roles",), size=2)
    store = Store(str(tmp_path / "k.sqlite3"))
    try:
        with store.transaction():
            store.execute("CREATE TABLE roles (id INTEGER PRIMARY KEY, v TEXT)")
        store.keep_counts()
        calls: list[list] = []

        def compute(keys: list) -> dict:
            calls.append(keys)
            return {k: k * 10 for k in keys}
        assert kept.get(store, [1, 2], False, compute) == {1: 10, 2: 20}
        assert kept.get(store, [1, 2], False, compute) == {1: 10, 2: 20} and len(calls) == 1
        assert kept.get(store, [3], False, compute) == {3: 30}     # a third key: the two go
        assert kept.get(store, [1], False, compute) == {1: 10} and calls[-1] == [1]
        assert kept.get(store, [4, 5, 6], False, compute) == {4: 40, 5: 50, 6: 60}   # more than it holds
        assert kept.get(store, [1], False, compute) == {1: 10} and calls[-1] == [4, 5, 6]   # 1 still kept
        choosy = generation.Kept(("roles",), worth=lambda v: v < 50)
        assert choosy.get(store, [3, 7], False, compute) == {3: 30, 7: 70}
        assert choosy.get(store, [3, 7], False, compute) == {3: 30, 7: 70} and calls[-1] == [7]
        store.keep_counts(keep=False)
        n = len(calls)
        assert store.kept("x", ("roles",), [5], compute) == {5: 50}
        assert store.kept("x", ("roles",), [5], compute) == {5: 50} and len(calls) == n + 2
    finally:
        store.close()


def test_a_foreign_keys_summary_is_kept_until_its_table_is_written(app_state, admin, make_org):
    org = make_org()
    resp = admin.post("/api/v2/teams/", {"name": "kept-summary-team", "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    path = f"/api/v2/teams/?id={resp.json['id']}"
    assert admin.get(path).json["results"][0]["summary_fields"]["organization"]["name"] == org["name"]
    with traced(app_state.store) as seen:
        body = admin.get(path).json
    assert not [s for s in seen if s.startswith('SELECT * FROM "organizations" WHERE id IN')]
    assert body["results"][0]["summary_fields"]["organization"] == {"id": org["id"], "name": org["name"],
                                                                     "description": org["description"]}
    assert admin.patch(f"/api/v2/organizations/{org['id']}/", {"description": "renamed here"}).status_code == 200
    assert admin.get(path).json["results"][0]["summary_fields"]["organization"]["description"] == "renamed here"
    other = Store(app_state.store.path)      # another process's write
    try:
        with other.transaction():
            other.execute("UPDATE organizations SET name = ? WHERE id = ?", (org["name"] + " elsewhere", org["id"]))
    finally:
        other.close()
    shown = admin.get(path).json["results"][0]["summary_fields"]["organization"]
    assert shown == {"id": org["id"], "name": org["name"] + " elsewhere", "description": "renamed here"}

"""Kept orders of lists (controller.store.paging.page): a list SQLite sorts, asked again while
no table it reads is written, is served from its kept order of ids, and each page is exactly
the page one statement reads (paging.read); any write, by this process or another, ends the
order; the first request of a generation reads directly; lists read along an index, long
orders, volatile tables and transactions are never kept.  Teams have no index on their
description: ordered by it, SQLite sorts."""
from __future__ import annotations

import pytest

from controller import query
from controller.store import Store, generation, paging
from tests.support.sql_trace import GENERATION_READ, traced

ORDER_READ = 'SELECT "id" FROM "teams" WHERE'
BY_IDS = 'SELECT * FROM "teams" WHERE "id" IN ('


@pytest.fixture(scope="module")
def org(make_org):
    return make_org()


def _teams(admin, org, prefix: str, n: int) -> list[dict]:
    made = []
    for i in range(n):
        resp = admin.post("/api/v2/teams/", {"name": f"{prefix}{i:02d}", "description": f"squad {i % 3}",
                                             "organization": org["id"]})
        assert resp.status_code == 201, resp.json
        made.append(resp.json)
    return made


def _get(app_state, client, path: str) -> tuple[list[str], dict]:
    with traced(app_state.store) as seen:
        resp = client.get(path)
    assert resp.status_code == 200, resp.json
    return seen, resp.json


def _kind(seen: list[str]) -> str:
    """How the request read its page: "direct", "order" (read the order, then the page by its
    ids), "too long" (read the order, found it too long to keep, read the page directly) or
    "kept" (the page by its ids alone)."""
    order = [s for s in seen if s.startswith(ORDER_READ)]
    by_ids = [s for s in seen if s.startswith(BY_IDS) and "SELECT \"id\"" not in s]
    if order:
        assert len(order) == 1 and len(by_ids) <= 1, seen
        return "order" if by_ids else "too long"
    return "kept" if by_ids else "direct"


def _ids(body: dict) -> list[int]:
    return [r["id"] for r in body["results"]]


def test_a_list_asked_again_is_paged_from_its_kept_order(app_state, admin, org):
    _teams(admin, org, "ko-a-", 7)
    path = "/api/v2/teams/?name__startswith=ko-a-&order_by=-description,name&page_size=3&page=2"
    kinds, bodies = [], []
    for _ in range(3):
        seen, body = _get(app_state, admin, path)
        kinds.append(_kind(seen))
        bodies.append(body)
    assert kinds == ["direct", "order", "kept"]
    assert bodies[0] == bodies[1] == bodies[2]
    assert [r["name"] for r in bodies[0]["results"]] == ["ko-a-04", "ko-a-00", "ko-a-03"]
    assert bodies[0]["count"] == 7 and bodies[0]["next"].endswith("page=3")
    # another page of the same list comes from the same order: nothing else is read for it
    seen, last = _get(app_state, admin, path.replace("page=2", "page=3"))
    assert _kind(seen) == "kept" and [r["name"] for r in last["results"]] == ["ko-a-06"]
    assert not [s for s in seen if s.startswith("SELECT count(*)")]       # the count is kept too


def test_a_write_here_or_in_another_process_ends_the_order(app_state, admin, org):
    teams = _teams(admin, org, "ko-b-", 4)
    path = "/api/v2/teams/?name__startswith=ko-b-&order_by=description,name&page_size=2"
    for _ in range(3):
        seen, body = _get(app_state, admin, path)
    # squad 0: 00 and 03, then squad 1: 01, squad 2: 02
    assert _kind(seen) == "kept" and _ids(body) == [teams[0]["id"], teams[3]["id"]]
    # changed to sort second: the next request reads directly and sees it there
    assert admin.patch(f"/api/v2/teams/{teams[2]['id']}/",
                       {"name": "ko-b-00a", "description": "squad 0"}).status_code == 200
    seen, body = _get(app_state, admin, path)
    assert _kind(seen) == "direct" and _ids(body) == [teams[0]["id"], teams[2]["id"]]
    for _ in range(2):
        seen, body = _get(app_state, admin, path)
    assert _kind(seen) == "kept"
    other = Store(app_state.store.path)       # what another process (a web or job worker) has
    try:
        with other.transaction():
            other.execute("DELETE FROM teams WHERE id = ?", (teams[0]["id"],))
    finally:
        other.close()
    seen, body = _get(app_state, admin, path)
    assert _kind(seen) == "direct" and _ids(body) == [teams[2]["id"], teams[3]["id"]] and body["count"] == 3


@pytest.mark.parametrize("order_by", ["organization,name,id", "-description,id", "-name", "description", "-id"])
def test_a_kept_page_is_the_page_one_statement_reads(app_state, admin, org, order_by):
    """Every page of a kept order, ties included (descriptions repeat), and past the end."""
    if not app_state.store.count("teams", "name LIKE 'ko-c-%'"):
        _teams(admin, org, "ko-c-", 11)
    store, reg = app_state.store, app_state.registry
    compiled = query.compile_query(reg, reg["team"], [("name__startswith", "ko-c-"), ("order_by", order_by)])
    where, params, order = compiled.where, compiled.params, compiled.order_by
    answers = paging.Orders(store._counts.counted)
    for size, offset in ((5, 0), (5, 5), (3, 7), (5, 10), (5, 40), (25, 0), (0, 3), (-1, 0), (3, -2)):
        one = store.dicts(f'SELECT * FROM "teams" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?',
                          [*params, size, offset])
        assert paging.page(store, answers, "teams", where, params, order, size, offset) == one, (size, offset)
        assert paging.read(store, "teams", where, params, order, size, offset) == one, (size, offset)
    kept = answers.peek(f'SELECT "id" FROM "teams" WHERE {where} ORDER BY {order}', params)
    if order_by.lstrip("-").startswith(("description", "organization")):   # sorted (an FK by its name): kept
        assert list(kept) == [r["id"] for r in store.dicts(f'SELECT id FROM teams WHERE {where} ORDER BY {order}',
                                                           params)]
    else:                                   # along an index or the table's own order: never kept
        assert kept is None


def test_each_user_is_paged_from_their_own_order(app_state, admin, org, make_user):
    """The same URL by two users: the member's visibility is in the statement, so the admin's
    kept order is never theirs, and losing a role ends theirs."""
    teams = _teams(admin, org, "ko-d-", 3)
    uid, member = make_user()
    role = teams[1]["summary_fields"]["object_roles"]["read_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    member.get("/api/v2/me/")      # a first sign-in writes; done before the orders are kept
    path = "/api/v2/teams/?name__startswith=ko-d-&order_by=description,name"
    for _ in range(3):
        seen, body = _get(app_state, admin, path)
        assert _ids(body) == [teams[0]["id"], teams[1]["id"], teams[2]["id"]]    # squads 0, 1, 2
        mine_seen, mine = _get(app_state, member, path)
        assert _ids(mine) == [teams[1]["id"]]
    assert _kind(seen) == "kept" and _kind(mine_seen) == "kept"
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role, "disassociate": True}).status_code == 204
    mine_seen, mine = _get(app_state, member, path)
    assert _kind(mine_seen) == "direct" and mine["count"] == 0 and mine["results"] == []


def test_an_order_past_the_bound_is_not_read_again(app_state, admin, org, monkeypatch):
    monkeypatch.setattr(paging, "ORDER_IDS", 4)
    teams = _teams(admin, org, "ko-e-", 5)
    path = "/api/v2/teams/?name__startswith=ko-e-&order_by=description,name&page_size=2"
    kinds = []
    for n in range(5):
        if n == 3:      # another generation: still not read again (lists seldom shrink)
            assert admin.patch(f"/api/v2/teams/{teams[4]['id']}/", {"description": "squad 9"}).status_code == 200
        seen, body = _get(app_state, admin, path)
        kinds.append(_kind(seen))
        assert _ids(body) == [teams[0]["id"], teams[3]["id"]]      # squad 0
    # the second request reads the order, finds it too long, keeps only that fact
    assert kinds == ["direct", "too long", "direct", "direct", "direct"]
    assert not [s for s in seen if s.startswith("BEGIN")]


def test_a_list_read_along_an_index_is_never_kept(app_state, admin, org):
    """A list SQLite reads in order along an index stops after its page: a kept order would
    gain nothing, so it is never read and the pages cost no statement more than before (a
    partial sort of ties along the index counts as reading in order)."""
    _teams(admin, org, "ko-f-", 3)
    for order_by in ("name", "-name", "-id"):
        path = f"/api/v2/teams/?name__startswith=ko-f-&order_by={order_by}"
        for _ in range(3):
            seen, body = _get(app_state, admin, path)
            assert _kind(seen) == "direct" and body["count"] == 3
        page = [s for s in seen if s.startswith('SELECT * FROM "teams"')]
        assert len(page) == 1 and not [s for s in seen if s.startswith(("BEGIN", ORDER_READ, "EXPLAIN"))]


def test_an_older_answer_never_replaces_a_newer_one(app_state):
    """A thread whose snapshot is older comes late: what a newer one kept stays."""
    answers = generation.Answers(frozenset({"teams"}))
    key = answers._key("SELECT 1 FROM teams", ())
    answers._keep(key, 7, "newer", 1)
    answers._keep(key, 6, "older", 1)
    assert answers.peek("SELECT 1 FROM teams", ()) == "newer"
    answers._keep(key, 8, "newest", 1)
    assert answers.peek("SELECT 1 FROM teams", ()) == "newest" and answers._weight == 1


def test_kept_orders_are_bounded_by_their_ids(app_state):
    answers = generation.Answers(frozenset({"teams"}), budget=10, weigh=len)
    computed = []
    for n in range(4):
        answers.get(app_state.store, f'SELECT "id" FROM teams WHERE id > {n}', (), False,
                    lambda n=n: computed.append(n) or [n] * 4)
    assert len(answers._kept) == 2          # 3 orders of 4 ids weigh more than 10
    answers.get(app_state.store, 'SELECT "id" FROM teams WHERE id > 3', (), False, lambda: computed.append(-1) or [])
    assert computed == [0, 1, 2, 3]         # the last one was kept
    assert answers.get(app_state.store, "SELECT 'x' FROM teams", (), False, lambda: ["x"] * 11) == ["x"] * 11
    assert len(answers._kept) == 2          # heavier than the whole budget: answered, not kept


def test_volatile_tables_transactions_and_unkept_stores_read_directly(app_state, tmp_path):
    store = app_state.store
    for _ in range(3):
        with traced(store) as seen:
            store.page("job_events", "job = ?", (-1,), '"id" ASC', 5, 0)
    assert not [s for s in seen if s.startswith((GENERATION_READ, "BEGIN"))]
    with store.transaction(), traced(store) as seen:
        for _ in range(3):
            store.page("teams", "1", [], '"id" ASC', 5, 0)
    assert len([s for s in seen if s.startswith('SELECT * FROM "teams" WHERE 1 ORDER BY')]) == 3
    unkept = Store(store.path)
    try:
        unkept.keep_counts(keep=False)
        with traced(unkept) as seen:
            for _ in range(3):
                unkept.page("teams", "1", [], '"id" ASC', 5, 0)
        assert not [s for s in seen if s.startswith((GENERATION_READ, "BEGIN", BY_IDS))]
    finally:
        unkept.close()

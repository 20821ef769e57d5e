"""Kept orders of lists (controller.store.paging.page): a list SQLite sorts, asked again while
no table it reads is written, is served from its kept order of ids, and each page is exactly
the page one statement reads (paging.read); any write, by this process or another, ends the
order; the first request of a generation reads directly; lists read along an index, long
orders, volatile tables and transactions are never kept; only the first ids of an order are
read, further when a page past them is asked.  Teams have no index on their description:
ordered by it, SQLite sorts."""
from __future__ import annotations

import sqlite3

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
    kept = answers._kept.get(answers._key(f'SELECT "id" FROM "teams" WHERE {where} ORDER BY {order}', params))
    if order_by.lstrip("-").startswith(("description", "organization")):   # sorted (an FK by its name): kept
        ids = [r["id"] for r in store.dicts(f'SELECT id FROM teams WHERE {where} ORDER BY {order}', params)]
        assert list(kept[1].ids) == ids and kept[1].whole
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


def test_only_the_first_ids_are_read_and_further_when_a_page_needs_them(app_state, admin, org, monkeypatch):
    """An order is read as far as twice the page asked (ORDER_PREFIX at least), so reading it
    costs what a page does; a page past what is kept reads twice as far again; a page past
    ORDER_IDS is read directly."""
    monkeypatch.setattr(paging, "ORDER_PREFIX", 2)
    monkeypatch.setattr(paging, "ORDER_IDS", 6)
    teams = _teams(admin, org, "ko-e-", 7)
    ordered = [teams[i]["id"] for i in (0, 3, 6, 1, 4, 2, 5)]          # squads 0, 1, 2
    path = "/api/v2/teams/?name__startswith=ko-e-&order_by=description,name&page_size=2"
    kinds, limits = [], []
    for page in (1, 1, 1, 2, 3, 3, 4):
        seen, body = _get(app_state, admin, f"{path}&page={page}")
        kinds.append(_kind(seen))
        limits += [s.rsplit("LIMIT ", 1)[1] for s in seen if s.startswith(ORDER_READ)]
        assert _ids(body) == ordered[(page - 1) * 2:page * 2] and body["count"] == 7, page
    assert kinds == ["direct", "order", "kept", "kept", "order", "kept", "direct"]
    assert limits == ["4", "6"]         # page 1: 2 x 2 ids; page 3: 2 x 6, at most ORDER_IDS
    assert not [s for s in seen if s.startswith("BEGIN")]


def test_label_order_and_rows_are_read_in_one_snapshot(app_state, admin, org, monkeypatch):
    """A write committed by another process while the order is read is not in this page (its
    label is older than the write), and the next request reads afresh."""
    teams = _teams(admin, org, "ko-g-", 4)
    path = "/api/v2/teams/?name__startswith=ko-g-&order_by=description,name"
    seen, before = _get(app_state, admin, path)
    assert _kind(seen) == "direct"
    read_order = paging._order

    def order_after_a_write(*args, **kwargs):
        other = Store(app_state.store.path)
        try:
            with other.transaction():
                other.execute("DELETE FROM teams WHERE id = ?", (teams[0]["id"],))
        finally:
            other.close()
        return read_order(*args, **kwargs)

    monkeypatch.setattr(paging, "_order", order_after_a_write)
    seen, during = _get(app_state, admin, path)
    assert _kind(seen) == "order" and _ids(during) == _ids(before) == [teams[i]["id"] for i in (0, 3, 1, 2)]
    monkeypatch.setattr(paging, "_order", read_order)
    seen, after = _get(app_state, admin, path)
    assert _kind(seen) == "direct" and _ids(after) == [teams[i]["id"] for i in (3, 1, 2)]


def test_an_error_reading_the_order_leaves_no_transaction_open(app_state, admin, org, monkeypatch):
    _teams(admin, org, "ko-h-", 2)
    store, reg = app_state.store, app_state.registry
    compiled = query.compile_query(reg, reg["team"], [("name__startswith", "ko-h-"), ("order_by", "description")])
    args = ("teams", compiled.where, compiled.params, compiled.order_by, 5, 0)
    store.page(*args)                                   # asked once: the next reads the order

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(paging, "_order", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        store.page(*args)
    assert not store.conn.in_transaction
    with store.transaction():                           # the thread's next write transaction begins
        store.execute("UPDATE teams SET description = description WHERE name = 'ko-h-00'")


def test_a_write_to_a_table_only_the_order_names_ends_it(app_state, admin, make_org):
    """Ordered by organization (its name, as Django orders an FK): renaming an organization
    reorders the teams without writing one."""
    first, second = make_org(name="ko-i-org-a"), make_org(name="ko-i-org-b")
    for n, o in enumerate((first, second)):
        assert admin.post("/api/v2/teams/", {"name": f"ko-i-{n}", "organization": o["id"]}).status_code == 201
    path = "/api/v2/teams/?name__startswith=ko-i-&order_by=organization"
    for _ in range(3):
        seen, body = _get(app_state, admin, path)
    assert _kind(seen) == "kept" and [r["name"] for r in body["results"]] == ["ko-i-0", "ko-i-1"]
    assert admin.patch(f"/api/v2/organizations/{first['id']}/", {"name": "ko-i-org-z"}).status_code == 200
    seen, body = _get(app_state, admin, path)
    assert _kind(seen) == "direct" and [r["name"] for r in body["results"]] == ["ko-i-1", "ko-i-0"]


def test_only_the_statements_own_sort_counts(app_state):
    orders = paging.Orders(app_state.store._counts.counted)
    conn = app_state.store.conn
    assert orders.sorts(conn, 'SELECT "id" FROM "teams" WHERE 1 ORDER BY "description"', ())
    assert not orders.sorts(conn, 'SELECT "id" FROM "teams" WHERE "id" IN (SELECT "id" FROM "teams" '
                                  'ORDER BY "description" LIMIT 3) ORDER BY "id"', ())
    assert not orders.sorts(conn, 'SELECT "id" FROM "teams" WHERE 1 ORDER BY "name" DESC, "id" ASC', ())


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
    assert answers._kept[key][1] == "newer"
    answers._keep(key, 8, "newest", 1)
    assert answers._kept[key][1] == "newest" and answers._weight == 1


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

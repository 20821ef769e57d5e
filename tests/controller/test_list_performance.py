"""What a list page costs: SQL statements per page do not grow with the page size (related
objects, summary_fields and capabilities are read in batches, never per row), and the count
costs no statement when the page already tells it."""
from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from controller import capabilities, query
from controller.services.bootstrap import system_context

from tests.support.jobs import make_inventory
from tests.support.sql_trace import counting, traced

TEAMS = 12


@pytest.fixture(scope="module")
def seeded(admin, make_org, make_user):
    orgs = [make_org() for _ in range(4)]
    users = [make_user()[0] for _ in range(3)]
    for n in range(TEAMS):
        resp = admin.post("/api/v2/teams/", {"name": f"perf-team-{n:02d}", "description": f"squad {n % 4}",
                                             "organization": orgs[n % 2]["id"]})
        assert resp.status_code == 201, resp.json
    for n in range(4):
        make_inventory(admin, orgs[n % 2], hosts=[f"perf-h{n}-{i}" for i in range(3)])
    for n in range(4):
        resp = admin.post("/api/v2/labels/", {"name": f"perf-label-{n}", "organization": orgs[n % 2]["id"]})
        assert resp.status_code == 201, resp.json
    return {"orgs": orgs, "users": users}


@pytest.fixture(autouse=True)
def direct_pages(app_state, monkeypatch):
    """Pages read from their tables here (paging.read), whatever was asked before: what a page
    costs when its list's order is kept is tested in test_kept_orders.py."""
    monkeypatch.setattr(app_state.store, "_orders", None)


def _run(app_state, client, path: str) -> tuple[list[str], dict]:
    with traced(app_state.store) as seen:
        resp = client.get(path)
    assert resp.status_code == 200, (path, resp.json)
    return seen, resp.json


def _count(app_state, client, path: str) -> tuple[int, dict]:
    seen, body = _run(app_state, client, path)
    return len(seen), body


_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_LIST = re.compile(r"\(\?(?:\s*,\s*\?)*\)")


def shape(sql: str) -> str:
    """A statement with its values (the trace shows them bound) and IN lists made anonymous:
    a query run once per row has one shape, repeated."""
    return _LIST.sub("(?)", _LITERAL.sub("?", sql))


def _listed(app_state) -> list[str]:
    return sorted(r.plural for r in app_state.registry if r.listed)


def test_statements_per_page_do_not_grow_with_page_size(app_state, admin, seeded):
    """For every list with at least 4 rows, a page of all its rows (up to 20) runs no statement
    more often than a page of 2 does: nothing is read once per row.  (A bigger page may name
    more kinds of related objects, e.g. a role list's content types: one more statement each.)"""
    checked, per_row = [], []
    for plural in _listed(app_state):
        body = admin.get(f"/api/v2/{plural}/?page_size=1").json
        if "count" not in body or body["count"] < 4:
            continue
        big = min(body["count"], 20)
        small_seen, small = _run(app_state, admin, f"/api/v2/{plural}/?page_size=2&order_by=id")
        big_seen, large = _run(app_state, admin, f"/api/v2/{plural}/?page_size={big}&order_by=id")
        assert len(small["results"]) == 2 and len(large["results"]) == big
        checked.append(plural)
        before = Counter(shape(s) for s in small_seen)
        per_row += [(plural, n, sql) for sql, n in Counter(shape(s) for s in big_seen).items()
                    if n > max(1, before[sql])]
    assert {"teams", "organizations", "users", "hosts", "inventories", "labels", "roles"} <= set(checked)
    assert per_row == []


def test_uniform_pages_cost_the_same_statements(app_state, admin, seeded):
    """Teams (one organization each, made by one user): the statement count is exactly the
    same for a page of 2 and a page of 10."""
    small_n, _ = _count(app_state, admin, "/api/v2/teams/?page_size=2")
    big_n, large = _count(app_state, admin, "/api/v2/teams/?page_size=10")
    assert len(large["results"]) == 10
    assert big_n == small_n


def test_the_shape_of_a_per_row_query_repeats():
    assert shape("SELECT * FROM roles WHERE object_id = 12 AND name = 'it''s'") == \
        shape("SELECT * FROM roles WHERE object_id = 7 AND name = 'x'")
    assert shape('SELECT * FROM "users" WHERE id IN (1,2, 3)') == shape('SELECT * FROM "users" WHERE id IN (4)')


def test_team_page_statements_are_few_and_count_is_skipped_on_a_short_page(app_state, admin, seeded):
    full_seen, full = _run(app_state, admin, "/api/v2/teams/?name__startswith=perf-team&page_size=5")
    assert full["count"] == TEAMS and len(full["results"]) == 5
    assert len([s for s in full_seen if s.startswith("SELECT count(*)")]) == 1
    # the page, the count, the organizations and users of summary_fields, the object roles:
    # what authentication and the request's bookkeeping add stays the same for any list
    rest = Counter(shape(s) for s in full_seen if not counting(s))
    short_seen, short = _run(app_state, admin, "/api/v2/teams/?name__startswith=perf-team&page_size=50")
    assert short["count"] == TEAMS and len(short["results"]) == TEAMS and short["next"] is None
    assert not [s for s in short_seen if s.startswith("SELECT count(*)")]     # a short page is its own count
    assert Counter(shape(s) for s in short_seen if not counting(s)) == rest
    last_seen, last = _run(app_state, admin, "/api/v2/teams/?name__startswith=perf-team&page_size=5&page=3")
    assert last["count"] == TEAMS and len(last["results"]) == 2 and last["next"] is None
    assert last["previous"].endswith("page=2")
    # a page past the first is found by its ids, then read (Store.page): one statement still
    first_page = [s for s in rest if s.startswith('SELECT * FROM "teams" WHERE ((')]
    later_page = [s for s in map(shape, last_seen) if s.startswith('SELECT * FROM "teams" WHERE "id" IN (SELECT "id"')]
    assert len(first_page) == 1 and len(later_page) == 1
    assert not [s for s in last_seen if s.startswith("SELECT count(*)")]
    assert Counter(shape(s) for s in last_seen if shape(s) not in later_page and not counting(s)) == \
        rest - Counter(first_page)
    gone = admin.get("/api/v2/teams/?name__startswith=perf-team&page_size=5&page=4")
    assert gone.status_code == 404 and gone.json == {"detail": "Invalid page."}
    empty = admin.get("/api/v2/teams/?name__startswith=no-such-team")
    assert empty.status_code == 200 and empty.json["count"] == 0 and empty.json["results"] == []
    # count_disabled past the end: an empty page, as before (no count, no 404)
    disabled = admin.get("/api/v2/teams/?name__startswith=perf-team&page_size=5&page=9&count_disabled=1")
    assert disabled.status_code == 200 and disabled.json == {"results": []}


def test_member_page_statements_do_not_grow_with_page_size(app_state, admin, make_user, seeded):
    """A non-superuser's list: visibility and user_capabilities per page, not per row."""
    org = seeded["orgs"][0]
    uid, member = make_user()
    role = admin.get(f"/api/v2/organizations/{org['id']}/").json["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    member.get("/api/v2/me/")      # signing in for the first time writes (last_login ...)
    small_n, small = _count(app_state, member, "/api/v2/teams/?page_size=2")
    big_n, large = _count(app_state, member, "/api/v2/teams/?page_size=6")
    assert small["count"] == large["count"] >= TEAMS // 2
    assert len(large["results"]) == 6
    for team in large["results"]:   # the organization's admin administers its teams only
        mine = team["organization"] == org["id"]
        assert team["summary_fields"]["user_capabilities"] == {"edit": mine, "delete": mine}, team["name"]
    assert big_n == small_n


def test_an_unfiltered_count_has_no_where_clause(app_state, admin, make_user, seeded):
    """A list with no condition left (a superuser, or an organization admin who sees every team)
    counts with a bare ``count(*)``: SQLite then counts b-tree pages instead of stepping through
    every row.  A filtered count keeps its WHERE, and both agree with the rows there are."""
    total = app_state.store.scalar('SELECT count(*) FROM "teams"')
    for client in (admin, _org_admin(admin, make_user, seeded)):
        seen, body = _run(app_state, client, "/api/v2/teams/?page_size=2")
        counts = [s for s in seen if s.startswith("SELECT count(*)")]
        assert counts == ['SELECT count(*) FROM "teams"'] and body["count"] == total
    # a filter no other test asks, so its count is not kept from before
    seen, body = _run(app_state, admin, "/api/v2/teams/?name__startswith=perf-team-0&page_size=2")
    assert [s for s in seen if s.startswith("SELECT count(*)")][0].startswith('SELECT count(*) FROM "teams" WHERE ')
    assert body["count"] == 10


def _org_admin(admin, make_user, seeded):
    """A user holding an organization's admin role: with ORG_ADMINS_CAN_SEE_ALL_USERS (the
    default) they see every team, so their team list has no visibility condition."""
    uid, client = make_user()
    org = seeded["orgs"][1]
    role = admin.get(f"/api/v2/organizations/{org['id']}/").json["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    return client


def test_superuser_capabilities_answer_as_the_per_row_checks_do(app_state):
    """A superuser's ``user_capabilities`` are answered once per page for a resource whose
    hooks do not decide for them; they must equal what the per-row checks answer, for every
    resource (those with such hooks go row by row anyway)."""
    ctx = system_context(app_state)
    assert ctx.is_superuser
    rows = [{"id": n, "organization": 1, "inventory": 1, "project": 1, "credential": 1}
            for n in (1, 2, 3)]
    same = 0
    for resource in app_state.registry:
        if not resource.capabilities or capabilities.hook_decides_for_superusers(resource):
            continue
        fast = capabilities.user_capabilities(dataclasses.replace(ctx, cache={}), resource, rows)
        slow = capabilities.capabilities_per_row(dataclasses.replace(ctx, cache={}), resource, rows)
        assert fast == slow, resource.name
        assert fast[1] == dict.fromkeys(resource.capabilities, True), resource.name
        same += 1
    assert same >= 10
    assert not capabilities.hook_decides_for_superusers(app_state.registry["team"])


@pytest.mark.parametrize("order_by", ["organization,name,id", "-description,id", "-name", "organization", "-id"])
def test_a_later_page_read_by_its_ids_is_the_page_one_statement_reads(app_state, seeded, order_by):
    """Store.page finds a page past the first by its ids, then reads it: the same rows in the
    same order as one ``SELECT *`` with the offset, ties included (descriptions repeat)."""
    store, reg = app_state.store, app_state.registry
    compiled = query.compile_query(reg, reg["team"], [("name__startswith", "perf-team"), ("order_by", order_by)])
    for size, offset in ((5, 0), (5, 5), (3, 7), (5, 10), (5, 40)):
        one = store.dicts(f'SELECT * FROM "teams" WHERE {compiled.where} ORDER BY {compiled.order_by} LIMIT ? OFFSET ?',
                          [*compiled.params, size, offset])
        assert store.page("teams", compiled.where, compiled.params, compiled.order_by, size, offset) == one, offset
    assert len(store.page("teams", compiled.where, compiled.params, compiled.order_by, 5, 10)) == TEAMS - 10


def test_a_later_page_walks_the_index_without_reading_the_rows_it_skips(app_state, seeded):
    store = app_state.store
    order = '"teams"."organization" ASC NULLS LAST, "teams"."name" ASC, "teams"."id" ASC'
    with traced(store) as seen:
        store.page("teams", "1", [], order, 5, 5)
    plan = " | ".join(r[3] for r in store.query("EXPLAIN QUERY PLAN " + seen[-1]))
    assert "COVERING INDEX idx_teams_organization_name" in plan, plan

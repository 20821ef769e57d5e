"""Kept list counts (controller.store.generation): a list's count is served again only while
no table it reads was written, by this process or any other; every answer stays what a fresh
count gives."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

import pytest

from controller.store import Store, generation
from tests.support.sql_trace import GENERATION_READ, traced


@pytest.fixture(scope="module")
def org(make_org):
    return make_org()


def _list(app_state, client, path: str) -> tuple[list[str], dict]:
    with traced(app_state.store) as seen:
        resp = client.get(path)
    assert resp.status_code == 200, resp.json
    return [s for s in seen if s.startswith("SELECT count(*)")], resp.json


def _team(admin, org, name: str) -> dict:
    resp = admin.post("/api/v2/teams/", {"name": name, "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_every_table_but_the_volatile_ones_counts_its_writes(app_state):
    store = app_state.store
    tables = generation._tables(store)
    assert {"teams", "roles", "role_members", "jobs", "hosts", generation.TABLE} <= set(tables)
    assert not any(t.startswith(("sqlite_", "turret_text_", "turret_search_")) for t in tables)
    triggered = {r["tbl_name"] for r in store.query(
        "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'turret\\_tgen\\_%' ESCAPE '\\'")}
    assert triggered == set(tables) - generation.VOLATILE - {generation.TABLE}
    assert "job_events" in tables and "job_events" not in triggered
    before = generation.read(store)
    with store.transaction():
        store.execute("INSERT INTO login_failures (client, username, at) VALUES ('127.0.0.1', 'kept', 0)")
        store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('kept-counts', '1')")
        store.execute("DELETE FROM login_failures WHERE username = 'kept'")
    assert generation.read(store) == before      # a volatile table's write ends no kept count


def test_a_repeated_count_is_kept_until_a_write(app_state, admin, org):
    for n in range(3):
        _team(admin, org, f"kept-a-{n}")
    path = "/api/v2/teams/?name__startswith=kept-a-&page_size=2"
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 3
    counts, body = _list(app_state, admin, path + "&page=2")       # the next page: same count
    assert counts == [] and body["count"] == 3 and len(body["results"]) == 1
    _team(admin, org, "kept-a-3")
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 4
    assert admin.delete(f"/api/v2/teams/{body['results'][0]['id']}/").status_code == 204
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 3


def test_another_connections_write_ends_a_kept_count(app_state, admin, org):
    """A second Store on the same file is what another process (a web worker, a job worker)
    has: its commit moves the counter every process reads."""
    for n in range(3):
        _team(admin, org, f"kept-b-{n}")
    path = "/api/v2/teams/?name__startswith=kept-b-&page_size=2"
    assert _list(app_state, admin, path)[1]["count"] == 3
    other = Store(app_state.store.path)
    try:
        with other.transaction():
            other.execute("INSERT INTO teams (name, description, organization) VALUES ('kept-b-x', '', ?)",
                          (org["id"],))
    finally:
        other.close()
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 4


def test_a_rolled_back_write_changes_nothing(app_state, admin, org):
    for n in range(3):
        _team(admin, org, f"kept-c-{n}")
    path = "/api/v2/teams/?name__startswith=kept-c-&page_size=2"
    assert _list(app_state, admin, path)[1]["count"] == 3
    store, before = app_state.store, generation.read(app_state.store)
    with pytest.raises(RuntimeError), store.transaction():
        store.execute("INSERT INTO teams (name, description, organization) VALUES ('kept-c-x', '', ?)", (org["id"],))
        # inside the transaction nothing is kept: this count sees a row that will not be
        assert store.count("teams", "name LIKE 'kept-c-%'") == 4
        raise RuntimeError("roll back")
    assert generation.read(store) == before
    counts, body = _list(app_state, admin, path)
    assert counts == [] and body["count"] == 3


def test_each_user_gets_the_count_of_what_they_see(app_state, admin, org, make_user):
    """The same URL by two users: the member's visibility is in the statement, so the admin's
    kept count is never theirs."""
    teams = [_team(admin, org, f"kept-d-{n}") for n in range(3)]
    uid, member = make_user()
    role = teams[0]["summary_fields"]["object_roles"]["read_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    member.get("/api/v2/me/")      # a first sign-in writes; done before the counts are kept
    path = "/api/v2/teams/?name__startswith=kept-d-&page_size=1"
    assert len(_list(app_state, admin, path)[0]) == 1
    assert _list(app_state, member, path)[1]["count"] == 1
    for _ in range(2):
        assert _list(app_state, admin, path)[1]["count"] == 3
        counts, body = _list(app_state, member, path)
        assert counts == [] and body["count"] == 1
    # the member loses the role: a write to the role tables, so their next count is fresh
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role, "disassociate": True}).status_code == 204
    counts, body = _list(app_state, member, path)
    assert body["count"] == 0 and body["results"] == []


def test_volatile_statements_and_transactions_are_never_kept(app_state):
    store = app_state.store
    with traced(store) as seen:
        store.count("job_events", "job = ?", (-1,))
        store.count("job_events", "job = ?", (-1,))
    assert [s for s in seen if s.startswith("SELECT count(*)")] == \
        ['SELECT count(*) FROM "job_events" WHERE job = -1'] * 2
    assert not [s for s in seen if s.startswith(GENERATION_READ)]
    with store.transaction(), traced(store) as seen:
        store.count("teams", "id = ?", (-1,))
        store.count("teams", "id = ?", (-1,))
    assert len([s for s in seen if s.startswith("SELECT count(*)")]) == 2


def test_kept_counts_are_bounded(app_state, monkeypatch):
    monkeypatch.setattr(generation, "KEPT", 3)
    counts = generation.Answers(frozenset({"teams"}))
    computed = []
    for n in range(5):
        counts.get(app_state.store, f"SELECT count(*) FROM teams WHERE id > {n}", (), False,
                   lambda n=n: computed.append(n) or n)
    assert len(counts._kept) == 3
    counts.get(app_state.store, "SELECT count(*) FROM teams WHERE id > 4", (), False,
               lambda: computed.append(-1) or -1)
    counts.get(app_state.store, "SELECT count(*) FROM teams WHERE id > 0", (), False, lambda: computed.append(0) or 0)
    assert computed == [0, 1, 2, 3, 4, 0]     # 4 was kept; 0 had been dropped first


def test_a_missing_trigger_is_put_back_on_start(app_state):
    store = app_state.store
    with store.transaction():
        store.execute('DROP TRIGGER "turret_tgen_insert_teams"')
    before = generation.read(store)
    store.keep_counts()
    with store.transaction():
        store.execute("INSERT INTO teams (name, description, organization) VALUES ('kept-e', '', NULL)")
    assert generation.read(store) == before + 1
    with traced(store) as seen:
        store.keep_counts()        # all in place: no trigger written again
    assert not [s for s in seen if s.startswith(("CREATE TRIGGER", "DROP TRIGGER"))]


def test_the_unified_lists_keep_their_count_too(app_state, admin, org):
    """/unified_job_templates/ counts a union over every template table, each with its trigger."""
    def made(name: str) -> None:
        resp = admin.post("/api/v2/workflow_job_templates/", {"name": name, "organization": org["id"]})
        assert resp.status_code == 201, resp.json
    for n in range(3):
        made(f"kept-u-{n}")
    path = "/api/v2/unified_job_templates/?name__startswith=kept-u-&page_size=2"
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 3
    counts, body = _list(app_state, admin, path)
    assert counts == [] and body["count"] == 3
    made("kept-u-3")
    counts, body = _list(app_state, admin, path)
    assert len(counts) == 1 and body["count"] == 4
    assert {r["name"] for r in body["results"]} <= {f"kept-u-{n}" for n in range(4)}


def test_long_statements_are_not_kept_and_values_keep_their_type(app_state, admin, org):
    """A filter's values have no length limit: a long one is counted, never kept (1024 of them
    would otherwise hold their text); and 1 and 1.0 are one key to Python but not one value to
    SQLite, where a text column compares '1' and '1.0' apart."""
    long_value = "x" * (generation.KEY_CHARS + 1)
    store = app_state.store
    with traced(store) as seen:
        for _ in range(2):
            assert store.count("teams", "name != ?", (long_value,)) >= 1
    assert len([s for s in seen if s.startswith("SELECT count(*)")]) == 2
    _team(admin, org, "1")
    assert store.count("teams", "name = ?", (1,)) == 1
    assert store.count("teams", "name = ?", (1.0,)) == 0        # '1.0' is no team's name
    assert store.count("teams", "name = ?", (True,)) == 1


def test_tables_created_after_the_triggers_are_volatile(app_state):
    """A table its module creates on first use (after keep_counts put the triggers in place on
    start) would have its writes unseen until the next start: it must be volatile."""
    import re
    from pathlib import Path

    import controller
    existing = set(generation._tables(app_state.store))
    named = set()
    for path in Path(controller.__file__).parent.rglob("*.py"):
        named |= set(re.findall(r'CREATE TABLE IF NOT EXISTS "?(\w+)"?', path.read_text()))
    assert {"oauth_codes", "login_failures", "settings"} <= named
    assert named - existing <= generation.VOLATILE, named - existing


def test_a_write_elsewhere_keeps_the_count(app_state, admin, org):
    """Each table has its own counter: a write to a table the count does not read (a job)
    leaves it kept; a write to the table behind the FTS index a search reads ends it (a role
    write ending a member's count: test_each_user_gets_the_count_of_what_they_see)."""
    for n in range(3):
        _team(admin, org, f"kept-f-{n}")
    path = "/api/v2/teams/?name__startswith=kept-f-&page_size=2"
    assert _list(app_state, admin, path)[1]["count"] == 3
    store = app_state.store
    with store.transaction():
        store.execute("INSERT INTO jobs (name, status, launch_type) VALUES ('kept-f-job', 'new', 'manual')")
        store.execute("UPDATE jobs SET status = 'failed' WHERE name = 'kept-f-job'")
    counts, body = _list(app_state, admin, path)
    assert counts == [] and body["count"] == 3
    # search= reads the trigram index, which stands for the teams table
    search = "/api/v2/teams/?search=kept-f-&page_size=2"
    assert _list(app_state, admin, search)[1]["count"] == 3
    assert _list(app_state, admin, search)[0] == []
    _team(admin, org, "kept-f-3")
    counts, body = _list(app_state, admin, search)
    assert len(counts) == 1 and body["count"] == 4


def test_the_tables_a_count_reads():
    counted = frozenset({"teams", "organizations", "roles", "role_members", "jobs"})
    sql = ('SELECT count(*) FROM "teams" WHERE "teams"."organization" IN (SELECT "_q1"."id" FROM '
           '"organizations" "_q1" WHERE "_q1"."name" = ?) AND "teams"."id" IN (SELECT rowid FROM '
           '"turret_text_teams" WHERE "turret_text_teams" MATCH ?) AND EXISTS (SELECT 1 FROM roles r '
           'JOIN role_members m ON m.role_id = r.id)')
    assert generation.reads(sql, counted) == ("organizations", "role_members", "roles", "teams")
    assert generation.reads('SELECT count(*) FROM "turret_text_hosts"', counted) == ()


def test_the_one_counter_of_an_earlier_version_is_replaced(tmp_path):
    """A database from before per-table counters: one row, triggers raising it.  The next start
    drops both (an earlier version's process then fails on its next count rather than serving
    a stale one) and counts on the new table."""
    store = Store(str(tmp_path / "old.sqlite3"))
    try:
        with store.transaction():
            store.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)")
            store.execute('CREATE TABLE "turret_generation" (n INTEGER NOT NULL)')
            store.execute('INSERT INTO "turret_generation" (n) VALUES (7)')
            store.execute('CREATE TRIGGER "turret_gen_insert_teams" AFTER INSERT ON "teams" '
                          'BEGIN UPDATE "turret_generation" SET n = n + 1; END')
        store.keep_counts()
        names = {r[0] for r in store.query("SELECT name FROM sqlite_master")}
        assert "turret_generation" not in names and "turret_gen_insert_teams" not in names
        assert {"turret_tgen_insert_teams", "turret_tgen_update_teams", "turret_tgen_delete_teams"} <= names
        assert [tuple(r) for r in store.query(f'SELECT tbl, n FROM "{generation.TABLE}"')] == [("teams", 0)]
        with store.transaction():
            store.execute("INSERT INTO teams (name) VALUES ('a')")
        assert generation.read(store, ["teams"]) == 1
        assert store.count("teams", "name = ?", ("a",)) == 1
        with store.transaction():
            store.execute("INSERT INTO teams (name) VALUES ('a')")
        assert store.count("teams", "name = ?", ("a",)) == 2
    finally:
        store.close()


def test_counters_only_grow(tmp_path):
    """A table dropped keeps its counter row (a sum that went down could match an old label);
    created again, its counter goes on from where it was."""
    store = Store(str(tmp_path / "grow.sqlite3"))
    try:
        with store.transaction():
            store.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)")
        store.keep_counts()
        with store.transaction():
            store.execute("INSERT INTO teams (name) VALUES ('a')")
            store.execute("DROP TABLE teams")
        store.keep_counts()
        assert generation.read(store) == 1
        with store.transaction():
            store.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)")
        store.keep_counts()
        with store.transaction():
            store.execute("INSERT INTO teams (name) VALUES ('b')")
        assert generation.read(store, ["teams"]) == 2
    finally:
        store.close()


@contextmanager
def _database(tmp_path, *statements: str) -> Iterator[Store]:
    """A store on a new file in ``tmp_path`` holding what ``statements`` create; closed after."""
    store = Store(str(tmp_path / "made.sqlite3"))
    try:
        with store.transaction():
            for sql in statements:
                store.execute(sql)
        yield store
    finally:
        store.close()


def test_a_virtual_table_of_someone_else_does_not_stop_a_start(tmp_path):
    """An FTS5 table made beside Turret's (by an operator, a tool) cannot carry a trigger (the
    start used to fail with "cannot create triggers on virtual tables"), and a trigger on its
    shadow tables fires inside the module's own write (SQLite 3.40 crashes on the insert below)."""
    with _database(tmp_path, "CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)",
                   "CREATE TABLE job_templates (id INTEGER PRIMARY KEY, name TEXT)",
                   "CREATE VIRTUAL TABLE notes USING fts5(body)",
                   "CREATE VIRTUAL TABLE job USING fts5(body)") as store:     # named like a prefix of ours
        store.keep_counts()
        counted = {r[0] for r in store.query(f'SELECT tbl FROM "{generation.TABLE}"')}
        assert {"teams", "job_templates"} <= counted
        assert not {n for n in counted if n.startswith("notes") or n in ("job", "job_data", "job_idx")}
        with store.transaction():
            store.execute("INSERT INTO teams (name) VALUES ('a')")
            store.execute("INSERT INTO notes (body) VALUES ('b')")
        assert generation.read(store, ["teams"]) == 1


def test_before_sqlite_lists_its_tables_shadow_tables_are_known_by_name(tmp_path, monkeypatch):
    """SQLite before 3.37 has no ``pragma_table_list``: virtual tables are read from their
    statement and their shadow tables from the names fts3/4/5 and rtree give them."""
    with _database(tmp_path, "CREATE TABLE job_templates (id INTEGER PRIMARY KEY, name TEXT)",
                   "CREATE VIRTUAL TABLE job USING fts5(body)") as store:
        query = store.query

        def without_table_list(sql, params=()):
            if "pragma_table_list" in sql:
                raise sqlite3.OperationalError("no such table: pragma_table_list")
            return query(sql, params)
        monkeypatch.setattr(store, "query", without_table_list)
        assert generation._tables(store) == ["job_templates"]

"""Trigram indexes (controller.store.search) behind ``search=`` and ``__icontains``: created on
start, kept in step with their tables by triggers, rebuilt when missing, and never changing
an answer: every query returns exactly the rows the plain LIKE/instr path returns."""
from __future__ import annotations

import pytest

from controller.query import compile_query
from controller.query.text import phrase
from controller.store import search

pytestmark = pytest.mark.skipif(not search.supported(), reason="SQLite without FTS5 trigram")

ORG_NAMES = ["Ünïcode Org", "plain org", "100% org_x"]
# (name, description): Unicode case pairs, LIKE wildcards, quotes, backslashes, emoji, tabs,
# 1-2 character names, NUL-free but otherwise hostile text
TEAMS = [
    ("Ünïcode Team", "ÜNÏCODE description"), ("ünïcode lower", "üNï mixed"), ("straße", "STRASSE upper"),
    ("İstanbul", "istanbul ISTANBUL"), ("Kelvin \u212a sign", "kelvin k KELVIN"), ("100% sure", "50%% off"),
    ("under_score", "underXscore"), ('say "hi"', "it's quoted"), ("back\\slash", "a\\b\\c"),
    ("emoji 🚀 rocket", "🚀🚀🚀"), ("tab\tsep", "  spaced  out  "), ("ab", "a"), ("x", ""),
    ("Alpha Bravo", "charlie DELTA echo"), ("ALPHA-bravo", None), ("ǅemal dz", "ǄEMAL"),
]
TERMS = ["a", "ab", "AB", "%", "_", "100%", "_sc", "er_s", "r_s", '"hi"', "'s", "\\sl", "\\b\\",
         "ünï", "ÜNÏ", "üNï", "Ünïcode", "straß", "STRA", "sse", "İst", "ist", "IST", "\u212a s", "kelvin",
         "KELVIN", "🚀 r", "🚀🚀", "ro", "  s", "tab\tsep", "zzz", "nic", "NIC", "o t", "team",
         "%%%", "___", '"""', "alpha bravo", "alpha,DELTA", "pha-b", "ǆem", "ǅEM", "50%%"]


@pytest.fixture(scope="module")
def seeded(app_state, admin):
    orgs = []
    for name in ORG_NAMES:
        resp = admin.post("/api/v2/organizations/", {"name": name})
        assert resp.status_code == 201, resp.json
        orgs.append(resp.json["id"])
    ids = []
    for n, (name, description) in enumerate(TEAMS):
        body = {"name": name, "organization": orgs[n % len(orgs)]}
        if description is not None:
            body["description"] = description
        resp = admin.post("/api/v2/teams/", body)
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
    if TEAMS[-2][1] is None:   # a NULL description, not only empty ones
        app_state.store.execute("UPDATE teams SET description = NULL WHERE id = ?", (ids[-2],))
    return ids


def _ids(state, resource: str, args: list[tuple[str, str]], indexed: bool) -> list[int]:
    res = state.registry[resource]
    compiled = compile_query(state.registry, res, args,
                             text_index=state.store.text_indexes if indexed else None)
    rows = state.store.query(f'SELECT id FROM "{res.table}" WHERE {compiled.where} ORDER BY id', compiled.params)
    return [r[0] for r in rows]


def test_indexes_exist_for_what_people_write_and_not_for_logs(app_state):
    indexes = app_state.store.text_indexes
    assert indexes["teams"] == ("turret_text_teams", frozenset({"name", "description"}))
    assert "organizations" in indexes and "users" in indexes and "hosts" in indexes
    # rows only the system writes keep their write path: no trigger, no index
    for table in ("job_events", "activity_stream", "jobs", "ad_hoc_commands", "project_updates"):
        assert table not in indexes
    names = {r[0] for r in app_state.store.query("SELECT name FROM sqlite_master WHERE name LIKE 'turret_text_%'")}
    assert {"turret_text_teams", "turret_text_teams_ins", "turret_text_teams_upd",
            "turret_text_teams_del"} <= names
    assert not any(n.startswith("turret_text_job_events") for n in names)


@pytest.mark.parametrize("key", ["search", "name__icontains", "description__icontains", "name__contains",
                                 "not__name__icontains", "organization__name__icontains", "organization__search",
                                 "or__description__icontains"])
def test_results_equal_the_like_path_on_hostile_terms(app_state, seeded, key):
    """The narrowed SQL finds exactly what the LIKE/instr SQL finds, term by term (Unicode case
    pairs the index folds and LIKE does not, wildcards, quotes, 1-2 characters ...)."""
    some_match = False
    for term in TERMS:
        args = [(key, term)]
        if key.startswith("or__"):
            args.append(("or__name__icontains", term))
        plain = _ids(app_state, "team", args, indexed=False)
        assert _ids(app_state, "team", args, indexed=True) == plain, (key, term)
        some_match = some_match or bool(set(plain) & set(seeded))
    assert some_match


def test_long_terms_use_the_index_and_short_ones_do_not(app_state):
    reg, idx = app_state.registry, app_state.store.text_indexes
    team = reg["team"]
    long_ = compile_query(reg, team, [("search", "alpha")], text_index=idx)
    assert 'MATCH ?' in long_.where and long_.params[0] == '"alpha"'
    assert "MATCH" not in compile_query(reg, team, [("search", "al")], text_index=idx).where
    quoted = compile_query(reg, team, [("name__icontains", 'say "hi"')], text_index=idx)
    assert quoted.params[0] == '"say ""hi"""'
    assert "MATCH" not in compile_query(reg, team, [("search", "alpha")]).where   # no index given


def test_the_index_alone_decides_icontains_and_narrows_contains(app_state, seeded):
    """The index holds ``lower()``'s text and matches case-sensitively: a folded phrase finds
    exactly LIKE's rows, so ``search=`` and ``__icontains`` test nothing else; a case-sensitive
    ``__contains`` still tests ``instr`` on the rows it finds."""
    reg, idx = app_state.registry, app_state.store.text_indexes
    team = reg["team"]
    for args in ([("search", "ALPHA")], [("name__icontains", "ALPHA")], [("organization__search", "ÜNÏ Org")]):
        compiled = compile_query(reg, team, args, text_index=idx)
        assert "MATCH ?" in compiled.where and "LIKE" not in compiled.where and "instr" not in compiled.where, args
    assert compile_query(reg, team, [("search", "ALPHA")], text_index=idx).params == ['"alpha"']
    assert compile_query(reg, team, [("search", "ÜNÏ")], text_index=idx).params == ['"ÜnÏ"']   # only ASCII folded
    sensitive = compile_query(reg, team, [("name__contains", "Alpha")], text_index=idx)
    assert "MATCH ?" in sensitive.where and "instr(" in sensitive.where
    assert sensitive.params == ['"alpha"', "Alpha"]
    assert _ids(app_state, "team", [("name__contains", "Alpha")], indexed=True) == \
        [pk for pk, (name, _) in zip(seeded, TEAMS) if "Alpha" in name]


def _legacy_index(store) -> None:
    """What an earlier version keeps for teams: ``turret_search_teams`` over the raw text with the
    Unicode-folding tokenizer, and its three triggers."""
    store.execute("""CREATE VIRTUAL TABLE "turret_search_teams" USING fts5("name", "description", tokenize='trigram')""")
    store.execute('INSERT INTO "turret_search_teams" (rowid, "name", "description") SELECT id, name, description FROM teams')
    put = ('INSERT OR REPLACE INTO "turret_search_teams" (rowid, "name", "description") '
           'VALUES (NEW."id", NEW."name", NEW."description");')
    store.execute(f'CREATE TRIGGER "turret_search_teams_ins" AFTER INSERT ON "teams" BEGIN {put} END')
    store.execute(f'CREATE TRIGGER "turret_search_teams_upd" AFTER UPDATE OF "name", "description" ON "teams" '
                  f'BEGIN {put} END')
    store.execute('CREATE TRIGGER "turret_search_teams_del" AFTER DELETE ON "teams" BEGIN '
                  'DELETE FROM "turret_search_teams" WHERE rowid = OLD."id"; END')


def _names(store, prefix: str) -> set[str]:
    return {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE name LIKE ? ESCAPE '\\'",
                                      (prefix.replace("_", "\\_") + "%",))}


def test_an_earlier_versions_index_is_dropped_on_start_and_never_read(app_state, admin, seeded):
    """An earlier version's narrowing index (another name, Unicode case folded by its tokenizer):
    this version never reads it, so a process of either version answers by its own index; the
    next start of this version drops it."""
    store, reg = app_state.store, app_state.registry
    with store.transaction():
        _legacy_index(store)          # as an earlier version started beside this one makes it
    lower_team = seeded[TEAMS.index(("ünïcode lower", "üNï mixed"))]
    assert lower_team in {r[0] for r in store.query(
        'SELECT rowid FROM "turret_search_teams" WHERE "turret_search_teams" MATCH ?', ('"ÜNÏCODE LOWER"',))}
    # both kept in step by their triggers meanwhile; this version's answers stay LIKE's
    resp = admin.post("/api/v2/teams/", {"name": "Legacy-Beside", "organization": None})
    assert resp.status_code in (201, 400), resp.json
    for term in ("ÜNÏ", "ünï", "team", "KELVIN", "legacy"):
        assert _ids(app_state, "team", [("search", term)], indexed=True) == \
            _ids(app_state, "team", [("search", term)], indexed=False), term
    assert _names(store, "turret_search_")
    store.migrate(reg)
    assert _names(store, "turret_search_") == set()
    assert {"turret_text_teams", "turret_text_teams_ins", "turret_text_teams_upd", "turret_text_teams_del"} <= \
        _names(store, "turret_text_")
    assert lower_team not in _index_hits(app_state, "ÜNÏCODE LOWER")
    unicode_team = seeded[TEAMS.index(("Ünïcode Team", "ÜNÏCODE description"))]
    assert store.scalar('SELECT "name" FROM "turret_text_teams" WHERE rowid = ?', (unicode_team,)) == "Ünïcode team"


def test_a_term_without_letters_agrees_with_the_index_past_a_nul(app_state, admin, make_org):
    """The tokenizer stops at a NUL in the text, as LIKE does and ``instr`` does not: a term the
    index could answer is tested with LIKE without the index too, letters or not."""
    store = app_state.store
    org = make_org()
    resp = admin.post("/api/v2/teams/", {"name": "nul-team", "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    with store.transaction():     # rows the system writes may hold a NUL; the API refuses one
        store.execute("UPDATE teams SET description = ? WHERE id = ?", ("x\x00 123", resp.json["id"]))
    for key, term in (("search", "123"), ("description__icontains", "123"), ("search", "x\x00 1"),
                      ("description__icontains", "x\x00 1"), ("search", "x")):
        assert _ids(app_state, "team", [(key, term)], indexed=True) == \
            _ids(app_state, "team", [(key, term)], indexed=False), (key, term)
    assert resp.json["id"] not in _ids(app_state, "team", [("search", "123")], indexed=False)
    assert resp.json["id"] in _ids(app_state, "team", [("search", "x")], indexed=False)


def test_search_plan_reads_the_index_not_the_whole_table(app_state, seeded):
    reg = app_state.registry
    compiled = compile_query(reg, reg["team"], [("search", "ünïcode")], text_index=app_state.store.text_indexes)
    plan = " | ".join(r[3] for r in app_state.store.query(
        f'EXPLAIN QUERY PLAN SELECT count(*) FROM "teams" WHERE {compiled.where}', compiled.params))
    assert "turret_text_teams VIRTUAL TABLE" in plan
    assert "SCAN teams" not in plan, plan


def _index_hits(state, term: str) -> set[int]:
    return {r[0] for r in state.store.query(
        'SELECT rowid FROM "turret_text_teams" WHERE "turret_text_teams" MATCH ?', (phrase(term),))}


def test_index_follows_create_update_delete(app_state, admin, make_org):
    org = make_org()
    resp = admin.post("/api/v2/teams/", {"name": "Zebracrossing", "description": "stripes", "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    pk = resp.json["id"]
    assert _index_hits(app_state, "ebracross") == {pk}
    assert [t["id"] for t in admin.get("/api/v2/teams/?search=EBRACROSS").json["results"]] == [pk]

    assert admin.patch(f"/api/v2/teams/{pk}/", {"name": "Okapi herd"}).status_code == 200
    assert _index_hits(app_state, "ebracross") == set()
    assert _index_hits(app_state, "kapi her") == {pk}
    assert _index_hits(app_state, "stripes") == {pk}           # the unchanged column stays found
    assert admin.get("/api/v2/teams/?search=zebracrossing").json["count"] == 0
    body = admin.get("/api/v2/teams/?name__icontains=KAPI").json
    assert [t["id"] for t in body["results"]] == [pk]

    # a change of a column the index does not hold leaves it alone
    app_state.store.execute("UPDATE teams SET modified = modified WHERE id = ?", (pk,))
    assert _index_hits(app_state, "kapi her") == {pk}

    assert admin.delete(f"/api/v2/teams/{pk}/").status_code == 204
    assert _index_hits(app_state, "kapi her") == set()
    assert _index_hits(app_state, "stripes") == set()
    count = app_state.store.scalar('SELECT count(*) FROM "turret_text_teams"')
    assert count == app_state.store.scalar("SELECT count(*) FROM teams")


def test_missing_index_or_trigger_is_rebuilt_on_start(app_state, seeded):
    store, reg = app_state.store, app_state.registry
    with store.transaction():
        store.execute('DROP TRIGGER "turret_text_teams_ins"')
        # a row written while the trigger was missing: the rebuild must find it
        store.execute("INSERT INTO teams (name, description, organization) VALUES ('Ghost written', '', NULL)")
        ghost = store.scalar("SELECT max(id) FROM teams")
        store.execute('DROP TABLE "turret_text_organizations"')
    assert _index_hits(app_state, "ghost writ") == set()
    store.migrate(reg)
    assert _index_hits(app_state, "ghost writ") == {ghost}
    assert store.text_indexes["organizations"][0] == "turret_text_organizations"
    # the index holds ``lower()``'s text: ASCII letters folded, the Ü kept
    assert {r[0] for r in store.query("SELECT rowid FROM turret_text_organizations WHERE turret_text_organizations"
                                      " MATCH ?", ('"Ünïcode org"',))} == \
        {r[0] for r in store.query("SELECT id FROM organizations WHERE name = 'Ünïcode Org'")}
    # the start after that finds everything in place and rebuilds nothing
    before = store.scalar("SELECT sql FROM sqlite_master WHERE name = 'turret_text_teams'")
    assert search._ours(store) == {name: sql for t, cols in
                                   {t: search.indexed_columns(r) for r in reg for t in [r.table]}.items() if cols
                                   for name, sql in search._statements(t, cols).items()}
    store.migrate(reg)
    assert store.scalar("SELECT sql FROM sqlite_master WHERE name = 'turret_text_teams'") == before
    with store.transaction():
        store.execute("DELETE FROM teams WHERE id = ?", (ghost,))


def test_which_resources_get_an_index():
    from controller.registry import Field, Resource
    plain = Resource("gadget", "gadgets", [Field("serial", "string")], search_fields=("name", "serial"))
    assert search.indexed_columns(plain) == ("name", "serial")
    numeric = Resource("gizmo", "gizmos", [Field("size", "integer")], search_fields=("name", "size"))
    assert search.indexed_columns(numeric) == ()          # CAST-to-text tests are not indexed
    logged = Resource("entry", "entries", [], search_fields=("name",), creatable=False, updatable=False)
    assert search.indexed_columns(logged) == ()
    reserved = Resource("ranked", "rankeds", [Field("rank", "string")], search_fields=("name", "rank"))
    assert search.indexed_columns(reserved) == ()         # FTS5 refuses a column named rank

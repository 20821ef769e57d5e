"""Hostile input never reaches a 500: every case answers a clean AWX-shaped 400/404.

Integers beyond 64 bits (path ids, filters, paging, stdout lines, association bodies), non
ASCII digits as ids, JSON that Python accepts but SQLite or a recursive walk cannot take
(deep nesting, lone surrogates, NaN/Infinity), NUL bytes in text, and SQL injection attempts
in filters — with the database checked unchanged afterwards.
"""
from __future__ import annotations

import json

import pytest

from controller.store import jobs as q
from tests.support.jobs import launch, make_inventory, make_jt, make_org, make_project

BIG = "999999999999999999999"        # > 2**64
INT64_MAX = 2 ** 63 - 1
PLAY = {"site.yml": "- hosts: all\n  gather_facts: false\n  tasks: []\n"}


@pytest.fixture(scope="module")
def world(admin, app_state) -> dict:
    """An org, project, inventory, host, template and a (pending, never run) job."""
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, PLAY)
    inventory = make_inventory(admin, org)
    jt = make_jt(admin, project, inventory, "site.yml")
    job = launch(admin, jt)
    app_state.store.execute("CREATE TABLE IF NOT EXISTS canary (secret TEXT)")
    app_state.store.execute("INSERT INTO canary VALUES ('still here')")
    return {"org": org, "project": project, "inventory": inventory, "jt": jt, "job": job}


def _snapshot(store) -> dict[str, int]:
    """Every table's row count (sqlite_master included), to prove nothing was written."""
    tables = [r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {"sqlite_master": len(tables), **{t: store.count(t) for t in tables}}


def _detail(resp) -> str:
    assert set(resp.json) == {"detail"} and isinstance(resp.json["detail"], str), resp.json
    return resp.json["detail"]


# -- integers beyond 64 bits -------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("plural", ["organizations", "job_templates", "hosts", "jobs", "users"])
def test_a_path_id_beyond_64_bits_is_not_found(admin, world, plural, method):
    resp = admin.request(method, f"/api/v2/{plural}/{BIG}/", json={} if method in ("PUT", "PATCH") else None)
    assert resp.status_code == 404 and _detail(resp) == "Not found."


@pytest.mark.parametrize("url", [
    f"/api/v2/organizations/{BIG}/users/", f"/api/v2/inventories/{BIG}/hosts/",
    f"/api/v2/job_templates/{BIG}/launch/", f"/api/v2/jobs/{BIG}/relaunch/", f"/api/v2/jobs/{BIG}/cancel/",
    f"/api/v2/jobs/{BIG}/stdout/", f"/api/v2/projects/{BIG}/copy/", f"/api/v2/projects/{BIG}/update/",
    f"/api/v2/inventories/{BIG}/variable_data/", f"/api/v2/job_templates/{BIG}/survey_spec/",
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sub_lists_and_actions_of_an_id_beyond_64_bits_are_not_found(admin, world, url, method):
    if method == "POST" and url.endswith(("stdout/", "variable_data/")):
        method = "GET"          # POST is 405 there (decided before the id), covered elsewhere
    resp = admin.request(method, url, json={} if method == "POST" else None)
    assert resp.status_code == 404 and _detail(resp) == "Not found."


@pytest.mark.parametrize("query", [
    f"id={BIG}", f"id__gt={BIG}", f"id__lte=-{BIG}", f"id__in=1,{BIG}", f"not__id={BIG}", f"or__id={BIG}",
    f"organization={BIG}", f"organization__in={BIG}", f"max_hosts={BIG}", f"max_hosts__gte={BIG}",
    f"created_by__id={BIG}", f"id={INT64_MAX + 1}", "id=1_000", "id=%C2%B3",
])
def test_a_filter_integer_beyond_64_bits_or_not_ascii_is_a_400(admin, world, query):
    resp = admin.get(f"/api/v2/organizations/?{query}")
    assert resp.status_code == 400, resp.json
    assert _detail(resp)


def test_the_largest_64_bit_integers_still_filter(admin, world):
    for query in (f"id={INT64_MAX}", f"id__gt={INT64_MAX}", f"id__gte=-{INT64_MAX + 1}"):
        resp = admin.get(f"/api/v2/organizations/?{query}")
        assert resp.status_code == 200, (query, resp.json)
    assert admin.get(f"/api/v2/organizations/?id__gte=-{INT64_MAX + 1}").json["count"] >= 1
    assert admin.get(f"/api/v2/organizations/?id={INT64_MAX}").json["count"] == 0


@pytest.mark.parametrize("url", ["/api/v2/job_events/?counter=" + BIG, "/api/v2/job_events/?job=" + BIG,
                                 "/api/v2/hosts/?inventory=" + BIG, "/api/v2/jobs/?job_template__in=" + BIG])
def test_filters_on_other_resources_refuse_overflowing_integers(admin, world, url):
    resp = admin.get(url)
    assert resp.status_code == 400 and _detail(resp)


@pytest.mark.parametrize("args", [f"page={BIG}", f"page={INT64_MAX}&count_disabled=1",
                                  f"page={BIG}&count_disabled=1", "page=%D9%A1"])
def test_a_page_beyond_any_offset_is_invalid(admin, world, args):
    resp = admin.get(f"/api/v2/organizations/?{args}")
    assert resp.status_code == 404 and _detail(resp) == "Invalid page."


def test_a_page_size_beyond_64_bits_falls_back_to_the_default(admin, world):
    resp = admin.get(f"/api/v2/organizations/?page_size={BIG}")
    assert resp.status_code == 200 and resp.json["count"] >= 1
    assert len(resp.json["results"]) == min(resp.json["count"], 25)


@pytest.mark.parametrize("args", [f"start_line={BIG}", f"end_line={BIG}", f"start_line={BIG}&end_line={BIG}",
                                  "start_line=%D9%A1", f"start_line=-{BIG}"])
def test_stdout_line_bounds_beyond_64_bits(admin, world, args):
    job = world["job"]["id"]
    resp = admin.get(f"/api/v2/jobs/{job}/stdout/?format=json&{args}")
    assert resp.status_code == 200, resp.json
    assert resp.json["content"] == ""


def test_an_events_stream_resumed_after_a_huge_counter_ends_cleanly(admin, app_state, world):
    job = launch(admin, world["jt"])["id"]
    q.set_fields(app_state.store, "jobs", job, {"status": "canceled", "event_processing_finished": True})
    for headers, query in (({"Last-Event-ID": BIG}, ""), ({}, f"?after={BIG}"), ({}, "?after=%D9%A1")):
        resp = admin.get(f"/api/v2/jobs/{job}/events_stream/{query}", headers=headers)
        assert resp.status_code == 200
        assert resp.get_data(as_text=True) == 'event: end\ndata: {"status": "canceled"}\n\n'


@pytest.mark.parametrize("raw", [2 ** 70, -(2 ** 70), BIG, "³", "١", 1.5, True, None])
def test_an_association_id_that_is_no_64_bit_integer_is_a_400(admin, world, raw):
    org = world["org"]["id"]
    before = admin.get(f"/api/v2/organizations/{org}/users/").json["count"]
    resp = admin.post(f"/api/v2/organizations/{org}/users/", {"id": raw})
    assert resp.status_code == 400 and resp.json == {"msg": '"id" field must be an integer.'}
    assert admin.get(f"/api/v2/organizations/{org}/users/").json["count"] == before


@pytest.mark.parametrize("value", [2 ** 64, -(2 ** 64), 10 ** 30])
def test_a_body_integer_beyond_64_bits_is_a_field_error(admin, world, value):
    resp = admin.post("/api/v2/organizations/", {"name": "too-big", "max_hosts": value})
    assert resp.status_code == 400 and list(resp.json) == ["max_hosts"]
    resp = admin.post("/api/v2/hosts/", {"name": "h-big", "inventory": value})
    assert resp.status_code == 400 and list(resp.json) == ["inventory"]
    assert admin.get("/api/v2/organizations/?name=too-big").json["count"] == 0


# -- digits that are not ASCII -----------------------------------------------------------------
def test_only_ascii_digits_are_ids_other_digits_are_names(admin, world):
    assert admin.get("/api/v2/organizations/1/").status_code == 200
    for ident in ("%C2%B3", "%D9%A1", "%EF%BC%91"):       # superscript 3, Arabic-Indic 1, fullwidth 1
        resp = admin.get(f"/api/v2/organizations/{ident}/")
        assert resp.status_code == 404 and _detail(resp) == "Not found.", ident
        assert admin.get(f"/api/v2/organizations/{ident}/users/").status_code == 404
        assert admin.get(f"/api/v2/job_templates/{ident}/launch/").status_code == 404
    # "١" is a fine name, and then the named URL finds that organization, not id 1
    named = admin.post("/api/v2/organizations/", {"name": "١"}).json
    assert named["id"] != 1
    assert admin.get("/api/v2/organizations/%D9%A1/").json["id"] == named["id"]
    assert admin.delete(f"/api/v2/organizations/{named['id']}/").status_code == 204


# -- JSON that parses in Python but must not be accepted ----------------------------------------
def _post_raw(admin, url: str, text: str):
    return admin.http.open(url, method="POST", data=text.encode("utf-8", "surrogatepass"),
                           headers={**admin.headers, "Content-Type": "application/json"})


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body", [
    '{"name": "deep", "description": ' + _nested(65) + '}',
    '{"name": "deep", "description": ' + _nested(5000) + '}',
    _nested(200000),
    '{"a":' * 100 + '1' + '}' * 100,
])
def test_deeply_nested_json_is_a_parse_error(admin, app_state, world, body):
    before = _snapshot(app_state.store)
    resp = _post_raw(admin, "/api/v2/organizations/", body)
    assert resp.status_code == 400
    assert _detail(resp).startswith("JSON parse error - nesting deeper than 64 levels")
    assert _snapshot(app_state.store) == before


def test_json_nested_up_to_the_limit_is_accepted(admin, world):
    value: object = "leaf"
    for _ in range(63):
        value = {"k": value}
    # the body is level 1: 63 more objects inside it reach the limit exactly (unknown keys are ignored)
    resp = admin.post("/api/v2/organizations/", {"name": "deep-ok", "extra": value})
    assert resp.status_code == 201, resp.json
    resp = admin.post("/api/v2/organizations/", {"name": "deep-no", "extra": {"k": value}})
    assert resp.status_code == 400 and "nesting deeper than 64 levels" in _detail(resp)
    assert admin.get("/api/v2/organizations/?name=deep-no").json["count"] == 0


def test_nan_or_deep_nesting_inside_a_json_text_field_is_a_field_error(admin, world):
    for text in ('{"fields": [{"id": "x", "label": NaN}]}', '{"fields": ' + _nested(70) + "}",
                 '{"fields": "\\ud800"}'):
        resp = admin.post("/api/v2/credential_types/", {"name": "ct-nan", "kind": "cloud", "inputs": text})
        assert resp.status_code == 400 and list(resp.json) == ["inputs"], resp.json
        assert resp.json["inputs"][0].startswith("Invalid JSON: ")
    assert admin.get("/api/v2/credential_types/?name=ct-nan").json["count"] == 0


@pytest.mark.parametrize("body", ['{"name": "\\ud800"}', '{"name": "ok\\udfff"}', '{"\\ud83d": 1, "name": "x"}',
                                  '{"name": "x", "description": ["\\udc00"]}'])
def test_lone_surrogates_in_json_strings_are_a_parse_error(admin, app_state, world, body):
    before = _snapshot(app_state.store)
    resp = _post_raw(admin, "/api/v2/organizations/", body)
    assert resp.status_code == 400 and _detail(resp).startswith("JSON parse error - lone surrogate")
    assert _snapshot(app_state.store) == before


def test_a_valid_surrogate_pair_is_an_ordinary_character(admin, world):
    resp = _post_raw(admin, "/api/v2/organizations/", '{"name": "rocket \\ud83d\\ude80"}')
    assert resp.status_code == 201 and resp.json["name"] == "rocket \U0001F680"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_nan_and_infinity_are_a_parse_error(admin, app_state, world, literal):
    before = _snapshot(app_state.store)
    for url, body in (("/api/v2/organizations/", '{"name": "nan", "max_hosts": %s}'),
                      (f"/api/v2/job_templates/{world['jt']['id']}/launch/", '{"extra_vars": {"x": %s}}')):
        resp = _post_raw(admin, url, body % literal)
        assert resp.status_code == 400 and _detail(resp).startswith("JSON parse error - "), (url, resp.json)
    assert _snapshot(app_state.store) == before


def _strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"{name} in an answer is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_answers_are_strict_json_even_when_yaml_variables_hold_nan(admin, world):
    """YAML ``.nan``/``.inf`` are valid variables; answers render them as null, never as NaN."""
    resp = admin.post("/api/v2/hosts/", {"name": "h-nan", "inventory": world["inventory"]["id"],
                                         "variables": "a: .nan\nb: -.inf\nc: [1, .inf]\nd: 1.5"})
    assert resp.status_code == 201, resp.json
    data = _strict_json(admin.get(f"/api/v2/hosts/{resp.json['id']}/variable_data/").get_data(as_text=True))
    assert data == {"a": None, "b": None, "c": [1, None], "d": 1.5}
    assert "a: .nan" in admin.get(f"/api/v2/hosts/{resp.json['id']}/").json["variables"]   # stored verbatim


# -- NUL bytes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("url,body,field", [
    ("/api/v2/organizations/", {"name": "a\x00b"}, "name"),
    ("/api/v2/organizations/", {"name": "ok-nul", "description": "d\x00"}, "description"),
    ("/api/v2/teams/", {"name": "t\x00", "organization": 1}, "name"),
    ("/api/v2/users/", {"username": "u\x00", "password": "pw"}, "username"),
    ("/api/v2/projects/", {"name": "p-nul", "local_path": "dir\x00/../../etc", "organization": 1}, "local_path"),
])
def test_nul_in_text_fields_is_a_field_error(admin, app_state, world, url, body, field):
    before = _snapshot(app_state.store)
    resp = admin.post(url, body)
    assert resp.status_code == 400 and resp.json[field] == ["Null characters are not allowed."], resp.json
    assert _snapshot(app_state.store) == before


def test_nul_in_an_update_and_in_a_host_name(admin, world):
    org = world["org"]
    resp = admin.patch(f"/api/v2/organizations/{org['id']}/", {"name": "x\x00"})
    assert resp.status_code == 400 and resp.json == {"name": ["Null characters are not allowed."]}
    assert admin.get(f"/api/v2/organizations/{org['id']}/").json["name"] == org["name"]
    resp = admin.post("/api/v2/hosts/", {"name": "h\x00", "inventory": world["inventory"]["id"]})
    assert resp.status_code == 400 and resp.json == {"name": ["Null characters are not allowed."]}


# -- bad bytes in the URL itself ---------------------------------------------------------------
@pytest.mark.parametrize("query", ["name=%ED%A0%80", "%ED%A0%80=1", "name=%00", "name__regex=%00%ff",
                                   "search=%ED%A0%80%00", "order_by=%ED%A0%80", "name=%C0%AF", "id=%00"])
def test_undecodable_bytes_in_a_query_string(admin, app_state, world, query):
    # the raw WSGI QUERY_STRING, exactly as a server passes it on
    resp = admin.http.get("/api/v2/organizations/", environ_overrides={"QUERY_STRING": query},
                          headers=admin.headers)
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    assert isinstance(resp.json, dict) and ("results" in resp.json or "detail" in resp.json)


@pytest.mark.parametrize("segment", ["%ED%A0%80", "%00", "a%00b", "%FF%FE", "..%2F..%2Fetc"])
def test_undecodable_or_nul_bytes_in_a_path_id(admin, world, segment):
    for url in (f"/api/v2/organizations/{segment}/", f"/api/v2/job_templates/{segment}/launch/"):
        resp = admin.get(url)
        assert resp.status_code == 404 and _detail(resp) == "Not found.", url


# -- injection attempts in filters -------------------------------------------------------------
INJECTIONS = [
    "name=x' OR '1'='1", "name__regex=.*'; DROP TABLE canary; --", "name__iregex=(?i)a|b)",
    "or__name=x' OR 1=1 --", "or__name__icontains=%' OR 1=1 --", "not__name=\" OR \"\"=\"",
    'name";DROP TABLE canary;--=x', "name) OR (1=1=x", "organization__name__in=a',(SELECT secret FROM canary)",
    "order_by=;DROP TABLE canary", "order_by=name;DROP TABLE canary", "order_by=-(SELECT 1)",
    "order_by=name,\"id\" DESC", "search=' OR 1=1 --", "search=%' UNION SELECT secret FROM canary --",
    "chain__name__startswith=_%", "name__contains=%", "name__endswith=';--", "role_level=admin_role'--",
    "id__in=1) OR (1=1", "created__gt=2020' OR '1'='1", "host_filter=name='x' OR 1=1",
]


@pytest.mark.parametrize("query", INJECTIONS)
def test_sql_injection_attempts_in_filters_change_nothing(admin, app_state, world, query):
    before = _snapshot(app_state.store)
    resp = admin.get("/api/v2/organizations/", query_string=query)
    assert resp.status_code in (200, 400, 403), resp.json
    if resp.status_code == 200:
        # a value is only ever a value: nothing matches more than a literal would
        assert all("secret" not in json.dumps(o) for o in resp.json["results"])
        assert "still here" not in resp.get_data(as_text=True)
    else:
        assert _detail(resp)
    assert _snapshot(app_state.store) == before
    assert [tuple(r) for r in app_state.store.query("SELECT secret FROM canary")] == [("still here",)]


def test_sql_in_a_stored_value_is_stored_verbatim(admin, app_state, world):
    name = "x'); DROP TABLE canary; --"
    resp = admin.post("/api/v2/organizations/", {"name": name})
    assert resp.status_code == 201 and resp.json["name"] == name
    found = admin.get("/api/v2/organizations/", query_string={"name": name}).json
    assert [o["id"] for o in found["results"]] == [resp.json["id"]]
    assert app_state.store.count("canary") == 1


@pytest.mark.parametrize("query", ["name=x' OR '1'='1", "or__name=x' OR 1=1 --", "search=' OR 1=1 --",
                                   "name__regex=.*'; DROP TABLE canary; --", "name__contains=%"])
def test_an_injected_value_is_a_literal_that_matches_nothing(admin, world, query):
    assert admin.get("/api/v2/organizations/").json["count"] >= 1
    resp = admin.get("/api/v2/organizations/", query_string=query)
    assert resp.status_code == 200 and resp.json["count"] == 0 and resp.json["results"] == []

"""Generic API behaviour, parametrized over the resource registry.

Every test that takes ``res`` runs once per declared resource (ids = URL plural), so a resource
added to ``controller.resources`` is covered without touching this file.  When a new resource
needs special values to be created (a playbook that must exist, a choice that depends on
another field...), add an entry to ``FACTORIES`` instead of special-casing tests.

The contract is AWX API v2 as written down in shared/reference/awx-api.md (§1, §2, §4.1, §5, §8).
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.resources import ENCRYPTED, build_registry
from controller.services.bootstrap import ensure_admin

try:  # tests/controller/conftest.py: the same module pytest loaded (shared name counter)
    from conftest import ADMIN_PASSWORD, Client, unique
except ImportError:  # pragma: no cover - if tests/controller becomes a package
    from .conftest import ADMIN_PASSWORD, Client, unique

REG = build_registry()
RESOURCES = REG.endpoints()   # views too (/constructed_inventories/): the generic contract holds for them
CREATABLE = [r for r in RESOURCES if r.creatable]
NAMED = [r for r in RESOURCES if r.named_url]
SUBLISTS = [(r, rel) for r in RESOURCES for rel in r.relations]


def _rid(res) -> str:
    return res.plural


def _sid(pair) -> str:
    return f"{pair[0].plural}-{pair[1].name}"


per_resource = pytest.mark.parametrize("res", RESOURCES, ids=_rid)
per_creatable = pytest.mark.parametrize("res", CREATABLE, ids=_rid)
per_named = pytest.mark.parametrize("res", NAMED, ids=_rid)
per_sublist = pytest.mark.parametrize("pair", SUBLISTS, ids=_sid)

MISSING = 999999
NOT_FOUND = {"detail": "Not found."}
# AWX writes microseconds, except schedule times (dtstart, next_run) which are whole seconds
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
AWX_TYPES = {"string", "integer", "boolean", "choice", "datetime", "float", "field", "list",
             "nested object", "email", "id", "json", "object", "list_of_ids"}
CONTENT_TYPE_DETAIL = ("You did not use correct Content-Type in your HTTP request. If you are using our "
                       "REST API, the Content-Type must be application/json")


def method_not_allowed(method: str) -> dict:
    return {"detail": f'Method "{method}" not allowed.'}


# -- building valid objects from declarations ------------------------------------------------
# Resources whose required fields need more than "any value of the right kind".
# plural -> fn(client) -> body.  Dependencies must be created through the API.
FACTORIES: dict[str, Callable[[Client], dict]] = {
    # the password is not a required *field* (PUT may omit it) but a new user needs one
    "users": lambda c: {"username": unique("user"), "password": "pw-" + unique("p")},
    "tokens": lambda c: {"description": unique("token"), "application": None, "scope": "write"},
    # an OAuth2 application: the password grant needs no redirect URIs
    "applications": lambda c: {"name": unique("app"), "client_type": "confidential",
                               "authorization_grant_type": "password",
                               "organization": create(c, REG["organization"])["id"]},
    # a manual project: its folder must exist under <DATA_DIR>/projects (no SCM sync needed)
    "projects": lambda c: {"name": unique("project"), "local_path": _project_folder(c)},
    # custom credential types must be "cloud" or "net"
    "credential_types": lambda c: {"name": unique("ctype"), "kind": "cloud",
                                   "inputs": {"fields": [{"id": "api_key", "label": "API key", "type": "string",
                                                          "secret": True}]},
                                   "injectors": {"env": {"MY_API_KEY": "{{ api_key }}"}}},
    # a job template runs a playbook that its (manual) project really holds
    "job_templates": lambda c: {"name": unique("jt"), "project": create(c, REG["project"])["id"],
                                "playbook": "site.yml", "inventory": create(c, REG["inventory"])["id"]},
    # a credential needs an owner (user, team or organization)
    "credentials": lambda c: {"name": unique("cred"),
                              "credential_type": create(c, REG["credential_type"])["id"],
                              "organization": create(c, REG["organization"])["id"],
                              "inputs": {"api_key": "s3cret-" + unique("k")}},
    # an inventory source reads a file of a (manual) project
    "inventory_sources": lambda c: {"name": unique("source"), "inventory": create(c, REG["inventory"])["id"],
                                    "source": "scm", "source_path": "site.yml",
                                    "source_project": create(c, REG["project"])["id"]},
    # a schedule needs a template to launch and a valid AWX rule
    "schedules": lambda c: {"name": unique("schedule"), "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1",
                            "unified_job_template": create(c, REG["job_template"])["id"]},
    # an ad hoc command runs a whitelisted module against an inventory (it stays pending: no workers here)
    "ad_hoc_commands": lambda c: {"inventory": create(c, REG["inventory"])["id"], "module_name": "ping"},
    # a custom role definition lists permissions of one content type; assignments name an object of it
    "role_definitions": lambda c: {"name": unique("rd"), "content_type": "awx.inventory",
                                   "permissions": ["awx.view_inventory", "awx.use_inventory"]},
    "role_user_assignments": lambda c: {"role_definition": _managed_definition(c, "Inventory Use"),
                                        "object_id": str(create(c, REG["inventory"])["id"]),
                                        "user": create(c, REG["user"])["id"]},
    "role_team_assignments": lambda c: {"role_definition": _managed_definition(c, "Inventory Use"),
                                        "object_id": str(create(c, REG["inventory"])["id"]),
                                        "team": create(c, REG["team"])["id"]},
    # an input source: an input of a credential whose value an external (Vault) credential looks up
    "credential_input_sources": lambda c: {"target_credential": create(c, REG["credential"])["id"],
                                           "input_field_name": "api_key", "source_credential": _lookup_credential(c),
                                           "metadata": {"secret_path": "/kv/x", "secret_key": "k"}},
}


def _lookup_credential(client: Client) -> int:
    kv = client.get("/api/v2/credential_types/", query_string={"namespace": "hashivault_kv"}).json["results"][0]
    return client.post("/api/v2/credentials/", {
        "name": unique("lookup"), "credential_type": kv["id"], "organization": create(client, REG["organization"])["id"],
        "inputs": {"url": "http://127.0.0.1:8200", "token": "t", "api_version": "v1"}}).json["id"]


def _managed_definition(client: Client, name: str) -> int:
    return client.get("/api/v2/role_definitions/", query_string={"name": name}).json["results"][0]["id"]


def _project_folder(client: Client) -> str:
    name = unique("folder")
    folder = client.app.config["TURRET"].settings.data_dir / "projects" / name
    folder.mkdir(parents=True)
    (folder / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    return name


def _value_for(client: Client, field, depth: int) -> Any:
    kind = field.kind
    if kind == "id":
        return create(client, REG[field.fk], depth + 1)["id"]
    if kind == "choice":
        return next((c[0] for c in field.choices if c[0] not in ("", None)), field.choices[0][0])
    if kind == "integer":
        return field.min_value if field.min_value is not None else 1
    if kind == "float":
        return float(field.min_value) if field.min_value is not None else 1.0
    if kind == "boolean":
        return True
    if kind in ("json", "vars"):
        return {}
    if kind == "datetime":
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "email":
        return f"{unique('m')}@example.com"
    value = unique(field.name)
    return value[-field.max_length:] if field.max_length else value


def build_body(client: Client, res, depth: int = 0) -> dict:
    """A minimal valid create body: the factory's, or every required writable field filled."""
    if depth > 5:
        raise AssertionError(f"FK chain too deep while building {res.plural}")
    if res.plural in FACTORIES:
        return FACTORIES[res.plural](client)
    return {f.name: _value_for(client, f, depth) for f in res.fields if f.writable and f.required}


def create(client: Client, res, depth: int = 0, **overrides: Any) -> dict:
    """Create one object of ``res`` through the API and return the POST response body."""
    if not res.creatable:
        raise AssertionError(f"{res.plural} is not creatable")
    body = {**build_body(client, res, depth), **overrides}
    resp = client.post(res.list_url, body)
    assert resp.status_code == 201, (
        f"creating {res.plural} with {body!r} gave {resp.status_code} {resp.get_json()!r}; "
        f"add a FACTORIES entry if it needs special values")
    return resp.get_json()


@pytest.fixture(scope="module")
def seeded(admin) -> None:
    """One object of every creatable resource, so roles and activity entries exist too.

    Best effort: a resource that cannot be created fails its own create tests, not everyone's.
    """
    for res in CREATABLE:
        try:
            create(admin, res)
        except AssertionError:
            pass


@pytest.fixture()
def sample(admin, seeded):
    """sample(res) -> the detail body of an object of ``res`` (created when creatable)."""
    def get(res) -> dict:
        if res.creatable:
            obj = create(admin, res)
        else:
            listed = admin.get(f"{res.list_url}?page_size=1").get_json()
            if not listed.get("results"):
                pytest.skip(f"{res.plural} is not creatable and none exist")
            obj = listed["results"][0]
        resp = admin.get(obj["url"])
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()
    return get


def three_ids(admin, res) -> list[int]:
    if res.creatable:
        return sorted(create(admin, res)["id"] for _ in range(3))
    got = admin.get(f"{res.list_url}?page_size=3").get_json()["results"]
    if len(got) < 3:
        pytest.skip(f"fewer than 3 {res.plural} exist and they cannot be created")
    return sorted(o["id"] for o in got)


def same_value(sent: Any, got: Any) -> bool:
    """Was ``sent`` stored as ``got``?  Secrets inside JSON (credential inputs) come back masked."""
    if got == ENCRYPTED and sent not in ("", None):
        return True
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(same_value(sent[k], got[k]) for k in sent)
    return sent == got


def stored_view(res, obj: dict) -> dict:
    """The parts of an object that only a write can change (computed values such as a job's
    elapsed time or a project's status may move on their own)."""
    keys = ["id", "type", "url"] + (["created", "modified"] if res.timestamps else [])
    keys += [f.name for f in res.fields if f.stored and f.visible]
    return {k: obj.get(k) for k in keys}


def is_relative(url: str) -> bool:
    return url.startswith("/api/") and "://" not in url


def _detail_methods(res) -> set[str]:
    methods = {"GET", "HEAD", "OPTIONS"}
    if res.updatable:
        methods |= {"PUT", "PATCH"}
    if res.deletable:
        methods.add("DELETE")
    return methods


def _allow(resp) -> set[str]:
    return {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


# -- lists -----------------------------------------------------------------------------------
@per_resource
def test_list_envelope(admin, seeded, res):
    resp = admin.get(res.list_url)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert isinstance(body["count"], int) and isinstance(body["results"], list)
    assert body["previous"] is None
    assert len(body["results"]) == min(body["count"], 25)
    assert (body["next"] is None) == (body["count"] <= 25)
    if body["next"]:
        assert body["next"].startswith(res.list_url + "?")
    for obj in body["results"]:
        assert obj["type"] == res.name
        assert obj["url"] == res.url(obj["id"]) and is_relative(obj["url"])
    assert _allow(resp) == ({"GET", "POST", "HEAD", "OPTIONS"} if res.creatable else {"GET", "HEAD", "OPTIONS"})


@per_resource
def test_list_needs_authentication(anon, res):
    for method in ("GET", "OPTIONS"):
        resp = anon.request(method, res.list_url)
        assert resp.status_code == 401, (method, resp.get_json())
        assert resp.get_json() == {"detail": "Authentication credentials were not provided. To establish a "
                                             "login session, visit /api/login/."}
        assert resp.headers["WWW-Authenticate"] == "Bearer realm=api authorization_url=/api/o/authorize/"


@pytest.fixture(scope="module")
def nobody(make_user) -> Client:
    """A user holding no role at all."""
    return make_user()[1]


@per_resource
def test_unprivileged_user_can_list_and_probe(admin, seeded, nobody, res):
    """A user with no roles gets answers (maybe empty lists), never a server error."""
    user = nobody
    resp = user.get(res.list_url)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] <= admin.get(res.list_url).get_json()["count"]
    assert user.options(res.list_url).status_code == 200
    assert user.options(f"{res.list_url}{MISSING}/").status_code == 200
    assert user.get(f"{res.list_url}{MISSING}/").get_json() == NOT_FOUND


@per_resource
def test_pagination(admin, res):
    ids = three_ids(admin, res)
    scope = "id__in=" + ",".join(map(str, ids))
    first = admin.get(f"{res.list_url}?{scope}&page_size=1&order_by=id")
    assert first.status_code == 200, first.get_json()
    page1 = first.get_json()
    assert page1["count"] == 3 and [o["id"] for o in page1["results"]] == ids[:1]
    assert page1["previous"] is None
    nxt = urlsplit(page1["next"])
    assert nxt.path == res.list_url and not nxt.scheme and not nxt.netloc
    assert parse_qs(nxt.query) == {"id__in": [",".join(map(str, ids))], "page_size": ["1"],
                                   "order_by": ["id"], "page": ["2"]}
    # follow next links to the end: every object exactly once, in order
    seen, url, pages = [], page1["next"], 1
    while url:
        page = admin.get(url).get_json()
        assert page["count"] == 3
        prev = urlsplit(page["previous"])
        assert prev.path == res.list_url
        assert parse_qs(prev.query)["page"] == [str(pages)]
        seen += [o["id"] for o in page["results"]]
        url, pages = page["next"], pages + 1
    assert ids[:1] + seen == ids and pages == 3
    # page 2 with size 2 holds the last one; previous goes back to page 1
    last = admin.get(f"{res.list_url}?{scope}&page_size=2&page=2&order_by=id").get_json()
    assert [o["id"] for o in last["results"]] == ids[2:] and last["next"] is None
    assert parse_qs(urlsplit(last["previous"]).query)["page"] == ["1"]
    # non-numeric / non-positive page_size falls back to the default
    for bad in ("abc", "0", "-3"):
        body = admin.get(f"{res.list_url}?{scope}&page_size={bad}").get_json()
        assert body["count"] == 3 and len(body["results"]) == 3 and body["next"] is None
    # invalid or out-of-range page
    for bad in ("0", "-1", "abc", "3", "99"):
        resp = admin.get(f"{res.list_url}?{scope}&page_size=2&page={bad}")
        assert resp.status_code == 404, (bad, resp.get_json())
        assert resp.get_json() == {"detail": "Invalid page."}


def test_empty_list_first_page_is_fine_second_is_not(admin):
    resp = admin.get("/api/v2/organizations/?id=0&page=1")
    assert resp.status_code == 200
    assert resp.get_json() == {"count": 0, "next": None, "previous": None, "results": []}
    resp = admin.get("/api/v2/organizations/?id=0&page=2")
    assert resp.status_code == 404 and resp.get_json() == {"detail": "Invalid page."}


def test_page_size_is_capped_at_200(admin):
    prefix = unique("cap")
    for i in range(205):
        assert admin.post("/api/v2/organizations/", {"name": f"{prefix}-{i:03d}"}).status_code == 201
    resp = admin.get(f"/api/v2/organizations/?name__startswith={prefix}-&page_size=1000")
    body = resp.get_json()
    assert body["count"] == 205 and len(body["results"]) == 200
    assert [o["name"] for o in body["results"]] == [f"{prefix}-{i:03d}" for i in range(200)]
    nxt = parse_qs(urlsplit(body["next"]).query)
    assert nxt["page_size"] == ["200"] and nxt["page"] == ["2"]
    rest = admin.get(body["next"]).get_json()
    assert [o["name"] for o in rest["results"]] == [f"{prefix}-{i:03d}" for i in range(200, 205)]
    assert rest["next"] is None
    assert parse_qs(urlsplit(rest["previous"]).query)["page_size"] == ["200"]


@per_resource
def test_unknown_filter_field_is_400(admin, res):
    resp = admin.get(f"{res.list_url}?nope=1")
    assert resp.status_code == 400
    assert resp.get_json() == {"detail": f"{res.model_name} has no field named 'nope'"}
    resp = admin.get(f"{res.list_url}?order_by=nope")
    assert resp.status_code == 400
    assert resp.get_json() == {"detail": f"{res.model_name} has no field named 'nope'"}


FORBIDDEN_FILTERS = [(r, f) for r in RESOURCES for f in r.fields if f.forbidden_filter]


@pytest.mark.parametrize("pair", FORBIDDEN_FILTERS, ids=lambda p: f"{p[0].plural}-{p[1].name}")
def test_filter_on_secret_field_is_403(admin, pair):
    res, field = pair
    for query in (f"{field.name}=x", f"{field.name}__startswith=x", f"not__{field.name}=x",
                  f"or__{field.name}__icontains=x", f"order_by={field.name}"):
        resp = admin.get(f"{res.list_url}?{query}")
        assert resp.status_code == 403, (query, resp.get_json())
        detail = resp.get_json()["detail"]
        assert isinstance(detail, str) and detail.startswith("Filtering on") and \
            detail.endswith("is not allowed.") and field.name in detail, detail


# Fields AWX refuses to filter on (reference §4.2: PASSWORD_FIELDS, encrypted fields, prevent_search),
# by resource type name.  Checked for every one that the registry declares.
REFERENCE_FORBIDDEN = {
    "user": ("password",), "credential": ("inputs",), "o_auth2_access_token": ("token",),
    "application": ("client_id", "client_secret"),
    "job_template": ("extra_vars", "survey_spec", "host_config_key", "webhook_key"),
    "job": ("extra_vars", "survey_passwords", "job_args", "job_env", "start_args"),
    "ad_hoc_command": ("extra_vars", "job_args", "job_env", "start_args"),
    "workflow_job_template": ("extra_vars", "survey_spec", "webhook_key"),
    "workflow_job": ("extra_vars", "survey_passwords"),
    "project_update": ("job_args", "job_env", "start_args"),
    "inventory_update": ("job_args", "job_env", "start_args"),
    "system_job": ("extra_vars", "job_args", "job_env", "start_args"),
    "notification_template": ("notification_configuration",),
    "instance_group": ("pod_spec_override",),
}
REFERENCE_FORBIDDEN_DECLARED = [(r, r.field(n)) for r in RESOURCES for n in REFERENCE_FORBIDDEN.get(r.name, ())
                                if r.field(n) is not None]


@pytest.mark.parametrize("pair", REFERENCE_FORBIDDEN_DECLARED, ids=lambda p: f"{p[0].plural}-{p[1].name}")
def test_fields_awx_refuses_to_filter_on_are_refused(admin, pair):
    res, field = pair
    for query in (f"{field.name}__icontains=x", f"not__{field.name}=x", f"order_by=-{field.name}"):
        resp = admin.get(f"{res.list_url}?{query}")
        assert resp.status_code == 403, (query, resp.get_json())
        assert field.name in resp.get_json()["detail"] and "not allowed" in resp.get_json()["detail"]


def test_filter_on_password_through_a_relation_is_403(admin):
    for url in ("/api/v2/organizations/?created_by__password=x",
                "/api/v2/teams/?organization__created_by__password__startswith=scrypt"):
        resp = admin.get(url)
        assert resp.status_code == 403, resp.get_json()
        assert resp.get_json() == {"detail": "Filtering on password is not allowed."}


# -- objects ---------------------------------------------------------------------------------
@per_creatable
def test_create_then_read(admin, res):
    body = build_body(admin, res)
    resp = admin.post(res.list_url, body)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert resp.headers["Location"] == created["url"] == res.url(created["id"])
    assert created["type"] == res.name
    for name, value in body.items():
        field = res.field(name)
        if field.visible and not field.secret and field.kind != "password":
            assert same_value(value, created[name]), (name, value, created[name])
    detail = admin.get(created["url"])
    assert detail.status_code == 200
    got = detail.get_json()
    assert got["id"] == created["id"]
    # what was stored is what is read back (computed one-time values such as a token aside)
    for field in res.fields:
        if field.visible and field.stored:
            assert got[field.name] == created[field.name], field.name
    listed = admin.get(f"{res.list_url}?id={created['id']}").get_json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]


@per_resource
def test_object_shape(admin, sample, res):
    obj = sample(res)
    assert isinstance(obj["id"], int) and obj["id"] > 0
    assert obj["type"] == res.name
    assert obj["url"] == res.url(obj["id"])
    assert list(obj)[:5] == ["id", "type", "url", "related", "summary_fields"]
    assert isinstance(obj["related"], dict) and isinstance(obj["summary_fields"], dict)
    for key, link in obj["related"].items():
        for one in (link if isinstance(link, list) else [link]):
            assert isinstance(one, str) and is_relative(one), (key, one)
    for rel in res.relations:
        assert obj["related"][rel.name] == f"{obj['url']}{rel.name}/"
    if res.timestamps:
        assert DATETIME.match(obj["created"]) and DATETIME.match(obj["modified"])
        assert obj["modified"] >= obj["created"]
    else:
        assert "created" not in obj and "modified" not in obj
    for field in res.fields:
        if field.hidden:
            assert field.name not in obj, field.name
            continue
        if field.kind == "password":
            # AWX shows write-only passwords masked: "password": "$encrypted$"
            assert obj.get(field.name) == ENCRYPTED, field.name
            continue
        if field.secret:
            assert field.name in obj and obj[field.name] in (ENCRYPTED, "", None), field.name
            continue
        if field.write_only:
            assert field.name not in obj, field.name
            continue
        assert field.name in obj, field.name
        value = obj[field.name]
        if field.kind == "id" and value is not None:
            assert isinstance(value, int)
            assert obj["related"][field.name] == REG[field.fk].url(value)
        if field.kind == "boolean":
            # a nullable boolean (a schedule's prompt: null = use the template's) may be null
            assert isinstance(value, bool) or (field.null and value is None), field.name
        if field.kind == "datetime" and value is not None:
            assert DATETIME.match(value), (field.name, value)


@per_resource
def test_missing_object_is_404(admin, res):
    resp = admin.get(f"{res.list_url}{MISSING}/")
    assert resp.status_code == 404 and resp.get_json() == NOT_FOUND
    for method in [m for m in ("PUT", "PATCH", "DELETE") if m in _detail_methods(res)]:
        resp = admin.request(method, f"{res.list_url}{MISSING}/", json={})
        assert resp.status_code == 404 and resp.get_json() == NOT_FOUND, method


def test_unknown_resource_is_404(admin):
    for url in ("/api/v2/nope/", "/api/v2/nope/1/", "/api/v2/organizations/1/nope/"):
        resp = admin.get(url)
        assert resp.status_code == 404 and resp.get_json() == NOT_FOUND, url


@per_resource
def test_methods_not_allowed_are_405(admin, sample, res):
    obj = sample(res)
    resp = admin.post(obj["url"], {})
    assert resp.status_code == 405 and resp.get_json() == method_not_allowed("POST")
    if not res.deletable:
        resp = admin.delete(obj["url"])
        assert resp.status_code == 405 and resp.get_json() == method_not_allowed("DELETE")
    if not res.updatable:
        for method in ("PUT", "PATCH"):
            resp = admin.request(method, obj["url"], json={"description": "x"})
            assert resp.status_code == 405 and resp.get_json() == method_not_allowed(method)
    if not res.creatable:
        before = admin.get(res.list_url).get_json()["count"]
        resp = admin.post(res.list_url, {})
        assert resp.status_code == 405 and resp.get_json() == method_not_allowed("POST")
        assert admin.get(res.list_url).get_json()["count"] == before
    for method in ("PUT", "PATCH", "DELETE"):
        resp = admin.request(method, res.list_url, json={})
        assert resp.status_code == 405 and resp.get_json() == method_not_allowed(method)
    # nothing was changed by any refused request
    again = admin.get(obj["url"])
    assert again.status_code == 200
    assert stored_view(res, again.get_json()) == stored_view(res, obj)


def test_405_carries_allow_header(admin, make_org):
    """DRF sets ``Allow`` on every response of a view, refusals included."""
    org = make_org()
    resp = admin.post(org["url"], {})
    assert resp.status_code == 405
    assert _allow(resp) == {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    role = org["summary_fields"]["object_roles"]["admin_role"]["id"]
    resp = admin.delete(f"/api/v2/roles/{role}/")
    assert resp.status_code == 405
    assert _allow(resp) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("method,path,allowed,anonymous", [
    ("post", "/api/v2/ping/", {"GET", "HEAD", "OPTIONS"}, 405),
    ("put", "/api/login/", {"GET", "POST", "HEAD", "OPTIONS"}, 405),
    ("delete", "/api/v2/me/", {"GET", "HEAD", "OPTIONS"}, 401),
    ("patch", "/api/v2/dashboard/", {"GET", "HEAD", "OPTIONS"}, 401),
    ("put", "/api/v2/config/", {"GET", "POST", "DELETE", "HEAD", "OPTIONS"}, 401),
])
def test_fixed_routes_refuse_a_method_they_lack_with_405(admin, anon, method, path, allowed, anonymous):
    """A fixed address (not a resource of the registry) asked with a method it lacks is AWX's
    405 with its ``Allow``, not the generic views' 404.  Without credentials it is a 405 only
    where anyone may call the address (AWX's AllowAny views), else the 401 DRF answers first;
    an unknown name is a 404 to anyone."""
    def ask(client):
        return client.delete(path) if method == "delete" else getattr(client, method)(path, {})
    resp = ask(admin)
    assert resp.status_code == 405 and resp.get_json() == method_not_allowed(method.upper())
    assert _allow(resp) == allowed
    resp = ask(anon)
    assert resp.status_code == anonymous
    if anonymous == 405:
        assert resp.get_json() == method_not_allowed(method.upper()) and _allow(resp) == allowed
    else:
        assert resp.get_json()["detail"].startswith("Authentication credentials were not provided.")
    for client in (admin, anon):
        for unknown in ("/api/v2/no_such_things/", "/api/v2/no_such_things/1/", "/api/v2/no_such_things/1/x/"):
            resp = client.post(unknown, {})
            assert resp.status_code == 404 and resp.get_json() == {"detail": "Not found."}


# Foreign keys an update may not change (AWX TeamAccess.can_change: a team stays in its
# organization; tests/controller/test_rbac.py checks the refusal).
KEPT_ON_UPDATE = {"teams": ("organization",)}


@per_creatable
def test_put_replaces_and_patch_updates(admin, sample, res):
    if not res.updatable:
        pytest.skip("not updatable")
    obj = sample(res)
    new = {**build_body(admin, res), **{k: obj[k] for k in KEPT_ON_UPDATE.get(res.plural, ())}}
    resp = admin.put(obj["url"], new)
    assert resp.status_code == 200, resp.get_json()
    got = admin.get(obj["url"]).get_json()
    for name, value in new.items():
        field = res.field(name)
        if field.visible and not field.secret and field.kind != "password" and field.writable \
                and not field.create_only:
            assert same_value(value, got[name]), (name, value, got[name])
    required = [f.name for f in res.fields if f.writable and f.required and not f.create_only]
    if required:
        resp = admin.put(obj["url"], {})
        assert resp.status_code == 400
        assert resp.get_json() == {n: ["This field is required."] for n in required}
    # PATCH {} changes nothing
    resp = admin.patch(obj["url"], {})
    assert resp.status_code == 200
    assert stored_view(res, resp.get_json()) == stored_view(res, got)


@per_creatable
def test_delete(admin, res):
    if not res.deletable:
        pytest.skip("not deletable")
    obj = create(admin, res)
    if "cancel" in res.actions and obj.get("status") in ("new", "pending", "waiting", "running"):
        # an active unified job cannot be deleted (AWX: 403); a pending one cancels at once
        refused = admin.delete(obj["url"])
        assert refused.status_code == 403
        assert refused.get_json() == {"detail": "Cannot delete running job resource."}
        assert admin.post(f"{obj['url']}cancel/").status_code == 202
        assert admin.get(obj["url"]).get_json()["status"] == "canceled"
    resp = admin.delete(obj["url"])
    assert resp.status_code == res.delete_status and resp.get_data() == b""
    assert admin.get(obj["url"]).get_json() == NOT_FOUND
    assert admin.get(f"{res.list_url}?id={obj['id']}").get_json()["count"] == 0
    assert admin.delete(obj["url"]).status_code == 404


# -- OPTIONS ---------------------------------------------------------------------------------
def _check_field_infos(section: dict, where: str) -> None:
    for name, info in section.items():
        assert info.get("type") in AWX_TYPES, (where, name, info)
        assert isinstance(info.get("label", ""), str)
        if info["type"] == "choice":
            assert info["choices"] and all(isinstance(c, list) and len(c) == 2 for c in info["choices"]), name


@per_resource
def test_options_on_list(admin, res):
    resp = admin.options(res.list_url)
    assert resp.status_code == 200
    meta = resp.get_json()
    for key in ("name", "description", "renders", "parses", "actions", "types", "search_fields",
                "related_search_fields", "object_roles", "max_page_size"):
        assert key in meta, key
    assert meta["max_page_size"] == 200 and meta["types"] == [res.name]
    assert meta["object_roles"] == [r.field for r in res.roles]
    assert set(meta["actions"]) <= {"GET", "POST"}      # the awx CLI raises on anything else
    assert ("POST" in meta["actions"]) == res.creatable
    get = meta["actions"]["GET"]
    implicit = ["id", "type", "url", "related", "summary_fields"] + (["created", "modified"] if res.timestamps else [])
    assert list(get)[:len(implicit)] == implicit
    assert get["type"]["choices"][0][0] == res.name
    for field in res.fields:
        shown = field.visible and not (field.write_only and not field.secret)
        assert (field.name in get) == shown, field.name
        if shown:
            assert get[field.name]["filterable"] == bool(field.filterable), field.name
    _check_field_infos(get, "GET")
    for info in get.values():
        for dropped in ("required", "read_only", "default", "max_length", "min_length"):
            assert dropped not in info
    if res.creatable:
        post = meta["actions"]["POST"]
        assert set(post) == {f.name for f in res.fields if f.writable}
        _check_field_infos(post, "POST")
        for name, info in post.items():
            field = res.field(name)
            assert info["required"] is field.required, name
            assert info["type"] == field.api_type, name
            if field.max_length and field.kind in ("string", "email", "password"):
                assert info["max_length"] == field.max_length, name
            if field.kind == "choice":
                declared = [c[0] for c in field.choices]
                assert [c[0] for c in info["choices"]] in (declared, [""] + declared), name
    assert _allow(resp) == ({"GET", "POST", "HEAD", "OPTIONS"} if res.creatable else {"GET", "HEAD", "OPTIONS"})


@per_resource
def test_options_on_missing_detail_answers_with_allow(admin, res):
    resp = admin.options(f"{res.list_url}{MISSING}/")
    assert resp.status_code == 200
    assert _allow(resp) == _detail_methods(res)
    assert set(resp.get_json()["actions"]) == {"GET"}   # no object, so no PUT


@per_resource
def test_options_on_existing_detail(admin, sample, res):
    obj = sample(res)
    resp = admin.options(obj["url"])
    assert resp.status_code == 200
    assert _allow(resp) == _detail_methods(res)
    actions = resp.get_json()["actions"]
    assert set(actions) == ({"GET", "PUT"} if res.updatable else {"GET"})
    if res.updatable:
        assert set(actions["PUT"]) == {f.name for f in res.fields if f.writable}
        _check_field_infos(actions["PUT"], "PUT")


# -- request bodies --------------------------------------------------------------------------
@per_creatable
def test_unknown_and_read_only_body_fields_are_ignored(admin, res):
    body = {**build_body(admin, res), "nope": 1, "id": 424242, "type": "zzz", "url": "/x/",
            "related": {"a": "/b/"}, "created": "2000-01-01T00:00:00.000000Z"}
    resp = admin.post(res.list_url, body)
    assert resp.status_code == 201, resp.get_json()
    obj = resp.get_json()
    assert obj["id"] != 424242 and obj["type"] == res.name and obj["url"] == res.url(obj["id"])
    assert "nope" not in obj
    if res.timestamps:
        assert not obj["created"].startswith("2000")
    for field in res.fields:
        if field.read_only and field.stored and field.kind not in ("id", "datetime") and field.visible:
            before = obj[field.name]
            if res.updatable:
                resp = admin.patch(obj["url"], {field.name: "changed-zz" if field.kind == "string" else 12345})
                assert resp.status_code == 200, (field.name, resp.get_json())
                assert admin.get(obj["url"]).get_json()[field.name] == before, field.name
    if res.updatable:
        resp = admin.patch(obj["url"], {"nope": 2, "id": 1})
        assert resp.status_code == 200 and resp.get_json()["id"] == obj["id"]


@per_creatable
def test_malformed_bodies(admin, res):
    before = admin.get(res.list_url).get_json()["count"]
    json_header = {"Content-Type": "application/json"}
    resp = admin.post(res.list_url, data='{"name": "x",}', headers=json_header)
    assert resp.status_code == 400
    detail = resp.get_json()["detail"]
    assert detail.startswith("JSON parse error - ") and detail.endswith("\nPossible cause: trailing comma.")
    for raw in ("[1, 2]", '"text"', "42", "null", "true"):
        resp = admin.post(res.list_url, data=raw, headers=json_header)
        assert resp.status_code == 400, raw
        assert resp.get_json() == {"detail": "JSON parse error - not a JSON object"}, raw
    resp = admin.post(res.list_url, data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415 and resp.get_json() == {"detail": CONTENT_TYPE_DETAIL}
    resp = admin.post(res.list_url, data="name: x", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and resp.get_json() == {"detail": CONTENT_TYPE_DETAIL}
    resp = admin.post(res.list_url, data=b"\xff\xfe{", headers=json_header)
    assert resp.status_code == 400 and resp.get_json()["detail"].startswith("JSON parse error")
    assert admin.get(res.list_url).get_json()["count"] == before


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("small")), "MAX_BODY_BYTES": 1000},
                                environ={}))
    ensure_admin(state, ADMIN_PASSWORD)
    yield create_app(state=state)
    state.store.close()


def test_body_over_limit_is_413_json(small_app):
    admin = Client(small_app, "admin", ADMIN_PASSWORD)
    ok = admin.post("/api/v2/organizations/", {"name": "small", "description": "d" * 100})
    assert ok.status_code == 201
    resp = admin.post("/api/v2/organizations/", {"name": "big", "description": "d" * 2000})
    assert resp.status_code == 413
    assert resp.mimetype == "application/json"
    detail = resp.get_json()["detail"]
    assert isinstance(detail, str) and "1000" in detail
    resp = admin.patch(ok.get_json()["url"], {"description": "e" * 5000})
    assert resp.status_code == 413 and resp.mimetype == "application/json"
    names = [o["name"] for o in admin.get("/api/v2/organizations/").get_json()["results"]]
    assert names == ["small"]
    assert admin.get(ok.get_json()["url"]).get_json()["description"] == "d" * 100


# -- validation ------------------------------------------------------------------------------
WRONG_VALUES: dict[str, tuple[Any, Callable[[Any], str] | None]] = {
    "string": ({"a": 1}, lambda v: "Not a valid string."),
    "text": ([1, 2], lambda v: "Not a valid string."),
    "email": ("not-an-email", lambda v: "Enter a valid email address."),
    "password": ({"a": 1}, lambda v: "Not a valid string."),
    "integer": ("not-an-int", lambda v: "A valid integer is required."),
    "float": ("not-a-number", lambda v: "A valid number is required."),
    "boolean": ("maybe", lambda v: "Must be a valid boolean."),
    "choice": ("no-such-choice-zz", lambda v: f'"{v}" is not a valid choice.'),
    "id": ("abc", lambda v: "Incorrect type. Expected pk value, received str."),
    "datetime": ("not a date", None),   # DRF appends the accepted formats
}


@per_creatable
def test_wrong_types_for_every_field(admin, res):
    fields = [f for f in res.fields if f.writable and f.kind in WRONG_VALUES]
    if not fields:
        pytest.skip("no writable field with a checkable type")
    before = admin.get(res.list_url).get_json()["count"]
    body = {f.name: WRONG_VALUES[f.kind][0] for f in fields}
    resp = admin.post(res.list_url, body)
    assert resp.status_code == 400, resp.get_json()
    errors = resp.get_json()
    assert set(errors) == {f.name for f in fields}
    for field in fields:
        value, message = WRONG_VALUES[field.kind]
        assert isinstance(errors[field.name], list) and all(isinstance(m, str) for m in errors[field.name])
        if message:
            assert errors[field.name] == [message(value)], field.name
        else:
            assert errors[field.name][0].startswith("Datetime has wrong format."), field.name
    assert admin.get(res.list_url).get_json()["count"] == before


@per_creatable
def test_required_blank_max_length_fk_and_choice_messages(admin, res):
    base = build_body(admin, res)
    required = [f for f in res.fields if f.writable and f.required]
    if required:
        resp = admin.post(res.list_url, {})
        assert resp.status_code == 400
        assert resp.get_json() == {f.name: ["This field is required."] for f in required}
    for field in res.fields:
        if not field.writable:
            continue
        cases: list[tuple[Any, str]] = []
        if field.required and field.kind in ("string", "text", "email"):
            cases += [("", "This field may not be blank.")]
            if field.kind != "text":
                cases += [("   ", "This field may not be blank.")]
        if field.max_length and field.kind in ("string", "email", "password"):
            too_long = "x" * (field.max_length + 1)
            if field.kind == "email":   # a well-formed address, so only the length is wrong
                too_long = too_long[len("@example.com"):] + "@example.com"
            cases.append((too_long,
                          f"Ensure this field has no more than {field.max_length} characters."))
        if field.kind == "id":
            cases.append((MISSING, f'Invalid pk "{MISSING}" - object does not exist.'))
            cases.append((str(MISSING), f'Invalid pk "{MISSING}" - object does not exist.'))
        if field.kind == "choice":
            cases.append(("zz-nope", '"zz-nope" is not a valid choice.'))
        if field.kind in ("integer", "float") and field.min_value is not None:
            cases.append((field.min_value - 1, f"Ensure this value is greater than or equal to {field.min_value}."))
        if field.kind in ("integer", "float") and field.max_value is not None:
            cases.append((field.max_value + 1, f"Ensure this value is less than or equal to {field.max_value}."))
        for value, message in cases:
            resp = admin.post(res.list_url, {**base, field.name: value})
            assert resp.status_code == 400, (field.name, value, resp.get_json())
            assert resp.get_json() == {field.name: [message]}, (field.name, value)


# Django model fields with their own "unique" error message (DRF's UniqueValidator uses it).
UNIQUE_MESSAGES = {("users", "username"): "A user with that username already exists."}


@per_creatable
def test_unique_fields_and_unique_together(admin, res):
    single = [f for f in res.fields if f.unique and f.writable]
    if not single and not res.unique_together:
        pytest.skip("no uniqueness declared")
    body = build_body(admin, res)
    for group in res.unique_together:       # fill optional FKs too: NULL never collides in AWX
        for name in group:
            field = res.field(name)
            if body.get(name) is None and field.writable:
                body[name] = _value_for(admin, field, 0)
    first = admin.post(res.list_url, body)
    assert first.status_code == 201, first.get_json()
    again = admin.post(res.list_url, body)
    assert again.status_code == 400, again.get_json()
    verbose = res.verbose_name[:1].upper() + res.verbose_name[1:]
    expected = {f.name: [UNIQUE_MESSAGES.get((res.plural, f.name),
                                             f"{verbose} with this {f.verbose_label()} already exists.")]
                for f in single if f.name in body}
    for group in res.unique_together:
        if all(g in body for g in group):
            labels = " and ".join(res.field(g).verbose_label() for g in group)
            expected["__all__"] = [f"{verbose} with this {labels} already exists."]
    assert again.get_json() == expected
    # updating another object onto the taken values fails the same way; itself is fine
    if res.updatable:
        changeable = {f.name for f in res.fields if f.writable and not f.create_only}
        expected_on_update = {k: v for k, v in expected.items() if k != "__all__"}
        for group in res.unique_together:
            if set(group) <= changeable and all(g in body for g in group):
                expected_on_update["__all__"] = expected["__all__"]
        if expected_on_update:
            other = create(admin, res)
            taken = {k: v for k, v in body.items() if k in changeable and
                     (k in expected_on_update or any(k in g for g in res.unique_together))}
            resp = admin.patch(other["url"], taken)
            assert resp.status_code == 400 and resp.get_json() == expected_on_update
            assert admin.patch(first.get_json()["url"], taken).status_code == 200


_FUZZ_POOL = [None, True, False, 0, -1, 2 ** 31, 2 ** 64, 1.5, float("1e308"), "", " ", "x" * 600,
              "ünïcødé ☃", "1", "null", "true", [], [1, "a"], {}, {"a": {"b": [1]}}, ENCRYPTED,
              "../../etc/passwd", "'; DROP TABLE users; --", "\x00nul", "%s%n{0}"]


@per_creatable
def test_huge_integers_are_400_not_500(admin, res):
    fields = [f for f in res.fields if f.writable and f.kind in ("integer", "id")]
    if not fields:
        pytest.skip("no integer or FK field")
    base = build_body(admin, res)
    for field in fields:
        for value in (2 ** 64, -(2 ** 64), str(2 ** 70)):
            resp = admin.post(res.list_url, {**base, field.name: value})
            assert resp.status_code == 400, (field.name, value, resp.status_code, resp.get_json())
            body = resp.get_json()
            assert isinstance(body.get(field.name), list) and all(isinstance(m, str) for m in body[field.name]), body


def _assert_error_shape(body: Any) -> None:
    assert isinstance(body, dict) and body, body
    for key, value in body.items():
        if key in ("detail", "msg", "error"):
            assert isinstance(value, (str, list)), body
        else:
            assert isinstance(value, list) and all(isinstance(m, str) for m in value), body


@per_creatable
def test_fuzzed_bodies_never_500(admin, sample, res):
    rng = random.Random(f"fuzz-{res.plural}")
    writable = [f.name for f in res.fields if f.writable]
    base = build_body(admin, res)
    target = sample(res)
    for _ in range(6):
        picked = rng.sample(writable, k=rng.randint(1, len(writable))) if writable else []
        body = {**base, **{n: rng.choice(_FUZZ_POOL) for n in picked}, unique("junk"): rng.choice(_FUZZ_POOL)}
        resp = admin.post(res.list_url, body)
        assert resp.status_code in (201, 400, 403), (body, resp.status_code, resp.get_json())
        if resp.status_code == 201:
            assert admin.get(resp.get_json()["url"]).status_code == 200
        else:
            _assert_error_shape(resp.get_json())
        if res.updatable:
            patch = {n: rng.choice(_FUZZ_POOL) for n in picked}
            resp = admin.patch(target["url"], patch)
            assert resp.status_code in (200, 400, 403), (patch, resp.status_code, resp.get_json())
            if resp.status_code != 200:
                _assert_error_shape(resp.get_json())
            assert admin.get(target["url"]).status_code == 200


def test_concrete_validation_messages(admin, make_org):
    resp = admin.post("/api/v2/organizations/", {"name": "", "max_hosts": "abc"})
    assert resp.status_code == 400
    assert resp.get_json() == {"name": ["This field may not be blank."], "max_hosts": ["A valid integer is required."]}
    resp = admin.post("/api/v2/organizations/", {"name": "n" * 513, "max_hosts": -1})
    assert resp.get_json() == {"name": ["Ensure this field has no more than 512 characters."],
                               "max_hosts": ["Ensure this value is greater than or equal to 0."]}
    org = make_org()
    resp = admin.post("/api/v2/organizations/", {"name": org["name"]})
    assert resp.get_json() == {"name": ["Organization with this Name already exists."]}
    resp = admin.post("/api/v2/teams/", {"name": "t", "organization": MISSING})
    assert resp.get_json() == {"organization": [f'Invalid pk "{MISSING}" - object does not exist.']}
    assert admin.post("/api/v2/teams/", {"name": "dup", "organization": org["id"]}).status_code == 201
    resp = admin.post("/api/v2/teams/", {"name": "dup", "organization": org["id"]})
    assert resp.status_code == 400
    assert resp.get_json() == {"__all__": ["Team with this Organization and Name already exists."]}
    # the same name in another organization is fine
    other = make_org()
    assert admin.post("/api/v2/teams/", {"name": "dup", "organization": other["id"]}).status_code == 201
    resp = admin.post("/api/v2/users/", {"username": unique("u"), "password": "p", "email": "nope",
                                         "is_superuser": "maybe"})
    assert resp.get_json() == {"email": ["Enter a valid email address."],
                               "is_superuser": ["Must be a valid boolean."]}
    resp = admin.post("/api/v2/users/", {"username": "admin", "password": "p"})
    assert resp.get_json() == {"username": ["A user with that username already exists."]}
    # name is trimmed like DRF's CharField
    resp = admin.post("/api/v2/organizations/", {"name": "  padded-org  "})
    assert resp.status_code == 201 and resp.get_json()["name"] == "padded-org"


# -- named URLs ------------------------------------------------------------------------------
@per_named
def test_named_url_round_trip(admin, sample, res):
    obj = sample(res)
    named = obj["related"].get("named_url")
    assert named and named.startswith(res.list_url) and named.endswith("/"), obj["related"]
    resp = admin.get(named)
    assert resp.status_code == 200 and resp.get_json()["id"] == obj["id"]
    listed = admin.get(f"{res.list_url}?id={obj['id']}").get_json()["results"][0]
    assert "named_url" not in listed["related"]
    for rel in res.relations[:3]:
        sub = admin.get(f"{named}{rel.name}/")
        assert sub.status_code == 200, (rel.name, sub.get_json())
        assert sub.get_json()["count"] == admin.get(f"{obj['url']}{rel.name}/").get_json()["count"]


@pytest.mark.parametrize("res", [r for r in RESOURCES if not r.named_url], ids=_rid)
def test_no_named_url_when_undeclared(admin, sample, res):
    assert "named_url" not in sample(res)["related"]


def test_named_urls_for_users_organizations_teams(admin, make_org, make_user):
    org = make_org("Named Org+1")
    assert org["related"]["named_url"] == "/api/v2/organizations/Named Org[+]1/"   # POST response too
    assert admin.get("/api/v2/organizations/Named%20Org[+]1/").get_json()["id"] == org["id"]
    team = admin.post("/api/v2/teams/", {"name": "Ops", "organization": org["id"]}).get_json()
    assert team["related"]["named_url"] == "/api/v2/teams/Ops++Named Org[+]1/"
    assert admin.get("/api/v2/teams/Ops++Named%20Org[+]1/").get_json()["id"] == team["id"]
    uid, _ = make_user("named.user@x")
    got = admin.get("/api/v2/users/named.user@x/")
    assert got.status_code == 200 and got.get_json()["id"] == uid
    assert got.get_json()["related"]["named_url"] == "/api/v2/users/named.user%40x/"
    assert admin.get("/api/v2/users/named.user%40x/").get_json()["id"] == uid
    # sub-lists and writes through a named URL
    assert admin.post("/api/v2/teams/Ops++Named%20Org[+]1/users/", {"id": uid}).status_code == 204
    assert [u["id"] for u in admin.get("/api/v2/users/named.user@x/teams/").get_json()["results"]] == [team["id"]]
    resp = admin.patch("/api/v2/organizations/Named%20Org[+]1/", {"description": "via name"})
    assert resp.status_code == 200 and resp.get_json()["id"] == org["id"]
    assert admin.get(org["url"]).get_json()["description"] == "via name"
    # unknown names and wrong shapes are plain 404s
    for url in ("/api/v2/users/no-such-user/", "/api/v2/organizations/No Such Org/",
                "/api/v2/teams/Ops++No Such Org/", "/api/v2/teams/Ops++Named Org[+]1++extra/",
                "/api/v2/users/no-such-user/teams/"):
        resp = admin.get(url)
        assert resp.status_code == 404 and resp.get_json() == NOT_FOUND, url


# -- trailing slash --------------------------------------------------------------------------
@per_resource
def test_slashless_get_redirects(admin, res):
    resp = admin.get(res.list_url.rstrip("/") + "?page_size=1")
    assert resp.status_code in (301, 308)
    location = urlsplit(resp.headers["Location"])
    assert location.path == res.list_url and location.query == "page_size=1"
    resp = admin.get(f"{res.list_url}{MISSING}")
    assert resp.status_code in (301, 308)
    assert urlsplit(resp.headers["Location"]).path == f"{res.list_url}{MISSING}/"


# -- sub-lists -------------------------------------------------------------------------------
@per_sublist
def test_sublist_envelope_and_options(admin, sample, pair):
    res, rel = pair
    parent = sample(res)
    url = parent["related"][rel.name]
    resp = admin.get(url)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["count", "next", "previous", "results"]
    target = REG[rel.target]
    for obj in body["results"]:
        assert obj["type"] == target.name and obj["url"] == target.url(obj["id"])
    opts = admin.options(url)
    assert opts.status_code == 200
    assert set(opts.get_json()["actions"]) <= {"GET", "POST"}
    expected_allow = {"GET", "POST", "HEAD", "OPTIONS"} if rel.writable else {"GET", "HEAD", "OPTIONS"}
    assert _allow(opts) == expected_allow and _allow(resp) == expected_allow
    if not rel.writable:
        resp = admin.post(url, {"id": parent["id"]})
        assert resp.status_code == 405 and resp.get_json() == method_not_allowed("POST")
    missing = admin.get(f"{res.list_url}{MISSING}/{rel.name}/")
    assert missing.status_code == 404 and missing.get_json() == NOT_FOUND


def test_association_protocol(admin, make_org, make_user):
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": unique("team"), "organization": org["id"]}).get_json()
    uid, _ = make_user()
    users = f"/api/v2/teams/{team['id']}/users/"

    def members() -> list[int]:
        return [u["id"] for u in admin.get(users).get_json()["results"]]

    resp = admin.post(users, {"id": uid, "associate": True})    # the CLI sends "associate"
    assert resp.status_code == 204 and resp.get_data() == b""
    assert members() == [uid]
    assert [t["id"] for t in admin.get(f"/api/v2/users/{uid}/teams/").get_json()["results"]] == [team["id"]]
    assert admin.post(users, {"id": uid}).status_code == 204                # no-op when already there
    assert members() == [uid]
    assert admin.post(users, {"id": str(uid), "disassociate": False}).status_code == 204   # key presence
    assert members() == []
    assert admin.get(f"/api/v2/users/{uid}/teams/").get_json()["count"] == 0
    # errors
    for bad in ("x", 1.5, None, [uid], {"id": uid}, True):
        resp = admin.post(users, {"id": bad})
        assert resp.status_code == 400, bad
        assert resp.get_json() == {"msg": '"id" field must be an integer.'}, bad
    resp = admin.post(users, {"id": MISSING})
    assert resp.status_code == 400 and resp.get_json() == {"detail": "User matching query does not exist."}
    resp = admin.post(users, {"disassociate": True})
    assert resp.status_code == 400 and resp.get_json() == {"msg": '"id" is required to disassociate'}
    resp = admin.post(users, {})
    assert resp.status_code == 400 and resp.get_json() == {"msg": "User 'id' field is missing."}
    assert members() == []
    # attach and detach are in the activity stream, naming the user
    stream = admin.get(f"/api/v2/users/{uid}/activity_stream/?order_by=id").get_json()["results"]
    ops = {e["operation"] for e in stream if e["operation"] in ("associate", "disassociate")}
    assert ops == {"associate", "disassociate"}, stream


def test_reverse_fk_sublist_creates_and_disassociate_deletes(admin, make_org):
    org, other = make_org(), make_org()
    url = f"/api/v2/organizations/{org['id']}/teams/"
    # the parent key comes from the URL, even when the body names another organization
    resp = admin.post(url, {"name": "made-here", "organization": other["id"]})
    assert resp.status_code == 201, resp.get_json()
    team = resp.get_json()
    assert team["organization"] == org["id"] and resp.headers["Location"] == team["url"]
    assert [t["id"] for t in admin.get(url).get_json()["results"]] == [team["id"]]
    assert admin.get(f"/api/v2/organizations/{other['id']}/teams/").get_json()["count"] == 0
    resp = admin.post(url, {"name": ""})
    assert resp.status_code == 400 and resp.get_json() == {"name": ["This field may not be blank."]}
    # attaching an existing team moves it under this organization
    moved = admin.post("/api/v2/teams/", {"name": "mover", "organization": other["id"]}).get_json()
    assert admin.post(url, {"id": moved["id"]}).status_code == 204
    assert admin.get(moved["url"]).get_json()["organization"] == org["id"]
    # disassociating from a parent-key list deletes the child (AWX)
    resp = admin.post(url, {"id": team["id"], "disassociate": True})
    assert resp.status_code == 204
    assert admin.get(team["url"]).status_code == 404
    assert [t["id"] for t in admin.get(url).get_json()["results"]] == [moved["id"]]


def test_role_members_sublist_create_adds_member(admin, make_org):
    org = make_org()
    resp = admin.post(f"/api/v2/organizations/{org['id']}/users/",
                      {"username": unique("member"), "password": "pw-x"})
    assert resp.status_code == 201, resp.get_json()
    uid = resp.get_json()["id"]
    assert [u["id"] for u in admin.get(f"/api/v2/organizations/{org['id']}/users/").get_json()["results"]] == [uid]
    assert [o["id"] for o in admin.get(f"/api/v2/users/{uid}/organizations/").get_json()["results"]] == [org["id"]]


# -- root endpoints --------------------------------------------------------------------------
def test_api_root_is_anonymous_and_sets_csrf_cookie(app):
    http = app.test_client()
    resp = http.get("/api/")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["available_versions"] == {"v2": "/api/v2/"} and body["current_version"] == "/api/v2/"
    for key in ("description", "oauth2", "custom_logo", "custom_login_info", "login_redirect_override"):
        assert key in body
    cookie = http.get_cookie("csrftoken")
    assert cookie is not None and len(cookie.value) >= 32
    assert "Secure" not in resp.headers["Set-Cookie"]


def test_api_v2_index_lists_only_existing_resources(anon, admin):
    resp = anon.get("/api/v2/")
    assert resp.status_code == 200
    index = resp.get_json()
    for key, url in index.items():
        assert url.startswith("/api/v2/") and url.endswith("/"), (key, url)
        got = admin.get(url)
        assert got.status_code == 200, (key, url, got.get_json())
    for res in RESOURCES:
        if res.listed:
            assert index[res.api_key] == res.list_url
        else:
            assert res.api_key not in index
    assert {"ping", "config", "me"} <= set(index)
    polymorphic = {"unified_jobs", "unified_job_templates"}   # lists served over several resources
    fixed = {"ping", "config", "settings", "me",   # views of their own, not registry resources
             "dashboard", "metrics", "system_job_templates", "bulk"}
    assert set(index) == fixed | polymorphic | {r.api_key for r in RESOURCES if r.listed}


def test_api_v2_index_ignores_bad_credentials(app):
    bad = Client(app, "admin", "wrong-password")
    resp = bad.get("/api/v2/")
    assert resp.status_code == 200 and "ping" in resp.get_json()


def test_ping_is_anonymous(anon):
    resp = anon.get("/api/v2/ping/")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ha"] is False and re.match(r"^\d+\.\d+", body["version"])
    assert body["instances"] and body["instances"][0]["node"] == body["active_node"]
    assert {g["name"] for g in body["instance_groups"]} >= {"default"}
    assert body["install_uuid"] == anon.get("/api/v2/ping/").get_json()["install_uuid"]


def test_config_needs_authentication(anon, admin):
    resp = anon.get("/api/v2/config/")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer realm=api authorization_url=/api/o/authorize/"
    body = admin.get("/api/v2/config/").get_json()
    assert body["time_zone"] == "UTC" and body["license_info"]["license_type"] == "open"
    assert body["version"] == anon.get("/api/v2/ping/").get_json()["version"]
    assert ["sudo", "Sudo"] in body["become_methods"]
    assert "project_base_dir" in body       # superuser gets the project settings too


def test_me_is_a_list_envelope_of_self(anon, admin, make_user):
    body = admin.get("/api/v2/me/").get_json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    me = body["results"][0]
    assert me["username"] == "admin" and me["type"] == "user" and me["is_superuser"] is True
    assert me["url"] == f"/api/v2/users/{me['id']}/"
    uid, user = make_user()
    mine = user.get("/api/v2/me/").get_json()
    assert mine["count"] == 1 and mine["results"][0]["id"] == uid
    assert anon.get("/api/v2/me/").status_code == 401


def test_product_headers(anon, admin):
    for resp in (anon.get("/api/"), anon.get("/api/v2/"), anon.get("/api/v2/ping/"), anon.get("/api/v2/me/")):
        assert resp.headers["X-API-Product-Name"] == "AWX"
        assert "X-API-Product-Version" not in resp.headers
    version = anon.get("/api/v2/ping/").get_json()["version"]
    for resp in (admin.get("/api/v2/"), admin.get("/api/v2/me/"), admin.get("/api/v2/organizations/"),
                 admin.get(f"/api/v2/organizations/{MISSING}/")):
        assert resp.headers["X-API-Product-Name"] == "AWX"
        assert resp.headers["X-API-Product-Version"] == version


# -- OpenAPI ---------------------------------------------------------------------------------
def test_openapi_document_is_valid_and_complete(anon):
    resp = anon.get("/api/v2/openapi.json")
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    # openapi-spec-validator is a test dependency (pyproject [test] extra)
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    paths = doc["paths"]
    for res in RESOURCES:
        assert "get" in paths[res.list_url]
        assert ("post" in paths[res.list_url]) == res.creatable
        detail = paths[f"{res.list_url}{{id}}/"]
        assert "get" in detail
        assert ("delete" in detail) == res.deletable and ("patch" in detail) == res.updatable
        for rel in res.relations:
            sub = paths[f"{res.list_url}{{id}}/{rel.name}/"]
            assert "get" in sub and ("post" in sub) == rel.writable, (res.plural, rel.name)
        schema = doc["components"]["schemas"][res.model_name]["properties"]
        for field in res.fields:
            assert (field.name in schema) == (not field.hidden), (res.plural, field.name)

"""Meta-test: ``/api/v2/openapi.json`` describes every route the app serves, with its methods.

The routes come from Flask's url_map (every rule under /api/); templated rules are expanded
over the registry (lists, details, sub-lists, actions).  Served methods are measured, not
assumed: fixed routes are probed method by method (405 = not served), templated ones answer
OPTIONS with the ``Allow`` header their view enforces.
"""
from __future__ import annotations

import json

import pytest

from controller.api.actions import view_for

SKIP_METHODS = {"HEAD"}          # answered wherever GET is; the document says so once


@pytest.fixture(scope="module")
def doc(admin) -> dict:
    resp = admin.get("/api/v2/openapi.json")
    assert resp.status_code == 200
    return resp.json


def _documented(doc: dict, path: str) -> set[str]:
    return {verb.upper() for verb in doc["paths"].get(path, {}) if verb != "parameters"}


def _allow(admin, url: str) -> set[str]:
    resp = admin.options(url)
    assert resp.status_code == 200, (url, resp.json)
    return {m.strip() for m in resp.headers["Allow"].split(",")} - SKIP_METHODS


def _served_routes(app, admin) -> dict[str, set[str]]:
    """Documented-path form (``{id}``) -> methods the app really serves there."""
    registry = app.config["TURRET"].registry
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        if not rule.arguments:
            methods = set()
            for method in sorted(rule.methods - SKIP_METHODS):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                if admin.request(method, rule.rule, json=body).status_code != 405:
                    methods.add(method)
            served[rule.rule] = methods
        elif rule.arguments == {"plural"}:
            for res in registry.endpoints():
                served[res.list_url] = _allow(admin, res.list_url)
        elif rule.arguments == {"plural", "ident"}:
            for res in registry.endpoints():
                served[f"/api/v2/{res.plural}/{{id}}/"] = _allow(admin, f"/api/v2/{res.plural}/1/")
        elif rule.arguments == {"plural", "ident", "sub"}:
            for res in registry.endpoints():
                for sub in [rel.name for rel in res.relations] + list(res.actions):
                    served[f"/api/v2/{res.plural}/{{id}}/{sub}/"] = _allow(admin, f"/api/v2/{res.plural}/1/{sub}/")
        elif rule.arguments == {"ident"} and rule.rule.startswith("/api/v2/"):
            # a declared sub-list served by a view of its own (a schedule's runs of every kind)
            served[rule.rule.replace("<ident>", "{id}")] = _allow(admin, rule.rule.replace("<ident>", "1"))
        elif rule.arguments == {"slug"} and rule.rule == "/api/v2/settings/<slug>/":
            served["/api/v2/settings/{slug}/"] = _allow(admin, "/api/v2/settings/all/")
        else:
            raise AssertionError(f"a route shape this test does not know: {rule.rule}")
    return served


def test_every_served_route_and_method_is_documented(app, admin, doc):
    served = _served_routes(app, admin)
    assert len(served) > 150           # the registry was really expanded
    missing = {path: sorted(methods) for path, methods in served.items() if path not in doc["paths"]}
    assert missing == {}
    wrong = {path: {"served": sorted(methods), "documented": sorted(_documented(doc, path))}
             for path, methods in served.items() if _documented(doc, path) != methods}
    assert wrong == {}
    # and nothing is documented that is not served
    assert sorted(set(doc["paths"]) - set(served)) == []


def test_action_methods_are_enforced_before_the_object_is_looked_up(app, admin, doc):
    """An action's declared methods are the contract: others are 405 (with Allow), even on
    a missing object, as DRF checks the method before get_object()."""
    registry = app.config["TURRET"].registry
    checked = 0
    for res in registry:
        for name in res.actions:
            declared = set(view_for(res, name).methods)
            for method in {"POST", "PUT", "PATCH", "DELETE"} - declared:
                resp = admin.request(method, f"/api/v2/{res.plural}/999999/{name}/", json={})
                assert resp.status_code == 405, (res.plural, name, method, resp.json)
                assert resp.json == {"detail": f'Method "{method}" not allowed.'}
                head = {"HEAD"} if "GET" in declared else set()   # a POST-only action (test/) has no HEAD
                assert set(resp.headers["Allow"].replace(" ", "").split(",")) == declared | head | {"OPTIONS"}
                checked += 1
    assert checked > 20


def test_every_operation_documents_the_awx_error_answers(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["detail"] == {"type": "string"} and error["additionalProperties"] is True
    for path, item in doc["paths"].items():
        for verb, op in item.items():
            if verb == "parameters":
                continue
            for code in ("400", "401", "403", "404", "405"):
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, verb, code)


def test_write_only_and_nullable_fields_are_described_as_answered(admin, doc):
    schemas = doc["components"]["schemas"]
    # password: accepted on input (writeOnly, bounded) and answered as "$encrypted$"
    assert schemas["UserWrite"]["properties"]["password"]["writeOnly"] is True
    assert schemas["UserWrite"]["properties"]["password"]["maxLength"] == 128
    answered = schemas["User"]["properties"]["password"]
    assert "maxLength" not in answered and "writeOnly" not in answered and "$encrypted$" in answered["description"]
    # a write-only field that is never answered (a credential's owner user) is writeOnly in both
    assert schemas["Credential"]["properties"]["user"]["writeOnly"] is True
    assert schemas["CredentialWrite"]["properties"]["user"]["writeOnly"] is True
    user = admin.get("/api/v2/users/1/").json
    assert user["password"] == "$encrypted$"
    # a nullable FK and a computed field are nullable; a required name is not
    assert schemas["JobTemplate"]["properties"]["inventory"]["nullable"] is True
    assert schemas["Organization"]["properties"]["name"].get("nullable") is not True
    job_props = schemas["Job"]["properties"]
    assert all(prop.get("nullable") for name, prop in job_props.items()
               if name not in ("id", "type", "url", "related", "summary_fields"))


def test_the_named_endpoints_of_the_issue_are_documented(doc):
    paths = doc["paths"]
    for path, verbs in {
        "/api/v2/": {"get"}, "/api/v2/ping/": {"get"}, "/api/v2/config/": {"get"}, "/api/v2/me/": {"get"},
        "/api/v2/unified_jobs/": {"get"}, "/api/v2/unified_job_templates/": {"get"},
        "/api/v2/schedules/preview/": {"post"}, "/api/v2/schedules/zoneinfo/": {"get"},
        "/api/login/": {"get", "post"}, "/api/logout/": {"get", "post"},
        "/api/v2/job_templates/{id}/launch/": {"get", "post"}, "/api/v2/jobs/{id}/relaunch/": {"get", "post"},
        "/api/v2/jobs/{id}/cancel/": {"get", "post"}, "/api/v2/jobs/{id}/stdout/": {"get"},
        "/api/v2/job_templates/{id}/survey_spec/": {"get", "post", "delete"},
        "/api/v2/projects/{id}/copy/": {"get", "post"}, "/api/v2/projects/{id}/update/": {"get", "post"},
        "/api/v2/inventories/{id}/variable_data/": {"get", "put", "patch"},
        "/api/v2/inventories/{id}/script/": {"get"}, "/api/v2/jobs/{id}/events_stream/": {"get"},
        "/api/v2/projects/{id}/playbooks/": {"get"},
    }.items():
        assert verbs <= set(paths[path]), path
    launched = paths["/api/v2/job_templates/{id}/launch/"]["post"]["responses"]["201"]
    assert launched["content"]["application/json"]["schema"]["allOf"][0] == {"$ref": "#/components/schemas/Job"}


def test_action_success_codes_are_the_ones_answered(doc):
    """Each action documents the success status it answers (a client generated from the
    document must not treat 201/202/204 as unexpected)."""
    expect = {
        "/api/v2/workflow_job_templates/{id}/launch/": ("post", "201"),
        "/api/v2/workflow_approvals/{id}/approve/": ("post", "204"),
        "/api/v2/workflow_approvals/{id}/deny/": ("post", "204"),
        "/api/v2/job_templates/{id}/webhook_key/": ("post", "201"),
        "/api/v2/workflow_job_template_nodes/{id}/create_approval_template/": ("post", "201"),
        "/api/v2/notification_templates/{id}/test/": ("post", "202"),
        "/api/v2/job_templates/{id}/github/": ("post", "202"),
    }
    for path, (method, code) in expect.items():
        assert code in doc["paths"][path][method]["responses"], (path, doc["paths"][path][method]["responses"])
    launched = doc["paths"]["/api/v2/workflow_job_templates/{id}/launch/"]["post"]["responses"]["201"]
    assert "/WorkflowJob\"" in json.dumps(launched)      # the workflow job, not its template

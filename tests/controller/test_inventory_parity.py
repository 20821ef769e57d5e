"""Inventory, host and group behaviours checked against AWX 24.6.1's source: who may change a
smart inventory's ``host_filter``, one host per name in smart inventories, the ``start``
capability of inventory sources, creating through ``root_groups``, and ``variable_data`` in YAML
with its OPTIONS."""
from __future__ import annotations

import json

import pytest
import yaml

try:  # tests/controller/conftest.py: the same module pytest loaded (shared name counter)
    from conftest import unique
except ImportError:  # pragma: no cover
    from .conftest import unique

V2 = "/api/v2"


@pytest.fixture(scope="module")
def org(make_org):
    return make_org(unique("parity-org"))


def _inv(admin, org: dict, **fields) -> dict:
    resp = admin.post(f"{V2}/inventories/", {"name": unique("inv"), "organization": org["id"], **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _host(admin, inv: dict, name: str, **fields) -> dict:
    resp = admin.post(f"{V2}/hosts/", {"name": name, "inventory": inv["id"], **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _grant(admin, uid: int, obj: dict, role: str) -> None:
    role_id = obj["summary_fields"]["object_roles"][role]["id"]
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": role_id}).status_code == 204


# -- 1. host_filter needs the organization's inventory_admin_role --------------------------------
def test_a_smart_inventory_admin_cannot_widen_its_filter(admin, make_user, org):
    private = _inv(admin, org)
    _host(admin, private, unique("secret"), variables="pw: hunter2")
    smart = _inv(admin, org, kind="smart", host_filter="name=nomatch")
    uid, user = make_user()
    _grant(admin, uid, smart, "admin_role")

    widened = user.patch(smart["url"], {"host_filter": "name__startswith=secret"})
    assert widened.status_code == 403, widened.json
    assert admin.get(smart["url"]).json["host_filter"] == "name=nomatch"
    assert user.get(f"{smart['url']}script/?hostvars=1").json.get("_meta", {}).get("hostvars", {}) == {}
    # the rest of the inventory stays theirs, the same filter included
    same = user.patch(smart["url"], {"description": "mine", "host_filter": "name=nomatch"})
    assert same.status_code == 200 and same.json["description"] == "mine"

    # the organization's inventory admins may; creating one needs that role in any case
    org_roles = {r["name"]: r["id"] for r in admin.get(f"{org['url']}object_roles/").json["results"]}
    assert user.post(f"{V2}/inventories/", {"name": unique("s"), "organization": org["id"], "kind": "smart",
                                            "host_filter": "name=x"}).status_code == 403
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": org_roles["Inventory Admin"]}).status_code == 204
    ok = user.patch(smart["url"], {"host_filter": "name__startswith=secret"})
    assert ok.status_code == 200 and ok.json["host_filter"] == "name__startswith=secret"


# -- 4. one host per name ----------------------------------------------------------------------
def test_a_smart_inventory_holds_one_host_per_name(admin, org):
    name = unique("dup")
    first, second = _inv(admin, org), _inv(admin, org)
    low = _host(admin, first, name, variables="v: 1")
    _host(admin, second, name, variables="v: 2")
    other = _host(admin, second, f"{name}-other")
    smart = _inv(admin, org, kind="smart", host_filter=f"name__startswith={name}")
    listed = admin.get(f"{smart['url']}hosts/").json
    assert listed["count"] == 2
    assert sorted(r["id"] for r in listed["results"]) == sorted([low["id"], other["id"]])
    assert admin.get(smart["url"]).json["total_hosts"] == 2
    script = admin.get(f"{smart['url']}script/?hostvars=1").json
    assert script["_meta"]["hostvars"][name] == {"v": 1}


# -- 8. start of inventory sources -------------------------------------------------------------
def test_update_role_holders_may_start_inventory_sources(admin, make_user, org):
    inv = _inv(admin, org)
    source = admin.post(f"{inv['url']}inventory_sources/", {"name": "src", "source": "ec2"})
    assert source.status_code == 201, source.json
    caps = {}
    for role in ("update_role", "read_role", "admin_role"):
        uid, user = make_user()
        _grant(admin, uid, inv, role)
        caps[role] = user.get(source.json["url"]).json["summary_fields"]["user_capabilities"]
        listed = user.get(f"{inv['url']}inventory_sources/").json["results"][0]
        assert listed["summary_fields"]["user_capabilities"] == caps[role]
    assert (caps["update_role"]["start"], caps["update_role"]["edit"]) == (True, False)
    assert (caps["read_role"]["start"], caps["read_role"]["edit"]) == (False, False)
    assert (caps["admin_role"]["start"], caps["admin_role"]["edit"]) == (True, True)


# -- 9. root_groups creates, attaches, detaches ------------------------------------------------
def test_root_groups_creates_and_detaches(admin, org):
    inv = _inv(admin, org)
    made = admin.post(f"{inv['url']}root_groups/", {"name": "rg"})
    assert made.status_code == 201, made.json
    assert (made.json["name"], made.json["inventory"]) == ("rg", inv["id"])
    assert [g["name"] for g in admin.get(f"{inv['url']}root_groups/").json["results"]] == ["rg"]
    assert "POST" in admin.options(f"{inv['url']}root_groups/").json["actions"]
    other = _inv(admin, org)
    stranger = admin.post(f"{other['url']}groups/", {"name": "elsewhere"}).json
    assert admin.post(f"{inv['url']}root_groups/", {"id": stranger["id"]}).status_code == 400
    gone = admin.post(f"{inv['url']}root_groups/", {"id": made.json["id"], "disassociate": True})
    assert gone.status_code == 204
    assert admin.get(f"{V2}/groups/{made.json['id']}/").status_code == 404


# -- 10. variable_data in YAML; OPTIONS of variable_data and script -----------------------------
def test_variable_data_speaks_yaml(admin, org):
    inv = _inv(admin, org)
    group = admin.post(f"{V2}/groups/", {"name": unique("g"), "inventory": inv["id"]}).json
    url = f"{group['url']}variable_data/"
    put = admin.put(url, data="x: 1\ny: [two, 3]\n", headers={"Content-Type": "application/yaml"})
    assert put.status_code == 200, put.json
    assert put.json == {"x": 1, "y": ["two", 3]}
    assert json.loads(admin.get(group["url"]).json["variables"]) == {"x": 1, "y": ["two", 3]}

    as_yaml = admin.get(url, headers={"Accept": "application/yaml"})
    assert as_yaml.status_code == 200 and as_yaml.mimetype == "application/yaml"
    assert yaml.safe_load(as_yaml.data) == {"x": 1, "y": ["two", 3]}
    assert yaml.safe_load(admin.get(f"{url}?format=yaml").data) == {"x": 1, "y": ["two", 3]}
    assert admin.get(url).mimetype == "application/json"

    bad = admin.put(url, data="a: [1\n", headers={"Content-Type": "application/yaml"})
    assert bad.status_code == 400 and bad.json["detail"].startswith("YAML parse error")
    listed = admin.put(url, data="- 1\n- 2\n", headers={"Content-Type": "application/yaml"})
    assert listed.status_code == 400
    assert json.loads(admin.get(group["url"]).json["variables"]) == {"x": 1, "y": ["two", 3]}


def test_options_of_variable_data_and_script(admin, org):
    inv = _inv(admin, org)
    vd = admin.options(f"{inv['url']}variable_data/").json["actions"]
    assert sorted(vd) == ["GET", "PUT"]
    assert list(vd["PUT"]) == ["variables"] and vd["PUT"]["variables"]["type"] == "json"
    assert list(vd["GET"]) == ["variables"]
    script = admin.options(f"{inv['url']}script/")
    assert script.status_code == 200 and script.json["actions"] == {"GET": {}}
    # actions with a POST keep announcing it (the awx CLI reads it)
    assert "POST" in admin.options(f"{inv['url']}copy/").json["actions"]


# -- 11. computed counters as filters --------------------------------------------------------------
def test_inventories_filter_on_their_counters(admin, make_org):
    org = make_org(unique("counters-org"))
    empty, full = _inv(admin, org), _inv(admin, org)
    _host(admin, full, unique("c-host"))
    admin.post(f"{V2}/groups/", {"name": unique("c-group"), "inventory": full["id"]})
    smart = _inv(admin, org, kind="smart", host_filter="name__startswith=c-host")
    nothing = _inv(admin, org, kind="smart", host_filter="name=nomatch")

    def names(query: str) -> set[int]:
        resp = admin.get(f"{V2}/inventories/?organization={org['id']}&{query}")
        assert resp.status_code == 200, resp.json
        return {r["id"] for r in resp.json["results"]}

    assert names("total_hosts__gt=0") == {full["id"], smart["id"]}
    assert names("total_hosts=0") == {empty["id"], nothing["id"]}
    assert names("not__total_hosts__gt=0") == {empty["id"], nothing["id"]}
    assert names("total_groups__gte=1") == {full["id"]}
    assert names("has_active_failures=false") == {empty["id"], full["id"], smart["id"], nothing["id"]}
    assert names("has_active_failures=true") == set()
    assert names("has_inventory_sources=true") == set()
    assert names("pending_deletion=false&total_hosts__lte=1") == {empty["id"], full["id"], smart["id"], nothing["id"]}
    bad = admin.get(f"{V2}/inventories/?total_hosts__gt=many")
    assert bad.status_code == 400 and "detail" in bad.json
    assert admin.get(f"{V2}/inventories/?has_inventory_sources=maybe").status_code == 400


def _unified(app_state, table: str, **fields) -> int:
    stamp = "2025-01-01T00:00:00.000000Z"
    return app_state.store.insert(table, {"name": unique("run"), "launch_type": "manual", "failed": False,
                                          "created": stamp, "modified": stamp, **fields})


def test_deletes_wait_only_for_the_runs_awx_relates_to_hosts_and_groups(admin, app_state, org):
    """AWX Host._get_related_jobs: the inventory's jobs, inventory updates and ad hoc commands;
    Group._get_related_jobs: its inventory's jobs and updates of sources that imported it.  A
    workflow job prompted with the inventory holds neither."""
    inv = _inv(admin, org)
    host = _host(admin, inv, "busy-h")
    group = admin.post(f"{V2}/groups/", {"name": unique("busy-g"), "inventory": inv["id"]}).json
    _unified(app_state, "workflow_jobs", status="running", inventory=inv["id"])
    adhoc = _unified(app_state, "ad_hoc_commands", status="running", inventory=inv["id"])
    refused = admin.delete(f"{V2}/hosts/{host['id']}/")
    assert refused.status_code == 409
    assert refused.json == {"error": "Resource is being used by running jobs.",
                            "active_jobs": [{"id": adhoc, "type": "ad_hoc_command"}]}
    assert admin.delete(f"{V2}/groups/{group['id']}/").status_code == 204      # ad hoc commands hold no group
    assert app_state.store.get("groups", group["id"]) is None
    app_state.store.update("ad_hoc_commands", adhoc, {"status": "successful"})
    assert admin.delete(f"{V2}/hosts/{host['id']}/").status_code == 204
    assert app_state.store.get("hosts", host["id"]) is None


def test_recent_jobs_are_each_host_s_newest_five(admin, app_state, org):
    inv = _inv(admin, org)
    busy, quiet = _host(admin, inv, "many-runs"), _host(admin, inv, "two-runs")
    made: dict[int, list[int]] = {busy["id"]: [], quiet["id"]: []}
    for n in range(7):
        for host in (busy, quiet) if n < 2 else (busy,):
            job = _unified(app_state, "jobs", status="successful", finished=f"2025-01-01T00:00:0{n}.000000Z")
            app_state.store.insert("job_host_summaries", {"job": job, "host": host["id"], "host_name": host["name"],
                                                          "failed": False, "created": f"2025-01-01T00:00:0{n}Z"})
            made[host["id"]].append(job)
    listed = admin.get(f"{V2}/inventories/{inv['id']}/hosts/?order_by=id").json["results"]
    recent = {h["id"]: [j["id"] for j in h["summary_fields"]["recent_jobs"]] for h in listed}
    assert recent == {busy["id"]: made[busy["id"]][::-1][:5], quiet["id"]: made[quiet["id"]][::-1]}

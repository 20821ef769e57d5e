"""The bulk API (/api/v2/bulk/): host create and delete (shapes, all-or-nothing, limits from the
settings, permissions, activity stream) and the OPTIONS the awx CLI reads.  Bulk job launch with
real jobs is in test_bulk_jobs.py."""
from __future__ import annotations

import json

from tests.controller.conftest import unique


def _inventory(admin, org: dict | None = None, **fields) -> dict:
    if org is None:
        org = admin.post("/api/v2/organizations/", {"name": unique("org")}).json
    resp = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": org["id"], **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _hosts_of(admin, inv: dict) -> dict[str, dict]:
    rows = admin.get(f"/api/v2/inventories/{inv['id']}/hosts/?page_size=200").json["results"]
    return {h["name"]: h for h in rows}


def test_index_options_and_get(admin, anon):
    assert admin.get("/api/v2/").json["bulk"] == "/api/v2/bulk/"
    assert admin.get("/api/v2/bulk/").json == {"host_create": "/api/v2/bulk/host_create/",
                                                "host_delete": "/api/v2/bulk/host_delete/",
                                                "job_launch": "/api/v2/bulk/job_launch/"}
    assert "actions" not in admin.options("/api/v2/bulk/").json    # the awx CLI then offers `list` only
    create = admin.options("/api/v2/bulk/host_create/")
    assert set(create.json["actions"]) == {"POST"}
    assert create.json["actions"]["POST"]["inventory"]["type"] == "id"
    assert create.json["actions"]["POST"]["hosts"]["required"] is True
    assert set(admin.options("/api/v2/bulk/job_launch/").json["actions"]["POST"]) >= {
        "name", "jobs", "extra_vars", "organization", "inventory", "limit", "scm_branch", "skip_tags", "job_tags"}
    assert admin.get("/api/v2/bulk/host_delete/").json == {"detail": "Bulk delete hosts with this endpoint"}
    assert admin.put("/api/v2/bulk/host_create/", {}).status_code == 405
    assert anon.post("/api/v2/bulk/host_create/", {}).status_code == 401


def test_host_create_stores_every_host_and_records_one_activity_entry(admin):
    inv = _inventory(admin)
    resp = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "web1", "description": "front", "variables": json.dumps({"port": 8080})},
        {"name": "web2", "enabled": False, "instance_id": "i-2", "variables": {"role": "db"}},
        {"name": "web3"}]})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["url"] == f"/api/v2/inventories/{inv['id']}/"
    assert [h["name"] for h in body["hosts"]] == ["web1", "web2", "web3"]
    assert list(body["hosts"][0]) == ["name", "enabled", "instance_id", "description", "variables", "id", "url",
                                      "inventory"]
    stored = _hosts_of(admin, inv)
    assert {n: h["id"] for n, h in stored.items()} == {h["name"]: h["id"] for h in body["hosts"]}
    assert stored["web1"]["description"] == "front" and json.loads(stored["web1"]["variables"]) == {"port": 8080}
    assert stored["web2"]["enabled"] is False and stored["web2"]["instance_id"] == "i-2"
    assert json.loads(stored["web2"]["variables"]) == {"role": "db"}
    assert stored["web3"]["enabled"] is True and stored["web3"]["description"] == ""
    assert admin.get(f"/api/v2/inventories/{inv['id']}/").json["total_hosts"] == 3
    entries = admin.get(f"/api/v2/inventories/{inv['id']}/activity_stream/?operation=update").json
    assert [e["changes"] for e in entries["results"]] == [{"total_hosts": [0, 3]}]
    assert admin.get(f"/api/v2/hosts/{body['hosts'][0]['id']}/").json["summary_fields"]["inventory"]["id"] == \
        inv["id"]


def test_host_create_is_all_or_nothing(admin):
    inv = _inventory(admin)
    assert admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [{"name": "old"}]}).status_code \
        == 201
    bad_field = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "n1"}, {"description": "no name"}, {"name": "n3", "enabled": "maybe"}]})
    assert bad_field.status_code == 400
    assert bad_field.json == {"hosts": {"1": {"name": ["This field is required."]},
                                        "2": {"enabled": ["Must be a valid boolean."]}}}
    duplicate = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "n1"}, {"name": "old"}, {"name": "n2"}, {"name": "n2"}]})
    assert duplicate.status_code == 400
    assert duplicate.json == {"non_field_errors": [
        "Hostnames must be unique in an inventory. Duplicates found: ['old', 'n2', 'n2']"]}
    assert set(_hosts_of(admin, inv)) == {"old"}    # nothing of either request was written
    assert admin.post("/api/v2/bulk/host_create/", {"inventory": 999999, "hosts": [{"name": "x"}]}).json == \
        {"inventory": ['Invalid pk "999999" - object does not exist.']}
    assert admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": []}).json == \
        {"hosts": ["This list may not be empty."]}
    assert admin.post("/api/v2/bulk/host_create/", {"hosts": [{"name": "x"}]}).json == \
        {"inventory": ["This field is required."]}


def test_host_create_limit_is_the_setting_read_at_each_request(admin):
    inv = _inventory(admin)
    many = {"inventory": inv["id"], "hosts": [{"name": f"h{i}"} for i in range(101)]}
    resp = admin.post("/api/v2/bulk/host_create/", many)
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": ["Number of hosts exceeds system setting BULK_HOST_MAX_CREATE"]}
    assert _hosts_of(admin, inv) == {}
    assert admin.patch("/api/v2/settings/bulk/", {"BULK_HOST_MAX_CREATE": 101}).status_code == 200
    try:
        assert admin.post("/api/v2/bulk/host_create/", many).status_code == 201
        assert admin.get(f"/api/v2/inventories/{inv['id']}/").json["total_hosts"] == 101
    finally:
        admin.delete("/api/v2/settings/bulk/")


def test_host_create_refusals(admin, make_user):
    org = admin.post("/api/v2/organizations/", {"name": unique("org"), "max_hosts": 3}).json
    inv = _inventory(admin, org)
    smart = _inventory(admin, org, kind="smart", host_filter="name=x")
    resp = admin.post("/api/v2/bulk/host_create/", {"inventory": smart["id"], "hosts": [{"name": "a"}]})
    assert resp.json == {"non_field_errors": [
        "Hosts can only be created in manual inventories (not smart or constructed types)."]}
    # a user who may only read the inventory: AWX answers 400 as for a missing inventory
    uid, reader = make_user()
    grant = admin.post(f"/api/v2/users/{uid}/roles/", {"id": inv["summary_fields"]["object_roles"]["read_role"]["id"]})
    assert grant.status_code == 204, grant.json
    resp = reader.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [{"name": "a"}]})
    assert resp.status_code == 400
    assert resp.json == {"non_field_errors": [f"Inventory with id {inv['id']} not found or lack permissions to add "
                                              "hosts."]}
    # an inventory admin may; the organization's max_hosts (3) still holds: 403, nothing written
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": inv["summary_fields"]["object_roles"]["admin_role"]["id"]})
    assert reader.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "a"}, {"name": "b"}]}).status_code == 201
    over = reader.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [{"name": "c"}, {"name": "d"}]})
    assert over.status_code == 403
    assert "maximum number of 3 hosts" in over.json["detail"]
    assert set(_hosts_of(admin, inv)) == {"a", "b"}


def test_host_delete_removes_hosts_group_links_and_records_each_inventory(admin):
    inv1, inv2 = _inventory(admin), _inventory(admin)
    made1 = admin.post("/api/v2/bulk/host_create/", {"inventory": inv1["id"], "hosts": [{"name": "a"}, {"name": "b"},
                                                                                         {"name": "keep"}]}).json
    made2 = admin.post("/api/v2/bulk/host_create/", {"inventory": inv2["id"], "hosts": [{"name": "c"}]}).json
    ids = {h["name"]: h["id"] for h in made1["hosts"] + made2["hosts"]}
    group = admin.post("/api/v2/groups/", {"name": unique("g"), "inventory": inv1["id"]}).json
    assert admin.post(f"/api/v2/groups/{group['id']}/hosts/", {"id": ids["a"]}).status_code == 204
    resp = admin.post("/api/v2/bulk/host_delete/", {"hosts": [ids["a"], ids["b"], ids["c"]]})
    assert resp.status_code == 201, resp.json
    assert resp.json == {"hosts": {str(ids["a"]): "The host a was deleted", str(ids["b"]): "The host b was deleted",
                                   str(ids["c"]): "The host c was deleted"}}
    assert set(_hosts_of(admin, inv1)) == {"keep"} and _hosts_of(admin, inv2) == {}
    assert admin.get(f"/api/v2/groups/{group['id']}/hosts/").json["count"] == 0
    changes = admin.get(f"/api/v2/inventories/{inv1['id']}/activity_stream/?operation=update&order_by=id"
                        ).json["results"][-1]["changes"]
    assert changes == {"deleted_hosts": [{"host_id": ids["a"], "host_name": "a"},
                                         {"host_id": ids["b"], "host_name": "b"}]}


def test_host_delete_is_all_or_nothing(admin, make_user):
    inv, other = _inventory(admin), _inventory(admin)
    mine = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [{"name": "a"}]}).json
    theirs = admin.post("/api/v2/bulk/host_create/", {"inventory": other["id"], "hosts": [{"name": "b"}]}).json
    a, b = mine["hosts"][0]["id"], theirs["hosts"][0]["id"]
    missing = admin.post("/api/v2/bulk/host_delete/", {"hosts": [a, 999999]})
    assert missing.status_code == 400
    assert missing.json == {"hosts": {"999999": "Hosts do not exist or you lack permission to delete it"}}
    uid, user = make_user()
    admin.post(f"/api/v2/users/{uid}/roles/", {"id": inv["summary_fields"]["object_roles"]["admin_role"]["id"]})
    refused = user.post("/api/v2/bulk/host_delete/", {"hosts": [a, b]})
    assert refused.status_code == 403
    assert refused.json == {"inventories": {other["name"]: "Lack permissions to delete hosts from this inventory."}}
    assert set(_hosts_of(admin, inv)) == {"a"} and set(_hosts_of(admin, other)) == {"b"}
    limit = admin.post("/api/v2/bulk/host_delete/", {"hosts": list(range(1, 252))})
    assert limit.status_code == 400
    assert limit.json == {"ERROR": ["Number of hosts exceeds system setting BULK_HOST_MAX_DELETE"],
                          "BULK_HOST_MAX_DELETE": ["250"], "Hosts_count": ["251"]}
    assert user.post("/api/v2/bulk/host_delete/", {"hosts": [a]}).status_code == 201
    assert _hosts_of(admin, inv) == {}


def test_host_create_splits_name_port_as_a_regular_host_create(admin):
    """AWX's BulkHostSerializer is a HostSerializer: ``name:port`` is split into the name and
    ``ansible_ssh_port``; a bad port is a per-host name error; the split name counts for duplicates."""
    inv = _inventory(admin)
    resp = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "web1:2222", "variables": "role: db"}, {"name": "web2"}, {"name": "fe80::1"}]})
    assert resp.status_code == 201, resp.json
    assert [h["name"] for h in resp.json["hosts"]] == ["web1", "web2", "fe80::1"]
    assert json.loads(resp.json["hosts"][0]["variables"]) == {"role": "db", "ansible_ssh_port": 2222}
    stored = _hosts_of(admin, inv)
    assert set(stored) == {"web1", "web2", "fe80::1"}
    assert json.loads(stored["web1"]["variables"]) == {"role": "db", "ansible_ssh_port": 2222}
    assert stored["fe80::1"]["variables"] in ("", "{}")      # IPv6 (several colons): no port
    bad = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "a:0"}, {"name": "b:http"}, {"name": "c:65536"}, {"name": "d:22"}]})
    assert bad.status_code == 400
    assert bad.json == {"hosts": {"0": {"name": ["Invalid port specification: 0"]},
                                  "1": {"name": ["Invalid port specification: http"]},
                                  "2": {"name": ["Invalid port specification: 65536"]}}}
    duplicate = admin.post("/api/v2/bulk/host_create/", {"inventory": inv["id"], "hosts": [
        {"name": "web1:22"}, {"name": "new:22"}, {"name": "new"}]})
    assert duplicate.json == {"non_field_errors": [
        "Hostnames must be unique in an inventory. Duplicates found: ['web1', 'new', 'new']"]}
    assert set(_hosts_of(admin, inv)) == {"web1", "web2", "fe80::1"}    # neither refused request wrote a row

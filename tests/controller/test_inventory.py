"""Inventories, hosts and groups: AWX §6.7-6.9 behaviour through the API, smart inventories'
host_filter, the group graph, the Ansible script rendering (checked by the real
``ansible-inventory``), counters, deletion and access derived from the inventory's roles."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller.services.host_filter import HostFilterError, Op, Term, parse
from tests.support.sql_trace import traced

try:  # tests/controller/conftest.py: the same module pytest loaded (shared name counter)
    from conftest import unique
except ImportError:  # pragma: no cover
    from .conftest import unique

V2 = "/api/v2"


# -- helpers ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def org(make_org):
    return make_org(unique("inv-org"))


@pytest.fixture(scope="module")
def make_inv(admin, org):
    def make(name: str | None = None, **fields) -> dict:
        body = {"name": name or unique("inv"), "organization": fields.pop("organization", org["id"]), **fields}
        resp = admin.post(f"{V2}/inventories/", body)
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


def _host(client, inv: dict, name: str, **fields) -> dict:
    resp = client.post(f"{V2}/hosts/", {"name": name, "inventory": inv["id"], **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _group(client, inv: dict, name: str, **fields) -> dict:
    resp = client.post(f"{V2}/groups/", {"name": name, "inventory": inv["id"], **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def _link(client, url: str, child_id: int, off: bool = False):
    body = {"id": child_id, **({"disassociate": True} if off else {})}
    return client.post(url, body)


def _names(client, url: str) -> list[str]:
    resp = client.get(url + ("&" if "?" in url else "?") + "page_size=200")
    assert resp.status_code == 200, resp.json
    return sorted(r["name"] for r in resp.json["results"])


def _grant(admin, uid: int, obj: dict, role: str) -> None:
    role_id = obj["summary_fields"]["object_roles"][role]["id"]
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": role_id}).status_code == 204


# -- the awx.awx sequence, root key, lookups ------------------------------------------------------
def test_root_lists_inventory_key(anon):
    assert anon.get(f"{V2}/").json["inventory"] == "/api/v2/inventories/"


def test_awx_collection_sequence_with_nulls(admin, org):
    name = unique("Inv")
    assert admin.get(f"{V2}/inventories/?organization={org['id']}&name={name}").json["count"] == 0
    resp = admin.post(f"{V2}/inventories/", {"name": name, "organization": org["id"], "kind": None,
                                            "host_filter": None, "variables": "{\"foo\": \"bar\"}"})
    assert resp.status_code == 201, resp.json
    inv = resp.json
    assert (inv["type"], inv["kind"], inv["host_filter"], inv["variables"]) == ("inventory", "", None,
                                                                                "{\"foo\": \"bar\"}")
    assert inv["related"]["named_url"] == f"/api/v2/inventories/{name}++{org['name']}/"
    assert {"hosts", "groups", "root_groups", "script", "variable_data", "copy", "object_roles",
            "access_list", "activity_stream", "organization"} <= set(inv["related"])
    for key in ("total_hosts", "total_groups", "hosts_with_active_failures", "total_inventory_sources",
                "inventory_sources_with_failures"):
        assert inv[key] == 0
    for key in ("has_active_failures", "has_inventory_sources", "pending_deletion",
                "prevent_instance_group_fallback"):
        assert inv[key] is False
    assert admin.get(inv["related"]["named_url"]).json["id"] == inv["id"]
    # host module: hosts/?inventory=I&name=X then POST hosts/
    assert admin.get(f"{V2}/hosts/?inventory={inv['id']}&name=web1").json["count"] == 0
    host = _host(admin, inv, "web1", variables="{\"ansible_host\": \"127.0.0.1\"}")
    _host(admin, inv, "web10")
    found = admin.get(f"{V2}/hosts/?inventory={inv['id']}&name=web1").json
    assert [r["id"] for r in found["results"]] == [host["id"]]
    assert host["enabled"] is True and host["instance_id"] == "" and host["last_job"] is None
    assert host["variables"] == "{\"ansible_host\": \"127.0.0.1\"}"
    assert host["related"]["named_url"] == f"/api/v2/hosts/web1++{name}++{org['name']}/"
    assert admin.get(host["related"]["named_url"]).json["id"] == host["id"]
    # second run: same values through PATCH, nothing changes
    again = admin.patch(inv["url"], {"kind": None, "host_filter": None, "variables": "{\"foo\": \"bar\"}"})
    assert again.status_code == 200 and again.json["kind"] == "" and again.json["modified"] == inv["modified"]


def test_inventory_field_validation(admin, org, make_inv):
    resp = admin.post(f"{V2}/inventories/", {"name": unique("inv")})
    assert resp.status_code == 400 and resp.json == {"organization": ["This field is required."]}
    resp = admin.post(f"{V2}/inventories/", {"name": unique("inv"), "organization": None})
    assert resp.json == {"organization": ["This field may not be null."]}
    resp = admin.post(f"{V2}/inventories/", {"name": unique("inv"), "organization": org["id"],
                                             "kind": "unknown"})
    assert resp.status_code == 400 and resp.json == {"kind": ['"unknown" is not a valid choice.']}
    # AWX 24.6.1 has constructed inventories (tests/controller/test_constructed_inventories.py)
    resp = admin.post(f"{V2}/inventories/", {"name": unique("inv"), "organization": org["id"],
                                             "kind": "constructed"})
    assert resp.status_code == 201 and resp.json["kind"] == "constructed"
    assert admin.get(f"{resp.json['url']}inventory_sources/").json["results"][0]["source"] == "constructed"
    inv = make_inv()
    dup = admin.post(f"{V2}/inventories/", {"name": inv["name"], "organization": org["id"]})
    assert dup.status_code == 400
    assert dup.json == {"__all__": ["Inventory with this Name and Organization already exists."]}


def test_variables_yaml_or_json_verbatim(admin, make_inv):
    yaml_text = "---\nfoo: bar\nlist:\n  - 1\n  - 2\n"
    inv = make_inv(variables=yaml_text)
    assert inv["variables"] == yaml_text
    assert admin.get(f"{inv['url']}variable_data/").json == {"foo": "bar", "list": [1, 2]}
    bad = admin.patch(inv["url"], {"variables": "a: 1\nb: [unclosed\nc: 3\n"})
    assert bad.status_code == 400 and "line" in bad.json["variables"][0]
    scalar = admin.patch(inv["url"], {"variables": "[1, 2]"})
    assert scalar.status_code == 400 and "dictionary" in scalar.json["variables"][0]
    put = admin.put(f"{inv['url']}variable_data/", {"x": {"y": 1}})
    assert put.status_code == 200 and put.json == {"x": {"y": 1}}
    assert json.loads(admin.get(inv["url"]).json["variables"]) == {"x": {"y": 1}}
    host = _host(admin, inv, "vh", variables="a: 1")
    assert admin.get(f"{host['url']}variable_data/").json == {"a": 1}
    group = _group(admin, inv, "vg", variables={"b": 2})
    assert json.loads(group["variables"]) == {"b": 2}
    assert admin.get(f"{group['url']}variable_data/").json == {"b": 2}


def test_kind_cannot_change(admin, make_inv):
    inv = make_inv()
    resp = admin.patch(inv["url"], {"kind": "smart", "host_filter": "name=x"})
    assert resp.status_code == 405
    assert resp.json == {"error": 'You cannot turn a regular inventory into a "smart" or "constructed" inventory.'}
    smart = make_inv(kind="smart", host_filter="name=x")
    resp = admin.patch(smart["url"], {"kind": None, "description": "d"})
    assert resp.status_code == 200 and resp.json["kind"] == "smart"
    assert admin.patch(smart["url"], {"kind": ""}).json["kind"] == "smart"


# -- hosts and groups -----------------------------------------------------------------------------
def test_host_rules(admin, make_inv):
    inv = make_inv()
    _group(admin, inv, "dbs")
    clash = admin.post(f"{V2}/hosts/", {"name": "dbs", "inventory": inv["id"]})
    assert clash.status_code == 400 and clash.json == {"__all__": ["A Group with that name already exists."]}
    _host(admin, inv, "h1")
    dup = admin.post(f"{V2}/hosts/", {"name": "h1", "inventory": inv["id"]})
    assert dup.json == {"__all__": ["Host with this Name and Inventory already exists."]}
    port = _host(admin, inv, "ssh.example.com:2222", variables="{\"a\": 1}")
    assert port["name"] == "ssh.example.com"
    assert json.loads(port["variables"]) == {"a": 1, "ansible_ssh_port": 2222}
    bad = admin.post(f"{V2}/hosts/", {"name": "x:99999", "inventory": inv["id"]})
    assert bad.status_code == 400 and bad.json == {"name": ["Invalid port specification: 99999"]}
    ipv6 = _host(admin, inv, "fe80::1")
    assert ipv6["name"] == "fe80::1"
    other = make_inv()
    # inventory is set on create only
    moved = admin.patch(port["url"], {"inventory": other["id"]})
    assert moved.status_code == 200 and moved.json["inventory"] == inv["id"]
    disabled = admin.patch(port["url"], {"enabled": False})
    assert disabled.json["enabled"] is False
    assert admin.get(f"{V2}/hosts/?inventory={inv['id']}&enabled=false").json["count"] == 1


def test_group_rules(admin, make_inv):
    inv = make_inv()
    for bad in ("all", "_meta"):
        resp = admin.post(f"{V2}/groups/", {"name": bad, "inventory": inv["id"]})
        assert resp.status_code == 400 and resp.json == {"name": ["Invalid group name."]}
    _host(admin, inv, "web")
    clash = admin.post(f"{V2}/groups/", {"name": "web", "inventory": inv["id"]})
    assert clash.json == {"__all__": ["A Host with that name already exists."]}
    resp = admin.post(f"{V2}/groups/", {"name": "g"})
    assert resp.json == {"inventory": ["This field is required."]}


def test_group_hierarchy(admin, make_inv):
    inv = make_inv()
    g = {n: _group(admin, inv, n) for n in ("top", "mid", "leaf", "side")}
    h = {n: _host(admin, inv, n) for n in ("h-top", "h-mid", "h-leaf", "h-none")}
    assert _link(admin, f"{g['top']['url']}children/", g["mid"]["id"]).status_code == 204
    assert _link(admin, f"{g['mid']['url']}children/", g["leaf"]["id"]).status_code == 204
    for group, host in (("top", "h-top"), ("mid", "h-mid"), ("leaf", "h-leaf")):
        assert _link(admin, f"{g[group]['url']}hosts/", h[host]["id"]).status_code == 204
    assert _names(admin, f"{g['top']['url']}children/") == ["mid"]
    assert _names(admin, f"{g['top']['url']}hosts/") == ["h-top"]
    assert _names(admin, f"{g['top']['url']}all_hosts/") == ["h-leaf", "h-mid", "h-top"]
    assert _names(admin, f"{g['mid']['url']}all_hosts/") == ["h-leaf", "h-mid"]
    assert _names(admin, f"{h['h-leaf']['url']}all_groups/") == ["leaf", "mid", "top"]
    assert _names(admin, f"{h['h-leaf']['url']}groups/") == ["leaf"]
    assert _names(admin, f"{inv['url']}root_groups/") == ["side", "top"]
    assert _names(admin, f"{g['mid']['url']}potential_children/") == ["side"]
    assert _names(admin, f"{g['side']['url']}potential_children/") == ["leaf", "mid", "top"]
    # cycles: self, direct and indirect
    for parent, child in (("top", "top"), ("mid", "top"), ("leaf", "top")):
        resp = _link(admin, f"{g[parent]['url']}children/", g[child]["id"])
        assert resp.status_code == 400 and resp.json == {"error": "Cyclical Group association."}
    # a diamond is not a cycle
    assert _link(admin, f"{g['side']['url']}children/", g["leaf"]["id"]).status_code == 204
    assert _names(admin, f"{h['h-leaf']['url']}all_groups/") == ["leaf", "mid", "side", "top"]
    # filters through the relations
    assert _names(admin, f"{V2}/hosts/?groups__name=leaf") == ["h-leaf"]
    assert _names(admin, f"{V2}/groups/?inventory={inv['id']}&children__name=leaf") == ["mid", "side"]
    # detaching keeps both objects
    assert _link(admin, f"{g['top']['url']}children/", g["mid"]["id"], off=True).status_code == 204
    assert _names(admin, f"{g['top']['url']}all_hosts/") == ["h-top"]
    assert admin.get(g["mid"]["url"]).status_code == 200
    # deleting a group deletes the hosts it alone held (AWX's recursive delete)
    assert admin.delete(g["leaf"]["url"]).status_code == 204
    assert admin.get(h["h-leaf"]["url"]).status_code == 404


def test_cross_inventory_links_refused(admin, make_inv):
    a, b = make_inv(), make_inv()
    ga, gb = _group(admin, a, "ga"), _group(admin, b, "gb")
    hb = _host(admin, b, "hb")
    expected = {"detail": "Cannot associate two items from different inventories."}
    for url, child in ((f"{ga['url']}children/", gb), (f"{ga['url']}hosts/", hb),
                       (f"{hb['url']}groups/", ga), (f"{a['url']}hosts/", hb), (f"{a['url']}groups/", gb)):
        resp = _link(admin, url, child["id"])
        assert resp.status_code == 400 and resp.json == expected, url
    # disassociating another inventory's host through /inventories/A/hosts/ must not delete it
    assert _link(admin, f"{a['url']}hosts/", hb["id"], off=True).status_code == 400
    assert admin.get(hb["url"]).status_code == 200


def test_create_through_sub_lists(admin, make_inv):
    inv = make_inv()
    group = _group(admin, inv, "web")
    made = admin.post(f"{group['url']}hosts/", {"name": "w1", "variables": "x: 1"})
    assert made.status_code == 201 and made.json["inventory"] == inv["id"]
    assert _names(admin, f"{group['url']}hosts/") == ["w1"]
    # a known name with empty variables attaches the existing host (AWX quirk)
    bare = _host(admin, inv, "w2")
    again = admin.post(f"{group['url']}hosts/", {"name": "w2", "variables": "---"})
    assert again.status_code == 204
    assert _names(admin, f"{group['url']}hosts/") == ["w1", "w2"]
    assert admin.get(f"{V2}/hosts/?inventory={inv['id']}&name=w2").json["results"][0]["id"] == bare["id"]
    child = admin.post(f"{group['url']}children/", {"name": "web-eu"})
    assert child.status_code == 201 and child.json["inventory"] == inv["id"]
    assert _names(admin, f"{group['url']}children/") == ["web-eu"]
    made = admin.post(f"{bare['url']}groups/", {"name": "db"})
    assert made.status_code == 201 and _names(admin, f"{bare['url']}groups/") == ["db", "web"]
    via_inv = admin.post(f"{inv['url']}hosts/", {"name": "w3"})
    assert via_inv.status_code == 201 and via_inv.json["inventory"] == inv["id"]
    assert admin.post(f"{inv['url']}groups/", {"name": "g3"}).json["inventory"] == inv["id"]
    # disassociate from the inventory's host list deletes the host (AWX parent-key rule)
    assert _link(admin, f"{inv['url']}hosts/", via_inv.json["id"], off=True).status_code == 204
    assert admin.get(via_inv.json["url"]).status_code == 404


# -- smart inventories and host_filter ----------------------------------------------------------
def test_host_filter_parser():
    assert parse("name=a") == Term("name", "a")
    assert parse("name=a and groups__name=b or name='c d'") == Op(
        "or", (Op("and", (Term("name", "a"), Term("groups__name", "b"))), Term("name", "c d")))
    assert parse('(name="x y" or name=z) and enabled=true') == Op(
        "and", (Op("or", (Term("name", "x y"), Term("name", "z"))), Term("enabled", "true")))
    assert parse("name=") == Term("name", "")
    assert parse("name = a") == Term("name", "a")
    for bad in ("", "name", "name=a b=c", "(name=a", "name=a)", "name=a and", "and name=a", "name='open"):
        with pytest.raises(HostFilterError):
            parse(bad)


@pytest.fixture(scope="module")
def fleet(admin, make_org, make_inv):
    """Two organizations' inventories with grouped hosts, for smart-inventory tests."""
    org2 = make_org(unique("smart-org"))
    east = make_inv(unique("US-East"), organization=org2["id"])
    west = make_inv(unique("US West"), organization=org2["id"])
    elsewhere = make_inv(unique("Other"))
    hosts = {}
    for inv, names in ((east, ("web1", "web2", "db1")), (west, ("web3", "db2")), (elsewhere, ("web9",))):
        for n in names:
            hosts[n] = _host(admin, inv, n, description=f"{n} box")
    for inv, group, members in ((east, "east", ("web1", "db1")), (west, "west", ("web3",))):
        grp = _group(admin, inv, group)
        for m in members:
            assert _link(admin, f"{grp['url']}hosts/", hosts[m]["id"]).status_code == 204
    return {"org": org2, "east": east, "west": west, "other": elsewhere, "hosts": hosts}


@pytest.mark.parametrize("expr, expected", [
    ("name=web1", ["web1"]),
    ("name__icontains=WEB", ["web1", "web2", "web3"]),
    ("groups__name=east", ["db1", "web1"]),
    ("name__startswith=web and groups__name=east", ["web1"]),
    ("groups__name=east or groups__name=west", ["db1", "web1", "web3"]),
    ("name=db1 or name=db2 and groups__name=west", ["db1"]),
    ("(name=db1 or name=db2) and groups__name=east", ["db1"]),
    ("inventory__name='{west}'", ["db2", "web3"]),
    ('inventory__name="{west}" and not__name=db2', ["web3"]),
    ("search=db", ["db1", "db2"]),
    ("groups__search=wes", ["web3"]),
    ("group__search=eas", ["db1", "web1"]),
])
def test_smart_inventory_hosts(admin, fleet, make_inv, expr, expected):
    expr = expr.format(west=fleet["west"]["name"])
    smart = make_inv(kind="smart", host_filter=expr, organization=fleet["org"]["id"])
    assert smart["host_filter"] == expr
    assert _names(admin, f"{smart['url']}hosts/") == expected
    assert smart["total_hosts"] == len(expected)
    # the same filter on /hosts/ is not restricted to one organization
    assert set(expected) <= set(_names(admin, f"{V2}/hosts/?host_filter={expr}"))


def test_smart_inventory_rules(admin, fleet, make_inv, org):
    resp = admin.post(f"{V2}/inventories/", {"name": unique("s"), "organization": org["id"], "kind": "smart"})
    assert resp.status_code == 400 and resp.json == {"host_filter": ["Smart inventories must specify host_filter"]}
    for bad in ("name=a b=c", "nosuch=1", "ansible_facts__os=linux", "page=2"):
        resp = admin.post(f"{V2}/inventories/", {"name": unique("s"), "organization": org["id"],
                                                 "kind": "smart", "host_filter": bad})
        assert resp.status_code == 400 and list(resp.json) == ["host_filter"], (bad, resp.json)
    smart = make_inv(kind="smart", host_filter="name__startswith=web", organization=fleet["org"]["id"])
    assert _names(admin, f"{smart['url']}hosts/") == ["web1", "web2", "web3"]   # not web9: other org
    resp = admin.post(f"{V2}/hosts/", {"name": "new", "inventory": smart["id"]})
    assert resp.status_code == 400
    assert resp.json == {"inventory": {"detail": "Cannot create Host for Smart or Constructed Inventories"}}
    assert admin.post(f"{smart['url']}hosts/", {"name": "new"}).status_code == 400
    resp = admin.post(f"{V2}/groups/", {"name": "g", "inventory": smart["id"]})
    assert resp.json == {"inventory": ["Cannot create Group for Smart or Constructed Inventories"]}
    web1 = fleet["hosts"]["web1"]["id"]
    assert _link(admin, f"{smart['url']}hosts/", web1, off=True).status_code == 400
    assert admin.get(f"{V2}/hosts/{web1}/").status_code == 200
    script = admin.get(f"{smart['url']}script/?hostvars=1").json
    assert sorted(script["all"]["hosts"]) == ["web1", "web2", "web3"]
    assert set(script["_meta"]["hostvars"]) == {"web1", "web2", "web3"}
    bad = admin.get(f"{V2}/hosts/?host_filter=name=a b=c")
    assert bad.status_code == 400 and set(bad.json) == {"error"}


def test_smart_inventory_readers_see_its_hosts_and_no_more(admin, make_user, fleet, make_inv):
    """AWX InventoryHostsList.filter_read_permission = False: a smart inventory's reader lists
    every host it matches; the hosts themselves and /hosts/ stay as their inventories allow."""
    smart = make_inv(kind="smart", host_filter="name__startswith=web", organization=fleet["org"]["id"])
    uid, user = make_user()
    _grant(admin, uid, smart, "read_role")
    assert _names(user, f"{smart['url']}hosts/") == ["web1", "web2", "web3"]
    assert user.get(f"{smart['url']}hosts/?name=web1").json["count"] == 1
    web1 = fleet["hosts"]["web1"]["id"]
    assert user.get(f"{V2}/hosts/{web1}/").status_code in (403, 404)
    assert _names(user, f"{V2}/hosts/?host_filter=name__startswith=web") == []
    _grant(admin, uid, fleet["west"], "read_role")
    assert _names(user, f"{V2}/hosts/?host_filter=name__startswith=web") == ["web3"]
    _, stranger = make_user()
    assert stranger.get(f"{smart['url']}hosts/").status_code == 403


# -- script ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scripted(admin, make_inv):
    inv = make_inv(variables="inv_var: 1\n")
    g = {n: _group(admin, inv, n, variables=v) for n, v in
         (("web", "{\"http_port\": 80}"), ("db", ""), ("web_eu", "region: eu"), ("empty", ""))}
    h = {n: _host(admin, inv, n, variables=v) for n, v in
         (("w1", "{\"ansible_host\": \"10.0.0.1\"}"), ("w2", ""), ("d1", "role: db"), ("loose", "x: [1, 2]"))}
    off = _host(admin, inv, "off", enabled=False)
    links = ((g["web"], h["w1"]), (g["web_eu"], h["w2"]), (g["db"], h["d1"]), (g["db"], off))
    for group, host in links:
        assert _link(admin, f"{group['url']}hosts/", host["id"]).status_code == 204
    assert _link(admin, f"{g['web']['url']}children/", g["web_eu"]["id"]).status_code == 204
    h["off"] = off
    return inv, g, h


def test_script_shape(admin, scripted):
    inv, g, h = scripted
    inv = admin.get(inv["url"]).json   # detail: carries related.named_url
    data = admin.get(f"{inv['url']}script/").json
    assert data == {
        "all": {"hosts": ["loose"], "children": ["db", "empty", "web", "web_eu"], "vars": {"inv_var": 1}},
        "web": {"hosts": ["w1"], "children": ["web_eu"], "vars": {"http_port": 80}},
        "web_eu": {"hosts": ["w2"], "vars": {"region": "eu"}},
        "db": {"hosts": ["d1"]},
    }
    full = admin.get(f"{inv['url']}script/?hostvars=1&towervars=1&all=1").json
    assert full["db"]["hosts"] == ["d1", "off"]
    assert full["_meta"]["hostvars"]["off"] == {"remote_tower_enabled": "false", "remote_tower_id": h["off"]["id"],
                                                "remote_host_enabled": "false", "remote_host_id": h["off"]["id"]}
    assert full["_meta"]["hostvars"]["w1"]["ansible_host"] == "10.0.0.1"
    assert full["_meta"]["hostvars"]["w1"]["remote_tower_enabled"] == "true"
    plain = admin.get(f"{inv['url']}script/?hostvars=1").json["_meta"]["hostvars"]
    assert plain == {"d1": {"role": "db"}, "loose": {"x": [1, 2]}, "w1": {"ansible_host": "10.0.0.1"}, "w2": {}}
    # the awx.awx inventory plugin asks by named URL
    named = admin.get(f"{inv['related']['named_url']}script/?hostvars=1&towervars=1&all=1")
    assert named.status_code == 200 and named.json == full
    assert admin.get(f"{inv['url']}script/?host=d1").json == {"role": "db"}
    assert admin.get(f"{inv['url']}script/?host=off").status_code == 404
    first = admin.get(f"{inv['url']}script/?hostvars=1&subset=slice1of2").json["_meta"]["hostvars"]
    second = admin.get(f"{inv['url']}script/?hostvars=1&subset=slice2of2").json["_meta"]["hostvars"]
    assert sorted([*first, *second]) == ["d1", "loose", "w1", "w2"] and not set(first) & set(second)
    assert admin.get(f"{inv['url']}script/?subset=slice3of2").status_code == 400
    assert admin.get(f"{inv['url']}script/?subset=bogus").status_code == 400


def _ansible_inventory() -> str:
    exe = Path(sys.executable).with_name("ansible-inventory")
    assert exe.exists(), "ansible-core must be installed in the project environment (pyproject dependency)"
    return str(exe)


def test_script_is_accepted_by_ansible_inventory(admin, scripted, tmp_path):
    """The real ``ansible-inventory`` reads the script output (through the ``script`` inventory
    plugin, which is what this format is for) and sees the same hosts, groups and variables."""
    inv, _, _ = scripted
    data = admin.get(f"{inv['url']}script/?hostvars=1").json
    (tmp_path / "inventory.json").write_text(json.dumps(data))
    script = tmp_path / "inventory.sh"
    script.write_text(f"#!/bin/sh\ncat '{tmp_path / 'inventory.json'}'\n")
    script.chmod(0o755)
    env = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1", "ANSIBLE_INVENTORY_ENABLED": "script"}
    proc = subprocess.run([_ansible_inventory(), "-i", str(script), "--list", "--export"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    hostvars = seen["_meta"]["hostvars"]
    assert {h: v for h, v in hostvars.items() if v} == {h: v for h, v in data["_meta"]["hostvars"].items() if v}
    all_hosts = {h for g, v in seen.items() if g != "_meta" for h in v.get("hosts", [])}
    assert all_hosts == set(data["_meta"]["hostvars"])
    assert seen["all"]["vars"] == data["all"]["vars"]
    assert set(data["all"]["children"]) <= set(seen["all"]["children"])
    for group in data["all"]["children"]:
        mine = data.get(group, {})
        theirs = seen.get(group, {})
        assert sorted(theirs.get("hosts", [])) == sorted(mine.get("hosts", [])), group
        assert sorted(theirs.get("children", [])) == sorted(mine.get("children", [])), group
        assert theirs.get("vars", {}) == mine.get("vars", {}), group
    assert seen["ungrouped"]["hosts"] == data["all"]["hosts"]


def test_script_scales_to_10000_hosts(admin, app_state, make_inv):
    inv = make_inv()
    store = app_state.store
    with store.transaction():
        store.conn.executemany(
            'INSERT INTO "hosts" (name, inventory, enabled, variables, description, instance_id) '
            "VALUES (?, ?, 1, ?, '', '')",
            [(f"h{i:05d}", inv["id"], f"{{\"n\": {i % 7}}}" if i % 3 else "role: x") for i in range(10000)])
        for gi in range(50):
            gid = store.insert("groups", {"name": f"g{gi}", "inventory": inv["id"], "variables": "", "description": ""})
            store.conn.executemany("INSERT INTO group_hosts (group_id, host_id) SELECT ?, id FROM hosts "
                                   "WHERE inventory = ? AND id % 50 = ?", [(gid, inv["id"], gi)])
    with traced(store) as statements:
        started = time.monotonic()
        resp = admin.get(f"{inv['url']}script/?hostvars=1&towervars=1&all=1")
        elapsed = time.monotonic() - started
    assert resp.status_code == 200
    data = resp.json
    assert len(data["_meta"]["hostvars"]) == 10000 and len(data["all"]["children"]) == 50
    assert sum(len(data[f"g{i}"]["hosts"]) for i in range(50)) == 10000
    assert len(statements) < 30, statements   # no per-host queries
    assert elapsed < 10, elapsed
    assert admin.get(inv["url"]).json["total_hosts"] == 10000
    assert admin.delete(inv["url"]).status_code == 202
    assert store.count("hosts", "inventory = ?", [inv["id"]]) == 0


# -- counters, deletion, copy ---------------------------------------------------------------------
def test_counters_and_summaries(admin, make_inv, org):
    inv = make_inv()
    hosts = [_host(admin, inv, f"c{i}") for i in range(7)]
    groups = [_group(admin, inv, f"cg{i}") for i in range(6)]
    for grp in groups:
        assert _link(admin, f"{grp['url']}hosts/", hosts[0]["id"]).status_code == 204
    got = admin.get(inv["url"]).json
    assert (got["total_hosts"], got["total_groups"]) == (7, 6)
    listed = admin.get(f"{V2}/inventories/?id={inv['id']}").json["results"][0]
    assert (listed["total_hosts"], listed["total_groups"]) == (7, 6)
    summary = admin.get(hosts[0]["url"]).json["summary_fields"]
    assert summary["inventory"]["total_hosts"] == 7 and summary["inventory"]["total_groups"] == 6
    assert summary["inventory"]["organization_id"] == org["id"] and summary["inventory"]["kind"] == ""
    assert summary["groups"]["count"] == 6
    assert [g["name"] for g in summary["groups"]["results"]] == ["cg0", "cg1", "cg2", "cg3", "cg4"]
    assert admin.get(groups[0]["url"]).json["summary_fields"]["inventory"]["total_hosts"] == 7
    counts = admin.get(f"{V2}/organizations/?id={org['id']}").json["results"][0]
    assert counts["summary_fields"]["related_field_counts"]["inventories"] >= 1
    assert inv["id"] in [r["id"] for r in admin.get(f"{org['url']}inventories/?page_size=200").json["results"]]


def test_delete_inventory_is_202_and_removes_contents(admin, make_inv, app_state):
    inv = make_inv()
    group = _group(admin, inv, "dg")
    child = _group(admin, inv, "dg2")
    host = _host(admin, inv, "dh")
    _link(admin, f"{group['url']}hosts/", host["id"])
    _link(admin, f"{group['url']}children/", child["id"])
    resp = admin.delete(inv["url"])
    assert resp.status_code == 202
    for url in (inv["url"], group["url"], child["url"], host["url"]):
        assert admin.get(url).status_code == 404
    store = app_state.store
    assert store.count("group_hosts", "host_id = ?", [host["id"]]) == 0
    assert store.count("group_children", "parent_id = ?", [group["id"]]) == 0


def test_copy_is_deep(admin, scripted):
    inv, _, _ = scripted
    copied = admin.post(f"{inv['url']}copy/", {"name": unique("copy")})
    assert copied.status_code == 201, copied.json
    new = copied.json
    assert new["id"] != inv["id"] and new["variables"] == inv["variables"]
    original = admin.get(f"{inv['url']}script/?hostvars=1&all=1").json
    assert admin.get(f"{new['url']}script/?hostvars=1&all=1").json == original
    assert admin.get(f"{inv['url']}copy/").json == {"can_copy": True}


# -- access ------------------------------------------------------------------------------------------
def test_rbac_inventory_roles(admin, make_user, make_org, app):
    org = make_org(unique("rbac-org"))
    inv = admin.post(f"{V2}/inventories/", {"name": unique("rinv"), "organization": org["id"]}).json
    other = admin.post(f"{V2}/inventories/", {"name": unique("rinv"), "organization": org["id"]}).json
    group = _group(admin, inv, "rg")
    host = _host(admin, inv, "rh")
    users = {}
    for role in ("admin_role", "use_role", "read_role", "adhoc_role", "update_role", None):
        uid, client = make_user()
        if role:
            _grant(admin, uid, inv, role)
        users[role or "outsider"] = (uid, client)
    for role, (uid, client) in users.items():
        can_read = role != "outsider"
        can_edit = role == "admin_role"
        assert (client.get(inv["url"]).status_code == 200) is can_read, role
        assert (client.get(host["url"]).status_code == 200) is can_read, role
        assert (client.get(group["url"]).status_code == 200) is can_read, role
        assert ("rh" in _names(client, f"{V2}/hosts/?inventory={inv['id']}")) is can_read
        assert ("rg" in _names(client, f"{V2}/groups/?inventory={inv['id']}")) is can_read
        if not can_read:
            assert client.get(f"{V2}/hosts/?inventory={inv['id']}").json["count"] == 0
        assert client.get(other["url"]).status_code == 403
        expect = 200 if can_edit else 403
        assert client.patch(host["url"], {"description": role}).status_code == expect, role
        assert client.patch(group["url"], {"description": role}).status_code == expect, role
        assert client.patch(inv["url"], {"description": role}).status_code == expect, role
        made = client.post(f"{V2}/hosts/", {"name": f"new-{uid}", "inventory": inv["id"]})
        assert made.status_code == (201 if can_edit else 403), (role, made.json)
        made = client.post(f"{inv['url']}groups/", {"name": f"g-{uid}"})
        assert made.status_code == (201 if can_edit else 403), (role, made.json)
        assert client.post(f"{V2}/hosts/", {"name": f"x-{uid}", "inventory": other["id"]}).status_code == 403
        assert client.post(f"{V2}/inventories/", {"name": unique("no"), "organization": org["id"]}).status_code == 403
        if can_read:
            caps = client.get(host["url"]).json["summary_fields"]["user_capabilities"]
            assert caps == {"edit": can_edit, "delete": can_edit}
    admin_client = users["admin_role"][1]
    assert _link(admin_client, f"{group['url']}hosts/", host["id"]).status_code == 204
    assert _link(users["use_role"][1], f"{group['url']}hosts/", host["id"], off=True).status_code == 403
    assert admin_client.delete(host["url"]).status_code == 204
    assert admin_client.delete(inv["url"]).status_code == 202
    assert users["read_role"][1].get(f"{V2}/hosts/?inventory={inv['id']}").json["count"] == 0


def test_rbac_org_inventory_admin(admin, make_user, make_org):
    org = make_org(unique("inv-admin-org"))
    uid, client = make_user()
    _grant(admin, uid, org, "inventory_admin_role")
    resp = client.post(f"{V2}/inventories/", {"name": unique("mine"), "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    assert _host(client, resp.json, "ok")["inventory"] == resp.json["id"]
    made_by_admin = admin.post(f"{V2}/inventories/", {"name": unique("theirs"), "organization": org["id"]}).json
    assert client.patch(made_by_admin["url"], {"description": "x"}).status_code == 200
    aid, auditor = make_user()
    _grant(admin, aid, org, "auditor_role")
    assert auditor.get(made_by_admin["url"]).status_code == 200
    assert auditor.patch(made_by_admin["url"], {"description": "y"}).status_code == 403
    assert _host(admin, made_by_admin, "seen")["id"] in [
        r["id"] for r in auditor.get(f"{V2}/hosts/?inventory={made_by_admin['id']}").json["results"]]


def test_bulk_inventory_clear_honours_references(tmp_path):
    """Deleting an inventory's contents set-wise has the generic cascade's effects on rows
    that refer to hosts (nulled for set_null, deleted for cascade), whatever declares them."""
    from controller.context import Context
    from controller.resources import build_registry
    from controller.registry import Field, Resource
    from controller.services import inventory_contents
    from controller.store import Store

    reg = build_registry()
    reg.add(Resource(name="host_note", plural="host_notes",
                     fields=[Field("host", "id", fk="host", null=True, on_delete="set_null")]))
    reg.add(Resource(name="host_tag", plural="host_tags",
                     fields=[Field("host", "id", fk="host", on_delete="cascade")]))
    store = Store(str(tmp_path / "db.sqlite"))
    store.migrate(reg)
    ctx = Context(store=store, registry=reg, settings=None)
    with store.transaction():
        keep, gone = store.insert("inventories", {"name": "keep"}), store.insert("inventories", {"name": "gone"})
        h_keep = store.insert("hosts", {"name": "a", "inventory": keep})
        h_gone = store.insert("hosts", {"name": "a", "inventory": gone})
        g_gone = store.insert("groups", {"name": "g", "inventory": gone})
        store.insert("group_hosts", {"group_id": g_gone, "host_id": h_gone})
        note = store.insert("host_notes", {"name": "n", "host": h_gone})
        store.insert("host_tags", {"name": "t", "host": h_gone})
        store.insert("host_tags", {"name": "t", "host": h_keep})
        inventory_contents.clear_contents(ctx, gone)
    assert [r["id"] for r in store.query("SELECT id FROM hosts")] == [h_keep]
    assert store.count("groups") == 0 and store.count("group_hosts") == 0
    assert store.get("host_notes", note)["host"] is None
    assert [r["host"] for r in store.query("SELECT host FROM host_tags")] == [h_keep]
    store.close()


def test_options_drive_the_awx_cli(admin):
    post = admin.options(f"{V2}/inventories/").json["actions"]["POST"]
    assert post["organization"]["type"] == "id" and post["organization"]["required"] is True
    assert post["kind"]["choices"] == [["", "Hosts have a direct link to this inventory."],
                                       ["smart", "Hosts for inventory generated using the host_filter property."],
                                       ["constructed", "Parse list of source inventories with the constructed "
                                                       "inventory plugin."]]
    assert post["variables"]["type"] == "json" and "total_hosts" not in post
    host_post = admin.options(f"{V2}/hosts/").json["actions"]["POST"]
    assert {"name", "description", "inventory", "enabled", "instance_id", "variables"} == set(host_post)
    assert set(admin.options(f"{V2}/groups/").json["actions"]["POST"]) == {"name", "description", "inventory",
                                                                          "variables"}
    assert admin.options(f"{V2}/inventories/").json["object_roles"] == [
        "admin_role", "update_role", "adhoc_role", "use_role", "read_role"]


def test_group_disassociated_from_its_inventory_is_deleted_alone(admin, make_inv):
    """AWX InventoryGroupsList (parent_key "inventory") deletes the group with a plain delete,
    not GroupDetail's recursive one: its hosts and child groups survive and move up to its
    parents (AWX's post_delete signal).  /groups/N/children/ and /hosts/N/groups/ only unlink."""
    inv = make_inv()
    g = {n: _group(admin, inv, n) for n in ("top", "mid", "leaf", "solo", "other")}
    h = {n: _host(admin, inv, n) for n in ("h-mid", "h-leaf", "h-solo", "h-x")}
    for parent, child in (("top", "mid"), ("mid", "leaf")):
        assert _link(admin, f"{g[parent]['url']}children/", g[child]["id"]).status_code == 204
    for group, host in (("mid", "h-mid"), ("leaf", "h-leaf"), ("solo", "h-solo"), ("other", "h-x")):
        assert _link(admin, f"{g[group]['url']}hosts/", h[host]["id"]).status_code == 204
    resp = _link(admin, f"{inv['url']}groups/", g["mid"]["id"], off=True)
    assert resp.status_code == 204, resp.json
    assert admin.get(g["mid"]["url"]).status_code == 404
    assert admin.get(g["leaf"]["url"]).status_code == 200 and admin.get(h["h-mid"]["url"]).status_code == 200
    assert _names(admin, f"{g['top']['url']}children/") == ["leaf"]        # moved up to mid's parent
    assert _names(admin, f"{g['top']['url']}hosts/") == ["h-mid"]
    assert _names(admin, f"{g['leaf']['url']}hosts/") == ["h-leaf"]
    entries = admin.get(f"{V2}/activity_stream/?object1=group&page_size=10&order_by=-id").json["results"]
    mine = [(e["operation"], e["object_association"], e["summary_fields"].get("group", [{}])[0].get("id"))
            for e in entries if e["operation"] in ("delete", "associate")]
    assert ("delete", "", g["mid"]["id"]) in mine
    assert ("associate", "hosts", g["top"]["id"]) in mine and ("associate", "children", g["top"]["id"]) in mine
    # a group with no parent: its host stays in the inventory, in no group
    assert _link(admin, f"{inv['url']}groups/", g["solo"]["id"], off=True).status_code == 204
    assert admin.get(g["solo"]["url"]).status_code == 404
    assert admin.get(f"{h['h-solo']['url']}groups/").json["count"] == 0
    assert _names(admin, f"{inv['url']}hosts/") == ["h-leaf", "h-mid", "h-solo", "h-x"]
    # the other sub-lists only unlink
    assert _link(admin, f"{g['top']['url']}children/", g["leaf"]["id"], off=True).status_code == 204
    assert _link(admin, f"{h['h-x']['url']}groups/", g["other"]["id"], off=True).status_code == 204
    assert admin.get(g["leaf"]["url"]).status_code == 200 and admin.get(g["other"]["url"]).status_code == 200
    assert _names(admin, f"{inv['url']}root_groups/") == ["leaf", "other", "top"]
    assert admin.get(f"{h['h-x']['url']}groups/").json["count"] == 0
    # DELETE /groups/N/ stays recursive: top takes h-mid, which no other group holds
    assert admin.delete(g["top"]["url"]).status_code == 204
    assert admin.get(h["h-mid"]["url"]).status_code == 404 and admin.get(h["h-leaf"]["url"]).status_code == 200


def test_children_disassociate_without_id_deletes_the_parent_alone(admin, make_user, make_inv):
    """AWX GroupChildrenList.unattach: ``{"disassociate": true}`` with no "id" deletes the group
    itself (a plain delete, needing delete rights): its children and hosts move up to its parents."""
    inv = make_inv()
    g = {n: _group(admin, inv, n) for n in ("top", "mid", "leaf")}
    host = _host(admin, inv, "h-mid")
    assert _link(admin, f"{g['top']['url']}children/", g["mid"]["id"]).status_code == 204
    assert _link(admin, f"{g['mid']['url']}children/", g["leaf"]["id"]).status_code == 204
    assert _link(admin, f"{g['mid']['url']}hosts/", host["id"]).status_code == 204
    _, outsider = make_user()
    refused = outsider.post(f"{g['mid']['url']}children/", {"disassociate": True})
    assert refused.status_code in (403, 404) and admin.get(g["mid"]["url"]).status_code == 200
    resp = admin.post(f"{g['mid']['url']}children/", {"disassociate": True})
    assert resp.status_code == 204, resp.json
    assert admin.get(g["mid"]["url"]).status_code == 404
    assert _names(admin, f"{g['top']['url']}children/") == ["leaf"]
    assert _names(admin, f"{g['top']['url']}hosts/") == ["h-mid"]
    # other association lists keep DRF's answer
    no_id = admin.post(f"{host['url']}groups/", {"disassociate": True})
    assert no_id.status_code == 400 and no_id.json == {"msg": '"id" is required to disassociate'}

"""Constructed inventories driven by the real clients: the awx.awx 24.6.1 ``inventory`` and
``inventory_source`` modules run their own EXAMPLES (an inventory of kind ``constructed`` with two
input inventories, then the edit of its "Auto-created source for: <name>" source), each run
twice (``changed: false`` the second time), then ``inventory_source_update`` syncs it; and the
real ``awx`` CLI lists and creates them (``awx constructed_inventory ...``).  Every effect is read back
through the HTTP API.

awx.awx 24.6.1 facts relied on (plugins/modules/inventory.py, inventory_source.py): ``inventory``
POSTs ``kind`` to /inventories/ and associates ``input_inventories`` through the inventory's
``related.input_inventories``; ``inventory_source`` finds the source by name and inventory and
PATCHes name, inventory and the given options (``source_vars`` as a JSON string).
"""
from __future__ import annotations

import json
import sys

import pytest

from tests.support.api import expect, only

from .awx_collection import describe, ensure_awx_collection, run_recorded
from .clients import unique

pytestmark = pytest.mark.compat

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
# the inventory_source EXAMPLE's source_vars, as written there
EXAMPLE_VARS = {"plugin": "constructed", "strict": True, "use_vars_plugins": True,
                "groups": {"shutdown": 'resolved_state == "shutdown"',
                           "shutdown_in_product_dev":
                               'resolved_state == "shutdown" and account_alias == "product_dev"'},
                "compose": {"resolved_state": 'state | default("running")'}}


@pytest.fixture(scope="module")
def names(controller) -> dict:
    """The EXAMPLES' two input inventories (West and East Datacenter), with local hosts."""
    s = unique("ci").split("-", 1)[1]
    out = {"ci": f"My Constructed Inventory {s}", "west": f"West Datacenter {s}", "east": f"East Datacenter {s}"}
    with controller.client() as api:
        org = only(api, "/api/v2/organizations/", name="Default")
        for key, hosts in (("west", {"host3": {}, "host4": {"state": "shutdown"}}), ("east", {"host6": {}})):
            inv = expect(api.post("/api/v2/inventories/", json={"name": out[key], "organization": org["id"]}), 201)
            out[f"{key}_id"] = inv["id"]
            for host, variables in hosts.items():
                expect(api.post("/api/v2/hosts/", json={"name": host, "inventory": inv["id"],
                                                        "variables": json.dumps({**LOCAL, **variables})}), 201)
    return out


def _tasks(n: dict) -> list[dict]:
    inventory = {"name": n["ci"], "organization": "Default", "kind": "constructed",
                 "input_inventories": [n["west"], n["east"]]}
    source = {"name": f"Auto-created source for: {n['ci']}", "inventory": n["ci"], "limit": "host3,host4,host6",
              "source_vars": EXAMPLE_VARS}
    steps = [("ci_create", "inventory", inventory), ("ci_again", "inventory", inventory),
             ("source_edit", "inventory_source", source), ("source_again", "inventory_source", source),
             ("source_sync", "inventory_source_update", {"name": source["name"], "inventory": n["ci"],
                                                         "organization": "Default", "wait": True, "interval": 1,
                                                         "timeout": 120})]
    return [{"name": name, f"awx.awx.{module}": args, "register": f"r_{name}"} for name, module, args in steps]


@pytest.fixture(scope="module")
def results(controller, names, tmp_path_factory) -> dict:
    ensure_awx_collection()
    work = tmp_path_factory.mktemp("awx-constructed")
    got, proc = run_recorded(controller, work, "constructed", _tasks(names))
    failed = {k: v.get("msg") for k, v in got.items() if v.get("failed")}
    assert not failed, json.dumps(failed, indent=2) + "\n" + describe(proc)
    return got


def test_inventory_module_makes_a_constructed_inventory(results, api, names):
    assert [bool(results[t]["changed"]) for t in ("ci_create", "ci_again")] == [True, False]
    ci = only(api, "/api/v2/inventories/", name=names["ci"])
    assert ci["kind"] == "constructed"
    inputs = expect(api.get(f"/api/v2/inventories/{ci['id']}/input_inventories/"), 200)["results"]
    assert [i["id"] for i in inputs] == [names["west_id"], names["east_id"]]
    listed = expect(api.get("/api/v2/constructed_inventories/", params={"name": names["ci"]}), 200)["results"]
    assert [r["id"] for r in listed] == [ci["id"]]


def test_inventory_source_module_edits_the_auto_created_source(results, api, names):
    assert [bool(results[t]["changed"]) for t in ("source_edit", "source_again")] == [True, False]
    ci = only(api, "/api/v2/inventories/", name=names["ci"])
    source = only(api, "/api/v2/inventory_sources/", inventory=ci["id"])
    assert source["name"] == f"Auto-created source for: {names['ci']}" and source["source"] == "constructed"
    assert source["limit"] == "host3,host4,host6" and json.loads(source["source_vars"]) == EXAMPLE_VARS
    assert (source["overwrite"], source["overwrite_vars"], source["update_on_launch"]) == (True, True, True)
    # the constructed inventory shows the source's values (AWX's write-through fields)
    detail = expect(api.get(f"/api/v2/constructed_inventories/{ci['id']}/"), 200)
    assert detail["limit"] == "host3,host4,host6" and json.loads(detail["source_vars"]) == EXAMPLE_VARS


def test_sync_builds_the_constructed_groups(results, api, names):
    update = expect(api.get(f"/api/v2/inventory_updates/{results['source_sync']['id']}/"), 200)
    assert update["status"] == "successful", update["job_explanation"]
    ci = only(api, "/api/v2/inventories/", name=names["ci"])
    hosts = {h["name"]: h for h in expect(api.get(f"/api/v2/inventories/{ci['id']}/hosts/"), 200)["results"]}
    assert set(hosts) == {"host3", "host4", "host6"}
    assert json.loads(hosts["host3"]["variables"])["resolved_state"] == "running"
    shutdown = only(api, "/api/v2/groups/", inventory=ci["id"], name="shutdown")
    assert [h["name"] for h in expect(api.get(f"/api/v2/groups/{shutdown['id']}/hosts/"), 200)["results"]] == ["host4"]


def test_awx_cli_lists_and_creates_constructed_inventories(awx, api, names, results):
    # the CLI names its resources by the keys of /api/v2/ (AWX's key here is "constructed_inventory")
    listed = awx.json("constructed_inventory", "list", "--name", names["ci"])
    assert [r["name"] for r in listed["results"]] == [names["ci"]]
    name = f"{names['ci']} cli"
    created = awx.json("constructed_inventory", "create", "--name", name, "--organization", "Default",
                       "--limit", "host6", "--verbosity", "2")
    assert created["kind"] == "constructed" and created["limit"] == "host6"
    source = only(api, "/api/v2/inventory_sources/", inventory=created["id"])
    assert (source["name"], source["limit"], source["verbosity"]) == (f"Auto-created source for: {name}", "host6", 2)

"""Constructed inventories (AWX 24.6.1): ``kind: constructed`` through ``/inventories/`` and
``/constructed_inventories/``, the auto-created ``constructed`` source and its write-through
fields, AWX's refusals, visibility, a real sync over the input inventories and a real job on the
constructed hosts."""
from __future__ import annotations

import json
import sys

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, uniq, wait_finished

V2 = "/api/v2"
SOURCE_FIELDS = ("source_vars", "update_cache_timeout", "limit", "verbosity")
CONSTRUCTED_VARS = {"plugin": "constructed", "strict": True,
                    "groups": {"big": "memory | int >= 4096"},
                    "compose": {"tier_label": "tier ~ '-tier'"}}


def _sources(admin, inv: dict) -> list[dict]:
    return admin.get(f"{V2}/inventory_sources/?inventory={inv['id']}").json["results"]


def _constructed(admin, org: dict, name: str | None = None, **fields) -> dict:
    resp = admin.post(f"{V2}/constructed_inventories/", {"name": name or uniq("ci"), "organization": org["id"],
                                                         **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_kind_constructed_through_inventories_makes_the_auto_source(admin):
    org = make_org(admin)
    name = uniq("constructed")
    resp = admin.post(f"{V2}/inventories/", {"name": name, "organization": org["id"], "kind": "constructed"})
    assert resp.status_code == 201, resp.json
    inv = resp.json
    assert inv["kind"] == "constructed" and inv["type"] == "inventory"
    assert inv["related"]["constructed_url"] == f"{V2}/constructed_inventories/{inv['id']}/"
    assert inv["related"]["input_inventories"] == f"{V2}/inventories/{inv['id']}/input_inventories/"
    [source] = _sources(admin, inv)
    assert {k: source[k] for k in ("name", "source", "overwrite", "overwrite_vars", "update_on_launch",
                                   "source_vars", "limit", "verbosity", "update_cache_timeout", "timeout",
                                   "source_path", "credential", "source_project")} == {
        "name": f"Auto-created source for: {name}", "source": "constructed", "overwrite": True,
        "overwrite_vars": True, "update_on_launch": True, "source_vars": "", "limit": "", "verbosity": 1,
        "update_cache_timeout": 0, "timeout": 0, "source_path": "", "credential": None, "source_project": None}
    assert inv["total_inventory_sources"] == 1 and admin.get(inv["url"]).json["has_inventory_sources"] is True
    # the creation of the source is history, as AWX's signal records it
    entries = admin.get(f"{V2}/activity_stream/?object1=inventory_source&operation=create&page_size=200").json
    assert any(e["summary_fields"]["inventory_source"][0]["id"] == source["id"] for e in entries["results"])
    # a save that is not a create does not add a second source; a rename leaves its name alone (AWX)
    renamed = admin.patch(inv["url"], {"name": name + "-renamed", "description": "d"})
    assert renamed.status_code == 200, renamed.json
    assert [s["name"] for s in _sources(admin, inv)] == [f"Auto-created source for: {name}"]
    # deleting the inventory deletes its source
    assert admin.delete(inv["url"]).status_code == 202
    assert admin.get(source["url"]).status_code == 404


def test_constructed_inventories_endpoint_list_detail_and_write_through(admin):
    org = make_org(admin)
    root = admin.get(f"{V2}/").json
    assert root["constructed_inventory"] == f"{V2}/constructed_inventories/"
    regular = make_inventory(admin, org, hosts=())
    ci = _constructed(admin, org, source_vars=json.dumps(CONSTRUCTED_VARS), limit="web*",
                      update_cache_timeout=30, verbosity=2, kind="", host_filter="name=x")
    assert ci["kind"] == "constructed" and ci["type"] == "inventory"    # kind is read-only here
    assert ci["url"] == f"{V2}/constructed_inventories/{ci['id']}/"
    assert "host_filter" not in ci
    assert {k: ci[k] for k in SOURCE_FIELDS} == {"source_vars": json.dumps(CONSTRUCTED_VARS), "limit": "web*",
                                                "update_cache_timeout": 30, "verbosity": 2}
    [source] = _sources(admin, ci)
    assert {k: source[k] for k in SOURCE_FIELDS} == {k: ci[k] for k in SOURCE_FIELDS}
    # the row itself is an inventory of kind constructed, without a host filter
    stored = admin.get(f"{V2}/inventories/{ci['id']}/").json
    assert stored["kind"] == "constructed" and stored["host_filter"] is None
    # the list shows constructed inventories only; filters and search work
    listed = admin.get(f"{V2}/constructed_inventories/?organization={org['id']}").json
    assert [r["id"] for r in listed["results"]] == [ci["id"]] and listed["count"] == 1
    assert listed["results"][0]["limit"] == "web*"
    assert admin.get(f"{V2}/constructed_inventories/?search={ci['name']}").json["count"] == 1
    assert admin.get(f"{V2}/constructed_inventories/?id={regular['id']}").json["count"] == 0
    # PATCH writes through to the source; null means "not given" (AWX)
    resp = admin.patch(ci["url"], {"limit": "db*", "verbosity": None, "description": "x"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["limit"], resp.json["verbosity"], resp.json["description"]) == ("db*", 2, "x")
    assert admin.get(source["url"]).json["limit"] == "db*"
    # editing the source shows through the constructed inventory
    assert admin.patch(source["url"], {"update_cache_timeout": 5}).status_code == 200
    assert admin.get(ci["url"]).json["update_cache_timeout"] == 5
    bad = admin.patch(ci["url"], {"verbosity": 3, "source_vars": "a: [unclosed"})
    assert bad.status_code == 400 and set(bad.json) == {"verbosity"}
    bad = admin.patch(ci["url"], {"source_vars": "a: [unclosed"})
    assert bad.status_code == 400 and list(bad.json) == ["source_vars"]
    # OPTIONS: the extra fields are writable, kind is not, host_filter is gone
    post = admin.options(f"{V2}/constructed_inventories/").json["actions"]["POST"]
    assert set(SOURCE_FIELDS) <= set(post) and "kind" not in post and "host_filter" not in post
    assert post["verbosity"]["type"] == "integer" and post["verbosity"]["max_value"] == 2
    # named URL and sub-lists at this address
    assert admin.get(f"{V2}/constructed_inventories/{ci['name']}++{org['name']}/").json["id"] == ci["id"]
    assert admin.get(f"{ci['url']}inventory_sources/").json["results"][0]["id"] == source["id"]
    assert ci["related"]["copy"] == f"{V2}/inventories/{ci['id']}/copy/"
    copied = admin.post(ci["related"]["copy"], {"name": ci["name"] + " copy"})
    assert copied.status_code == 201 and copied.json["kind"] == "constructed", copied.json
    assert [s["name"] for s in _sources(admin, copied.json)] == [f"Auto-created source for: {ci['name']} copy"]
    # deleting through this address deletes the inventory and its source
    assert admin.delete(ci["url"]).status_code == 202
    assert admin.get(f"{V2}/inventories/{ci['id']}/").status_code == 404
    assert admin.get(source["url"]).status_code == 404


def test_awx_refusals_around_constructed_inventories(admin):
    org = make_org(admin)
    ci = _constructed(admin, org)
    other = _constructed(admin, org)
    regular = make_inventory(admin, org, hosts=())
    # no hosts, groups or second source of its own
    resp = admin.post(f"{V2}/hosts/", {"name": "h", "inventory": ci["id"]})
    assert resp.status_code == 400 and resp.json == {
        "inventory": {"detail": "Cannot create Host for Smart or Constructed Inventories"}}
    resp = admin.post(f"{ci['url']}inventory_sources/", {"name": "s", "source": "constructed"})
    assert resp.status_code == 400 and resp.json == {
        "inventory": {"detail": "Cannot create Inventory Source for Smart or Constructed Inventories"}}
    # a constructed inventory is no input of another
    resp = admin.post(f"{V2}/inventories/{ci['id']}/input_inventories/", {"id": other["id"]})
    assert resp.status_code == 400 and resp.json == {
        "error": "You cannot add a constructed inventory to another constructed inventory."}
    assert admin.post(f"{V2}/inventories/{ci['id']}/input_inventories/", {"id": regular["id"]}).status_code == 204
    # its source: only the four constructed fields change; the same values may be sent back
    [source] = _sources(admin, ci)
    resp = admin.patch(source["url"], {"overwrite": False})
    assert resp.status_code == 400 and resp.json == {
        "error": "Cannot change field 'overwrite' on a constructed inventory source."}
    resp = admin.patch(source["url"], {"name": source["name"], "inventory": ci["id"], "overwrite": True,
                                       "limit": "x", "source_vars": "plugin: constructed"})
    assert resp.status_code == 200 and (resp.json["limit"], resp.json["source_vars"]) == ("x", "plugin: constructed")
    # kind never changes, either way
    resp = admin.patch(f"{V2}/inventories/{ci['id']}/", {"kind": ""})     # AWX: an empty kind is "not given"
    assert resp.status_code == 200 and resp.json["kind"] == "constructed"
    resp = admin.patch(f"{V2}/inventories/{ci['id']}/", {"kind": "smart", "host_filter": "name=x"})
    assert resp.status_code == 405
    assert admin.get(f"{V2}/inventories/{ci['id']}/").json["kind"] == "constructed"


def test_visibility_and_rights_are_the_inventory_roles(admin, make_user):
    org = make_org(admin)
    ci = _constructed(admin, org)
    _uid, nobody = make_user()
    assert nobody.get(f"{V2}/constructed_inventories/").json["count"] == 0
    assert nobody.get(ci["url"]).status_code == 403
    assert nobody.post(f"{V2}/constructed_inventories/", {"name": uniq("ci"), "organization": org["id"]}
                       ).status_code == 403
    uid, reader = make_user()
    read_role = ci["summary_fields"]["object_roles"]["read_role"]["id"]
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": read_role}).status_code == 204
    assert [r["id"] for r in reader.get(f"{V2}/constructed_inventories/").json["results"]] == [ci["id"]]
    assert reader.get(ci["url"]).json["summary_fields"]["user_capabilities"]["edit"] is False
    assert reader.patch(ci["url"], {"limit": "x"}).status_code == 403
    uid, org_admin = make_user()
    admin_role = org["summary_fields"]["object_roles"]["inventory_admin_role"]["id"]
    assert admin.post(f"{V2}/users/{uid}/roles/", {"id": admin_role}).status_code == 204
    mine = org_admin.post(f"{V2}/constructed_inventories/", {"name": uniq("ci"), "organization": org["id"],
                                                              "limit": "a"})
    assert mine.status_code == 201 and mine.json["limit"] == "a"
    assert org_admin.patch(ci["url"], {"limit": "b"}).json["limit"] == "b"


def test_sync_builds_hosts_from_inputs_and_a_job_runs_on_them(admin, jobs, app_state):
    org = make_org(admin)
    web = make_inventory(admin, org, hosts=("web1", "web2"))
    db = make_inventory(admin, org, hosts=("db1",))
    for inv, memory in ((web, 8192), (db, 1024)):
        for host_id in inv["_hosts"].values():
            host = admin.get(f"{V2}/hosts/{host_id}/").json
            variables = {**json.loads(host["variables"]), "memory": memory, "tier": inv["name"][:3]}
            assert admin.patch(host["url"], {"variables": json.dumps(variables)}).status_code == 200
    ci = _constructed(admin, org, source_vars=json.dumps(CONSTRUCTED_VARS))
    for inp in (web, db):
        assert admin.post(f"{V2}/inventories/{ci['id']}/input_inventories/", {"id": inp["id"]}).status_code == 204
    project = make_project(admin, app_state.settings.data_dir, org, {
        "show.yml": "- hosts: big\n  gather_facts: false\n  tasks:\n"
                    "    - debug: msg=\"label={{ tier_label }}\"\n"})
    jt = make_jt(admin, project, ci, "show.yml")
    # the auto-created source updates on launch (AWX's update_on_launch), then the job runs on its hosts
    started = admin.post(f"{V2}/job_templates/{jt['id']}/launch/")
    assert started.status_code == 201, started.json
    job = wait_finished(admin, f"{V2}/jobs/{started.json['id']}/", timeout=120)
    stdout = admin.get(f"{V2}/jobs/{job['id']}/stdout/?format=txt").data.decode()
    assert job["status"] == "successful", stdout
    [source] = _sources(admin, ci)
    updates = admin.get(f"{source['url']}inventory_updates/").json["results"]
    assert [u["status"] for u in updates] == ["successful"] and updates[0]["launch_type"] == "dependency"
    hosts = {h["name"]: h for h in admin.get(f"{V2}/inventories/{ci['id']}/hosts/").json["results"]}
    assert set(hosts) == {"web1", "web2", "db1"}
    assert json.loads(hosts["web1"]["variables"])["tier_label"] == "inv-tier"
    big = admin.get(f"{V2}/groups/?inventory={ci['id']}&name=big").json["results"][0]
    assert {h["name"] for h in admin.get(f"{big['url']}hosts/").json["results"]} == {"web1", "web2"}
    summaries = admin.get(f"{V2}/jobs/{job['id']}/job_host_summaries/").json["results"]
    assert {s["host_name"] for s in summaries} == {"web1", "web2"}
    assert all(s["host"] == hosts[s["host_name"]]["id"] for s in summaries)
    assert "label=inv-tier" in stdout
    # the source's limit restricts what the import keeps (AWX: ansible-inventory --limit); with
    # overwrite on, the hosts outside it leave the constructed inventory
    assert admin.patch(ci["url"], {"limit": "db*"}).json["limit"] == "db*"
    update = admin.post(f"{source['url']}update/")
    assert update.status_code == 202, update.json
    done = wait_finished(admin, f"{V2}/inventory_updates/{update.json['inventory_update']}/", timeout=120)
    assert done["status"] == "successful" and done["limit"] == "db*"
    assert {h["name"] for h in admin.get(f"{V2}/inventories/{ci['id']}/hosts/").json["results"]} == {"db1"}


def test_a_local_input_host_without_an_interpreter_syncs_and_keeps_its_own_variables(admin, jobs, app_state):
    """An input host with ``ansible_connection: local`` and no interpreter: the sync reads it
    (it used to fail writing the input file), the constructed host gets exactly the input's
    variables (Turret's run-time default interpreter is not one of them), and a job on the
    constructed host runs its modules with the interpreter that runs ansible-playbook."""
    org = make_org(admin)
    src = admin.post(f"{V2}/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    plain = {"ansible_connection": "local", "tier": "web"}
    assert admin.post(f"{V2}/hosts/", {"name": "bare1", "inventory": src["id"],
                                       "variables": json.dumps(plain)}).status_code == 201
    ci = _constructed(admin, org, source_vars=json.dumps({"plugin": "constructed", "strict": True}))
    assert admin.post(f"{V2}/inventories/{ci['id']}/input_inventories/", {"id": src["id"]}).status_code == 204
    project = make_project(admin, app_state.settings.data_dir, org, {
        "which.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n"
                     "    - setup: gather_subset=min\n"
                     "    - debug: msg=\"python={{ ansible_facts.python.executable }}\"\n"})
    started = admin.post(f"{V2}/job_templates/{make_jt(admin, project, ci, 'which.yml')['id']}/launch/")
    assert started.status_code == 201, started.json
    job = wait_finished(admin, f"{V2}/jobs/{started.json['id']}/", timeout=120)
    stdout = admin.get(f"{V2}/jobs/{job['id']}/stdout/?format=txt").data.decode()
    [source] = _sources(admin, ci)
    [update] = admin.get(f"{source['url']}inventory_updates/").json["results"]
    assert update["status"] == "successful", admin.get(f"{V2}/inventory_updates/{update['id']}/stdout/?format=txt").data
    [host] = admin.get(f"{V2}/inventories/{ci['id']}/hosts/").json["results"]
    assert host["name"] == "bare1" and json.loads(host["variables"]) == plain
    assert job["status"] == "successful", stdout
    assert f"python={sys.executable}" in stdout

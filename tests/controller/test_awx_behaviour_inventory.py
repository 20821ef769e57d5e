"""Inventory source kinds AWX offers (issue 16 item 8), run with their real inventory plugin:
``constructed`` over input inventories (offline, ansible.builtin.constructed), ``controller``
reading this very Turret over real HTTP on 127.0.0.1 with the awx.awx collection's plugin,
and a kind whose collection is missing failing with the reason."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from tests.compat.awx_collection import COLLECTION_CACHE
from tests.controller.conftest import ADMIN_PASSWORD
from tests.support.jobs import make_org, type_id, uniq, wait_finished

CONSTRUCTED_VARS = {
    "plugin": "constructed", "strict": True,
    "compose": {"tier_label": "tier ~ '-tier'"},
    "groups": {"big_memory": "memory | int >= 4096"},
    "keyed_groups": [{"key": "tier", "prefix": "tier", "separator": "_"}],
}


def _inventory(admin, org: dict, hosts: dict[str, dict]) -> dict:
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    for name, variables in hosts.items():
        resp = admin.post("/api/v2/hosts/", {"name": name, "inventory": inv["id"], "variables": json.dumps(variables)})
        assert resp.status_code == 201, resp.json
    return inv


def _names(admin, url: str) -> set[str]:
    return {r["name"] for r in admin.get(f"{url}?page_size=200").json["results"]}


def _update(admin, source: dict) -> dict:
    started = admin.post(f"{source['url']}update/")
    assert started.status_code == 202, started.json
    return wait_finished(admin, started.json["url"])


def test_constructed_source_groups_and_composes_over_input_inventories(admin, jobs):
    org = make_org(admin)
    web = _inventory(admin, org, {"web1": {"tier": "front", "memory": 2048}, "web2": {"tier": "front", "memory": 8192}})
    db = _inventory(admin, org, {"db1": {"tier": "data", "memory": 16384}})
    target = admin.post("/api/v2/inventories/", {"name": uniq("constructed"), "organization": org["id"]}).json
    for inp in (web, db):
        assert admin.post(f"{target['url']}input_inventories/", {"id": inp["id"]}).status_code == 204
    assert [i["id"] for i in admin.get(f"{target['url']}input_inventories/").json["results"]] == [web["id"], db["id"]]
    resp = admin.post(f"{target['url']}inventory_sources/", {"name": "c", "source": "constructed",
                                                            "source_vars": json.dumps(CONSTRUCTED_VARS),
                                                            "overwrite": True})
    assert resp.status_code == 201, resp.json
    done = _update(admin, resp.json)
    text = admin.get(f"{done['url']}stdout/?format=txt").data.decode()
    assert done["status"] == "successful", text
    assert "constructed over" in text
    assert _names(admin, f"{target['url']}hosts/") == {"web1", "web2", "db1"}
    assert {"big_memory", "tier_front", "tier_data"} <= _names(admin, f"{target['url']}groups/")
    big = admin.get(f"/api/v2/groups/?inventory={target['id']}&name=big_memory").json["results"][0]
    assert _names(admin, f"{big['url']}hosts/") == {"web2", "db1"}
    web1 = admin.get(f"/api/v2/hosts/?inventory={target['id']}&name=web1").json["results"][0]
    assert json.loads(web1["variables"])["tier_label"] == "front-tier"


def test_plugin_kinds_are_accepted_with_awx_rules(admin, make_org):
    org = make_org()
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    url = f"{inv['url']}inventory_sources/"
    choices = [c[0] for c in admin.options(url).json["actions"]["POST"]["source"]["choices"]]
    for kind in ("ec2", "gce", "azure_rm", "vmware", "openstack", "satellite6", "controller", "insights", "rhv",
                 "terraform", "constructed", "scm"):
        assert kind in choices
    resp = admin.post(url, {"name": "g", "source": "gce", "source_vars": "zones: [a]"})
    assert (resp.status_code, resp.json) == (400, {"credential": ["Credential is required for a cloud source."]})
    aws = admin.post("/api/v2/credentials/", {"name": uniq("aws"), "organization": org["id"],
                                              "credential_type": type_id(admin, "aws"),
                                              "inputs": {"username": "AKIA", "password": "s3cr3t"}}).json
    resp = admin.post(url, {"name": "g", "source": "gce", "credential": aws["id"]})
    assert resp.status_code == 400 and "matching cloud service" in resp.json["credential"][0]
    resp = admin.post(url, {"name": "e", "source": "ec2", "source_path": "x.yml"})
    assert (resp.status_code, resp.json) == (400, {"source_path": ["Cannot set source_path if not SCM type."]})
    resp = admin.post(url, {"name": "e", "source": "ec2", "credential": aws["id"],
                            "source_vars": "regions: [eu-west-1]"})
    assert resp.status_code == 201 and resp.json["source"] == "ec2" and resp.json["source_vars"] == "regions: [eu-west-1]"


def test_missing_collection_fails_with_the_reason(admin, jobs, monkeypatch, tmp_path):
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(tmp_path))
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if "site-packages" not in p])
    org = make_org(admin)
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    cred = admin.post("/api/v2/credentials/", {"name": uniq("rhv"), "organization": org["id"],
                                               "credential_type": type_id(admin, "rhv"),
                                               "inputs": {"host": "h", "username": "u", "password": "p"}}).json
    source = admin.post(f"{inv['url']}inventory_sources/", {"name": "r", "source": "rhv",
                                                           "credential": cred["id"]}).json
    done = _update(admin, source)
    assert done["status"] == "error"
    assert "ovirt.ovirt.ovirt" in done["job_explanation"] and "ansible-galaxy collection install ovirt.ovirt" \
        in done["job_explanation"]


@pytest.fixture()
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_controller_source_reads_this_turret_with_the_awx_plugin(admin, jobs, live, monkeypatch):
    if not (COLLECTION_CACHE / "ansible_collections/awx/awx/plugins/inventory/controller.py").is_file():
        pytest.skip("the awx.awx collection is not prepared (python -m tests.compat.awx_collection)")
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION_CACHE))
    org = make_org(admin)
    remote = _inventory(admin, org, {"far1": {"role": "edge"}, "far2": {"role": "core"}})
    local = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    cred = admin.post("/api/v2/credentials/", {"name": uniq("ctl"), "organization": org["id"],
                                               "credential_type": type_id(admin, "controller"),
                                               "inputs": {"host": live, "username": "admin",
                                                          "password": ADMIN_PASSWORD, "verify_ssl": False}}).json
    source = admin.post(f"{local['url']}inventory_sources/", {
        "name": "ctl", "source": "controller", "credential": cred["id"],
        "source_vars": json.dumps({"inventory_id": remote["id"]})}).json
    done = _update(admin, source)
    text = admin.get(f"{done['url']}stdout/?format=txt").data.decode()
    assert done["status"] == "successful", text
    assert ADMIN_PASSWORD not in text and ADMIN_PASSWORD not in done["job_args"]
    assert _names(admin, f"{local['url']}hosts/") == {"far1", "far2"}
    far1 = admin.get(f"/api/v2/hosts/?inventory={local['id']}&name=far1").json["results"][0]
    assert json.loads(far1["variables"])["role"] == "edge"

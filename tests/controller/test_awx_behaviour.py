"""Behaviour Turret now shares with AWX (issue 16 item 8): the recursive group delete, named
URLs with an empty part, required credential inputs checked when a job uses the credential,
and inventory ``source_path`` values with a leading ``/``."""
from __future__ import annotations


from tests.support.jobs import (
    attach_credential, make_credential, make_inventory, make_jt, make_stage, type_id, uniq, wait_finished, wait_job,
)

HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"


def _group(admin, inv: dict, name: str, parent: dict | None = None) -> dict:
    url = f"{parent['url']}children/" if parent else "/api/v2/groups/"
    resp = admin.post(url, {"name": name, "inventory": inv["id"]})
    assert resp.status_code == 201, resp.json
    return resp.json


def _host(admin, inv: dict, name: str, *groups: dict) -> int:
    resp = admin.post("/api/v2/hosts/", {"name": name, "inventory": inv["id"]})
    assert resp.status_code == 201, resp.json
    for group in groups:
        assert admin.post(f"{group['url']}hosts/", {"id": resp.json["id"]}).status_code == 204
    return resp.json["id"]


def _names(admin, url: str) -> set[str]:
    return {r["name"] for r in admin.get(f"{url}?page_size=200").json["results"]}


# -- 1. deleting a group deletes its subtree and the hosts only it held -----------------------
def test_group_delete_is_recursive_like_awx(admin, make_org):
    org = make_org()
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    top = _group(admin, inv, "top")
    child = _group(admin, inv, "child", top)
    grandchild = _group(admin, inv, "grandchild", child)
    other = _group(admin, inv, "other")
    shared = _group(admin, inv, "shared", top)             # also a child of "other": survives
    assert admin.post(f"{other['url']}children/", {"id": shared["id"]}).status_code == 204
    _host(admin, inv, "only-top", top)
    _host(admin, inv, "only-deep", grandchild)
    _host(admin, inv, "deep-and-other", grandchild, other)
    _host(admin, inv, "in-shared", shared)
    _host(admin, inv, "ungrouped")

    resp = admin.delete(top["url"])
    assert resp.status_code == 204
    assert _names(admin, f"{inv['url']}groups/") == {"other", "shared"}
    assert _names(admin, f"{inv['url']}hosts/") == {"deep-and-other", "in-shared", "ungrouped"}
    assert _names(admin, f"{other['url']}children/") == {"shared"}
    assert _names(admin, f"{other['url']}hosts/") == {"deep-and-other"}
    for gone in (child, grandchild):
        assert admin.get(gone["url"]).status_code == 404
    # one activity entry: the group asked for (AWX records no entries for the cascade)
    stream = admin.get("/api/v2/activity_stream/?operation=delete&object1=group&order_by=-id").json["results"]
    deleted = [e["changes"].get("name") for e in stream]
    assert "top" in deleted and "child" not in deleted and "grandchild" not in deleted


def test_group_delete_keeps_a_child_with_another_parent_inside_the_subtree(admin, make_org):
    org = make_org()
    inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    a = _group(admin, inv, "a")
    b = _group(admin, inv, "b", a)
    c = _group(admin, inv, "c", a)
    assert admin.post(f"{c['url']}children/", {"id": b["id"]}).status_code == 204   # b: parents a and c
    _host(admin, inv, "hb", b)
    assert admin.delete(c["url"]).status_code == 204                    # b keeps parent a
    assert _names(admin, f"{inv['url']}groups/") == {"a", "b"}
    assert _names(admin, f"{inv['url']}hosts/") == {"hb"}
    assert admin.delete(a["url"]).status_code == 204                    # now b's last parent goes
    assert admin.get(f"{inv['url']}groups/").json["count"] == 0
    assert admin.get(f"{inv['url']}hosts/").json["count"] == 0


# -- 4. a named URL with an empty part matches any organization ---------------------------------
def test_named_url_empty_part_matches_any_organization(admin, make_org):
    org = make_org()
    name = uniq("cred")
    cred = admin.post("/api/v2/credentials/", {"name": name, "organization": org["id"],
                                               "credential_type": type_id(admin, "ssh"), "inputs": {}}).json
    body = admin.get(f"/api/v2/credentials/{name}++Machine+ssh++/").json
    assert body["id"] == cred["id"] and body["organization"] == org["id"]
    # an object whose organization is null (whose own named URL this is) wins over others
    mine = admin.post("/api/v2/credentials/", {"name": name, "user": 1, "credential_type": type_id(admin, "ssh"),
                                               "inputs": {}}).json
    assert mine["related"]["named_url"] == f"/api/v2/credentials/{name}++Machine+ssh++/"
    assert admin.get(mine["related"]["named_url"]).json["id"] == mine["id"]
    assert admin.get(f"/api/v2/credentials/{name}++Machine+ssh++{org['name']}/").json["id"] == cred["id"]
    assert admin.get(f"/api/v2/credentials/{name}++Vault+vault++/").status_code == 404
    # a job template named with an empty organization part
    jt_inv = admin.post("/api/v2/inventories/", {"name": uniq("inv"), "organization": org["id"]}).json
    assert admin.get(f"/api/v2/inventories/{jt_inv['name']}++/").json["id"] == jt_inv["id"]


# -- 3. required credential inputs: accepted at creation, checked when a job uses them ------------
def test_required_inputs_are_checked_when_the_credential_is_used(admin, jobs, app_state):
    stage = make_stage(admin, app_state.settings.data_dir, {"hello.yml": HELLO})
    resp = admin.post("/api/v2/credentials/", {"name": uniq("vault"), "organization": stage["org"]["id"],
                                               "credential_type": type_id(admin, "vault"),
                                               "inputs": {"vault_id": "dev"}})
    assert resp.status_code == 201, resp.json                       # AWX accepts it
    assert resp.json["inputs"] == {"vault_id": "dev"}
    jt = make_jt(admin, stage["project"], stage["inventory"], "hello.yml")
    attach_credential(admin, jt, resp.json)
    launched = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {})
    assert launched.status_code == 201, launched.json
    job = wait_job(admin, launched.json["id"], processed=False)
    assert job["status"] == "error"
    assert "missing required inputs: vault_password" in job["job_explanation"]
    # complete inputs: the same template runs
    full = make_credential(admin, stage["org"], type_id(admin, "vault"), {"vault_id": "dev", "vault_password": "pw"})
    assert admin.post(f"/api/v2/job_templates/{jt['id']}/credentials/",
                      {"id": resp.json["id"], "disassociate": True}).status_code == 204
    attach_credential(admin, jt, full)
    ok = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}).json
    assert wait_job(admin, ok["id"])["status"] == "successful"


# -- 5. source_path "/x" is the project's x ----------------------------------------------------
def test_source_path_with_leading_slash_is_relative_to_the_project(admin, jobs, app_state):
    stage = make_stage(admin, app_state.settings.data_dir, {"hello.yml": HELLO,
                                                            "hosts.ini": "[web]\nweb1\nweb2\n"})
    inv = make_inventory(admin, stage["org"], hosts=())
    resp = admin.post(f"{inv['url']}inventory_sources/", {"name": "root", "source": "scm",
                                                         "source_project": stage["project"]["id"],
                                                         "source_path": "/hosts.ini"})
    assert resp.status_code == 201, resp.json
    assert resp.json["source_path"] == "/hosts.ini"                 # stored as given, as AWX
    started = admin.post(f"{resp.json['url']}update/").json
    done = wait_finished(admin, started["url"])
    assert done["status"] == "successful", admin.get(f"{done['url']}stdout/?format=txt").data
    assert _names(admin, f"{inv['url']}hosts/") == {"web1", "web2"}
    # still no way out of the project
    bad = admin.post(f"{inv['url']}inventory_sources/", {"name": "out", "source": "scm",
                                                        "source_project": stage["project"]["id"],
                                                        "source_path": "/../hosts.ini"})
    assert bad.status_code == 400 and "source_path" in bad.json

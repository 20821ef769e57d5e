"""The configuration-family awx.awx modules and the gateway path, with the real collection
through ``ansible-playbook`` and the real ``awx`` CLI.

* ``controller_meta`` (local facts about the collection) and the ``controller_api`` lookup it
  is documented with.
* ``license`` and ``subscriptions`` meet what an AWX open edition answers: the open licence is
  in force and cannot be replaced, no subscription service is reached.  The modules do not
  read the server's answer, so, as against AWX, ``license`` reports a change when it posts a
  manifest or a pool id and none when it removes the licence; ``subscriptions`` returns what it
  makes of AWX's ``{"error": ...}`` answer.  No network host is contacted.
* ``CONTROLLER_OPTIONAL_API_URLPATTERN_PREFIX=/api/controller/`` (AAP 2.5+ layout): the
  modules create, find unchanged, update and delete through ``/api/controller/v2/``, following
  the links the server answers; ``AWXKIT_API_BASE_PATH`` does the same for the CLI.
"""
from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.support.api import expect, only

from .awx_collection import collection_env, describe, run_ansible
from .clients import AwxCli, unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]
OPEN = {"license_type": "open", "valid_key": True, "subscription_name": "OPEN", "product_name": "AWX"}
PREFIX = {"CONTROLLER_OPTIONAL_API_URLPATTERN_PREFIX": "/api/controller/"}


def _play(controller, work: Path, tag: str, tasks: list[dict], env: dict | None = None,
          check: bool = False, ok: bool = True):
    path = work / f"play-{tag}.yml"
    path.write_text(yaml.safe_dump([{"name": tag, "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "tasks": tasks}], sort_keys=False))
    args = ["-i", "localhost,", str(path)] + (["--check"] if check else [])
    proc = run_ansible("playbook", *args, env=collection_env(controller, work / "home", env), cwd=work)
    assert (proc.returncode == 0) is ok, describe(proc)
    return proc


def _saved(work: Path, name: str) -> dict:
    return json.loads((work / f"{name}.json").read_text())


def _save(work: Path, name: str, var: str) -> dict:
    return {"ansible.builtin.copy": {"dest": str(work / f"{name}.json"), "content": "{{ %s | to_json }}" % var}}


def test_controller_meta_and_the_api_lookup(controller, tmp_path):
    _play(controller, tmp_path, "meta", [
        {"awx.awx.controller_meta": {}, "register": "meta"},
        {"ansible.builtin.set_fact": {"ping": "{{ lookup(meta.prefix + '.controller_api', 'ping') }}"}},
        _save(tmp_path, "meta", "meta"), _save(tmp_path, "ping", "ping")])
    meta = _saved(tmp_path, "meta")
    assert (meta["prefix"], meta["name"], meta["namespace"], meta["version"]) == ("awx.awx", "awx", "awx", "24.6.1")
    assert _saved(tmp_path, "ping")["version"] == "24.6.1"


def _zip_manifest(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("consumer_export.zip", b"not a real consumer export")
    path.write_bytes(buf.getvalue())
    return path


def test_license_module_meets_the_open_edition(controller, api, tmp_path):
    manifest = _zip_manifest(tmp_path / "manifest.zip")
    # not licensed by a subscription, so the module always tries (check mode says so too)
    checked = _play(controller, tmp_path, "check", [{"awx.awx.license": {"manifest": str(manifest)}}], check=True)
    assert "changed=1" in checked.stdout, describe(checked)
    posted = _play(controller, tmp_path, "manifest", [{"awx.awx.license": {"manifest": str(manifest)}}])
    assert "changed=1" in posted.stdout, describe(posted)
    attach = _play(controller, tmp_path, "pool", [{"awx.awx.license": {"pool_id": "8a85f99"}}])
    assert "changed=1" in attach.stdout, describe(attach)
    absent = _play(controller, tmp_path, "absent", [{"awx.awx.license": {"state": "absent"}}])
    assert "changed=0" in absent.stdout, describe(absent)
    # what the server answered the module, and that the open licence is still in force
    assert expect(api.get("/api/v2/config/"), 200)["license_info"] == OPEN
    body = base64.b64encode(manifest.read_bytes()).decode()
    assert expect(api.post("/api/v2/config/", json={"manifest": body}), 400) == {"error": "Invalid License"}
    assert expect(api.post("/api/v2/config/", json={"manifest": "bm90IGEgemlw"}), 400) == \
        {"error": "Invalid manifest submitted."}
    assert expect(api.post("/api/v2/config/attach/", json={"pool_id": "8a85f99"}), 400) == \
        {"error": "Error processing subscription metadata."}
    assert expect(api.post("/api/v2/config/", json={}), 200) == OPEN
    assert api.delete("/api/v2/config/").status_code == 204


def test_subscriptions_module_reaches_no_service(controller, api, tmp_path):
    _play(controller, tmp_path, "subs", [
        {"awx.awx.subscriptions": {"username": "rh-user", "password": "rh-pw"}, "register": "subs"},
        _save(tmp_path, "subs", "subs")])
    subs = _saved(tmp_path, "subs")
    # AWX open answers 400 {"error": "Invalid Subscription"}; the module lists that body's keys
    assert subs["changed"] is False and subs["subscriptions"] == ["error"]
    assert expect(api.post("/api/v2/config/subscriptions/", json={"subscriptions_username": "u",
                                                                  "subscriptions_password": "p"}), 400) == \
        {"error": "Invalid Subscription"}


def _org_and_template(name: str, org: str, project: str, inventory: str, cred: str, **extra) -> list[dict]:
    return [
        {"name": "org", "awx.awx.organization": {"name": org, "description": extra.pop("org_description", "gw")}},
        {"name": "label", "awx.awx.label": {"name": "gw-label", "organization": "Default"}},
        {"name": "jt", "awx.awx.job_template": {
            "name": name, "organization": "Default", "project": project, "inventory": inventory,
            "playbook": "site.yml", "credentials": [cred], "labels": ["gw-label"], **extra}},
    ]


@pytest.fixture
def world(controller, api):
    """A manual project, an inventory and a machine credential in Default."""
    folder = unique("gwfolder")
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    project = expect(api.post("/api/v2/projects/", json={"name": unique("gwproj"), "organization": 1,
                                                         "local_path": folder}), 201)
    inv = expect(api.post("/api/v2/inventories/", json={"name": unique("gwinv"), "organization": 1}), 201)
    machine = only(api, "/api/v2/credential_types/", namespace="ssh")
    cred = expect(api.post("/api/v2/credentials/", json={"name": unique("gwcred"), "organization": 1,
                                                         "credential_type": machine["id"],
                                                         "inputs": {"username": "u"}}), 201)
    return {"project": project["name"], "inventory": inv["name"], "cred": cred["name"]}


def test_modules_under_the_gateway_path(controller, api, world, tmp_path):
    org, name = unique("gworg"), unique("gwjt")
    tasks = _org_and_template(name, org, **world)
    # the variable is honoured: a prefix the server does not serve fails
    wrong = _play(controller, tmp_path, "wrong", tasks[:1],
                  env={"CONTROLLER_OPTIONAL_API_URLPATTERN_PREFIX": "/api/nothere/"}, ok=False)
    assert "Failed to get token: HTTP Error 404" in wrong.stdout, describe(wrong)   # POST /api/nothere/v2/tokens/
    first = _play(controller, tmp_path, "create", tasks, env=PREFIX)
    assert "changed=3" in first.stdout, describe(first)
    jt = only(api, "/api/v2/job_templates/", name=name)
    assert [c["name"] for c in jt["summary_fields"]["credentials"]] == [world["cred"]]
    assert [x["name"] for x in jt["summary_fields"]["labels"]["results"]] == ["gw-label"]
    assert jt["summary_fields"]["organization"]["name"] == "Default"
    second = _play(controller, tmp_path, "again", tasks, env=PREFIX)
    assert "changed=0" in second.stdout, describe(second)
    update = _play(controller, tmp_path, "update", _org_and_template(name, org, **world, org_description="v2",
                                                                     forks=7), env=PREFIX)
    assert "changed=2" in update.stdout, describe(update)
    assert only(api, "/api/v2/job_templates/", name=name)["forks"] == 7
    assert only(api, "/api/v2/organizations/", name=org)["description"] == "v2"
    gone = _play(controller, tmp_path, "delete", [
        {"awx.awx.job_template": {"name": name, "organization": "Default", "state": "absent"}},
        {"awx.awx.organization": {"name": org, "state": "absent"}}], env=PREFIX)
    assert "changed=2" in gone.stdout, describe(gone)
    assert expect(api.get("/api/v2/organizations/", params={"name": org}), 200)["count"] == 0


def test_cli_under_the_gateway_path(controller, api):
    awx = AwxCli(controller)
    env = {"AWXKIT_API_BASE_PATH": "/api/controller/"}
    name = unique("gwcli")
    made = awx.json("organizations", "create", "--name", name, "--description", "via gateway", env=env)
    assert made["url"] == f"/api/controller/v2/organizations/{made['id']}/"
    listed = awx.json("organizations", "list", "--name", name, env=env)
    assert [o["id"] for o in listed["results"]] == [made["id"]]
    awx.json("organizations", "modify", name, "--description", "changed", env=env)
    assert only(api, "/api/v2/organizations/", name=name)["description"] == "changed"
    awx.run("organizations", "delete", str(made["id"]), env=env)
    assert expect(api.get(f"/api/v2/organizations/{made['id']}/"), 404)


def test_cli_metrics(controller, api):
    """``awx metrics`` (a control resource of the CLI: a plain GET asking for JSON)."""
    body = AwxCli(controller).json("metrics")
    assert body["awx_status_total"]["type"] == "gauge"
    assert {s["labels"]["status"] for s in body["awx_status_total"]["samples"]} >= {"successful", "failed"}
    users = expect(api.get("/api/v2/users/"), 200)["count"]
    assert body["awx_users_total"]["samples"] == [{"labels": {}, "value": float(users)}]

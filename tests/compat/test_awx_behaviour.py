"""Issue 16 item 8 with the real awx.awx 24.6.1 collection against a live controller: a group
deleted by ``awx.awx.group`` takes its subtree and the hosts only it held; ``inventory_source``
takes AWX's plugin kinds (``ec2`` with ``source_vars``) and an ``scm`` ``source_path`` with a
leading ``/``; ``credential`` accepts a credential without its required inputs; ``project``
makes a Remote Archive project served over HTTP on 127.0.0.1.  Create, a second run with
``changed=0``, an update, and deletion; every object is read back through the API.
"""
from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.support.api import expect

from .awx_collection import describe, run_play
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: msg=from-archive\n"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def archive_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archives")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in {"site.yml": PLAY, "hosts.ini": "[web]\nweb1\n"}.items():
            info = tarfile.TarInfo(f"proj/{name}")
            info.size = len(text)
            tf.addfile(info, io.BytesIO(text.encode()))
    (folder / "proj.tar.gz").write_bytes(buf.getvalue())
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/proj.tar.gz", hashlib.sha256(buf.getvalue()).hexdigest()
    server.shutdown()
    server.server_close()


def _tasks(names: dict, url: str, regions: list[str], state: str = "present") -> list[dict]:
    inv, org = names["inventory"], "Default"
    tasks: list[dict] = [
        {"name": "inventory", "awx.awx.inventory": {"name": inv, "organization": org}},
        {"name": "archive project", "awx.awx.project": {
            "name": names["project"], "organization": org, "scm_type": "archive", "scm_url": url, "wait": True}},
        {"name": "vault credential without its required password", "awx.awx.credential": {
            "name": names["credential"], "organization": org, "credential_type": "Vault",
            "inputs": {"vault_id": "dev"}, "update_secrets": False}},
        {"name": "ec2 source with source_vars", "awx.awx.inventory_source": {
            "name": "cloud", "inventory": inv, "organization": org, "source": "ec2",
            "source_vars": {"regions": regions}}},
        {"name": "scm source with a leading slash", "awx.awx.inventory_source": {
            "name": "files", "inventory": inv, "organization": org, "source": "scm",
            "source_project": names["project"], "source_path": "/hosts.ini"}},
        {"name": "hosts", "awx.awx.host": {"name": "{{ item }}", "inventory": inv},
         "loop": ["only-child", "also-other", "ungrouped"]},
        {"name": "child group", "awx.awx.group": {"name": "child", "inventory": inv,
                                                   "hosts": ["only-child", "also-other"]}},
        {"name": "other group", "awx.awx.group": {"name": "other", "inventory": inv, "hosts": ["also-other"]}},
        {"name": "top group", "awx.awx.group": {"name": "top", "inventory": inv, "children": ["child"]}},
    ]
    if state == "absent":
        tasks = [{"name": "delete the top group", "awx.awx.group": {"name": "top", "inventory": inv,
                                                                     "state": "absent"}},
                 {"name": "delete the ec2 source", "awx.awx.inventory_source": {
                     "name": "cloud", "inventory": inv, "organization": org, "state": "absent"}},
                 {"name": "delete the project", "awx.awx.project": {"name": names["project"], "organization": org,
                                                                     "state": "absent"}},
                 {"name": "delete the credential", "awx.awx.credential": {
                     "name": names["credential"], "organization": org, "credential_type": "Vault",
                     "state": "absent"}}]
    return tasks


def _run(controller, work: Path, tag: str, tasks: list[dict]):
    return run_play(controller, work, tag, tasks, name="AWX behaviour", timeout=600)


def _one(api, url: str) -> dict:
    body = expect(api.get(url), 200)
    assert body["count"] == 1, body
    return body["results"][0]


def test_awx_collection_behaviour_like_awx(controller, api, tmp_path, archive_url):
    url, checksum = archive_url
    names = {"inventory": unique("beh-inv"), "project": unique("beh-archive"), "credential": unique("beh-vault")}
    first = _run(controller, tmp_path, "first", _tasks(names, url, ["eu-west-1"]))
    assert "failed=0" in first.stdout, describe(first)
    project = _one(api, f"/api/v2/projects/?name={names['project']}")
    assert (project["scm_type"], project["scm_revision"], project["status"]) == ("archive", checksum, "successful")
    assert expect(api.get(f"/api/v2/projects/{project['id']}/playbooks/"), 200) == ["site.yml"]
    cred = _one(api, f"/api/v2/credentials/?name={names['credential']}")
    assert cred["inputs"] == {"vault_id": "dev"}
    inv = _one(api, f"/api/v2/inventories/?name={names['inventory']}")
    cloud = _one(api, f"/api/v2/inventory_sources/?inventory={inv['id']}&name=cloud")
    assert cloud["source"] == "ec2" and yaml.safe_load(cloud["source_vars"]) == {"regions": ["eu-west-1"]}
    files = _one(api, f"/api/v2/inventory_sources/?inventory={inv['id']}&name=files")
    assert files["source_path"] == "/hosts.ini"

    second = _run(controller, tmp_path, "second", _tasks(names, url, ["eu-west-1"]))
    assert "changed=0" in second.stdout, describe(second)

    third = _run(controller, tmp_path, "update", _tasks(names, url, ["us-east-1"]))
    assert "changed=1" in third.stdout, describe(third)
    cloud = expect(api.get(f"/api/v2/inventory_sources/{cloud['id']}/"), 200)
    assert yaml.safe_load(cloud["source_vars"]) == {"regions": ["us-east-1"]}

    _run(controller, tmp_path, "absent", _tasks(names, url, [], state="absent"))
    groups = {g["name"] for g in expect(api.get(f"/api/v2/inventories/{inv['id']}/groups/"), 200)["results"]}
    hosts = {h["name"] for h in expect(api.get(f"/api/v2/inventories/{inv['id']}/hosts/"), 200)["results"]}
    assert groups == {"other"}                                 # "child" went with "top", as in AWX
    assert hosts == {"also-other", "ungrouped"}                # "only-child" had no other group
    assert expect(api.get(f"/api/v2/projects/?name={names['project']}"), 200)["count"] == 0
    assert expect(api.get(f"/api/v2/credentials/?name={names['credential']}"), 200)["count"] == 0
    assert expect(api.get(f"/api/v2/inventory_sources/?inventory={inv['id']}&name=cloud"), 200)["count"] == 0
    expect(api.delete(f"/api/v2/inventories/{inv['id']}/"), 202)


def test_awx_cli_behaviour_like_awx(awx, api, archive_url):
    url, checksum = archive_url
    project = awx.json("projects", "create", "--name", unique("cli-archive"), "--organization", "Default",
                       "--scm_type", "archive", "--scm_url", url, "--wait")
    assert expect(api.get(f"/api/v2/projects/{project['id']}/"), 200)["scm_revision"] == checksum
    inv = awx.json("inventory", "create", "--name", unique("cli-inv"), "--organization", "Default")
    source = awx.json("inventory_sources", "create", "--name", "cloud", "--inventory", str(inv["id"]),
                      "--source", "ec2", "--source_vars", '{"regions": ["eu-west-1"]}')
    assert expect(api.get(f"/api/v2/inventory_sources/{source['id']}/"), 200)["source"] == "ec2"
    vault = awx.json("credentials", "create", "--name", unique("cli-vault"), "--organization", "Default",
                     "--credential_type", "Vault", "--inputs", '{"vault_id": "dev"}')
    assert expect(api.get(f"/api/v2/credentials/{vault['id']}/"), 200)["inputs"] == {"vault_id": "dev"}
    top = awx.json("groups", "create", "--name", "top", "--inventory", str(inv["id"]))
    child = expect(api.post(f"/api/v2/groups/{top['id']}/children/", {"name": "child", "inventory": inv["id"]}), 201)
    host = expect(api.post(f"/api/v2/groups/{child['id']}/hosts/", {"name": "h1", "inventory": inv["id"]}), 201)
    deleted = awx.run("groups", "delete", str(top["id"]))
    assert deleted.returncode == 0, deleted.stderr
    assert api.get(f"/api/v2/groups/{child['id']}/").status_code == 404
    assert api.get(f"/api/v2/hosts/{host['id']}/").status_code == 404
    for path in (f"/api/v2/inventories/{inv['id']}/", f"/api/v2/projects/{project['id']}/",
                 f"/api/v2/credentials/{vault['id']}/"):
        assert api.delete(path).status_code in (202, 204)

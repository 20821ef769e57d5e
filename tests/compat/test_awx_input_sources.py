"""The real ``awx.awx`` 24.6.1 ``credential_input_source`` module and the real ``awx`` CLI against
a live controller, with a local HTTP server speaking HashiCorp Vault's API.

Plays written here (not the shared awx_collection.yml) run through ``ansible-playbook``: create
(changed), the same again (``changed=0``), metadata updated (changed), then a job launched by
``awx.awx.job_launch`` whose credential's secret comes from the fake Vault (the playbook compares
a digest, so the value is never printed), and finally ``state: absent`` (twice).  The ``awx`` CLI
lists, reads, modifies and deletes an input source.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tests.support.api import expect
from tests.support.secret_stores import FakeVault

from .awx_collection import describe, run_plays
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]

SECRET = "vault-kept-" + unique("s").replace("-", "")


def play(tasks: list[dict]) -> list[dict]:
    return [{"name": "input sources with awx.awx", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": tasks}]


def source_task(names: dict, state: str = "present", **metadata: str) -> dict:
    args: dict = {"target_credential": names["target"], "input_field_name": "api_token", "state": state}
    if state == "present":
        args.update(source_credential=names["source"],
                    metadata={"secret_path": "/kv/app", "secret_key": "api_token", **metadata})
    return {"name": f"input source {state}", "awx.awx.credential_input_source": args}


def run(controller, work: Path, tag: str, tasks: list[dict]):
    return run_plays(controller, work, tag, play(tasks))


@pytest.fixture(scope="module")
def vault():
    with FakeVault(kv1={"kv/app": {"api_token": SECRET, "other": "other-value"}}) as server:
        yield server


@pytest.fixture(scope="module")
def names(controller, vault, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("awx-input-sources")
    folder = unique("folder")
    digest = hashlib.sha1(SECRET.encode()).hexdigest()
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - assert:\n        that:\n"
        f"          - lookup('env', 'API_TOKEN') | hash('sha1') == '{digest}'\n")
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        ctype = expect(api.post("/api/v2/credential_types/", json={
            "name": unique("api-type"), "kind": "cloud",
            "inputs": {"fields": [{"id": "api_token", "label": "API token", "secret": True}],
                       "required": ["api_token"]},
            "injectors": {"env": {"API_TOKEN": "{{ api_token }}"}}}), 201)
        kv_type = expect(api.get("/api/v2/credential_types/", params={"namespace": "hashivault_kv"}), 200)
        source = expect(api.post("/api/v2/credentials/", json={
            "name": unique("vault"), "organization": org["id"], "credential_type": kv_type["results"][0]["id"],
            "inputs": {"url": vault.url, "token": vault.token, "api_version": "v1"}}), 201)
        target = expect(api.post("/api/v2/credentials/", json={
            "name": unique("api"), "organization": org["id"], "credential_type": ctype["id"], "inputs": {}}), 201)
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        local = json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        inv = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": org["id"],
                                                             "variables": local}), 201)
        expect(api.post("/api/v2/hosts/", json={"name": "localhost", "inventory": inv["id"]}), 201)
        jt = expect(api.post("/api/v2/job_templates/", json={"name": unique("jt"), "project": project["id"],
                                                             "inventory": inv["id"], "playbook": "site.yml"}), 201)
        expect(api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", json={"id": target["id"]}), 204)
    return {"target": target["name"], "target_id": target["id"], "source": source["name"],
            "source_id": source["id"], "jt": jt["name"], "work": work}


def stored(api, names: dict) -> list[dict]:
    return expect(api.get("/api/v2/credential_input_sources/",
                          params={"target_credential": names["target_id"]}), 200)["results"]


def test_awx_collection_credential_input_source(controller, api, names, vault):
    work = names["work"]
    first = run(controller, work, "create", [source_task(names)])
    assert "changed=1" in first.stdout, describe(first)
    [made] = stored(api, names)
    assert (made["source_credential"], made["input_field_name"], made["metadata"]) == \
        (names["source_id"], "api_token", {"secret_path": "/kv/app", "secret_key": "api_token"})

    second = run(controller, work, "again", [source_task(names)])
    assert "changed=0" in second.stdout, describe(second)

    updated = run(controller, work, "update", [source_task(names, secret_key="other")])
    assert "changed=1" in updated.stdout, describe(updated)
    assert stored(api, names)[0]["metadata"]["secret_key"] == "other"

    # back to the right key, then a job: its credential's token comes from the fake Vault
    launched = run(controller, work, "launch", [
        source_task(names), {"name": "launch", "awx.awx.job_launch": {"job_template": names["jt"], "wait": True},
                             "register": "job"},
        {"name": "job id", "ansible.builtin.copy": {"content": "{{ job.id }}", "dest": str(work / "job-id")}}])
    job = expect(api.get(f"/api/v2/jobs/{int((work / 'job-id').read_text())}/"), 200)
    assert job["status"] == "successful", (job["job_explanation"], describe(launched))
    assert any(r.path == "/v1/kv/app" for r in vault.requests)
    stdout = api.get(f"/api/v2/jobs/{job['id']}/stdout/", params={"format": "txt"}).text
    assert SECRET not in stdout and SECRET not in json.dumps(job)

    gone = run(controller, work, "absent", [source_task(names, "absent"), source_task(names, "absent")])
    assert "changed=1" in gone.stdout, describe(gone)
    assert stored(api, names) == []


def test_awx_cli_manages_input_sources(awx, api, names):
    made = expect(api.post(f"/api/v2/credentials/{names['target_id']}/input_sources/", json={
        "source_credential": names["source_id"], "input_field_name": "api_token",
        "metadata": {"secret_path": "/kv/app", "secret_key": "api_token"}}), 201)
    listed = awx.json("credential_input_sources", "list", "--target_credential", str(names["target_id"]))
    assert [s["id"] for s in listed["results"]] == [made["id"]]
    got = awx.json("credential_input_sources", "get", str(made["id"]))
    assert got["metadata"] == {"secret_path": "/kv/app", "secret_key": "api_token"}
    awx.json("credential_input_sources", "modify", str(made["id"]), "--description", "from the CLI")
    assert expect(api.get(f"/api/v2/credential_input_sources/{made['id']}/"), 200)["description"] == "from the CLI"
    assert awx.run("credential_input_sources", "delete", str(made["id"])).returncode == 0
    assert api.get(f"/api/v2/credential_input_sources/{made['id']}/").status_code == 404

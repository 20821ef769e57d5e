"""awx.awx 24.6.1's bulk modules (bulk_host_create, bulk_host_delete, bulk_job_launch with
``wait``) and the awx CLI's ``awx bulk host_create / host_delete / job_launch`` against a live
controller that runs real jobs.  Every result is read back through the HTTP API.

awx.awx 24.6.1 facts these tests rely on (plugins/modules/bulk_*.py):
  * bulk_host_create sends each host's ``variables`` as a JSON string, resolves ``inventory``
    by name and expects 201; bulk_host_delete posts host ids and expects 201; both always
    report ``changed``.
  * bulk_job_launch posts ``jobs`` as given (no name resolution inside), resolves
    ``organization`` and ``inventory``, expects 201 with ``id``, ``status`` and ``url``, then
    (``wait``) polls that ``url`` until the workflow job has finished.
awxkit 24.6.1 (cli/custom.py, cli/options.py): ``awx bulk`` reads ``OPTIONS bulk/<action>/``
``actions.POST`` for its flags; ``--hosts``/``--jobs`` take JSON or YAML lists.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.api import expect, only, wait_for

from .awx_collection import collection_env, describe, ensure_awx_collection, run_ansible
from .clients import unique

pytestmark = pytest.mark.compat

CALLBACKS = Path(__file__).resolve().parents[1] / "collection" / "callback_plugins"
HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


@pytest.fixture(scope="module")
def names(controller) -> dict:
    """A local inventory with one host, a manual project and a job template that asks for a limit."""
    suffix = unique("bulk").split("-", 1)[1]
    folder = f"bulk-{suffix}"
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "hello.yml").write_text(HELLO)
    with controller.client() as api:
        org = only(api, "/api/v2/organizations/", name="Default")
        inv = expect(api.post("/api/v2/inventories/", json={"name": f"bulk inv {suffix}", "organization": org["id"],
                                                            "variables": json.dumps(LOCAL)}), 201)
        expect(api.post("/api/v2/hosts/", json={"name": "runner", "inventory": inv["id"]}), 201)
        proj = expect(api.post("/api/v2/projects/", json={"name": f"bulk proj {suffix}", "organization": org["id"],
                                                          "local_path": folder}), 201)
        jt = expect(api.post("/api/v2/job_templates/", json={
            "name": f"bulk jt {suffix}", "project": proj["id"], "inventory": inv["id"], "playbook": "hello.yml",
            "ask_limit_on_launch": True, "ask_variables_on_launch": True}), 201)
    return {"inv": inv["name"], "inv_id": inv["id"], "jt_id": jt["id"], "bulk": f"bulk launch {suffix}"}


def playbook(n: dict) -> list[dict]:
    ids = ("{{ query('awx.awx.controller_api', 'hosts', query_params={'inventory': %d, 'name__startswith': 'bulk-'},"
           " return_ids=True) | map('int') | list }}" % n["inv_id"])
    tasks = [
        {"name": "create", "awx.awx.bulk_host_create": {"inventory": n["inv"], "hosts": [
            {"name": "bulk-1", "variables": {"tier": "web"}},
            {"name": "bulk-2", "description": "second", "enabled": False, "instance_id": "i-2"},
            {"name": "bulk-3"}]}},
        {"name": "duplicate", "awx.awx.bulk_host_create": {"inventory": n["inv"], "hosts": [
            {"name": "bulk-4"}, {"name": "bulk-1"}]}},
        {"name": "delete", "awx.awx.bulk_host_delete": {"hosts": ids}},
        {"name": "launch", "awx.awx.bulk_job_launch": {
            "name": n["bulk"], "organization": "Default", "jobs": [
                {"unified_job_template": n["jt_id"], "limit": "runner", "identifier": "first",
                 "extra_data": {"color": "red"}},
                {"unified_job_template": n["jt_id"], "identifier": "second"}],
            "extra_vars": {"ticket": "CHG-1"}, "wait": True, "interval": 1}},
    ]
    for t in tasks:
        t["register"] = "r_" + t["name"]
    return [{"name": "awx.awx bulk", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "ignore_errors": True, "tasks": tasks}]


@pytest.fixture(scope="module")
def run(controller, names, tmp_path_factory) -> dict:
    ensure_awx_collection()
    work = tmp_path_factory.mktemp("awx-bulk")
    play = work / "play.yml"
    play.write_text(yaml.safe_dump(playbook(names), sort_keys=False))
    out = work / "results.jsonl"
    env = collection_env(controller, work / "home", {
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "results_json",
        "RESULTS_JSON": str(out)})
    proc = run_ansible("playbook", "-i", "localhost,", str(play), env=env, cwd=work, timeout=600)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    results = {line["task"]: line["result"] for line in lines}
    assert len(results) == len(playbook(names)[0]["tasks"]), "the playbook did not finish\n" + describe(proc)
    return {"proc": proc, "results": results}


def hosts_of(api, inv_id: int) -> dict[str, dict]:
    rows = expect(api.get(f"/api/v2/inventories/{inv_id}/hosts/"), 200)["results"]
    return {h["name"]: h for h in rows}


def test_bulk_host_modules(run, api, names):
    res = run["results"]
    assert res["create"]["changed"] and not res["create"].get("failed"), res["create"]
    assert res["duplicate"].get("failed") and "Duplicates found" in json.dumps(res["duplicate"]), res["duplicate"]
    assert res["delete"]["changed"] and not res["delete"].get("failed"), res["delete"]
    # created, then deleted: nothing of bulk-* is left, bulk-4 was never written, the job host stays
    assert set(hosts_of(api, names["inv_id"])) == {"runner"}
    stream = expect(api.get(f"/api/v2/inventories/{names['inv_id']}/activity_stream/",
                            params={"operation": "update", "order_by": "id"}), 200)["results"]
    created, deleted = stream[-2]["changes"], stream[-1]["changes"]
    assert created == {"total_hosts": [1, 4]}
    assert sorted(h["host_name"] for h in deleted["deleted_hosts"]) == ["bulk-1", "bulk-2", "bulk-3"]


def test_bulk_job_launch_module_waits(run, api, names):
    launched = run["results"]["launch"]
    assert launched["changed"] and not launched.get("failed"), launched
    job = expect(api.get(f"/api/v2/workflow_jobs/{launched['id']}/"), 200)
    assert (job["name"], job["status"], job["workflow_job_template"]) == (names["bulk"], "successful", None)
    nodes = {n["identifier"]: n for n in expect(api.get(f"/api/v2/workflow_jobs/{job['id']}/workflow_nodes/"),
                                                200)["results"]}
    assert set(nodes) == {"first", "second"}
    first = expect(api.get(f"/api/v2/jobs/{nodes['first']['job']}/"), 200)
    assert first["status"] == "successful" and first["limit"] == "runner" and first["launch_type"] == "workflow"
    assert json.loads(first["extra_vars"]) == {"color": "red", "ticket": "CHG-1"}


def test_awx_cli_bulk(awx, api, names):
    made = awx.json("bulk", "host_create", "--inventory", names["inv"],
                    "--hosts", json.dumps([{"name": "cli-1"}, {"name": "cli-2", "variables": "a: 1"}]))
    assert [h["name"] for h in made["hosts"]] == ["cli-1", "cli-2"]
    stored = hosts_of(api, names["inv_id"])
    assert {"cli-1", "cli-2"} <= set(stored)
    gone = awx.json("bulk", "host_delete", "--hosts", json.dumps([stored["cli-1"]["id"], stored["cli-2"]["id"]]))
    assert gone["hosts"] == {str(stored["cli-1"]["id"]): "The host cli-1 was deleted",
                             str(stored["cli-2"]["id"]): "The host cli-2 was deleted"}
    assert set(hosts_of(api, names["inv_id"])) == {"runner"}
    launched = awx.json("bulk", "job_launch", "--name", "cli bulk",
                        "--jobs", json.dumps([{"unified_job_template": names["jt_id"], "limit": "runner"}]))
    assert launched["type"] == "workflow_job" and launched["name"] == "cli bulk"
    done = wait_for(api, f"/api/v2/workflow_jobs/{launched['id']}/",
                    lambda j: j["status"] in ("successful", "failed", "error", "canceled"), timeout=120)
    assert done["status"] == "successful", done

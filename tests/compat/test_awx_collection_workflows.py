"""awx.awx 24.6.1's five workflow modules against a live controller that runs real jobs:
``workflow_job_template`` (its ``workflow_nodes`` schema with an approval node, edges by
identifier under ``related``, and ``destroy_current_nodes``), ``workflow_job_template_node``
(nodes, edges and an ``approval_node`` one task at a time), ``workflow_launch`` (with and
without ``wait``), ``workflow_approval`` and ``workflow_node_wait``; plus ``job_wait`` on a
workflow job.  The playbook runs twice; the second run must report no change for the
declarative modules and the actions must work again on new workflow jobs.  Every result is
checked through the HTTP API (nodes, edges, approval templates, jobs, statuses).

awx.awx 24.6.1 facts these tests rely on (its source, plugins/modules/workflow_*.py):
  * ``workflow_job_template`` looks templates up as ``unified_job_templates/?name=&type=
    [&organization=]``, sends every node's ``state`` and ``job_slice_count`` (default ``'1'``)
    with the node, so it PATCHes existing nodes on every run yet reports ``changed=False``;
    ``destroy_current_nodes`` deletes every node first and always reports a change.
  * ``workflow_approval`` and ``workflow_node_wait`` find the node with
    ``workflow_jobs/N/workflow_nodes/?job__name=<name>`` and POST ``<related.job>approve``
    (no trailing slash).
  * For an approval node in ``workflow_nodes`` it PATCHes the approval template with the node's
    fields too (``identifier``, ``workflow_job_template``...), which no approval template shows;
    with ``update_secrets`` at its default (true; the module has no such option) a field missing
    from the answer counts as a change (warning "has encrypted data and may inaccurately report
    task is changed"), so that task reports ``changed`` on every run against AWX as well
    (redhat-cop/infra.aap_configuration#1243).  A workflow without approval nodes is idempotent.
  * Action modules always report ``changed``; the playbook marks them ``changed_when: false``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.api import expect, only

from .awx_collection import collection_env, describe, ensure_awx_collection, run_ansible
from .clients import unique

pytestmark = pytest.mark.compat

CALLBACKS = Path(__file__).resolve().parents[1] / "collection" / "callback_plugins"
HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
ACTIONS = ("launch_gated", "approve", "node_wait", "workflow_wait", "launch_plain")


def graph(api, wfjt_id: int) -> dict[str, dict]:
    """identifier -> {node, success_nodes, failure_nodes, always_nodes (child identifiers)}."""
    nodes = expect(api.get("/api/v2/workflow_job_template_nodes/",
                           params={"workflow_job_template": wfjt_id}), 200)["results"]
    ident = {n["id"]: n["identifier"] for n in nodes}
    out = {}
    for n in nodes:
        out[n["identifier"]] = {"node": n}
        for edge in ("success_nodes", "failure_nodes", "always_nodes"):
            children = expect(api.get(f"/api/v2/workflow_job_template_nodes/{n['id']}/{edge}/"), 200)["results"]
            out[n["identifier"]][edge] = sorted(ident[c["id"]] for c in children)
    return out


@pytest.fixture(scope="module")
def names(controller) -> dict:
    """A manual project, a local inventory and two job templates made through the API."""
    suffix = unique("wf").split("-", 1)[1]
    folder = f"wf-{suffix}"
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "hello.yml").write_text(HELLO)
    with controller.client() as api:
        org = only(api, "/api/v2/organizations/", name="Default")
        inv = expect(api.post("/api/v2/inventories/", json={"name": f"wf inv {suffix}", "organization": org["id"],
                                                            "variables": json.dumps(LOCAL)}), 201)
        expect(api.post("/api/v2/hosts/", json={"name": "wf-host", "inventory": inv["id"]}), 201)
        proj = expect(api.post("/api/v2/projects/", json={"name": f"wf proj {suffix}", "organization": org["id"],
                                                          "local_path": folder}), 201)
        for key in ("start", "finish"):
            expect(api.post("/api/v2/job_templates/", json={
                "name": f"wf {key} {suffix}", "project": proj["id"], "inventory": inv["id"],
                "playbook": "hello.yml", "ask_limit_on_launch": True, "ask_variables_on_launch": True}), 201)
    return {"org": "Default", "start_jt": f"wf start {suffix}", "finish_jt": f"wf finish {suffix}",
            "gated": f"WF gated {suffix}", "linear": f"WF linear {suffix}", "plain": f"WF plain {suffix}", "by_node": f"WF by node {suffix}",
            "gate": f"Gate {suffix}", "node_gate": f"Node gate {suffix}"}


def playbook(n: dict) -> list[dict]:
    jt = {"type": "job_template", "organization": {"name": n["org"]}}
    gated_nodes = [
        {"identifier": "start", "unified_job_template": {**jt, "name": n["start_jt"]}, "limit": "wf-host",
         "related": {"success_nodes": [{"identifier": "gate"}], "failure_nodes": [], "always_nodes": []}},
        {"identifier": "gate", "unified_job_template": {"type": "workflow_approval", "name": n["gate"],
                                                        "description": "approve me", "timeout": 600},
         "related": {"success_nodes": [{"identifier": "finish"}]}},
        {"identifier": "finish", "unified_job_template": {**jt, "name": n["finish_jt"]},
         "extra_data": {"from_node": "yes"}},
    ]
    node = "awx.awx.workflow_job_template_node"
    tasks = [
        {"name": "gated", "awx.awx.workflow_job_template": {
            "name": n["gated"], "organization": n["org"], "extra_vars": {"wf_var": 1}, "ask_limit_on_launch": True,
            "workflow_nodes": gated_nodes}},
        {"name": "linear", "awx.awx.workflow_job_template": {
            "name": n["linear"], "organization": n["org"], "workflow_nodes": [
                {"identifier": "one", "unified_job_template": {**jt, "name": n["start_jt"]},
                 "related": {"always_nodes": [{"identifier": "two"}]}},
                {"identifier": "two", "unified_job_template": {**jt, "name": n["finish_jt"]}}]}},
        {"name": "plain", "awx.awx.workflow_job_template": {
            "name": n["plain"], "organization": n["org"], "destroy_current_nodes": True,
            "workflow_nodes": [{"identifier": "only", "unified_job_template": {**jt, "name": n["start_jt"]}}]}},
        {"name": "by_node_wfjt", "awx.awx.workflow_job_template": {"name": n["by_node"], "organization": n["org"]}},
        {"name": "node_gate", node: {"identifier": "g", "workflow_job_template": n["by_node"],
                                     "organization": n["org"], "approval_node": {"name": n["node_gate"],
                                                                                  "timeout": 300}}},
        {"name": "node_b", node: {"identifier": "b", "workflow_job_template": n["by_node"],
                                  "unified_job_template": n["finish_jt"], "always_nodes": ["g"]}},
        {"name": "node_a", node: {"identifier": "a", "workflow_job_template": n["by_node"],
                                  "unified_job_template": n["start_jt"], "success_nodes": ["b"],
                                  "limit": "wf-host", "all_parents_must_converge": True}},
        {"name": "launch_gated", "awx.awx.workflow_launch": {"name": n["gated"], "organization": n["org"],
                                                             "wait": False}, "changed_when": False},
        {"name": "approve", "awx.awx.workflow_approval": {"workflow_job_id": "{{ r_launch_gated.id }}",
                                                          "name": n["gate"], "timeout": 120},
         "changed_when": False},
        {"name": "node_wait", "awx.awx.workflow_node_wait": {"workflow_job_id": "{{ r_launch_gated.id }}",
                                                             "name": n["finish_jt"], "timeout": 120}},
        {"name": "workflow_wait", "awx.awx.job_wait": {"job_id": "{{ r_launch_gated.id }}",
                                                       "job_type": "workflow_jobs", "timeout": 120}},
        {"name": "launch_plain", "awx.awx.workflow_launch": {"name": n["plain"], "wait": True, "timeout": 120,
                                                             "interval": 1}, "changed_when": False},
    ]
    for t in tasks:
        t["register"] = "r_" + t["name"]
    return [{"name": "awx.awx workflows", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "ignore_errors": True, "tasks": tasks}]


def run(controller, names: dict, work: Path, tag: str) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    play = work / f"play-{tag}.yml"
    play.write_text(yaml.safe_dump(playbook(names), sort_keys=False))
    out = work / f"results-{tag}.jsonl"
    out.unlink(missing_ok=True)
    env = collection_env(controller, work / "home", {
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "results_json",
        "RESULTS_JSON": str(out)})
    proc = run_ansible("playbook", "-i", "localhost,", str(play), env=env, cwd=work, timeout=600)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    results = {line["task"]: line["result"] for line in lines}
    assert len(results) == len(playbook(names)[0]["tasks"]), "the playbook did not finish\n" + describe(proc)
    return {"proc": proc, "results": results}


@pytest.fixture(scope="module")
def runs(controller, names, tmp_path_factory) -> list[dict]:
    ensure_awx_collection()
    work = tmp_path_factory.mktemp("awx-workflows")
    return [run(controller, names, work, "first"), run(controller, names, work, "second")]


def ok(run_: dict, task: str) -> dict:
    res = run_["results"][task]
    assert not res.get("failed"), f"awx.awx task {task!r} failed:\n{json.dumps(res, indent=2)[:6000]}"
    return res


def test_every_task_succeeds_twice_and_the_second_run_changes_nothing(runs):
    first, second = runs
    for r in runs:
        failed = {k: v.get("msg") for k, v in r["results"].items() if v.get("failed")}
        assert not failed, json.dumps(failed, indent=2) + "\n" + describe(r["proc"])
    declarative = ["gated", "linear", "plain", "by_node_wfjt", "node_gate", "node_b", "node_a"]
    assert [t for t in declarative if first["results"][t]["changed"]] == declarative
    # destroy_current_nodes always reports a change (it deletes and recreates), as on AWX; an
    # approval inside workflow_nodes too (client side, see the module docstring)
    assert second["results"]["plain"]["changed"] and second["results"]["gated"]["changed"]
    assert any("may inaccurately report task is changed" in w for w in second["results"]["gated"]["warnings"])
    changed = [t for t, v in second["results"].items() if v.get("changed") and t not in ("plain", "gated")]
    assert changed == [], json.dumps({t: second["results"][t] for t in changed}, indent=1)[:6000]


def test_workflow_nodes_schema_stored(runs, api, names):
    wf = only(api, "/api/v2/workflow_job_templates/", name=names["gated"])
    assert json.loads(wf["extra_vars"]) == {"wf_var": 1} and wf["ask_limit_on_launch"] is True
    stored = graph(api, wf["id"])
    assert set(stored) == {"start", "gate", "finish"}
    assert stored["start"]["success_nodes"] == ["gate"] and stored["gate"]["success_nodes"] == ["finish"]
    assert stored["start"]["node"]["limit"] == "wf-host"
    assert stored["finish"]["node"]["extra_data"] == {"from_node": "yes"}
    start_jt = only(api, "/api/v2/job_templates/", name=names["start_jt"])
    assert stored["start"]["node"]["unified_job_template"] == start_jt["id"]
    gate = expect(api.get(stored["gate"]["node"]["related"]["unified_job_template"]), 200)
    assert (gate["type"], gate["name"], gate["description"], gate["timeout"]) == (
        "workflow_approval_template", names["gate"], "approve me", 600)
    # the second run kept the nodes (same ids), it did not recreate them
    assert len(expect(api.get("/api/v2/workflow_approval_templates/", params={"name": names["gate"]}),
                      200)["results"]) == 1


def test_workflow_nodes_without_approval(runs, api, names):
    stored = graph(api, only(api, "/api/v2/workflow_job_templates/", name=names["linear"])["id"])
    assert set(stored) == {"one", "two"} and stored["one"]["always_nodes"] == ["two"]


def test_destroy_current_nodes_recreates_the_graph(runs, api, names):
    wf = only(api, "/api/v2/workflow_job_templates/", name=names["plain"])
    stored = graph(api, wf["id"])
    assert list(stored) == ["only"]
    first_ids = [x["id"] for x in runs[0]["results"]["plain"]["node_creation_data"]
                 if isinstance(x, dict) and x.get("identifier") == "only"]
    assert first_ids and stored["only"]["node"]["id"] not in first_ids     # recreated on the second run


def test_workflow_job_template_node_module(runs, api, names):
    wf = only(api, "/api/v2/workflow_job_templates/", name=names["by_node"])
    stored = graph(api, wf["id"])
    assert set(stored) == {"a", "b", "g"}
    assert stored["a"]["success_nodes"] == ["b"] and stored["b"]["always_nodes"] == ["g"]
    assert stored["a"]["node"]["all_parents_must_converge"] is True and stored["a"]["node"]["limit"] == "wf-host"
    gate = expect(api.get(stored["g"]["node"]["related"]["unified_job_template"]), 200)
    assert (gate["name"], gate["timeout"]) == (names["node_gate"], 300)


def test_launch_approve_node_wait_and_job_wait(runs, api, names):
    for r in runs:
        launched = ok(r, "launch_gated")
        job = expect(api.get(f"/api/v2/workflow_jobs/{launched['id']}/"), 200)
        assert job["status"] == "successful" and job["launch_type"] == "manual", job
        assert ok(r, "workflow_wait")["status"] == "successful"
        nodes = {n["identifier"]: n for n in expect(api.get(
            f"/api/v2/workflow_jobs/{launched['id']}/workflow_nodes/"), 200)["results"]}
        approval = expect(api.get(f"/api/v2/workflow_approvals/{nodes['gate']['job']}/"), 200)
        assert approval["status"] == "successful" and approval["name"] == names["gate"]
        finish = expect(api.get(f"/api/v2/jobs/{nodes['finish']['job']}/"), 200)
        assert finish["status"] == "successful" and finish["launch_type"] == "workflow"
        assert json.loads(finish["extra_vars"]) == {"from_node": "yes", "wf_var": 1}
        assert ok(r, "node_wait")["job_data"]["id"] == finish["id"]
        plain = ok(r, "launch_plain")
        assert plain["status"] == "successful"
        assert expect(api.get(f"/api/v2/workflow_jobs/{plain['id']}/"), 200)["status"] == "successful"

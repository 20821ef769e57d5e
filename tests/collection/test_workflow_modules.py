"""The workflow modules against a live controller that runs real jobs: workflow_job_template
(the graph declared inline by identifier: create, idempotence, check mode, edges moved, nodes
removed, approvals), workflow_job_template_node, workflow_launch (wait), workflow_approval
(approve, deny, idempotence), job_wait/job_cancel on workflow jobs, and export + configure of
workflows.  Everything is read back through the API (nodes, edges, jobs, statuses)."""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import start_controller
from tests.support.api import local_world

from .conftest import ansible_env, connection, failed_cleanly, run_playbook, run_tasks

pytestmark = pytest.mark.slow

PLAYBOOKS = {
    "hello.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n",
    "fail.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail: {msg: boom}\n",
}
WF = "turret.controller.workflow_job_template"


@pytest.fixture(scope="module")
def world(controller):
    """An organization, a local inventory, a manual project and two job templates (ok, fail)."""
    asks = {"ask_limit_on_launch": True}
    return local_world(controller, "W", "wfproj", PLAYBOOKS, {"ok": ("hello.yml", asks), "bad": ("fail.yml", asks)})


def jt(name: str) -> dict:
    return {"type": "job_template", "name": name, "organization": "WOrg"}


def graph(api, wfjt_id: int) -> dict[str, dict[str, Any]]:
    """identifier -> {ujt, success/failure/always: sorted child identifiers, fields} as stored."""
    nodes = api.get("/api/v2/workflow_job_template_nodes/",
                    params={"workflow_job_template": wfjt_id, "page_size": 200}).json()["results"]
    ident = {n["id"]: n["identifier"] for n in nodes}
    out = {}
    for n in nodes:
        edges = {}
        for edge in ("success_nodes", "failure_nodes", "always_nodes"):
            ids = [c["id"] for c in api.get(f"/api/v2/workflow_job_template_nodes/{n['id']}/{edge}/").json()["results"]]
            edges[edge] = sorted(ident[i] for i in ids)
        out[n["identifier"]] = {"node": n, **edges}
    return out


def find_wfjt(api, name: str) -> list[dict]:
    return api.get("/api/v2/workflow_job_templates/", params={"name": name}).json()["results"]


NODES = [
    {"identifier": "first", "unified_job_template": jt("ok"), "success_nodes": ["second"],
     "failure_nodes": ["cleanup"], "limit": "wh1", "extra_data": {"x": 1}},
    {"identifier": "second", "unified_job_template": {"type": "approval", "name": "Gate", "timeout": 600},
     "success_nodes": ["third"]},
    {"identifier": "third", "unified_job_template": jt("ok"), "all_parents_must_converge": True},
    {"identifier": "cleanup", "unified_job_template": jt("bad")},
]


def test_workflow_job_template_graph_lifecycle(world, play, api):
    base = {"name": "wf-graph", "organization": "WOrg", "extra_vars": {"v": 1}}
    check = play([{WF: {**base, "workflow_nodes": NODES}, "check_mode": True, "diff": True}])[0]
    assert check["changed"] is True and check["id"] is None, check
    assert set(check["nodes"]) == {"first", "second", "third", "cleanup"}
    assert find_wfjt(api, "wf-graph") == []

    moved = [dict(NODES[0], success_nodes=[], failure_nodes=["second"]), NODES[1], NODES[2]]
    p = play([
        {WF: {**base, "workflow_nodes": NODES}, "diff": True},                       # 0 create
        {WF: {**base, "workflow_nodes": NODES}},                                     # 1 same again
        {WF: {**base, "workflow_nodes": moved}, "check_mode": True, "diff": True},   # 2 check: edge moved, node gone
    ])
    created, again, check_move = p.results
    assert created["changed"] is True and created["id"], created
    assert again["changed"] is False, again
    assert check_move["changed"] is True
    assert "remove node cleanup" in check_move["diff"]["after"]["workflow_node_changes"]
    stored = graph(api, created["id"])
    assert set(stored) == {"first", "second", "third", "cleanup"}
    assert (stored["first"]["success_nodes"], stored["first"]["failure_nodes"]) == (["second"], ["cleanup"])
    assert stored["second"]["success_nodes"] == ["third"]
    assert stored["first"]["node"]["unified_job_template"] == world["jts"]["ok"]["id"]
    assert stored["first"]["node"]["limit"] == "wh1" and stored["first"]["node"]["extra_data"] == {"x": 1}
    assert stored["third"]["node"]["all_parents_must_converge"] is True
    gate_id = stored["second"]["node"]["unified_job_template"]
    approval = api.get(f"/api/v2/workflow_approval_templates/{gate_id}/").json()
    assert (approval["name"], approval["timeout"]) == ("Gate", 600)
    assert {k: v["node"]["id"] for k, v in stored.items()} == created["nodes"]

    p = play([
        {WF: {**base, "workflow_nodes": moved}, "diff": True},                       # 0 apply the move
        {WF: {**base, "workflow_nodes": moved}},                                     # 1 again
    ])
    move, move_again = p.results
    assert move["changed"] is True and move_again["changed"] is False, (move, move_again)
    stored = graph(api, created["id"])
    assert set(stored) == {"first", "second", "third"}          # cleanup removed
    assert (stored["first"]["success_nodes"], stored["first"]["failure_nodes"]) == ([], ["second"])
    assert stored["second"]["node"]["id"] == created["nodes"]["second"]   # kept, not recreated
    assert api.get(f"/api/v2/workflow_job_template_nodes/{created['nodes']['cleanup']}/").status_code == 404

    reset = dict(NODES[0], limit=None, success_nodes=[], failure_nodes=[])
    p = play([{WF: {**base, "workflow_nodes": [reset, NODES[1], NODES[2]]}}])
    assert p[0]["changed"] is True
    stored = graph(api, created["id"])
    assert stored["first"]["node"]["limit"] in (None, "") and stored["first"]["node"]["extra_data"] == {"x": 1}
    assert stored["first"]["failure_nodes"] == [] and stored["second"]["success_nodes"] == ["third"]

    p = play([
        {WF: {**base, "workflow_nodes": [dict(n, unified_job_template=jt("nope")) for n in NODES[:1]]}},
        {WF: {**base, "workflow_nodes": [dict(NODES[0], success_nodes=["ghost"], failure_nodes=[])]}},
        {WF: {**base, "workflow_nodes": [{**NODES[2], "success_nodes": ["third"]}]}},   # a cycle
        {WF: {**base, "workflow_nodes": [dict(NODES[0], success_nodes=["second"], failure_nodes=["second"]),
                                         NODES[1], NODES[2]]}},
    ])
    missing, ghost, cycle, both = p.results
    failed_cleanly(missing, "no job_templates found")
    failed_cleanly(ghost, "undeclared nodes")
    failed_cleanly(cycle, "Cycle detected: third -> third")
    failed_cleanly(both, "two edge types")
    assert set(graph(api, created["id"])) == {"first", "second", "third"}    # refused before any write

    p = play([{WF: {"name": "wf-graph", "state": "absent"}, "diff": True},
              {WF: {"name": "wf-graph", "state": "absent"}}])
    assert p[0]["changed"] is True and p[1]["changed"] is False
    assert find_wfjt(api, "wf-graph") == []


def test_workflow_job_template_node_module(world, play, api):
    t = "turret.controller.workflow_job_template_node"
    p = play([
        {WF: {"name": "wf-nodes", "organization": "WOrg"}},
        {t: {"identifier": "b", "workflow_job_template": "wf-nodes", "unified_job_template": "ok"}},
        {t: {"identifier": "a", "workflow_job_template": "wf-nodes", "unified_job_template": "ok",
             "success_nodes": ["b"], "limit": "wh1"}, "diff": True},
        {t: {"identifier": "a", "workflow_job_template": "wf-nodes", "unified_job_template": "ok",
             "success_nodes": ["b"], "limit": "wh1"}},
        {t: {"identifier": "g", "workflow_job_template": "wf-nodes", "approval": {"name": "G", "timeout": 5}}},
        {t: {"identifier": "g", "workflow_job_template": "wf-nodes", "approval": {"name": "G", "timeout": 5}}},
        {t: {"identifier": "a", "workflow_job_template": "wf-nodes", "success_nodes": [],
             "always_nodes": ["b", "g"]}, "check_mode": True},
        {t: {"identifier": "a", "workflow_job_template": "wf-nodes", "success_nodes": [], "always_nodes": ["b", "g"]}},
        {t: {"identifier": "b", "workflow_job_template": "wf-nodes", "state": "absent"}},
    ])
    assert [r["changed"] for r in p.results] == [True, True, True, False, True, False, True, True, True], p.results
    stored = graph(api, p[0]["id"])
    assert set(stored) == {"a", "g"}
    assert stored["a"]["always_nodes"] == ["g"] and stored["a"]["success_nodes"] == []
    gate = api.get(f"/api/v2/workflow_approval_templates/{stored['g']['node']['unified_job_template']}/").json()
    assert (gate["name"], gate["timeout"]) == ("G", 5)


def workflow_job(api, job_id: int) -> dict:
    return api.get(f"/api/v2/workflow_jobs/{job_id}/").json()


def spawned(api, job_id: int) -> dict[str, dict]:
    """identifier -> the workflow job node, for one workflow job."""
    nodes = api.get("/api/v2/workflow_job_nodes/", params={"workflow_job": job_id}).json()["results"]
    return {n["identifier"]: n for n in nodes}


def test_launch_wait_approve_and_deny(world, play, api):
    gated = [
        {"identifier": "run", "unified_job_template": jt("ok"), "success_nodes": ["gate"]},
        {"identifier": "gate", "unified_job_template": {"type": "approval", "name": "Go?", "timeout": 0},
         "success_nodes": ["after"], "failure_nodes": ["denied"]},
        {"identifier": "after", "unified_job_template": jt("ok")},
        {"identifier": "denied", "unified_job_template": jt("ok")},
    ]
    launch = "turret.controller.workflow_launch"
    approve = "turret.controller.workflow_approval"
    p = play([
        {WF: {"name": "wf-simple", "organization": "WOrg",
              "workflow_nodes": [{"identifier": "one", "unified_job_template": jt("ok")}]}},       # 0
        {WF: {"name": "wf-gated", "organization": "WOrg", "workflow_nodes": gated}},             # 1
        {launch: {"name": "wf-simple"}, "check_mode": True},                                     # 2
        {launch: {"name": "wf-simple", "organization": "WOrg", "wait": True, "timeout": 180}},   # 3
        {launch: {"name": "wf-gated"}},                                                          # 4
        {approve: {"workflow_job_id": "{{ r4.id }}", "name": "gate"}, "check_mode": True},       # 5
        {approve: {"workflow_job_id": "{{ r4.id }}", "name": "gate", "comment": "ship it",
                   "timeout": 120}},                                                             # 6
        {approve: {"workflow_job_id": "{{ r4.id }}", "name": "Go?"}},                            # 7 already approved
        {"turret.controller.job_wait": {"job_id": "{{ r4.id }}", "job_type": "workflow_jobs",
                                        "timeout": 180}},                                        # 8
        {launch: {"name": "wf-gated"}},                                                          # 9
        {approve: {"workflow_job_id": "{{ r9.id }}", "name": "gate", "action": "deny", "timeout": 120}},  # 10
        {approve: {"workflow_job_id": "{{ r9.id }}", "name": "gate", "action": "approve"}},      # 11 too late
        {"turret.controller.job_wait": {"job_id": "{{ r9.id }}", "job_type": "workflow_jobs",
                                        "timeout": 180}},                                        # 12
        {launch: {"name": "no-such-workflow"}},                                                  # 13
        {approve: {"workflow_job_id": "{{ r3.id }}", "name": "gate", "timeout": 5}},             # 14 no gate
    ])
    r = p.results
    assert r[2]["changed"] and r[2]["id"] is None
    assert r[3]["status"] == "successful" and r[3]["job"]["type"] == "workflow_job", r[3]
    assert workflow_job(api, r[3]["id"])["status"] == "successful"
    [one] = spawned(api, r[3]["id"]).values()
    assert api.get(f"/api/v2/jobs/{one['job']}/").json()["status"] == "successful"

    assert r[5]["changed"] is True and r[5]["status"] == "pending", r[5]
    assert r[6]["changed"] is True and r[6]["status"] == "successful", r[6]
    assert r[7]["changed"] is False
    assert r[8]["status"] == "successful", r[8]
    nodes = spawned(api, r[4]["id"])
    assert nodes["denied"]["do_not_run"] is True and nodes["denied"]["job"] is None
    assert api.get(f"/api/v2/jobs/{nodes['after']['job']}/").json()["status"] == "successful"
    votes = api.get(f"/api/v2/workflow_approvals/{r[6]['id']}/votes/").json()["results"]
    assert [(v["decision"], v["comment"]) for v in votes] == [("approve", "ship it")]

    assert r[10]["changed"] is True and r[10]["status"] == "failed", r[10]
    failed_cleanly(r[11], "already ended failed")
    assert r[12]["status"] == "successful"      # the denial took the failure edge: handled
    nodes = spawned(api, r[9]["id"])
    assert nodes["after"]["do_not_run"] is True
    assert api.get(f"/api/v2/jobs/{nodes['denied']['job']}/").json()["status"] == "successful"
    failed_cleanly(r[13], "no workflow_job_templates found")
    failed_cleanly(r[14], "without reaching approval gate")
    assert api.get("/api/v2/workflow_jobs/").json()["count"] == 3   # check mode launched nothing


def test_export_and_configure_workflows(world, controller, play, tmp_path, tmp_path_factory):
    wf = {"name": "wf-export", "organization": "WOrg", "description": "exported", "ask_limit_on_launch": True,
          "workflow_nodes": [
              {"identifier": "a", "unified_job_template": jt("ok"), "success_nodes": ["b"], "limit": "wh1"},
              {"identifier": "b", "unified_job_template": {"type": "approval", "name": "B?", "timeout": 30,
                                                           "required_approvals": 2}, "always_nodes": ["c"]},
              {"identifier": "c", "unified_job_template": {"type": "workflow_job_template", "name": "wf-inner",
                                                           "organization": "WOrg"}}]}
    p = play([{WF: {"name": "wf-inner", "organization": "WOrg",
                    "workflow_nodes": [{"identifier": "x", "unified_job_template": jt("ok")}]}},
              {WF: wf},
              {"turret.controller.export": {"organizations": ["WOrg"]}}])
    assert p[0]["changed"] and p[1]["changed"], p.results
    exported = {w["name"]: w for w in p[2]["assets"]["controller_workflow_job_templates"]}
    assert set(exported) >= {"wf-export", "wf-inner"}
    got = exported["wf-export"]
    assert got["description"] == "exported" and got["ask_limit_on_launch"] is True
    nodes = {n["identifier"]: n for n in got["workflow_nodes"]}
    assert nodes["a"]["unified_job_template"] == jt("ok") and nodes["a"]["success_nodes"] == ["b"]
    assert nodes["a"]["limit"] == "wh1"
    assert nodes["b"]["unified_job_template"]["type"] == "approval"
    assert nodes["b"]["unified_job_template"]["required_approvals"] == 2 and nodes["b"]["always_nodes"] == ["c"]
    assert nodes["c"]["unified_job_template"] == {"type": "workflow_job_template", "name": "wf-inner",
                                                  "organization": "WOrg"}

    workdir = tmp_path / "configure"
    workdir.mkdir()
    path = workdir / "vars.yml"
    path.write_text(yaml.safe_dump({**connection(controller), **p[2]["assets"]}))
    again = run_playbook(["turret.controller.configure", "-e", f"@{path}"], workdir, ansible_env(workdir))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr

    # the import into an empty controller rebuilds the same graphs (approval templates included)
    fresh = start_controller(tmp_path_factory)
    try:
        folder = fresh.data_dir / "projects" / "wfproj"
        folder.mkdir(parents=True)
        for name, text in PLAYBOOKS.items():
            (folder / name).write_text(text)
        path.write_text(yaml.safe_dump({**connection(fresh), **p[2]["assets"]}))
        imported = run_playbook(["turret.controller.configure", "-e", f"@{path}"], workdir, ansible_env(workdir))
        assert imported.returncode == 0, imported.stdout + imported.stderr
        p2 = run_tasks(fresh, [{"turret.controller.export": {"organizations": ["WOrg"]}}], tmp_path / "export2")
        key = "controller_workflow_job_templates"
        assert p2[0]["assets"][key] == p[2]["assets"][key]
    finally:
        fresh.stop()


def test_cancel_a_waiting_workflow(world, play, api):
    """job_cancel and job_wait take workflow jobs: a workflow waiting at its approval is canceled,
    the approval with it, and the nodes after it are never run."""
    nodes = [{"identifier": "gate", "unified_job_template": {"type": "approval", "name": "Hold", "timeout": 0},
              "success_nodes": ["after"]},
             {"identifier": "after", "unified_job_template": jt("ok")}]
    wait = {"job_type": "workflow_jobs", "timeout": 120}
    p = play([
        {WF: {"name": "wf-cancel", "organization": "WOrg", "workflow_nodes": nodes}},
        {"turret.controller.workflow_launch": {"name": "wf-cancel"}},                               # 1
        {"turret.controller.workflow_approval": {"workflow_job_id": "{{ r1.id }}", "name": "gate"},
         "check_mode": True},                                                                       # 2 reached
        {"turret.controller.job_cancel": {"job_id": "{{ r1.id }}", "job_type": "workflow_jobs"}},   # 3
        {"turret.controller.job_wait": {"job_id": "{{ r1.id }}", **wait}},                          # 4
        {"turret.controller.job_cancel": {"job_id": "{{ r1.id }}", "job_type": "workflow_jobs"}},   # 5
    ])
    r = p.results
    assert r[2]["status"] == "pending", r[2]
    assert r[3]["changed"] is True
    failed_cleanly(r[4], "ended canceled")
    assert r[5]["changed"] is False
    assert workflow_job(api, r[1]["id"])["status"] == "canceled"
    by_ident = spawned(api, r[1]["id"])
    assert api.get(f"/api/v2/workflow_approvals/{by_ident['gate']['job']}/").json()["status"] == "canceled"
    assert by_ident["after"]["job"] is None and by_ident["after"]["do_not_run"] is True


def test_approval_needs_the_approve_role(world, play, api):
    """execute on the workflow is not enough to decide its approval; the approve role is."""
    nodes = [{"identifier": "gate", "unified_job_template": {"type": "approval", "name": "Perm", "timeout": 0}}]
    created = play([{WF: {"name": "wf-perm", "organization": "WOrg", "workflow_nodes": nodes}}])[0]
    roles = api.get(f"/api/v2/workflow_job_templates/{created['id']}/").json()["summary_fields"]["object_roles"]
    for username, role in (("runner", "execute_role"), ("approver", "approval_role")):
        user = api.post("/api/v2/users/", {"username": username, "password": f"{username}-pw-1"}).json()
        api.post(f"/api/v2/roles/{roles[role]['id']}/users/", {"id": user["id"]}).raise_for_status()
    as_user = {name: {"controller_username": name, "controller_password": f"{name}-pw-1"}
               for name in ("runner", "approver")}
    p = play([
        {"turret.controller.workflow_launch": {"name": "wf-perm", **as_user["runner"]}},
        {"turret.controller.workflow_approval": {"workflow_job_id": "{{ r0.id }}", "name": "gate",
                                                 **as_user["runner"]}},
        {"turret.controller.workflow_approval": {"workflow_job_id": "{{ r0.id }}", "name": "gate",
                                                 **as_user["approver"]}},
    ])
    launched, refused, approved = p.results
    assert launched["changed"] and launched["id"], launched
    failed_cleanly(refused, "403")
    assert approved["changed"] is True and approved["status"] == "successful", approved
    [vote] = api.get(f"/api/v2/workflow_approvals/{approved['id']}/votes/").json()["results"]
    assert vote["decision"] == "approve" and vote["user"] == api.get(
        "/api/v2/users/", params={"username": "approver"}).json()["results"][0]["id"]

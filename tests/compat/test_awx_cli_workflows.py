"""The real ``awx`` CLI (awxkit 24.6.1) and workflows, against a live controller that runs real
jobs: ``workflow_job_templates create``, ``workflow_job_template_nodes create``,
``workflow_job_templates launch --monitor`` (successful, failed), ``workflow_jobs list`` /
``monitor``, ``workflow_job_nodes list``, ``workflow_approvals list/get``, and the CLI's way to
link nodes: ``awx export`` then ``awx import`` (edges by natural key).  Every action is checked
by reading the state back through the HTTP API (admin Basic auth).

awxkit 24.6.1 facts these tests rely on (``--help`` and its source, cli/custom.py, cli/stdout.py,
api/pages/api.py):
  * ``workflow_job_template_nodes`` offers list/create/get/modify/delete only: the CLI has **no
    action for the success/failure/always edges** (only ``awx import`` attaches them), and
    ``workflow_approvals`` offers list/get/delete only: **no approve/deny** (awxkit's page
    object has ``approve()`` but the CLI does not expose it).  Edges go through the API here
    and approvals through awxkit's own ``WorkflowApproval.approve()``; the CLI observes.
  * ``--unified_job_template`` takes an id (the OPTIONS type is an integer).
  * ``launch --monitor`` of a workflow polls ``GET /api/v2/unified_jobs?order_by=finished&
    unified_job_node__workflow_job=N`` (no trailing slash) and the workflow job every
    ``max(2.5, --interval)`` s until ``finished``; without a terminal it prints each spawned job
    once at the end as `` ↳ <id> - <name> <status>``; exit 1 for ``failed``/``error``.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.api import expect, only, wait_for

from .clients import client_env, describe, ensure_awx_cli, run_awxkit, unique

pytestmark = pytest.mark.compat

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STREAM_START = "------Starting Standard Out Stream------"
STREAM_END = "------End of Standard Out Stream--------"
HELLO = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"
FAIL = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail: {msg: boom}\n"


def plain(text: str) -> str:
    return _ANSI.sub("", text)


def split_monitor(proc: subprocess.CompletedProcess) -> tuple[str, dict]:
    """(the streamed part between the monitor's markers, the JSON printed after them)."""
    out = plain(proc.stdout)
    assert STREAM_START in out and STREAM_END in out, describe(proc)
    stream = out.split(STREAM_START, 1)[1].split(STREAM_END, 1)[0]
    return stream, json.loads(out.split(STREAM_END, 1)[1].strip())


def job_nodes(api, workflow_job_id: int) -> dict[str, dict]:
    results = expect(api.get(f"/api/v2/workflow_jobs/{workflow_job_id}/workflow_nodes/"), 200)["results"]
    return {n["identifier"]: n for n in results}


@pytest.fixture(scope="module")
def templates(controller) -> dict:
    """A manual project with a passing and a failing playbook and a job template for each."""
    folder = unique("wf-cli")
    path = controller.data_dir / "projects" / folder
    path.mkdir(parents=True)
    (path / "hello.yml").write_text(HELLO)
    (path / "fail.yml").write_text(FAIL)
    with controller.client() as api:
        org = only(api, "/api/v2/organizations/", name="Default")["id"]
        inv = only(api, "/api/v2/inventories/", name="Demo Inventory")["id"]
        proj = expect(api.post("/api/v2/projects/", json={"name": folder, "organization": org,
                                                          "local_path": folder}), 201)["id"]
        return {key: expect(api.post("/api/v2/job_templates/", json={
            "name": unique(f"wf-cli-{key}"), "project": proj, "inventory": inv, "playbook": playbook}), 201)
            for key, playbook in (("ok", "hello.yml"), ("bad", "fail.yml"))}


def make_workflow(awx, api, templates: dict, chain: list[str], edge: str = "success_nodes") -> dict:
    """A workflow made with the CLI whose nodes run ``chain`` (keys of ``templates``) in order;
    the edges go through the API (the CLI has no action for them)."""
    wf = awx.json("workflow_job_templates", "create", "--name", unique("wf-cli"), "--organization", "Default",
                  "--extra_vars", '{"from_workflow": "cli"}')
    ids = []
    for i, key in enumerate(chain):
        node = awx.json("workflow_job_template_nodes", "create", "--workflow_job_template", str(wf["id"]),
                        "--unified_job_template", str(templates[key]["id"]), "--identifier", f"n{i}",
                        "--extra_data", json.dumps({"step": i}))
        assert (node["identifier"], node["workflow_job_template"]) == (f"n{i}", wf["id"]), node
        ids.append(node["id"])
    for parent, child in zip(ids, ids[1:]):
        expect(api.post(f"/api/v2/workflow_job_template_nodes/{parent}/{edge}/", json={"id": child}), 204)
    return {**wf, "node_ids": ids}


def test_create_nodes_and_launch_monitor(awx, api, templates):
    wf = make_workflow(awx, api, templates, ["ok", "ok"])
    stored = expect(api.get(f"/api/v2/workflow_job_templates/{wf['id']}/"), 200)
    assert json.loads(stored["extra_vars"]) == {"from_workflow": "cli"}
    assert stored["organization"] == only(api, "/api/v2/organizations/", name="Default")["id"]
    listed = awx.json("workflow_job_template_nodes", "list", "--workflow_job_template", str(wf["id"]))
    assert sorted(n["identifier"] for n in listed["results"]) == ["n0", "n1"]
    first = awx.json("workflow_job_template_nodes", "get", str(wf["node_ids"][0]))
    assert first["success_nodes"] == [wf["node_ids"][1]] and first["extra_data"] == {"step": 0}

    proc = awx.run("-f", "json", "workflow_job_templates", "launch", wf["name"], "--monitor", "--interval", "1",
                   timeout=180)
    assert proc.returncode == 0, describe(proc)
    stream, job = split_monitor(proc)
    assert job["type"] == "workflow_job" and job["status"] == "successful", job
    stored = expect(api.get(f"/api/v2/workflow_jobs/{job['id']}/"), 200)
    assert stored["status"] == "successful" and stored["workflow_job_template"] == wf["id"]
    nodes = job_nodes(api, job["id"])
    spawned = [expect(api.get(f"/api/v2/jobs/{nodes[i]['job']}/"), 200) for i in ("n0", "n1")]
    assert [j["status"] for j in spawned] == ["successful", "successful"]
    assert all(j["launch_type"] == "workflow" for j in spawned)
    # the workflow's variables reach every job; a node's extra_data only a template that asks for variables
    assert json.loads(spawned[1]["extra_vars"]) == {"from_workflow": "cli"}
    assert spawned[0]["finished"] <= spawned[1]["started"]     # the success edge ordered them
    name = templates["ok"]["name"]
    for j in spawned:      # what the monitor printed: one line per spawned job
        assert re.search(rf"↳ {j['id']} - {re.escape(name)} successful", stream), stream

    runs = awx.json("workflow_jobs", "list", "--workflow_job_template", str(wf["id"]))
    assert [r["id"] for r in runs["results"]] == [job["id"]]
    listed = awx.json("workflow_job_nodes", "list", "--workflow_job", str(job["id"]))
    assert sorted(n["job"] for n in listed["results"]) == sorted(j["id"] for j in spawned)


def test_failing_node_fails_the_workflow_and_the_cli(awx, api, templates):
    wf = make_workflow(awx, api, templates, ["bad", "ok"])
    proc = awx.run("-f", "json", "workflow_job_templates", "launch", str(wf["id"]), "--monitor", "--interval", "1",
                   timeout=180)
    assert proc.returncode == 1, describe(proc)
    stream, job = split_monitor(proc)
    assert job["status"] == "failed", job
    nodes = job_nodes(api, job["id"])
    assert expect(api.get(f"/api/v2/jobs/{nodes['n0']['job']}/"), 200)["status"] == "failed"
    assert nodes["n1"]["do_not_run"] is True and nodes["n1"]["job"] is None
    assert re.search(rf"↳ {nodes['n0']['job']} - .* failed", stream), stream
    failed = awx.json("workflow_jobs", "list", "--status", "failed", "--workflow_job_template", str(wf["id"]))
    assert [r["id"] for r in failed["results"]] == [job["id"]]


# awxkit's own page object decides an approval (WorkflowApproval.approve(): GET the approval, POST its
# related.approve); the CLI built on awxkit does not expose it.
AWXKIT_APPROVE = """\
approval = v2.workflow_approvals.get(id=int(sys.argv[4])).results[0]
approval.approve()
print(json.dumps(approval.get().json))
"""


def awxkit_approve(controller, approval_id: int) -> dict:
    """Approve with awxkit's WorkflowApproval.approve(); the approval as awxkit reads it back."""
    return run_awxkit(controller, AWXKIT_APPROVE, str(approval_id))


def test_approval_seen_by_the_cli_and_decided_through_awxkit(awx, api, templates, controller):
    shown = awx.run("workflow_approvals", "--help")
    help_text = plain(shown.stdout + shown.stderr)
    assert "approve" not in help_text and "list" in help_text     # awxkit 24.6.1 has no approve action
    wf = make_workflow(awx, api, templates, ["ok", "ok"])
    gate_node = awx.json("workflow_job_template_nodes", "create", "--workflow_job_template", str(wf["id"]),
                         "--identifier", "gate")
    gate_name = unique("wf-cli-gate")
    expect(api.post(f"/api/v2/workflow_job_template_nodes/{gate_node['id']}/create_approval_template/",
                    json={"name": gate_name, "timeout": 0}), 201)
    expect(api.post(f"/api/v2/workflow_job_template_nodes/{wf['node_ids'][0]}/success_nodes/",
                    json={"id": gate_node["id"]}), 204)

    launched = awx.json("workflow_job_templates", "launch", wf["name"])
    assert launched["type"] == "workflow_job"
    wait_for(api, f"/api/v2/workflow_jobs/{launched['id']}/workflow_nodes/?identifier=gate",
             lambda page: page["results"] and page["results"][0]["job"], timeout=90)
    pending = awx.json("workflow_approvals", "list", "--status", "pending", "--name", gate_name)
    [approval] = pending["results"]
    assert approval["type"] == "workflow_approval"
    decided = awxkit_approve(controller, approval["id"])
    assert decided["id"] == approval["id"] and decided["status"] == "successful", decided

    proc = awx.run("-f", "json", "workflow_jobs", "monitor", str(launched["id"]), "--interval", "1", timeout=180)
    assert proc.returncode == 0, describe(proc)
    done = wait_for(api, f"/api/v2/workflow_jobs/{launched['id']}/", lambda j: j["finished"], timeout=90)
    assert done["status"] == "successful", done
    got = awx.json("workflow_approvals", "get", str(approval["id"]))
    assert got["status"] == "successful" and got["failed"] is False


# Every list awxkit's import walks (api/pages/api.py EXPORTABLE_RESOURCES, and system_job_templates, a
# dependency of schedules in its creation order): it reads each from /api/v2/.
IMPORT_NEEDS = ("users", "organizations", "teams", "credential_types", "credentials", "notification_templates",
                "projects", "inventory", "inventory_sources", "job_templates", "workflow_job_templates",
                "execution_environments", "applications", "schedules", "system_job_templates")


def test_export_then_import_recreates_nodes_and_edges(awx, api, templates, tmp_path):
    """The CLI's own way to link nodes: ``awx export`` writes the edges by natural key and
    ``awx import`` attaches them again."""
    wf = make_workflow(awx, api, templates, ["ok", "bad", "ok"])
    exported = awx.json("export", "--workflow_job_templates", wf["name"])
    [item] = exported["workflow_job_templates"]
    nodes = {n["identifier"]: n for n in item["related"]["workflow_nodes"]}
    assert set(nodes) == {"n0", "n1", "n2"}
    assert [k["identifier"] for k in nodes["n0"]["related"].get("success_nodes", [])] == ["n1"], nodes["n0"]
    assert [k["identifier"] for k in nodes["n1"]["related"].get("success_nodes", [])] == ["n2"], nodes["n1"]
    assert nodes["n2"]["unified_job_template"]["name"] == templates["ok"]["name"]

    missing = [r for r in IMPORT_NEEDS if r not in expect(api.get("/api/v2/"), 200)]
    assert missing == [], f"awx import needs /api/v2/ to list {missing}"
    expect(api.delete(f"/api/v2/workflow_job_templates/{wf['id']}/"), 204)
    data = tmp_path / "export.json"
    data.write_text(json.dumps(exported))
    with open(data) as stdin:      # the CLI reads what it imports from stdin
        proc = subprocess.run([str(ensure_awx_cli()), "--conf.host", awx.controller.url,
                   "--conf.username", awx.controller.admin_username, "--conf.password", awx.controller.admin_password,
                   "import"], stdin=stdin, capture_output=True, text=True, timeout=180, env=client_env())
    assert proc.returncode == 0, describe(proc)
    again = only(api, "/api/v2/workflow_job_templates/", name=wf["name"])
    assert again["id"] != wf["id"] and json.loads(again["extra_vars"]) == {"from_workflow": "cli"}
    stored = {n["identifier"]: n for n in expect(api.get(
        "/api/v2/workflow_job_template_nodes/", params={"workflow_job_template": again["id"]}), 200)["results"]}
    ident = {n["id"]: i for i, n in stored.items()}
    assert [ident[c] for c in stored["n0"]["success_nodes"]] == ["n1"]
    assert [ident[c] for c in stored["n1"]["success_nodes"]] == ["n2"]
    assert stored["n2"]["unified_job_template"] == templates["ok"]["id"]

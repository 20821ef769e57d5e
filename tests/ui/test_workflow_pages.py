"""Workflow pages: the graph drawn server-side (layout, colours by edge type and node status),
launch through a survey, a running workflow recoloured live, the approvals inbox.

The layout is tested as a pure function; the 1,000-node page in-process (Flask test client, a
real SQLite file); the rest in Debian's Chromium against a live controller running real jobs.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from controller.ui.workflow_graph import BOX_W, GAP_X, PAD, layout

from .conftest import screenshot
from .helpers import QUICK_PLAYBOOK, demo_app, make_jt, ok, one, uniq

PAUSE_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Take a little while
      ansible.builtin.command: sleep 4
      changed_when: false
"""
GREEN, RED, BLUE = "rgb(26, 127, 55)", "rgb(207, 34, 46)", "rgb(9, 105, 218)"
SUCCESS_FILL = "rgb(218, 251, 225)"
DONE = ("successful", "failed", "error", "canceled")


# -- layout (pure) ------------------------------------------------------------------------------
def test_layout_layers_by_longest_path_and_keeps_siblings_together():
    # 1 -> 2 -> 4, 1 -> 3 -> 4, 1 -> 4 (4 sits after its deepest parent), 5 alone
    placed = layout([1, 2, 3, 4, 5], [(1, 2, "success"), (1, 3, "failure"), (2, 4, "always"), (3, 4, "success"),
                                      (1, 4, "always")])
    cols = {n: (b.column, b.row) for n, b in placed.boxes.items()}
    assert cols == {1: (0, 0), 5: (0, 1), 2: (1, 0), 3: (1, 1), 4: (2, 0)}
    assert placed.boxes[2].x == PAD + BOX_W + GAP_X and placed.columns == 3
    assert [(e["parent"], e["child"], e["type"]) for e in placed.edges][:2] == [(1, 2, "success"), (1, 3, "failure")]
    # every edge runs from the right side of its parent to the left side of its child
    first = placed.edges[0]["d"]
    assert first.startswith(f"M{PAD + BOX_W},") and first.split()[-1].startswith(f"{PAD + BOX_W + GAP_X},")


def test_layout_survives_unknown_ids_and_cycles():
    placed = layout([1, 2, 3], [(1, 2, "success"), (2, 3, "success"), (3, 2, "success"), (1, 99, "success")])
    assert set(placed.boxes) == {1, 2, 3}                    # nothing lost
    assert placed.boxes[2].column >= 1 and placed.boxes[3].column >= 1
    assert len(placed.edges) == 3                            # the edge to an unknown node is dropped


def test_layout_is_linear():
    n = 20_000
    started = time.perf_counter()
    chain = layout(list(range(n)), [(i, i + 1, "success") for i in range(n - 1)])
    fan = layout(list(range(n)), [(0, i, "always") for i in range(1, n)])
    assert time.perf_counter() - started < 2.0
    assert chain.columns == n and fan.columns == 2 and fan.boxes[n - 1].row == n - 2


# -- a 1,000-node workflow, in-process -----------------------------------------------------------
PASSWORD = "wf-ui-pw"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from demo_app(tmp_path_factory, PASSWORD)


def _basic(app):
    import base64
    header = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}

    def call(method: str, path: str, body=None, status=(200, 201, 204)):
        resp = app.test_client().open(path, method=method, json=body, headers=header)
        assert resp.status_code in status, (path, resp.status_code, resp.text[:500])
        return resp
    return call


@pytest.mark.slow
def test_a_thousand_node_graph_renders_within_a_second(app):
    call = _basic(app)
    jt = call("GET", "/api/v2/job_templates/?name=Demo+Job+Template").get_json()["results"][0]
    org = call("GET", "/api/v2/organizations/?name=Default").get_json()["results"][0]
    wfjt = call("POST", "/api/v2/workflow_job_templates/", {"name": "big", "organization": org["id"]}).get_json()
    ids = [call("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/",
                {"unified_job_template": jt["id"], "identifier": f"n{i}"}).get_json()["id"] for i in range(1000)]
    kinds = ("success", "failure", "always")
    for i in range(1, 1000):                     # a ternary tree: every edge type, 7 columns
        call("POST", f"/api/v2/workflow_job_template_nodes/{ids[(i - 1) // 3]}/{kinds[i % 3]}_nodes/", {"id": ids[i]})
    best = None
    for _ in range(3):
        started = time.perf_counter()
        page = call("GET", f"/ui/workflow_templates/{wfjt['id']}")
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    text = page.text
    assert text.count('<g class="wf-node') == 1000
    assert {k: text.count(f'data-edge-type="{k}"') for k in kinds} == {"success": 333, "failure": 333, "always": 333}
    assert 'data-nodes="1000"' in text and "Demo Job Template" in text
    assert best < 1.0, f"the 1,000-node page took {best:.3f}s"


def test_names_are_escaped_and_the_state_endpoint_is_small(app):
    call = _basic(app)
    jt = call("GET", "/api/v2/job_templates/?name=Demo+Job+Template").get_json()["results"][0]
    org = call("GET", "/api/v2/organizations/?name=Default").get_json()["results"][0]
    evil = call("POST", "/api/v2/job_templates/", {"name": "<script>alert(1)</script>", "project": jt["project"],
                                                   "playbook": jt["playbook"], "inventory": jt["inventory"]}).get_json()
    wfjt = call("POST", "/api/v2/workflow_job_templates/", {"name": "esc <b>", "organization": org["id"]}).get_json()
    root = call("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/",
                {"unified_job_template": evil["id"]}).get_json()
    child = call("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/",
                 {"unified_job_template": jt["id"]}).get_json()
    call("POST", f"/api/v2/workflow_job_template_nodes/{root['id']}/failure_nodes/", {"id": child["id"]})
    page = call("GET", f"/ui/workflow_templates/{wfjt['id']}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page and "esc &lt;b&gt;" in page
    assert page.count('data-edge-type="failure"') == 1 and 'data-nodes="2"' in page
    made = call("POST", f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}).get_json()
    state = call("GET", f"/ui/workflow_jobs/{made['workflow_job']}/state").get_json()
    assert set(state) == {"status", "active", "can_cancel", "meta", "actions", "nodes"}
    assert len(state["nodes"]) == 2 and all(set(n) == {"id", "status", "href"} for n in state["nodes"])
    # no dispatcher runs in-process: the child has spawned nothing yet
    assert state["nodes"][1]["status"] == "idle" and state["nodes"][1]["href"] is None
    call("POST", f"/api/v2/workflow_jobs/{made['workflow_job']}/cancel/", {}, status=(202,))


# -- in Chromium against a live controller -------------------------------------------------------
def make_wfjt(api, **extra) -> dict:
    org = one(api, "/api/v2/organizations/?name=Default")
    return ok(api.post("/api/v2/workflow_job_templates/", {"name": uniq("ui-wf"), "organization": org["id"], **extra}))


def add_node(api, wfjt: dict, template_id: int | None = None, **extra) -> dict:
    body = {"unified_job_template": template_id, **extra} if template_id else extra
    return ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", body))


def link(api, parent: dict, child: dict, kind: str = "success") -> None:
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{parent['id']}/{kind}_nodes/", {"id": child["id"]}))


def approval_node(api, wfjt: dict, name: str) -> dict:
    node = add_node(api, wfjt)
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
                {"name": name, "description": "", "timeout": 0}))
    return node


def launch(api, wfjt: dict, body: dict | None = None) -> int:
    made = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", body or {}))
    return made.get("workflow_job") or made["id"]


def wait_for(fetch, check, timeout: float = 120, what: str = "") -> dict:
    deadline = time.monotonic() + timeout
    body = fetch()
    while not check(body):
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {body}"
        time.sleep(0.3)
        body = fetch()
    return body


def pending_approval(api, wj_id: int) -> dict:
    def fetch():
        nodes = ok(api.get(f"/api/v2/workflow_jobs/{wj_id}/workflow_nodes/"))["results"]
        jobs = [n["job"] for n in nodes if n.get("job")]
        found = [ok(api.get(f"/api/v2/workflow_approvals/{j}/")) for j in jobs
                 if api.get(f"/api/v2/workflow_approvals/{j}/").status_code == 200]
        return found[0] if found else {}
    return wait_for(fetch, lambda a: a.get("status") == "pending", what="a pending approval")


def wait_workflow(api, wj_id: int) -> dict:
    return wait_for(lambda: ok(api.get(f"/api/v2/workflow_jobs/{wj_id}/")), lambda b: b["status"] in DONE,
                    timeout=180, what=f"workflow job {wj_id}")


def test_graph_page_draws_nodes_and_coloured_edges(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-wf-graph",))
    wfjt = make_wfjt(api)
    root, ok_node, bad_node, always_node = (add_node(api, wfjt, jt["id"]) for _ in range(4))
    gate = approval_node(api, wfjt, "ui-gate")
    link(api, root, ok_node, "success")
    link(api, root, bad_node, "failure")
    link(api, root, always_node, "always")
    link(api, ok_node, gate, "success")
    page = new_page()
    page.goto("/ui/templates")
    row = page.locator(f"tr[data-workflow-template='{wfjt['name']}']")
    row.get_by_role("link", name=wfjt["name"], exact=True).click()
    svg = page.locator("svg.wf-graph")
    assert svg.get_attribute("data-nodes") == "5" and svg.get_attribute("data-edges") == "4"
    assert page.locator("g.wf-node").count() == 5 and page.locator("path.wf-edge").count() == 4
    strokes = page.eval_on_selector_all("path.wf-edge", "els => els.map(e => [e.dataset.edgeType, "
                                                        "getComputedStyle(e).stroke])")
    assert sorted(strokes) == sorted([["success", GREEN], ["failure", RED], ["always", BLUE], ["success", GREEN]])
    labels = page.eval_on_selector_all("g.wf-node > a", "els => els.map(e => e.textContent)")
    assert sum(jt["name"] in t and "Job template" in t for t in labels) == 4
    assert sum("ui-gate" in t and "Approval" in t for t in labels) == 1
    # layered left to right: the root's column, then its three children, then the approval
    def x_of(node: dict) -> float:
        return page.locator(f"g.wf-node[data-node='{node['id']}']").evaluate("g => g.transform.baseVal[0].matrix.e")
    assert x_of(root) < x_of(bad_node) == x_of(ok_node) == x_of(always_node) < x_of(gate)
    screenshot(page, "workflow-template")
    assert not page.console_errors


@pytest.mark.slow
def test_launch_with_survey_and_watch_nodes_turn_green(new_page, api, controller):
    slow = make_jt(api, controller.data_dir, PAUSE_PLAYBOOK, ("ui-wf-live",))
    quick = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-wf-live",))
    wfjt = make_wfjt(api)
    ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/survey_spec/", {
        "name": "wf", "description": "", "spec": [{"question_name": "Release name", "variable": "release",
                                                   "type": "text", "required": True, "default": ""}]}))
    ok(api.patch(f"/api/v2/workflow_job_templates/{wfjt['id']}/", {"survey_enabled": True}))
    first, second = add_node(api, wfjt, slow["id"]), add_node(api, wfjt, quick["id"])
    link(api, first, second, "success")
    page = new_page()
    page.goto("/ui/templates")
    page.get_by_label("Search templates").fill(wfjt["name"])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Launch workflow {wfjt['name']}").click()
    page.get_by_label("Release name").fill("r-2026")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/workflow_jobs/\d+$"))
    wj_id = int(page.url.rsplit("/", 1)[1])
    page.evaluate("window.__not_reloaded = true")
    before = page.eval_on_selector_all("g.wf-node", "els => els.map(e => e.dataset.status)")
    assert len(before) == 2 and "successful" not in before[1:]      # the second node has not run yet
    # the page recolours itself while the workflow runs: no reload
    page.locator("g.wf-node[data-status='successful']").nth(1).wait_for(state="attached", timeout=120_000)
    assert page.evaluate("window.__not_reloaded") is True
    job_nodes = ok(api.get(f"/api/v2/workflow_jobs/{wj_id}/workflow_nodes/"))["results"]
    last = next(n for n in job_nodes if n["identifier"] == second["identifier"])     # the job's copy of it
    fill = page.locator(f"g.wf-node[data-node='{last['id']}'] rect").evaluate("r => getComputedStyle(r).fill")
    assert fill == SUCCESS_FILL
    page.locator("#job-status [data-status='successful']").wait_for(timeout=30_000)
    href = page.locator(f"g.wf-node[data-node='{last['id']}'] a").get_attribute("href")
    assert re.fullmatch(r"/ui/jobs/\d+", href or "")
    wj = wait_workflow(api, wj_id)
    assert wj["status"] == "successful" and json.loads(wj["extra_vars"])["release"] == "r-2026"
    job = ok(api.get(f"/api/v2/jobs/{href.rsplit('/', 1)[1]}/"))
    assert job["id"] == last["job"] and job["launch_type"] == "workflow"
    assert json.loads(job["extra_vars"])["release"] == "r-2026"
    screenshot(page, "workflow-job")
    assert not page.console_errors


@pytest.mark.slow
def test_cancel_a_running_workflow_then_relaunch_it(new_page, api, controller):
    long = make_jt(api, controller.data_dir, PAUSE_PLAYBOOK.replace("sleep 4", "sleep 30"), ("ui-wf-cancel",))
    wfjt = make_wfjt(api)
    first, second = add_node(api, wfjt, long["id"]), add_node(api, wfjt, long["id"])
    link(api, first, second, "always")
    page = new_page()
    page.goto(f"/ui/workflow_templates/{wfjt['id']}")
    page.get_by_role("link", name=f"Launch {wfjt['name']}").click()
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/workflow_jobs/\d+$"))
    wj_id = int(page.url.rsplit("/", 1)[1])
    page.locator("g.wf-node[data-status='running']").wait_for(state="attached", timeout=60_000)
    page.get_by_role("button", name="Cancel workflow").click()
    page.locator("#job-status [data-status='canceled']").wait_for(timeout=60_000)
    wj = wait_workflow(api, wj_id)
    assert wj["status"] == "canceled"
    statuses = page.eval_on_selector_all("g.wf-node", "els => els.map(e => e.dataset.status)")
    assert statuses == ["canceled", "dnr"]           # the spawned job canceled, the other never run
    assert page.get_by_role("button", name="Cancel workflow").count() == 0
    page.get_by_role("button", name="Relaunch", exact=True).click()
    page.wait_for_url(re.compile(r".*/ui/workflow_jobs/\d+$"))
    again = int(page.url.rsplit("/", 1)[1])
    assert again != wj_id and ok(api.get(f"/api/v2/workflow_jobs/{again}/"))["launch_type"] == "relaunch"
    ok(api.post(f"/api/v2/workflow_jobs/{again}/cancel/", {}), 202)
    assert wait_workflow(api, again)["status"] == "canceled"
    assert not page.console_errors


@pytest.mark.slow
def test_approve_from_the_inbox_moves_the_workflow_on(new_page, api, controller):
    quick = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-wf-approve",))
    wfjt = make_wfjt(api)
    gate = approval_node(api, wfjt, uniq("ui-approve-gate"))
    after = add_node(api, wfjt, quick["id"])
    link(api, gate, after, "success")
    wj_id = launch(api, wfjt)
    approval = pending_approval(api, wj_id)
    page = new_page()
    page.get_by_role("link", name="Approvals").click()
    row = page.locator(f"tr[data-approval='{approval['id']}']")
    row.get_by_label(re.compile("Comment on")).fill("ship it")
    row.get_by_role("button", name=re.compile("^Approve")).click()
    page.locator(".notice", has_text=f"Approved #{approval['id']}").wait_for()
    assert page.locator(f"tr[data-approval='{approval['id']}']").count() == 0      # no longer pending
    wj = wait_workflow(api, wj_id)
    assert wj["status"] == "successful"
    decided = ok(api.get(f"/api/v2/workflow_approvals/{approval['id']}/"))
    assert decided["status"] == "successful"
    nodes = {n["id"]: n for n in ok(api.get(f"/api/v2/workflow_jobs/{wj_id}/workflow_nodes/"))["results"]}
    spawned = [n for n in nodes.values() if n["job"] and n["job"] != approval["id"]]
    assert len(spawned) == 1 and ok(api.get(f"/api/v2/jobs/{spawned[0]['job']}/"))["status"] == "successful"
    votes = api.get(f"/api/v2/workflow_approvals/{approval['id']}/votes/")
    if votes.status_code == 200:                     # Turret's quorum votes, with their comments
        assert [v["comment"] for v in votes.json()["results"]] == ["ship it"]
    assert not page.console_errors


@pytest.mark.slow
def test_a_user_without_approval_rights_sees_no_buttons(new_page, api, controller):
    wfjt = make_wfjt(api)
    approval_node(api, wfjt, uniq("ui-guarded-gate"))
    username, password = uniq("ui-executor"), "executor-pw-1"
    user = ok(api.post("/api/v2/users/", {"username": username, "password": password}))
    wfjt = ok(api.get(f"/api/v2/workflow_job_templates/{wfjt['id']}/"))
    execute = wfjt["summary_fields"]["object_roles"]["execute_role"]["id"]
    ok(api.post(f"/api/v2/users/{user['id']}/roles/", {"id": execute}))
    wj_id = launch(api, wfjt)
    approval = pending_approval(api, wj_id)
    page = new_page(username, password)
    page.goto("/ui/approvals")
    page.locator("#approvals").wait_for()
    assert page.get_by_role("button", name=re.compile("^(Approve|Deny)")).count() == 0
    row = page.locator(f"tr[data-approval='{approval['id']}']")
    if row.count():                                  # shown to a reader of the workflow, without buttons
        assert "waiting for an approver" in row.inner_text()
    token = page.context.cookies()
    csrf = next(c["value"] for c in token if c["name"] == "csrftoken")
    forged = page.request.post(f"/ui/approvals/{approval['id']}/approve", form={"csrfmiddlewaretoken": csrf},
                               headers={"Referer": controller.url + "/ui/approvals"})
    assert forged.status == 403                      # the server refuses anyway
    assert ok(api.get(f"/api/v2/workflow_approvals/{approval['id']}/"))["status"] == "pending"
    # the admin sees the buttons and may deny it: the workflow fails (no failure path)
    admin = new_page()
    admin.goto("/ui/approvals")
    admin.locator(f"tr[data-approval='{approval['id']}']").get_by_role("button", name=re.compile("^Deny")).click()
    admin.locator(".notice", has_text=f"Denied #{approval['id']}").wait_for()
    assert wait_workflow(api, wj_id)["status"] == "failed"
    assert ok(api.get(f"/api/v2/workflow_approvals/{approval['id']}/"))["status"] == "failed"
    assert not page.console_errors and not admin.console_errors

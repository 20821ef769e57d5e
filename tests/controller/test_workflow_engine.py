"""The workflow engine with real jobs (orchestration.md §2.8's twelve cases and Turret's
additions): workflows are built and launched through the API, their nodes run real
ansible-runner jobs on a local host, and each test checks statuses, do_not_run, the links from
nodes to jobs, explanations and the variables the jobs were given.

Every workflow of the module is launched once by ``runs`` (so they run side by side and the
file stays short); each test then waits for the ones it looks at."""
from __future__ import annotations

import json
import threading
from urllib.parse import quote
from datetime import datetime, timedelta, timezone

import pytest

from controller.jobs.scheduler import tick
from controller.services.bootstrap import system_context
from controller.workflows import engine
from controller.workflows.graph import NO_HANDLER
from tests.support.jobs import (FINISHED, created, make_credential, make_inventory, make_jt, make_org, make_project,
                                type_id, uniq, wait_status, wait_until)
from tests.support.sql_trace import statements

pytestmark = pytest.mark.slow

OK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=ok\n"
FAIL = "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=boom\n"
SLEEP = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep {{ nap | default(20) }}\n"
STATS_GP = "- hosts: all\n  gather_facts: false\n  tasks:\n    - set_stats: {data: {x: 1, y: 1}}\n"
STATS_P = "- hosts: all\n  gather_facts: false\n  tasks:\n    - set_stats: {data: {x: 2}}\n"
ECHO = ("- hosts: all\n  gather_facts: false\n  tasks:\n    - set_stats:\n        data:\n"
        "          probe_seen: \"{{ probe | default('none') }}\"\n          x_seen: \"{{ x | default('none') }}\"\n")
PLAYBOOKS = {"ok.yml": OK, "fail.yml": FAIL, "sleep.yml": SLEEP, "gp.yml": STATS_GP, "p.yml": STATS_P,
             "echo.yml": ECHO}
PROBE = "{{ lookup('pipe', 'id') }}"


# -- building blocks ----------------------------------------------------------------------------
def make_wfjt(admin, org: dict, **fields) -> dict:
    return created(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"],
                                                                  **fields}))


def add_node(admin, wf: dict, ujt: int | None, ident: str, **fields) -> dict:
    return created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                              {"unified_job_template": ujt, "identifier": ident, **fields}))


def link(admin, parent: dict, child: dict, kind: str = "success") -> None:
    resp = admin.post(f"/api/v2/workflow_job_template_nodes/{parent['id']}/{kind}_nodes/", {"id": child["id"]})
    assert resp.status_code == 204, resp.json


def launch_wf(admin, wf: dict, body: dict | None = None) -> dict:
    return created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", body or {}))


def wait_wf(admin, wj: dict | int, timeout: float = 120) -> dict:
    pk = wj if isinstance(wj, int) else wj["id"]
    return wait_until(lambda: (lambda b: b if b["status"] in FINISHED else None)(
        admin.get(f"/api/v2/workflow_jobs/{pk}/").json), timeout, f"workflow job {pk}")


def nodes_of(admin, wj: dict | int) -> dict[str, dict]:
    pk = wj if isinstance(wj, int) else wj["id"]
    body = admin.get(f"/api/v2/workflow_jobs/{pk}/workflow_nodes/?page_size=200").json
    return {n["identifier"]: n for n in body["results"]}


def job(app_state, pk: int) -> dict:
    for table in ("jobs", "workflow_jobs", "project_updates", "workflow_approvals"):
        row = app_state.store.get(table, pk)
        if row is not None:
            return row
    raise AssertionError(f"no unified job {pk}")


def wait_running(app_state, pk: int) -> None:
    row = wait_until(lambda: (lambda r: r if r["status"] not in ("new", "pending", "waiting") else None)(
        job(app_state, pk)), 30, f"job {pk} started")
    assert row["status"] == "running", (row["status"], row["job_explanation"], row["result_traceback"])


def stored_vars(app_state, pk: int) -> dict:
    return json.loads(app_state.store.get("jobs", pk)["extra_vars"] or "{}")


def artifacts(app_state, pk: int) -> dict:
    raw = app_state.store.get("jobs", pk)["artifacts"]
    return json.loads(raw) if isinstance(raw, str) else raw


# -- fixtures -----------------------------------------------------------------------------------
JOB_WORKERS = 4   # the module's dispatcher (conftest ``jobs``)


@pytest.fixture(scope="module")
def env(admin, app_state, jobs):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, PLAYBOOKS)
    inv = make_inventory(admin, org, ["h1"])
    inv2 = make_inventory(admin, org, ["h1", "h2"])
    jts = {name: make_jt(admin, project, inv, f"{name}.yml", allow_simultaneous=True)
           for name in ("ok", "fail", "gp", "p", "sleep")}
    jts["echo"] = make_jt(admin, project, inv, "echo.yml", allow_simultaneous=True, ask_variables_on_launch=True)
    jts["echo_strict"] = make_jt(admin, project, inv, "echo.yml", allow_simultaneous=True)
    jts["ask_limit"] = make_jt(admin, project, inv2, "ok.yml", allow_simultaneous=True, ask_limit_on_launch=True)
    jts["no_limit"] = make_jt(admin, project, inv2, "ok.yml", allow_simultaneous=True, limit="h1")
    jts["ask_all"] = make_jt(admin, project, inv2, "ok.yml", allow_simultaneous=True, ask_limit_on_launch=True,
                             ask_forks_on_launch=True, ask_tags_on_launch=True, ask_skip_tags_on_launch=True,
                             ask_verbosity_on_launch=True, ask_diff_mode_on_launch=True,
                             ask_variables_on_launch=True)
    jts["no_inventory"] = make_jt(admin, project, None, "ok.yml", allow_simultaneous=True, ask_inventory_on_launch=True)
    return {"org": org, "project": project, "inv": inv, "inv2": inv2, "jt": {k: v["id"] for k, v in jts.items()}}


def build(admin, env, spec: dict, edges: list[tuple[str, str, str]], **wf_fields) -> dict:
    """A workflow template from ``spec`` {identifier: (jt key or id or None, node fields)}."""
    wf = make_wfjt(admin, env["org"], **wf_fields)
    made = {}
    for ident, (target, fields) in spec.items():
        ujt = env["jt"][target] if isinstance(target, str) else target
        made[ident] = add_node(admin, wf, ujt, ident, **fields)
    for parent, child, kind in edges:
        link(admin, made[parent], made[child], kind)
    wf["_nodes"] = made
    return wf


@pytest.fixture(scope="module")
def runs(admin, env, app_state):
    """Every workflow that needs no interaction, launched at once: {case: workflow job}."""
    asks = {"ask_forks_on_launch": True, "ask_tags_on_launch": True, "ask_verbosity_on_launch": True,
            "ask_variables_on_launch": True}
    revoked = make_jt(admin, env["project"], env["inv"], "ok.yml", allow_simultaneous=True, **asks)
    env["jt"]["revoked"] = revoked["id"]
    # a project of its own: a manual project's update fails, and would stop the others' jobs
    own_project = make_project(admin, app_state.settings.data_dir, env["org"], {"ok.yml": OK})
    wfs: dict[str, tuple[dict, dict]] = {
        "linear": (build(admin, env, {"a": ("fail", {}), "b": ("ok", {})}, [("a", "b", "success")]), {}),
        "handled": (build(admin, env, {"a": ("fail", {}), "h": ("ok", {})}, [("a", "h", "failure")]), {}),
        "handler_fails": (build(admin, env, {"a": ("fail", {}), "h": ("fail", {})}, [("a", "h", "failure")]), {}),
        "always": (build(admin, env, {"a": ("ok", {}), "c": ("ok", {}), "a2": ("fail", {}), "c2": ("ok", {})},
                         [("a", "c", "always"), ("a2", "c2", "always")]), {}),
        "any": (build(admin, env, {"a": ("ok", {}), "b": ("fail", {}), "c": ("ok", {}), "h": ("ok", {})},
                      [("a", "c", "success"), ("b", "c", "success"), ("b", "h", "failure")]), {}),
        "all": (build(admin, env, {"a": ("ok", {}), "b": ("fail", {}), "c": ("ok", {"all_parents_must_converge": True}),
                                   "h": ("ok", {})},
                      [("a", "c", "success"), ("b", "c", "success"), ("b", "h", "failure")]), {}),
        "all_error": (build(admin, env, {"a": ("ok", {}), "b": ("no_inventory", {}),
                                         "c": ("ok", {"all_parents_must_converge": True}), "h": ("ok", {})},
                            [("a", "c", "success"), ("b", "c", "success"), ("b", "h", "failure")]), {}),
        "artifacts": (build(admin, env, {"gp": ("gp", {}), "p": ("p", {}), "child": ("echo", {})},
                            [("gp", "p", "success"), ("p", "child", "success")]), {}),
        "artifacts_wf_wins": (build(admin, env, {"gp": ("gp", {}), "p": ("p", {}), "child": ("echo", {})},
                                    [("gp", "p", "success"), ("p", "child", "success")],
                                    ask_variables_on_launch=True), {"extra_vars": {"x": 3}}),
        "probe": (build(admin, env, {"wfvar": ("echo_strict", {}),
                                     "nodevar": ("echo", {"extra_data": {"probe": PROBE}})}, [],
                        extra_vars=json.dumps({"x": PROBE})), {}),
        "limit": (build(admin, env, {"asks": ("ask_limit", {}), "fixed": ("no_limit", {})}, [], limit="h2"), {}),
        "limit_empty": (build(admin, env, {"asks": ("ask_limit", {"limit": "h1"}), "fixed": ("no_limit", {})}, [],
                              limit=""), {}),
        "overrides": (build(admin, env, {
            "asks": ("ask_all", {"forks": 7, "job_tags": "t1", "skip_tags": "t2", "verbosity": 2, "diff_mode": True,
                                 "limit": "h2", "start_at_task": "debug", "become_enabled": True,
                                 "extra_data": {"z": 1}}),
            "fixed": ("revoked", {"forks": 7, "job_tags": "t1", "verbosity": 2, "start_at_task": "debug",
                                  "extra_data": {"z": 1}})}, []), {}),
        "retry": (build(admin, env, {"a": ("fail", {"max_retries": 2}), "h": ("ok", {})},
                        [("a", "h", "failure")]), {}),
        "refused": (build(admin, env, {"a": ("no_inventory", {}), "h": ("ok", {})}, [("a", "h", "failure")]), {}),
        "project": (build(admin, env, {"u": (own_project["id"], {}), "a": ("ok", {})},
                          [("u", "a", "success")]), {}),
    }
    inner = build(admin, env, {"e": ("echo_strict", {})}, [])
    wfs["nested"] = (build(admin, env, {"n": (inner["id"], {}), "after": ("ok", {})}, [("n", "after", "success")],
                           extra_vars=json.dumps({"x": 5})), {})
    # the template stops asking after the node was saved: the engine must not apply the node's values
    assert admin.patch(f"/api/v2/job_templates/{revoked['id']}/", {k: False for k in asks}).status_code == 200
    out = {}
    for name, (wf, body) in wfs.items():
        out[name] = launch_wf(admin, wf, body)
        out[name]["_wf"] = wf
    return out


# -- §2.8 cases 1-4 -----------------------------------------------------------------------------
def test_case1_failure_without_handler_fails_and_child_is_dnr(admin, app_state, runs):
    wj = wait_wf(admin, runs["linear"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "failed" and wj["failed"] and wj["job_explanation"].startswith(NO_HANDLER)
    assert job(app_state, nodes["a"]["job"])["status"] == "failed" and job(app_state, nodes["a"]["job"])[
        "launch_type"] == "workflow"
    assert nodes["b"]["do_not_run"] and nodes["b"]["job"] is None and not nodes["a"]["do_not_run"]


def test_case2_failure_handler_decides(admin, app_state, runs):
    wj = wait_wf(admin, runs["handled"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "successful" and wj["job_explanation"] == ""
    assert job(app_state, nodes["h"]["job"])["status"] == "successful"
    wj = wait_wf(admin, runs["handler_fails"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "failed" and f"node {nodes['h']['id']} (failed)" in wj["job_explanation"]
    assert f"node {nodes['a']['id']}" not in wj["job_explanation"]


def test_case3_always_runs_after_success_and_failure_case8_roots_in_parallel(admin, app_state, runs):
    wj = wait_wf(admin, runs["always"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "successful"
    assert [job(app_state, nodes[n]["job"])["status"] for n in ("a", "c", "a2", "c2")] == \
        ["successful", "successful", "failed", "successful"]
    roots = [job(app_state, nodes[n]["job"]) for n in ("a", "a2")]
    # both roots were spawned together, before either ended
    assert max(r["created"] for r in roots) < min(r["finished"] for r in roots)
    assert not any(n["do_not_run"] for n in nodes.values())


def test_case4_canceled_node_is_a_failure(admin, app_state, env):
    wf = build(admin, env, {"a": ("sleep", {}), "s": ("ok", {}), "h": ("ok", {})},
               [("a", "s", "success"), ("a", "h", "failure")])
    wj = launch_wf(admin, wf)
    first = wait_until(lambda: nodes_of(admin, wj)["a"]["job"], 30, "node a spawned")
    wait_running(app_state, first)
    wait_running(app_state, first)
    assert admin.post(f"/api/v2/jobs/{first}/cancel/").status_code == 202
    wj = wait_wf(admin, wj)
    nodes = nodes_of(admin, wj)
    assert job(app_state, first)["status"] == "canceled"
    assert nodes["s"]["do_not_run"] and job(app_state, nodes["h"]["job"])["status"] == "successful"
    assert wj["status"] == "successful"


# -- case 5: missing templates; start refusals --------------------------------------------------
def test_case5_missing_template_follows_failure_path(admin, app_state, env):
    gone = make_jt(admin, env["project"], env["inv"], "ok.yml")
    wf = build(admin, env, {"m": (gone["id"], {}), "s": ("ok", {}), "h": ("ok", {})},
               [("m", "s", "success"), ("m", "h", "failure")])
    wf2 = build(admin, env, {"m": (gone["id"], {}), "s": ("ok", {})}, [("m", "s", "success")])
    assert admin.delete(f"/api/v2/job_templates/{gone['id']}/").status_code == 204
    handled, unhandled = wait_wf(admin, launch_wf(admin, wf)), wait_wf(admin, launch_wf(admin, wf2))
    nodes = nodes_of(admin, handled)
    assert handled["status"] == "successful" and nodes["m"]["job"] is None and not nodes["m"]["do_not_run"]
    assert nodes["s"]["do_not_run"] and job(app_state, nodes["h"]["job"])["status"] == "successful"
    nodes = nodes_of(admin, unhandled)
    assert unhandled["status"] == "failed" and nodes["s"]["do_not_run"]
    assert f"node {nodes['m']['id']} (missing unified job template)" in unhandled["job_explanation"]


def test_start_refusal_is_an_error_job_on_the_failure_path(admin, app_state, runs):
    wj = wait_wf(admin, runs["refused"])
    nodes = nodes_of(admin, wj)
    refused = job(app_state, nodes["a"]["job"])
    assert refused["status"] == "error" and "inventory" in refused["job_explanation"].lower()
    assert refused["launch_type"] == "workflow"
    assert job(app_state, nodes["h"]["job"])["status"] == "successful" and wj["status"] == "successful"


# -- cases 6-7: convergence ---------------------------------------------------------------------
def test_case6_any_convergence_runs_once_after_both(admin, app_state, runs):
    wj = wait_wf(admin, runs["any"])
    nodes = nodes_of(admin, wj)
    c = job(app_state, nodes["c"]["job"])
    assert c["status"] == "successful" and not nodes["c"]["do_not_run"] and nodes["c"]["attempts"] == 1
    assert c["created"] >= job(app_state, nodes["b"]["job"])["finished"]
    assert wj["status"] == "successful"


def test_case7_all_convergence_wrong_edge_and_errored_parent(admin, app_state, runs):
    for case in ("all", "all_error"):
        wj = wait_wf(admin, runs[case])
        nodes = nodes_of(admin, wj)
        assert nodes["c"]["do_not_run"] and nodes["c"]["job"] is None, case
        assert job(app_state, nodes["h"]["job"])["status"] == "successful", case
        assert wj["status"] == "successful", case
    assert job(app_state, nodes_of(admin, runs["all_error"])["b"]["job"])["status"] == "error"


# -- case 10: artifacts and variables -----------------------------------------------------------
def test_case10_artifacts_parent_over_grandparent_workflow_vars_win(admin, app_state, runs):
    wj = wait_wf(admin, runs["artifacts"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "successful"
    child = nodes["child"]["job"]
    assert {k: stored_vars(app_state, child)[k] for k in ("x", "y")} == {"x": 2, "y": 1}
    assert str(artifacts(app_state, child)["x_seen"]) == "2"
    wj = wait_wf(admin, runs["artifacts_wf_wins"])
    child = nodes_of(admin, wj)["child"]["job"]
    assert {k: stored_vars(app_state, child)[k] for k in ("x", "y")} == {"x": 3, "y": 1}


def test_values_from_workflow_and_node_arrive_unsafe(admin, app_state, runs):
    wj = wait_wf(admin, runs["probe"])
    nodes = nodes_of(admin, wj)
    assert wj["status"] == "successful"
    # the workflow's vars reach a template that asks for nothing; node extra_data one that asks
    assert artifacts(app_state, nodes["wfvar"]["job"])["x_seen"] == PROBE
    assert artifacts(app_state, nodes["nodevar"]["job"])["probe_seen"] == PROBE
    assert artifacts(app_state, nodes["nodevar"]["job"])["x_seen"] == PROBE


# -- case 11 and Turret's overrides: prompts only where the template asks -----------------------
def test_case11_workflow_limit_only_where_asked_and_empty_never_wipes(admin, app_state, runs):
    nodes = nodes_of(admin, wait_wf(admin, runs["limit"]))
    assert job(app_state, nodes["asks"]["job"])["limit"] == "h2"
    assert job(app_state, nodes["fixed"]["job"])["limit"] == "h1"
    nodes = nodes_of(admin, wait_wf(admin, runs["limit_empty"]))
    assert job(app_state, nodes["asks"]["job"])["limit"] == "h1"
    assert job(app_state, nodes["fixed"]["job"])["limit"] == "h1"


def test_node_overrides_apply_only_where_the_template_asks(admin, app_state, runs):
    nodes = nodes_of(admin, wait_wf(admin, runs["overrides"]))
    asks, fixed = job(app_state, nodes["asks"]["job"]), job(app_state, nodes["fixed"]["job"])
    assert (asks["forks"], asks["job_tags"], asks["skip_tags"], asks["verbosity"], asks["diff_mode"],
            asks["limit"], asks["start_at_task"], asks["become_enabled"]) == (7, "t1", "t2", 2, 1, "h2", "debug", 1)
    assert stored_vars(app_state, asks["id"])["z"] == 1
    assert (fixed["forks"], fixed["job_tags"], fixed["verbosity"], fixed["start_at_task"]) == (0, "", 0, "")
    assert "z" not in stored_vars(app_state, fixed["id"])


# -- Turret: retries ----------------------------------------------------------------------------
def test_failed_node_is_retried_then_follows_failure(admin, app_state, runs):
    wj = wait_wf(admin, runs["retry"])
    nodes = nodes_of(admin, wj)
    assert nodes["a"]["attempts"] == 3
    attempts = app_state.store.query("SELECT id, status FROM jobs WHERE launched_by_id = ? AND job_template = ? "
                                     "ORDER BY id", (wj["id"], job(app_state, nodes["a"]["job"])["job_template"]))
    assert [r["status"] for r in attempts] == ["failed"] * 3 and attempts[-1]["id"] == nodes["a"]["job"]
    handler = job(app_state, nodes["h"]["job"])
    assert handler["status"] == "successful" and wj["status"] == "successful"
    # the handler ran once, after the last attempt, not after the first failure
    assert handler["created"] >= job(app_state, attempts[-1]["id"])["finished"]
    assert app_state.store.count("jobs", "launched_by_id = ? AND job_template = ?",
                                 (wj["id"], handler["job_template"])) == 1


def test_retry_delay_is_fired_by_the_tick(admin, app_state, env):
    wf = build(admin, env, {"a": ("fail", {"max_retries": 1, "retry_delay": 60})}, [])
    wj = launch_wf(admin, wf)
    first = wait_until(lambda: nodes_of(admin, wj)["a"]["job"], 30, "node a spawned")
    wait_status(admin, first, ("failed",))
    retry_at = wait_until(lambda: app_state.store.get("workflow_job_nodes", nodes_of(admin, wj)["a"]["id"])[
        "retry_at"], 10, "retry planned")
    assert nodes_of(admin, wj)["a"]["job"] == first
    ctx = system_context(app_state)
    engine.tick_hook(ctx, datetime.now(timezone.utc) + timedelta(seconds=30))
    assert nodes_of(admin, wj)["a"]["job"] == first          # not due yet
    engine.tick_hook(ctx, datetime.now(timezone.utc) + timedelta(seconds=61))
    assert retry_at and nodes_of(admin, wj)["a"]["job"] != first
    done = wait_wf(admin, wj)
    assert done["status"] == "failed" and nodes_of(admin, wj)["a"]["attempts"] == 2


# -- node kinds ---------------------------------------------------------------------------------
def test_project_update_node(admin, app_state, runs):
    wj = wait_wf(admin, runs["project"])
    nodes = nodes_of(admin, wj)
    update = app_state.store.get("project_updates", nodes["u"]["job"])
    assert update is not None and update["launch_type"] == "workflow"
    assert wj["status"] == ("successful" if update["status"] == "successful" else "failed")


# -- case 12: recursion and cancel --------------------------------------------------------------
def test_nested_workflow_node_gets_the_parent_vars(admin, app_state, runs):
    wj = wait_wf(admin, runs["nested"])
    nodes = nodes_of(admin, wj)
    nested = app_state.store.get("workflow_jobs", nodes["n"]["job"])
    assert (nested["status"], nested["launch_type"], wj["status"]) == ("successful", "workflow", "successful")
    inner_job = nodes_of(admin, nested["id"])["e"]["job"]
    assert stored_vars(app_state, inner_job)["x"] == 5 and str(artifacts(app_state, inner_job)["x_seen"]) == "5"
    assert job(app_state, nodes["after"]["job"])["status"] == "successful"


def test_case12_nested_recursion_fails_the_node(admin, app_state, env):
    outer = build(admin, env, {"a": ("ok", {})}, [])
    inner = build(admin, env, {"back": (outer["id"], {})}, [])
    add_node(admin, outer, inner["id"], "nest")
    wj = wait_wf(admin, launch_wf(admin, outer))
    nodes = nodes_of(admin, wj)
    nested = app_state.store.get("workflow_jobs", nodes["nest"]["job"])
    assert nested["launch_type"] == "workflow" and nested["status"] == "failed"
    deeper = nodes_of(admin, nested["id"])["back"]
    looped = app_state.store.get("workflow_jobs", deeper["job"])
    assert looped["status"] == "failed" and "recursion" in looped["job_explanation"]
    assert wj["status"] == "failed"


def test_case12_cancel_cancels_spawned_and_dnr_the_rest(admin, app_state, env):
    wf = build(admin, env, {"a": ("sleep", {}), "b": ("ok", {}), "h": ("ok", {})},
               [("a", "b", "success"), ("a", "h", "always")])
    wj = launch_wf(admin, wf)
    first = wait_until(lambda: nodes_of(admin, wj)["a"]["job"], 30, "node a spawned")
    wait_running(app_state, first)
    assert admin.post(f"/api/v2/workflow_jobs/{wj['id']}/cancel/").status_code == 202
    done = wait_wf(admin, wj)
    nodes = nodes_of(admin, wj)
    assert done["status"] == "canceled" and job(app_state, first)["status"] == "canceled"
    assert nodes["b"]["do_not_run"] and nodes["h"]["do_not_run"] and nodes["h"]["job"] is None


# -- simultaneity, relaunch, schedules ----------------------------------------------------------
def test_second_launch_waits_pending_without_allow_simultaneous(admin, app_state, env):
    wf = build(admin, env, {"a": ("sleep", {"extra_data": {}})}, [], extra_vars=json.dumps({"nap": 2}))
    first, second = launch_wf(admin, wf), launch_wf(admin, wf)
    assert first["status"] == "running" and second["status"] == "pending"
    assert nodes_of(admin, second)["a"]["job"] is None
    first = wait_wf(admin, first)
    second = wait_wf(admin, second)
    assert (first["status"], second["status"]) == ("successful", "successful")
    assert second["started"] >= first["finished"]


def test_relaunch_failed_nodes_carries_successes(admin, app_state, env):
    wf = build(admin, env, {"a": ("gp", {}), "b": ("fail", {}), "c": ("echo", {})},
               [("a", "b", "success"), ("b", "c", "success")])
    old = wait_wf(admin, launch_wf(admin, wf))
    before = nodes_of(admin, old)
    assert old["status"] == "failed"
    resp = admin.post(f"/api/v2/workflow_jobs/{old['id']}/relaunch/", {"nodes": "failed"})
    assert resp.status_code == 201, resp.json
    new = wait_wf(admin, resp.json["id"])
    after = nodes_of(admin, new)
    assert new["launch_type"] == "relaunch" and after["a"]["job"] == before["a"]["job"]
    assert after["b"]["job"] not in (None, before["b"]["job"]) and after["c"]["do_not_run"]
    assert stored_vars(app_state, after["b"]["job"])["x"] == 1      # a's artifacts carried forward
    full = wait_wf(admin, admin.post(f"/api/v2/workflow_jobs/{old['id']}/relaunch/", {}).json["id"])
    assert nodes_of(admin, full)["a"]["job"] != before["a"]["job"]


def test_relaunch_without_its_template_copies_the_job_and_its_nodes(admin, app_state, env, make_user):
    """AWX's create_relaunch_workflow_job: a workflow job whose template is gone is copied, nodes,
    edges, node prompts and labels included, by a system administrator only."""
    wf = build(admin, env, {"a": ("gp", {}), "b": ("echo", {"extra_data": {"probe": "node"}})},
               [("a", "b", "success")], extra_vars=json.dumps({"x": 9}))
    label = created(admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": env["org"]["id"]}))
    assert admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/labels/", {"id": label["id"]}).status_code == 204
    old = wait_wf(admin, launch_wf(admin, wf))
    assert old["status"] == "successful"
    assert admin.delete(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 204
    old = admin.get(f"/api/v2/workflow_jobs/{old['id']}/").json
    assert old["workflow_job_template"] is None

    user_id, org_admin = make_user()       # AWX: not even the organization's admin (nor may they see it)
    assert admin.post(f"/api/v2/organizations/{env['org']['id']}/admins/", {"id": user_id}).status_code == 204
    refused = org_admin.post(f"/api/v2/workflow_jobs/{old['id']}/relaunch/", {})
    assert refused.status_code == 403
    assert refused.json == {"detail": "You do not have permission to perform this action."}
    assert admin.get(f"/api/v2/workflow_jobs/?name={quote(old['name'])}").json["count"] == 1

    resp = admin.post(f"/api/v2/workflow_jobs/{old['id']}/relaunch/", {})
    assert resp.status_code == 201, resp.json
    new = wait_wf(admin, resp.json["id"])
    assert new["status"] == "successful" and new["launch_type"] == "relaunch"
    assert (new["workflow_job_template"], new["name"], new["extra_vars"]) == (None, old["name"], old["extra_vars"])
    labels = admin.get(f"/api/v2/workflow_jobs/{new['id']}/labels/").json["results"]
    assert [r["id"] for r in labels] == [label["id"]]
    before, after = nodes_of(admin, old), nodes_of(admin, new)
    assert sorted(after) == ["a", "b"]
    assert all(after[k]["job"] not in (None, before[k]["job"]) for k in after)
    assert after["a"]["success_nodes"] == [after["b"]["id"]] and after["b"]["extra_data"] == {"probe": "node"}
    # the copy ran as the original did: b saw its node's prompt and the workflow's variables (which
    # beat a's artifact x=1)
    assert artifacts(app_state, after["b"]["job"]) == artifacts(app_state, before["b"]["job"]) \
        == {"probe_seen": "node", "x_seen": 9}
    resumed = admin.post(f"/api/v2/workflow_jobs/{new['id']}/relaunch/", {"nodes": "failed"})
    assert resumed.status_code == 201, resumed.json
    carried = nodes_of(admin, wait_wf(admin, resumed.json["id"]))
    assert [carried[k]["job"] for k in ("a", "b")] == [after["a"]["job"], after["b"]["job"]]


def test_schedule_fires_a_workflow(admin, app_state, env):
    wf = build(admin, env, {"a": ("ok", {})}, [])
    s = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/schedules/", {
        "name": uniq("s"), "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    fired = tick(system_context(app_state), datetime(2030, 1, 1, 0, 0, 5, tzinfo=timezone.utc))
    mine = [f for f in fired if f["schedule"] == s["id"]]
    assert len(mine) == 1 and mine[0]["job_type"] == "workflow_job"
    wj = wait_wf(admin, mine[0]["job"])
    assert wj["launch_type"] == "scheduled" and wj["status"] == "successful"
    assert job(app_state, nodes_of(admin, wj)["a"]["job"])["status"] == "successful"
    app_state.store.execute("UPDATE schedules SET enabled = 0 WHERE id = ?", (s["id"],))


def test_next_node_starts_from_the_job_end_not_the_tick(admin, app_state, env):
    wf = build(admin, env, {"a": ("ok", {}), "b": ("ok", {})}, [("a", "b", "success")])
    wj = wait_wf(admin, launch_wf(admin, wf))
    nodes = nodes_of(admin, wj)
    a, b = job(app_state, nodes["a"]["job"]), job(app_state, nodes["b"]["job"])
    gap = (datetime.fromisoformat(b["created"][:-1]) - datetime.fromisoformat(a["finished"][:-1])).total_seconds()
    assert 0 <= gap < 0.5, gap


# -- case 9 through the engine: an approval node's decision picks the edge ----------------------
def test_case9_approval_node_decides_the_path(admin, app_state, env):
    results = {}
    for decision in ("approve", "deny"):
        wf = build(admin, env, {"s": ("ok", {}), "h": ("ok", {})}, [])
        gate = add_node(admin, wf, None, "gate")
        created(admin.post(f"/api/v2/workflow_job_template_nodes/{gate['id']}/create_approval_template/",
                           {"name": uniq("gate"), "description": "", "timeout": 0}))
        link(admin, gate, wf["_nodes"]["s"], "success")
        link(admin, gate, wf["_nodes"]["h"], "failure")
        wj = launch_wf(admin, wf)
        approval = nodes_of(admin, wj)["gate"]["job"]
        assert app_state.store.get("workflow_approvals", approval)["status"] == "pending"
        assert nodes_of(admin, wj)["s"]["job"] is None and admin.get(f"/api/v2/workflow_jobs/{wj['id']}/").json[
            "status"] == "running"
        assert admin.post(f"/api/v2/workflow_approvals/{approval}/{decision}/", {}).status_code == 204
        results[decision] = (wait_wf(admin, wj), nodes_of(admin, wj))
    done, nodes = results["approve"]
    assert done["status"] == "successful" and nodes["h"]["do_not_run"]
    assert job(app_state, nodes["s"]["job"])["status"] == "successful"
    done, nodes = results["deny"]
    assert done["status"] == "successful" and nodes["s"]["do_not_run"]
    assert job(app_state, nodes["h"]["job"])["status"] == "successful"


# -- launch: GET body, ignored prompts, survey --------------------------------------------------
def test_launch_get_lists_missing_templates_and_rejected_prompts(admin, app_state, env):
    revoked = make_jt(admin, env["project"], env["inv"], "ok.yml", ask_limit_on_launch=True)
    gone = make_jt(admin, env["project"], env["inv"], "ok.yml")
    wf = build(admin, env, {"r": (revoked["id"], {"limit": "h1"}), "g": (gone["id"], {}), "fine": ("ok", {})}, [],
               inventory=env["inv"]["id"], limit="h9", ask_limit_on_launch=True)
    admin.patch(f"/api/v2/job_templates/{revoked['id']}/", {"ask_limit_on_launch": False})
    admin.delete(f"/api/v2/job_templates/{gone['id']}/")
    info = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/launch/").json
    assert info["node_prompts_rejected"] == [wf["_nodes"]["r"]["id"]]
    assert info["node_templates_missing"] == [wf["_nodes"]["g"]["id"]]
    assert info["ask_limit_on_launch"] and not info["ask_inventory_on_launch"]
    assert not info["can_start_without_user_input"] and info["variables_needed_to_start"] == []
    assert info["defaults"]["inventory"] == {"name": env["inv"]["name"], "id": env["inv"]["id"]}
    assert info["defaults"]["limit"] == "h9" and info["workflow_job_template_data"]["id"] == wf["id"]


def test_launch_ignores_unasked_prompts_and_validates_the_survey(admin, app_state, env):
    wf = build(admin, env, {"e": ("echo_strict", {})}, [])
    resp = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/survey_spec/", {
        "name": "s", "description": "d", "spec": [
            {"question_name": "Who", "variable": "who", "type": "text", "required": True},
            {"question_name": "Pw", "variable": "pw", "type": "password", "required": False, "default": ""}]})
    assert resp.status_code == 200, resp.json
    assert admin.patch(f"/api/v2/workflow_job_templates/{wf['id']}/", {"survey_enabled": True}).status_code == 200
    bad = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {"extra_vars": {}})
    assert bad.status_code == 400 and "variables_needed_to_start" in bad.json
    resp = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/",
                      {"extra_vars": {"who": "bob", "pw": "s3cret", "other": 1}, "limit": "h2"})
    assert resp.status_code == 201, resp.json
    assert resp.json["ignored_fields"] == {"limit": "h2", "extra_vars": {"other": 1}}
    stored = app_state.store.get("workflow_jobs", resp.json["id"])
    assert json.loads(stored["extra_vars"]) == {"who": "bob", "pw": "$encrypted$"}
    assert "s3cret" not in json.dumps(stored) and stored["limit"] is None
    wj = wait_wf(admin, resp.json)
    spawned = job(app_state, nodes_of(admin, wj)["e"]["job"])
    assert wj["status"] == "successful" and json.loads(spawned["extra_vars"])["who"] == "bob"
    assert json.loads(spawned["extra_vars"])["pw"] == "$encrypted$" and "s3cret" not in json.dumps(spawned)


# -- cost: one advance reads a graph in a fixed number of statements ----------------------------
def statements_of_advance(app_state, wj_id: int) -> int:
    return len(statements(app_state.store, lambda: engine.advance(system_context(app_state), wj_id)))


def chain_of_approvals(admin, env, size: int) -> dict:
    """A launched workflow whose ``size`` nodes are approvals in a chain (nothing runs a process)."""
    wf = make_wfjt(admin, env["org"])
    first = add_node(admin, wf, None, "n0")
    gate = created(admin.post(f"/api/v2/workflow_job_template_nodes/{first['id']}/create_approval_template/",
                              {"name": uniq("gate"), "description": "", "timeout": 0}))
    previous = first
    for i in range(1, size):
        current = add_node(admin, wf, gate["id"], f"n{i}")
        link(admin, previous, current, "success")
        previous = current
    return launch_wf(admin, wf)


def test_advance_costs_the_same_statements_for_10_and_100_nodes(admin, app_state, env):
    small, large = chain_of_approvals(admin, env, 10), chain_of_approvals(admin, env, 100)
    for wj in (small, large):
        assert app_state.store.count("workflow_approvals", "id IN (SELECT job FROM workflow_job_nodes "
                                     "WHERE workflow_job = ? AND job IS NOT NULL)", (wj["id"],)) == 1
    cost_small = statements_of_advance(app_state, small["id"])
    cost_large = statements_of_advance(app_state, large["id"])
    assert cost_small == cost_large and cost_small < 20, (cost_small, cost_large)
    for wj in (small, large):
        assert admin.post(f"/api/v2/workflow_jobs/{wj['id']}/cancel/").status_code == 202
        assert wait_wf(admin, wj)["status"] == "canceled"
        nodes = app_state.store.query("SELECT job, do_not_run FROM workflow_job_nodes WHERE workflow_job = ?",
                                      (wj["id"],))
        spawned = [n["job"] for n in nodes if n["job"]]
        assert len(spawned) == 1 and sum(n["do_not_run"] for n in nodes) == len(nodes) - 1
        assert app_state.store.get("workflow_approvals", spawned[0])["status"] == "canceled"


def test_unannounced_end_is_caught_by_the_tick_and_spawns_once(admin, app_state, env):
    wj = chain_of_approvals(admin, env, 3)
    first = app_state.store.query("SELECT id, job FROM workflow_job_nodes WHERE workflow_job = ? AND job IS NOT NULL",
                                  (wj["id"],))
    assert len(first) == 1
    # the approval ends without anyone calling job_ended (a crash between the two)
    app_state.store.execute("UPDATE workflow_approvals SET status = 'successful' WHERE id = ?", (first[0]["job"],))
    ctx = system_context(app_state)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            engine.tick_hook(system_context(app_state), datetime.now(timezone.utc))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    spawned = app_state.store.query("SELECT job FROM workflow_job_nodes WHERE workflow_job = ? AND job IS NOT NULL",
                                    (wj["id"],))
    assert len(spawned) == 2
    assert app_state.store.count("workflow_approvals", "launched_by_id = ? AND launched_by_type = 'workflow_job'",
                                 (wj["id"],)) == 2
    engine.cancel(ctx, app_state.store.get("workflow_jobs", wj["id"]))
    assert wait_wf(admin, wj)["status"] == "canceled"


def test_cancel_reaches_into_a_nested_workflow(admin, app_state, env):
    inner = build(admin, env, {"nap": ("sleep", {}), "next": ("ok", {})}, [("nap", "next", "always")])
    outer = build(admin, env, {"n": (inner["id"], {})}, [])
    wj = launch_wf(admin, outer)
    nested = wait_until(lambda: nodes_of(admin, wj)["n"]["job"], 30, "nested workflow spawned")
    nap = wait_until(lambda: nodes_of(admin, nested)["nap"]["job"], 30, "nap spawned")
    wait_running(app_state, nap)
    assert admin.post(f"/api/v2/workflow_jobs/{wj['id']}/cancel/").status_code == 202
    assert wait_wf(admin, wj)["status"] == "canceled"
    assert app_state.store.get("workflow_jobs", nested)["status"] == "canceled"
    assert job(app_state, nap)["status"] == "canceled" and nodes_of(admin, nested)["next"]["do_not_run"]


def test_a_nodes_credentials_replace_the_templates_type_by_type_vaults_by_vault_id(admin, app_state, env):
    """AWX's create_unified_job: the node's prompted credentials replace the template's of the
    same unique type (a vault by its vault id); the template's others stay on the spawned job."""
    org = env["org"]
    vault = type_id(admin, "vault")
    keep = make_credential(admin, org, vault, {"vault_password": "keep-pw", "vault_id": "keep"})
    old = make_credential(admin, org, vault, {"vault_password": "old-pw", "vault_id": "swap"})
    new = make_credential(admin, org, vault, {"vault_password": "new-pw", "vault_id": "swap"})
    jt = make_jt(admin, env["project"], env["inv"], "ok.yml", allow_simultaneous=True, ask_credential_on_launch=True)
    for cred in (keep, old):
        assert admin.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": cred["id"]}).status_code == 204
    wf = build(admin, env, {"v": (jt["id"], {})}, [])
    node = wf["_nodes"]["v"]
    assert admin.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/credentials/",
                      {"id": new["id"]}).status_code == 204
    resp = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {})
    assert resp.status_code == 201, resp.json
    wj = wait_wf(admin, resp.json)
    spawned = nodes_of(admin, wj)["v"]["job"]
    got = {c["id"] for c in admin.get(f"/api/v2/jobs/{spawned}/credentials/").json["results"]}
    assert got == {keep["id"], new["id"]}, (wj["status"], got)

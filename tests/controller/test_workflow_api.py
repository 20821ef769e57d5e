"""The workflow API (issue 13 item 1): declarations, routes, validation, edges, RBAC, copy,
survey, named URLs, OPTIONS, the unified lists and the action views, on the real app and a
real SQLite file; the jobs a workflow runs are real ansible-runner jobs on localhost."""
from __future__ import annotations

import pytest

from tests.support.jobs import (make_credential, make_inventory, make_jt, make_org, make_project, type_id, uniq,
                                 wait_until)

OK_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=ok
"""
NOT_PROMPTED = ["Field is not configured to prompt on launch."]
FINISHED = ("successful", "failed", "error", "canceled")


@pytest.fixture(scope="module")
def org(admin) -> dict:
    return make_org(admin)


@pytest.fixture(scope="module")
def project(admin, app_state, org) -> dict:
    return make_project(admin, app_state.settings.data_dir, org, {"ok.yml": OK_PLAY})


@pytest.fixture(scope="module")
def inventory(admin, org) -> dict:
    return make_inventory(admin, org)


@pytest.fixture(scope="module")
def jt(admin, project, inventory) -> dict:
    return make_jt(admin, project, inventory, "ok.yml", limit="h1", ask_tags_on_launch=True,
                   ask_labels_on_launch=True, ask_credential_on_launch=True)


def make_wfjt(admin, org: dict | None, **fields) -> dict:
    resp = admin.post("/api/v2/workflow_job_templates/",
                      {"name": uniq("wf"), **({"organization": org["id"]} if org else {}), **fields})
    assert resp.status_code == 201, resp.json
    return resp.json


def add_node(client, wfjt: dict, **fields) -> dict:
    resp = client.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", fields)
    assert resp.status_code == 201, resp.json
    return resp.json


def link(client, parent: dict, child: dict, edge: str = "success_nodes", **extra):
    return client.post(f"/api/v2/workflow_job_template_nodes/{parent['id']}/{edge}/", {"id": child["id"], **extra})


def node(client, pk: int) -> dict:
    return client.get(f"/api/v2/workflow_job_template_nodes/{pk}/").json


# -- templates ----------------------------------------------------------------------------------
def test_root_lists_every_workflow_endpoint(admin):
    root = admin.get("/api/v2/").json
    for key in ("workflow_job_templates", "workflow_jobs", "workflow_approvals", "workflow_job_template_nodes",
                "workflow_job_nodes", "workflow_approval_templates"):
        assert root[key] == f"/api/v2/{key}/"


def test_workflow_template_fields_roles_and_named_url(admin, org):
    wf = make_wfjt(admin, org, extra_vars="a: 1", ask_limit_on_launch=True)
    assert wf["type"] == "workflow_job_template" and wf["organization"] == org["id"]
    assert (wf["limit"], wf["scm_branch"], wf["job_tags"], wf["skip_tags"], wf["inventory"]) == (None,) * 5
    assert wf["ask_limit_on_launch"] is True and wf["allow_simultaneous"] is False and wf["status"] == "never updated"
    assert wf["extra_vars"] == "a: 1" and "survey_spec" not in wf
    assert set(wf["summary_fields"]["object_roles"]) == {"admin_role", "execute_role", "read_role", "approval_role"}
    assert wf["summary_fields"]["organization"]["id"] == org["id"]
    assert wf["summary_fields"]["recent_jobs"] == [] and wf["summary_fields"]["labels"]["count"] == 0
    for key in ("launch", "workflow_nodes", "workflow_jobs", "schedules", "survey_spec", "copy", "labels",
                "access_list", "object_roles", "activity_stream"):
        assert key in wf["related"], key
    named = f"/api/v2/workflow_job_templates/{wf['name']}++{org['name']}/"
    assert wf["related"]["named_url"] == named and admin.get(named).json["id"] == wf["id"]
    dup = admin.post("/api/v2/workflow_job_templates/", {"name": wf["name"], "organization": org["id"]})
    assert dup.status_code == 400
    assert dup.json == {"__all__": ["WorkflowJobTemplate with this (name, organization) combination already exists."]}
    history = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/activity_stream/").json["results"]
    assert [h["operation"] for h in history] == ["create"]


def test_options_and_launch_options(admin, org):
    opts = admin.options("/api/v2/workflow_job_templates/").json
    post = opts["actions"]["POST"]
    assert post["organization"]["type"] == "id" and post["limit"]["type"] == "string"
    assert "status" not in post and "survey_spec" not in post
    assert "approval_role" in opts["object_roles"]
    wf = make_wfjt(admin, org)
    launch = admin.options(f"/api/v2/workflow_job_templates/{wf['id']}/launch/")
    assert launch.status_code == 200
    assert set(launch.json["actions"]["POST"]) == {"extra_vars", "inventory", "scm_branch", "limit", "job_tags",
                                                   "skip_tags", "labels"}
    node_opts = admin.options("/api/v2/workflow_job_template_nodes/").json["actions"]["POST"]
    assert node_opts["identifier"]["type"] == "string" and node_opts["unified_job_template"]["type"] == "integer"
    assert "success_nodes" not in node_opts   # read-only id lists
    edge_opts = admin.options("/api/v2/workflow_job_template_nodes/1/success_nodes/").json["actions"]["POST"]
    assert edge_opts["id"]["type"] == "integer" and "disassociate" in edge_opts and "identifier" in edge_opts


def test_survey_spec_on_workflow_templates(admin, org):
    wf = make_wfjt(admin, org)
    spec = {"name": "s", "description": "", "spec": [{"question_name": "Q", "variable": "who", "type": "text",
                                                        "required": True, "default": "x"}]}
    url = f"/api/v2/workflow_job_templates/{wf['id']}/survey_spec/"
    assert admin.post(url, spec).status_code == 200
    assert admin.get(url).json["spec"][0]["variable"] == "who"
    body = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/").json
    assert body["summary_fields"]["survey"] == {"title": "s", "description": ""}
    assert admin.delete(url).status_code == 200 and admin.get(url).json == {}


# -- nodes --------------------------------------------------------------------------------------
def test_node_defaults_identifier_and_template_summary(admin, org, jt):
    wf = make_wfjt(admin, org)
    n = add_node(admin, wf, unified_job_template=jt["id"])
    assert len(n["identifier"]) == 36 and n["workflow_job_template"] == wf["id"]
    assert all(n[k] is None for k in ("limit", "inventory", "diff_mode", "job_type", "verbosity", "forks"))
    assert (n["success_nodes"], n["failure_nodes"], n["always_nodes"]) == ([], [], [])
    assert n["summary_fields"]["unified_job_template"] == {"id": jt["id"], "name": jt["name"],
                                                           "description": "", "unified_job_type": "job"}
    assert n["related"]["unified_job_template"] == f"/api/v2/job_templates/{jt['id']}/"
    dup = admin.post("/api/v2/workflow_job_template_nodes/", {"workflow_job_template": wf["id"],
                                                              "identifier": n["identifier"]})
    assert dup.status_code == 400
    assert dup.json == {"non_field_errors": ["The fields identifier, workflow_job_template must make a unique set."]}
    other = make_wfjt(admin, org)
    assert add_node(admin, other, identifier=n["identifier"])["identifier"] == n["identifier"]   # per WFJT
    named = f"/api/v2/workflow_job_template_nodes/{n['identifier']}++{wf['name']}++{org['name']}/"
    assert n["related"]["named_url"] == named and admin.get(named).json["id"] == n["id"]


def test_named_url_of_a_node_in_a_workflow_without_organization(admin):
    wf = make_wfjt(admin, None)
    n = add_node(admin, wf, identifier="root")
    assert n["related"]["named_url"] == f"/api/v2/workflow_job_template_nodes/root++{wf['name']}++/"
    assert admin.get(n["related"]["named_url"]).json["id"] == n["id"]


def test_node_template_and_prompt_validation(admin, org, jt, project):
    wf = make_wfjt(admin, org)
    base = {"workflow_job_template": wf["id"]}
    missing = admin.post("/api/v2/workflow_job_template_nodes/", {**base, "unified_job_template": 999999})
    assert missing.status_code == 400
    assert missing.json == {"unified_job_template": ['Invalid pk "999999" - object does not exist.']}
    not_asked = admin.post("/api/v2/workflow_job_template_nodes/", {**base, "unified_job_template": jt["id"],
                                                                    "limit": "h2", "forks": 3})
    assert not_asked.status_code == 400 and not_asked.json == {"limit": NOT_PROMPTED, "forks": NOT_PROMPTED}
    # a prompt the template asks for, the template's own value, and Turret overrides pass
    ok = add_node(admin, wf, unified_job_template=jt["id"], job_tags="t1", limit="h1", start_at_task="x",
                  job_slice_count="1", state="present")
    assert (ok["job_tags"], ok["limit"], ok["start_at_task"], ok["job_slice_count"]) == ("t1", "h1", "x", 1)
    bad = admin.patch(f"/api/v2/workflow_job_template_nodes/{ok['id']}/", {"verbosity": 9, "job_type": "nope"})
    assert bad.status_code == 400 and set(bad.json) == {"verbosity", "job_type"}
    update = add_node(admin, wf, unified_job_template=project["id"])
    assert update["summary_fields"]["unified_job_template"]["unified_job_type"] == "project_update"
    refused = admin.patch(f"/api/v2/workflow_job_template_nodes/{update['id']}/", {"limit": "h1"})
    assert refused.status_code == 400 and refused.json == {"limit": NOT_PROMPTED}
    neutral = admin.patch(f"/api/v2/workflow_job_template_nodes/{update['id']}/", {"job_slice_count": "1"})
    assert neutral.status_code == 200 and neutral.json["job_slice_count"] == 1
    moved = admin.patch(f"/api/v2/workflow_job_template_nodes/{ok['id']}/", {"workflow_job_template": 1})
    assert moved.status_code == 200 and moved.json["workflow_job_template"] == wf["id"]   # create-only


def test_edges_cycles_and_relationship_rules(admin, org):
    wf = make_wfjt(admin, org)
    a, b, c = (add_node(admin, wf, identifier=x) for x in "abc")
    assert link(admin, a, b).status_code == 204 and link(admin, b, c, "always_nodes").status_code == 204
    assert link(admin, a, b).status_code == 204          # the same edge again changes nothing
    assert node(admin, a["id"])["success_nodes"] == [b["id"]]
    assert node(admin, b["id"])["always_nodes"] == [c["id"]]
    cycle = link(admin, c, a, "failure_nodes")
    assert cycle.status_code == 400 and cycle.json == {"Error": "Cycle detected."}
    assert link(admin, a, a).json == {"Error": "Cycle detected."}
    second = link(admin, a, b, "failure_nodes")
    assert second.status_code == 400 and second.json == {"Error": "Relationship not allowed."}
    foreign = add_node(admin, make_wfjt(admin, org))
    assert link(admin, a, foreign).status_code == 400
    assert admin.get(f"/api/v2/workflow_job_template_nodes/{a['id']}/success_nodes/").json["count"] == 1
    assert link(admin, a, b, disassociate=True).status_code == 204
    assert node(admin, a["id"])["success_nodes"] == [] and link(admin, a, b, "failure_nodes").status_code == 204
    created = admin.post(f"/api/v2/workflow_job_template_nodes/{c['id']}/success_nodes/", {"identifier": "d"})
    assert created.status_code == 201 and created.json["workflow_job_template"] == wf["id"]
    assert node(admin, c["id"])["success_nodes"] == [created.json["id"]]
    events = admin.get(f"/api/v2/workflow_job_template_nodes/{a['id']}/activity_stream/").json["results"]
    assert {"associate", "disassociate"} <= {e["operation"] for e in events}


def test_create_approval_template(admin, org):
    wf = make_wfjt(admin, org)
    n = add_node(admin, wf)
    resp = admin.post(f"/api/v2/workflow_job_template_nodes/{n['id']}/create_approval_template/",
                      {"name": uniq("gate"), "description": "d", "timeout": 30})
    assert resp.status_code == 201, resp.json
    approval = resp.json
    assert approval["type"] == "workflow_approval_template" and approval["timeout"] == 30
    assert (approval["required_approvals"], approval["on_timeout"]) == (1, "deny")
    assert node(admin, n["id"])["unified_job_template"] == approval["id"]
    assert node(admin, n["id"])["summary_fields"]["unified_job_template"]["unified_job_type"] == "workflow_approval"
    listed = admin.get(f"/api/v2/unified_job_templates/?type=workflow_approval_template&id={approval['id']}").json
    assert listed["count"] == 1 and listed["results"][0]["type"] == "workflow_approval_template"
    bad = admin.post(f"/api/v2/workflow_job_template_nodes/{n['id']}/create_approval_template/",
                     {"name": "x", "timeout": -1})
    assert bad.status_code == 400 and "timeout" in bad.json
    assert "schedules" not in approval["related"]    # approvals run only inside a workflow


def test_copy_copies_nodes_edges_credentials_and_labels(admin, app_state, org, jt):
    wf = make_wfjt(admin, org)
    a = add_node(admin, wf, unified_job_template=jt["id"], identifier="a", job_tags="t")
    b, c = add_node(admin, wf, identifier="b"), add_node(admin, wf, identifier="c")
    link(admin, a, b)
    link(admin, a, c, "failure_nodes")
    label = admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": org["id"]}).json
    assert admin.post(f"/api/v2/workflow_job_template_nodes/{a['id']}/labels/", {"id": label["id"]}).status_code == 204
    cred = admin.post("/api/v2/credentials/", {"name": uniq("c"), "organization": org["id"], "inputs": {},
                                               "credential_type": type_id(admin, "ssh")}).json
    assert link(admin, a, cred, "credentials").status_code == 204
    refused = link(admin, b, cred, "credentials")      # b runs nothing: no template to take the prompt
    assert refused.status_code == 400
    assert refused.json == {"msg": "Related template cannot accept credentials on launch."}
    copied = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/copy/", {"name": uniq("copy")})
    assert copied.status_code == 201, copied.json
    nodes = admin.get(f"/api/v2/workflow_job_templates/{copied.json['id']}/workflow_nodes/").json["results"]
    by_ident = {n["identifier"]: n for n in nodes}
    assert set(by_ident) == {"a", "b", "c"} and not {n["id"] for n in nodes} & {a["id"], b["id"], c["id"]}
    new_a = by_ident["a"]
    assert new_a["unified_job_template"] == jt["id"] and new_a["job_tags"] == "t"
    assert new_a["success_nodes"] == [by_ident["b"]["id"]] and new_a["failure_nodes"] == [by_ident["c"]["id"]]
    assert admin.get(f"/api/v2/workflow_job_template_nodes/{new_a['id']}/labels/").json["count"] == 1
    assert [c["id"] for c in admin.get(f"/api/v2/workflow_job_template_nodes/{new_a['id']}/credentials/").json[
        "results"]] == [cred["id"]]
    assert node(admin, a["id"])["success_nodes"] == [b["id"]]       # the original keeps its graph


# -- access -------------------------------------------------------------------------------------
def grant(admin, role_id: int, user_id: int) -> None:
    assert admin.post(f"/api/v2/roles/{role_id}/users/", {"id": user_id}).status_code == 204


def test_rbac_create_read_change(admin, make_user, org, jt):
    wf = make_wfjt(admin, org)
    n = add_node(admin, wf, identifier="only")
    roles = wf["summary_fields"]["object_roles"]
    outsider_id, outsider = make_user()
    assert outsider.get("/api/v2/workflow_job_templates/").json["count"] == 0
    assert outsider.get("/api/v2/workflow_job_template_nodes/").json["count"] == 0
    assert outsider.get(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 403
    assert outsider.post("/api/v2/workflow_job_templates/", {"name": "x", "organization": org["id"]}).status_code == 403
    runner_id, runner = make_user()
    grant(admin, roles["execute_role"]["id"], runner_id)
    assert runner.get(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 200
    assert runner.get(f"/api/v2/workflow_job_template_nodes/{n['id']}/").status_code == 200
    assert runner.patch(f"/api/v2/workflow_job_templates/{wf['id']}/", {"description": "x"}).status_code == 403
    assert runner.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/", {}).status_code == 403
    # org workflow admin: creates and edits, but may not put in a template it cannot run
    org_roles = admin.get(f"/api/v2/organizations/{org['id']}/").json["summary_fields"]["object_roles"]
    boss_id, boss = make_user()
    grant(admin, org_roles["workflow_admin_role"]["id"], boss_id)
    mine = boss.post("/api/v2/workflow_job_templates/", {"name": uniq("mine"), "organization": org["id"]})
    assert mine.status_code == 201
    assert boss.patch(f"/api/v2/workflow_job_templates/{wf['id']}/", {"description": "x"}).status_code == 200
    refused = boss.post(f"/api/v2/workflow_job_templates/{mine.json['id']}/workflow_nodes/",
                        {"unified_job_template": jt["id"]})
    assert refused.status_code == 403
    grant(admin, jt["summary_fields"]["object_roles"]["execute_role"]["id"], boss_id)
    made = boss.post(f"/api/v2/workflow_job_templates/{mine.json['id']}/workflow_nodes/",
                     {"unified_job_template": jt["id"]})
    assert made.status_code == 201
    # a workflow admin who may not run the template re-sends the node unchanged, and may not swap it in
    plain_id, plain = make_user()
    grant(admin, admin.get(f"/api/v2/workflow_job_templates/{mine.json['id']}/").json["summary_fields"]
          ["object_roles"]["admin_role"]["id"], plain_id)
    node_url = f"/api/v2/workflow_job_template_nodes/{made.json['id']}/"
    assert plain.patch(node_url, {"unified_job_template": jt["id"], "identifier": "same"}).status_code == 200
    other = add_node(admin, mine.json)
    assert plain.patch(f"/api/v2/workflow_job_template_nodes/{other['id']}/",
                       {"unified_job_template": jt["id"]}).status_code == 403
    assert plain.patch(node_url, {"identifier": ""}).json == {"identifier": ["This field may not be blank."]}
    gate = plain.post(f"/api/v2/workflow_job_template_nodes/{other['id']}/create_approval_template/",
                      {"name": uniq("gate")})
    assert gate.status_code == 201, gate.json
    assert plain.get(f"/api/v2/workflow_approval_templates/{gate.json['id']}/").status_code == 200
    assert plain.patch(f"/api/v2/workflow_approval_templates/{gate.json['id']}/", {"timeout": 9}).json["timeout"] == 9
    assert outsider.get(f"/api/v2/workflow_approval_templates/{gate.json['id']}/").status_code == 403
    assert runner.post(f"/api/v2/workflow_job_template_nodes/{n['id']}/create_approval_template/",
                       {"name": "x"}).status_code == 403
    # the organization's approval role reaches the template's approval role (and so its read role)
    approver_id, approver = make_user()
    grant(admin, org_roles["approval_role"]["id"], approver_id)
    assert approver.get(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 200
    users = admin.get(f"/api/v2/roles/{roles['approval_role']['id']}/users/").json   # direct members only
    assert users["count"] == 0
    access = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/access_list/").json["results"]
    assert approver_id in {u["id"] for u in access} and outsider_id not in {u["id"] for u in access}


# -- workflow jobs, nodes, approvals: the action views with the real engine -----------------------
@pytest.fixture(scope="module")
def workers(app_state):
    yield app_state.start_jobs(workers=2)
    app_state.stop_jobs()


def wait_workflow(admin, pk: int, statuses=FINISHED, timeout: float = 60) -> dict:
    return wait_until(lambda: (lambda w: w if w["status"] in statuses else None)(
        admin.get(f"/api/v2/workflow_jobs/{pk}/").json), timeout, f"workflow job {pk} in {statuses}")


@pytest.mark.slow
def test_launch_lists_jobs_and_links_them(admin, org, jt, workers):
    wf = make_wfjt(admin, org)
    first = add_node(admin, wf, unified_job_template=jt["id"], identifier="first")
    second = add_node(admin, wf, unified_job_template=jt["id"], identifier="second")
    link(admin, first, second)
    info = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/launch/")
    assert info.status_code == 200 and info.json["can_start_without_user_input"] is True
    resp = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {})
    assert resp.status_code == 201, resp.json
    assert resp.json["workflow_job"] == resp.json["id"] and resp.json["type"] == "workflow_job"
    assert resp.headers["Location"] == f"/api/v2/workflow_jobs/{resp.json['id']}/"
    done = wait_workflow(admin, resp.json["id"])
    assert done["status"] == "successful" and done["workflow_job_template"] == wf["id"]
    nodes = admin.get(f"/api/v2/workflow_jobs/{done['id']}/workflow_nodes/").json["results"]
    assert [n["identifier"] for n in nodes] == ["first", "second"]
    assert nodes[0]["success_nodes"] == [nodes[1]["id"]] and nodes[0]["do_not_run"] is False
    job_ids = [n["job"] for n in nodes]
    summary = nodes[0]["summary_fields"]["job"]
    assert summary["id"] == job_ids[0] and summary["type"] == "job" and summary["status"] == "successful"
    assert nodes[0]["related"]["job"] == f"/api/v2/jobs/{job_ids[0]}/"
    for path in ("/api/v2/unified_jobs/", "/api/v2/unified_jobs"):
        listed = admin.get(f"{path}?unified_job_node__workflow_job={done['id']}")
        assert listed.status_code == 200, path
        assert sorted(r["id"] for r in listed.json["results"]) == sorted(job_ids)
    jobs = admin.get(f"/api/v2/jobs/?unified_job_node__workflow_job={done['id']}").json
    assert sorted(r["id"] for r in jobs["results"]) == sorted(job_ids)
    job = admin.get(f"/api/v2/jobs/{job_ids[0]}/").json
    assert job["launch_type"] == "workflow"
    assert job["launched_by"] == {"id": done["id"], "name": wf["name"], "type": "workflow_job",
                                  "url": f"/api/v2/workflow_jobs/{done['id']}/"}
    assert job["summary_fields"]["source_workflow_job"]["id"] == done["id"]
    assert job["summary_fields"]["source_workflow_job"]["name"] == wf["name"]
    named = admin.get(f"/api/v2/workflow_job_nodes/?workflow_job={done['id']}&job__name={jt['name']}").json
    assert named["count"] == 2
    assert admin.get(f"/api/v2/workflow_job_nodes/?job__name=no-such-{uniq('x')}").json["count"] == 0
    wf_after = admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/").json
    assert wf_after["status"] == "successful" and wf_after["last_job_failed"] is False
    assert wf_after["summary_fields"]["last_job"]["id"] == done["id"]
    assert wf_after["summary_fields"]["recent_jobs"][0] == {
        "id": done["id"], "status": "successful", "finished": done["finished"], "canceled_on": None,
        "type": "workflow_job"}
    unified = admin.get(f"/api/v2/unified_jobs/?id={done['id']}").json["results"]
    assert unified[0]["type"] == "workflow_job"
    relaunched = admin.post(f"/api/v2/workflow_jobs/{done['id']}/relaunch/", {})
    assert relaunched.status_code == 201, relaunched.json
    assert relaunched.json["workflow_job"] != done["id"] and relaunched.json["launch_type"] == "relaunch"
    assert wait_workflow(admin, relaunched.json["id"])["status"] == "successful"


def test_approval_routes_and_cancel(admin, make_user, org, workers):
    wf = make_wfjt(admin, org)
    gate = add_node(admin, wf, identifier="gate")
    admin.post(f"/api/v2/workflow_job_template_nodes/{gate['id']}/create_approval_template/",
               {"name": uniq("gate"), "timeout": 0})
    run = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}).json
    approval = wait_until(lambda: (admin.get(f"/api/v2/workflow_approvals/?status=pending&"
                                             f"unified_job_node__workflow_job={run['id']}").json["results"] or
                                   [None])[0], 30, "a pending approval")
    assert approval["can_approve_or_deny"] is True
    gate_node = admin.get(f"/api/v2/workflow_jobs/{run['id']}/workflow_nodes/").json["results"][0]
    assert gate_node["summary_fields"]["job"]["type"] == "workflow_approval"
    assert gate_node["related"]["job"] == f"/api/v2/workflow_approvals/{approval['id']}/"
    assert approval["summary_fields"]["source_workflow_job"]["id"] == run["id"]
    runner_id, runner = make_user()
    grant(admin, wf["summary_fields"]["object_roles"]["execute_role"]["id"], runner_id)
    refused = runner.post(f"/api/v2/workflow_approvals/{approval['id']}/approve/", {})
    assert refused.status_code == 403
    outsider = make_user()[1]
    assert outsider.get(f"/api/v2/workflow_approvals/{approval['id']}/").status_code == 403
    assert outsider.get("/api/v2/workflow_approvals/").json["count"] == 0
    assert runner.get(f"/api/v2/workflow_approvals/{approval['id']}/").json["can_approve_or_deny"] is False
    ok = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/approve", {"comment": "fine"})   # no slash
    assert ok.status_code == 204 and ok.data == b""
    decided = admin.get(f"/api/v2/workflow_approvals/{approval['id']}/").json
    assert decided["status"] == "successful" and decided["summary_fields"]["approved_or_denied_by"]["username"] \
        == "admin"
    votes = admin.get(f"/api/v2/workflow_approvals/{approval['id']}/votes/").json["results"]
    assert [(v["decision"], v["comment"]) for v in votes] == [("approve", "fine")]
    again = admin.post(f"/api/v2/workflow_approvals/{approval['id']}/deny/", {})
    assert again.status_code == 400
    assert again.json == {"error": "This workflow step has already been approved or denied."}
    assert wait_workflow(admin, run["id"])["status"] == "successful"
    # a second run: cancel it while its approval waits
    run2 = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}).json
    wait_until(lambda: admin.get(f"/api/v2/workflow_approvals/?status=pending&"
                                 f"unified_job_node__workflow_job={run2['id']}").json["count"], 30, "pending")
    assert admin.get(f"/api/v2/workflow_jobs/{run2['id']}/cancel/").json == {"can_cancel": True}
    assert runner.post(f"/api/v2/workflow_jobs/{run2['id']}/cancel/", {}).status_code == 403
    assert admin.post(f"/api/v2/workflow_jobs/{run2['id']}/cancel/", {}).status_code == 202
    assert wait_workflow(admin, run2["id"])["status"] == "canceled"
    assert admin.post(f"/api/v2/workflow_jobs/{run2['id']}/cancel/", {}).status_code == 405


def test_runtime_reads_follow_the_template(admin, make_user, org, jt, workers):
    wf = make_wfjt(admin, org)
    add_node(admin, wf, unified_job_template=jt["id"])
    outsider = make_user()[1]
    assert outsider.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}).status_code == 403
    reader_id, reader = make_user()
    grant(admin, wf["summary_fields"]["object_roles"]["read_role"]["id"], reader_id)
    refused = reader.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {})
    assert refused.status_code == 403 and admin.get("/api/v2/workflow_jobs/?workflow_job_template="
                                                    f"{wf['id']}").json["count"] == 0
    run = admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/launch/", {}).json
    done = wait_workflow(admin, run["id"])
    node_id = admin.get(f"/api/v2/workflow_jobs/{run['id']}/workflow_nodes/").json["results"][0]["id"]
    for path in (f"/api/v2/workflow_jobs/{run['id']}/", f"/api/v2/workflow_job_nodes/{node_id}/"):
        assert reader.get(path).status_code == 200, path
        assert outsider.get(path).status_code == 403, path
    assert outsider.get(f"/api/v2/workflow_jobs/?id={run['id']}").json["count"] == 0
    assert outsider.get(f"/api/v2/unified_jobs/?id={run['id']}").json["count"] == 0
    assert reader.get(f"/api/v2/unified_jobs/?id={run['id']}").json["count"] == 1
    assert reader.post(f"/api/v2/workflow_jobs/{run['id']}/relaunch/", {}).status_code == 403
    assert reader.post(f"/api/v2/workflow_jobs/{run['id']}/cancel/", {}).status_code in (403, 405)
    assert reader.delete(f"/api/v2/workflow_jobs/{run['id']}/").status_code == 403
    assert admin.delete(f"/api/v2/workflow_jobs/{done['id']}/").status_code == 204
    assert admin.get(f"/api/v2/workflow_jobs/{done['id']}/").status_code == 404


def test_unified_job_templates_filters(admin, org, jt):
    wf = make_wfjt(admin, org)
    listed = admin.get(f"/api/v2/unified_job_templates/?name={wf['name']}&type=workflow_job_template"
                       f"&organization={org['id']}").json
    assert [(r["id"], r["type"]) for r in listed["results"]] == [(wf["id"], "workflow_job_template")]
    assert admin.get(f"/api/v2/unified_job_templates/?name={wf['name']}&type=job_template").json["count"] == 0
    assert jt["id"] != wf["id"]    # one id space for every template kind


def test_copy_drops_templates_the_copier_may_not_use(admin, make_user, org, jt):
    wf = make_wfjt(admin, org)
    add_node(admin, wf, unified_job_template=jt["id"], identifier="jt")
    org_roles = admin.get(f"/api/v2/organizations/{org['id']}/").json["summary_fields"]["object_roles"]
    copier_id, copier = make_user()
    grant(admin, org_roles["workflow_admin_role"]["id"], copier_id)
    assert copier.get(f"/api/v2/workflow_job_templates/{wf['id']}/copy/").json == {"can_copy": True}
    copied = copier.post(f"/api/v2/workflow_job_templates/{wf['id']}/copy/", {"name": uniq("copy")})
    assert copied.status_code == 201, copied.json
    nodes = admin.get(f"/api/v2/workflow_job_templates/{copied.json['id']}/workflow_nodes/").json["results"]
    assert [(n["identifier"], n["unified_job_template"]) for n in nodes] == [("jt", None)]


def test_node_labels_do_not_need_the_template_prompt(admin, org, project, inventory):
    """AWX's node labels/ checks no ask flag (a launch ignores them): see test_label_sublists.py."""
    plain = make_jt(admin, project, inventory, "ok.yml")
    wf = make_wfjt(admin, org)
    n = add_node(admin, wf, unified_job_template=plain["id"])
    label = admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": org["id"]}).json
    resp = admin.post(f"/api/v2/workflow_job_template_nodes/{n['id']}/labels/", {"id": label["id"]})
    assert resp.status_code == 204, resp.json
    assert [x["id"] for x in admin.get(f"/api/v2/workflow_job_template_nodes/{n['id']}/labels/").json["results"]] \
        == [label["id"]]


def test_webhook_credential_must_be_the_token_of_the_selected_service(admin, org):
    """A workflow template checks its webhook credential as a job template does (one shared check):
    a Personal Access Token of the selected service, else 400 with AWX's messages and nothing stored."""
    github = make_credential(admin, org, type_id(admin, "github_token"), {"token": "t0k"})
    machine = make_credential(admin, org, type_id(admin, "ssh"), {"username": "u"})
    url = f"/api/v2/workflow_job_templates/{make_wfjt(admin, org)['id']}/"
    for body, message in (({"webhook_credential": machine["id"]}, "Must be a Personal Access Token."),
                          ({"webhook_credential": github["id"]}, "Must match the selected webhook service."),
                          ({"webhook_credential": github["id"], "webhook_service": "gitlab"},
                           "Must match the selected webhook service.")):
        resp = admin.patch(url, body)
        assert (resp.status_code, resp.json) == (400, {"webhook_credential": [message]})
        assert admin.get(url).json["webhook_credential"] is None
    resp = admin.patch(url, {"webhook_credential": github["id"], "webhook_service": "github"})
    assert resp.status_code == 200, resp.json
    stored = admin.get(url).json
    assert (stored["webhook_credential"], stored["webhook_service"]) == (github["id"], "github")


def test_labels_of_a_workflow_template_are_visible_to_its_readers(admin, make_user, org):
    """AWX LabelAccess: a label attached to a readable workflow template is visible (list, detail
    and the template's labels/ sub-list) even without access to the label's organization."""
    other_org = make_org(admin)          # the readers below are not members of it
    label = admin.post("/api/v2/labels/", {"name": uniq("wflbl"), "organization": other_org["id"]}).json
    wf = make_wfjt(admin, org)
    assert admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/labels/", {"id": label["id"]}).status_code == 204
    reader_id, reader = make_user()
    grant(admin, wf["summary_fields"]["object_roles"]["read_role"]["id"], reader_id)
    _, outsider = make_user()
    assert [lb["id"] for lb in reader.get("/api/v2/labels/").json["results"]] == [label["id"]]
    assert reader.get(f"/api/v2/labels/{label['id']}/").json["name"] == label["name"]
    sub = reader.get(f"/api/v2/workflow_job_templates/{wf['id']}/labels/").json
    assert [lb["name"] for lb in sub["results"]] == [label["name"]]
    assert outsider.get("/api/v2/labels/").json["count"] == 0
    assert outsider.get(f"/api/v2/labels/{label['id']}/").status_code == 403
    assert outsider.get(f"/api/v2/workflow_job_templates/{wf['id']}/labels/").status_code == 403

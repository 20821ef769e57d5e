"""Every writable ``labels/`` sub-list (job template, workflow job template, workflow template node,
schedule) behaves as AWX 24.6.1's LabelSubListCreateAttachDetachView:

  * ``{"name", "organization"}`` attaches the label of that name in that organization (204), or
    creates it (201, the label's body and ``Location``) and attaches it; the workflow template
    node's sub-list too (it used to attach existing labels by id only);
  * the node's sub-list checks no prompt flag of the node's template, and takes labels on a node
    without a template (AWX); a launch then ignores labels the template does not ask for;
  * an attach or create is refused with 400 ``{"msg": "Maximum number of labels for <parent>
    reached."}`` while the parent already holds more than 100 labels (AWX counts before the POST:
    the 101st still goes in); a detach is never refused.

Bodies, the ``labels`` table and the link tables are read back."""
from __future__ import annotations

from typing import Callable

import pytest

from controller.store import now_iso
from tests.controller.conftest import unique
from tests.support.jobs import FINISHED, created, make_jt, make_stage, uniq, wait_until

OK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=ok\n"
RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
# sub-list kind -> (link table, its owner column, the parent's name in AWX's message)
KINDS = {
    "job_templates": ("job_template_labels", "job_template_id", "job template"),
    "workflow_job_templates": ("workflow_job_template_labels", "workflow_job_template_id", "workflow job template"),
    "workflow_job_template_nodes": ("workflow_job_template_node_labels", "workflow_job_template_node_id",
                                    "workflow job template node"),
    "schedules": ("schedule_labels", "schedule_id", "schedule"),
}


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"ok.yml": OK})


@pytest.fixture(scope="module")
def make_parent(admin, stage) -> Callable[..., dict]:
    """make_parent(kind, **jt_fields) -> the API object of a new parent whose ``labels/`` takes
    labels (a node runs, and a schedule starts, a new job template made with ``jt_fields``)."""
    def make(kind: str, **jt_fields) -> dict:
        jt = make_jt(admin, stage["project"], stage["inventory"], "ok.yml", **jt_fields)
        if kind == "job_templates":
            return jt
        if kind == "schedules":
            return created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                                      {"name": unique("sched"), "rrule": RULE}))
        wf = created(admin.post("/api/v2/workflow_job_templates/",
                                {"name": uniq("wf"), "organization": stage["org"]["id"]}))
        if kind == "workflow_job_templates":
            return wf
        return created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                                  {"unified_job_template": jt["id"]}))
    return make


def linked(app_state, kind: str, parent: dict) -> list[int]:
    """The label ids the link table of ``kind`` holds for ``parent``, oldest link first."""
    table, column, _ = KINDS[kind]
    return [r[0] for r in app_state.store.query(f'SELECT label_id FROM "{table}" WHERE "{column}" = ? ORDER BY rowid',
                                                (parent["id"],))]


def labels_named(app_state, name: str) -> list[tuple[int, int]]:
    """(id, organization) of the stored labels called ``name``."""
    return [tuple(r) for r in app_state.store.query("SELECT id, organization FROM labels WHERE name = ? ORDER BY id",
                                                    (name,))]


# -- create or attach by name --------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_new_name_creates_and_attaches_the_label(admin, app_state, stage, make_parent, kind):
    parent = make_parent(kind)
    name = uniq("byname")
    resp = admin.post(f"{parent['url']}labels/", {"name": name, "organization": stage["org"]["id"]})
    body = created(resp)
    assert (body["type"], body["name"], body["organization"]) == ("label", name, stage["org"]["id"])
    assert resp.headers["Location"].endswith(f"/api/v2/labels/{body['id']}/")
    assert labels_named(app_state, name) == [(body["id"], stage["org"]["id"])]
    assert linked(app_state, kind, parent) == [body["id"]]
    assert [x["id"] for x in admin.get(f"{parent['url']}labels/").json["results"]] == [body["id"]]


@pytest.mark.parametrize("kind", KINDS)
def test_an_existing_name_attaches_that_label(admin, app_state, stage, make_parent, make_org, kind):
    """The label of that name in that organization is attached (204), none is created; the same
    name in another organization is another label."""
    existing = created(admin.post("/api/v2/labels/", {"name": uniq("known"), "organization": stage["org"]["id"]}))
    parent = make_parent(kind)
    for _ in range(2):   # attaching again changes nothing
        resp = admin.post(f"{parent['url']}labels/", {"name": existing["name"], "organization": stage["org"]["id"]})
        assert (resp.status_code, resp.data) == (204, b"")
    assert labels_named(app_state, existing["name"]) == [(existing["id"], stage["org"]["id"])]
    assert linked(app_state, kind, parent) == [existing["id"]]
    other = make_org()
    elsewhere = created(admin.post(f"{parent['url']}labels/", {"name": existing["name"], "organization": other["id"]}))
    assert labels_named(app_state, existing["name"]) == [(existing["id"], stage["org"]["id"]),
                                                         (elsewhere["id"], other["id"])]
    assert linked(app_state, kind, parent) == [existing["id"], elsewhere["id"]]


def test_creating_by_name_needs_membership_of_the_organization(admin, app_state, stage, make_parent, make_user):
    """A node's admin who is no member of the label's organization may not create a label there
    through the node (AWX LabelAccess.can_add); nothing is stored."""
    node = make_parent("workflow_job_template_nodes")
    uid, user = make_user()
    wf = admin.get(f"/api/v2/workflow_job_templates/{node['workflow_job_template']}/").json
    role = wf["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/roles/{role}/users/", {"id": uid}).status_code == 204
    name = uniq("refused")
    resp = user.post(f"{node['url']}labels/", {"name": name, "organization": stage["org"]["id"]})
    assert resp.status_code == 403, resp.json
    assert labels_named(app_state, name) == []
    assert linked(app_state, "workflow_job_template_nodes", node) == []


def test_a_node_takes_labels_its_template_does_not_ask_for(admin, app_state, stage, make_parent):
    """AWX's node labels/ has no prompt check (unlike its credentials/)."""
    node = make_parent("workflow_job_template_nodes", ask_labels_on_launch=False)
    label = created(admin.post(f"{node['url']}labels/", {"name": uniq("free"), "organization": stage["org"]["id"]}))
    assert linked(app_state, "workflow_job_template_nodes", node) == [label["id"]]
    wf = node["workflow_job_template"]
    bare = created(admin.post(f"/api/v2/workflow_job_templates/{wf}/workflow_nodes/", {}))
    resp = admin.post(f"{bare['url']}labels/", {"id": label["id"]})
    assert resp.status_code == 204, resp.json
    assert linked(app_state, "workflow_job_template_nodes", bare) == [label["id"]]


@pytest.mark.slow
def test_a_launch_ignores_node_labels_its_template_does_not_ask_for(admin, app_state, jobs, stage, make_parent):
    """The job node keeps the node's labels (AWX create_workflow_job_node copies them); the job
    gets only its template's own, the node's being an ignored prompt."""
    node = make_parent("workflow_job_template_nodes", ask_labels_on_launch=False)
    jt_url = f"/api/v2/job_templates/{node['unified_job_template']}/"
    own = created(admin.post(f"{jt_url}labels/", {"name": uniq("own"), "organization": stage["org"]["id"]}))
    extra = created(admin.post(f"{node['url']}labels/", {"name": uniq("node"), "organization": stage["org"]["id"]}))
    wj = created(admin.post(f"/api/v2/workflow_job_templates/{node['workflow_job_template']}/launch/", {}))
    done = wait_until(lambda: (lambda w: w if w["status"] in FINISHED else None)(
        admin.get(f"/api/v2/workflow_jobs/{wj['id']}/").json), 120, "workflow job")
    assert done["status"] == "successful", done
    [job_node] = admin.get(f"/api/v2/workflow_jobs/{wj['id']}/workflow_nodes/").json["results"]
    assert [x["id"] for x in admin.get(f"/api/v2/workflow_job_nodes/{job_node['id']}/labels/").json["results"]] \
        == [extra["id"]]
    assert [r[0] for r in app_state.store.query("SELECT label_id FROM job_labels WHERE job_id = ?",
                                                (job_node["job"],))] == [own["id"]]


# -- the cap ---------------------------------------------------------------------------------------
def fill(app_state, kind: str, parent: dict, org: int, count: int) -> None:
    """Store ``count`` new labels of ``org`` linked to ``parent`` (fast set-up of a full parent)."""
    table, column, _ = KINDS[kind]
    now = now_iso()
    with app_state.store.transaction():
        for _ in range(count):
            pk = app_state.store.insert("labels", {"name": uniq("filler"), "organization": org,
                                                   "created": now, "modified": now})
            app_state.store.insert(table, {column: parent["id"], "label_id": pk})


@pytest.mark.parametrize("kind", KINDS)
def test_the_cap_refuses_attaching_beyond_it(admin, app_state, stage, make_parent, kind):
    parent = make_parent(kind)
    org = stage["org"]["id"]
    fill(app_state, kind, parent, org, 100)
    url = f"{parent['url']}labels/"
    last = created(admin.post("/api/v2/labels/", {"name": uniq("last"), "organization": org}))
    assert admin.post(url, {"id": last["id"]}).status_code == 204   # at 100: AWX still attaches one
    assert len(linked(app_state, kind, parent)) == 101
    refused = {"msg": f"Maximum number of labels for {KINDS[kind][2]} reached."}
    extra = created(admin.post("/api/v2/labels/", {"name": uniq("extra"), "organization": org}))
    for body in ({"id": extra["id"]}, {"id": last["id"]}, {"name": extra["name"], "organization": org}):
        resp = admin.post(url, body)
        assert (resp.status_code, resp.json) == (400, refused)
    new_name = uniq("never")
    resp = admin.post(url, {"name": new_name, "organization": org})
    assert (resp.status_code, resp.json) == (400, refused)
    assert labels_named(app_state, new_name) == []
    assert len(linked(app_state, kind, parent)) == 101 and extra["id"] not in linked(app_state, kind, parent)
    assert admin.get(url).json["count"] == 101
    # a detach is never refused, and once at 100 again one more goes in
    resp = admin.post(url, {"id": last["id"], "disassociate": True})
    assert resp.status_code == 204, resp.json
    assert len(linked(app_state, kind, parent)) == 100 and last["id"] not in linked(app_state, kind, parent)
    assert admin.post(url, {"id": extra["id"]}).status_code == 204
    assert linked(app_state, kind, parent)[-1] == extra["id"]


def test_the_cap_counts_only_the_parent_itself(admin, app_state, stage, make_parent):
    """A full job template does not stop its sibling, nor a node running it."""
    full = make_parent("job_templates")
    fill(app_state, "job_templates", full, stage["org"]["id"], 101)
    sibling = make_parent("job_templates")
    label = created(admin.post(f"{sibling['url']}labels/", {"name": uniq("ok"), "organization": stage["org"]["id"]}))
    assert linked(app_state, "job_templates", sibling) == [label["id"]]
    wf = created(admin.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"),
                                                               "organization": stage["org"]["id"]}))
    node = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                              {"unified_job_template": full["id"]}))
    assert admin.post(f"{node['url']}labels/", {"id": label["id"]}).status_code == 204
    assert linked(app_state, "workflow_job_template_nodes", node) == [label["id"]]

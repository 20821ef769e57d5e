"""A label detached from the last thing it is attached to is deleted, as AWX 24.6.1's
``LabelSubListCreateAttachDetachView.unattach`` does (``Label.is_detached``: no unified job
template, unified job, schedule or workflow (job) node links it any more).  Covered for each
writable label sub-list: job templates, workflow job templates, workflow template nodes and
schedules.  A label still used by another template or by a job (run for real) is kept.  The
stored rows are read from SQLite; the activity stream gets AWX's two entries (disassociate,
then delete of the label)."""
from __future__ import annotations

from typing import Callable

import pytest

from tests.controller.conftest import unique
from tests.support.jobs import created, make_jt, make_stage, uniq, wait_job

OK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=ok\n"
RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
KINDS = ("job_templates", "workflow_job_templates", "workflow_job_template_nodes", "schedules")


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"ok.yml": OK})


@pytest.fixture(scope="module")
def make_parent(admin, stage) -> Callable[[str], str]:
    """make_parent(kind) -> the URL of a new object whose ``labels/`` sub-list takes labels."""
    def make(kind: str) -> str:
        jt = make_jt(admin, stage["project"], stage["inventory"], "ok.yml", ask_labels_on_launch=True)
        if kind == "job_templates":
            return f"/api/v2/job_templates/{jt['id']}/"
        if kind == "schedules":
            return created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                                      {"name": unique("sched"), "rrule": RULE}))["url"]
        wf = created(admin.post("/api/v2/workflow_job_templates/",
                                {"name": uniq("wf"), "organization": stage["org"]["id"]}))
        if kind == "workflow_job_templates":
            return wf["url"]
        return created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                                  {"unified_job_template": jt["id"]}))["url"]
    return make


def new_label(admin, stage: dict) -> dict:
    return created(admin.post("/api/v2/labels/", {"name": uniq("lbl"), "organization": stage["org"]["id"]}))


def attach(client, parent: str, label: dict, detach: bool = False) -> None:
    body = {"id": label["id"], "disassociate": True} if detach else {"id": label["id"]}
    resp = client.post(f"{parent}labels/", body)
    assert resp.status_code == 204, resp.json


def stored(app_state, label: dict) -> bool:
    return app_state.store.one("SELECT id FROM labels WHERE id = ?", (label["id"],)) is not None


def last_entry(admin) -> int:
    results = admin.get("/api/v2/activity_stream/?order_by=-id&page_size=1").json["results"]
    return results[0]["id"] if results else 0


def entries_since(admin, mark: int) -> list[tuple[str, str, str]]:
    """(operation, object1, object2) of the activity entries after ``mark``, oldest first."""
    rows = admin.get(f"/api/v2/activity_stream/?id__gt={mark}&order_by=id&page_size=200").json["results"]
    return [(e["operation"], e["object1"], e["object2"]) for e in rows]


@pytest.mark.parametrize("kind", KINDS)
def test_detaching_the_last_use_deletes_the_label(admin, app_state, stage, make_parent, kind):
    parent = make_parent(kind)
    label = new_label(admin, stage)
    attach(admin, parent, label)
    mark = last_entry(admin)
    attach(admin, parent, label, detach=True)
    assert not stored(app_state, label)
    assert admin.get(f"/api/v2/labels/{label['id']}/").status_code == 404
    assert admin.get(f"{parent}labels/").json["count"] == 0
    object1 = kind[:-1]
    assert entries_since(admin, mark) == [("disassociate", object1, "label"), ("delete", "label", "")]
    deleted = admin.get(f"/api/v2/activity_stream/?id__gt={mark}&operation=delete").json["results"]
    assert deleted[0]["changes"]["name"] == label["name"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_label_still_used_elsewhere_is_kept(admin, app_state, stage, make_parent, kind):
    parent, other = make_parent(kind), make_parent("workflow_job_templates" if kind == "job_templates"
                                                   else "job_templates")
    label = new_label(admin, stage)
    attach(admin, parent, label)
    attach(admin, other, label)
    mark = last_entry(admin)
    attach(admin, parent, label, detach=True)
    assert stored(app_state, label)
    assert entries_since(admin, mark) == [("disassociate", kind[:-1], "label")]
    assert [x["id"] for x in admin.get(f"{other}labels/").json["results"]] == [label["id"]]
    attach(admin, other, label, detach=True)   # now the last use goes: so does the label
    assert not stored(app_state, label)


def test_detaching_a_label_attached_elsewhere_only_keeps_it(admin, app_state, stage, make_parent):
    """``{"id", "disassociate"}`` for a label this object does not have removes nothing and keeps
    a label another object uses."""
    used_by, asked = make_parent("schedules"), make_parent("job_templates")
    label = new_label(admin, stage)
    attach(admin, used_by, label)
    attach(admin, asked, label, detach=True)
    assert stored(app_state, label)
    assert [x["id"] for x in admin.get(f"{used_by}labels/").json["results"]] == [label["id"]]


def test_detach_by_a_template_admin_deletes_without_label_delete_rights(admin, app_state, stage, make_parent,
                                                                        make_user):
    """AWX deletes the detached label whatever the user's rights on the label itself: a template
    admin who is no organization admin (and so may not change the label) still removes it."""
    parent = make_parent("job_templates")
    label = new_label(admin, stage)
    attach(admin, parent, label)
    uid, user = make_user()
    role = admin.get(parent).json["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/roles/{role}/users/", {"id": uid}).status_code == 204
    assert user.patch(f"/api/v2/labels/{label['id']}/", {"name": uniq("other")}).status_code == 403
    attach(user, parent, label, detach=True)
    assert not stored(app_state, label)


@pytest.mark.slow
def test_a_label_a_job_carries_is_kept(admin, app_state, jobs, stage, make_parent):
    parent = make_parent("job_templates")
    label = new_label(admin, stage)
    attach(admin, parent, label)
    job = created(admin.post(f"{parent}launch/", {}))
    assert wait_job(admin, job["id"])["status"] == "successful"
    attach(admin, parent, label, detach=True)
    assert stored(app_state, label)
    assert [x["id"] for x in admin.get(f"/api/v2/jobs/{job['id']}/labels/").json["results"]] == [label["id"]]
    assert admin.get(f"{parent}labels/").json["count"] == 0


def test_detaching_a_label_attached_nowhere_deletes_it(admin, app_state, stage, make_parent):
    """AWX looks at the label after every detach, even one that removed nothing."""
    label = new_label(admin, stage)
    attach(admin, make_parent("workflow_job_templates"), label, detach=True)
    assert not stored(app_state, label)

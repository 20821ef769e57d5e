"""Delete asks first (test client, no script): every delete button is a link to a confirmation
page (GET, deletes nothing) naming what goes with the object; its form's POST deletes; Cancel goes
back; a user who may not delete gets the 403 page before any question."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, type_id, uniq

from .page_client import make_user, page_fixtures

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

app, api, ui = page_fixtures()


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    return {"org": org, "project": make_project(api, app.data_dir, org, {"play.yml": PLAY})}


def _confirm_form(html: str) -> tuple[str, str]:
    """(the POST action, the Cancel href) of a confirmation page."""
    action = re.search(r'<form method="post" action="([^"]+)" class="actions">', html)
    cancel = re.search(r'<a class="button" href="([^"]+)" data-action="cancel">Cancel</a>', html)
    assert action and cancel, html[:2000]
    return action.group(1), cancel.group(1)


def test_an_inventory_asks_first_and_names_its_hosts_and_groups(ui, api, stage):
    inv = make_inventory(api, stage["org"], ("web-1", "web-2"))
    assert api.post("/api/v2/groups/", {"name": "webs", "inventory": inv["id"]}).status_code == 201
    page = ui.get(f"/ui/inventories/{inv['id']}")
    # the button is a link to the question, no longer a form that deletes
    assert f'href="/ui/inventories/{inv["id"]}/delete" data-action="delete"' in page.text
    assert f'action="/ui/inventories/{inv["id"]}/delete"' not in page.text
    ask = ui.get(f"/ui/inventories/{inv['id']}/delete")
    assert ask.status_code == 200
    assert f"<h1 id=\"confirm-title\">Delete inventory “{inv['name']}”?</h1>" in ask.text
    assert ask.text.count("<h1") == 1
    cascade = re.findall(r'<li data-count="(\d+)">([^<]+)</li>', ask.text)
    assert cascade == [("2", "2 hosts"), ("1", "1 group")]
    assert 'name="csrfmiddlewaretoken"' in ask.text
    action, cancel = _confirm_form(ask.text)
    assert action == f"/ui/inventories/{inv['id']}/delete" and cancel == f"/ui/inventories/{inv['id']}"
    # neither the question nor Cancel deletes anything
    assert ui.get(cancel).status_code == 200
    assert api.one(f"/api/v2/inventories/{inv['id']}/")["total_hosts"] == 2
    gone = ui.post(action, {})
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/ui/inventories")
    assert api.get(f"/api/v2/inventories/{inv['id']}/").status_code == 404
    assert api.one(f"/api/v2/hosts/?inventory={inv['id']}")["count"] == 0


def test_a_delete_without_the_token_deletes_nothing(ui, api, stage):
    org = api.post("/api/v2/organizations/", {"name": uniq("keep-org")}).json
    assert ui.post(f"/ui/organizations/{org['id']}/delete", {}, csrf=False).status_code == 403
    assert api.one(f"/api/v2/organizations/{org['id']}/")["name"] == org["name"]


def test_a_template_names_its_schedules_and_its_own_post_deletes(ui, api, stage):
    inv = make_inventory(api, stage["org"], ("h1",))
    jt = make_jt(api, stage["project"], inv, "play.yml")
    assert api.post("/api/v2/schedules/", {"name": uniq("nightly"), "unified_job_template": jt["id"],
                                           "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}
                    ).status_code == 201
    page = ui.get(f"/ui/templates/{jt['id']}")
    assert f'href="/ui/templates/{jt["id"]}/delete" data-action="delete"' in page.text
    ask = ui.get(f"/ui/templates/{jt['id']}/delete")
    assert f"Delete job template “{jt['name']}”?" in ask.text and ">1 schedule</li>" in ask.text
    action, cancel = _confirm_form(ask.text)
    assert cancel == f"/ui/templates/{jt['id']}"
    assert api.one(f"/api/v2/job_templates/{jt['id']}/")["id"] == jt["id"]
    assert ui.post(action, {}).status_code == 302
    assert api.get(f"/api/v2/job_templates/{jt['id']}/").status_code == 404
    assert api.one(f"/api/v2/schedules/?unified_job_template={jt['id']}")["count"] == 0


@pytest.mark.parametrize("kind", ["schedules", "projects", "organizations", "hosts", "credentials"])
def test_every_delete_button_leads_to_the_question(app, ui, api, stage, kind):
    inv = make_inventory(api, stage["org"], ("h1",))
    made = {
        "schedules": lambda: api.post("/api/v2/schedules/", {
            "name": uniq("s"), "unified_job_template": make_jt(api, stage["project"], inv, "play.yml")["id"],
            "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}).json,
        "projects": lambda: make_project(api, app.data_dir, stage["org"], {"play.yml": PLAY}),
        "organizations": lambda: api.post("/api/v2/organizations/", {"name": uniq("o")}).json,
        "hosts": lambda: {"id": inv["_hosts"]["h1"], "name": "h1"},
        "credentials": lambda: api.post("/api/v2/credentials/", {"name": uniq("c"), "organization": stage["org"]["id"],
                                                                 "credential_type": type_id(api, "ssh"),
                                                                 "inputs": {}}).json,
    }[kind]()
    page = ui.get(f"/ui/{kind}/{made['id']}")
    assert page.status_code == 200 and f'href="/ui/{kind}/{made["id"]}/delete"' in page.text
    ask = ui.get(f"/ui/{kind}/{made['id']}/delete")
    assert ask.status_code == 200 and f"“{made['name']}”?</h1>" in ask.text
    api_path = f"/api/v2/{kind}/{made['id']}/"
    assert api.get(api_path).status_code == 200                       # the question deleted nothing
    action, _cancel = _confirm_form(ask.text)
    assert ui.post(action, {}).status_code == 302
    assert api.get(api_path).status_code == 404


def test_a_user_who_may_not_delete_gets_403_before_the_question(app, ui, api, stage):
    inv = make_inventory(api, stage["org"], ("h1",))
    reader = make_user(api, app, uniq("reader"))
    role = inv["summary_fields"]["object_roles"]["read_role"]["id"]
    assert api.post(f"/api/v2/users/{reader.user_id}/roles/", {"id": role}).status_code == 204
    page = reader.get(f"/ui/inventories/{inv['id']}")
    assert page.status_code == 200 and 'data-action="delete"' not in page.text
    ask = reader.get(f"/ui/inventories/{inv['id']}/delete")
    assert ask.status_code == 403 and "<h1>Permission denied</h1>" in ask.text and "confirm-delete" not in ask.text
    assert reader.post(f"/ui/inventories/{inv['id']}/delete", {}).status_code == 403
    assert api.one(f"/api/v2/inventories/{inv['id']}/")["id"] == inv["id"]


def test_a_workflow_template_asks_first_naming_its_nodes(ui, api, stage):
    inv = make_inventory(api, stage["org"], ("h1",))
    jt = make_jt(api, stage["project"], inv, "play.yml")
    wf = api.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": stage["org"]["id"]}).json
    node = api.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/", {"unified_job_template": jt["id"]})
    assert node.status_code == 201, node.text
    page = ui.get(f"/ui/workflow_templates/{wf['id']}")
    assert f'href="/ui/workflow_templates/{wf["id"]}/delete" data-action="delete"' in page.text
    ask = ui.get(f"/ui/workflow_templates/{wf['id']}/delete")
    assert f"Delete workflow job template “{wf['name']}”?" in ask.text and ">1 workflow node</li>" in ask.text
    assert api.get(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 200
    action, cancel = _confirm_form(ask.text)
    assert cancel == f"/ui/workflow_templates/{wf['id']}"
    assert ui.post(action, {}).status_code == 302
    assert api.get(f"/api/v2/workflow_job_templates/{wf['id']}/").status_code == 404

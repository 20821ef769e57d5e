"""Job template pages (test client): the create / edit form with run options, credentials,
labels and ask-on-launch switches, checked against the API's state; the template's page with
recent jobs and schedules; refusals for a user without the rights."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import make_credential, make_inventory, make_org, make_project, type_id, uniq, wait_job

from .page_client import field_error, input_value, make_user, page_fixtures, textarea_value

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hi}\n"


app, api, ui = page_fixtures(jobs=True)


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    machine = type_id(api, "ssh")
    return {"org": org,
            "project": make_project(api, app.data_dir, org, {"play.yml": PLAY, "other.yml": PLAY}),
            "project2": make_project(api, app.data_dir, org, {"second.yml": PLAY}),
            "inventory": make_inventory(api, org, ("local-1",)),
            "cred": make_credential(api, org, machine, {"username": "u1"}),
            "cred2": make_credential(api, org, machine, {"username": "u2"})}


def _form(stage, name: str, **extra) -> list[tuple[str, str]]:
    base = {"name": name, "description": "made in the UI", "job_type": "run",
            "project": str(stage["project"]["id"]), "inventory": str(stage["inventory"]["id"]),
            "playbook": "play.yml", "forks": "5", "verbosity": "2", "limit": "", "extra_vars": "---\ncolour: blue\n",
            "timeout": "0", "job_slice_count": "1"}
    base.update(extra)
    return list(base.items())


def _by_name(api, name: str) -> dict | None:
    found = api.one(f"/api/v2/job_templates/?name={name}")["results"]
    return found[0] if found else None


def test_the_new_form_offers_the_projects_playbooks(ui, stage):
    page = ui.get(f"/ui/templates/new?project={stage['project2']['id']}")
    assert page.status_code == 200
    select = re.search(r'<select id="f-playbook".*?</select>', page.text, re.S).group(0)
    assert "second.yml" in select and "play.yml" not in select
    assert 'name="credentials"' in page.text and 'id="f-ask_limit_on_launch"' in page.text
    assert "<title>New job template | Templates | Turret</title>" in page.text


def test_create_stores_options_credentials_labels_and_switches(ui, api, stage):
    name = uniq("jt-ui")
    resp = ui.post("/ui/templates/new", _form(stage, name, ask_limit_on_launch="on", become_enabled="on",
                                              labels="web, nightly, web")
                   + [("credentials", str(stage["cred"]["id"]))])
    assert resp.status_code == 302, resp.text
    jt = _by_name(api, name)
    assert resp.headers["Location"] == f"/ui/templates/{jt['id']}"
    assert (jt["forks"], jt["verbosity"], jt["playbook"], jt["description"]) == (5, 2, "play.yml", "made in the UI")
    assert jt["ask_limit_on_launch"] is True and jt["become_enabled"] is True and jt["ask_inventory_on_launch"] is False
    assert "colour: blue" in jt["extra_vars"]
    creds = api.one(f"/api/v2/job_templates/{jt['id']}/credentials/")["results"]
    assert [c["id"] for c in creds] == [stage["cred"]["id"]]
    labels = api.one(f"/api/v2/job_templates/{jt['id']}/labels/")["results"]
    assert sorted(lab["name"] for lab in labels) == ["nightly", "web"]


def test_a_refused_save_keeps_what_was_typed_and_stores_nothing(ui, api, stage):
    name = uniq("jt-bad")
    resp = ui.post("/ui/templates/new", _form(stage, name, playbook="missing.yml", limit="web*",
                                              labels="kept-label"))
    assert resp.status_code == 400
    assert "Playbook not found for project." in field_error(resp.text, "playbook")
    assert input_value(resp.text, "name") == name and textarea_value(resp.text, "limit") == "web*"
    assert input_value(resp.text, "labels") == "kept-label"
    assert _by_name(api, name) is None


def test_a_refused_credential_rolls_the_template_back(ui, api, stage):
    name = uniq("jt-two-machines")
    resp = ui.post("/ui/templates/new", _form(stage, name) + [("credentials", str(stage["cred"]["id"])),
                                                              ("credentials", str(stage["cred2"]["id"]))])
    assert resp.status_code == 400
    assert "Cannot assign multiple" in field_error(resp.text, "credentials")
    assert _by_name(api, name) is None                 # the template itself was rolled back
    chosen = re.search(r'<select id="f-credentials".*?</select>', resp.text, re.S).group(0)
    assert chosen.count("selected") == 2               # both picks are still shown


def test_edit_replaces_credentials_and_labels(ui, api, stage):
    name = uniq("jt-edit")
    ui.post("/ui/templates/new", _form(stage, name, labels="a, b") + [("credentials", str(stage["cred"]["id"]))])
    jt = _by_name(api, name)
    form = ui.get(f"/ui/templates/{jt['id']}/edit")
    assert input_value(form.text, "labels") == "a, b"
    resp = ui.post(f"/ui/templates/{jt['id']}/edit", _form(stage, name, playbook="other.yml", labels="b, c",
                                                           forks="7") + [("credentials", str(stage["cred2"]["id"]))])
    assert resp.status_code == 302, resp.text
    jt = api.one(f"/api/v2/job_templates/{jt['id']}/")
    assert (jt["playbook"], jt["forks"]) == ("other.yml", 7)
    assert [c["id"] for c in api.one(f"/api/v2/job_templates/{jt['id']}/credentials/")["results"]] == \
        [stage["cred2"]["id"]]
    assert sorted(lab["name"] for lab in api.one(f"/api/v2/job_templates/{jt['id']}/labels/")["results"]) == ["b", "c"]


def test_load_playbooks_re_renders_without_saving(ui, api, stage):
    name = uniq("jt-refresh")
    resp = ui.post("/ui/templates/new", _form(stage, name, project=str(stage["project2"]["id"]), refresh="playbooks"))
    assert resp.status_code == 200 and _by_name(api, name) is None
    select = re.search(r'<select id="f-playbook".*?</select>', resp.text, re.S).group(0)
    assert "second.yml" in select and input_value(resp.text, "name") == name


@pytest.mark.slow
def test_the_template_page_shows_recent_jobs_and_schedules(ui, api, stage):
    name = uniq("jt-page")
    ui.post("/ui/templates/new", _form(stage, name))
    jt = _by_name(api, name)
    job = api.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}).json
    wait_job(api, job["id"], timeout=90)
    sched = api.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "nightly", "cron": "0 3 * * *"})
    assert sched.status_code == 201, sched.text
    page = ui.get(f"/ui/templates/{jt['id']}")
    assert page.status_code == 200 and f"<h1>{name}</h1>" in page.text
    assert f'<a href="/ui/jobs/{job["id"]}"><rect' in page.text and 'data-status="successful"' in page.text
    assert f'href="/ui/schedules/{sched.json["id"]}">nightly</a>' in page.text
    assert 'data-action="launch"' in page.text and 'data-action="delete"' in page.text


def test_a_user_without_edit_rights_sees_no_edit_button_and_is_refused(app, ui, api, stage):
    name = uniq("jt-locked")
    ui.post("/ui/templates/new", _form(stage, name))
    jt = _by_name(api, name)
    runner = make_user(api, app, uniq("runner"))
    role = api.one(f"/api/v2/job_templates/{jt['id']}/object_roles/?role_field=execute_role")["results"][0]
    assert api.post(f"/api/v2/users/{runner.user_id}/roles/", {"id": role["id"]}).status_code == 204
    page = runner.get(f"/ui/templates/{jt['id']}")
    assert page.status_code == 200 and 'data-action="launch"' in page.text
    assert 'data-action="delete"' not in page.text and f"/ui/templates/{jt['id']}/edit" not in page.text
    refused = runner.post(f"/ui/templates/{jt['id']}/edit", _form(stage, name, forks="9"))
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert runner.post(f"/ui/templates/{jt['id']}/delete").status_code == 403
    assert api.one(f"/api/v2/job_templates/{jt['id']}/")["forks"] == 5


def test_delete_removes_the_template(ui, api, stage):
    name = uniq("jt-gone")
    ui.post("/ui/templates/new", _form(stage, name))
    jt = _by_name(api, name)
    resp = ui.post(f"/ui/templates/{jt['id']}/delete")
    assert resp.status_code == 302 and api.get(f"/api/v2/job_templates/{jt['id']}/").status_code == 404


def test_copy_makes_a_new_template_with_the_credentials_and_labels(ui, api, stage):
    name = uniq("jt-original")
    ui.post("/ui/templates/new", _form(stage, name, labels="x") + [("credentials", str(stage["cred"]["id"]))])
    jt = _by_name(api, name)
    assert 'data-action="copy"' in ui.get(f"/ui/templates/{jt['id']}").text
    resp = ui.post(f"/ui/templates/{jt['id']}/copy")
    assert resp.status_code == 302
    new_id = int(resp.headers["Location"].split("/")[-2])
    copy = api.one(f"/api/v2/job_templates/{new_id}/")
    assert copy["id"] != jt["id"] and copy["name"].startswith(f"{name} @ ") and copy["playbook"] == "play.yml"
    assert [c["id"] for c in api.one(f"/api/v2/job_templates/{new_id}/credentials/")["results"]] == \
        [stage["cred"]["id"]]


def test_a_refused_label_is_shown_beside_the_labels_and_rolls_back(ui, api, stage):
    name = uniq("jt-long-label")
    resp = ui.post("/ui/templates/new", _form(stage, name, labels="ok, " + "x" * 600))
    assert resp.status_code == 400
    assert "512" in field_error(resp.text, "labels")
    assert _by_name(api, name) is None
    assert api.one("/api/v2/labels/?name=ok")["count"] == 0          # the first label was rolled back too

"""The schedule form's credential and label pickers (test client, no script): offered when the
picked template asks for them, a save stores the picked ids in the schedule's sub-lists (as the
API's attach would), an edit shows and changes them, and a credential the API refuses saves
nothing and is explained beside its picker."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import make_credential, make_inventory, make_jt, make_org, make_project, type_id, uniq

from .page_client import page_fixtures

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

app, api, ui = page_fixtures()


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    machine = type_id(api, "ssh")
    project = make_project(api, app.data_dir, org, {"play.yml": PLAY})
    inventory = make_inventory(api, org, ("local-1",))
    st = {"org": org, "own": make_credential(api, org, machine, {"username": "alice"}),
          "other": make_credential(api, org, machine, {"username": "bob"}),
          "asks": make_credential(api, org, machine, {"username": "carol", "password": "ASK"}),
          "labels": [api.post("/api/v2/labels/", {"name": uniq(n), "organization": org["id"]}).json
                     for n in ("red", "blue")]}
    st["jt"] = make_jt(api, project, inventory, "play.yml", ask_credential_on_launch=True, ask_labels_on_launch=True)
    assert api.post(f"/api/v2/job_templates/{st['jt']['id']}/credentials/", {"id": st["own"]["id"]}).status_code == 204
    st["plain"] = make_jt(api, project, inventory, "play.yml")
    # the labels stay in use on a template of their own: a detach that leaves a label attached to
    # nothing deletes it (AWX), and these tests attach and detach them again and again
    anchor = make_jt(api, project, inventory, "play.yml")
    for label in st["labels"]:
        assert api.post(f"/api/v2/job_templates/{anchor['id']}/labels/", {"id": label["id"]}).status_code == 204
    return st


def form(jt_id: int, name: str, picks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    base = {"name": name, "description": "", "unified_job_template": str(jt_id), "enabled": "on", "op": "save",
            "schedule_type": "cron", "cron": "0 3 * * *", "interval": "", "interval_type": "hours", "date": "",
            "rrule": "", "timezone": "UTC", "start_time": "", "end_time": "", "extra_data": ""}
    return [*base.items(), *picks]


def selected(html: str, name: str) -> list[int]:
    found = re.search(rf'<select id="p-{name}" name="{name}" multiple.*?</select>', html, re.S)
    assert found, f"no picker for {name}"
    return [int(v) for v in re.findall(r'<option value="(\d+)" selected>', found.group(0))]


def sub_list(api, sched_id: int, sub: str) -> list[int]:
    return sorted(o["id"] for o in api.one(f"/api/v2/schedules/{sched_id}/{sub}/")["results"])


def test_the_form_offers_pickers_only_when_the_template_asks(ui, stage):
    page = ui.get(f"/ui/schedules/new?unified_job_template={stage['jt']['id']}")
    assert page.status_code == 200 and 'id="unstored-prompts"' not in page.text
    assert selected(page.text, "credentials") == [] and selected(page.text, "labels") == []
    assert "None picked: the template&#39;s own." in page.text or "None picked: the template's own." in page.text
    plain = ui.get(f"/ui/schedules/new?unified_job_template={stage['plain']['id']}")
    assert 'id="p-credentials"' not in plain.text and 'id="p-labels"' not in plain.text
    frag = ui.get(f"/ui/schedules/prompts?unified_job_template={stage['jt']['id']}")
    assert 'id="p-credentials"' in frag.text and 'name="labels__shown"' in frag.text


def test_a_saved_schedule_stores_the_picked_credentials_and_labels(ui, api, stage):
    name = uniq("sched-picks")
    red, blue = (lab["id"] for lab in stage["labels"])
    picks = [("credentials__shown", "1"), ("credentials", str(stage["other"]["id"])),
             ("labels__shown", "1"), ("labels", str(red)), ("labels", str(blue))]
    saved = ui.post("/ui/schedules/new", form(stage["jt"]["id"], name, picks))
    assert saved.status_code == 302, saved.text
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    assert sub_list(api, sched["id"], "credentials") == [stage["other"]["id"]]
    assert sub_list(api, sched["id"], "labels") == sorted([red, blue])

    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert selected(page.text, "credentials") == [stage["other"]["id"]]
    assert sorted(selected(page.text, "labels")) == sorted([red, blue])
    # an edit: the template's own credential adds nothing, an emptied label picker clears them
    picks = [("credentials__shown", "1"), ("credentials", str(stage["own"]["id"])), ("labels__shown", "1")]
    again = ui.post(f"/ui/schedules/{sched['id']}", form(stage["jt"]["id"], name, picks))
    assert again.status_code == 302, again.text
    assert sub_list(api, sched["id"], "credentials") == [] and sub_list(api, sched["id"], "labels") == []


def test_a_refused_credential_saves_nothing_and_is_shown_beside_its_picker(ui, api, stage):
    name = uniq("sched-refused")
    before = api.one("/api/v2/schedules/")["count"]
    picks = [("credentials__shown", "1"), ("credentials", str(stage["asks"]["id"]))]
    resp = ui.post("/ui/schedules/new", form(stage["jt"]["id"], name, picks))
    assert resp.status_code == 400
    assert re.search(r'<p class="field-error" id="err-credentials" role="alert">Credential that requires user '
                     r'input on launch cannot be used in saved launch configuration.</p>', resp.text)
    assert selected(resp.text, "credentials") == [stage["asks"]["id"]]          # as posted
    assert api.one("/api/v2/schedules/")["count"] == before


def test_moving_to_a_template_that_does_not_ask_empties_the_lists(ui, api, stage):
    name = uniq("sched-move")
    picks = [("labels__shown", "1"), ("labels", str(stage["labels"][0]["id"]))]
    assert ui.post("/ui/schedules/new", form(stage["jt"]["id"], name, picks)).status_code == 302
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    assert sub_list(api, sched["id"], "labels") == [stage["labels"][0]["id"]]
    moved = ui.post(f"/ui/schedules/{sched['id']}", form(stage["plain"]["id"], name, []))
    assert moved.status_code == 302, moved.text
    assert sub_list(api, sched["id"], "labels") == []


def test_the_label_picker_shows_the_templates_labels_as_always_included(ui, api, stage):
    """Labels are additive (AWX): a fired schedule's job has the template's labels and the
    schedule's, so the picker lists the template's as fixed and offers only the others."""
    red, blue = stage["labels"]
    jt = make_jt(api, api.one(stage["jt"]["related"]["project"]), api.one(stage["jt"]["related"]["inventory"]),
                 "play.yml", ask_labels_on_launch=True)
    assert api.post(f"/api/v2/job_templates/{jt['id']}/labels/", {"id": red["id"]}).status_code == 204
    page = ui.get(f"/ui/schedules/new?unified_job_template={jt['id']}")
    assert page.status_code == 200
    picker = re.search(r'<select id="p-labels" name="labels" multiple.*?</select>', page.text, re.S)
    assert picker and f'value="{blue["id"]}"' in picker.group(0) and f'value="{red["id"]}"' not in picker.group(0)
    fixed = re.search(r'<p class="picker-fixed" id="p-labels-fixed">([^<]*)</p>', page.text)
    assert fixed and red["name"] in fixed.group(1)
    assert "Labels to add to the template&#39;s" in page.text or "Labels to add to the template's" in page.text

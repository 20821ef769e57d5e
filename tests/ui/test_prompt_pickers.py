"""Launch prompts in the forms (test client, no script): the list prompts (credentials, labels,
instance groups) get a picker of what the user may use, and a launch with picked ids gives a job
with those (labels added to the template's own, which the picker shows as always included); the
schedule form's prompts follow the template picked ("Load prompts"
re-renders with everything typed kept; a save stores the new template's prompts)."""
from __future__ import annotations

import json
import re

import pytest

from tests.support.jobs import (attach_credential, make_credential, make_inventory, make_jt, make_org, make_project,
                                type_id, uniq, wait_job)

from .page_client import input_value, page_fixtures, textarea_value

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

app, api, ui = page_fixtures(jobs=True)


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    machine = type_id(api, "ssh")
    st = {"org": org, "project": make_project(api, app.data_dir, org, {"play.yml": PLAY}),
          "inventory": make_inventory(api, org, ("local-1",)),
          "cred_a": make_credential(api, org, machine, {"username": "alice"}),
          "cred_b": make_credential(api, org, machine, {"username": "bob"}),
          "labels": [api.post("/api/v2/labels/", {"name": uniq(n), "organization": org["id"]}).json
                     for n in ("red", "blue", "green")]}
    return st


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select id="p-{name}" name="{name}" multiple.*?</select>', html, re.S)
    assert found, f"no picker for {name}"
    return found.group(0)


def _selected(select_html: str) -> list[int]:
    return [int(v) for v in re.findall(r'<option value="(\d+)" selected>', select_html)]


def _asking_jt(api, stage, **asks):
    jt = make_jt(api, stage["project"], stage["inventory"], "play.yml", **asks)
    attach_credential(api, jt, stage["cred_a"])
    api.post(f"/api/v2/job_templates/{jt['id']}/labels/", {"id": stage["labels"][0]["id"]})
    return jt


def test_the_launch_form_offers_pickers_with_the_templates_own_picked(ui, api, stage):
    jt = _asking_jt(api, stage, ask_credential_on_launch=True, ask_labels_on_launch=True,
                    ask_instance_groups_on_launch=True)
    page = ui.get(f"/ui/templates/{jt['id']}/launch")
    assert page.status_code == 200
    creds = _select(page.text, "credentials")
    assert f'value="{stage["cred_b"]["id"]}"' in creds and re.search(r'<optgroup label="Machine">', creds)
    assert _selected(creds) == [stage["cred_a"]["id"]]
    # labels are additive: the template's own is shown as always included, not offered to pick;
    # the others are offered, none picked yet
    labels = _select(page.text, "labels")
    assert f'value="{stage["labels"][0]["id"]}"' not in labels
    assert all(f'value="{lab["id"]}"' in labels for lab in stage["labels"][1:])
    assert _selected(labels) == []
    fixed = re.search(r'<p class="picker-fixed" id="p-labels-fixed">([^<]*)</p>', page.text)
    assert fixed and stage["labels"][0]["name"] in fixed.group(1) and "Always included" in fixed.group(1)
    assert 'aria-describedby="p-labels-fixed p-labels-help"' in page.text
    assert "Labels to add to the template&#39;s" in page.text
    groups = _select(page.text, "instance_groups")
    default_group = api.one("/api/v2/instance_groups/?name=default")["results"][0]
    assert f'value="{default_group["id"]}"' in groups
    for key in ("credentials", "labels", "instance_groups"):
        assert f'<label for="p-{key}">' in page.text and f'name="{key}__shown"' in page.text


def test_a_launch_with_picked_credentials_and_labels_gives_a_job_with_those_and_the_templates_labels(ui, api,
                                                                                                    stage):
    jt = _asking_jt(api, stage, ask_credential_on_launch=True, ask_labels_on_launch=True)
    picked_labels = [stage["labels"][1]["id"], stage["labels"][2]["id"]]
    resp = ui.post(f"/ui/templates/{jt['id']}/launch",
                   [("credentials__shown", "1"), ("credentials", str(stage["cred_b"]["id"])),
                    ("labels__shown", "1")] + [("labels", str(pk)) for pk in picked_labels])
    assert resp.status_code == 302, resp.text
    job_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert wait_job(api, job_id)["status"] == "successful"
    creds = api.one(f"/api/v2/jobs/{job_id}/credentials/")["results"]
    assert [c["id"] for c in creds] == [stage["cred_b"]["id"]]
    labels = api.one(f"/api/v2/jobs/{job_id}/labels/")["results"]
    assert sorted(lab["id"] for lab in labels) == sorted([stage["labels"][0]["id"], *picked_labels])
    # the template itself keeps its own
    assert [c["id"] for c in api.one(f"/api/v2/job_templates/{jt['id']}/credentials/")["results"]] == \
        [stage["cred_a"]["id"]]


def test_an_emptied_label_picker_and_an_untouched_form_both_keep_the_templates_labels(ui, api, stage):
    jt = _asking_jt(api, stage, ask_labels_on_launch=True)
    resp = ui.post(f"/ui/templates/{jt['id']}/launch", [("labels__shown", "1")])
    assert resp.status_code == 302, resp.text
    job_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert [lab["id"] for lab in api.one(f"/api/v2/jobs/{job_id}/labels/")["results"]] == [stage["labels"][0]["id"]]
    wait_job(api, job_id)
    kept = ui.post(f"/ui/templates/{jt['id']}/launch", [])
    kept_id = int(kept.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert [lab["id"] for lab in api.one(f"/api/v2/jobs/{kept_id}/labels/")["results"]] == [stage["labels"][0]["id"]]
    wait_job(api, kept_id)


def test_dropping_the_machine_credential_is_refused_beside_the_picker(ui, api, stage):
    jt = _asking_jt(api, stage, ask_credential_on_launch=True)
    before = api.one(f"/api/v2/jobs/?job_template={jt['id']}")["count"]
    resp = ui.post(f"/ui/templates/{jt['id']}/launch", [("credentials__shown", "1")])
    assert resp.status_code == 400
    assert re.search(r'<p class="field-error" id="err-credentials" role="alert">[^<]*Machine', resp.text)
    assert _selected(_select(resp.text, "credentials")) == []                # as posted
    assert api.one(f"/api/v2/jobs/?job_template={jt['id']}")["count"] == before


# -- schedules ---------------------------------------------------------------------------------
def _schedule_form(jt_id: int, name: str, op: str = "save", **more) -> dict:
    return {"name": name, "description": "", "unified_job_template": str(jt_id), "enabled": "on", "op": op,
            "schedule_type": "cron", "cron": "0 3 * * *", "interval": "", "interval_type": "hours", "date": "",
            "rrule": "", "timezone": "UTC", "start_time": "", "end_time": "", "extra_data": "", **more}


@pytest.fixture(scope="module")
def two_templates(api, stage):
    limit_jt = make_jt(api, stage["project"], stage["inventory"], "play.yml", ask_limit_on_launch=True)
    other = make_jt(api, stage["project"], stage["inventory"], "play.yml", ask_job_type_on_launch=True,
                    ask_variables_on_launch=True, ask_credential_on_launch=True)
    return limit_jt, other


def test_load_prompts_re_renders_for_the_picked_template_keeping_what_was_typed(ui, api, two_templates):
    limit_jt, other = two_templates
    first = ui.get(f"/ui/schedules/new?unified_job_template={limit_jt['id']}")
    assert 'id="f-limit"' in first.text and 'id="f-job_type"' not in first.text
    assert 'data-action="load-prompts"' in first.text
    name = uniq("sched-switch")
    count = api.one("/api/v2/schedules/")["count"]
    again = ui.post("/ui/schedules/new", _schedule_form(other["id"], name, op="prompts", limit="web*",
                                                        extra_data='{"colour": "blue"}'))
    assert again.status_code == 200
    assert 'id="f-job_type"' in again.text and 'id="f-limit"' not in again.text
    assert input_value(again.text, "name") == name and input_value(again.text, "cron") == "0 3 * * *"
    assert json.loads(textarea_value(again.text, "extra_data").replace("&#34;", '"')) == {"colour": "blue"}
    assert 'id="p-credentials"' in again.text and 'id="unstored-prompts"' not in again.text
    assert api.one("/api/v2/schedules/")["count"] == count                    # nothing saved
    saved = ui.post("/ui/schedules/new", _schedule_form(other["id"], name, job_type="check",
                                                        extra_data='{"colour": "blue"}'))
    assert saved.status_code == 302, saved.text
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    assert sched["unified_job_template"] == other["id"] and sched["job_type"] == "check"
    assert sched["extra_data"] == {"colour": "blue"} and sched["limit"] is None


def test_switching_a_schedules_template_clears_the_prompts_the_new_one_does_not_ask(ui, api, two_templates):
    limit_jt, other = two_templates
    name = uniq("sched-move")
    assert ui.post("/ui/schedules/new", _schedule_form(limit_jt["id"], name, limit="db*")).status_code == 302
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    assert sched["limit"] == "db*"
    moved = ui.post(f"/ui/schedules/{sched['id']}", _schedule_form(other["id"], name, job_type="check"))
    assert moved.status_code == 302, moved.text
    sched = api.one(f"/api/v2/schedules/{sched['id']}/")
    assert sched["unified_job_template"] == other["id"] and sched["limit"] is None and sched["job_type"] == "check"


def test_the_prompts_fragment_follows_the_template_and_the_schedules_values(ui, api, two_templates):
    limit_jt, other = two_templates
    name = uniq("sched-frag")
    ui.post("/ui/schedules/new", _schedule_form(limit_jt["id"], name, limit="app*"))
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    frag = ui.get(f"/ui/schedules/prompts?unified_job_template={limit_jt['id']}&schedule={sched['id']}")
    assert frag.status_code == 200 and "<html" not in frag.text and textarea_value(frag.text, "limit") == "app*"
    frag = ui.get(f"/ui/schedules/prompts?unified_job_template={other['id']}")
    assert 'id="f-job_type"' in frag.text and 'id="f-limit"' not in frag.text
    assert ui.get("/ui/schedules/prompts?unified_job_template=999999").text.strip() == ""


SURVEY = {"name": "s", "description": "d", "spec": [
    {"question_name": "How many", "variable": "count", "type": "integer", "required": False, "min": 0, "max": 9},
    {"question_name": "Sizes", "variable": "sizes", "type": "multiselect", "required": False,
     "choices": ["s", "m", "l"]},
    {"question_name": "Token", "variable": "token", "type": "password", "required": False}]}


def test_a_surveys_answers_are_offered_and_stored_in_extra_data(ui, api, stage, two_templates):
    limit_jt, _other = two_templates
    surveyed = make_jt(api, stage["project"], stage["inventory"], "play.yml", ask_variables_on_launch=True)
    assert api.post(f"/api/v2/job_templates/{surveyed['id']}/survey_spec/", SURVEY).status_code == 200
    assert api.patch(f"/api/v2/job_templates/{surveyed['id']}/", {"survey_enabled": True}).status_code == 200
    name = uniq("sched-survey")
    loaded = ui.post("/ui/schedules/new", _schedule_form(surveyed["id"], name, op="prompts", limit="x"))
    assert 'id="f-survey__count"' in loaded.text and 'name="survey__sizes" value="m"' in loaded.text
    saved = ui.post("/ui/schedules/new", [*_schedule_form(surveyed["id"], name, extra_data='{"colour": "red"}').items(),
                                          ("survey__count", "3"), ("survey__sizes", "s"), ("survey__sizes", "l"),
                                          ("survey__token", "s3cret")])
    assert saved.status_code == 302, saved.text
    sched = api.one(f"/api/v2/schedules/?name={name}")["results"][0]
    assert sched["extra_data"] == {"colour": "red", "count": 3, "sizes": ["s", "l"], "token": "$encrypted$"}
    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert input_value(page.text, "survey__count") == "3" and "s3cret" not in page.text
    assert json.loads(textarea_value(page.text, "extra_data").replace("&#34;", '"')) == {"colour": "red"}
    # a re-save with the password left empty keeps the stored one; an emptied answer is dropped
    again = ui.post(f"/ui/schedules/{sched['id']}", [*_schedule_form(surveyed["id"], name,
                                                                     extra_data='{"colour": "red"}').items(),
                                                     ("survey__count", ""), ("survey__sizes", "m")])
    assert again.status_code == 302, again.text
    assert api.one(f"/api/v2/schedules/{sched['id']}/")["extra_data"] == {"colour": "red", "sizes": ["m"],
                                                                           "token": "$encrypted$"}

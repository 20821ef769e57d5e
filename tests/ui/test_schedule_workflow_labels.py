"""A workflow job template's schedule in the schedule form (test client, no script): the workflow
is offered among what a schedule runs, its label picker appears when it asks for labels on
launch (and only then), an edit preselects the schedule's labels, and a save attaches and
detaches exactly the difference through the API's association (activity stream, and a label
left attached to nothing is deleted, as through the API)."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import make_credential, make_inventory, make_jt, make_org, make_project, type_id, uniq

from .page_client import page_fixtures

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

app, api, ui = page_fixtures()


def _label(api, org: dict, name: str) -> dict:
    resp = api.post("/api/v2/labels/", {"name": uniq(name), "organization": org["id"]})
    assert resp.status_code == 201, resp.text
    return resp.json


def _workflow(api, org: dict, asks: bool) -> dict:
    resp = api.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"],
                                                         "ask_labels_on_launch": asks})
    assert resp.status_code == 201, resp.text
    return resp.json


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    st = {"org": org, "asks": _workflow(api, org, True), "silent": _workflow(api, org, False),
          "labels": {n: _label(api, org, n) for n in ("red", "blue", "green", "own")}}
    # the workflow's own label: always on its jobs, so the picker lists it as fixed, not offered
    own = st["labels"]["own"]
    assert api.post(f"/api/v2/workflow_job_templates/{st['asks']['id']}/labels/", {"id": own["id"]}).status_code == 204
    # red, blue and green stay in use on a template of their own: a detach leaving a label
    # attached to nothing deletes it, and these tests attach and detach them again and again
    keeper = _workflow(api, org, False)
    for name in ("red", "blue", "green"):
        assert api.post(f"/api/v2/workflow_job_templates/{keeper['id']}/labels/",
                        {"id": st["labels"][name]["id"]}).status_code == 204
    return st


def form(template_id: int, name: str, picks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    base = {"name": name, "description": "", "unified_job_template": str(template_id), "enabled": "on",
            "op": "save", "schedule_type": "cron", "cron": "0 4 * * *", "interval": "", "interval_type": "hours",
            "date": "", "rrule": "", "timezone": "UTC", "start_time": "", "end_time": "", "extra_data": ""}
    return [*base.items(), *picks]


def label_picks(*ids: int) -> list[tuple[str, str]]:
    return [("labels__shown", "1"), *(("labels", str(i)) for i in ids)]


def picker(html: str, name: str) -> str:
    found = re.search(rf'<select id="p-{name}" name="{name}" multiple.*?</select>', html, re.S)
    assert found, f"no picker for {name}"
    return found.group(0)


def selected(html: str, name: str) -> list[int]:
    return sorted(int(v) for v in re.findall(r'<option value="(\d+)" selected>', picker(html, name)))


def chosen_template(html: str) -> str:
    select = re.search(r'<select name="unified_job_template" id="f-unified_job_template".*?</select>', html, re.S)
    assert select, "no template select"
    found = re.search(r'<option value="(\d+)" selected>([^<]*)</option>', select.group(0))
    assert found, "no template selected"
    return f"{found.group(1)} {found.group(2)}"


def stored_labels(api, sched_id: int) -> list[int]:
    return sorted(o["id"] for o in api.one(f"/api/v2/schedules/{sched_id}/labels/")["results"])


def schedule_named(api, name: str) -> dict:
    found = api.one(f"/api/v2/schedules/?name={name}")["results"]
    assert len(found) == 1, found
    return found[0]


def test_the_label_picker_is_offered_only_when_the_workflow_asks(ui, stage):
    asks, silent, labels = stage["asks"], stage["silent"], stage["labels"]
    page = ui.get(f"/ui/schedules/new?unified_job_template={asks['id']}")
    assert page.status_code == 200
    assert chosen_template(page.text) == f"{asks['id']} Workflow: {asks['name']}"
    assert selected(page.text, "labels") == [] and 'name="labels__shown"' in page.text
    # a workflow asks for no credentials nor instance groups, and no field prompt is offered
    assert 'id="p-credentials"' not in page.text and 'id="p-instance_groups"' not in page.text
    assert 'id="f-limit"' not in page.text and 'id="f-inventory"' not in page.text
    offered = picker(page.text, "labels")
    assert all(f'value="{labels[n]["id"]}"' in offered for n in ("red", "blue", "green"))
    assert f'value="{labels["own"]["id"]}"' not in offered
    fixed = re.search(r'<p class="picker-fixed" id="p-labels-fixed">([^<]*)</p>', page.text)
    assert fixed and labels["own"]["name"] in fixed.group(1)

    plain = ui.get(f"/ui/schedules/new?unified_job_template={silent['id']}")
    assert plain.status_code == 200 and chosen_template(plain.text) == f"{silent['id']} Workflow: {silent['name']}"
    assert 'id="p-labels"' not in plain.text and 'name="labels__shown"' not in plain.text
    # the fragment the script swaps in when the template changes follows the same flags
    frag = ui.get(f"/ui/schedules/prompts?unified_job_template={asks['id']}")
    assert frag.status_code == 200 and 'name="labels__shown"' in frag.text and 'id="p-credentials"' not in frag.text
    quiet = ui.get(f"/ui/schedules/prompts?unified_job_template={silent['id']}")
    assert quiet.status_code == 200 and 'id="p-labels"' not in quiet.text


def test_create_and_edit_store_exactly_the_picked_labels(ui, api, stage):
    asks, labels = stage["asks"], stage["labels"]
    red, blue, green = (labels[n]["id"] for n in ("red", "blue", "green"))
    name = uniq("wf-sched")
    saved = ui.post("/ui/schedules/new", form(asks["id"], name, label_picks(red, blue)))
    assert saved.status_code == 302, saved.text
    sched = schedule_named(api, name)
    assert sched["unified_job_template"] == asks["id"]
    assert sched["summary_fields"]["unified_job_template"]["unified_job_type"] == "workflow_job"
    assert stored_labels(api, sched["id"]) == sorted([red, blue])

    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert page.status_code == 200
    assert selected(page.text, "labels") == sorted([red, blue])
    # the edit form keeps the workflow picked (a re-save must not move the schedule elsewhere)
    assert chosen_template(page.text) == f"{asks['id']} Workflow: {asks['name']}"
    assert re.search(rf'<a href="/ui/workflow_templates/{asks["id"]}" id="schedule-template">', page.text)

    before = api.one(f"/api/v2/schedules/{sched['id']}/activity_stream/?order_by=id")["count"]
    again = ui.post(f"/ui/schedules/{sched['id']}", form(asks["id"], name, label_picks(blue, green)))
    assert again.status_code == 302, again.text
    assert stored_labels(api, sched["id"]) == sorted([blue, green])
    stream = api.one(f"/api/v2/schedules/{sched['id']}/activity_stream/?order_by=id&page_size=50")
    moves = [(e["operation"], e["object2"], e["object_association"]) for e in stream["results"][before:]
             if e["operation"] in ("associate", "disassociate")]
    # exactly the difference: red detached, green attached; blue untouched
    assert moves == [("disassociate", "label", "labels"), ("associate", "label", "labels")]
    assert api.one(f"/api/v2/labels/{red}/")["id"] == red          # still used by another template

    emptied = ui.post(f"/ui/schedules/{sched['id']}", form(asks["id"], name, label_picks()))
    assert emptied.status_code == 302, emptied.text
    assert stored_labels(api, sched["id"]) == []


def test_a_label_left_attached_to_nothing_is_deleted_as_through_the_api(ui, api, stage):
    asks = stage["asks"]
    lonely = _label(api, stage["org"], "lonely")
    name = uniq("wf-lonely")
    assert ui.post("/ui/schedules/new", form(asks["id"], name, label_picks(lonely["id"]))).status_code == 302
    sched = schedule_named(api, name)
    assert stored_labels(api, sched["id"]) == [lonely["id"]]
    assert ui.post(f"/ui/schedules/{sched['id']}", form(asks["id"], name, label_picks())).status_code == 302
    assert stored_labels(api, sched["id"]) == []
    assert api.get(f"/api/v2/labels/{lonely['id']}/").status_code == 404


def test_moving_a_schedule_to_a_workflow_follows_the_workflows_flags(app, ui, api, stage):
    """From a job template asking credentials and labels to a workflow asking labels: the
    credentials (which a workflow cannot take) are emptied, the labels are the picked ones; then
    to a workflow that does not ask: the labels are emptied too."""
    org = stage["org"]
    project = make_project(api, app.data_dir, org, {"play.yml": PLAY})
    jt = make_jt(api, project, make_inventory(api, org, ("h1",)), "play.yml",
                 ask_credential_on_launch=True, ask_labels_on_launch=True)
    cred = make_credential(api, org, type_id(api, "ssh"), {"username": "dora"})
    red, blue = stage["labels"]["red"]["id"], stage["labels"]["blue"]["id"]
    name = uniq("jt-to-wf")
    picks = [("credentials__shown", "1"), ("credentials", str(cred["id"])), *label_picks(red)]
    assert ui.post("/ui/schedules/new", form(jt["id"], name, picks)).status_code == 302
    sched = schedule_named(api, name)
    assert [c["id"] for c in api.one(f"/api/v2/schedules/{sched['id']}/credentials/")["results"]] == [cred["id"]]

    # "Load prompts" for the workflow: its label picker, the schedule's labels picked, saves nothing
    load = [(k, "prompts" if k == "op" else v) for k, v in form(stage["asks"]["id"], name, [])]
    loaded = ui.post(f"/ui/schedules/{sched['id']}", load)
    assert loaded.status_code == 200 and selected(loaded.text, "labels") == [red]
    assert 'id="p-credentials"' not in loaded.text
    assert schedule_named(api, name)["unified_job_template"] == jt["id"]

    moved = ui.post(f"/ui/schedules/{sched['id']}", form(stage["asks"]["id"], name, label_picks(blue)))
    assert moved.status_code == 302, moved.text
    assert schedule_named(api, name)["unified_job_template"] == stage["asks"]["id"]
    assert api.one(f"/api/v2/schedules/{sched['id']}/credentials/")["count"] == 0
    assert stored_labels(api, sched["id"]) == [blue]

    quiet = ui.post(f"/ui/schedules/{sched['id']}", form(stage["silent"]["id"], name, []))
    assert quiet.status_code == 302, quiet.text
    assert stored_labels(api, sched["id"]) == []


def test_the_workflow_page_offers_to_add_a_schedule(ui, stage):
    page = ui.get(f"/ui/workflow_templates/{stage['asks']['id']}")
    assert page.status_code == 200
    assert f'href="/ui/schedules/new?unified_job_template={stage["asks"]["id"]}"' in page.text


def test_a_workflows_field_prompts_and_survey_are_offered_and_saved(ui, api, stage):
    """A workflow asking for a limit and carrying a survey: the form offers exactly its own field
    prompts (no job-template-only one such as verbosity) and its questions; a save stores them
    on the schedule as the API would."""
    org = stage["org"]
    wf = api.post("/api/v2/workflow_job_templates/", {"name": uniq("wf"), "organization": org["id"],
                                                       "ask_limit_on_launch": True}).json
    spec = [{"type": "text", "question_name": "Who", "question_description": "", "variable": "who",
             "required": True, "min": 0, "max": 10}]
    assert api.post(f"/api/v2/workflow_job_templates/{wf['id']}/survey_spec/",
                    {"name": "S", "description": "", "spec": spec}).status_code == 200
    assert api.patch(f"/api/v2/workflow_job_templates/{wf['id']}/", {"survey_enabled": True}).status_code == 200
    page = ui.get(f"/ui/schedules/new?unified_job_template={wf['id']}")
    assert page.status_code == 200
    assert 'id="f-limit"' in page.text and 'name="survey__who"' in page.text
    assert 'id="f-verbosity"' not in page.text and 'id="f-inventory"' not in page.text
    name = uniq("wfs")
    saved = ui.post("/ui/schedules/new", form(wf["id"], name, [("limit", "web*"), ("survey__who", "nightly")]))
    assert saved.status_code == 302, saved.text
    sched = schedule_named(api, name)
    assert (sched["limit"], sched["extra_data"]) == ("web*", {"who": "nightly"})


def test_an_edit_keeps_the_lists_the_page_has_no_picker_for(ui, api, stage):
    """A label attached through the API to the schedule of a workflow that does not ask for
    labels (AWX checks no flag there) survives a rename in the form: the page has no label
    picker, so the save leaves that list alone (emptying it would delete a label attached to
    nothing else)."""
    org, silent = stage["org"], stage["silent"]
    name = uniq("keep")
    assert ui.post("/ui/schedules/new", form(silent["id"], name, [])).status_code == 302
    sched = schedule_named(api, name)
    only_here = _label(api, org, "only-here")
    assert api.post(f"/api/v2/schedules/{sched['id']}/labels/", {"id": only_here["id"]}).status_code == 204
    renamed = ui.post(f"/ui/schedules/{sched['id']}", form(silent["id"], name + "-2", []))
    assert renamed.status_code == 302, renamed.text
    assert schedule_named(api, name + "-2")["id"] == sched["id"]
    assert stored_labels(api, sched["id"]) == [only_here["id"]]
    assert api.get(f"/api/v2/labels/{only_here['id']}/").status_code == 200

"""The survey editor (test client): every question type saved through the survey_spec service,
reorder without script, the launch-form preview, errors beside the question, secrets kept."""
from __future__ import annotations

import json
import re

import pytest

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, set_survey, uniq

from .page_client import field_error, input_value, make_user, page_fixtures

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"
QUESTIONS = [  # (question_name, variable, type, required, default, choices, min, max)
    ("Your name", "who", "text", True, "ann", "", "1", "20"),
    ("Notes", "notes", "textarea", False, "", "", "", ""),
    ("Token", "token", "password", False, "s3cret", "", "", ""),
    ("Count", "count", "integer", True, "3", "", "1", "10"),
    ("Ratio", "ratio", "float", False, "0.5", "", "", ""),
    ("Colour", "colour", "multiplechoice", True, "green", "red\ngreen\nblue", "", ""),
    ("Sizes", "sizes", "multiselect", False, "s\nl", "s\nm\nl", "", ""),
]


app, api, ui = page_fixtures()


@pytest.fixture(scope="module")
def stage(app, api):
    org = make_org(api)
    return {"project": make_project(api, app.data_dir, org, {"play.yml": PLAY}),
            "inventory": make_inventory(api, org, ("h1",))}


@pytest.fixture
def jt(api, stage):
    return make_jt(api, stage["project"], stage["inventory"], "play.yml")


def _form(rows, op: str = "save", enabled: bool = True) -> list[tuple[str, str]]:
    pairs = [("count", str(len(rows))), ("name", "Deploy"), ("description", "asked at launch"), ("op", op)]
    if enabled:
        pairs.append(("survey_enabled", "on"))
    for i, (qname, var, kind, required, default, choices, low, high) in enumerate(rows):
        pairs += [(f"spec-{i}-question_name", qname), (f"spec-{i}-question_description", ""),
                  (f"spec-{i}-variable", var), (f"spec-{i}-type", kind), (f"spec-{i}-default", default),
                  (f"spec-{i}-choices", choices), (f"spec-{i}-min", low), (f"spec-{i}-max", high)]
        if required:
            pairs.append((f"spec-{i}-required", "on"))
    return pairs


def _spec(api, jt) -> dict:
    return api.one(f"/api/v2/job_templates/{jt['id']}/survey_spec/")


def test_every_question_type_is_saved_through_the_service(ui, api, app, jt):
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS))
    assert resp.status_code == 302, resp.text
    spec = _spec(api, jt)
    assert (spec["name"], spec["description"]) == ("Deploy", "asked at launch")
    by_var = {q["variable"]: q for q in spec["spec"]}
    assert [q["variable"] for q in spec["spec"]] == [q[1] for q in QUESTIONS]
    who = by_var["who"]
    assert (who["type"], who["required"], who["default"], who["min"], who["max"]) == ("text", True, "ann", 1, 20)
    assert by_var["count"]["default"] == 3 and by_var["ratio"]["default"] == 0.5
    assert by_var["colour"]["choices"] == "red\ngreen\nblue" and by_var["colour"]["default"] == "green"
    assert by_var["sizes"]["default"] == "s\nl" and by_var["sizes"]["type"] == "multiselect"
    assert by_var["token"]["default"] == "$encrypted$"             # stored encrypted, shown masked
    assert api.one(f"/api/v2/job_templates/{jt['id']}/")["survey_enabled"] is True
    launch = api.one(f"/api/v2/job_templates/{jt['id']}/launch/")
    assert sorted(launch["variables_needed_to_start"]) == ["colour", "count", "who"]


def test_the_stored_password_default_is_never_sent_and_empty_keeps_it(ui, api, app, jt):
    ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS))
    page = ui.get(f"/ui/templates/{jt['id']}/survey")
    assert "s3cret" not in page.text and "$encrypted$" not in page.text
    assert 'name="spec-2-had_secret" value="1"' in page.text
    rows = [list(q) for q in QUESTIONS]
    rows[2][4] = ""                                                  # the password input left empty
    assert ui.post(f"/ui/templates/{jt['id']}/survey",
                   _form([tuple(r) for r in rows]) + [("spec-2-had_secret", "1")]).status_code == 302
    state = app.config["TURRET"]
    stored = json.loads(state.store.get("job_templates", jt["id"])["survey_spec"])
    token = next(q for q in stored["spec"] if q["variable"] == "token")
    assert state.vault.decrypt(token["default"]) == "s3cret"


def test_reorder_without_script_moves_the_question_and_saves_nothing(ui, api, jt):
    ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS[:3]))
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS[:3], op="up:1"))
    assert resp.status_code == 200
    assert input_value(resp.text, "spec-0-variable") == "notes" and input_value(resp.text, "spec-1-variable") == "who"
    assert [q["variable"] for q in _spec(api, jt)["spec"]] == ["who", "notes", "token"]   # not saved yet
    moved = [QUESTIONS[1], QUESTIONS[0], QUESTIONS[2]]
    assert ui.post(f"/ui/templates/{jt['id']}/survey", _form(moved)).status_code == 302
    assert [q["variable"] for q in _spec(api, jt)["spec"]] == ["notes", "who", "token"]


def test_add_and_remove_questions(ui, jt):
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS[:2], op="add"))
    assert input_value(resp.text, "spec-2-variable") == "" and 'name="count" value="3"' in resp.text
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS[:2], op="remove:0"))
    assert input_value(resp.text, "spec-0-variable") == "notes" and 'name="count" value="1"' in resp.text


def test_the_preview_is_the_launch_form(ui, jt):
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(QUESTIONS, op="preview"))
    preview = resp.text.split('id="survey-preview"', 1)[1]
    assert re.search(r'<input id="q-who" name="who" value="ann"', preview)
    assert re.search(r'<select id="q-colour" name="colour".*?<option value="green" selected>', preview, re.S)
    assert 'type="checkbox" name="sizes" value="l" checked' in preview
    assert '<textarea id="q-notes"' in preview and 'id="q-token" name="token" type="password"' in preview


def test_a_refused_spec_is_shown_beside_the_question_and_nothing_is_lost(ui, api, jt):
    rows = [QUESTIONS[0], ("Colour", "colour", "multiplechoice", True, "purple", "red\ngreen", "", "")]
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(rows))
    assert resp.status_code == 400
    assert "Default choice must be answered from the choices listed." in field_error(resp.text, "spec-1-default")
    assert input_value(resp.text, "spec-1-default") == "purple" and input_value(resp.text, "spec-0-variable") == "who"
    assert _spec(api, jt) == {}
    bad_int = [("Count", "count", "integer", True, "many", "", "", "")]
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", _form(bad_int))
    assert "expected to be integer" in field_error(resp.text, "spec-0-default")


def test_delete_and_the_rights(app, ui, api, jt):
    set_survey(api, jt, [{"question_name": "Q", "variable": "q", "type": "text", "required": False}])
    reader = make_user(api, app, uniq("reader"))
    role = api.one(f"/api/v2/job_templates/{jt['id']}/object_roles/?role_field=execute_role")["results"][0]
    assert api.post(f"/api/v2/users/{reader.user_id}/roles/", {"id": role["id"]}).status_code == 204
    assert reader.get(f"/ui/templates/{jt['id']}/survey").status_code == 403
    assert reader.post(f"/ui/templates/{jt['id']}/survey", [("op", "delete")]).status_code == 403
    assert _spec(api, jt)["spec"][0]["variable"] == "q"
    # the editor's Delete button asks first: the question deletes nothing, its own button does
    asked = ui.post(f"/ui/templates/{jt['id']}/survey", [("op", "ask-delete")])
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Delete this survey?" in page and "Its 1 question will be removed" in page
    assert re.search(r'<button type="submit" name="op" value="delete"[^>]*>Delete survey</button>', page)
    assert _spec(api, jt)["spec"][0]["variable"] == "q"
    resp = ui.post(f"/ui/templates/{jt['id']}/survey", [("op", "delete")])
    assert resp.status_code == 302 and _spec(api, jt) == {}
    assert api.one(f"/api/v2/job_templates/{jt['id']}/")["survey_enabled"] is False

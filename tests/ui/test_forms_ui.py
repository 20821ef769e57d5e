"""The job-template side's forms in the browser: the survey editor's in-place reorder (script)
saved through the API's service, and the schedule form's live preview of the next 10 runs
(errors beside the field as they are typed), checked against the API's state."""
from __future__ import annotations

import re

from .conftest import screenshot
from .helpers import ok, one, uniq


def _fresh_template(api) -> dict:
    """A template without a survey, on the demo project and inventory."""
    demo = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    return ok(api.post("/api/v2/job_templates/", {"name": uniq("ui-survey"), "project": demo["project"],
                                                  "inventory": demo["inventory"], "playbook": demo["playbook"]}))


def test_survey_editor_reorders_in_place_and_saves(new_page, api):
    jt = _fresh_template(api)
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}/survey")
    for i, (label, var) in enumerate((("First question", "first_var"), ("Second question", "second_var"),
                                      ("Third question", "third_var"))):
        page.get_by_role("button", name="Add question").click()             # a server round trip, no script
        page.locator(f"#f-spec-{i}-question_name").fill(label)
        page.locator(f"#f-spec-{i}-variable").fill(var)
    page.locator("#f-spec-2-type").select_option("multiplechoice")
    page.locator("#f-spec-2-choices").fill("red\ngreen")
    page.locator("#f-spec-0-required").check()
    # the script moves the first question down twice without leaving the page
    page.get_by_role("button", name="Move question 1 down").click()
    page.get_by_role("button", name="Move question 2 down").click()
    assert page.locator("#survey-form").get_attribute("data-reordered") == "true"
    names = [page.locator(f"#f-spec-{i}-variable").input_value() for i in range(3)]
    assert names == ["second_var", "third_var", "first_var"]                # inputs renumbered in order
    assert page.locator("#f-spec-2-required").is_checked()
    assert page.get_by_role("button", name="Move question 3 down").is_disabled()
    # each question shows the inputs its type uses; the launch-form preview follows the new order
    assert page.locator("#f-spec-0-choices").is_hidden() and page.locator("#f-spec-1-choices").is_visible()
    assert page.locator("#f-spec-1-min").is_hidden() and page.locator("#f-spec-0-min").is_visible()
    page.locator("#survey-preview label").first.filter(has_text="Second question").wait_for()
    screenshot(page, "survey-editor")
    page.locator("#f-survey_enabled").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("p.notice", has_text="Survey saved.").wait_for()
    spec = ok(api.get(f"/api/v2/job_templates/{jt['id']}/survey_spec/"))
    assert [q["variable"] for q in spec["spec"]] == ["second_var", "third_var", "first_var"]
    assert spec["spec"][2]["required"] is True and spec["spec"][1]["choices"] == "red\ngreen"
    assert ok(api.get(f"/api/v2/job_templates/{jt['id']}/"))["survey_enabled"] is True
    # the preview is the launch form: the optional multiple choice question is a select with a blank
    options = page.locator("#survey-preview select#q-third_var option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == ["", "red", "green"]
    assert not page.console_errors


def test_schedule_form_previews_the_next_runs_live(new_page, api):
    jt = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    page = new_page()
    page.goto(f"/ui/schedules/new?unified_job_template={jt['id']}")
    name = uniq("ui-sched")
    page.locator("#f-name").fill(name)
    assert page.locator("fieldset[data-kind='rrule']").is_hidden()         # only the chosen form's inputs
    page.locator("#f-timezone").fill("Europe/Paris")
    page.locator("#f-cron").fill("0 9 * * 1-5")
    page.locator("#schedule-preview li").nth(9).wait_for()                  # live: no button pressed
    assert page.locator("#schedule-preview li").count() == 10
    first = page.locator("#schedule-preview li time").first.inner_text()
    assert re.search(r"09:00:00\+0[12]:00$", first), first
    same = ok(api.post("/api/v2/schedules/preview/", {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}))
    assert page.locator("#schedule-preview li time").first.get_attribute("datetime") == same["utc"][0]
    page.locator("#f-cron").fill("0 25 * * *")                              # an hour that does not exist
    page.locator("#e-cron").wait_for()
    assert page.locator("#f-cron").get_attribute("aria-describedby") == "e-cron"
    page.locator("#f-cron").fill("15 7 * * *")
    page.locator("#e-cron").wait_for(state="detached")
    page.locator("#schedule-preview li").nth(9).wait_for()
    screenshot(page, "schedule-form")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/ui/schedules/\d+$"))
    sched = one(api, f"/api/v2/schedules/?name={name}")
    assert (sched["cron"], sched["timezone"], sched["schedule_type"]) == ("15 7 * * *", "Europe/Paris", "cron")
    assert sched["unified_job_template"] == jt["id"]
    assert page.locator("#schedule-preview li").count() == 10
    assert not page.console_errors

"""Jobs in the browser: launch through a survey, live output over SSE, cancel, relaunch.

Playwright (sync API) drives Debian's Chromium against a live controller on a fresh data dir.
"""
from __future__ import annotations

import json
import re

from .conftest import screenshot
from .helpers import (ALL_TYPES_SURVEY, FAIL_ONE_PLAYBOOK, QUICK_PLAYBOOK, SLOW_PLAYBOOK, job_id_of, make_jt, ok,
                      wait_job, wait_status_on_page)


def test_launch_demo_through_survey(new_page, api):
    page = new_page()
    page.goto("/ui/templates")
    page.get_by_label("Search templates").fill("Demo")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Launch Demo Job Template").click()
    field = page.get_by_label("Name to greet")
    assert field.input_value() == "World"               # the survey default
    field.fill("x" * 70)                                 # the survey's max is 64
    page.get_by_role("button", name="Launch").click()
    error = page.locator("#err-greeting_name")
    assert "too large" in error.inner_text()             # the API's own message, next to the field
    assert page.get_by_label("Name to greet").get_attribute("aria-invalid") == "true"
    screenshot(page, "launch-survey-error")
    page.get_by_label("Name to greet").fill("Playwright")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    job_id = job_id_of(page)
    wait_status_on_page(page, "successful")
    page.locator("#output", has_text="Playwright").wait_for()
    assert page.locator("#host-summary tr[data-host='localhost']").count() == 1
    job = wait_job(api, job_id)
    assert job["status"] == "successful" and json.loads(job["extra_vars"])["greeting_name"] == "Playwright"
    assert job["summary_fields"]["created_by"]["username"] == "admin"
    assert not page.console_errors


def test_survey_form_renders_every_question_type(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-survey",))
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/survey_spec/", ALL_TYPES_SURVEY))
    ok(api.patch(f"/api/v2/job_templates/{jt['id']}/", {"survey_enabled": True, "ask_limit_on_launch": True}))
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}/launch")
    assert page.get_by_label("Long text").evaluate("e => e.tagName") == "TEXTAREA"
    assert page.get_by_label("Secret").get_attribute("type") == "password"
    assert page.get_by_label("Colour").input_value() == "green"              # multiple choice default
    assert page.get_by_label("m", exact=True).is_checked()                  # multiselect default
    page.get_by_role("textbox", name="Text", exact=True).fill("hello")
    page.get_by_label("Secret").fill("pa55word")
    page.get_by_label("Count").fill("many")                                 # not an integer
    page.get_by_role("button", name="Launch").click()
    assert "expected to be an integer" in page.locator("#err-q_integer").inner_text()
    page.get_by_label("Secret").fill("pa55word")                            # passwords are never echoed back
    page.get_by_label("Count").fill("3")
    page.get_by_label("Ratio").fill("0.5")
    page.get_by_label("Colour").select_option("blue")
    page.get_by_label("l", exact=True).check()
    page.get_by_label("Limit").fill("ui-survey")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    job = wait_job(api, job_id_of(page))
    extra = json.loads(job["extra_vars"])
    assert extra["q_text"] == "hello" and extra["q_integer"] == 3 and extra["q_float"] == 0.5
    assert extra["q_choice"] == "blue" and sorted(extra["q_multi"]) == ["l", "m"]
    assert extra.get("q_password") in (None, "$encrypted$")                # the secret is not shown
    assert job["limit"] == "ui-survey" and job["status"] == "successful"


def test_live_output_arrives_before_the_job_ends(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, SLOW_PLAYBOOK, ("ui-slow",))
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}/launch")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    job_id = job_id_of(page)
    page.locator("#output", has_text="ui-live-first-line").wait_for(timeout=60_000)
    # a line is on the page while the job is still running (the play sleeps 8 s after it)
    wait_status_on_page(page, "running", timeout=7_000)
    assert ok(api.get(f"/api/v2/jobs/{job_id}/"))["status"] == "running"
    assert "ui-live-last-line" not in page.locator("#output").inner_text()
    # then the end: final status, the rest of the output, the host summary
    wait_status_on_page(page, "successful")
    page.locator("#output", has_text="ui-live-last-line").wait_for()
    page.locator("#host-summary tr[data-host='ui-slow']").wait_for()
    page.locator("#output .ansi-32, #output .ansi-33").first.wait_for()   # ANSI colours rendered
    screenshot(page, "job")      # an artifact; docs/screenshots/job.png is a copy of one, refreshed by hand
    # the output survives a reload (replayed from the stored events), without duplicates
    page.reload()
    page.locator("#job[data-stream-ended='true']").wait_for()
    text = page.locator("#output").inner_text()
    assert text.count("ui-live-first-line") == 1 and "ui-live-last-line" in text
    assert not page.console_errors


def test_cancel_a_running_job(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, SLOW_PLAYBOOK, ("ui-cancel",))
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}/launch")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    job_id = job_id_of(page)
    page.locator("#output", has_text="ui-live-first-line").wait_for(timeout=60_000)
    page.get_by_role("button", name="Cancel job").click()
    wait_status_on_page(page, "canceled", timeout=30_000)
    assert wait_job(api, job_id)["status"] == "canceled"
    assert page.get_by_role("button", name="Cancel job").count() == 0
    assert not page.console_errors


def test_relaunch_failed_hosts(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, FAIL_ONE_PLAYBOOK, ("ui-good", "ui-bad"))
    job = ok(api.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}))
    wait_job(api, job["id"])
    page = new_page()
    page.goto(f"/ui/jobs/{job['id']}")
    wait_status_on_page(page, "failed")
    assert "failed" in (page.locator("#host-summary tr[data-host='ui-bad']").get_attribute("class") or "")
    # events filter: failed only
    page.get_by_label("Failed only").check()
    with page.expect_navigation():     # a GET form: read the table of the new page, not the old one
        page.get_by_role("button", name="Show events").click()
    texts = page.locator("#events tbody tr").all_inner_texts()
    assert any("ui-bad" in t for t in texts) and not any("ui-good" in t for t in texts)
    page.get_by_label("Events of host").fill("ui-good")
    with page.expect_navigation():
        page.get_by_role("button", name="Show events").click()
    assert "No events match." in page.locator("#events").inner_text()   # ui-good failed nothing
    page.get_by_label("Failed only").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Show events").click()
    texts = page.locator("#events tbody tr").all_inner_texts()
    assert texts and all("ui-good" in t for t in texts)
    page.get_by_role("button", name=re.compile(r"Relaunch failed hosts")).click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    new_id = job_id_of(page)
    assert new_id != job["id"]
    assert page.locator("#job-limit").inner_text() == "ui-bad"
    wait_status_on_page(page, "failed")
    page.locator("#host-summary tr[data-host='ui-bad']").wait_for()
    assert page.locator("#host-summary tr[data-host='ui-good']").count() == 0
    # relaunch of all hosts from the same page
    page.get_by_role("button", name="Relaunch all hosts").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    assert job_id_of(page) != new_id
    assert not page.console_errors

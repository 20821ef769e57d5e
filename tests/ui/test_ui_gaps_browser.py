"""The script path of the three form improvements, in Chromium: the delete question in a
``<dialog>`` (Cancel keeps the object, Delete removes it), the schedule form's prompts swapped
when another template is picked, and the launch form's credential / label pickers (with the
filter box of a long list) giving a job with exactly the picked ones."""
from __future__ import annotations

import re

import pytest

from .conftest import screenshot
from .helpers import QUICK_PLAYBOOK, job_id_of, make_jt, ok, one, uniq, wait_job

pytestmark = pytest.mark.slow


def test_delete_asks_in_a_dialog_and_cancel_keeps_the_object(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("localhost",))
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}")
    page.get_by_role("link", name=f"Delete {jt['name']}").click()
    dialog = page.locator("dialog#confirm-dialog")
    dialog.wait_for()
    assert f"Delete job template “{jt['name']}”?" in dialog.get_by_role("heading").inner_text()
    assert page.url.endswith(f"/ui/templates/{jt['id']}")               # still on the template's page
    assert page.locator("h1").count() == 1
    screenshot(page, "delete-dialog")
    dialog.get_by_role("link", name="Cancel").click()
    dialog.wait_for(state="detached")
    assert ok(api.get(f"/api/v2/job_templates/{jt['id']}/"))["id"] == jt["id"]
    page.get_by_role("link", name=f"Delete {jt['name']}").click()
    page.locator("dialog#confirm-dialog").get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r".*/ui/templates\?deleted=\d+$"))
    assert api.get(f"/api/v2/job_templates/{jt['id']}/").status_code == 404
    assert not page.console_errors


def test_the_schedule_forms_prompts_follow_the_template_picked(new_page, api, controller):
    limit_jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("localhost",))
    ok(api.patch(f"/api/v2/job_templates/{limit_jt['id']}/", {"ask_limit_on_launch": True}))
    other = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("localhost",))
    ok(api.patch(f"/api/v2/job_templates/{other['id']}/", {"ask_job_type_on_launch": True}))
    page = new_page()
    page.goto(f"/ui/schedules/new?unified_job_template={limit_jt['id']}")
    assert page.get_by_label("Limit").is_visible()
    assert not page.get_by_role("button", name="Load prompts").is_visible()        # the script swaps instead
    name = uniq("ui-sched")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Cron expression").fill("0 6 * * *")
    page.locator("#f-unified_job_template").select_option(str(other["id"]))
    page.locator("#schedule-prompts #f-job_type").wait_for()
    assert page.locator("#f-limit").count() == 0
    assert page.get_by_label("Name").input_value() == name                      # nothing typed is lost
    page.get_by_label("Job type").select_option("check")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/ui/schedules/\d+$"))
    sched = one(api, f"/api/v2/schedules/?name={name}")
    assert sched["unified_job_template"] == other["id"] and sched["job_type"] == "check"
    assert sched["limit"] is None and sched["cron"] == "0 6 * * *"
    assert not page.console_errors


def test_launch_pickers_give_a_job_with_the_picked_ones(new_page, api, controller):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("localhost",))
    org = one(api, "/api/v2/organizations/?name=Default")
    machine = one(api, "/api/v2/credential_types/?namespace=ssh")["id"]
    creds = [ok(api.post("/api/v2/credentials/", {"name": uniq(f"pick-{i}"), "organization": org["id"],
                                                  "credential_type": machine, "inputs": {"username": f"u{i}"}}))
             for i in range(10)]                                                 # a long list: a filter box
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": creds[0]["id"]}))
    labels = [ok(api.post("/api/v2/labels/", {"name": uniq(n), "organization": org["id"]})) for n in ("red", "blue")]
    own = ok(api.post(f"/api/v2/job_templates/{jt['id']}/labels/", {"name": uniq("own"), "organization": org["id"]}))
    ok(api.patch(f"/api/v2/job_templates/{jt['id']}/", {"ask_credential_on_launch": True,
                                                        "ask_labels_on_launch": True}))
    page = new_page()
    page.goto(f"/ui/templates/{jt['id']}/launch")
    picker = page.get_by_label("Credentials", exact=True)
    assert picker.evaluate("e => Array.from(e.selectedOptions).map(o => +o.value)") == [creds[0]["id"]]
    page.get_by_label("Filter Credentials").fill(creds[7]["name"])
    assert picker.locator("option:not([hidden])").count() == 2                   # the match and the picked one
    picker.select_option([str(creds[7]["id"])])
    # labels are additive: the template's own is shown as always included, the others are offered
    assert own["name"] in page.locator("#p-labels-fixed").inner_text()
    assert page.get_by_label("Labels", exact=True).locator(f'option[value="{own["id"]}"]').count() == 0
    page.get_by_label("Labels", exact=True).select_option([str(lab["id"]) for lab in labels])
    screenshot(page, "launch-pickers")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    job = wait_job(api, job_id_of(page))
    assert job["status"] == "successful"
    got = ok(api.get(f"/api/v2/jobs/{job['id']}/credentials/"))["results"]
    assert [c["id"] for c in got] == [creds[7]["id"]]
    got_labels = ok(api.get(f"/api/v2/jobs/{job['id']}/labels/"))["results"]
    assert sorted(lab["id"] for lab in got_labels) == sorted([own["id"], *(lab["id"] for lab in labels)])
    assert not page.console_errors

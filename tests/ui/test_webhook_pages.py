"""Webhook pages in Chromium against a live controller: a job template's page lists the receiver
URLs (GitHub, GitLab, Bitbucket DC, generic) with its service marked; its admin reveals the key on
click (the API's key) and rotates it (the API confirms the new key, the old one is gone); a user
who may only run the template sees the URLs but no key and cannot rotate it (a forged POST is
refused, the key unchanged); a workflow template and a project are reached from their pages."""
from __future__ import annotations

import pytest

from .conftest import screenshot
from .helpers import QUICK_PLAYBOOK, make_jt, ok, one, uniq

pytestmark = pytest.mark.slow

USER_KEY = "ui-user-chosen-key-5521"


def key_of(api, endpoint: str, pk: int) -> str:
    return ok(api.get(f"/api/v2/{endpoint}/{pk}/webhook_key/"))["webhook_key"]


def hooked_jt(api, controller) -> dict:
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-hook-host",))
    ok(api.patch(f"/api/v2/job_templates/{jt['id']}/", {"webhook_service": "github",
                                                       "webhook_events": "push", "webhook_ref_filter": "refs/heads/*"}))
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/webhook_key/", {"webhook_key": USER_KEY}))
    return jt


def test_admin_reveals_and_rotates_the_key(new_page, api, controller):
    jt = hooked_jt(api, controller)
    page = new_page()
    page.goto(f"/ui/templates?search={jt['name']}")
    page.get_by_role("link", name=f"Webhook of {jt['name']}").click()
    page.locator("#webhook").wait_for()
    urls = {row.get_attribute("data-service"): row.locator("code").inner_text()
            for row in page.locator("#webhook-urls tbody tr").all()}
    assert urls == {("generic" if s == "webhook" else s): f"{controller.url}/api/v2/job_templates/{jt['id']}/{s}/"
                    for s in ("github", "gitlab", "bitbucket_dc", "webhook")}
    assert "(selected)" in page.locator("tr[data-service='github']").inner_text()
    assert page.locator("#webhook-events").inner_text() == "push"
    assert USER_KEY not in page.content()            # not in the page until asked for
    page.get_by_role("button", name="Show key").click()
    assert page.locator("#webhook-key-value").inner_text() == USER_KEY
    page.get_by_role("button", name="Rotate key").click()
    page.get_by_role("status").filter(has_text="A new key was generated").wait_for()
    shown = page.locator("#webhook-key-value").inner_text()
    assert len(shown) == 50 and shown != USER_KEY
    assert key_of(api, "job_templates", jt["id"]) == shown
    screenshot(page, "webhook-page")
    assert not page.console_errors


def test_a_user_who_may_only_run_sees_no_key(new_page, api, controller):
    jt = hooked_jt(api, controller)
    username, password = uniq("ui-runner"), "runner-pw-19"
    user = ok(api.post("/api/v2/users/", {"username": username, "password": password}))
    execute = ok(api.get(f"/api/v2/job_templates/{jt['id']}/"))["summary_fields"]["object_roles"]["execute_role"]["id"]
    ok(api.post(f"/api/v2/users/{user['id']}/roles/", {"id": execute}))
    page = new_page(username, password)
    page.goto(f"/ui/templates/{jt['id']}/webhook?reveal=1")    # asking for the key in the URL does not help
    page.locator("#webhook-key-hidden").wait_for()
    assert page.locator("#webhook-urls tbody tr").count() == 4
    assert page.get_by_role("button", name="Show key").count() == 0
    assert page.get_by_role("button", name="Rotate key").count() == 0
    assert USER_KEY not in page.content()
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(f"/ui/templates/{jt['id']}/webhook/rotate", form={"csrfmiddlewaretoken": csrf},
                               headers={"Referer": controller.url + f"/ui/templates/{jt['id']}/webhook"})
    assert forged.status == 403
    assert key_of(api, "job_templates", jt["id"]) == USER_KEY
    assert not page.console_errors


def test_workflow_and_project_pages_link_to_their_webhook(new_page, api, controller):
    org = one(api, "/api/v2/organizations/?name=Default")
    wfjt = ok(api.post("/api/v2/workflow_job_templates/", {"name": uniq("ui-hook-wf"), "organization": org["id"],
                                                           "webhook_service": "gitlab"}))
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-hook-host2",))
    project_id = jt["project"]
    ok(api.patch(f"/api/v2/projects/{project_id}/", {"webhook_service": "bitbucket_dc"}))
    page = new_page()
    page.goto(f"/ui/workflow_templates/{wfjt['id']}")
    page.get_by_role("link", name=f"Webhook of {wfjt['name']}").click()
    page.locator("#webhook").wait_for()
    assert "(selected)" in page.locator("tr[data-service='gitlab']").inner_text()
    page.get_by_role("button", name="Show key").click()
    assert page.locator("#webhook-key-value").inner_text() == key_of(api, "workflow_job_templates", wfjt["id"])
    page.goto(f"/ui/projects/{project_id}")
    page.get_by_role("link", name="Webhook").click()
    page.locator("#webhook").wait_for()
    services = [r.get_attribute("data-service") for r in page.locator("#webhook-urls tbody tr").all()]
    assert services == ["github", "gitlab", "bitbucket_dc"]          # no generic receiver for projects
    assert page.locator("#webhook-update-on-push").inner_text() == "no"      # a manual project: no sync
    before = key_of(api, "projects", project_id)
    page.get_by_role("button", name="Rotate key").click()
    page.locator("#webhook-key-value").wait_for()
    assert key_of(api, "projects", project_id) == page.locator("#webhook-key-value").inner_text() != before
    assert not page.console_errors

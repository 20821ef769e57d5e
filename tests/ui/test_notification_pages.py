"""Notification pages in Chromium against a live controller: a webhook template created, edited
(its password write-only: left empty, the stored one is kept, unless the URL changes) and tested (the page follows the
test notification until it is sent, and the local HTTP sink receives it with the kept password);
the API's validation message on a bad form; the started/success/failure (and approval) switches
of a job template, a project and an organization, read back through the API."""
from __future__ import annotations

import base64
import time

import pytest

from tests.support.receivers import HttpSink

from .conftest import screenshot
from .helpers import QUICK_PLAYBOOK, make_jt, ok, one, uniq

pytestmark = pytest.mark.slow

SECRET = "ui-hook-pw-35"


@pytest.fixture(scope="module")
def sink():
    with HttpSink() as s:
        yield s


def received(sink: HttpSink, path: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in list(sink.requests) if r.path == path]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing at {path}; got {[r.path for r in sink.requests]}")


def make_hook(api, sink: HttpSink, path: str) -> dict:
    org = one(api, "/api/v2/organizations/?name=Default")
    return ok(api.post("/api/v2/notification_templates/", {
        "name": uniq("ui-hook"), "organization": org["id"], "notification_type": "webhook",
        "notification_configuration": {"url": sink.url + path, "headers": {}}}))


def attached(api, endpoint: str, pk: int, event: str) -> list[int]:
    return [t["id"] for t in ok(api.get(f"/api/v2/{endpoint}/{pk}/notification_templates_{event}/"))["results"]]


def test_create_edit_and_test_a_webhook_template(new_page, api, sink):
    name = uniq("ui-webhook")
    page = new_page()
    page.goto("/ui/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    page.get_by_role("link", name="New notification template").click()
    page.get_by_label("Type").select_option("webhook")
    page.get_by_role("button", name="Choose type").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Organization").select_option(label="Default")
    page.get_by_label("Target URL").fill(sink.url + "/ui-one")
    page.get_by_label("HTTP Headers").fill('{"X-Ui": "yes"}')
    page.get_by_label("Username").fill("bot")
    page.get_by_label("Password", exact=True).fill(SECRET)
    page.get_by_role("button", name="Save notification template").click()
    page.get_by_text("Notification template saved.").wait_for()
    stored = one(api, f"/api/v2/notification_templates/?name={name}")
    config = stored["notification_configuration"]
    assert stored["notification_type"] == "webhook" and stored["summary_fields"]["organization"]["name"] == "Default"
    assert config["url"] == sink.url + "/ui-one" and config["headers"] == {"X-Ui": "yes"}
    assert config["username"] == "bot" and config["password"] == "$encrypted$"
    assert SECRET not in page.content()
    assert page.locator("[data-secret='password']").is_visible()          # "encrypted", never the value

    # edit: another method and header, the password field left empty keeps the stored password
    page.get_by_label("HTTP Method").fill("PUT")
    page.get_by_label("HTTP Headers").fill('{"X-Ui": "two"}')
    page.get_by_role("button", name="Save notification template").click()
    page.get_by_text("Notification template saved.").wait_for()
    config = one(api, f"/api/v2/notification_templates/?name={name}")["notification_configuration"]
    assert (config["http_method"], config["headers"], config["password"]) == ("PUT", {"X-Ui": "two"}, "$encrypted$")

    # a new URL with the password left empty would send the kept secret elsewhere: the API refuses
    page.get_by_label("Target URL").fill(sink.url + "/elsewhere")
    page.get_by_role("button", name="Save notification template").click()
    page.locator("#err-notification_configuration").wait_for()
    assert "Enter the secret again" in page.locator("#err-notification_configuration").inner_text()
    assert one(api, f"/api/v2/notification_templates/?name={name}")["notification_configuration"]["url"] == \
        sink.url + "/ui-one"
    page.goto(f"/ui/notification_templates/{stored['id']}")

    # test: the page follows the test notification until it was sent
    page.get_by_role("button", name="Send a test message").click()
    row = page.locator("tr.tested")
    row.locator("[data-status='successful']").wait_for(timeout=30_000)
    assert "Test Notification" in row.inner_text()     # a webhook send has no subject: its body is shown
    got = received(sink, "/ui-one")
    assert got.method == "PUT" and got.headers["x-ui"] == "two"
    assert got.headers["authorization"] == "Basic " + base64.b64encode(f"bot:{SECRET}".encode()).decode()
    sent = ok(api.get(f"/api/v2/notification_templates/{stored['id']}/notifications/"))["results"]
    assert [(n["status"], n["notifications_sent"]) for n in sent] == [("successful", 1)]
    screenshot(page, "notification-template")
    assert not page.console_errors


def test_a_bad_form_shows_the_api_message_and_stores_nothing(new_page, api, sink):
    name = uniq("ui-bad")
    page = new_page()
    page.goto("/ui/notification_templates/new?notification_type=webhook")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Organization").select_option(label="Default")
    page.get_by_label("Target URL").fill(sink.url + "/never")
    page.get_by_label("HTTP Method").fill("GET")
    page.get_by_role("button", name="Save notification template").click()
    error = page.locator(".field-error").first
    error.wait_for()
    assert "POST" in error.inner_text()                                   # the API's own message
    assert ok(api.get(f"/api/v2/notification_templates/?name={name}"))["count"] == 0
    assert page.get_by_label("Target URL").input_value() == sink.url + "/never"   # the form keeps what was typed


def test_switches_attach_and_detach(new_page, api, controller, sink):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-nt-host",))
    hook = make_hook(api, sink, "/switch")
    page = new_page()
    page.goto("/ui/templates")
    page.get_by_role("link", name=f"Notifications of {jt['name']}").click()
    row = page.locator(f"tr[data-notification-template='{hook['name']}']")
    success = row.get_by_role("switch", name=f"Success notifications from {hook['name']}")
    assert success.get_attribute("aria-checked") == "false"
    success.click()
    row.get_by_role("switch", name=f"Success notifications from {hook['name']}").and_(
        page.locator("[aria-checked='true']")).wait_for()
    row.get_by_role("switch", name=f"Failure notifications from {hook['name']}").click()
    page.locator(f"tr[data-notification-template='{hook['name']}'] [data-event='error'][aria-checked='true']").wait_for()
    assert attached(api, "job_templates", jt["id"], "success") == [hook["id"]]
    assert attached(api, "job_templates", jt["id"], "error") == [hook["id"]]
    assert attached(api, "job_templates", jt["id"], "started") == []
    row.get_by_role("switch", name=f"Success notifications from {hook['name']}").click()
    page.locator(f"tr[data-notification-template='{hook['name']}'] [data-event='success'][aria-checked='false']").wait_for()
    assert attached(api, "job_templates", jt["id"], "success") == []
    assert attached(api, "job_templates", jt["id"], "error") == [hook["id"]]
    screenshot(page, "notification-switches")

    # a project's page links to its switches; an organization's have an approval column too
    page.goto(f"/ui/projects/{jt['project']}")
    page.get_by_role("link", name="Notifications").last.click()
    page.get_by_role("switch", name=f"Start notifications from {hook['name']}").click()
    page.locator(f"tr[data-notification-template='{hook['name']}'] [data-event='started'][aria-checked='true']").wait_for()
    assert attached(api, "projects", jt["project"], "started") == [hook["id"]]
    org = one(api, "/api/v2/organizations/?name=Default")
    page.goto("/ui/notification_templates")
    page.get_by_role("link", name="Notifications of organization Default").first.click()
    page.get_by_role("switch", name=f"Approval notifications from {hook['name']}").click()
    page.locator(f"tr[data-notification-template='{hook['name']}'] [data-event='approvals'][aria-checked='true']").wait_for()
    assert attached(api, "organizations", org["id"], "approvals") == [hook["id"]]
    assert not page.console_errors


def test_a_user_without_edit_rights_sees_disabled_switches(new_page, api, controller, sink):
    jt = make_jt(api, controller.data_dir, QUICK_PLAYBOOK, ("ui-nt-ro",))
    hook = make_hook(api, sink, "/ro")
    org = one(api, "/api/v2/organizations/?name=Default")
    user = ok(api.post("/api/v2/users/", {"username": uniq("ui-ro"), "password": "ro-pass-123"}))
    for role in (org["summary_fields"]["object_roles"]["auditor_role"]["id"],
                 ok(api.get(f"/api/v2/job_templates/{jt['id']}/"))["summary_fields"]["object_roles"]["read_role"]["id"]):
        ok(api.post(f"/api/v2/users/{user['id']}/roles/", {"id": role}))
    page = new_page(user["username"], "ro-pass-123")
    page.goto(f"/ui/templates/{jt['id']}/notifications")
    row = page.locator(f"tr[data-notification-template='{hook['name']}']")
    assert row.locator("button[role='switch'][disabled]").count() == 3
    assert page.locator("button[role='switch']:not([disabled])").count() == 0
    # a forged switch post is refused by the same check the API makes, and changes nothing
    token = page.locator("input[name='csrfmiddlewaretoken']").first.get_attribute("value")
    resp = page.request.post(f"/ui/templates/{jt['id']}/notifications", form={
        "csrfmiddlewaretoken": token, "template": str(hook["id"]), "event": "success", "on": "1"})
    assert resp.status == 403
    assert attached(api, "job_templates", jt["id"], "success") == []

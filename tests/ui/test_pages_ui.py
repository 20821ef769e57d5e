"""The UI's pages in the browser: login/logout, dashboard, inventories, credentials, RBAC.

Playwright (sync API) drives Debian's Chromium against a live controller on a fresh data dir.
"""
from __future__ import annotations

import re

from .conftest import at_path, screenshot
from .helpers import ok, one, uniq


def test_login_dashboard_and_logout(new_page, controller):
    page = new_page(login=False)
    page.goto("/ui/jobs")
    assert "/ui/login" in page.url                     # anonymous visitors are sent to log in
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.locator("#login-error", has_text="correct username and password").wait_for()   # shown in place
    assert "/ui/login" in page.url
    page.get_by_label("Username").fill(controller.admin_username)
    page.get_by_label("Password").fill(controller.admin_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(at_path("/ui/jobs"))              # back where the visitor was going
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(at_path("/ui/"))
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.locator("svg.chart rect.ok").count() == 14
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["awx_sessionid"]["httpOnly"] and "csrftoken" in cookies
    # the same session works for the API
    me = page.request.get("/api/v2/me/")
    assert me.status == 200 and me.json()["results"][0]["username"] == "admin"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(at_path("/ui/login"))
    page.goto("/ui/")
    assert "/ui/login" in page.url
    assert page.request.get("/api/v2/me/").status == 401
    assert not page.console_errors


def test_create_inventory_with_host(new_page, api):
    page = new_page()
    page.goto("/ui/inventories")
    page.get_by_role("link", name="New inventory").click()
    page.wait_for_url(at_path("/ui/inventories/new"))
    page.get_by_role("button", name="Save").click()                       # no name: the API refuses
    assert "may not be blank" in page.locator("#e-name").inner_text()
    name = uniq("ui-created")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Variables", exact=True).fill("{not yaml: [")
    page.get_by_role("button", name="Save").click()
    page.locator("#e-variables").wait_for()                               # the error in place
    assert page.get_by_label("Name", exact=True).input_value() == name  # the form keeps what was typed
    page.get_by_label("Variables", exact=True).fill("region: north\n")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/ui/inventories/\d+.*"))
    page.get_by_role("link", name="Add host").click()
    page.get_by_label("Name", exact=True).fill("web-ui-1")
    page.get_by_label("Variables", exact=True).fill("ansible_host: 10.0.0.1\n")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/ui/hosts/\d+.*"))
    inv = one(api, f"/api/v2/inventories/?name={name}")
    host = one(api, f"/api/v2/inventories/{inv['id']}/hosts/")
    assert host["name"] == "web-ui-1" and "10.0.0.1" in host["variables"]
    # edit the host's variables: a bad value is shown in place, a good one is saved
    page.goto(f"/ui/inventories/{inv['id']}")
    page.get_by_role("link", name="web-ui-1").click()
    page.get_by_label("Variables", exact=True).fill("[unclosed")
    page.get_by_role("button", name="Save").click()
    page.locator("#e-variables").wait_for()     # visible within the timeout, or the test fails
    page.get_by_label("Variables", exact=True).fill("ansible_host: 10.0.0.2\n")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    assert "10.0.0.2" in ok(api.get(f"/api/v2/hosts/{host['id']}/"))["variables"]


def test_inventory_lists_are_paginated(new_page, api):
    org = one(api, "/api/v2/organizations/?name=Default")
    inv = ok(api.post("/api/v2/inventories/", {"name": uniq("ui-many"), "organization": org["id"]}))
    for i in range(30):
        ok(api.post("/api/v2/hosts/", {"name": f"many-{i:03d}", "inventory": inv["id"]}))
    page = new_page(width=390, height=844)                               # a phone
    page.goto(f"/ui/inventories/{inv['id']}")
    assert page.locator("table tbody tr").count() == 25
    assert "Page 1 of 2 (30 items)" in page.locator(".pager").inner_text()
    page.get_by_role("link", name=re.compile("Next")).click()
    page.wait_for_url(re.compile(r".*[?&]page=2"))            # counted before the new page loaded, it flaked
    page.locator(".pager", has_text="Page 2 of 2").wait_for()
    assert page.locator("table tbody tr").count() == 5
    page.get_by_label("Search hosts").fill("many-007")
    page.get_by_role("button", name="Search").click()
    assert page.locator("table tbody tr").all_inner_texts()[0].startswith("many-007")
    screenshot(page, "inventory-phone")


def test_user_without_execute_cannot_launch(new_page, api):
    username, password = uniq("viewer"), "viewer-pw-123"
    user = ok(api.post("/api/v2/users/", {"username": username, "password": password}))
    jt = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    read_role = jt["summary_fields"]["object_roles"]["read_role"]["id"]
    ok(api.post(f"/api/v2/users/{user['id']}/roles/", {"id": read_role}))
    before = ok(api.get("/api/v2/jobs/"))["count"]
    page = new_page(username, password)
    page.goto("/ui/templates")
    page.locator("tr[data-template='Demo Job Template']").wait_for()
    assert page.get_by_role("link", name="Launch Demo Job Template").count() == 0
    assert page.goto(f"/ui/templates/{jt['id']}/launch").status == 403
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(f"/ui/templates/{jt['id']}/launch",
                               form={"csrfmiddlewaretoken": csrf, "greeting_name": "forged"})
    assert forged.status == 403
    no_token = page.request.post(f"/ui/templates/{jt['id']}/launch", form={"greeting_name": "forged"})
    assert no_token.status == 403
    assert ok(api.get("/api/v2/jobs/"))["count"] == before
    # the admin-only pages the viewer can open show only what the API shows them
    page.goto("/ui/inventories")
    assert "Demo Inventory" not in page.content()


def test_pages_render_for_admin(new_page):
    page = new_page()
    for path, heading in [("/ui/jobs", "Jobs"), ("/ui/projects", "Projects"), ("/ui/credentials", "Credentials"),
                          ("/ui/users", "Users"), ("/ui/teams", "Teams"), ("/ui/activity", "Activity stream")]:
        resp = page.goto(path)
        assert resp.status == 200, path
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), path
    page.goto("/ui/projects")
    # a click that navigates returns once the new page commits, before it is parsed: wait for
    # the load before reading what it shows
    page.get_by_role("link", name="Turret Collection Playbooks").click()
    page.wait_for_url(re.compile(r".*/ui/projects/\d+$"))
    page.wait_for_load_state()
    assert page.get_by_text("hello_world.yml").is_visible()            # the project's playbooks
    page.goto("/ui/users")
    page.get_by_role("link", name="admin", exact=True).click()
    page.wait_for_url(at_path("/ui/users/1"))
    page.get_by_role("link", name="Access").click()
    page.wait_for_url(at_path("/ui/users/1/access"))
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Roles this user holds").is_visible()
    page.goto("/ui/jobs?status=successful")
    assert page.get_by_label("Status").input_value() == "successful"
    page.goto("/ui/")
    screenshot(page, "dashboard")
    assert not page.console_errors


def test_credential_form_is_type_driven_and_secrets_write_only(new_page, api):
    machine = one(api, "/api/v2/credential_types/?namespace=ssh")
    page = new_page()
    page.goto("/ui/credentials/new")
    name = uniq("ui-cred")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Credential type").select_option(str(machine["id"]))   # submits the choice itself
    page.get_by_label("Username", exact=True).wait_for()                      # the type's inputs
    assert page.get_by_label("Name", exact=True).input_value() == name        # nothing typed is lost
    page.get_by_label("Username", exact=True).fill("deploy")
    page.get_by_label("Password", exact=True).fill("s3cret-pw")
    page.get_by_role("button", name="Save credential").click()
    page.wait_for_url(re.compile(r".*/ui/credentials/\d+.*"))
    assert page.locator("[data-secret='password']").inner_text() == "encrypted"
    assert "s3cret-pw" not in page.content()
    assert page.get_by_label("Password", exact=True).input_value() == ""
    page.get_by_label("Username", exact=True).fill("deploy2")                        # secret left empty: kept
    page.get_by_role("button", name="Save credential").click()
    cred = one(api, f"/api/v2/credentials/?name={name}")
    assert cred["inputs"] == {"username": "deploy2", "password": "$encrypted$"}

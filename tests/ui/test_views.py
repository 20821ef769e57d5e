"""The UI's views in-process (Flask test client, no browser): authentication, CSRF, RBAC,
validation messages in place, escaping.  The browser suites cover the same pages end to end."""
from __future__ import annotations

import json

import pytest

from .forms_support import login as ui_login
from .helpers import demo_app

PASSWORD = "ui-admin-pw"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from demo_app(tmp_path_factory, PASSWORD)


def login(app, username: str = "admin", password: str = PASSWORD):
    """A client logged in through the UI's login form (``forms_support.login``), with this
    module's admin password by default."""
    return ui_login(app, username, password)


def csrf(client) -> str:
    return client.get_cookie("csrftoken").value


@pytest.fixture(scope="module")
def admin(app):
    return login(app)


@pytest.fixture(scope="module")
def api(app):
    import base64
    header = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}

    class Api:
        def get(self, path):
            return app.test_client().get(path, headers=header).get_json()

        def post(self, path, body, method="POST"):
            resp = app.test_client().open(path, method=method, json=body, headers=header)
            assert resp.status_code in (200, 201, 204), resp.text
            return resp.get_json()
    return Api()


def demo_jt(api) -> dict:
    return api.get("/api/v2/job_templates/?name=Demo+Job+Template")["results"][0]


def test_anonymous_visitors_are_sent_to_the_login_page(app):
    resp = app.test_client().get("/ui/jobs?status=failed")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/ui/login?next=/ui/jobs")
    page = app.test_client().get("/ui/login?next=//evil.example/")
    assert 'value="/ui/"' in page.text                       # no open redirect through next


@pytest.mark.parametrize("path", ["/ui/", "/ui/templates", "/ui/jobs", "/ui/jobs?status=failed", "/ui/inventories",
                                  "/ui/projects", "/ui/credentials", "/ui/credentials/new", "/ui/users", "/ui/teams",
                                  "/ui/activity", "/ui/users/1/roles", "/ui/static/turret.js"])
def test_pages_render(admin, path):
    resp = admin.get(path)
    assert resp.status_code == 200, resp.text[:500]


def test_writes_need_the_csrf_token(admin):
    resp = admin.post("/ui/inventories", data={"name": "x"})
    assert resp.status_code == 403 and "CSRF" in resp.text and resp.mimetype == "text/html"


def test_validation_messages_are_shown_in_place(admin, api):
    resp = admin.post("/ui/inventories", data={"name": "", "organization": "1", "variables": "---",
                                               "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 400 and 'id="e-name"' in resp.text and "may not be blank" in resp.text
    resp = admin.post("/ui/inventories", data={"name": "<b>inv</b>", "organization": "1", "variables": "a: 1",
                                               "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 302
    page = admin.get(resp.headers["Location"])
    assert "&lt;b&gt;inv&lt;/b&gt;" in page.text and "<b>inv</b>" not in page.text      # escaped
    inv_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    resp = admin.post("/ui/hosts/new", data={"inventory": str(inv_id), "name": "h1", "variables": "[oops",
                                             "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 400 and 'id="e-variables"' in resp.text
    assert api.get(f"/api/v2/inventories/{inv_id}/hosts/")["count"] == 0


def test_launch_form_posts_survey_answers_and_lands_on_the_job(admin, api):
    jt = demo_jt(api)
    form = admin.get(f"/ui/templates/{jt['id']}/launch")
    assert 'name="greeting_name"' in form.text and 'value="World"' in form.text
    resp = admin.post(f"/ui/templates/{jt['id']}/launch", data={"greeting_name": "y" * 65,
                                                                "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 400 and "too large" in resp.text
    resp = admin.post(f"/ui/templates/{jt['id']}/launch", data={"greeting_name": "Views",
                                                                "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 302
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert '"greeting_name": "Views"' in api.get(f"/api/v2/jobs/{job_id}/")["extra_vars"]
    page = admin.get(f"/ui/jobs/{job_id}")
    assert page.status_code == 200 and f'data-stream="/api/v2/jobs/{job_id}/events_stream/"' in page.text
    state = admin.get(f"/ui/jobs/{job_id}/state").get_json()
    assert state["active"] is True and "Cancel job" in state["actions"]


def test_a_user_without_execute_sees_no_launch_and_cannot_forge_one(app, api):
    jt = demo_jt(api)
    user = api.post("/api/v2/users/", {"username": "ui-reader", "password": "reader-pw-1"})
    api.post(f"/api/v2/users/{user['id']}/roles/", {"id": jt["summary_fields"]["object_roles"]["read_role"]["id"]})
    reader = login(app, "ui-reader", "reader-pw-1")
    listing = reader.get("/ui/templates")
    assert "Demo Job Template" in listing.text and "Launch Demo Job Template" not in listing.text
    assert reader.get(f"/ui/templates/{jt['id']}/launch").status_code == 403
    before = api.get("/api/v2/jobs/")["count"]
    forged = reader.post(f"/ui/templates/{jt['id']}/launch", data={"greeting_name": "x",
                                                                   "csrfmiddlewaretoken": csrf(reader)})
    assert forged.status_code == 403
    assert api.get("/api/v2/jobs/")["count"] == before
    assert "Demo Inventory" not in reader.get("/ui/inventories").text       # not visible to them
    assert reader.get("/ui/inventories/1").status_code in (403, 404)


def test_credential_secrets_are_write_only(admin, api):
    machine = api.get("/api/v2/credential_types/?namespace=ssh")["results"][0]
    resp = admin.post(f"/ui/credentials/new?credential_type={machine['id']}", data={
        "form": "save", "credential_type": machine["id"], "name": "ui-secret", "organization": "1",
        "input_username": "bob", "input_password": "hunter2-secret", "csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 302, resp.text[:2000]
    cred = api.get("/api/v2/credentials/?name=ui-secret")["results"][0]
    page = admin.get(f"/ui/credentials/{cred['id']}")
    assert "hunter2-secret" not in page.text and 'data-secret="password"' in page.text


def test_logout_ends_the_session(app):
    client = login(app)
    resp = client.post("/ui/logout", data={"csrfmiddlewaretoken": csrf(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/ui/login"
    assert client.get("/ui/").status_code == 302


def test_project_sync_button_starts_an_update(admin, api):
    project = api.post("/api/v2/projects/", {"name": "ui-git", "organization": 1, "scm_type": "git",
                                             "scm_url": "https://example.invalid/repo.git"})
    page = admin.get(f"/ui/projects/{project['id']}")
    assert "Sync project" in page.text
    before = api.get(f"/api/v2/projects/{project['id']}/project_updates/")["count"]
    resp = admin.post(f"/ui/projects/{project['id']}/sync", data={"csrfmiddlewaretoken": csrf(admin)})
    assert resp.status_code == 302
    assert api.get(f"/api/v2/projects/{project['id']}/project_updates/")["count"] == before + 1
    manual = api.get("/api/v2/projects/?name=Turret+Collection+Playbooks")["results"][0]
    page = admin.get(f"/ui/projects/{manual['id']}")
    assert "Sync project" not in page.text and "hello_world.yml" in page.text


def test_prompts_on_launch(admin, api):
    jt = demo_jt(api)
    api.post(f"/api/v2/job_templates/{jt['id']}/", {"ask_variables_on_launch": True, "ask_limit_on_launch": True},
             method="PATCH")
    form = admin.get(f"/ui/templates/{jt['id']}/launch")
    assert 'id="p-extra_vars"' in form.text and 'id="p-limit"' in form.text
    bad = admin.post(f"/ui/templates/{jt['id']}/launch", data={"extra_vars": "[unclosed", "limit": "",
                                                               "csrfmiddlewaretoken": csrf(admin)})
    assert bad.status_code == 400 and 'id="err-extra_vars"' in bad.text
    good = admin.post(f"/ui/templates/{jt['id']}/launch", data={
        "extra_vars": "extra_one: 1", "limit": "localhost", "greeting_name": "P", "csrfmiddlewaretoken": csrf(admin)})
    assert good.status_code == 302
    job = api.get(f"/api/v2/jobs/{good.headers['Location'].rsplit('/', 1)[1]}/")
    assert job["limit"] == "localhost" and json.loads(job["extra_vars"])["extra_one"] == 1
    api.post(f"/api/v2/job_templates/{jt['id']}/", {"ask_variables_on_launch": False, "ask_limit_on_launch": False},
             method="PATCH")


def test_team_members_and_permissions(admin, api):
    team = api.post("/api/v2/teams/", {"name": "ui-team", "organization": 1})
    user = api.post("/api/v2/users/", {"username": "ui-member", "password": "member-pw-1"})
    api.post(f"/api/v2/teams/{team['id']}/users/", {"id": user["id"]})
    assert f'href="/ui/teams/{team["id"]}"' in admin.get("/ui/teams").text
    assert "ui-member" in admin.get(f"/ui/teams/{team['id']}").text
    assert admin.get(f"/ui/teams/{team['id']}?show=roles").status_code == 200


def test_launch_asks_for_credential_passwords(admin, api):
    machine = api.get("/api/v2/credential_types/?namespace=ssh")["results"][0]
    cred = api.post("/api/v2/credentials/", {"name": "ui-ask", "organization": 1, "credential_type": machine["id"],
                                             "inputs": {"username": "u", "password": "ASK"}})
    jt = demo_jt(api)
    # the template's own machine credential (AWX's Demo Credential) makes way: one machine credential a job
    demo_cred = api.get("/api/v2/credentials/?name=Demo+Credential")["results"][0]
    api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": demo_cred["id"], "disassociate": True})
    api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": cred["id"]})
    form = admin.get(f"/ui/templates/{jt['id']}/launch")
    assert 'name="password__ssh_password"' in form.text and "SSH password" in form.text
    missing = admin.post(f"/ui/templates/{jt['id']}/launch", data={"csrfmiddlewaretoken": csrf(admin)})
    assert missing.status_code == 400 and "Still needed: ssh_password" in missing.text
    given = admin.post(f"/ui/templates/{jt['id']}/launch", data={"password__ssh_password": "pw-at-launch",
                                                                 "csrfmiddlewaretoken": csrf(admin)})
    assert given.status_code == 302 and "pw-at-launch" not in admin.get(given.headers["Location"]).text
    api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": cred["id"], "disassociate": True})
    api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", {"id": demo_cred["id"]})

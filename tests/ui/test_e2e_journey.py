"""Issue 19's acceptance journey, all through the web UI in real Chromium.

From an empty controller (a fresh data dir holding only the ``admin`` superuser, no demo content)
the admin creates an organization, a project from a local git repository (and syncs it), an
inventory with a host, a machine credential, a job template with a two-question survey, a cron
schedule (checking the preview of the next 10 runs), a team and a user who joins it, and grants the
team Execute on the template (and Read on the inventory, so its members may see the host's page).
Then the member logs in, launches the template through its survey, watches the output until the
job ends, and finds the result on the host's page.  After each step the API's state is asserted
with the admin's Basic auth, so every form is shown to reach the same services as the API.

Pages follow contract-19's conventions: ``#f-<field>`` inputs, ``[data-action=save|sync|grant|
launch]`` buttons, a create redirecting to ``/ui/<plural>/<pk>``.
"""
from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager

import pytest

from controller import open_state
from controller.config import Settings
from controller.services.bootstrap import initialize

from ..conftest import DEFAULT_ADMIN_PASSWORD, start_controller
from .conftest import at_path, log_in, screenshot
from .helpers import ok, wait_job

pytestmark = pytest.mark.slow

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Greet with the survey's answers
      ansible.builtin.debug:
        msg: "e2e greets {{ greeting }} in {{ colour }}"
"""
MEMBER, MEMBER_PW = "e2e-operator", "operator-pw-19"


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory) -> str:
    """A local git repository with one playbook on ``main``; its file:// URL."""
    repo = tmp_path_factory.mktemp("e2e-repo")
    (repo / "site.yml").write_text(PLAYBOOK)
    env = {**os.environ, "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.com",
           "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.com", "HOME": str(repo)}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "site.yml"],
                ["git", "commit", "-q", "-m", "site playbook"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    return f"file://{repo}"


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    """An empty controller: the data dir is initialized with the admin only (no demo content)
    before ``serve`` starts on it; local git URLs are allowed for the test's repository."""
    work = tmp_path_factory.mktemp("e2e-controller")
    data = work / "data"
    state = open_state(Settings({"DATA_DIR": str(data)}, environ={}))
    initialize(state, DEFAULT_ADMIN_PASSWORD, demo=False)
    state.store.close()
    live = start_controller(work, data_dir=data, env={"TURRET_ALLOW_LOCAL_SCM_URLS": "true"})
    try:
        yield live
    finally:
        live.stop()


@contextmanager
def step(name: str):
    """Name the journey's step in a failure (the report says which steps pass)."""
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"journey step '{name}' failed: {exc}") from exc
    print(f"step ok: {name}", flush=True)


# -- form helpers (contract-19: #f-<field>, data-action buttons) ------------------------------
def put(page, name: str, value) -> None:
    """Type ``value`` into the field named ``name``: text is filled, a <select> gets the option
    whose label or value is ``value`` (or contains it), a checkbox is set to ``bool(value)``."""
    loc = page.locator(f"[id='f-{name}']")
    kind = loc.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if kind.startswith("select"):
        options = loc.evaluate("e => [...e.options].map(o => [o.value, o.textContent.trim()])")
        wanted = [v for v in (value if isinstance(value, list) else [value])]
        picked = []
        for want in wanted:
            match = next((v for v, text in options if str(want) in (v, text)), None) \
                or next((v for v, text in options if str(want) in text), None)
            assert match is not None, f"{name}: no option {want!r} in {options}"
            picked.append(match)
        loc.select_option(picked if isinstance(value, list) else picked[0])
    elif kind == "input:checkbox":
        loc.set_checked(bool(value))
    else:
        loc.fill(str(value))


def open_new(page, plural: str, noun: str) -> None:
    """From the list page, the "New <noun>" button, as a user finds the create form."""
    page.goto(f"/ui/{plural}")
    page.get_by_role("link", name=f"New {noun}", exact=True).click()
    page.wait_for_url(re.compile(rf".*/ui/{plural}/new(\?.*)?$"))


def save(page, plural: str) -> int:
    """Press Save; the create lands on the new object's page: its pk."""
    page.locator("[data-action=save]").first.click()
    page.wait_for_load_state("load")
    m = re.search(rf"/ui/{plural}/(\d+)(?:[/?#].*)?$", page.url)
    if not m:
        errors = page.locator(".field-error, .errors, .alert").all_inner_texts()
        raise AssertionError(f"save did not land on /ui/{plural}/<pk> ({page.url}): {errors}")
    return int(m.group(1))


def wait_api(api, path: str, check, timeout: float = 120.0) -> dict:
    import time
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = ok(api.get(path))
        if check(body):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{path} never satisfied the check: {json.dumps(body)[:800]}")


# -- the journey ----------------------------------------------------------------------------
def test_a_new_user_journey_through_the_ui(new_page, controller, git_repo):
    api = controller.client()
    admin = new_page()
    ids: dict[str, int] = {}

    with step("organization"):
        open_new(admin, "organizations", "organization")
        put(admin, "description", "Our automation")
        admin.locator("[data-action=save]").click()                    # no name: refused beside the field
        assert "blank" in admin.locator("#e-name").inner_text()
        assert admin.locator("[id='f-name']").get_attribute("aria-describedby") == "e-name"
        assert admin.locator("[id='f-description']").input_value() == "Our automation"   # kept
        put(admin, "name", "Acme")
        ids["org"] = save(admin, "organizations")
        assert ok(api.get(f"/api/v2/organizations/{ids['org']}/"))["name"] == "Acme"

    with step("project from a local git repository, synced"):
        open_new(admin, "projects", "project")
        put(admin, "name", "Site playbooks")
        put(admin, "organization", "Acme")
        put(admin, "scm_type", "git")
        put(admin, "scm_url", git_repo)
        put(admin, "scm_branch", "main")
        ids["project"] = save(admin, "projects")
        project = ok(api.get(f"/api/v2/projects/{ids['project']}/"))
        assert (project["scm_type"], project["scm_url"], project["organization"]) == ("git", git_repo, ids["org"])
        admin.locator("[data-action=sync]").first.click()          # sync, then follow its output live
        admin.wait_for_url(re.compile(r".*/ui/project_updates/\d+$"))
        admin.locator("#update-status [data-status='successful']").wait_for(timeout=120_000)
        assert "PLAY RECAP" in admin.locator("#update-output").inner_text()
        update_id = int(admin.url.rsplit("/", 1)[1])
        update = ok(api.get(f"/api/v2/project_updates/{update_id}/"))
        assert update["project"] == ids["project"] and update["status"] == "successful"
        wait_api(api, f"/api/v2/projects/{ids['project']}/", lambda p: p["status"] == "successful")
        assert "site.yml" in ok(api.get(f"/api/v2/projects/{ids['project']}/playbooks/"))

    with step("inventory with a host"):
        open_new(admin, "inventories", "inventory")
        put(admin, "name", "Local")
        put(admin, "organization", "Acme")
        ids["inv"] = save(admin, "inventories")
        admin.goto(f"/ui/hosts/new?inventory={ids['inv']}")
        put(admin, "name", "localhost")
        put(admin, "variables", f"ansible_connection: local\nansible_python_interpreter: {sys.executable}\n")
        ids["host"] = save(admin, "hosts")
        host = ok(api.get(f"/api/v2/hosts/{ids['host']}/"))
        assert host["inventory"] == ids["inv"] and "ansible_connection: local" in host["variables"]

    with step("machine credential"):
        machine = ok(api.get("/api/v2/credential_types/?namespace=ssh"))["results"][0]
        open_new(admin, "credentials", "credential")
        put(admin, "name", "Local login")
        admin.get_by_label("Credential type").select_option(str(machine["id"]))
        username = admin.get_by_label("Username", exact=True)
        if not username.count():                                 # the type's inputs come with a reload
            admin.get_by_role("button", name=re.compile("type's inputs|Choose type")).click()
            username.wait_for()
        assert admin.locator("[id='f-name']").input_value() == "Local login"      # kept across the reload
        put(admin, "organization", "Acme")
        username.fill(getpass.getuser())
        ids["cred"] = save(admin, "credentials")
        cred = ok(api.get(f"/api/v2/credentials/{ids['cred']}/"))
        assert cred["credential_type"] == machine["id"] and cred["inputs"]["username"] == getpass.getuser()

    with step("job template"):
        open_new(admin, "templates", "template")
        put(admin, "name", "Greet")
        put(admin, "inventory", "Local")
        put(admin, "project", "Site playbooks")
        playbook = admin.locator("[id='f-playbook']")
        if playbook.evaluate("e => e.tagName") == "SELECT" and "site.yml" not in playbook.inner_text():
            admin.locator("[data-refresh=playbooks]").click()    # without the script: the form reloads them
            admin.wait_for_load_state("load")
        put(admin, "playbook", "site.yml")
        put(admin, "credentials", ["Local login"])
        ids["jt"] = save(admin, "templates")
        jt = ok(api.get(f"/api/v2/job_templates/{ids['jt']}/"))
        assert (jt["project"], jt["inventory"], jt["playbook"]) == (ids["project"], ids["inv"], "site.yml")
        assert [c["id"] for c in ok(api.get(f"/api/v2/job_templates/{ids['jt']}/credentials/"))["results"]] \
            == [ids["cred"]]

    with step("survey with two questions"):
        admin.get_by_role("link", name="Survey", exact=True).click()
        admin.wait_for_url(re.compile(r".*/survey$"))
        admin.get_by_role("button", name="Add question").click()
        put(admin, "spec-0-question_name", "Who is greeted?")
        put(admin, "spec-0-variable", "greeting")
        put(admin, "spec-0-type", "text")
        put(admin, "spec-0-required", True)
        put(admin, "spec-0-default", "world")
        admin.get_by_role("button", name="Add question").click()
        assert admin.locator("[id='f-spec-0-variable']").input_value() == "greeting"   # kept across the add
        put(admin, "spec-1-question_name", "Which colour?")
        put(admin, "spec-1-variable", "colour")
        put(admin, "spec-1-type", "multiplechoice")
        put(admin, "spec-1-choices", "red\nblue")
        put(admin, "spec-1-default", "red")
        put(admin, "survey_enabled", True)
        admin.locator("[data-action=save]").first.click()
        admin.locator(".notice", has_text="Survey saved").wait_for()
        preview = admin.locator("#survey-preview")                  # the launch form as it will be asked
        assert preview.get_by_label("Who is greeted?").input_value() == "world"
        assert preview.get_by_label("Which colour?").locator("option").all_inner_texts()[-2:] == ["red", "blue"]
        spec = ok(api.get(f"/api/v2/job_templates/{ids['jt']}/survey_spec/"))
        assert [(q["variable"], q["type"]) for q in spec["spec"]] == [("greeting", "text"),
                                                                     ("colour", "multiplechoice")]
        assert ok(api.get(f"/api/v2/job_templates/{ids['jt']}/"))["survey_enabled"] is True

    with step("cron schedule with a preview of the next 10 runs"):
        admin.goto(f"/ui/templates/{ids['jt']}")
        admin.get_by_role("link", name="Add schedule").click()
        admin.wait_for_url(re.compile(r".*/ui/schedules/new.*"))
        put(admin, "name", "Weekday mornings")
        put(admin, "unified_job_template", "Greet")
        put(admin, "schedule_type", "cron")
        put(admin, "cron", "0 3 * * 1-5")
        put(admin, "timezone", "Europe/Paris")
        admin.locator("[data-action=preview]").click()
        runs = admin.locator("#schedule-preview li time")
        runs.nth(9).wait_for()
        assert runs.count() == 10
        first = runs.first.get_attribute("datetime")
        ids["schedule"] = save(admin, "schedules")
        sched = ok(api.get(f"/api/v2/schedules/{ids['schedule']}/"))
        assert sched["unified_job_template"] == ids["jt"] and "TZID=Europe/Paris" in sched["rrule"]
        assert "BYDAY=MO,TU,WE,TH,FR" in sched["rrule"] and "BYHOUR=3" in sched["rrule"], sched["rrule"]
        assert sched["next_run"] and sched["next_run"][:16] == first[:16], (sched["next_run"], first)
        admin.goto(f"/ui/templates/{ids['jt']}")                      # listed on the template's page
        assert "Weekday mornings" in admin.locator("#schedules").inner_text()

    with step("team and a member user"):
        open_new(admin, "teams", "team")
        put(admin, "name", "Operators")
        put(admin, "organization", "Acme")
        ids["team"] = save(admin, "teams")
        open_new(admin, "users", "user")
        put(admin, "username", MEMBER)
        put(admin, "password", MEMBER_PW)
        put(admin, "password_confirm", MEMBER_PW)
        ids["user"] = save(admin, "users")
        admin.goto(f"/ui/teams/{ids['team']}")
        put(admin, "user", str(ids["user"]))
        admin.get_by_role("button", name="Add member").click()
        admin.get_by_role("link", name=MEMBER).wait_for()
        members = ok(api.get(f"/api/v2/teams/{ids['team']}/users/"))["results"]
        assert [u["username"] for u in members] == [MEMBER]

    with step("grant the team Execute on the template and Read on the inventory"):
        admin.goto(f"/ui/templates/{ids['jt']}")
        admin.get_by_role("link", name="Access", exact=True).click()
        admin.wait_for_url(re.compile(r".*/access$"))
        put(admin, "role-team", "Execute")
        put(admin, "team", "Operators")
        admin.get_by_role("button", name="Grant to team").click()
        admin.locator("[data-role-field=execute_role] [data-team]", has_text="Operators").wait_for()
        admin.goto(f"/ui/inventories/{ids['inv']}/access")
        put(admin, "role-team", "Read")
        put(admin, "team", "Operators")
        admin.get_by_role("button", name="Grant to team").click()
        admin.locator("[data-role-field=read_role] [data-team]", has_text="Operators").wait_for()
        roles = {(r["summary_fields"].get("resource_id"), r["name"])
                 for r in ok(api.get(f"/api/v2/teams/{ids['team']}/roles/?page_size=50"))["results"]}
        assert (ids["jt"], "Execute") in roles and (ids["inv"], "Read") in roles, roles

    with step("log out, log in as the member"):
        admin.get_by_role("button", name="Log out").click()
        admin.wait_for_url(at_path("/ui/login"))
        member = admin
        log_in(member, MEMBER, MEMBER_PW)
        assert member.locator(".who").inner_text() == MEMBER

    with step("launch through the survey and watch the output"):
        member.goto("/ui/templates")
        member.get_by_role("link", name="Greet", exact=True).click()
        member.wait_for_url(at_path(f"/ui/templates/{ids['jt']}"))
        assert member.locator("[data-action=edit], [href$='/edit']").count() == 0   # no edit for an executor
        csrf = next(c["value"] for c in member.context.cookies() if c["name"] == "csrftoken")
        forged = member.request.post(f"/ui/templates/{ids['jt']}/edit",
                                     form={"csrfmiddlewaretoken": csrf, "name": "Hijacked"})
        assert forged.status == 403 and "text/html" in forged.headers["content-type"]   # refused anyway
        assert ok(api.get(f"/api/v2/job_templates/{ids['jt']}/"))["name"] == "Greet"
        member.locator("[data-action=launch]").first.click()
        member.wait_for_url(re.compile(r".*/launch$"))
        member.get_by_label("Who is greeted?").fill("operators")
        member.get_by_label("Which colour?").select_option("blue")
        member.get_by_role("button", name="Launch").click()
        member.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
        ids["job"] = int(member.url.rsplit("/", 1)[1])
        member.locator("#job-status [data-status='successful']").wait_for(timeout=120_000)
        member.locator(".output", has_text="e2e greets operators in blue").wait_for(timeout=30_000)
        job = wait_job(api, ids["job"])
        assert job["status"] == "successful" and job["launch_type"] == "manual"
        assert job["summary_fields"]["created_by"]["username"] == MEMBER
        assert json.loads(job["extra_vars"]) == {"greeting": "operators", "colour": "blue"}
        screenshot(member, "e2e-job")

    with step("the result on the host's page"):
        member.goto(f"/ui/hosts/{ids['host']}")
        row = member.locator(f"a[href='/ui/jobs/{ids['job']}']")
        row.first.wait_for()
        history = member.locator("tr", has=member.locator(f"a[href='/ui/jobs/{ids['job']}']"))
        assert "successful" in history.first.inner_text()
        summaries = ok(api.get(f"/api/v2/hosts/{ids['host']}/job_host_summaries/"))["results"]
        assert [(s["job"], s["ok"], s["failed"]) for s in summaries] == [(ids["job"], 1, False)]
        screenshot(member, "e2e-host")
    assert not member.console_errors, member.console_errors
    api.close()

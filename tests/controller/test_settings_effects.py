"""What the settings of /api/v2/settings/ change, with real jobs and requests: each change is
made through the API and takes effect in the running controller (no restart)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from controller.jobs.scheduler import tick
from controller.jobs.spec import RunSpec
from controller.services.bootstrap import system_context
from controller.services.settings_runs import apply_run_settings
from tests.support.jobs import (
    awx_stdout, events, launch, make_jt, make_org, make_stage, uniq, wait_finished, wait_job,
)

JOB_WORKERS = 2
ENV_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="global={{ lookup('env', 'P1_GLOBAL') }}"
"""
SLEEP_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - command: sleep 30
"""
HELLO = """- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=hello
"""
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def _set(admin, slug: str, **values):
    resp = admin.patch(f"/api/v2/settings/{slug}/", values)
    assert resp.status_code == 200, resp.json
    return resp.json


@pytest.fixture()
def reset(admin):
    yield
    for slug in ("jobs", "system", "ui"):
        assert admin.delete(f"/api/v2/settings/{slug}/").status_code == 204


@pytest.fixture(scope="module")
def stage(admin, app_state):
    return make_stage(admin, app_state.settings.data_dir, {"env.yml": ENV_PLAY, "sleep.yml": SLEEP_PLAY,
                                                           "hello.yml": HELLO})


# The first test runs before any job worker starts (``jobs`` is not requested yet), so the
# jobs it launches stay pending, as behind a full queue.
def test_schedule_max_jobs_skips_an_occurrence_while_jobs_wait(admin, app_state, stage, reset):
    jt = make_jt(admin, stage["project"], stage["inventory"], "hello.yml", allow_simultaneous=True)
    for _ in range(2):
        launch(admin, jt)
    start = (datetime.now(timezone.utc) - timedelta(seconds=5)).strftime("%Y%m%dT%H%M%SZ")
    sched = admin.post("/api/v2/schedules/", {"name": uniq("s"), "unified_job_template": jt["id"],
                                              "rrule": f"DTSTART:{start} RRULE:FREQ=MINUTELY;INTERVAL=1"}).json
    due = datetime.strptime(sched["next_run"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    _set(admin, "jobs", SCHEDULE_MAX_JOBS=2)
    assert tick(system_context(app_state), due + timedelta(seconds=1)) == []
    assert admin.get(f"/api/v2/job_templates/{jt['id']}/jobs/").json["count"] == 2
    _set(admin, "jobs", SCHEDULE_MAX_JOBS=3)
    fired = tick(system_context(app_state), due + timedelta(seconds=61))
    assert [f["schedule"] for f in fired] == [sched["id"]]
    assert admin.get(f"/api/v2/job_templates/{jt['id']}/jobs/").json["count"] == 3
    admin.delete(f"/api/v2/schedules/{sched['id']}/")


def test_task_env_reaches_every_job_and_ad_hoc_command(admin, jobs, stage, reset):
    _set(admin, "jobs", AWX_TASK_ENV={"P1_GLOBAL": "from-settings"})
    jt = make_jt(admin, stage["project"], stage["inventory"], "env.yml")
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful"
    assert "global=from-settings" in awx_stdout(events(admin, job["id"]))
    assert job["job_env"]["P1_GLOBAL"] == "from-settings"
    resp = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"], "module_name": "command",
                                                   "module_args": "printenv P1_GLOBAL"})
    assert resp.status_code == 201, resp.json
    adhoc = wait_finished(admin, f"/api/v2/ad_hoc_commands/{resp.json['id']}/")
    assert adhoc["status"] == "successful"
    stdout = admin.get(f"/api/v2/ad_hoc_commands/{adhoc['id']}/stdout/?format=txt").data.decode()
    assert "from-settings" in stdout


@pytest.mark.slow
def test_default_job_timeout_ends_a_job_without_its_own(admin, jobs, stage, reset):
    _set(admin, "jobs", DEFAULT_JOB_TIMEOUT=2)
    jt = make_jt(admin, stage["project"], stage["inventory"], "sleep.yml")
    assert jt["timeout"] == 0
    job = wait_job(admin, launch(admin, jt)["id"], timeout=40)
    assert job["status"] == "failed"
    assert job["job_explanation"] == "Job terminated due to timeout"
    assert job["elapsed"] < 20


@pytest.mark.slow
def test_idle_timeout_kills_a_silent_job(admin, jobs, stage, reset):
    _set(admin, "jobs", DEFAULT_JOB_IDLE_TIMEOUT=2)
    jt = make_jt(admin, stage["project"], stage["inventory"], "sleep.yml")
    job = wait_job(admin, launch(admin, jt)["id"], timeout=40)
    assert job["status"] == "failed"
    assert job["job_explanation"] == "Job terminated due to timeout (no output for 2 seconds)"
    assert job["elapsed"] < 20


def test_run_settings_fill_what_a_run_leaves_open(admin, app_state, reset):
    _set(admin, "jobs", DEFAULT_PROJECT_UPDATE_TIMEOUT=11, DEFAULT_INVENTORY_UPDATE_TIMEOUT=12,
         DEFAULT_JOB_TIMEOUT=13, PROJECT_UPDATE_VVV=True, AWX_TASK_ENV={"A": "global", "B": "global"})
    settings = app_state.settings
    update = apply_run_settings(settings, "project_update", RunSpec(ident="u", envvars={"B": "own"}))
    assert (update.timeout, update.verbosity, update.envvars) == (11, 3, {"A": "global", "B": "own"})
    assert apply_run_settings(settings, "inventory_update", RunSpec(ident="i")).timeout == 12
    own = apply_run_settings(settings, "job", RunSpec(ident="j", timeout=5))
    assert (own.timeout, own.verbosity) == (5, 0)     # a run's own timeout wins; -vvv is for updates
    assert apply_run_settings(settings, "ad_hoc_command", RunSpec(ident="a")).timeout == 0


def test_ad_hoc_commands_whitelist(admin, stage, reset):
    _set(admin, "jobs", AD_HOC_COMMANDS=["ping"])
    resp = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"], "module_name": "shell",
                                                   "module_args": "id"})
    assert resp.status_code == 400
    assert resp.json == {"module_name": ['"shell" is not a valid choice.']}
    ok = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"], "module_name": "ping"})
    assert ok.status_code == 201 and ok.json["module_name"] == "ping"


def test_max_forks_refuses_templates_and_ad_hoc_commands(admin, stage, reset):
    _set(admin, "jobs", MAX_FORKS=5)
    body = {"name": uniq("jt"), "project": stage["project"]["id"], "inventory": stage["inventory"]["id"],
            "playbook": "hello.yml", "forks": 6}
    resp = admin.post("/api/v2/job_templates/", body)
    assert resp.status_code == 400
    assert resp.json == {"forks": ["Maximum number of forks (5) exceeded."]}
    resp = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"], "module_name": "ping",
                                                   "forks": 6})
    assert resp.status_code == 400
    assert resp.json == {"forks": ["Maximum number of forks (5) exceeded."]}
    _set(admin, "jobs", MAX_FORKS=0)   # no limit
    resp = admin.post("/api/v2/job_templates/", {**body, "forks": 500})
    assert resp.status_code == 201 and resp.json["forks"] == 500


LOGO = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="


def test_custom_logo_and_login_info_show_on_api_root_and_login_page(admin, anon, reset):
    assert anon.get("/api/").json["custom_logo"] == ""
    _set(admin, "ui", CUSTOM_LOGO=LOGO, CUSTOM_LOGIN_INFO="Authorized use <only>")
    root = anon.get("/api/").json
    assert root["custom_logo"] == LOGO and root["custom_login_info"] == "Authorized use <only>"
    page = anon.get("/ui/login").data.decode()
    assert f'src="{LOGO}"' in page
    assert "Authorized use &lt;only&gt;" in page
    bad = admin.patch("/api/v2/settings/ui/", {"CUSTOM_LOGO": "https://example.com/logo.png"})
    assert bad.status_code == 400 and list(bad.json) == ["CUSTOM_LOGO"]


def _org_admin(admin, make_user, org: dict):
    uid, client = make_user()
    role = org["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role}).status_code == 204
    return uid, client


def test_org_admins_can_see_all_users(admin, make_user, reset):
    org = admin.get(f"/api/v2/organizations/{make_org(admin)['id']}/").json
    _, org_admin = _org_admin(admin, make_user, org)
    stranger_id, _ = make_user()
    assert org_admin.get(f"/api/v2/users/{stranger_id}/").status_code == 200      # AWX default: on
    _set(admin, "system", ORG_ADMINS_CAN_SEE_ALL_USERS=False)
    assert org_admin.get(f"/api/v2/users/{stranger_id}/").status_code == 403
    assert stranger_id not in {u["id"] for u in org_admin.get("/api/v2/users/?page_size=200").json["results"]}


def test_manage_organization_auth_off_leaves_memberships_to_superusers(admin, make_user, reset):
    org = admin.get(f"/api/v2/organizations/{make_org(admin)['id']}/").json
    _, org_admin = _org_admin(admin, make_user, org)
    member_id, _ = make_user()
    assert org_admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": member_id}).status_code == 204
    other_id, _ = make_user()
    assert "POST" in org_admin.options("/api/v2/users/").json["actions"]
    _set(admin, "system", MANAGE_ORGANIZATION_AUTH=False)
    resp = org_admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": other_id})
    assert resp.status_code == 403 and resp.json == FORBIDDEN
    members = {u["id"] for u in admin.get(f"/api/v2/organizations/{org['id']}/users/").json["results"]}
    assert member_id in members and other_id not in members
    assert org_admin.patch(f"/api/v2/users/{member_id}/", {"first_name": "X"}).status_code == 403
    assert org_admin.post("/api/v2/users/", {"username": uniq("u"), "password": "pw-12345"}).status_code == 403
    # and OPTIONS no longer offers the POST it would refuse (AWX UserAccess.can_add({}))
    assert "POST" not in org_admin.options("/api/v2/users/").json["actions"]
    assert "POST" in admin.options("/api/v2/users/").json["actions"]
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": other_id}).status_code == 204


def test_jinja_and_retention_settings_are_live(admin, app_state, reset):
    _set(admin, "jobs", ALLOW_JINJA_IN_EXTRA_VARS="never")
    _set(admin, "system", KEEP_DAYS=7)
    assert app_state.settings.ALLOW_JINJA_IN_EXTRA_VARS == "never"
    assert app_state.settings.KEEP_DAYS == 7


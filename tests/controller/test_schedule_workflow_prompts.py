"""A workflow job template's schedule takes the prompts the workflow asks for (AWX 24.6.1: a
saved launch configuration is checked with the template's ``_accept_or_ignore_job_kwargs``
over its ``get_ask_mapping``): inventory, limit, branch, tags, skip tags, extra variables and
its survey; refusals carry AWX's messages, and a fired schedule launches the workflow job with
what was saved."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from controller.jobs.scheduler import tick
from tests.controller.conftest import unique
from tests.support.jobs import make_inventory, make_org, set_survey
from tests.support.schedules import created, scheduler_fixtures

RULE = "DTSTART:20320101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
NOT_PROMPTED = ["Field is not configured to prompt on launch."]

ctx, quiet_schedules = scheduler_fixtures()


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


def wfjt(admin, org: dict, **fields) -> dict:
    return created(admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"],
                                                                   **fields}))


def test_a_workflow_that_asks_nothing_refuses_its_prompts_with_awx_messages(admin, org):
    wf = wfjt(admin, org)
    url = f"/api/v2/workflow_job_templates/{wf['id']}/schedules/"
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "limit": "h1", "job_tags": "t", "scm_branch": "b"})
    assert resp.status_code == 400
    assert resp.json == {"limit": NOT_PROMPTED, "job_tags": NOT_PROMPTED, "scm_branch": NOT_PROMPTED}
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "extra_data": {"x": 1}})
    assert resp.status_code == 400
    assert resp.json == {"extra_data": ["Variables x are not allowed on launch. Check the Prompt on Launch setting "
                                        "on the Workflow Job Template to include Extra Variables."]}
    # a prompt a workflow has no ask flag for is ignored, as AWX's workflow check does
    s = created(admin.post(url, {"name": unique("s"), "rrule": RULE, "verbosity": 2}))
    assert admin.get(f"/api/v2/schedules/{s['id']}/").json["name"] == s["name"]
    assert admin.get(f"/api/v2/workflow_job_templates/{wf['id']}/schedules/").json["count"] == 1


def test_asked_prompts_and_survey_are_saved_checked_and_fired(admin, app_state, ctx, org):
    inventory = make_inventory(admin, org, hosts=("h1",))
    wf = wfjt(admin, org, ask_limit_on_launch=True, ask_inventory_on_launch=True, ask_variables_on_launch=True,
              ask_tags_on_launch=True)
    set_survey(admin, wf, [
        {"type": "text", "question_name": "Who", "question_description": "", "variable": "who", "required": True,
         "min": 0, "max": 10},
        {"type": "password", "question_name": "Secret", "question_description": "", "variable": "secret",
         "required": False, "min": 0, "max": 20}])
    url = f"/api/v2/workflow_job_templates/{wf['id']}/schedules/"
    missing = admin.post(url, {"name": unique("s"), "rrule": RULE, "limit": "h1"})
    assert missing.status_code == 400 and list(missing.json) == ["variables_needed_to_start"]
    s = created(admin.post(url, {"name": unique("s"), "rrule": RULE, "limit": "h1", "job_tags": "web",
                                 "inventory": inventory["id"],
                                 "extra_data": {"who": "sched", "secret": "s3cret-wf", "more": 1}}))
    assert (s["limit"], s["job_tags"], s["inventory"]) == ("h1", "web", inventory["id"])
    assert s["extra_data"] == {"who": "sched", "secret": "$encrypted$", "more": 1}
    stored = json.loads(app_state.store.get("schedules", s["id"])["extra_data"])
    assert stored["who"] == "sched" and stored["secret"] != "s3cret-wf"       # encrypted at rest
    # the workflow stops asking for the limit: touching a prompt checks them all again
    assert admin.patch(wf["url"], {"ask_limit_on_launch": False}).status_code == 200
    resp = admin.patch(s["url"], {"job_tags": "db"})
    assert resp.status_code == 400 and resp.json == {"limit": NOT_PROMPTED}
    assert admin.patch(wf["url"], {"ask_limit_on_launch": True}).status_code == 200

    [fired] = tick(ctx, datetime(2032, 1, 1, 0, 0, 5, tzinfo=timezone.utc))
    assert (fired["schedule"], fired["job_type"]) == (s["id"], "workflow_job")
    wj = admin.get(f"/api/v2/workflow_jobs/{fired['job']}/").json
    assert wj["workflow_job_template"] == wf["id"]
    assert (wj["limit"], wj["job_tags"], wj["inventory"]) == ("h1", "web", inventory["id"])
    assert wj["launch_type"] == "scheduled"
    extra = json.loads(wj["extra_vars"])
    assert extra["who"] == "sched" and extra["more"] == 1 and extra["secret"] == "$encrypted$"


def test_a_field_the_workflow_has_no_prompt_for_does_not_check_the_others_again(admin, org):
    """AWX checks a saved launch configuration again only when the request names one of the
    template's prompts (or extra_data): a workflow that stopped asking for the limit keeps its
    schedule editable through fields it has no prompt for, and refuses a change of its prompts."""
    wf = wfjt(admin, org, ask_limit_on_launch=True)
    s = created(admin.post(f"/api/v2/workflow_job_templates/{wf['id']}/schedules/",
                           {"name": unique("s"), "rrule": RULE, "limit": "h1"}))
    assert admin.patch(wf["url"], {"ask_limit_on_launch": False}).status_code == 200
    ok = admin.patch(s["url"], {"verbosity": 2, "description": "kept"})
    assert ok.status_code == 200, ok.json
    assert (ok.json["verbosity"], ok.json["description"], ok.json["limit"]) == (2, "kept", "h1")
    refused = admin.patch(s["url"], {"limit": "h2"})
    assert refused.status_code == 400 and refused.json == {"limit": NOT_PROMPTED}
    assert admin.get(s["url"]).json["limit"] == "h1"

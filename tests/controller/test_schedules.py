"""Schedules (AWX §7.1): the API (rrule rules and messages, cron / interval / date forms,
prompts validated like a launch, preview, zoneinfo, sub-lists, access) and the scheduler's
``tick(ctx, now)`` driven with fixed times (DST, COUNT/UNTIL, windows, missed occurrences,
prompts reaching the job, error jobs), plus one end-to-end run with real threads and a real job.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.jobs.scheduler import Scheduler, tick
from controller.services import rrules, schedule_forms
from controller.services.bootstrap import initialize
from controller.store import schedules as sq
from tests.controller.conftest import ADMIN_PASSWORD, Client, unique
from tests.support.jobs import make_inventory, make_jt, make_org, make_project, set_survey, wait_job
from tests.support.schedules import created, scheduler_fixtures, world_fixtures

UTC = timezone.utc
PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=\"who={{ who | default('nobody') }}\"\n"
DAILY_PARIS = "DTSTART;TZID=Europe/Paris:{} RRULE:FREQ=DAILY;INTERVAL=1"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def run_ticks(ctx, start: str, end: str, step: timedelta) -> list[dict]:
    """tick() at every ``step`` from start to end inclusive; everything fired, in order."""
    fired, now, stop = [], at(start), at(end)
    while now <= stop:
        fired += tick(ctx, now)
        now += step
    return fired


ctx, quiet_schedules = scheduler_fixtures()


org, project, inventory = world_fixtures(PLAY, hosts=("h1", "h2"))


@pytest.fixture
def jt(admin, project, inventory):
    return make_jt(admin, project, inventory, "play.yml")


def schedule(admin, jt: dict, **body) -> dict:
    return created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": unique("sched"), **body}))


# -- rrule validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, message", [
    ("", "This field may not be blank."),
    ("DTSTART:NONSENSE", "Valid DTSTART required in rrule"),
    ("RRULE:FREQ=MINUTELY;INTERVAL=10;COUNT=5", "Valid DTSTART required in rrule"),
    ("DTSTART:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1", "DTSTART cannot be a naive datetime"),
    ("DTSTART:20300308T050000Z DTSTART:20310308T050000", "Multiple DTSTART is not supported"),
    ("DTSTART:20300308T050000Z", "One or more rule required in rrule"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=MONTHLY;INTERVAL=1 EXDATE:20300401T050000Z", "EXDATE not allowed"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=MONTHLY;INTERVAL=1 RDATE:20300401T050000Z", "RDATE not allowed"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=SECONDLY;INTERVAL=5;COUNT=6", "SECONDLY is not supported"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=DAILY", "INTERVAL required in rrule"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=5MO", "BYDAY with numeric prefix not supported"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5;UNTIL=20310308T050000Z",
     "RRULE may not contain both COUNT and UNTIL"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1;COUNT=2000", "COUNT > 999 is unsupported"),
    ("DTSTART;TZID=US-Eastern:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1", "A valid TZID must be provided"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=REGULARLY;INTERVAL=1", "rrule parsing failed validation"),
    ("DTSTART;TZID=America/New_York:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1", "rrule parsing failed validation"),
    ("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20300401", "rrule parsing failed validation"),
])
def test_rrule_rejections_use_awx_messages(admin, jt, rule, message):
    resp = admin.post("/api/v2/schedules/", {"name": unique("bad"), "unified_job_template": jt["id"], "rrule": rule})
    assert resp.status_code == 400, resp.json
    assert any(message in m for m in resp.json["rrule"]), resp.json
    preview = admin.post("/api/v2/schedules/preview/", {"rrule": rule})
    assert preview.status_code == 400 and preview.json == resp.json


def test_naive_until_is_read_in_the_dtstart_zone_and_stored_in_utc(admin, jt):
    """AWX coerce_naive_until: UNTIL without Z means the DTSTART's wall time."""
    s = schedule(admin, jt, rrule="DTSTART;TZID=America/New_York:20300308T050000 "
                                  "RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20300310T050000")
    assert s["rrule"].endswith("UNTIL=20300310T090000Z")
    assert s["until"] == "2030-03-10T05:00:00" and s["dtend"] == "2030-03-10T09:00:00Z"


# -- the stored model -----------------------------------------------------------------------------------
def test_create_read_back_and_sub_lists(admin, jt, inventory):
    rule = "DTSTART;TZID=Europe/Paris:20301122T090000 RRULE:FREQ=DAILY;INTERVAL=1;COUNT=3"
    s = created(admin.post("/api/v2/schedules/", {"name": "nightly", "unified_job_template": jt["id"], "rrule": rule}))
    assert s["type"] == "schedule" and s["url"] == f"/api/v2/schedules/{s['id']}/"
    assert (s["rrule"], s["timezone"], s["schedule_type"], s["enabled"]) == (rule, "Europe/Paris", "rrule", True)
    assert (s["dtstart"], s["next_run"], s["dtend"], s["until"]) == \
        ("2030-11-22T08:00:00Z", "2030-11-22T08:00:00Z", "2030-11-24T08:00:00Z", "")
    assert s["extra_data"] == {} and all(s[k] is None for k in ("limit", "inventory", "diff_mode", "job_type"))
    assert s["summary_fields"]["unified_job_template"] == {
        "id": jt["id"], "name": jt["name"], "description": "", "unified_job_type": "job"}
    assert s["summary_fields"]["inventory"]["id"] == inventory["id"]
    assert s["related"]["unified_job_template"] == f"/api/v2/job_templates/{jt['id']}/"
    assert s["related"]["unified_jobs"] == f"/api/v2/schedules/{s['id']}/unified_jobs/"
    listed = admin.get(f"/api/v2/job_templates/{jt['id']}/schedules/").json
    assert [x["id"] for x in listed["results"]] == [s["id"]]
    assert admin.get(f"/api/v2/schedules/?unified_job_template={jt['id']}&name=nightly").json["count"] == 1
    assert jt["related"]["schedules"] == f"/api/v2/job_templates/{jt['id']}/schedules/"
    options = admin.options("/api/v2/schedules/").json["actions"]["POST"]
    assert {"rrule", "unified_job_template", "extra_data", "limit", "cron", "interval", "date"} <= set(options)
    assert "dtstart" not in options and "next_run" not in options
    # unique per template, not globally
    dup = admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "nightly", "rrule": rule})
    assert dup.status_code == 400
    assert dup.json == {"__all__": ["Schedule with this Unified job template and Name already exists."]}


def test_template_ids_are_unique_across_template_kinds(admin, app_state, org, jt):
    """The awx.awx collection posts the id it found in /unified_job_templates/: it names one template."""
    git = created(admin.post("/api/v2/projects/", {"name": unique("git"), "organization": org["id"],
                                                    "scm_type": "git", "scm_url": "https://example.invalid/r.git"}))
    assert git["id"] > jt["id"]
    found = admin.get(f"/api/v2/unified_job_templates/?name={git['name']}").json["results"]
    assert [(f["id"], f["type"]) for f in found] == [(git["id"], "project")]
    s = created(admin.post("/api/v2/schedules/", {"name": unique("p"), "unified_job_template": git["id"],
                                                   "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    assert s["summary_fields"]["unified_job_template"]["unified_job_type"] == "project_update"
    assert s["related"]["unified_job_template"] == f"/api/v2/projects/{git['id']}/"
    assert admin.get(f"/api/v2/projects/{git['id']}/schedules/").json["count"] == 1
    assert admin.get(f"/api/v2/job_templates/{jt['id']}/schedules/").json["count"] == 0
    # projects take no prompts
    bad = admin.post(f"/api/v2/projects/{git['id']}/schedules/", {
        "name": unique("p"), "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1", "limit": "x"})
    assert bad.status_code == 400 and bad.json == {"limit": ["Field is not allowed on launch."]}
    missing = admin.post("/api/v2/schedules/", {"name": unique("p"), "unified_job_template": 999999,
                                                 "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"})
    assert missing.status_code == 400 and missing.json == {"unified_job_template": ['Invalid pk "999999" - object '
                                                                                   'does not exist.']}


def test_manual_projects_cannot_be_scheduled(admin, project):
    resp = admin.post(f"/api/v2/projects/{project['id']}/schedules/", {
        "name": unique("m"), "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"})
    assert resp.status_code == 400
    assert resp.json == {"unified_job_template": ["Manual Project cannot have a schedule set."]}


# -- prompts ----------------------------------------------------------------------------------------------
RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"


def test_prompts_are_validated_like_a_launch(admin, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    url = f"/api/v2/job_templates/{jt['id']}/schedules/"
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "limit": "h1", "job_tags": "t"})
    assert resp.status_code == 400
    assert resp.json == {"limit": ["Field is not configured to prompt on launch."],
                         "job_tags": ["Field is not configured to prompt on launch."]}
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "extra_data": {"x": 1, "y": 2}})
    assert resp.status_code == 400
    assert resp.json == {"extra_data": ["Variables x, y are not allowed on launch. Check the Prompt on Launch setting "
                                        "on the Job Template to include Extra Variables."]}
    # a value equal to the template's is no prompt at all
    created(admin.post(url, {"name": unique("s"), "rrule": RULE, "limit": "", "job_type": "run"}))
    admin.patch(jt["url"], {"ask_limit_on_launch": True, "ask_variables_on_launch": True,
                            "ask_diff_mode_on_launch": True})
    s = schedule(admin, jt, rrule=RULE, limit="h1", extra_data={"x": 1}, diff_mode=False)
    assert (s["limit"], s["extra_data"], s["diff_mode"]) == ("h1", {"x": 1}, False)
    # PATCH {"enabled": false} skips all other validation (AWX issue 8641) ...
    admin.patch(jt["url"], {"ask_limit_on_launch": False})
    off = admin.patch(s["url"], {"enabled": False})
    assert off.status_code == 200 and off.json["enabled"] is False and off.json["next_run"] is None
    assert admin.patch(s["url"], {"description": "kept"}).status_code == 200
    # ... but touching a prompt validates them all again
    resp = admin.patch(s["url"], {"limit": "h2"})
    assert resp.status_code == 400 and resp.json == {"limit": ["Field is not configured to prompt on launch."]}
    assert admin.patch(s["url"], {"limit": None}).json["limit"] is None


def test_survey_answers_are_checked_and_passwords_encrypted(admin, app_state, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    set_survey(admin, jt, [
        {"type": "text", "question_name": "Who", "question_description": "", "variable": "who", "required": True,
         "min": 0, "max": 5},
        {"type": "password", "question_name": "Secret", "question_description": "", "variable": "secret",
         "required": False, "min": 0, "max": 32}])
    url = f"/api/v2/job_templates/{jt['id']}/schedules/"
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "extra_data": {"who": "far too long"}})
    assert resp.status_code == 400 and list(resp.json) == ["variables_needed_to_start"]
    resp = admin.post(url, {"name": unique("s"), "rrule": RULE, "extra_data": {"other": 1, "who": "bob"}})
    assert resp.status_code == 400 and "Variables other are not allowed" in resp.json["extra_data"][0]
    s = schedule(admin, jt, rrule=RULE, extra_data={"who": "bob", "secret": "hunter2"})
    assert s["extra_data"] == {"who": "bob", "secret": "$encrypted$"}
    stored = app_state.store.get("schedules", s["id"])["extra_data"]
    assert "hunter2" not in stored and "$encrypted$UTF8$AESCBC$" in stored
    kept = admin.patch(s["url"], {"extra_data": {"who": "amy", "secret": "$encrypted$"}})
    assert kept.status_code == 200 and kept.json["extra_data"] == {"who": "amy", "secret": "$encrypted$"}
    again = json.loads(app_state.store.get("schedules", s["id"])["extra_data"])
    assert again["who"] == "amy" and app_state.vault.decrypt(again["secret"]) == "hunter2"


# -- input forms ----------------------------------------------------------------------------------------
def test_cron_form_is_translated_read_back_and_switched(admin, jt):
    s = schedule(admin, jt, cron="*/15 9-17 * * 1-5", timezone="Europe/Paris", start_time="2030-01-07T00:00:00")
    assert s["schedule_type"] == "cron" and s["cron"] == "*/15 9-17 * * 1-5" and s["timezone"] == "Europe/Paris"
    assert s["rrule"] == ("DTSTART;TZID=Europe/Paris:20300107T000000 RRULE:FREQ=DAILY;INTERVAL=1;"
                          "BYHOUR=9,10,11,12,13,14,15,16,17;BYMINUTE=0,15,30,45;BYDAY=MO,TU,WE,TH,FR")
    assert s["next_run"] == "2030-01-07T08:00:00Z" and s["start_time"] == "2030-01-07T00:00:00"
    # an unrelated change keeps the rule; a PUT of what was read changes nothing
    same = admin.put(s["url"], {k: v for k, v in s.items() if k not in ("id", "type", "url", "related")})
    assert same.status_code == 200 and same.json["rrule"] == s["rrule"] and same.json["cron"] == s["cron"]
    moved = admin.patch(s["url"], {"timezone": "Asia/Tokyo"}).json
    assert moved["rrule"].startswith("DTSTART;TZID=Asia/Tokyo:20300107T000000 ") and moved["cron"] == s["cron"]
    blank = admin.patch(s["url"], {"cron": None})
    assert blank.status_code == 400 and blank.json == {"cron": ["This field is required for a cron schedule."]}
    plain = admin.patch(s["url"], {"rrule": "DTSTART:20300101T000000Z RRULE:FREQ=WEEKLY;INTERVAL=1", "cron": None}).json
    assert (plain["schedule_type"], plain["cron"], plain["start_time"], plain["timezone"]) == \
        ("rrule", None, None, "UTC")
    back = admin.patch(s["url"], {"interval": 2, "interval_type": "hours", "start_time": "2030-02-01T06:00:00Z"}).json
    assert back["schedule_type"] == "interval" and back["rrule"] == \
        "DTSTART:20300201T060000Z RRULE:FREQ=HOURLY;INTERVAL=2"


@pytest.mark.parametrize("body, field, message", [
    ({"cron": "0 0 L * *"}, "cron", "non-standard cron form"),
    ({"cron": "0 0 * * 1#2"}, "cron", "non-standard cron form"),
    ({"cron": "0 0 0 * * *"}, "cron", "A cron expression has 5 fields"),
    ({"cron": "0 0 31 2 *"}, "cron", "never matches"),
    ({"cron": "61 * * * *"}, "cron", "out of range"),
    ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
    ({"interval": 90, "interval_type": "seconds"}, "interval", "multiple of 60"),
    ({"interval": 5}, "interval_type", "required with interval"),
    ({"date": "2001-01-01T00:00:00"}, "date", "in the future"),
    ({"date": "soon"}, "date", "Datetime has wrong format"),
    ({"cron": "* * * * *", "rrule": RULE}, "cron", "Give only one of"),
    ({"rrule": RULE, "end_time": "2031-01-01T00:00:00Z"}, "end_time", "apply to cron and interval"),
    ({"interval": 1, "interval_type": "days", "start_time": "2031-01-02T00:00:00Z", "end_time": "2031-01-01T00:00:00Z"},
     "end_time", "later than start_time"),
    ({}, "rrule", "This field is required."),
])
def test_form_rejections(admin, jt, body, field, message):
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": unique("f"), **body})
    assert resp.status_code == 400 and list(resp.json) == [field], resp.json
    assert message in resp.json[field][0]


CRON_CASES = ["*/15 9-17 * * 1-5", "0 0 1,15 * mon", "5 */6 * * *", "30 2 * * *", "0 12 * jan,feb *",
              "*/7 * * * *", "@weekly", "0 8-18/2 * * 6,0", "15 10 * * sun"]


@pytest.mark.parametrize("expr", CRON_CASES)
def test_cron_rule_has_exactly_the_occurrences_of_cron(expr):
    croniter = pytest.importorskip("croniter").croniter
    start, end = at("2027-01-04T00:00:00Z"), at("2027-01-25T00:00:00Z")
    rule = rrules.parse(schedule_forms.translate("cron", {"cron": expr, "start_time": "2027-01-04T00:00:00Z"}, start))
    ours = rrules.ruleset(rule).between(start, end, inc=True)
    it, theirs = croniter(expr, start - timedelta(seconds=1)), []
    while (nxt := it.get_next(datetime)) <= end:
        theirs.append(nxt)
    assert [o.astimezone(UTC) for o in ours] == theirs and theirs


def test_interval_rule_has_exactly_the_arithmetic_occurrences():
    start, end = at("2027-03-20T10:00:00Z"), at("2027-04-05T00:00:00Z")   # spans the EU DST change
    for amount, unit, step in ((90, "minutes", timedelta(minutes=90)), (7, "hours", timedelta(hours=7)),
                               (3600, "seconds", timedelta(hours=1)), (2, "days", timedelta(days=2)),
                               (1, "weeks", timedelta(weeks=1))):
        form = {"interval": amount, "interval_type": unit, "start_time": "2027-03-20T10:00:00Z"}
        rule = rrules.parse(schedule_forms.translate("interval", form, start))
        expected = [start + k * step for k in range(int((end - start) / step) + 1)]
        assert rrules.ruleset(rule).between(start, end, inc=True) == expected, unit
    # in a zone, days keep the wall-clock time across DST (an RRULE is wall-clock arithmetic)
    paris = {"interval": 1, "interval_type": "days", "timezone": "Europe/Paris", "start_time": "2027-03-26T09:00:00"}
    rule = rrules.parse(schedule_forms.translate("interval", paris, start))
    assert [o.isoformat() for o in rrules.occurrences_after(rule, at("2027-03-26T00:00:00Z"), 4)] == [
        "2027-03-26T09:00:00+01:00", "2027-03-27T09:00:00+01:00", "2027-03-28T09:00:00+02:00",
        "2027-03-29T09:00:00+02:00"]


# -- preview and zoneinfo ---------------------------------------------------------------------------------
def test_preview_lists_the_next_ten_and_skips_dst_gaps(admin):
    body = admin.post("/api/v2/schedules/preview/", {
        "rrule": "DTSTART;TZID=America/New_York:20300115T120000 RRULE:FREQ=DAILY;INTERVAL=1;COUNT=7"}).json
    assert body["local"][0] == "2030-01-15T12:00:00-05:00" and body["utc"][0] == "2030-01-15T17:00:00Z"
    assert len(body["local"]) == len(body["utc"]) == 7
    body = admin.post("/api/v2/schedules/preview/", {"rrule": DAILY_PARIS.format("20310329T023000")}).json
    assert len(body["utc"]) == 10 and body["local"][:2] == ["2031-03-29T02:30:00+01:00", "2031-03-31T02:30:00+02:00"]
    body = admin.post("/api/v2/schedules/preview/", {"cron": "0 9 * * mon", "timezone": "Europe/Paris",
                                                    "start_time": "2031-01-01T00:00:00"}).json
    assert body["local"][:2] == ["2031-01-06T09:00:00+01:00", "2031-01-13T09:00:00+01:00"]
    assert admin.get("/api/v2/schedules/preview/").status_code == 405


def test_zoneinfo_lists_zones_and_links_and_wins_over_the_detail_route(admin):
    body = admin.get("/api/v2/schedules/zoneinfo/").json
    assert body["zones"] == sorted(body["zones"]) and "Europe/Paris" in body["zones"] and "UTC" in body["zones"]
    assert body["links"]["US/Eastern"] == "America/New_York"
    assert admin.get("/api/v2/schedules/zoneinfo/", headers={"Authorization": ""}).status_code == 401


# -- the scheduler, with fixed times ----------------------------------------------------------------------
def test_dst_spring_forward_is_skipped_and_fall_back_fires_once(admin, ctx, jt):
    s = schedule(admin, jt, rrule=DAILY_PARIS.format("20270327T023000"))
    fired = run_ticks(ctx, "2027-03-26T00:00:00Z", "2027-03-30T23:45:00Z", timedelta(minutes=15))
    assert [f["fire_time"] for f in fired] == ["2027-03-27T01:30:00Z", "2027-03-29T00:30:00Z", "2027-03-30T00:30:00Z"]
    admin.patch(s["url"], {"enabled": False})
    s = schedule(admin, jt, rrule=DAILY_PARIS.format("20271029T023000"))
    fired = run_ticks(ctx, "2027-10-29T00:00:00Z", "2027-11-01T03:00:00Z", timedelta(minutes=15))
    # 02:30 on the 31st exists twice (CEST then CET): it fires once, at the first
    assert [f["fire_time"] for f in fired] == ["2027-10-29T00:30:00Z", "2027-10-30T00:30:00Z",
                                               "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
    assert [x["fire_time"] for x in sq.fires(ctx.store, s["id"])] == [f["fire_time"] for f in fired]


def test_count_and_until_exhaust_the_schedule(admin, ctx, jt):
    counted = schedule(admin, jt, rrule="DTSTART:20280101T120000Z RRULE:FREQ=HOURLY;INTERVAL=1;COUNT=3")
    until = schedule(admin, jt, rrule="DTSTART:20280101T120000Z RRULE:FREQ=HOURLY;INTERVAL=2;UNTIL=20280101T180000Z")
    fired = run_ticks(ctx, "2028-01-01T11:00:00Z", "2028-01-02T00:00:00Z", timedelta(minutes=30))
    times = lambda pk: [f["fire_time"][11:16] for f in fired if f["schedule"] == pk]  # noqa: E731
    assert times(counted["id"]) == ["12:00", "13:00", "14:00"]
    assert times(until["id"]) == ["12:00", "14:00", "16:00", "18:00"]
    for s in (counted, until):
        body = admin.get(s["url"]).json
        assert body["next_run"] is None and body["dtend"] == f"2028-01-01T{times(s['id'])[-1]}:00Z"


def test_cron_schedule_fires_at_its_cron_times(admin, ctx, jt):
    schedule(admin, jt, cron="*/20 9-10 * * 1-5", timezone="Europe/Paris", start_time="2028-01-07T00:00:00")
    fired = run_ticks(ctx, "2028-01-07T00:00:00Z", "2028-01-10T23:55:00Z", timedelta(minutes=5))   # Fri..Mon
    assert [f["fire_time"] for f in fired] == [f"2028-01-{d}T{h}:{m}:00Z" for d in ("07", "10")
                                               for h in ("08", "09") for m in ("00", "20", "40")]


def test_start_and_end_time_bound_the_window(admin, ctx, jt):
    s = schedule(admin, jt, interval=30, interval_type="minutes", timezone="Europe/Paris",
                 start_time="2028-05-01T10:00:00", end_time="2028-05-01T12:00:00")
    assert s["rrule"] == ("DTSTART;TZID=Europe/Paris:20280501T100000 "
                          "RRULE:FREQ=MINUTELY;INTERVAL=30;UNTIL=20280501T100000Z")
    assert (s["until"], s["end_time"]) == ("2028-05-01T12:00:00", "2028-05-01T12:00:00")
    fired = run_ticks(ctx, "2028-05-01T06:00:00Z", "2028-05-01T12:00:00Z", timedelta(minutes=10))
    assert [f["fire_time"][11:16] for f in fired] == ["08:00", "08:30", "09:00", "09:30", "10:00"]
    assert admin.get(s["url"]).json["next_run"] is None


def test_one_off_date_fires_once(admin, ctx, jt):
    s = schedule(admin, jt, date="2028-06-01T07:30:00", timezone="Asia/Tokyo")
    assert s["rrule"] == "DTSTART;TZID=Asia/Tokyo:20280601T073000 RRULE:FREQ=MINUTELY;INTERVAL=1;COUNT=1"
    assert s["schedule_type"] == "date" and s["next_run"] == "2028-05-31T22:30:00Z"
    fired = run_ticks(ctx, "2028-05-31T22:00:00Z", "2028-06-01T01:00:00Z", timedelta(minutes=1))
    assert [f["fire_time"] for f in fired] == ["2028-05-31T22:30:00Z"]


def test_prompts_reach_the_scheduled_job(admin, ctx, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml", ask_limit_on_launch=True, ask_tags_on_launch=True,
                 ask_variables_on_launch=True, ask_verbosity_on_launch=True)
    s = schedule(admin, jt, rrule="DTSTART:20290101T000000Z RRULE:FREQ=DAILY;INTERVAL=1", limit="h2",
                 job_tags="t1", verbosity=2, extra_data={"who": "scheduler"})
    [fired] = tick(ctx, at("2029-01-01T00:00:20Z"))
    job = admin.get(f"/api/v2/jobs/{fired['job']}/").json
    assert (job["limit"], job["job_tags"], job["verbosity"]) == ("h2", "t1", 2)
    assert job["extra_vars"] and '"who": "scheduler"' in job["extra_vars"]
    assert (job["launch_type"], job["schedule"], job["status"]) == ("scheduled", s["id"], "pending")
    assert job["launched_by"] == {"id": s["id"], "name": s["name"], "type": "schedule", "url": s["url"]}
    assert job["summary_fields"]["schedule"]["id"] == s["id"]
    assert [j["id"] for j in admin.get(f"{s['url']}unified_jobs/").json["results"]] == [job["id"]]
    assert admin.get(s["url"]).json["next_run"] == "2029-01-02T00:00:00Z"


def test_disabled_schedules_never_fire_and_a_double_tick_fires_once(admin, ctx, jt):
    off = schedule(admin, jt, rrule="DTSTART:20290201T000000Z RRULE:FREQ=MINUTELY;INTERVAL=1", enabled=False)
    on = schedule(admin, jt, rrule="DTSTART:20290201T000000Z RRULE:FREQ=MINUTELY;INTERVAL=1")
    assert off["next_run"] is None
    now = at("2029-02-01T00:00:00Z")
    first, second = tick(ctx, now), tick(ctx, now)
    assert [f["schedule"] for f in first] == [on["id"]] and second == []
    assert run_ticks(ctx, "2029-02-01T00:01:00Z", "2029-02-01T00:05:00Z", timedelta(minutes=1)) and \
        sq.fires(ctx.store, off["id"]) == []
    assert len(sq.fires(ctx.store, on["id"])) == 6


def test_missed_occurrences_are_not_fired_in_a_burst(admin, ctx, jt):
    s = schedule(admin, jt, rrule="DTSTART:20290301T000000Z RRULE:FREQ=MINUTELY;INTERVAL=1")
    assert len(tick(ctx, at("2029-03-01T00:00:05Z"))) == 1
    # the controller was down for two hours: nothing fires, the schedule moves past now
    assert tick(ctx, at("2029-03-01T02:00:30Z")) == []
    assert admin.get(s["url"]).json["next_run"] == "2029-03-01T02:01:00Z"
    # a takeover within the grace period still fires the one due occurrence late
    assert [f["fire_time"] for f in tick(ctx, at("2029-03-01T02:01:40Z"))] == ["2029-03-01T02:01:00Z"]
    assert len(sq.fires(ctx.store, s["id"])) == 2


def test_an_unlaunchable_template_records_an_error_job(admin, ctx, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    s = schedule(admin, jt, rrule="DTSTART:20290401T000000Z RRULE:FREQ=DAILY;INTERVAL=1")
    set_survey(admin, jt, [{"type": "text", "question_name": "Who", "question_description": "", "variable": "who",
                            "required": True}])
    [fired] = tick(ctx, at("2029-04-01T00:00:01Z"))
    job = admin.get(f"/api/v2/jobs/{fired['job']}/").json
    assert (job["status"], job["failed"], job["launch_type"], job["schedule"]) == ("error", True, "scheduled", s["id"])
    assert job["job_explanation"].startswith("Scheduled launch failed: variables_needed_to_start:")
    assert admin.get(s["url"]).json["next_run"] == "2029-04-02T00:00:00Z"


def test_project_and_inventory_source_schedules_start_updates(admin, ctx, org, project, inventory):
    git = created(admin.post("/api/v2/projects/", {"name": unique("git"), "organization": org["id"],
                                                    "scm_type": "git", "scm_url": "https://example.invalid/r.git"}))
    source = created(admin.post("/api/v2/inventory_sources/", {
        "name": unique("src"), "inventory": inventory["id"], "source": "scm", "source_project": project["id"],
        "source_path": "play.yml"}))
    rule = {"rrule": "DTSTART:20290501T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}
    s = created(admin.post(f"/api/v2/projects/{git['id']}/schedules/", {"name": unique("p"), **rule}))
    i = created(admin.post("/api/v2/schedules/", {"name": unique("i"), "unified_job_template": source["id"], **rule}))
    assert i["summary_fields"]["unified_job_template"]["unified_job_type"] == "inventory_update"
    fired = {f["job_type"]: f for f in tick(ctx, at("2029-05-01T00:00:00Z"))}
    assert set(fired) == {"project_update", "inventory_update"}
    update = admin.get(f"/api/v2/project_updates/{fired['project_update']['job']}/").json
    assert update["launch_type"] == "scheduled" and update["project"] == git["id"]
    assert update["launched_by"]["type"] == "schedule" and update["launched_by"]["id"] == s["id"]
    update = admin.get(f"/api/v2/inventory_updates/{fired['inventory_update']['job']}/").json
    assert (update["launch_type"], update["inventory_source"]) == ("scheduled", source["id"])
    assert update["launched_by"]["id"] == i["id"]


def test_deleting_a_template_deletes_its_schedules(admin, ctx, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    s = schedule(admin, jt, rrule="DTSTART:20290601T000000Z RRULE:FREQ=DAILY;INTERVAL=1")
    [fired] = tick(ctx, at("2029-06-01T00:00:00Z"))
    other = schedule(admin, jt, rrule="DTSTART:20290601T000000Z RRULE:FREQ=DAILY;INTERVAL=1")
    assert admin.post(f"/api/v2/jobs/{fired['job']}/cancel/").status_code == 202   # no active job left
    assert admin.delete(other["url"]).status_code == 204
    assert admin.delete(jt["url"]).status_code == 204
    assert admin.get(s["url"]).status_code == 404
    job = admin.get(f"/api/v2/jobs/{fired['job']}/").json
    assert job["schedule"] is None and job["job_template"] is None


def test_the_lease_makes_one_scheduler_the_firer(app_state):
    a, b = Scheduler(app_state, lease_seconds=30), Scheduler(app_state, lease_seconds=30)
    now = at("2029-07-01T00:00:00Z")
    a.run_once(now)
    assert a.leader and (b.run_once(now + timedelta(seconds=10)) == [] and not b.leader)
    b.run_once(now + timedelta(seconds=31))
    assert b.leader and sq.lease_holder(app_state.store, "scheduler")["holder"] == b.holder
    a.run_once(now + timedelta(seconds=32))
    assert not a.leader
    b.stop()   # releases the lease: a takes over at once
    a.run_once(now + timedelta(seconds=33))
    assert a.leader
    a.stop()


def test_access_follows_the_template(admin, app, make_user, jt):
    uid, user = make_user()
    rule = {"rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}
    mine = schedule(admin, jt, **rule)
    assert user.get("/api/v2/schedules/").json["count"] == 0
    assert user.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "u", **rule}).status_code == 403
    roles = admin.get(jt["url"]).json["summary_fields"]["object_roles"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles["execute_role"]["id"]}).status_code == 204
    own = created(user.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "u", **rule}))
    assert {s["id"] for s in user.get("/api/v2/schedules/").json["results"]} == {mine["id"], own["id"]}
    assert user.patch(own["url"], {"description": "mine"}).status_code == 200
    assert user.patch(mine["url"], {"description": "not mine"}).status_code == 403


# -- end to end: real threads, a real job -------------------------------------------------------------------
@pytest.fixture
def live(tmp_path):
    state = open_state(Settings({"DATA_DIR": str(tmp_path / "data")}, environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    client = Client(create_app(state=state), "admin", ADMIN_PASSWORD)
    state.start_jobs(workers=2)
    yield state, client
    state.stop_jobs()
    state.store.close()


def test_a_due_schedule_runs_a_real_job_on_its_own(live):
    state, admin = live
    org = make_org(admin)
    jt = make_jt(admin, make_project(admin, state.settings.data_dir, org, {"play.yml": PLAY}),
                 make_inventory(admin, org), "play.yml", ask_variables_on_launch=True)
    start = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y%m%dT%H%M%SZ")
    s = schedule(admin, jt, rrule=f"DTSTART:{start} RRULE:FREQ=MINUTELY;INTERVAL=1;COUNT=1",
                 extra_data={"who": "the scheduler"})
    deadline = time.monotonic() + 30
    while not (jobs := admin.get(f"{s['url']}unified_jobs/").json["results"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(jobs) == 1, "the scheduler thread did not launch the job"
    job = wait_job(admin, jobs[0]["id"])
    assert (job["status"], job["launch_type"], job["schedule"]) == ("successful", "scheduled", s["id"])
    stdout = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode()
    assert "who=the scheduler" in stdout
    assert admin.get(s["url"]).json["next_run"] is None

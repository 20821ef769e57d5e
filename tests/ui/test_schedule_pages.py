"""Schedule pages (test client): every input form (cron, interval with a window, one-off date,
RRULE with a time zone), the next-10-runs preview computed by the API's own service before
saving, errors beside their field, edit, delete and the rights."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import make_inventory, make_jt, make_org, make_project, uniq

from .page_client import field_error, input_value, make_user, page_fixtures, textarea_value

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"


app, api, ui = page_fixtures()


@pytest.fixture(scope="module")
def jt(app, api):
    org = make_org(api)
    project = make_project(api, app.data_dir, org, {"play.yml": PLAY})
    return make_jt(api, project, make_inventory(api, org, ("h1",)), "play.yml")


def _form(jt, name: str, op: str = "save", **rule) -> dict:
    return {"name": name, "description": "", "unified_job_template": str(jt["id"]), "enabled": "on", "op": op,
            "schedule_type": "cron", "cron": "", "interval": "", "interval_type": "hours", "date": "", "rrule": "",
            "timezone": "UTC", "start_time": "", "end_time": "", "extra_data": "", **rule}


def _items(html: str) -> list[str]:
    ol = re.search(r'<ol id="schedule-preview"[^>]*>(.*?)</ol>', html, re.S)
    assert ol, "no preview list"
    return re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', ol.group(1))


def _by_name(api, name: str) -> dict | None:
    found = api.one(f"/api/v2/schedules/?name={name}")["results"]
    return found[0] if found else None


def test_the_preview_fragment_is_the_api_preview_in_the_chosen_zone(ui, api, jt):
    rule = {"schedule_type": "cron", "cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}
    resp = ui.post("/ui/schedules/preview", _form(jt, "x", **rule))
    assert resp.status_code == 200
    items = _items(resp.text)
    assert len(items) == 10
    assert all(local.endswith("09:00:00+01:00") or local.endswith("09:00:00+02:00") for _, local in items)
    same = api.post("/api/v2/schedules/preview/", {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}).json
    assert [utc for utc, _ in items] == same["utc"]


def test_an_invalid_rule_answers_the_error_by_field(ui, jt):
    resp = ui.post("/ui/schedules/preview", _form(jt, "x", cron="61 * * * *"))
    assert resp.status_code == 400
    assert re.search(r'<li data-field="cron">[^<]+</li>', resp.text) and "schedule-preview\"" not in resp.text


def test_preview_without_script_re_renders_and_saves_nothing(ui, api, jt):
    name = uniq("sched-preview")
    resp = ui.post("/ui/schedules/new", _form(jt, name, op="preview", schedule_type="interval", interval="90",
                                              interval_type="minutes"))
    assert resp.status_code == 200 and len(_items(resp.text)) == 10
    assert input_value(resp.text, "name") == name and input_value(resp.text, "interval") == "90"
    assert _by_name(api, name) is None


def test_create_a_cron_schedule_in_a_time_zone(ui, api, jt):
    name = uniq("sched-cron")
    preview = _items(ui.post("/ui/schedules/preview", _form(jt, name, cron="30 6 * * *",
                                                            timezone="America/New_York")).text)
    resp = ui.post("/ui/schedules/new", _form(jt, name, cron="30 6 * * *", timezone="America/New_York"))
    assert resp.status_code == 302, resp.text
    sched = _by_name(api, name)
    assert resp.headers["Location"] == f"/ui/schedules/{sched['id']}"
    assert (sched["schedule_type"], sched["cron"], sched["timezone"]) == ("cron", "30 6 * * *", "America/New_York")
    assert "TZID=America/New_York" in sched["rrule"] and sched["unified_job_template"] == jt["id"]
    assert sched["next_run"] == preview[0][0]
    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert len(_items(page.text)) == 10 and input_value(page.text, "cron") == "30 6 * * *"


def test_interval_with_a_window_and_a_one_off_date(ui, api, jt):
    name = uniq("sched-interval")
    resp = ui.post("/ui/schedules/new", _form(jt, name, schedule_type="interval", interval="2", interval_type="hours",
                                              start_time="2030-01-01T08:00", end_time="2030-01-02T08:00",
                                              timezone="Europe/Berlin"))
    assert resp.status_code == 302, resp.text
    sched = _by_name(api, name)
    assert sched["schedule_type"] == "interval" and "FREQ=HOURLY;INTERVAL=2" in sched["rrule"]
    assert "UNTIL=20300102T070000Z" in sched["rrule"] and sched["next_run"] == "2030-01-01T07:00:00Z"
    once = uniq("sched-once")
    resp = ui.post("/ui/schedules/new", _form(jt, once, schedule_type="date", date="2031-05-04T10:15",
                                              timezone="UTC"))
    assert resp.status_code == 302, resp.text
    sched = _by_name(api, once)
    assert sched["schedule_type"] == "date" and "COUNT=1" in sched["rrule"]
    assert sched["next_run"] == "2031-05-04T10:15:00Z"


def test_an_invalid_rrule_is_shown_beside_it_and_nothing_is_lost(ui, api, jt):
    name = uniq("sched-bad")
    resp = ui.post("/ui/schedules/new", _form(jt, name, schedule_type="rrule", rrule="RRULE:FREQ=DAILY"))
    assert resp.status_code == 400
    assert "DTSTART" in field_error(resp.text, "rrule")
    assert textarea_value(resp.text, "rrule") == "RRULE:FREQ=DAILY" and input_value(resp.text, "name") == name
    assert _by_name(api, name) is None
    rule = "DTSTART;TZID=Asia/Tokyo:20300101T090000 RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"
    ok = ui.post("/ui/schedules/new", _form(jt, name, schedule_type="rrule", rrule=rule))
    assert ok.status_code == 302, ok.text
    assert _by_name(api, name)["timezone"] == "Asia/Tokyo"


def test_edit_delete_and_the_rights(app, ui, api, jt):
    name = uniq("sched-edit")
    ui.post("/ui/schedules/new", _form(jt, name, cron="0 1 * * *"))
    sched = _by_name(api, name)
    resp = ui.post(f"/ui/schedules/{sched['id']}", _form(jt, name, cron="15 2 * * *", enabled=""))
    assert resp.status_code == 302, resp.text
    sched = api.one(f"/api/v2/schedules/{sched['id']}/")
    assert sched["cron"] == "15 2 * * *" and sched["enabled"] is False and sched["next_run"] is None
    stranger = make_user(api, app, uniq("stranger"))
    assert stranger.get(f"/ui/schedules/{sched['id']}").status_code == 403
    assert stranger.post(f"/ui/schedules/{sched['id']}/delete").status_code == 403
    resp = ui.post(f"/ui/schedules/{sched['id']}/delete")
    assert resp.status_code == 302 and api.get(f"/api/v2/schedules/{sched['id']}/").status_code == 404


def test_the_prompts_the_template_asks_for_are_offered_and_stored(app, ui, api, jt):
    asking = api.post("/api/v2/job_templates/", {"name": uniq("asks"), "project": jt["project"],
                                                 "inventory": jt["inventory"], "playbook": "play.yml",
                                                 "ask_limit_on_launch": True, "ask_job_type_on_launch": True})
    assert asking.status_code == 201, asking.text
    asking = asking.json
    form = ui.get(f"/ui/schedules/new?unified_job_template={asking['id']}")
    assert 'id="f-limit"' in form.text and 'id="f-job_type"' in form.text and 'id="f-forks"' not in form.text
    assert 'id="f-limit"' not in ui.get(f"/ui/schedules/new?unified_job_template={jt['id']}").text
    name = uniq("sched-prompts")
    resp = ui.post("/ui/schedules/new", {**_form(asking, name, cron="0 4 * * *"), "limit": "web*", "job_type": ""})
    assert resp.status_code == 302, resp.text
    sched = _by_name(api, name)
    assert sched["limit"] == "web*" and sched["job_type"] is None
    resp = ui.post("/ui/schedules/new", {**_form(asking, uniq("sched-check"), cron="0 4 * * *"), "limit": "",
                                         "job_type": "check"})
    assert resp.status_code == 302, resp.text
    assert api.one(resp.headers["Location"].replace("/ui/", "/api/v2/") + "/")["job_type"] == "check"


def test_a_yes_no_prompt_has_an_unset_answer(ui, api, jt):
    asking = api.post("/api/v2/job_templates/", {"name": uniq("asks-diff"), "project": jt["project"],
                                                 "inventory": jt["inventory"], "playbook": "play.yml",
                                                 "ask_diff_mode_on_launch": True}).json
    name = uniq("sched-diff")
    assert ui.post("/ui/schedules/new", {**_form(asking, name, cron="0 5 * * *"), "diff_mode": ""}).status_code == 302
    assert _by_name(api, name)["diff_mode"] is None
    other = uniq("sched-diff-on")
    assert ui.post("/ui/schedules/new", {**_form(asking, other, cron="0 5 * * *"),
                                         "diff_mode": "true"}).status_code == 302
    sched = _by_name(api, other)
    assert sched["diff_mode"] is True
    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert re.search(r'<option value="true" selected>Yes</option>', page.text)


def test_the_preview_takes_the_filled_input_when_no_form_is_chosen(ui, jt):
    resp = ui.post("/ui/schedules/preview", {"unified_job_template": str(jt["id"]),
                                             "rrule": "DTSTART;TZID=Europe/Paris:20300101T020000 "
                                                      "RRULE:FREQ=HOURLY;INTERVAL=5"})
    assert resp.status_code == 200
    items = _items(resp.text)
    assert items[0] == ("2030-01-01T01:00:00Z", "2030-01-01 02:00:00+01:00") and len(items) == 10


def test_a_date_stored_with_an_offset_shows_as_the_wall_time_and_survives_a_re_save(ui, api, jt):
    made = api.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": uniq("api-date"),
                                                                     "date": "2032-03-04T09:30:00Z",
                                                                     "timezone": "Europe/Paris"})
    assert made.status_code == 201, made.text
    sched = made.json
    page = ui.get(f"/ui/schedules/{sched['id']}")
    assert input_value(page.text, "date") == "2032-03-04T10:30"            # 09:30 UTC is 10:30 in Paris
    resp = ui.post(f"/ui/schedules/{sched['id']}", _form(jt, sched["name"], schedule_type="date",
                                                         date="2032-03-04T10:30", timezone="Europe/Paris"))
    assert resp.status_code == 302, resp.text
    assert api.one(f"/api/v2/schedules/{sched['id']}/")["next_run"] == "2032-03-04T09:30:00Z"


def test_scm_projects_are_offered_and_manual_ones_are_not(app, ui, api, jt):
    page = ui.get("/ui/schedules/new")
    runs = re.search(r'<select name="unified_job_template".*?</select>', page.text, re.S).group(0)
    assert f'<option value="{jt["id"]}"' in runs
    assert f'<option value="{jt["project"]}"' not in runs                   # a manual project has no schedule

"""Schedules against AWX 24.6.1, defects a review found: permission checks of the object
prompts (JobLaunchConfigAccess), ``$encrypted$`` in survey answers, runs of every template kind
linked to their schedule, templates' ``next_job_run``, cloud inventory sources, datetime
filters, clearing a prompt with ``""``, ``until`` and naive DTSTARTs, inherited details."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from controller.jobs.scheduler import tick
from controller.store import schedules as sq
from tests.controller.conftest import unique
from tests.support.jobs import make_inventory, make_jt, make_org, set_survey
from tests.support.schedules import created, scheduler_fixtures, world_fixtures

RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

ctx, quiet_schedules = scheduler_fixtures()


org, project, inventory = world_fixtures(PLAY)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def grant(admin, uid: int, obj: dict, role: str) -> None:
    roles = admin.get(obj["url"]).json["summary_fields"]["object_roles"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": roles[role]["id"]}).status_code == 204


def stored(app_state, schedule_id: int) -> dict:
    return dict(app_state.store.query("SELECT * FROM schedules WHERE id = ?", (schedule_id,))[0])


# -- 1. object prompts need the user's access -------------------------------------------------------
def test_prompted_inventory_and_execution_environment_need_use_and_read(admin, app_state, make_user, org, project,
                                                                        inventory):
    jt = make_jt(admin, project, inventory, "play.yml", ask_execution_environment_on_launch=True,
                 ask_inventory_on_launch=True)
    uid, user = make_user()
    grant(admin, uid, jt, "execute_role")
    hidden = created(admin.post("/api/v2/execution_environments/", {
        "name": unique("ee"), "image": "quay.io/x/y:1", "organization": org["id"]}))
    public = created(admin.post("/api/v2/execution_environments/", {"name": unique("ee"), "image": "quay.io/x/y:2"}))
    other = make_inventory(admin, org)
    assert user.get(hidden["url"]).status_code == 403
    path = f"/api/v2/job_templates/{jt['id']}/schedules/"
    before = admin.get("/api/v2/schedules/").json["count"]
    assert user.post(path, {"name": "e", "rrule": RULE, "execution_environment": hidden["id"]}).status_code == 403
    assert user.post(path, {"name": "i", "rrule": RULE, "inventory": other["id"]}).status_code == 403
    assert admin.get("/api/v2/schedules/").json["count"] == before
    own = created(user.post(path, {"name": "ok", "rrule": RULE, "execution_environment": public["id"]}))
    assert user.patch(own["url"], {"execution_environment": hidden["id"]}).status_code == 403
    assert user.patch(own["url"], {"inventory": other["id"]}).status_code == 403
    assert (stored(app_state, own["id"])["execution_environment"], stored(app_state, own["id"])["inventory"]) == \
        (public["id"], None)
    # AWX check_related: a value the user cannot use may be repeated (a PUT), not replaced by them
    theirs = created(admin.post(path, {"name": "adm", "rrule": RULE, "execution_environment": hidden["id"]}))
    grant(admin, uid, jt, "admin_role")
    assert user.patch(theirs["url"], {"execution_environment": hidden["id"], "description": "d"}).status_code == 200
    assert user.patch(theirs["url"], {"execution_environment": public["id"]}).status_code == 403
    assert stored(app_state, theirs["id"])["execution_environment"] == hidden["id"]


def test_list_prompts_need_read_of_the_label_and_instance_group(admin, make_user, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml", ask_labels_on_launch=True,
                 ask_instance_groups_on_launch=True)
    uid, user = make_user()
    grant(admin, uid, jt, "admin_role")
    s = created(user.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "l", "rrule": RULE}))
    label = created(admin.post("/api/v2/labels/", {"name": unique("lab"), "organization": make_org(admin)["id"]}))
    group = created(admin.post("/api/v2/instance_groups/", {"name": unique("ig")}))
    assert user.post(f"/api/v2/schedules/{s['id']}/labels/", {"id": label["id"]}).status_code == 403
    assert user.post(f"/api/v2/schedules/{s['id']}/instance_groups/", {"id": group["id"]}).status_code == 403
    assert admin.get(f"/api/v2/schedules/{s['id']}/labels/").json["count"] == 0
    assert admin.get(f"/api/v2/schedules/{s['id']}/instance_groups/").json["count"] == 0


# -- 2. $encrypted$ in survey answers -------------------------------------------------------------------
def test_encrypted_placeholder_is_refused_where_awx_refuses_it(admin, app_state, ctx, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    set_survey(admin, jt, [
        {"variable": "who", "question_name": "who", "type": "text", "required": False, "default": "dflt"},
        {"variable": "pw", "question_name": "pw", "type": "password", "required": False},
        {"variable": "pd", "question_name": "pd", "type": "password", "required": False, "default": "sekret"}])
    path = f"/api/v2/job_templates/{jt['id']}/schedules/"
    r = admin.post(path, {"name": "a", "rrule": RULE, "extra_data": {"pw": "$encrypted$"}})
    assert (r.status_code, r.json) == (400, {"extra_data": ["Provided variable pw has no database value to replace "
                                                            "with."]})
    r = admin.post(path, {"name": "b", "rrule": RULE, "extra_data": {"who": "$encrypted$", "pw": "x"}})
    assert (r.status_code, r.json) == (400, {"extra_data": ['"$encrypted$ is a reserved keyword, may not be used '
                                                            'for who."']})
    # a password question with a default takes it; with no password posted "who" is a plain answer
    s = created(admin.post(path, {"name": "c", "rrule": RULE, "extra_data": {"pd": "$encrypted$"}}))
    assert s["extra_data"] == {} and stored(app_state, s["id"])["extra_data"] in ("{}", {})
    s = created(admin.post(path, {"name": "d", "rrule": RULE, "extra_data": {"who": "$encrypted$"}}))
    assert s["extra_data"] == {"who": "$encrypted$"}
    # a stored answer is kept
    s = created(admin.post(path, {"name": "e", "rrule": RULE, "extra_data": {"pw": "one"}}))
    r = admin.patch(s["url"], {"extra_data": {"pw": "$encrypted$"}})
    assert r.status_code == 200 and r.json["extra_data"] == {"pw": "$encrypted$"}
    assert ctx.vault.decrypt(json.loads(stored(app_state, s["id"])["extra_data"])["pw"]) == "one"


# -- 3. every kind of run is linked to its schedule ------------------------------------------------------
def test_runs_of_every_template_kind_are_linked_to_their_schedule(admin, app_state, ctx, org, project, inventory):
    git = created(admin.post("/api/v2/projects/", {"name": unique("git"), "organization": org["id"],
                                                    "scm_type": "git", "scm_url": "https://example.invalid/r.git"}))
    source = created(admin.post("/api/v2/inventory_sources/", {
        "name": unique("src"), "inventory": inventory["id"], "source": "scm", "source_project": project["id"],
        "source_path": "play.yml"}))
    wfjt = created(admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"]}))
    jt = make_jt(admin, project, inventory, "play.yml")
    rule = {"rrule": "DTSTART:20290801T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}
    made = {kind: created(admin.post(f"/api/v2/{plural}/{t['id']}/schedules/", {"name": unique(kind), **rule}))
            for kind, plural, t in (("project_update", "projects", git), ("inventory_update", "inventory_sources",
                                    source), ("workflow_job", "workflow_job_templates", wfjt), ("job", "job_templates",
                                                                                                  jt))}
    fired = {f["job_type"]: f for f in tick(ctx, at("2029-08-01T00:00:00Z"))}
    assert set(fired) == set(made)
    for kind, s in made.items():
        job_id = fired[kind]["job"]
        job = admin.get(f"/api/v2/{kind}s/{job_id}/").json
        assert job["schedule"] == s["id"] and job["related"]["schedule"] == f"/api/v2/schedules/{s['id']}/"
        assert job["summary_fields"]["schedule"]["id"] == s["id"]
        assert job["summary_fields"]["schedule"]["name"] == s["name"]
        listed = admin.get(f"/api/v2/schedules/{s['id']}/unified_jobs/").json
        assert [(x["type"], x["id"]) for x in listed["results"]] == [(kind, job_id)]
        found = admin.get(f"/api/v2/unified_jobs/?schedule={s['id']}").json["results"]
        assert [(x["type"], x["id"]) for x in found] == [(kind, job_id)]
    # deleting the schedule keeps the run, unlinked
    s, update = made["project_update"], fired["project_update"]["job"]
    assert admin.post(f"/api/v2/project_updates/{update}/cancel/").status_code == 202   # no active run left
    assert admin.delete(s["url"]).status_code == 204
    assert app_state.store.query("SELECT schedule FROM project_updates WHERE id = ?", (update,))[0][0] is None


def test_a_schedules_unified_jobs_follow_its_visibility(admin, make_user, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    s = created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "v", "rrule": RULE}))
    _uid, user = make_user()
    assert user.get(f"/api/v2/schedules/{s['id']}/unified_jobs/").status_code == 403
    assert admin.get("/api/v2/schedules/999999/unified_jobs/").status_code == 404
    options = admin.options(f"/api/v2/schedules/{s['id']}/unified_jobs/").json
    assert options["name"] == "Schedule Unified Jobs List" and "GET" in options["actions"]


# -- 4. templates show their next run ---------------------------------------------------------------------
def test_templates_show_and_filter_their_next_run(admin, org, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    idle = make_jt(admin, project, inventory, "play.yml")
    wfjt = created(admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"]}))
    path = f"/api/v2/job_templates/{jt['id']}/schedules/"
    later = created(admin.post(path, {"name": "later", "rrule": "DTSTART:20350101T000000Z RRULE:FREQ=DAILY;"
                                                                "INTERVAL=1"}))
    sooner = created(admin.post(path, {"name": "sooner", "rrule": "DTSTART:20340101T000000Z RRULE:FREQ=DAILY;"
                                                                 "INTERVAL=1"}))
    created(admin.post(path, {"name": "off", "enabled": False, "rrule": "DTSTART:20330101T000000Z RRULE:FREQ=DAILY;"
                                                                       "INTERVAL=1"}))
    created(admin.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/schedules/",
                       {"name": "w", "rrule": "DTSTART:20360101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    body = admin.get(jt["url"]).json
    assert body["next_job_run"] == "2034-01-01T00:00:00Z"
    assert body["related"]["next_schedule"] == f"/api/v2/schedules/{sooner['id']}/"
    idle_body = admin.get(idle["url"]).json
    assert idle_body["next_job_run"] is None and "next_schedule" not in idle_body["related"]
    assert admin.get(wfjt["url"]).json["next_job_run"] == "2036-01-01T00:00:00Z"
    assert admin.patch(sooner["url"], {"enabled": False}).status_code == 200
    body = admin.get(jt["url"]).json
    assert (body["next_job_run"], body["related"]["next_schedule"]) == ("2035-01-01T00:00:00Z", later["url"])
    ids = lambda url: {x["id"] for x in admin.get(url).json["results"]}  # noqa: E731
    assert {jt["id"]} <= ids("/api/v2/job_templates/?next_job_run__isnull=false")
    assert idle["id"] not in ids("/api/v2/job_templates/?next_job_run__isnull=false")
    assert idle["id"] in ids("/api/v2/job_templates/?next_job_run__isnull=true")
    assert jt["id"] in ids("/api/v2/job_templates/?next_job_run=2035-01-01T00:00:00Z")
    assert jt["id"] not in ids("/api/v2/job_templates/?next_job_run__gt=2035-01-01T00:00:00Z")
    assert jt["id"] in ids("/api/v2/job_templates/?next_job_run__gte=2035-01-01T00:00:00Z")
    found = admin.get(f"/api/v2/unified_job_templates/?next_job_run__gte=2036-01-01T00:00:00Z&id={wfjt['id']}").json
    assert [(x["type"], x["next_job_run"]) for x in found["results"]] == [("workflow_job_template",
                                                                           "2036-01-01T00:00:00Z")]
    assert admin.get("/api/v2/job_templates/?next_job_run__gt=garbage").status_code == 400


# -- 5. cloud inventory sources -----------------------------------------------------------------------------
def test_cloud_inventory_sources_take_schedules_and_file_sources_do_not(admin, app_state, inventory):
    ec2 = created(admin.post("/api/v2/inventory_sources/", {"name": unique("ec2"), "inventory": inventory["id"],
                                                            "source": "ec2"}))
    s = created(admin.post(f"/api/v2/inventory_sources/{ec2['id']}/schedules/", {"name": "e", "rrule": RULE}))
    assert stored(app_state, s["id"])["ujt_inventory_source"] == ec2["id"]
    # a file source (only older data holds one: the API refuses creating it here)
    plain = created(admin.post("/api/v2/inventory_sources/", {"name": unique("file"), "inventory": inventory["id"],
                                                              "source": "ec2"}))
    with app_state.store.transaction():
        app_state.store.execute("UPDATE inventory_sources SET source = 'file' WHERE id = ?", (plain["id"],))
    r = admin.post(f"/api/v2/inventory_sources/{plain['id']}/schedules/", {"name": "f", "rrule": RULE})
    assert (r.status_code, r.json) == (400, {"unified_job_template": ["Inventory Source must be a cloud resource."]})


# -- 6. datetime filters at the boundary ----------------------------------------------------------------------
def test_schedule_times_filter_exactly_at_the_boundary(admin, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    s = created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                           {"name": "b", "rrule": "DTSTART:20370101T120000Z RRULE:FREQ=DAILY;INTERVAL=1;COUNT=3"}))
    assert (s["dtstart"], s["next_run"], s["dtend"]) == ("2037-01-01T12:00:00Z", "2037-01-01T12:00:00Z",
                                                         "2037-01-03T12:00:00Z")
    ids = lambda q: {x["id"] for x in admin.get(f"/api/v2/schedules/?{q}").json["results"]}  # noqa: E731
    assert s["id"] in ids("next_run=2037-01-01T12:00:00Z")
    assert s["id"] in ids("next_run=2037-01-01T12:00:00%2B00:00")
    assert s["id"] not in ids("next_run__gt=2037-01-01T12:00:00Z")
    assert s["id"] in ids("next_run__gte=2037-01-01T12:00:00Z")
    assert s["id"] not in ids("next_run__lt=2037-01-01T12:00:00Z")
    assert s["id"] in ids("next_run__lt=2037-01-01T12:00:00.500000Z")
    assert s["id"] in ids("dtend=2037-01-03T12:00:00Z") and s["id"] in ids("dtstart__lte=2037-01-01T12:00:00Z")
    assert s["id"] not in ids("dtstart__gt=2037-01-01T12:00:00Z")


def test_older_rows_are_brought_to_the_stored_form_at_start(admin, app_state, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    s = created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                           {"name": "o", "rrule": "DTSTART:20380101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    with app_state.store.transaction():   # as an older version wrote them
        app_state.store.execute("UPDATE schedules SET dtstart = '2038-01-01T00:00:00Z', "
                                "next_run = '2038-01-01T00:00:00Z' WHERE id = ?", (s["id"],))
    sq.install(app_state.store)
    row = stored(app_state, s["id"])
    assert (row["dtstart"], row["next_run"], row["dtend"]) == ("2038-01-01T00:00:00.000000Z",
                                                               "2038-01-01T00:00:00.000000Z", None)
    assert admin.get(s["url"]).json["next_run"] == "2038-01-01T00:00:00Z"
    assert s["id"] in {x["id"] for x in admin.get("/api/v2/schedules/?next_run=2038-01-01T00:00:00Z").json["results"]}


# -- 7. "" clears a nullable relation ------------------------------------------------------------------------
def test_an_empty_string_clears_a_prompted_relation(admin, app_state, org, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml", ask_execution_environment_on_launch=True,
                 ask_inventory_on_launch=True)
    ee = created(admin.post("/api/v2/execution_environments/", {"name": unique("ee"), "image": "quay.io/x/y:3"}))
    s = created(admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {
        "name": "c", "rrule": RULE, "execution_environment": ee["id"], "inventory": inventory["id"]}))
    r = admin.patch(s["url"], {"execution_environment": "", "inventory": ""})
    assert r.status_code == 200 and (r.json["execution_environment"], r.json["inventory"]) == (None, None)
    row = stored(app_state, s["id"])
    assert (row["execution_environment"], row["inventory"]) == (None, None)
    # a relation that may not be null answers as DRF does
    r = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": ""})
    assert (r.status_code, r.json) == (400, {"organization": ["This field may not be null."]})


# -- 8, 9. until and naive DTSTARTs ---------------------------------------------------------------------------
def test_until_is_the_rrules_end_never_an_exrules(admin, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    path = f"/api/v2/job_templates/{jt['id']}/schedules/"
    paris = "DTSTART;TZID=Europe/Paris:20300601T120000 RRULE:FREQ=DAILY;INTERVAL=1"
    only_ex = created(admin.post(path, {"name": "x", "rrule": f"{paris} EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;"
                                                              "UNTIL=20310101T000000Z"}))
    assert only_ex["until"] == ""
    both = created(admin.post(path, {"name": "y", "rrule": "DTSTART;TZID=Europe/Paris:20300601T120000 "
                                     "EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=20310101T000000Z "
                                     "RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20320101T000000Z"}))
    assert both["until"] == "2032-01-01T01:00:00"


@pytest.mark.parametrize("rule, messages", [
    ("RRULE:FREQ=DAILY;INTERVAL=1 DTSTART:20300601T120000",
     ["rrule parsing failed validation: A valid TZID must be provided (e.g., America/New_York)"]),
    ("DTSTART:20300601T120000 RRULE:FREQ=DAILY;INTERVAL=1",
     ["DTSTART cannot be a naive datetime.  Specify ;TZINFO= or YYYYMMDDTHHMMSSZZ.",
      "rrule parsing failed validation: A valid TZID must be provided (e.g., America/New_York)"]),
])
def test_a_naive_dtstart_is_refused_wherever_it_stands(admin, project, inventory, rule, messages):
    jt = make_jt(admin, project, inventory, "play.yml")
    r = admin.post(f"/api/v2/job_templates/{jt['id']}/schedules/", {"name": "n", "rrule": rule})
    assert (r.status_code, r.json) == (400, {"rrule": messages})
    assert admin.get(f"/api/v2/job_templates/{jt['id']}/schedules/").json["count"] == 0
    preview = admin.post("/api/v2/schedules/preview/", {"rrule": rule})
    assert (preview.status_code, preview.json) == (400, {"rrule": messages})


# -- 10. what a schedule shows of its template ------------------------------------------------------------------
def test_schedules_show_their_templates_inventory_and_project(admin, org, project, inventory):
    jt = make_jt(admin, project, inventory, "play.yml")
    source = created(admin.post("/api/v2/inventory_sources/", {"name": unique("ec2"), "inventory": inventory["id"],
                                                               "source": "ec2"}))
    wfjt = created(admin.post("/api/v2/workflow_job_templates/", {"name": unique("wf"), "organization": org["id"],
                                                                  "inventory": inventory["id"]}))
    git = created(admin.post("/api/v2/projects/", {"name": unique("git"), "organization": org["id"],
                                                    "scm_type": "git", "scm_url": "https://example.invalid/r.git"}))
    full = admin.get(f"/api/v2/inventories/{inventory['id']}/").json
    keys = ("id", "name", "description", "has_active_failures", "total_hosts", "hosts_with_active_failures",
            "total_groups", "has_inventory_sources", "total_inventory_sources", "inventory_sources_with_failures",
            "organization_id", "kind")
    made = {plural: created(admin.post(f"/api/v2/{plural}/{t['id']}/schedules/", {"name": unique("s"), "rrule": RULE}))
            for plural, t in (("job_templates", jt), ("inventory_sources", source),
                              ("workflow_job_templates", wfjt), ("projects", git))}
    for plural in ("job_templates", "inventory_sources", "workflow_job_templates"):
        s = admin.get(made[plural]["url"]).json
        assert s["related"]["inventory"] == f"/api/v2/inventories/{inventory['id']}/"
        summary = s["summary_fields"]["inventory"]
        assert tuple(summary) == keys
        assert summary["total_hosts"] == full["total_hosts"] and summary["organization_id"] == org["id"]
    assert admin.get(made["job_templates"]["url"]).json["related"]["project"] == f"/api/v2/projects/{project['id']}/"
    p = admin.get(made["projects"]["url"]).json
    assert p["related"]["project"] == f"/api/v2/projects/{git['id']}/" and "inventory" not in p["related"]
    assert "inventory" not in p["summary_fields"]

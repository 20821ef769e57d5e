"""``/api/v2/metrics/``: Prometheus text that prometheus_client's own parser reads, AWX's
names for what AWX measures (``awx_status_total``, ``awx_running_jobs_total``,
``awx_instance_capacity``...), Turret's counters (event ingest, schedule fires, ended jobs,
request durations) moved by a real job, AWX's ``?format=json`` and its access rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from controller import metrics
from controller.jobs.scheduler import tick
from controller.services.bootstrap import system_context
from tests.support.jobs import launch, make_jt, make_stage, wait_job

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=one
    - debug: msg=two
"""


def _families(text: str) -> dict[str, dict]:
    """{family name: {sample name + sorted labels: value}}."""
    out: dict[str, dict] = {}
    for family in text_string_to_metric_families(text):
        samples = out.setdefault(family.name, {})
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(families: dict, family: str, sample: str | None = None, **labels: str) -> float:
    key = (sample or family, tuple(sorted(labels.items())))
    return families.get(family, {}).get(key, 0.0)


def _scrape(client) -> dict:
    resp = client.get("/api/v2/metrics/")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/plain")
    return _families(resp.get_data(as_text=True))


def test_the_page_parses_and_names_awx_metrics(admin, app_state):
    families = _scrape(admin)
    for name in ("awx_system_info", "awx_organizations_total", "awx_users_total", "awx_hosts_total", "awx_status_total",
                 "awx_running_jobs_total", "awx_pending_jobs_total", "awx_instance_capacity",
                 "awx_instance_remaining_capacity", "turret_events_ingested", "turret_schedule_fires",
                 "turret_http_request_duration_seconds"):
        assert name in families, name
    # the superuser exists: one user at least, counted from the users table
    assert _value(families, "awx_users_total") == app_state.store.count("users")
    # every AWX status is reported, even at zero
    statuses = {dict(labels)["status"] for _name, labels in families["awx_status_total"]}
    assert statuses == set(metrics.JOB_STATUSES)
    # this node is an instance: its capacity is the one /api/v2/instances/ shows, above zero
    capacity = {dict(labels)["hostname"]: value for _name, labels in families["awx_instance_capacity"]
                for value in [families["awx_instance_capacity"][(_name, labels)]]}
    instances = admin.get("/api/v2/instances/").json["results"]
    assert capacity == {i["hostname"]: float(i["capacity"]) for i in instances}
    assert all(value > 0 for value in capacity.values())


def test_a_real_job_moves_the_counters_and_gauges(admin, app_state, jobs):
    before = _scrape(admin)
    stage = make_stage(admin, app_state.settings.data_dir, {"play.yml": PLAY}, hosts=("h1", "h2"))
    jt = make_jt(admin, stage["project"], stage["inventory"], "play.yml")
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful"
    stored_events = admin.get(f"/api/v2/jobs/{job['id']}/job_events/").json["count"]
    after = _scrape(admin)
    # the event writer counted every event of the run (other jobs may add more, never fewer)
    ingested = _value(after, "turret_events_ingested", "turret_events_ingested_total") - \
        _value(before, "turret_events_ingested", "turret_events_ingested_total")
    assert ingested >= stored_events > 0
    assert _value(after, "turret_event_batches", "turret_event_batches_total") > \
        _value(before, "turret_event_batches", "turret_event_batches_total")
    # one more successful job in both the ended-job counter and the status gauge
    finished = ("turret_jobs_finished", "turret_jobs_finished_total")
    assert _value(after, *finished, kind="job", status="successful") == \
        _value(before, *finished, kind="job", status="successful") + 1
    assert _value(after, "awx_status_total", status="successful") == \
        _value(before, "awx_status_total", status="successful") + 1
    assert _value(after, "awx_organizations_total") == _value(before, "awx_organizations_total") + 1
    assert _value(after, "awx_hosts_total", type="all") == _value(before, "awx_hosts_total", type="all") + 2
    # the requests made above were timed under their URL rule, not their concrete path
    count = ("turret_http_request_duration_seconds", "turret_http_request_duration_seconds_count")
    assert _value(after, *count, method="POST", route="/api/v2/job_templates/<ident>/launch/", status="201") >= 1
    assert not any("/api/v2/jobs/%d/" % job["id"] in dict(labels).get("route", "")
                   for _name, labels in after["turret_http_request_duration_seconds"])


def test_pending_jobs_are_a_gauge_read_from_the_store(admin, app_state):
    """Without workers a launched job stays pending: the gauge shows it, then not once it is
    canceled (nothing kept in sync by hand)."""
    stage = make_stage(admin, app_state.settings.data_dir, {"play.yml": PLAY})
    jt = make_jt(admin, stage["project"], stage["inventory"], "play.yml")
    app_state.stop_jobs()
    before = _value(_scrape(admin), "awx_pending_jobs_total")
    job = launch(admin, jt)
    assert _value(_scrape(admin), "awx_pending_jobs_total") == before + 1
    assert admin.post(f"/api/v2/jobs/{job['id']}/cancel/").status_code == 202
    assert _value(_scrape(admin), "awx_pending_jobs_total") == before


def test_a_schedule_fire_is_counted(admin, app_state):
    stage = make_stage(admin, app_state.settings.data_dir, {"play.yml": PLAY})
    jt = make_jt(admin, stage["project"], stage["inventory"], "play.yml")
    start = (datetime.now(timezone.utc) - timedelta(seconds=5)).strftime("%Y%m%dT%H%M%SZ")
    resp = admin.post("/api/v2/schedules/", {"name": "every minute", "unified_job_template": jt["id"],
                                             "rrule": f"DTSTART:{start} RRULE:FREQ=MINUTELY;INTERVAL=1"})
    assert resp.status_code == 201, resp.json
    before = _value(_scrape(admin), "turret_schedule_fires", "turret_schedule_fires_total")
    due = datetime.strptime(resp.json["next_run"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    fired = tick(system_context(app_state), due + timedelta(seconds=1))
    assert [f["schedule"] for f in fired] == [resp.json["id"]]
    assert _value(_scrape(admin), "turret_schedule_fires", "turret_schedule_fires_total") == before + 1
    admin.delete(f"/api/v2/schedules/{resp.json['id']}/")


def test_format_json_is_awx_shape(admin):
    admin.get("/api/v2/ping/")      # a request is timed once answered: one at least before the scrape
    resp = admin.get("/api/v2/metrics/?format=json")
    assert resp.status_code == 200
    body = resp.json
    # the same rendering for a client that asks for JSON (awxkit), text for one that takes anything
    asked = admin.get("/api/v2/metrics/", headers={"Accept": "application/json"})
    assert set(asked.json) == set(body)
    assert admin.get("/api/v2/metrics/", headers={"Accept": "*/*"}).mimetype == "text/plain"
    assert body["awx_status_total"]["type"] == "gauge"
    assert {"labels": {"status": "failed"}, "value": body["awx_status_total"]["samples"][4]["value"]} in \
        body["awx_status_total"]["samples"]
    durations = body["turret_http_request_duration_seconds"]
    assert durations["type"] == "histogram"
    assert {s["sample_type"] for s in durations["samples"]} == {"bucket", "sum", "count"}


def test_only_superusers_and_auditors_read_it(app, admin, anon, make_user):
    assert anon.get("/api/v2/metrics/").status_code == 401
    _uid, user = make_user()
    resp = user.get("/api/v2/metrics/")
    assert resp.status_code == 403 and resp.json == {"detail": "You do not have permission to perform this action."}
    _uid, auditor = make_user(is_system_auditor=True)
    assert "awx_status_total" in _scrape(auditor)


@pytest.fixture
def anonymous_metrics(admin):
    resp = admin.patch("/api/v2/settings/system/", {"ALLOW_METRICS_FOR_ANONYMOUS_USERS": True})
    yield resp
    admin.patch("/api/v2/settings/system/", {"ALLOW_METRICS_FOR_ANONYMOUS_USERS": False})


def test_the_anonymous_setting_opens_it(anon, anonymous_metrics):
    assert anonymous_metrics.status_code == 200, anonymous_metrics.json
    assert anonymous_metrics.json["ALLOW_METRICS_FOR_ANONYMOUS_USERS"] is True
    assert "awx_status_total" in _families(anon.get("/api/v2/metrics/").get_data(as_text=True))


def test_only_declared_sub_lists_and_actions_become_route_labels(admin, make_org):
    """Any text reaches ``/api/v2/<plural>/<id>/<sub>/``: an undeclared one is labelled with the
    rule's pattern, so no request can add series without end; a declared one by its name."""
    org = make_org()
    for n in range(3):
        resp = admin.get(f"/api/v2/organizations/{org['id']}/made-up-{n}/")
        assert resp.status_code == 404 and resp.json == {"detail": "Not found."}
    assert admin.get(f"/api/v2/organizations/{org['id']}/teams/").status_code == 200
    count = ("turret_http_request_duration_seconds", "turret_http_request_duration_seconds_count")
    after = _scrape(admin)
    routes = {dict(labels)["route"] for _name, labels in after["turret_http_request_duration_seconds"]}
    assert not any("made-up" in r for r in routes)
    assert _value(after, *count, method="GET", route="/api/v2/organizations/<ident>/<sub>/", status="404") >= 3
    assert _value(after, *count, method="GET", route="/api/v2/organizations/<ident>/teams/", status="200") >= 1

"""The settings API (/api/v2/settings/): shapes, RBAC, secrets, reset, validation, activity stream."""
from __future__ import annotations

from controller.config import Settings
from controller.services.settings import StoredSettings


def _activity(admin, key: str) -> list[dict]:
    resp = admin.get("/api/v2/activity_stream/?object1=setting&order_by=id&page_size=200")
    assert resp.status_code == 200, resp.json
    return [e for e in resp.json["results"] if e["changes"].get("key") == key]


def test_category_list_has_awx_shape(admin):
    resp = admin.get("/api/v2/settings/")
    assert resp.status_code == 200
    slugs = [c["slug"] for c in resp.json["results"]]
    assert slugs == sorted(slugs)
    assert {"all", "changed", "system", "jobs", "ui", "logging", "authentication"} <= set(slugs)
    jobs = next(c for c in resp.json["results"] if c["slug"] == "jobs")
    assert jobs == {"url": "/api/v2/settings/jobs/", "slug": "jobs", "name": "Jobs"}
    assert resp.json["count"] == len(slugs)
    assert admin.get("/api/v2/").json["settings"] == "/api/v2/settings/"


def test_category_detail_is_a_flat_dict_of_awx_names(admin):
    jobs = admin.get("/api/v2/settings/jobs/").json
    assert jobs["DEFAULT_JOB_TIMEOUT"] == 0
    assert jobs["MAX_FORKS"] == 200
    assert jobs["AWX_TASK_ENV"] == {}
    assert "ping" in jobs["AD_HOC_COMMANDS"]
    assert jobs["AWX_ISOLATION_BASE_PATH"] == "/tmp"
    assert "CUSTOM_LOGO" not in jobs
    everything = admin.get("/api/v2/settings/all/").json
    assert set(jobs) < set(everything)
    assert {"CUSTOM_LOGO", "MANAGE_ORGANIZATION_AUTH", "KEEP_DAYS"} <= set(everything)
    assert "DATA_DIR" not in everything and "PORT" not in everything   # Turret-only settings stay out
    assert admin.get("/api/v2/settings/nope/").status_code == 404


def test_patch_stores_value_and_reads_it_back(admin, app):
    resp = admin.patch("/api/v2/settings/all/", {"AWX_ISOLATION_SHOW_PATHS": ["/srv", "/opt"],
                                                 "DEFAULT_JOB_TIMEOUT": 30})
    assert resp.status_code == 200, resp.json
    assert resp.json["AWX_ISOLATION_SHOW_PATHS"] == ["/srv", "/opt"]
    assert resp.json["DEFAULT_JOB_TIMEOUT"] == 30
    assert admin.get("/api/v2/settings/jobs/").json["DEFAULT_JOB_TIMEOUT"] == 30
    changed = admin.get("/api/v2/settings/changed/").json
    assert changed["DEFAULT_JOB_TIMEOUT"] == 30 and "MAX_FORKS" not in changed
    # the process's settings see it at once (no restart)
    assert app.config["TURRET"].settings.DEFAULT_JOB_TIMEOUT == 30
    admin.delete("/api/v2/settings/jobs/")


def test_put_on_a_category_keeps_unsent_settings(admin):
    admin.patch("/api/v2/settings/jobs/", {"SCHEDULE_MAX_JOBS": 4})
    resp = admin.put("/api/v2/settings/jobs/", {"MAX_FORKS": 50, "CUSTOM_LOGO": "ignored: another category"})
    assert resp.status_code == 200
    assert resp.json["MAX_FORKS"] == 50 and resp.json["SCHEDULE_MAX_JOBS"] == 4
    assert admin.get("/api/v2/settings/ui/").json["CUSTOM_LOGO"] == ""
    admin.delete("/api/v2/settings/jobs/")


def test_delete_resets_the_category_only(admin):
    admin.patch("/api/v2/settings/all/", {"MAX_FORKS": 7, "CUSTOM_LOGIN_INFO": "hello"})
    resp = admin.delete("/api/v2/settings/jobs/")
    assert resp.status_code == 204 and resp.data == b""
    assert admin.get("/api/v2/settings/jobs/").json["MAX_FORKS"] == 200
    assert admin.get("/api/v2/settings/ui/").json["CUSTOM_LOGIN_INFO"] == "hello"
    entries = _activity(admin, "MAX_FORKS")
    assert [e["operation"] for e in entries][-2:] == ["update", "delete"]
    assert entries[-1]["changes"]["value"] == [7, 200]
    admin.delete("/api/v2/settings/ui/")
    assert "CUSTOM_LOGIN_INFO" not in admin.get("/api/v2/settings/changed/").json


def test_validation_errors_are_per_key_and_nothing_is_stored(admin):
    resp = admin.patch("/api/v2/settings/jobs/", {"MAX_FORKS": "many", "DEFAULT_JOB_TIMEOUT": -1,
                                                  "ALLOW_JINJA_IN_EXTRA_VARS": "sometimes",
                                                  "AWX_TASK_ENV": ["A=1"], "PROJECT_UPDATE_VVV": "maybe",
                                                  "SCHEDULE_MAX_JOBS": 3})
    assert resp.status_code == 400
    assert resp.json == {
        "MAX_FORKS": ["A valid integer is required."],
        "DEFAULT_JOB_TIMEOUT": ["Ensure this value is greater than or equal to 0."],
        "ALLOW_JINJA_IN_EXTRA_VARS": ['"sometimes" is not a valid choice.'],
        "AWX_TASK_ENV": ['Expected a dictionary of items but got type "list".'],
        "PROJECT_UPDATE_VVV": ["Must be a valid boolean."],
    }
    assert admin.get("/api/v2/settings/jobs/").json["SCHEDULE_MAX_JOBS"] == 10   # all or nothing


def test_task_env_values_become_strings(admin):
    resp = admin.patch("/api/v2/settings/jobs/", {"AWX_TASK_ENV": {"A": 1, "B": True, "C": "x"}})
    assert resp.json["AWX_TASK_ENV"] == {"A": "1", "B": "true", "C": "x"}
    admin.delete("/api/v2/settings/jobs/")


def test_secret_settings_are_masked_encrypted_and_kept(admin, app_state):
    resp = admin.patch("/api/v2/settings/logging/", {"LOG_AGGREGATOR_PASSWORD": "s3cret-pw"})
    assert resp.json["LOG_AGGREGATOR_PASSWORD"] == "$encrypted$"
    assert admin.get("/api/v2/settings/all/").json["LOG_AGGREGATOR_PASSWORD"] == "$encrypted$"
    raw = app_state.store.scalar("SELECT value FROM settings WHERE key = 'LOG_AGGREGATOR_PASSWORD'")
    assert "s3cret-pw" not in raw and "$encrypted$" in raw
    # sending the mask back keeps the stored secret
    admin.patch("/api/v2/settings/logging/", {"LOG_AGGREGATOR_PASSWORD": "$encrypted$"})
    assert StoredSettings(app_state.store, app_state.vault).load()["LOG_AGGREGATOR_PASSWORD"] == "s3cret-pw"
    entry = _activity(admin, "LOG_AGGREGATOR_PASSWORD")[-1]
    assert entry["changes"]["value"] == ["", "$encrypted$"]
    assert "s3cret-pw" not in str(admin.get("/api/v2/activity_stream/?object1=setting").json)
    admin.delete("/api/v2/settings/logging/")


def test_unknown_awx_settings_round_trip(admin):
    admin.patch("/api/v2/settings/all/", {"AWX_ISOLATION_BASE_PATH": "/var/tmp", "NOT_A_SETTING": 1})
    everything = admin.get("/api/v2/settings/all/").json
    assert everything["AWX_ISOLATION_BASE_PATH"] == "/var/tmp"
    assert "NOT_A_SETTING" not in everything
    admin.delete("/api/v2/settings/all/")
    assert admin.get("/api/v2/settings/all/").json["AWX_ISOLATION_BASE_PATH"] == "/tmp"


def test_activity_stream_records_each_change(admin):
    admin.patch("/api/v2/settings/ui/", {"CUSTOM_LOGIN_INFO": "Welcome"})
    admin.patch("/api/v2/settings/ui/", {"CUSTOM_LOGIN_INFO": "Welcome"})   # no change: no entry
    entries = _activity(admin, "CUSTOM_LOGIN_INFO")
    assert entries[-1]["operation"] == "update"
    assert entries[-1]["object1"] == "setting"
    assert entries[-1]["changes"] == {"key": "CUSTOM_LOGIN_INFO", "category": "ui", "value": ["", "Welcome"]}
    assert entries[-1]["summary_fields"]["setting"][0]["name"] == "CUSTOM_LOGIN_INFO"
    assert len([e for e in entries if e["changes"]["value"] == ["", "Welcome"]]) == 1
    admin.delete("/api/v2/settings/ui/")


def test_auditor_reads_others_are_refused(admin, make_user):
    _, auditor = make_user(is_system_auditor=True)
    _, user = make_user()
    assert auditor.get("/api/v2/settings/jobs/").json["MAX_FORKS"] == 200
    assert len(auditor.get("/api/v2/settings/").json["results"]) > 3
    resp = auditor.patch("/api/v2/settings/jobs/", {"MAX_FORKS": 1})
    assert resp.status_code == 403
    assert resp.json == {"detail": "You do not have permission to perform this action."}
    assert auditor.delete("/api/v2/settings/jobs/").status_code == 403
    assert "PUT" not in auditor.options("/api/v2/settings/all/").json["actions"]
    assert user.get("/api/v2/settings/jobs/").status_code == 403
    assert user.get("/api/v2/settings/").json == {"count": 0, "next": None, "previous": None, "results": []}
    assert user.patch("/api/v2/settings/all/", {"MAX_FORKS": 1}).status_code == 403
    assert admin.get("/api/v2/settings/jobs/").json["MAX_FORKS"] == 200
    admin.patch("/api/v2/settings/ui/", {"CUSTOM_LOGIN_INFO": "audited"})
    seen = auditor.get("/api/v2/activity_stream/?object1=setting&order_by=-id").json["results"]
    assert seen[0]["changes"]["value"] == ["", "audited"]
    assert user.get("/api/v2/activity_stream/?object1=setting").json["count"] == 0
    admin.delete("/api/v2/settings/ui/")


def test_options_lists_writable_keys_for_the_cli(admin):
    resp = admin.options("/api/v2/settings/all/")
    assert resp.status_code == 200
    put = resp.json["actions"]["PUT"]
    assert put["DEFAULT_JOB_TIMEOUT"]["type"] == "integer"
    assert put["DEFAULT_JOB_TIMEOUT"]["category_slug"] == "jobs"
    assert put["DEFAULT_JOB_TIMEOUT"]["min_value"] == 0
    assert put["ALLOW_JINJA_IN_EXTRA_VARS"]["type"] == "choice"
    assert put["AWX_TASK_ENV"]["type"] == "nested object"
    assert put["LOG_AGGREGATOR_PASSWORD"]["type"] == "string"
    assert "PATCH" in resp.headers["Allow"]
    listing = admin.options("/api/v2/settings/").json
    assert set(listing["actions"]["GET"]) == {"url", "slug", "name"}


def test_database_overrides_environment_default(app_state, admin):
    env = Settings({"DATA_DIR": str(app_state.settings.data_dir)}, environ={"TURRET_MAX_FORKS": "40"})
    env.attach(StoredSettings(app_state.store, app_state.vault))
    assert env.MAX_FORKS == 40
    admin.patch("/api/v2/settings/jobs/", {"MAX_FORKS": 60})
    env.invalidate()
    assert env.MAX_FORKS == 60 and env.base("MAX_FORKS") == 40
    admin.delete("/api/v2/settings/jobs/")
    env.invalidate()
    assert env.MAX_FORKS == 40
    assert Settings({"DATA_DIR": "/nonexistent"}, environ={"TURRET_AWX_TASK_ENV": '{"A": "1"}'}).AWX_TASK_ENV == {"A": "1"}


def test_another_process_sees_a_change_without_restart(app_state, admin, monkeypatch):
    """A second Settings on the same database (another process's) learns of the change
    from the version stamp: within REFRESH_SECONDS, not at once."""
    from controller import config
    other = Settings({"DATA_DIR": str(app_state.settings.data_dir)}, environ={})
    other.attach(StoredSettings(app_state.store, app_state.vault))
    assert other.SCHEDULE_MAX_JOBS == 10
    admin.patch("/api/v2/settings/jobs/", {"SCHEDULE_MAX_JOBS": 3})
    assert other.SCHEDULE_MAX_JOBS == 10          # cached: no SQL on this read
    monkeypatch.setattr(config, "REFRESH_SECONDS", 0.0)
    assert other.SCHEDULE_MAX_JOBS == 3
    admin.delete("/api/v2/settings/jobs/")


def test_named_url_category_describes_the_identifiers_served(admin, make_org):
    formats = admin.get("/api/v2/settings/named-url/").json["NAMED_URL_FORMATS"]
    assert formats["organizations"] == "<name>" and formats["teams"] == "<name>++<organization.name>"
    nodes = admin.get("/api/v2/settings/all/").json["NAMED_URL_GRAPH_NODES"]
    assert nodes["teams"] == {"fields": ["name"], "adj_list": [["organization", "organizations"]]}
    # what it describes really resolves
    org = make_org()
    team = admin.post("/api/v2/teams/", {"name": "nu-team", "organization": org["id"]}).json
    assert admin.get(f"/api/v2/teams/nu-team++{org['name']}/").json["id"] == team["id"]
    # read-only: a change is ignored, the value stays derived
    admin.patch("/api/v2/settings/named-url/", {"NAMED_URL_FORMATS": {}})
    assert admin.get("/api/v2/settings/named-url/").json["NAMED_URL_FORMATS"] == formats
    assert "NAMED_URL_FORMATS" not in admin.options("/api/v2/settings/all/").json["actions"]["PUT"]

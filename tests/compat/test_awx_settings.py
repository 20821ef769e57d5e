"""Settings with the real clients: awx.awx 24.6.1's ``settings`` module and ``awx settings``.

The module reads ``/settings/all/``, compares each given key and PATCHes the ones that differ,
so a second run with the same values must report ``changed=0``.  It has no ``state: absent``:
a category is reset with ``DELETE /settings/<slug>/``, checked here through the API.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import expect

from .awx_collection import describe, run_play

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def run(controller, work: Path, tag: str, tasks: list[dict]):
    return run_play(controller, work, tag, tasks, name="settings with awx.awx")


def tasks(base_path: str, timeout: str, show_paths: list[str]) -> list[dict]:
    return [
        {"name": "one setting by name", "awx.awx.settings": {"name": "AWX_ISOLATION_BASE_PATH", "value": base_path}},
        {"name": "an integer given as text", "awx.awx.settings": {"name": "DEFAULT_JOB_TIMEOUT", "value": timeout}},
        {"name": "several at once", "awx.awx.settings": {"settings": {
            "AWX_ISOLATION_SHOW_PATHS": show_paths, "AWX_TASK_ENV": {"HTTPS_PROXY": "http://proxy.invalid:3128"},
            "CUSTOM_LOGIN_INFO": "Managed by awx.awx"}}},
    ]


def test_awx_collection_settings_module(controller, api, tmp_path):
    first = run(controller, tmp_path, "first", tasks("/var/tmp", "45", ["/srv", "/opt"]))
    assert "changed=3" in first.stdout, describe(first)
    stored = expect(api.get("/api/v2/settings/all/"), 200)
    assert stored["AWX_ISOLATION_BASE_PATH"] == "/var/tmp"
    assert stored["DEFAULT_JOB_TIMEOUT"] == 45
    assert stored["AWX_ISOLATION_SHOW_PATHS"] == ["/srv", "/opt"]
    assert stored["AWX_TASK_ENV"] == {"HTTPS_PROXY": "http://proxy.invalid:3128"}
    assert expect(api.get("/api/"), 200)["custom_login_info"] == "Managed by awx.awx"

    second = run(controller, tmp_path, "second", tasks("/var/tmp", "45", ["/srv", "/opt"]))
    assert "changed=0" in second.stdout, describe(second)

    third = run(controller, tmp_path, "update", tasks("/var/tmp", "60", ["/srv"]))
    assert "changed=2" in third.stdout, describe(third)
    assert expect(api.get("/api/v2/settings/jobs/"), 200)["DEFAULT_JOB_TIMEOUT"] == 60

    expect(api.delete("/api/v2/settings/all/"), 204)
    reset = expect(api.get("/api/v2/settings/all/"), 200)
    assert (reset["AWX_ISOLATION_BASE_PATH"], reset["DEFAULT_JOB_TIMEOUT"], reset["AWX_TASK_ENV"]) == ("/tmp", 0, {})
    assert expect(api.get("/api/v2/settings/changed/"), 200) == {}


def test_awx_cli_settings_list_and_modify(awx, api):
    everything = awx.json("settings", "list")
    assert everything["MAX_FORKS"] == 200 and "AWX_ISOLATION_BASE_PATH" in everything
    jobs = awx.json("settings", "list", "--slug", "jobs")
    assert "DEFAULT_JOB_TIMEOUT" in jobs and "CUSTOM_LOGO" not in jobs

    assert awx.json("settings", "modify", "DEFAULT_JOB_IDLE_TIMEOUT", "30") == {
        "key": "DEFAULT_JOB_IDLE_TIMEOUT", "value": 30}
    assert awx.json("settings", "modify", "AD_HOC_COMMANDS", '["ping", "setup"]')["value"] == ["ping", "setup"]
    stored = expect(api.get("/api/v2/settings/jobs/"), 200)
    assert stored["DEFAULT_JOB_IDLE_TIMEOUT"] == 30 and stored["AD_HOC_COMMANDS"] == ["ping", "setup"]

    refused = awx.fails("settings", "modify", "MAX_FORKS", "many")
    assert "A valid integer is required" in refused.stdout + refused.stderr
    assert expect(api.get("/api/v2/settings/jobs/"), 200)["MAX_FORKS"] == 200
    expect(api.delete("/api/v2/settings/jobs/"), 204)

"""The real ``awx`` CLI (awxkit 24.6.1) creates, lists, modifies and deletes schedules.

Set-up (organization, manual project folder, inventory, job template) goes through the API;
every CLI action is read back through the API.
"""
from __future__ import annotations

import pytest

from tests.support.api import expect

from .clients import unique

pytestmark = pytest.mark.compat

RRULE = "DTSTART:20300101T090000Z RRULE:FREQ=DAILY;INTERVAL=1"


@pytest.fixture(scope="module")
def jt(controller):
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        folder = unique("folder")
        (controller.data_dir / "projects" / folder).mkdir(parents=True)
        (controller.data_dir / "projects" / folder / "site.yml").write_text("- hosts: all\n  tasks: []\n")
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        inventory = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"),
                                                                   "organization": org["id"]}), 201)
        return expect(api.post("/api/v2/job_templates/", json={
            "name": unique("jt"), "project": project["id"], "inventory": inventory["id"], "playbook": "site.yml",
            "ask_limit_on_launch": True}), 201)


def test_cli_creates_and_lists_a_schedule(awx, api, jt):
    name = unique("nightly")
    made = awx.json("schedules", "create", "--name", name, "--rrule", RRULE,
                    "--unified_job_template", str(jt["id"]), "--limit", "web")
    assert made["name"] == name and made["rrule"] == RRULE and made["limit"] == "web"
    assert made["next_run"] == "2030-01-01T09:00:00Z" and made["timezone"] == "UTC"
    stored = expect(api.get(f"/api/v2/schedules/{made['id']}/"), 200)
    assert stored["unified_job_template"] == jt["id"]
    assert stored["summary_fields"]["unified_job_template"]["unified_job_type"] == "job"

    listed = awx.json("schedules", "list", "--name", name)
    assert [s["id"] for s in listed["results"]] == [made["id"]]
    everything = awx.json("schedules", "list")
    assert made["id"] in [s["id"] for s in everything["results"]]

    changed = awx.json("schedules", "modify", str(made["id"]), "--enabled", "false")
    assert changed["enabled"] is False and changed["next_run"] is None
    assert expect(api.get(f"/api/v2/job_templates/{jt['id']}/schedules/"), 200)["count"] == 1

    awx.run("schedules", "delete", str(made["id"]))
    expect(api.get(f"/api/v2/schedules/{made['id']}/"), 404)


def test_cli_reports_a_refused_rule(awx, jt):
    proc = awx.fails("schedules", "create", "--name", unique("bad"), "--unified_job_template", str(jt["id"]),
                     "--rrule", "DTSTART:20300101T090000Z RRULE:FREQ=SECONDLY;INTERVAL=1")
    assert "SECONDLY is not supported" in proc.stdout + proc.stderr


def test_cli_creates_a_cron_schedule(awx, api, jt):
    made = awx.json("schedules", "create", "--name", unique("cron"), "--unified_job_template", str(jt["id"]),
                    "--cron", "*/15 9-17 * * 1-5", "--timezone", "Europe/Paris")
    assert made["schedule_type"] == "cron" and made["rrule"].startswith("DTSTART;TZID=Europe/Paris:")
    assert "BYMINUTE=0,15,30,45" in made["rrule"]
    expect(api.delete(f"/api/v2/schedules/{made['id']}/"), 204)

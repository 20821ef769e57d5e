"""The real ``awx.awx`` 24.6.1 collection manages a notification template and attaches it.

A playbook with ``awx.awx.notification_template`` (a webhook) and ``awx.awx.job_template`` /
``awx.awx.organization`` (``notification_templates_*`` lists) runs twice through
``ansible-playbook``: the first run changes, the second must report ``changed=0``.  Stored state is
read back through the API, and a job launched by ``awx.awx.job_launch`` delivers its message to a
local HTTP sink.

Client-side facts this relies on (not server behaviour):
  * the module sends only the keys given; the server fills in the type's defaults
    (``disable_ssl_verification``, ``username``, ``password``), so the module PATCHes again on the
    second run and then reports ``changed=False`` because the answer equals what it read before.
  * awx.awx 24.6.1's notification_template has no ``update_secrets`` option and forces it true:
    with a non-empty password the module reports ``changed`` on every run, against real AWX too.
    The template here therefore has no password (the secret path is covered by the CLI test).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.support.api import expect
from tests.support.receivers import HttpSink, received, json_object

from .awx_collection import describe, run_plays
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def playbook(names: dict, sink_url: str, launch: bool) -> list[dict]:
    """The play: the template, its attachments, and (``launch``) a job that uses them."""
    tasks: list[dict] = [
        {"name": "notification template", "awx.awx.notification_template": {
            "name": names["nt"], "organization": names["org"], "notification_type": "webhook",
            "notification_configuration": {"url": sink_url + "/awx", "http_method": "POST",
                                           "headers": {"X-From": "awx.awx"}}}},
        {"name": "job template notifications", "awx.awx.job_template": {
            "name": names["jt"], "organization": names["org"],
            "notification_templates_success": [names["nt"]], "notification_templates_error": [names["nt"]]}},
        {"name": "organization notifications", "awx.awx.organization": {
            "name": names["org"], "notification_templates_approvals": [names["nt"]]}},
    ]
    if launch:
        tasks.append({"name": "launch", "awx.awx.job_launch": {"job_template": names["jt"], "wait": True},
                      "register": "launched"})
        tasks.append({"name": "job id", "ansible.builtin.copy": {
            "content": "{{ launched.id }}", "dest": str(names["job_file"])}})
    return [{"name": "notifications with awx.awx", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": tasks}]


def run(controller, names: dict, sink_url: str, work: Path, tag: str, launch: bool = False):
    return run_plays(controller, work, tag, playbook(names, sink_url, launch))


@pytest.fixture(scope="module")
def names(controller, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("awx-notifications")
    folder = unique("folder")
    (controller.data_dir / "projects" / folder).mkdir(parents=True)
    (controller.data_dir / "projects" / folder / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.ping: }]\n")
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        local = json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        inv = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": org["id"],
                                                             "variables": local}), 201)
        expect(api.post("/api/v2/hosts/", json={"name": "localhost", "inventory": inv["id"]}), 201)
        jt = expect(api.post("/api/v2/job_templates/", json={"name": unique("jt"), "project": project["id"],
                                                             "inventory": inv["id"], "playbook": "site.yml"}), 201)
    return {"org": org["name"], "org_id": org["id"], "jt": jt["name"], "jt_id": jt["id"], "nt": unique("hook"),
            "work": work, "job_file": work / "job-id.txt"}


def test_awx_collection_notification_template_is_idempotent(controller, api, names):
    with HttpSink() as sink:
        first = run(controller, names, sink.url, names["work"], "first")
        assert "changed=3" in first.stdout, describe(first)
        second = run(controller, names, sink.url, names["work"], "second")
        assert "changed=0" in second.stdout, describe(second)

        [nt] = expect(api.get("/api/v2/notification_templates/", params={"name": names["nt"]}), 200)["results"]
        config = nt["notification_configuration"]
        assert nt["organization"] == names["org_id"] and nt["notification_type"] == "webhook"
        assert config["url"] == sink.url + "/awx" and config["http_method"] == "POST"
        assert config["headers"] == {"X-From": "awx.awx"}
        rel = f"/api/v2/job_templates/{names['jt_id']}/notification_templates_"
        assert [[t["id"] for t in expect(api.get(rel + e + "/"), 200)["results"]]
                for e in ("started", "success", "error")] == [[], [nt["id"]], [nt["id"]]]
        approvals = expect(api.get(f"/api/v2/organizations/{names['org_id']}/notification_templates_approvals/"), 200)
        assert [t["id"] for t in approvals["results"]] == [nt["id"]]

        run(controller, names, sink.url, names["work"], "launch", launch=True)
        job_id = int(names["job_file"].read_text())
        got = received(sink, lambda r: r.path == "/awx" and json_object(r).get("id") == job_id)
        assert json_object(got)["status"] == "successful" and got.headers["x-from"] == "awx.awx"
        deadline = time.monotonic() + 30
        while True:
            sent = expect(api.get(f"/api/v2/jobs/{job_id}/notifications/"), 200)["results"]
            if (sent and sent[0]["status"] != "pending") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert [(n["notification_template"], n["status"]) for n in sent] == [(nt["id"], "successful")]

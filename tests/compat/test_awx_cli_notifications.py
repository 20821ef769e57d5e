"""The real ``awx`` CLI (awxkit 24.6.1) creates a webhook notification template, attaches it to a
job template, a project and an organization (``associate --start_notification`` ...), exports
them (``awx export``), and the message of a job it launches arrives at a local HTTP sink.

The CLI has no ``test`` verb: awxkit's own ``NotificationTemplate.test()`` (the library the CLI is
built on, from the same venv) posts ``related.test`` and reads the notification back, as AWX's
tooling does.  Everything is read back through the API; the secret never shows.
"""
from __future__ import annotations

import base64
import json
import re
import sys
import time

import pytest

from tests.support.api import expect
from tests.support.receivers import HttpSink, received, json_object

from .clients import describe, run_awxkit, unique

pytestmark = pytest.mark.compat

SECRET = "cli-hook-pw-27"
AWXKIT_TEST = """\
template = v2.notification_templates.get(id=int(sys.argv[4])).results[0]
print(json.dumps(template.test().json))
"""


def names_of(api, path: str) -> list[str]:
    return sorted(t["name"] for t in expect(api.get(path), 200)["results"])


def awxkit_test(controller, template_id: int) -> dict:
    """awxkit's NotificationTemplate.test(): the notification it read back."""
    return run_awxkit(controller, AWXKIT_TEST, str(template_id))


def wait_sent(api, notification_id: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = expect(api.get(f"/api/v2/notifications/{notification_id}/"), 200)
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


@pytest.fixture(scope="module")
def sink():
    with HttpSink() as s:
        yield s


@pytest.fixture(scope="module")
def world(controller):
    with controller.client() as api:
        org = expect(api.post("/api/v2/organizations/", json={"name": unique("org")}), 201)
        folder = unique("folder")
        (controller.data_dir / "projects" / folder).mkdir(parents=True)
        (controller.data_dir / "projects" / folder / "site.yml").write_text(
            "- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.ping: }]\n")
        project = expect(api.post("/api/v2/projects/", json={"name": unique("project"), "organization": org["id"],
                                                              "local_path": folder}), 201)
        inventory = expect(api.post("/api/v2/inventories/", json={
            "name": unique("inv"), "organization": org["id"],
            "variables": json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})}),
            201)
        expect(api.post("/api/v2/hosts/", json={"name": "localhost", "inventory": inventory["id"]}), 201)
        jt = expect(api.post("/api/v2/job_templates/", json={
            "name": unique("jt"), "project": project["id"], "inventory": inventory["id"], "playbook": "site.yml"}), 201)
        return {"org": org, "project": project, "jt": jt}


@pytest.mark.slow
def test_cli_creates_tests_and_attaches_a_notification_template(awx, api, controller, world, sink):
    name = unique("hook")
    config = {"url": sink.url + "/cli", "http_method": "POST", "headers": {"X-From": "awx-cli"},
              "username": "bot", "password": SECRET, "disable_ssl_verification": False}
    made = awx.json("notification_templates", "create", "--name", name, "--organization", str(world["org"]["id"]),
                    "--notification_type", "webhook", "--notification_configuration", json.dumps(config))
    assert made["name"] == name and made["notification_type"] == "webhook"
    assert made["notification_configuration"]["password"] == "$encrypted$"
    stored = expect(api.get(f"/api/v2/notification_templates/{made['id']}/"), 200)
    assert stored["organization"] == world["org"]["id"]
    assert stored["notification_configuration"]["url"] == sink.url + "/cli"
    assert stored["notification_configuration"]["headers"] == {"X-From": "awx-cli"}
    listed = awx.json("notification_templates", "list", "--name", name)
    assert [t["id"] for t in listed["results"]] == [made["id"]]

    # "$encrypted$" sent back by a client keeps the stored password
    config_back = dict(config, password="$encrypted$", http_method="PUT")
    awx.json("notification_templates", "modify", str(made["id"]), "--notification_configuration",
             json.dumps(config_back))

    # ... but not when it would now go somewhere else
    moved = awx.fails("notification_templates", "modify", str(made["id"]), "--notification_configuration",
                      json.dumps(dict(config_back, url=sink.url + "/elsewhere")))
    assert "Enter the secret again" in moved.stdout + moved.stderr
    assert expect(api.get(f"/api/v2/notification_templates/{made['id']}/"), 200)[
        "notification_configuration"]["url"] == sink.url + "/cli"

    # test: awxkit posts related.test (202 {"notification": id}) and reads it back
    tested = awxkit_test(controller, made["id"])
    assert tested["notification_template"] == made["id"]
    got = received(sink, lambda r: r.path == "/cli")
    assert got.headers["x-from"] == "awx-cli" and got.method == "PUT"
    assert got.headers["authorization"] == "Basic " + base64.b64encode(f"bot:{SECRET}".encode()).decode()
    record = wait_sent(api, tested["id"])
    assert (record["status"], record["notifications_sent"], record["error"]) == ("successful", 1, "")
    assert SECRET not in json.dumps(record)

    # attach through the CLI's associate/disassociate verbs
    jt = str(world["jt"]["id"])
    for flag in ("--start_notification", "--success_notification", "--failure_notification"):
        awx.json("job_templates", "associate", jt, flag, name)
    base = f"/api/v2/job_templates/{jt}/notification_templates_"
    assert [names_of(api, base + e + "/") for e in ("started", "success", "error")] == [[name]] * 3
    awx.json("job_templates", "disassociate", jt, "--start_notification", name)
    awx.json("job_templates", "disassociate", jt, "--failure_notification", name)
    assert [names_of(api, base + e + "/") for e in ("started", "success", "error")] == [[], [name], []]
    awx.json("projects", "associate", str(world["project"]["id"]), "--failure_notification", name)
    assert names_of(api, f"/api/v2/projects/{world['project']['id']}/notification_templates_error/") == [name]
    awx.json("organizations", "associate", str(world["org"]["id"]), "--approval_notification", name)
    assert names_of(api, f"/api/v2/organizations/{world['org']['id']}/notification_templates_approvals/") == [name]

    # `awx export` carries the template (secret masked) and the job template's attachments by natural key
    exported = awx.json("export", "--notification_templates", name, "--job_templates", world["jt"]["name"])
    [nt] = exported["notification_templates"]
    assert nt["notification_configuration"]["password"] == "$encrypted$" and SECRET not in json.dumps(exported)
    assert nt["natural_key"]["organization"]["name"] == world["org"]["name"]
    related = exported["job_templates"][0]["related"]
    assert [n["name"] for n in related["notification_templates_success"]] == [name]
    assert related["notification_templates_started"] == [] and related["notification_templates_error"] == []

    # a job launched by the CLI reaches the sink with AWX's job_metadata body
    proc = awx.run("-f", "json", "job_templates", "launch", jt, "--monitor", timeout=300)
    assert proc.returncode == 0, describe(proc)
    # the monitor streams the job's output, then prints the job as JSON
    job = json.loads(re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout).split("End of Standard Out Stream", 1)[1]
                     .lstrip("-").strip())
    assert job["status"] == "successful", job
    delivered = json_object(received(sink, lambda r: r.path == "/cli" and json_object(r).get("id") == job["id"]))
    assert delivered["status"] == "successful" and delivered["name"] == world["jt"]["name"]
    sent = expect(api.get(f"/api/v2/jobs/{job['id']}/notifications/"), 200)["results"]
    assert [n["notification_template"] for n in sent] == [made["id"]]

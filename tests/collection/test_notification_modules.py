"""notification_template and the notification attach options of job_template, project and
organization against a live controller: create, idempotence that ignores ``$encrypted$``, check
mode, diff without the secret, update_secrets, a partial configuration, a new destination without
the secret refused, copy_from, absent; attach/detach read back through
the API; a job of a template with a webhook attached delivers its message to a local HTTP sink;
export + configure carry notification templates and their attachments (secrets left out)."""
from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.conftest import start_controller
from tests.support.api import local_world
from tests.support.receivers import HttpSink, received

from .conftest import ansible_env, connection, failed_cleanly, run_playbook, run_tasks

pytestmark = pytest.mark.slow

NT = "turret.controller.notification_template"
SECRET = "hook-secret-pw-81"


@pytest.fixture(scope="module")
def sink():
    with HttpSink() as s:
        yield s


@pytest.fixture(scope="module")
def world(controller):
    """An organization, a manual project with a playbook, an inventory on localhost, a job template."""
    made = local_world(controller, "N", "ntproj",
                       {"hello.yml": "- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.ping: }]\n"},
                       {"NJT": ("hello.yml", {})})
    return {"org": made["org"], "proj": made["proj"], "jt": made["jts"]["NJT"]}


def hook(sink: HttpSink, path: str, **extra) -> dict:
    return {"name": extra.pop("name", "hook"), "organization": "NOrg", "notification_type": "webhook",
            "notification_configuration": {"url": f"{sink.url}{path}", "http_method": "POST",
                                           "headers": {"X-Test": "yes"}, "username": "u", "password": SECRET,
                                           "disable_ssl_verification": False}, **extra}


def find(api, name: str) -> list[dict]:
    return api.get("/api/v2/notification_templates/", params={"name": name}).json()["results"]


def attached(api, endpoint: str, pk: int, event: str) -> list[str]:
    body = api.get(f"/api/v2/{endpoint}/{pk}/notification_templates_{event}/").json()
    return sorted(t["name"] for t in body["results"])


def test_notification_template_lifecycle(play, api, world, sink):
    create = hook(sink, "/one")
    changed_url = dict(create, notification_configuration=dict(create["notification_configuration"],
                                                                url=f"{sink.url}/two"))
    p = play([
        {NT: create, "check_mode": True},
        {NT: create, "diff": True},
        {NT: create},
        {NT: changed_url, "check_mode": True},
        {NT: changed_url, "diff": True},
        {NT: dict(changed_url, update_secrets=True)},
        {NT: {"name": "hook-copy", "copy_from": "hook", "organization": "NOrg", "description": "copied"}},
        {NT: {"name": "hook-copy", "copy_from": "hook", "organization": "NOrg", "description": "copied"}},
        {NT: {"name": "bad", "organization": "NOrg", "notification_type": "webhook",
              "notification_configuration": {"url": f"{sink.url}/x", "http_method": "GET", "headers": {}}}},
        {NT: {"name": "hook", "notification_configuration": {"url": f"{sink.url}/elsewhere"}}},
    ])
    assert p[0]["changed"] is True and p[0]["id"] is None
    assert p[1]["changed"] is True and p[1]["id"]
    # the secret never shows in the diff or the output
    assert SECRET not in json.dumps(p[1]) and SECRET not in p.output
    assert p[1]["diff"]["after"]["notification_configuration"]["password"] == "$encrypted$"
    assert p[2]["changed"] is False, p[2]             # stored $encrypted$ counts as unchanged
    assert p[3]["changed"] is True
    assert p[4]["changed"] is True and p[4]["diff"]["before"]["notification_configuration"]["url"].endswith("/one")
    assert p[5]["changed"] is True                    # update_secrets sends the password again
    [stored] = find(api, "hook")
    assert stored["id"] == p[1]["id"] and stored["notification_type"] == "webhook"
    config = stored["notification_configuration"]
    assert config["url"] == f"{sink.url}/two" and config["password"] == "$encrypted$"
    assert config["headers"] == {"X-Test": "yes"} and config["username"] == "u"
    assert stored["summary_fields"]["organization"]["name"] == "NOrg"
    # copy_from: a copy the first time (description then applied), nothing the second
    assert p[6]["changed"] is True and p[6]["copied"] is True
    assert p[7]["changed"] is False and p[7]["copied"] is False
    [copy] = find(api, "hook-copy")
    assert copy["id"] != stored["id"] and copy["description"] == "copied"
    assert copy["notification_configuration"]["url"] == f"{sink.url}/two"
    # the server's own validation message (webhook method must be POST or PUT)
    failed_cleanly(p[8], "POST")
    assert find(api, "bad") == []
    # a new destination without the secret again: the server refuses to send the kept one there
    failed_cleanly(p[9], "Enter the secret again")
    assert find(api, "hook")[0]["notification_configuration"]["url"] == f"{sink.url}/two"
    # a partial configuration changes those keys only; the others (the secret too) stay
    partial = {NT: {"name": "hook", "notification_configuration": {"headers": {"X-Test": "two"}}}}
    again = play([partial, partial])
    assert again[0]["changed"] is True and again[1]["changed"] is False
    config = find(api, "hook")[0]["notification_configuration"]
    assert (config["headers"], config["url"], config["username"], config["password"]) == (
        {"X-Test": "two"}, f"{sink.url}/two", "u", "$encrypted$")
    gone = play([{NT: {"name": "hook-copy", "state": "absent"}}, {NT: {"name": "hook-copy", "state": "absent"}}])
    assert gone[0]["changed"] is True and gone[1]["changed"] is False and find(api, "hook-copy") == []


def test_attach_options_keep_exact_lists(play, api, world, sink):
    for name in ("n-start", "n-ok", "n-fail"):
        assert play([{NT: hook(sink, "/" + name, name=name)}])[0]["changed"] is True
    jt, proj, org = world["jt"], world["proj"], world["org"]
    p = play([
        {"turret.controller.job_template": {"name": "NJT", "notification_templates_started": ["n-start"],
                                            "notification_templates_success": ["n-ok", "n-fail"],
                                            "notification_templates_error": ["n-fail"]}, "diff": True},
        {"turret.controller.job_template": {"name": "NJT", "notification_templates_started": ["n-start"],
                                            "notification_templates_success": ["n-ok", "n-fail"],
                                            "notification_templates_error": ["n-fail"]}},
        {"turret.controller.job_template": {"name": "NJT", "notification_templates_success": ["n-ok"]},
         "check_mode": True},
        {"turret.controller.job_template": {"name": "NJT", "notification_templates_success": ["n-ok"]}},
        {"turret.controller.project": {"name": "NProj", "organization": "NOrg",
                                       "notification_templates_error": ["n-fail"]}},
        {"turret.controller.organization": {"name": "NOrg", "notification_templates_approvals": ["n-start"],
                                            "notification_templates_error": ["n-fail", "n-ok"]}},
        {"turret.controller.organization": {"name": "NOrg", "notification_templates_approvals": ["n-start"],
                                            "notification_templates_error": ["n-fail", "n-ok"]}},
        {"turret.controller.job_template": {"name": "NJT", "notification_templates_started": ["no-such"]}},
    ])
    assert p[0]["changed"] is True and p[1]["changed"] is False
    assert p[0]["diff"]["after"]["notification_templates_success"] == sorted(
        [t["id"] for t in find(api, "n-ok") + find(api, "n-fail")])
    assert p[2]["changed"] is True
    assert p[3]["changed"] is True
    assert attached(api, "job_templates", jt["id"], "started") == ["n-start"]
    assert attached(api, "job_templates", jt["id"], "success") == ["n-ok"]       # n-fail detached
    assert attached(api, "job_templates", jt["id"], "error") == ["n-fail"]
    assert attached(api, "projects", proj["id"], "error") == ["n-fail"]
    assert attached(api, "organizations", org["id"], "approvals") == ["n-start"]
    assert attached(api, "organizations", org["id"], "error") == ["n-fail", "n-ok"]
    assert p[5]["changed"] is True and p[6]["changed"] is False
    failed_cleanly(p[7], "no-such")


def test_an_attached_webhook_receives_the_job(play, api, world, sink):
    play([{NT: hook(sink, "/job-done", name="n-job")},
          {"turret.controller.job_template": {"name": "NJT", "notification_templates_success": ["n-job"]}}])
    p = play([{"turret.controller.job_launch": {"name": "NJT", "wait": True}}])
    assert p[0]["status"] == "successful", p[0]
    job_id = p[0]["id"]
    got = received(sink, lambda r: r.path == "/job-done")
    assert got.method == "POST" and got.headers.get("x-test") == "yes"
    assert got.json()["id"] == job_id and got.json()["status"] == "successful"   # AWX's job_metadata body
    [nt] = find(api, "n-job")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = api.get(f"/api/v2/notification_templates/{nt['id']}/notifications/").json()["results"]
        if sent and sent[0]["status"] != "pending":
            break
        time.sleep(0.3)
    assert [(n["status"], n["notifications_sent"]) for n in sent] == [("successful", 1)]
    assert SECRET not in json.dumps(sent)


def configure(controller, config: dict, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "vars.yml"
    path.write_text(yaml.safe_dump({**connection(controller), **config}))
    return run_playbook(["turret.controller.configure", "-e", f"@{path}"], workdir, ansible_env(workdir))


def test_export_and_configure_carry_notifications(play, controller, api, world, sink, tmp_path_factory, tmp_path):
    config = {
        "controller_organizations": [{"name": "XOrg", "notification_templates_success": ["x-hook"]}],
        "controller_notification_templates": [
            {"name": "x-hook", "organization": "XOrg", "notification_type": "webhook",
             "notification_configuration": {"url": f"{sink.url}/x", "http_method": "PUT", "headers": {},
                                            "username": "", "password": SECRET,
                                            "disable_ssl_verification": True},
             # Jinja in a vars file must be kept from Ansible's own rendering (as the export does)
             "messages": {"error": {"message": "{% raw %}{{ job.name }} failed{% endraw %}",
                                    "body": '{% raw %}{"id": {{ job.id }}}{% endraw %}'}}}],
        "controller_projects": [{"name": "XProj", "organization": "XOrg", "local_path": "ntproj",
                                 "notification_templates_error": ["x-hook"]}],
    }
    first = configure(controller, config, tmp_path / "configure")
    assert first.returncode == 0, first.stdout + first.stderr
    assert SECRET not in first.stdout + first.stderr
    assets = play([{"turret.controller.export": {"organizations": ["XOrg"]}}])[0]["assets"]
    [nt] = assets["controller_notification_templates"]
    assert nt["name"] == "x-hook" and nt["organization"] == "XOrg" and nt["notification_type"] == "webhook"
    assert "password" not in nt["notification_configuration"]       # a secret cannot be read back
    assert nt["notification_configuration"]["http_method"] == "PUT"
    # Jinja comes back in raw blocks, so the configure playbook's own rendering gives the template back
    assert nt["messages"]["error"] == {"message": "{% raw %}{{ job.name }} failed{% endraw %}",
                                       "body": '{% raw %}{"id": {{ job.id }}}{% endraw %}'}
    [org] = assets["controller_organizations"]
    assert org["notification_templates_success"] == ["x-hook"] and "notification_templates_error" not in org
    [proj] = assets["controller_projects"]
    assert proj["notification_templates_error"] == ["x-hook"]

    again = configure(controller, assets, tmp_path / "reimport")
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr

    fresh = start_controller(tmp_path_factory)
    try:
        (fresh.data_dir / "projects" / "ntproj").mkdir(parents=True, exist_ok=True)
        imported = configure(fresh, assets, tmp_path / "import")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        reexported = run_tasks(fresh, [{"turret.controller.export": {"organizations": ["XOrg"]}}],
                               tmp_path / "export2")[0]["assets"]
        assert reexported == assets
        with fresh.client() as other:
            [copy] = find(other, "x-hook")
            assert copy["notification_configuration"]["url"] == f"{sink.url}/x"
            assert copy["messages"]["error"] == {"message": "{{ job.name }} failed", "body": '{"id": {{ job.id }}}'}
            org_id = other.get("/api/v2/organizations/", params={"name": "XOrg"}).json()["results"][0]["id"]
            assert attached(other, "organizations", org_id, "success") == ["x-hook"]
    finally:
        fresh.stop()

"""Every resource module against a live controller: check-mode create writes nothing, create
(changed, diff), the same again (unchanged), check-mode update writes nothing, update, absent
(and absent again), and bad input failing with the server's own message."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from .conftest import failed_cleanly

ORG, INV, PROJ, CRED, JT, FOLDER = "TOrg", "TInv", "TProj", "TCred", "TJT", "tproj"
LOCAL = {"ansible_connection": "local"}


@dataclass
class Case:
    module: str
    endpoint: str
    create: dict[str, Any]
    update: dict[str, Any]
    bad: dict[str, Any]
    bad_message: str
    identity: str = "name"
    scope: dict[str, str] = field(default_factory=dict)  # option -> API filter on the list
    check: dict[str, Any] = field(default_factory=dict)  # API field -> value after create
    deletable: bool = True   # False: the module has no state absent (a label: the API has no DELETE)


CASES = [
    Case("organization", "organizations", {"description": "one", "max_hosts": 3}, {"description": "two"},
         {"name": "x" * 600}, "no more than 512 characters", check={"max_hosts": 3}),
    Case("user", "users", {"email": "u1@example.com", "password": "pw-one-1", "first_name": "U"},
         {"last_name": "Last"}, {"email": "not-an-email"}, "Enter a valid email address", identity="username",
         check={"email": "u1@example.com"}),
    Case("team", "teams", {"organization": ORG, "description": "t"}, {"description": "t2"},
         {"organization": ORG, "new_name": "y" * 600}, "no more than 512 characters"),
    Case("label", "labels", {"organization": ORG}, {"new_name": "renamed-label"},
         {"organization": ORG, "new_name": "z" * 600}, "no more than 512 characters", deletable=False),
    Case("application", "applications",
         {"organization": ORG, "client_type": "confidential", "authorization_grant_type": "password"},
         {"description": "for CI", "skip_authorization": True},
         {"organization": ORG, "client_type": "public", "authorization_grant_type": "authorization-code"},
         "Redirect URIs cannot be empty", scope={"organization": "organizations"},
         check={"client_type": "confidential"}),
    Case("credential_type", "credential_types",
         {"kind": "cloud", "inputs": {"fields": [{"id": "api_key", "label": "API key", "type": "string", "secret": True}]},
          "injectors": {"env": {"API_KEY": "{{ '{{' }} api_key {{ '}}' }}"}}},
         {"description": "typed"}, {"kind": "ssh"}, "Must be 'cloud' or 'net'", check={"kind": "cloud"}),
    Case("credential", "credentials",
         {"organization": ORG, "credential_type": "Machine", "inputs": {"username": "deploy", "password": "s3cret"}},
         {"inputs": {"username": "deploy2", "password": "s3cret"}},
         {"credential_type": "Machine", "inputs": {"username": "x"}}, "Missing 'user', 'team', or 'organization'",
         check={"inputs": {"username": "deploy", "password": "$encrypted$"}}),
    Case("project", "projects", {"organization": ORG, "local_path": FOLDER}, {"description": "p2"},
         {"organization": ORG, "local_path": "no-such-folder"}, "Invalid path choice", check={"local_path": FOLDER}),
    Case("inventory", "inventories", {"organization": ORG, "variables": {"a": 1}}, {"variables": "a: 2\n"},
         {"organization": ORG, "kind": "smart"}, "Smart inventories must specify host_filter",
         scope={"organization": "organizations"}),
    Case("host", "hosts", {"inventory": INV, "variables": LOCAL, "enabled": True}, {"enabled": False},
         {"inventory": INV, "variables": "a: ["}, "Cannot parse as JSON", scope={"inventory": "inventories"}),
    Case("group", "groups", {"inventory": INV, "variables": {"g": 1}, "hosts": ["th1"]}, {"hosts": ["th1", "th2"]},
         {"inventory": INV, "variables": "a: ["}, "Cannot parse as JSON", scope={"inventory": "inventories"}),
    Case("inventory_source", "inventory_sources",
         {"inventory": INV, "source": "scm", "source_project": PROJ, "source_path": "hosts.yml"},
         {"overwrite": True}, {"inventory": INV, "source": "scm"}, "Project required for scm type sources",
         scope={"inventory": "inventories"}),
    Case("job_template", "job_templates",
         {"project": PROJ, "inventory": INV, "playbook": "hello.yml", "credentials": [CRED],
          "extra_vars": {"x": 1}, "survey_spec": {"name": "", "description": "",
                                                  "spec": [{"question_name": "Q", "variable": "q", "type": "text",
                                                            "required": False}]}},
         {"ask_limit_on_launch": True, "credentials": []},
         {"project": PROJ, "playbook": "hello.yml"}, "You must either set a default value or ask to prompt on launch"),
    Case("schedule", "schedules", {"unified_job_template": JT, "cron": "0 2 * * *", "timezone": "UTC"},
         {"enabled": False}, {"unified_job_template": JT, "cron": "nope"}, "A cron expression has 5 fields",
         check={"cron": "0 2 * * *"}),
    Case("instance_group", "instance_groups", {"max_concurrent_jobs": 2, "policy_instance_list": []},
         {"max_forks": 5, "new_name": "renamed-group"}, {"is_container_group": True},
         "Container groups are not supported", check={"max_concurrent_jobs": 2}),
    Case("execution_environment", "execution_environments", {"image": "quay.io/a/b:1", "pull": "missing",
                                                             "organization": ORG},
         {"image": "venv:/opt/other"}, {"image": "venv:relative"}, "venv:<absolute path>",
         check={"pull": "missing"}),
]


@pytest.fixture(scope="module")
def world(controller):
    """Objects the cases refer to, made through the API."""
    folder = controller.data_dir / "projects" / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    (folder / "hosts.yml").write_text("all:\n  hosts:\n    fromfile: {}\n")
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": ORG}).json()
        inv = api.post("/api/v2/inventories/", {"name": INV, "organization": org["id"]}).json()
        for h in ("th1", "th2"):
            api.post("/api/v2/hosts/", {"name": h, "inventory": inv["id"], "variables": json.dumps(LOCAL)})
        proj = api.post("/api/v2/projects/", {"name": PROJ, "organization": org["id"], "local_path": FOLDER}).json()
        api.post("/api/v2/job_templates/", {"name": JT, "project": proj["id"], "inventory": inv["id"],
                                            "playbook": "hello.yml"}).raise_for_status()
        machine = api.get("/api/v2/credential_types/?name=Machine").json()["results"][0]["id"]
        api.post("/api/v2/credentials/", {"name": CRED, "organization": org["id"], "credential_type": machine,
                                          "inputs": {"username": "x"}}).raise_for_status()
    return {"org": org, "inv": inv}


def find(api, case: Case, name: str) -> list[dict]:
    return api.get(f"/api/v2/{case.endpoint}/", params={case.identity: name}).json()["results"]


def task(case: Case, name: str, args: dict, **kw: Any) -> dict:
    return {f"turret.controller.{case.module}": {case.identity: name, **args}, **kw}


@pytest.mark.parametrize("case", CASES, ids=[c.module for c in CASES])
def test_module_lifecycle(case: Case, world, api, play):
    name = f"t-{case.module}"
    scope_args = {k: v for k, v in case.create.items() if k in ("organization", "inventory", "credential_type", "unified_job_template")}

    # check mode on create: reports a change, writes nothing
    first = play([task(case, name, case.create, check_mode=True, diff=True)])
    assert first[0]["changed"] is True and first[0]["id"] is None, first[0]
    assert first[0]["diff"]["before"] == {}
    assert find(api, case, name) == []

    p = play([
        task(case, name, case.create, diff=True),                      # 0 create
        task(case, name, case.create, diff=True),                      # 1 same again
        task(case, name, {**scope_args, **case.update}, check_mode=True, diff=True),  # 2 check update
    ])
    created, again, check_update = p.results
    assert created["changed"] is True and created["id"], created
    assert created["diff"]["before"] == {} and created["diff"]["after"][case.identity] == name
    assert again["changed"] is False, again
    assert again["id"] == created["id"]
    assert check_update["changed"] is True and check_update["diff"]["before"] != check_update["diff"]["after"]
    [obj] = find(api, case, name)
    assert obj["id"] == created["id"]
    for key, value in case.check.items():
        assert obj[key] == value, (key, obj[key])
    # the check-mode update wrote nothing: no field has its updated value yet
    assert [k for k, v in case.update.items() if k in obj and obj[k] == v] == []
    if "new_name" in case.update:
        assert find(api, case, case.update["new_name"]) == []

    updated_name = case.update.get("new_name", name)
    if not case.deletable:
        p = play([
            task(case, name, {**scope_args, **case.update}, diff=True),
            task(case, updated_name, {**scope_args, "state": "absent"}),
            task(case, f"bad-{case.module}", case.bad),
        ])
        update, refused, bad = p.results
        assert update["changed"] is True and update["id"] == created["id"], update
        failed_cleanly(refused, "value of state must be one of: present, got: absent")
        assert [o["id"] for o in find(api, case, updated_name)] == [created["id"]]
        failed_cleanly(bad, case.bad_message)
        return
    p = play([
        task(case, name, {**scope_args, **case.update}, diff=True),   # 0 update
        task(case, updated_name, {**scope_args, **{k: v for k, v in case.update.items() if k != "new_name"}}),
        task(case, updated_name, {**scope_args, "state": "absent"}, check_mode=True),
        task(case, updated_name, {**scope_args, "state": "absent"}, diff=True),
        task(case, updated_name, {**scope_args, "state": "absent"}),
        task(case, f"bad-{case.module}", case.bad),
    ])
    update, update_again, check_absent, absent, absent_again, bad = p.results
    assert update["changed"] is True and update["id"] == created["id"], update
    assert update_again["changed"] is False, update_again
    assert check_absent["changed"] is True
    assert absent["changed"] is True and absent["diff"]["after"] == {}
    assert absent_again["changed"] is False
    assert find(api, case, updated_name) == []
    failed_cleanly(bad, case.bad_message)
    assert find(api, case, f"bad-{case.module}") == []


def test_secret_update_secrets(world, api, play):
    """$encrypted$ counts as unchanged unless update_secrets; then the secret is sent again."""
    args = {"organization": ORG, "credential_type": "Machine", "inputs": {"username": "u", "password": "p1"}}
    t = "turret.controller.credential"
    p = play([{t: {"name": "sec", **args}}, {t: {"name": "sec", **args, "inputs": {"username": "u", "password": "p2"}}},
              {t: {"name": "sec", **args, "update_secrets": True}, "diff": True}])
    assert [r["changed"] for r in p.results] == [True, False, True]
    assert "p1" not in p.output and "p2" not in p.output


def test_env_connection_and_token(controller, api, tmp_path):
    """No module_defaults: the connection comes from CONTROLLER_* variables, then from a token."""
    from .conftest import ansible_env, run_tasks
    env = ansible_env(tmp_path, CONTROLLER_HOST=controller.url, CONTROLLER_USERNAME=controller.admin_username,
                      CONTROLLER_PASSWORD=controller.admin_password)
    p = run_tasks(controller, [
        {"turret.controller.token": {"description": "from a test"}},
        {"turret.controller.organization": {"name": "via-token", "controller_oauthtoken": "{{ r0.token }}",
                                            "controller_username": "nobody", "controller_password": "wrong"}},
        {"turret.controller.token": {"existing_token": "{{ r0.token }}", "state": "absent"}},
        {"turret.controller.token": {"existing_token_id": "{{ r0.id }}", "state": "absent"}},
        {"turret.controller.organization": {"name": "via-token", "controller_password": "wrong"}},
    ], tmp_path, defaults=False, env=env)
    tok, org, gone, gone_again, wrong = p.results
    assert tok["changed"] and tok["token"]["token"]
    assert org["changed"] and org["id"]
    assert gone["changed"] is True and gone_again["changed"] is False
    assert api.get(f"/api/v2/tokens/{tok['id']}/").status_code == 404
    failed_cleanly(wrong, "401")


def test_group_children_and_vars_text(world, api, play):
    t = "turret.controller.group"
    p = play([{t: {"name": "kid", "inventory": INV}},
              {t: {"name": "parent", "inventory": INV, "children": ["kid"], "variables": "a: 1\n"}},
              {t: {"name": "parent", "inventory": INV, "children": ["kid"], "variables": {"a": 1}}},
              {t: {"name": "parent", "inventory": INV, "children": []}, "diff": True}])
    assert [r["changed"] for r in p.results] == [True, True, False, True]
    parent = p[1]["id"]
    assert api.get(f"/api/v2/groups/{parent}/children/").json()["count"] == 0


def test_job_template_labels_and_credentials_lists(world, api, play):
    jt = {"name": "labelled", "project": PROJ, "inventory": INV, "playbook": "hello.yml"}
    t = "turret.controller.job_template"
    p = play([{"turret.controller.label": {"name": "prod", "organization": ORG}},
              {t: {**jt, "labels": ["prod"], "credentials": [CRED]}},
              {t: {**jt, "labels": ["prod"], "credentials": [CRED]}},
              {t: {**jt, "labels": [], "credentials": [CRED]}, "check_mode": True, "diff": True}])
    assert [r["changed"] for r in p.results] == [True, True, False, True]
    assert p[3]["diff"]["before"]["labels"] and p[3]["diff"]["after"]["labels"] == []
    jt_id = p[1]["id"]
    assert [x["name"] for x in api.get(f"/api/v2/job_templates/{jt_id}/labels/").json()["results"]] == ["prod"]

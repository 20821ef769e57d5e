"""export returns the configure playbook's variables; configure accepts them back (the import):
unchanged on the same controller, and a fresh controller re-exports the same data."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import start_controller
from tests.support.api import expect, only

from .conftest import connection, run_playbook, run_tasks, ansible_env

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
LOCAL_SCM = {"TURRET_ALLOW_LOCAL_SCM_URLS": "true"}     # a git project on a repository of this machine
HELLO = "- hosts: all\n  tasks: [{ansible.builtin.ping: }]\n"

CONTROLLER_ENV = LOCAL_SCM   # this module's live controller (tests/conftest.py) allows local git URLs


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A local git repository holding hello.yml."""
    path = tmp_path_factory.mktemp("repo")
    (path / "hello.yml").write_text(HELLO)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(git + args, cwd=path, check=True)
    return path


def configure(controller, config: dict, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "vars.yml"
    path.write_text(yaml.safe_dump({**connection(controller), **config}))
    return run_playbook(["turret.controller.configure", "-e", f"@{path}"], workdir, ansible_env(workdir))


def export(controller, workdir, **args) -> dict:
    p = run_tasks(controller, [{"turret.controller.export": args}, {"turret.controller.export": args,
                                                                     "check_mode": True}], workdir)
    assert p[0]["changed"] is False and p[0]["assets"] == p[1]["assets"]
    return p[0]["assets"]


def test_export_then_import(controller, tmp_path_factory, tmp_path):
    for data_dir in (controller.data_dir,):
        folder = data_dir / "projects" / "exp"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hello.yml").write_text("- hosts: all\n  tasks: [{ansible.builtin.ping: }]\n")
    config = {
        "controller_organizations": [{"name": "Exp", "description": "exported"}],
        "controller_teams": [{"name": "T", "organization": "Exp"}],
        "controller_credential_types": [{"name": "ExpType", "kind": "net", "inputs": {"fields": [
            {"id": "user", "label": "User", "type": "string"}]}}],
        "controller_credentials": [{"name": "c", "organization": "Exp", "credential_type": "Machine",
                                    "inputs": {"username": "u", "password": "secret-pw"}}],
        "controller_projects": [{"name": "p", "organization": "Exp", "local_path": "exp"}],
        "controller_inventories": [{"name": "i", "organization": "Exp", "variables": LOCAL,
                                    "hosts": [{"name": "h1", "variables": {"x": 1}}, {"name": "h2"}],
                                    "groups": [{"name": "g", "hosts": ["h1"], "children": ["k"]},
                                               {"name": "k", "hosts": ["h2"], "variables": {"y": 2}}]}],
        "controller_job_templates": [{"name": "jt", "project": "p++Exp", "inventory": "i++Exp",
                                      "playbook": "hello.yml", "credentials": ["c"], "ask_limit_on_launch": True,
                                      "extra_vars": {"a": 1}}],
        "controller_schedules": [{"name": "s", "unified_job_template": "jt", "cron": "0 3 * * *", "timezone": "UTC"}],
    }
    first = configure(controller, config, tmp_path / "configure")
    assert first.returncode == 0, first.stdout + first.stderr
    assets = export(controller, tmp_path / "export", organizations=["Exp"])
    assert [o["name"] for o in assets["controller_organizations"]] == ["Exp"]
    [cred] = assets["controller_credentials"]
    assert cred["inputs"] == {"username": "u"}  # the secret cannot be read back
    [inv] = assets["controller_inventories"]
    assert {g["name"]: g["children"] for g in inv["groups"]} == {"g": ["k"], "k": []}
    [jt] = assets["controller_job_templates"]
    assert jt["credentials"] == ["c"] and jt["extra_vars"] == {"a": 1} and jt["inventory"] == "i++Exp"
    assert assets["controller_schedules"][0]["unified_job_template"] == "jt"

    again = configure(controller, assets, tmp_path / "reimport")
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr

    fresh = start_controller(tmp_path_factory)
    try:
        folder = fresh.data_dir / "projects" / "exp"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hello.yml").write_text("- hosts: all\n  tasks: [{ansible.builtin.ping: }]\n")
        imported = configure(fresh, assets, tmp_path / "import")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert export(fresh, tmp_path / "export2", organizations=["Exp"]) == assets
    finally:
        fresh.stop()


# -- webhook settings and Jinja text (kept from the configure playbook's own rendering) -----------
INJECTORS = {"env": {"HOOK_PW": "{{ password }}"}, "extra_vars": {"hook_pw": "{{ password }}{# note #}"}}
PW_INPUTS = {"fields": [{"id": "password", "label": "Password", "type": "string", "secret": True}]}
JT_HOOK = {"webhook_service": "github", "webhook_events": "push,pull_request", "webhook_ref_filter": "refs/heads/*",
           "webhook_extractors": {"who": "sender.login"}}
SURVEY = {"name": "s", "description": "", "spec": [{"question_name": "Who?", "variable": "who", "type": "text",
                                                    "required": False, "default": "{{ lookup('env', 'USER') }}"}]}
PROJECT_HOOK = {"scm_update_on_push": True, "webhook_service": "gitlab", "webhook_events": "Push Hook",
                "webhook_ref_filter": "refs/heads/main"}
ORIGINAL = {
    "credential_type": {"inputs": PW_INPUTS, "injectors": INJECTORS},
    "job_template": {**JT_HOOK, "webhook_credential": "hook token", "extra_vars": {"a": "{{ who }}"}, "survey": SURVEY},
    "workflow": {**JT_HOOK, "webhook_credential": "hook token",
                 "extra_vars": {"b": "{% if true %}x{% endif %}"}, "node": {"c": "{{ b }}"}},
    "project": PROJECT_HOOK,
}


def make_hook_world(api, controller, repo: Path) -> None:
    """Organization Hook with a credential type whose injectors are Jinja, a GitHub token, a job
    template and a workflow (webhooks, Jinja extra vars, survey default, node extra data) and a
    git project synced on push -- all made through the API, as ORIGINAL says."""
    folder = controller.data_dir / "projects" / "hook"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text(HELLO)
    org = expect(api.post("/api/v2/organizations/", {"name": "Hook"}), 201)["id"]
    expect(api.post("/api/v2/credential_types/", {"name": "HookType", "kind": "cloud", **ORIGINAL["credential_type"]}),
           201)
    github = only(api, "/api/v2/credential_types/", namespace="github_token")["id"]
    token = expect(api.post("/api/v2/credentials/", {"name": "hook token", "organization": org,
                                                     "credential_type": github, "inputs": {"token": "t0k"}}), 201)
    inv = expect(api.post("/api/v2/inventories/", {"name": "hinv", "organization": org}), 201)["id"]
    proj = expect(api.post("/api/v2/projects/", {"name": "hproj", "organization": org, "local_path": "hook"}), 201)
    jt = expect(api.post("/api/v2/job_templates/", {
        "name": "hookjt", "project": proj["id"], "inventory": inv, "playbook": "hello.yml", "survey_enabled": True,
        "ask_variables_on_launch": True, "extra_vars": "a: '{{ who }}'", **JT_HOOK,
        "webhook_credential": token["id"]}), 201)
    expect(api.post(jt["url"] + "survey_spec/", SURVEY), 200)
    wf = expect(api.post("/api/v2/workflow_job_templates/", {
        "name": "hookwf", "organization": org, "extra_vars": '{"b": "{% if true %}x{% endif %}"}', **JT_HOOK,
        "webhook_credential": token["id"]}), 201)
    expect(api.post(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                    {"unified_job_template": jt["id"], "identifier": "n", "extra_data": ORIGINAL["workflow"]["node"]}),
           201)
    expect(api.post("/api/v2/projects/", {"name": "hgit", "organization": org, "scm_type": "git",
                                          "scm_url": f"file://{repo}", **PROJECT_HOOK}), 201)


def hook_state(api) -> dict:
    """What make_hook_world stored, read back through the API (in ORIGINAL's shape)."""
    def hooks(obj: dict) -> dict:
        keys = ("webhook_service", "webhook_events", "webhook_ref_filter", "webhook_extractors", "scm_update_on_push")
        got = {k: obj[k] for k in keys if k in obj}
        if "webhook_credential" in obj:
            cred = expect(api.get(f"/api/v2/credentials/{obj['webhook_credential']}/"), 200)
            got["webhook_credential"] = cred["name"]
        return got
    ctype = only(api, "/api/v2/credential_types/", name="HookType")
    jt = only(api, "/api/v2/job_templates/", name="hookjt")
    wf = only(api, "/api/v2/workflow_job_templates/", name="hookwf")
    [node] = expect(api.get(f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/"), 200)["results"]
    return {
        "credential_type": {"inputs": ctype["inputs"], "injectors": ctype["injectors"]},
        "job_template": {**hooks(jt), "extra_vars": yaml.safe_load(jt["extra_vars"]),
                         "survey": expect(api.get(jt["url"] + "survey_spec/"), 200)},
        "workflow": {**hooks(wf), "extra_vars": yaml.safe_load(wf["extra_vars"]), "node": node["extra_data"]},
        "project": hooks(only(api, "/api/v2/projects/", name="hgit")),
    }


def test_export_round_trips_webhooks_and_jinja(controller, repo, tmp_path_factory, tmp_path):
    """Webhook settings (never the key) are exported, and Jinja in injectors, extra vars, node
    extra data and survey defaults reaches the configure playbook's modules unrendered: the
    re-import changes nothing, and a fresh controller stores the same (read back via the API)."""
    with controller.client() as api:
        make_hook_world(api, controller, repo)
        assert hook_state(api) == ORIGINAL
        assets = export(controller, tmp_path / "export", organizations=["Hook"])
        [ctype] = [t for t in assets["controller_credential_types"] if t["name"] == "HookType"]
        assert ctype["injectors"]["env"] == {"HOOK_PW": "{% raw %}{{ password }}{% endraw %}"}
        [jt] = assets["controller_job_templates"]
        assert {k: jt[k] for k in JT_HOOK} == JT_HOOK and jt["webhook_credential"] == "hook token"
        [git] = [p for p in assets["controller_projects"] if p["name"] == "hgit"]
        assert {k: git[k] for k in PROJECT_HOOK} == PROJECT_HOOK
        assert "webhook_key" not in str(assets)
        again = configure(controller, assets, tmp_path / "reimport")
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr
        assert hook_state(api) == ORIGINAL

    fresh = start_controller(tmp_path_factory, env=LOCAL_SCM)
    try:
        folder = fresh.data_dir / "projects" / "hook"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hello.yml").write_text(HELLO)
        # secrets are never exported: whoever imports supplies them
        creds = [dict(c, inputs={"token": "t0k"}) if c["name"] == "hook token" else c
                 for c in assets["controller_credentials"]]
        imported = configure(fresh, {**assets, "controller_credentials": creds}, tmp_path / "import")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        with fresh.client() as api:
            assert hook_state(api) == ORIGINAL
        assert export(fresh, tmp_path / "export2", organizations=["Hook"]) == assets
    finally:
        fresh.stop()

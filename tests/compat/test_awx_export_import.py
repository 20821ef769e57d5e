"""``awx export`` on one controller, ``awx import`` into a fresh one: the configuration comes
back (organizations, users, teams and their roles, credentials with their secrets emptied as
AWX exports them, a manual project, an inventory with hosts and groups, a job template with
its survey, credential, label, notification and schedule, a workflow with its nodes), and a
second import changes nothing.  The awx.awx ``export`` and ``import`` modules do the same
round trip through ``ansible-playbook`` (they run awxkit, so the play runs them with the
Python of the clients' virtual environment)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import start_controller
from tests.support.api import expect, only, wait_for

from .awx_collection import collection_env, describe, run_ansible
from .clients import CLIENTS_VENV, AwxCli, client_env, ensure_awx_cli, unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]

PLAYBOOK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n"
SURVEY = {"name": "Survey", "description": "asks", "spec": [
    {"question_name": "Where", "variable": "where", "type": "multiplechoice", "choices": ["eu", "us"],
     "default": "eu", "required": True},
    {"question_name": "Secret", "variable": "token", "type": "password", "default": "", "required": False}]}


def _post(api, url: str, body: dict) -> dict:
    return expect(api.post(url, json=body), 201)


# awxkit waits for the first update of every project it creates (up to 5 minutes, for a manual
# project too, which never has one): the projects here are git ones over a local repository
LOCAL_SCM = {"TURRET_ALLOW_LOCAL_SCM_URLS": "true"}

CONTROLLER_ENV = LOCAL_SCM   # this module's live controller (tests/conftest.py) allows local git URLs


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    live = start_controller(tmp_path_factory, env=LOCAL_SCM)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> str:
    """A local git repository holding site.yml; its file:// URL."""
    path = tmp_path_factory.mktemp("repo")
    (path / "site.yml").write_text(PLAYBOOK)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "site.yml"], ["commit", "-q", "-m", "site"]):
        subprocess.run([*git, *args], cwd=path, check=True, capture_output=True)
    return path.as_uri()


def seed(controller, api, tag: str, repo: str) -> None:
    """Objects of every kind ``awx export`` walks, named after ``tag``."""
    org = _post(api, "/api/v2/organizations/", {"name": f"{tag} Org", "description": "exported"})
    user = _post(api, "/api/v2/users/", {"username": f"{tag}-user", "password": "pw-12345", "first_name": "Ex",
                                         "email": "ex@example.com"})
    team = _post(api, "/api/v2/teams/", {"name": f"{tag} Team", "organization": org["id"]})
    expect(api.post(f"/api/v2/users/{user['id']}/roles/", json={"id": team["summary_fields"]["object_roles"]
                                                                  ["member_role"]["id"]}), 204)
    machine = only(api, "/api/v2/credential_types/", namespace="ssh")
    cred = _post(api, "/api/v2/credentials/", {"name": f"{tag} Machine", "organization": org["id"],
                                               "credential_type": machine["id"],
                                               "inputs": {"username": "deploy", "password": "s3cret"}})
    notify = _post(api, "/api/v2/notification_templates/", {
        "name": f"{tag} Hook", "organization": org["id"], "notification_type": "webhook",
        "notification_configuration": {"url": "http://127.0.0.1:9/hook", "http_method": "POST", "headers": {},
                                       "username": "", "password": "", "disable_ssl_verification": False}})
    project = _post(api, "/api/v2/projects/", {"name": f"{tag} Project", "organization": org["id"],
                                               "scm_type": "git", "scm_url": repo})
    wait_for(api, f"/api/v2/projects/{project['id']}/", lambda p: p["status"] == "successful", timeout=120,
             what="the project's first update")
    inv = _post(api, "/api/v2/inventories/", {"name": f"{tag} Inv", "organization": org["id"],
                                              "variables": json.dumps({"tier": "web"})})
    host = _post(api, "/api/v2/hosts/", {"name": f"{tag.lower()}-h1", "inventory": inv["id"],
                                         "variables": json.dumps({"ansible_connection": "local"})})
    group = _post(api, "/api/v2/groups/", {"name": f"{tag.lower()}_g1", "inventory": inv["id"]})
    expect(api.post(f"/api/v2/groups/{group['id']}/hosts/", json={"id": host["id"]}), 204)
    jt = _post(api, "/api/v2/job_templates/", {"name": f"{tag} JT", "project": project["id"],
                                               "inventory": inv["id"], "playbook": "site.yml",
                                               "extra_vars": json.dumps({"color": "blue"}), "forks": 3})
    expect(api.post(f"/api/v2/job_templates/{jt['id']}/credentials/", json={"id": cred["id"]}), 204)
    expect(api.post(f"/api/v2/job_templates/{jt['id']}/survey_spec/", json=SURVEY), 200)
    expect(api.patch(f"/api/v2/job_templates/{jt['id']}/", json={"survey_enabled": True}), 200)
    expect(api.post(f"/api/v2/job_templates/{jt['id']}/labels/", json={"name": f"{tag}-label",
                                                                      "organization": org["id"]}), 201)
    expect(api.post(f"/api/v2/job_templates/{jt['id']}/notification_templates_success/",
                    json={"id": notify["id"]}), 204)
    expect(api.post(f"/api/v2/users/{user['id']}/roles/", json={"id": jt["summary_fields"]["object_roles"]
                                                                  ["execute_role"]["id"]}), 204)
    _post(api, f"/api/v2/job_templates/{jt['id']}/schedules/", {
        "name": f"{tag} Nightly", "rrule": "DTSTART;TZID=UTC:20300101T020000 RRULE:FREQ=DAILY;INTERVAL=1"})
    wf = _post(api, "/api/v2/workflow_job_templates/", {"name": f"{tag} WF", "organization": org["id"]})
    first = _post(api, f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                  {"unified_job_template": jt["id"], "identifier": "first"})
    second = _post(api, f"/api/v2/workflow_job_templates/{wf['id']}/workflow_nodes/",
                   {"unified_job_template": jt["id"], "identifier": "second"})
    expect(api.post(f"/api/v2/workflow_job_template_nodes/{first['id']}/success_nodes/",
                    json={"id": second["id"]}), 204)


def _rows(api, url: str, **params) -> list[dict]:
    return expect(api.get(url, params={"page_size": 200, **params}), 200)["results"]


def snapshot(api, tag: str) -> dict:
    """What must survive the round trip, by natural keys (ids differ between controllers)."""
    org = only(api, "/api/v2/organizations/", name=f"{tag} Org")
    user = only(api, "/api/v2/users/", username=f"{tag}-user")
    team = only(api, "/api/v2/teams/", name=f"{tag} Team")
    cred = only(api, "/api/v2/credentials/", name=f"{tag} Machine")
    inv = only(api, "/api/v2/inventories/", name=f"{tag} Inv")
    jt = only(api, "/api/v2/job_templates/", name=f"{tag} JT")
    wf = only(api, "/api/v2/workflow_job_templates/", name=f"{tag} WF")
    nodes = {n["identifier"]: n for n in _rows(api, "/api/v2/workflow_job_template_nodes/",
                                               workflow_job_template=wf["id"])}
    by_id = {n["id"]: k for k, n in nodes.items()}
    schedules = _rows(api, f"/api/v2/job_templates/{jt['id']}/schedules/")
    user_roles = sorted((r["summary_fields"].get("resource_name"), r["name"])
                        for r in _rows(api, f"/api/v2/users/{user['id']}/roles/"))
    return {
        "org": (org["description"],),
        "user": (user["first_name"], user["email"]),
        "user_roles": user_roles,
        "team": (team["summary_fields"]["organization"]["name"],),
        "cred": (cred["summary_fields"]["credential_type"]["name"], cred["summary_fields"]["organization"]["name"],
                 cred["inputs"].get("username")),
        "project": tuple(only(api, "/api/v2/projects/", name=f"{tag} Project")[k] for k in ("scm_type", "scm_url")),
        "inventory": (json.loads(inv["variables"] or "{}"),),
        "hosts": sorted((h["name"], json.dumps(json.loads(h["variables"] or "{}")))
                        for h in _rows(api, f"/api/v2/inventories/{inv['id']}/hosts/")),
        "groups": sorted((g["name"], tuple(sorted(h["name"] for h in _rows(api, f"/api/v2/groups/{g['id']}/hosts/"))))
                         for g in _rows(api, f"/api/v2/inventories/{inv['id']}/groups/")),
        "jt": (jt["playbook"], jt["forks"], json.loads(jt["extra_vars"]), jt["survey_enabled"],
               jt["summary_fields"]["project"]["name"], jt["summary_fields"]["inventory"]["name"]),
        "jt_credentials": sorted(c["name"] for c in jt["summary_fields"]["credentials"]),
        "jt_labels": sorted(x["name"] for x in _rows(api, f"/api/v2/job_templates/{jt['id']}/labels/")),
        "jt_notify": sorted(n["name"] for n in
                            _rows(api, f"/api/v2/job_templates/{jt['id']}/notification_templates_success/")),
        "survey": [(q["variable"], q["type"], q.get("choices"), q.get("default"))
                   for q in expect(api.get(f"/api/v2/job_templates/{jt['id']}/survey_spec/"), 200)["spec"]],
        "schedules": sorted((s["name"], s["rrule"]) for s in schedules),
        "nodes": {k: (n["summary_fields"]["unified_job_template"]["name"], sorted(by_id[i] for i in n["success_nodes"]))
                  for k, n in nodes.items()},
    }


def _import(controller, data: Path) -> subprocess.CompletedProcess:
    with open(data) as stdin:      # the CLI reads what it imports from stdin
        return subprocess.run([str(ensure_awx_cli()), "--conf.host", controller.url,
                               "--conf.username", controller.admin_username,
                               "--conf.password", controller.admin_password, "import"],
                              stdin=stdin, capture_output=True, text=True, timeout=300, env=client_env())


def test_awx_export_then_import_into_a_fresh_controller(controller, api, fresh, repo, tmp_path):
    tag = unique("Exp")
    seed(controller, api, tag, repo)
    before = snapshot(api, tag)
    exported = AwxCli(controller).json("export")
    assert {"organizations", "users", "teams", "credentials", "projects", "inventory", "job_templates",
            "workflow_job_templates", "notification_templates", "credential_types"} <= set(exported)
    [cred] = [c for c in exported["credentials"] if c["name"] == f"{tag} Machine"]
    assert cred["inputs"].get("password", "") in ("", "$encrypted$") and cred["inputs"]["username"] == "deploy"
    data = tmp_path / "export.json"
    data.write_text(json.dumps(exported))

    with fresh.client() as target:
        # passwords never travel: awxkit posts a new user with the exported (emptied) password,
        # which AWX refuses ("Password required for new User.") as Turret does; so the user is
        # made first, and the import fills in the rest (names, email, roles)
        refused = _import(fresh, data)
        assert refused.returncode != 0 and "Password required for new User." in refused.stderr, describe(refused)
        _post(target, "/api/v2/users/", {"username": f"{tag}-user", "password": "other-pw-1"})
        proc = _import(fresh, data)
        assert proc.returncode == 0, describe(proc)
        assert snapshot(target, tag) == before
        stored = only(target, "/api/v2/credentials/", name=f"{tag} Machine")
        assert stored["inputs"].get("password", "") == ""      # secrets do not travel
        counts = {url: expect(target.get(url), 200)["count"] for url in
                  ("/api/v2/organizations/", "/api/v2/job_templates/", "/api/v2/schedules/", "/api/v2/hosts/")}
        # importing again finds every object by its natural key: nothing is duplicated
        again = _import(fresh, data)
        assert again.returncode == 0, describe(again)
        assert {url: expect(target.get(url), 200)["count"] for url in counts} == counts
        assert snapshot(target, tag) == before


def _play(work: Path, tasks: list[dict], name: str) -> Path:
    path = work / f"{name}.yml"
    path.write_text(yaml.safe_dump([{"name": name, "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return path


def test_awx_collection_export_and_import_modules(controller, api, fresh, repo, tmp_path):
    """awx.awx.export reads named objects of one controller, awx.awx.import puts them into the
    fresh one (the modules need awxkit: the clients' Python runs them)."""
    tag = unique("Mod")
    seed(controller, api, tag, repo)
    before = snapshot(api, tag)
    assets = tmp_path / "assets.json"
    python = str(CLIENTS_VENV / "bin" / "python")
    wanted = {"organizations": [f"{tag} Org"], "credentials": [f"{tag} Machine"], "projects": [f"{tag} Project"],
              "notification_templates": [f"{tag} Hook"], "inventory": [f"{tag} Inv"],
              "job_templates": [f"{tag} JT"], "workflow_job_templates": [f"{tag} WF"]}
    export = _play(tmp_path, [
        {"awx.awx.export": wanted, "register": "out"},
        {"ansible.builtin.copy": {"dest": str(assets), "content": "{{ out.assets | to_json }}"}}], "export")
    proc = run_ansible("playbook", "-i", "localhost,", "-e", f"ansible_python_interpreter={python}", str(export),
                       env=collection_env(controller, tmp_path / "home"), cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    exported = json.loads(assets.read_text())
    assert {k: sorted(x["name"] for x in exported[k]) for k in wanted} == wanted
    imported = _play(tmp_path, [{"awx.awx.import": {"assets": "{{ lookup('file', '%s') | from_json }}" % assets}}],
                     "import")
    proc = run_ansible("playbook", "-i", "localhost,", "-e", f"ansible_python_interpreter={python}", str(imported),
                       env=collection_env(fresh, tmp_path / "home"), cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert "changed=1" in proc.stdout, describe(proc)
    with fresh.client() as target:
        after = snapshot_of_config(target, tag)
    assert after == {k: v for k, v in before.items() if k in after}


def snapshot_of_config(api, tag: str) -> dict:
    """:func:`snapshot` without the user, team and their roles (not exported by the module run)."""
    user = api.get("/api/v2/users/", params={"username": f"{tag}-user"}).json()
    assert user["count"] == 0
    _post(api, "/api/v2/users/", {"username": f"{tag}-user", "password": "pw-12345", "first_name": "Ex",
                                  "email": "ex@example.com"})
    org = only(api, "/api/v2/organizations/", name=f"{tag} Org")
    _post(api, "/api/v2/teams/", {"name": f"{tag} Team", "organization": org["id"]})
    shot = snapshot(api, tag)
    return {k: v for k, v in shot.items() if k not in ("user", "user_roles", "team")}

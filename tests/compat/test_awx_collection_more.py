"""awx.awx 24.6.1 modules Turret serves that the main playbook does not run: credential_type,
label, token, inventory_source, inventory_source_update, project_update, job_list, job_cancel
and ad_hoc_command_cancel, against a live controller running real jobs and syncing a local git
repository.  Each declarative module is run to create, again (``changed: false``), to update
and, where it has ``state: absent``, to delete (and again); every effect is read back through
the HTTP API.

awx.awx 24.6.1 facts these tests rely on (plugins/modules/*.py):
  * job_cancel and ad_hoc_command_cancel read ``related.cancel`` (``can_cancel``), POST it
    (202 expected) and report no change for a finished job; ad_hoc_command_cancel then polls
    ``can_cancel`` until it turns false.
  * token always reports a change on create and returns the token under
    ``ansible_facts.controller_token``; ``state: absent`` takes that dict as ``existing_token``.
  * inventory_source_update and project_update look the template up by name (inventory
    sources by name and inventory) and POST ``related.update``; with ``wait`` they poll the
    update's URL until it has finished.  project_update then reports ``changed`` only when
    ``scm_revision`` differs from the one before the update.
  * label has no ``absent`` state (AWX deletes unused labels itself).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import expect, only, wait_for

from .awx_collection import describe, ensure_awx_collection, run_recorded
from .clients import unique

pytestmark = pytest.mark.compat

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
PLAYBOOKS = {
    "hello.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n",
    "sleep.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: sleep 60\n",
    "hosts.yml": "all:\n  hosts:\n    synced1: {ansible_connection: local}\n    synced2: {}\n",
}

CONTROLLER_ENV = {"TURRET_ALLOW_LOCAL_SCM_URLS": "true"}   # this module's live controller (tests/conftest.py) allows local git URLs


@pytest.fixture(scope="module")
def names(controller, tmp_path_factory) -> dict:
    """A local git repository behind an SCM project, a local inventory, a machine credential and
    two job templates (one that sleeps), made through the API."""
    repo = tmp_path_factory.mktemp("repo")
    for name, text in PLAYBOOKS.items():
        (repo / name).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(git + args, cwd=repo, check=True)
    s = unique("more").split("-", 1)[1]
    with controller.client() as api:
        org = only(api, "/api/v2/organizations/", name="Default")
        inv = expect(api.post("/api/v2/inventories/", json={"name": f"more inv {s}", "organization": org["id"],
                                                            "variables": json.dumps(LOCAL)}), 201)
        expect(api.post("/api/v2/hosts/", json={"name": "more-host", "inventory": inv["id"]}), 201)
        synced = expect(api.post("/api/v2/inventories/", json={"name": f"synced inv {s}", "organization": org["id"]}),
                        201)
        proj = expect(api.post("/api/v2/projects/", json={"name": f"more proj {s}", "organization": org["id"],
                                                          "scm_type": "git", "scm_url": f"file://{repo}",
                                                          "scm_branch": "main"}), 201)
        machine = only(api, "/api/v2/credential_types/", namespace="ssh")
        cred = expect(api.post("/api/v2/credentials/", json={"name": f"more cred {s}", "organization": org["id"],
                                                             "credential_type": machine["id"], "inputs": {}}), 201)
    return {"org": "Default", "inv": inv["name"], "inv_id": inv["id"], "synced": synced["name"],
            "synced_id": synced["id"], "project": proj["name"], "project_id": proj["id"], "cred": cred["name"],
            "ctype": f"More type {s}", "label": f"more label {s}", "source": f"more source {s}",
            "hello_jt": f"more hello {s}", "sleep_jt": f"more sleep {s}"}


def playbook(n: dict) -> list[dict]:
    ctype = {"name": n["ctype"], "kind": "cloud", "description": "first",
             "inputs": {"fields": [{"id": "token", "type": "string", "label": "Token", "secret": True}],
                        "required": ["token"]},
             "injectors": {"env": {"MORE_TOKEN": "{% raw %}{{ token }}{% endraw %}"}}}
    source = {"name": n["source"], "inventory": n["synced"], "organization": n["org"], "source": "scm",
              "source_project": n["project"], "source_path": "hosts.yml", "overwrite": True}
    jt = {"project": n["project"], "inventory": n["inv"], "organization": n["org"]}
    steps = [
        ("ctype_create", "credential_type", ctype),
        ("ctype_again", "credential_type", ctype),
        ("ctype_update", "credential_type", {**ctype, "description": "second"}),
        ("label_create", "label", {"name": n["label"], "organization": n["org"]}),
        ("label_again", "label", {"name": n["label"], "organization": n["org"]}),
        ("label_update", "label", {"name": n["label"], "new_name": n["label"] + " renamed", "organization": n["org"]}),
        ("token_create", "token", {"description": "more token", "scope": "read"}),
        ("token_delete", "token", {"existing_token": "{{ r_token_create.ansible_facts.controller_token }}",
                                   "state": "absent"}),
        ("project_update", "project_update", {"name": n["project"], "organization": n["org"], "wait": True,
                                              "interval": 1, "timeout": 120}),
        ("source_create", "inventory_source", source),
        ("source_again", "inventory_source", source),
        ("source_update", "inventory_source", {**source, "description": "synced from git", "overwrite_vars": True}),
        ("source_sync", "inventory_source_update", {"name": n["source"], "inventory": n["synced"],
                                                    "organization": n["org"], "wait": True, "interval": 1,
                                                    "timeout": 120}),
        ("hello_jt", "job_template", {**jt, "name": n["hello_jt"], "playbook": "hello.yml"}),
        ("sleep_jt", "job_template", {**jt, "name": n["sleep_jt"], "playbook": "sleep.yml"}),
        ("hello_run", "job_launch", {"name": n["hello_jt"], "wait": True, "interval": 1, "timeout": 120}),
        ("sleep_run", "job_launch", {"name": n["sleep_jt"]}),
        ("job_cancel", "job_cancel", {"job_id": "{{ r_sleep_run.id }}"}),
        ("job_cancel_done", "job_cancel", {"job_id": "{{ r_hello_run.id }}"}),
        ("job_list", "job_list", {"status": "successful", "query": {"name": n["hello_jt"]}, "all_pages": True}),
        ("adhoc", "ad_hoc_command", {"inventory": n["inv"], "credential": n["cred"], "module_name": "command",
                                     "module_args": "sleep 60"}),
        ("adhoc_cancel", "ad_hoc_command_cancel", {"command_id": "{{ r_adhoc.id }}", "interval": 1,
                                                   "timeout": 60}),
        ("adhoc_cancel_done", "ad_hoc_command_cancel", {"command_id": "{{ r_adhoc.id }}"}),
        ("source_delete", "inventory_source", {**source, "state": "absent"}),
        ("source_delete_again", "inventory_source", {**source, "state": "absent"}),
        ("ctype_delete", "credential_type", {"name": n["ctype"], "state": "absent"}),
        ("ctype_delete_again", "credential_type", {"name": n["ctype"], "state": "absent"}),
    ]
    tasks = [{"name": name, f"awx.awx.{module}": args, "register": f"r_{name}"} for name, module, args in steps]
    return [{"name": "awx.awx more", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "ignore_errors": True, "tasks": tasks}]


DELETES = ("source_delete", "source_delete_again", "ctype_delete", "ctype_delete_again")


def _run(controller, work: Path, tag: str, tasks: list[dict]) -> dict:
    got, proc = run_recorded(controller, work, f"more-{tag}", tasks, timeout=900)
    failed = {k: v.get("msg") for k, v in got.items() if v.get("failed")}
    assert not failed, json.dumps(failed, indent=2) + "\n" + describe(proc)
    return got


@pytest.fixture(scope="module")
def results(controller, names, tmp_path_factory) -> dict:
    """Every task's result; the deletions run in a second playbook, after ``before_delete`` has
    read what they remove (an inventory source's updates go with it, as in AWX)."""
    ensure_awx_collection()
    work = tmp_path_factory.mktemp("awx-more")
    tasks = playbook(names)[0]["tasks"]
    got = _run(controller, work, "main", [t for t in tasks if t["name"] not in DELETES])
    with controller.client() as api:
        sync = got["source_sync"]
        got["before_delete"] = {
            "update": expect(api.get(f"/api/v2/inventory_updates/{sync['id']}/"), 200) if sync.get("id") else {},
            "source": only(api, "/api/v2/inventory_sources/", name=names["source"]),
            "hosts": expect(api.get(f"/api/v2/inventories/{names['synced_id']}/hosts/"), 200)["results"]}
    got.update(_run(controller, work, "deletes", [t for t in tasks if t["name"] in DELETES]))
    return got


def changes(results: dict, *tasks: str) -> list[bool]:
    return [bool(results[t]["changed"]) for t in tasks]


def test_credential_type(results, api, names):
    assert changes(results, "ctype_create", "ctype_again", "ctype_update", "ctype_delete", "ctype_delete_again") == \
        [True, False, True, True, False]
    assert expect(api.get("/api/v2/credential_types/", params={"name": names["ctype"]}), 200)["count"] == 0
    entries = expect(api.get("/api/v2/activity_stream/", params={"object1": "credential_type",
                                                                  "order_by": "id"}), 200)["results"]
    mine = [e for e in entries if e["summary_fields"].get("credential_type", [{}])[0].get("name") == names["ctype"]
            or names["ctype"] in json.dumps(e["changes"])]
    assert [e["operation"] for e in mine] == ["create", "update", "delete"]
    injectors = mine[0]["changes"]["injectors"]
    injectors = json.loads(injectors) if isinstance(injectors, str) else injectors
    assert injectors == {"env": {"MORE_TOKEN": "{{ token }}"}}
    assert mine[1]["changes"]["description"] == ["first", "second"]


def test_label(results, api, names):
    assert changes(results, "label_create", "label_again", "label_update") == [True, False, True]
    renamed = only(api, "/api/v2/labels/", name=names["label"] + " renamed")
    assert renamed["summary_fields"]["organization"]["name"] == "Default"
    assert expect(api.get("/api/v2/labels/", params={"name": names["label"]}), 200)["count"] == 0


def test_token(results, api):
    created = results["token_create"]
    token = created["ansible_facts"]["controller_token"]
    assert created["changed"] and token["scope"] == "read" and token["token"]
    assert results["token_delete"]["changed"]
    assert api.get(f"/api/v2/tokens/{token['id']}/").status_code == 404


def test_project_update_and_inventory_source(results, api, names):
    update = results["project_update"]
    # awx.awx reports a change only when the revision moved: the creation's update already synced it
    assert update["changed"] is False and update["status"] == "successful", update
    project = expect(api.get(f"/api/v2/projects/{names['project_id']}/"), 200)
    assert project["scm_revision"] and project["status"] == "successful"
    assert expect(api.get(f"/api/v2/project_updates/{update['id']}/"), 200)["status"] == "successful"
    assert changes(results, "source_create", "source_again", "source_update") == [True, False, True]
    sync = results["source_sync"]
    assert sync["changed"] and sync["status"] == "successful", sync
    before = results["before_delete"]
    synced = before["update"]
    assert synced["status"] == "successful" and synced["source"] == "scm"
    assert sorted(h["name"] for h in before["hosts"]) == ["synced1", "synced2"]
    # the update ran with the updated fields
    assert synced["source_path"] == "hosts.yml" and synced["overwrite_vars"] is True
    assert before["source"]["description"] == "synced from git" and before["source"]["overwrite"] is True
    assert changes(results, "source_delete", "source_delete_again") == [True, False]
    assert expect(api.get("/api/v2/inventory_sources/", params={"name": names["source"]}), 200)["count"] == 0


def test_job_list_and_job_cancel(results, api, names):
    hello = results["hello_run"]
    assert hello["status"] == "successful"
    listed = results["job_list"]
    assert [j["id"] for j in listed["results"]] == [hello["id"]] and listed["count"] == 1
    assert changes(results, "job_cancel", "job_cancel_done") == [True, False]
    canceled = wait_for(api, f"/api/v2/jobs/{results['sleep_run']['id']}/",
                        lambda j: j["status"] not in ("pending", "waiting", "running"), timeout=60)
    assert canceled["status"] == "canceled"


def test_ad_hoc_command_cancel(results, api):
    assert changes(results, "adhoc_cancel", "adhoc_cancel_done") == [True, False]
    command = expect(api.get(f"/api/v2/ad_hoc_commands/{results['adhoc']['id']}/"), 200)
    assert command["status"] == "canceled"    # the module waits until can_cancel turns false

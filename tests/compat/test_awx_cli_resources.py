"""The real ``awx`` CLI (awxkit 24.6.1) against a live controller: the "automation
resources" acceptance — credentials, inventories, hosts, groups, manual and git projects
and job templates, with list filters, ``--all`` pagination and the json/yaml/human
output formats.

Every CLI action is checked by reading the state back through the HTTP API (admin Basic
auth), not only by the CLI's exit code.  Set-up that the CLI is not under test for
(30 hosts for pagination, a host-to-group association the CLI cannot make) goes through
the API.

awxkit 24.6.1 quirks these tests rely on (found with ``--help`` and in its source):
  * ``extra_vars`` (job templates) and ``variables`` (inventory/hosts/groups) are sent as
    JSON *strings*; YAML input is accepted and re-encoded as JSON.
  * There is no ``associate`` action for groups or hosts: the CLI cannot put a host in a
    group (``awx groups associate`` is an argparse error).
  * ``projects create --wait`` prints the POST response (status ``pending``) after it has
    polled the update to the end, and it has no ``--interval`` (it sleeps 5 s per poll).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.support.api import expect, only
from tests.support.gitserver import GitServer

from .clients import describe, unique

pytestmark = pytest.mark.compat

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STREAM_START = "------Starting Standard Out Stream------"
STREAM_END = "------End of Standard Out Stream--------"

HELLO_PLAYBOOK = """\
- name: Hello from a project
  hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello from {{ inventory_hostname }}"
"""


# --- helpers ---------------------------------------------------------------------------------


def names(listing: dict, key: str = "name") -> list:
    assert isinstance(listing, dict) and "results" in listing, listing
    return [item[key] for item in listing["results"]]


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, describe(proc)
    return _ANSI.sub("", proc.stdout)


def load_vars(text) -> dict:
    """``variables``/``extra_vars`` as stored: a JSON or YAML string (AWX returns a string)."""
    if isinstance(text, dict):
        return text
    return yaml.safe_load(text or "") or {}


def split_monitor(proc: subprocess.CompletedProcess) -> tuple[str, dict | None]:
    """(the streamed output between the monitor's markers, the JSON object printed after)."""
    out = _ANSI.sub("", proc.stdout)
    assert STREAM_START in out and STREAM_END in out, describe(proc)
    stream = out.split(STREAM_START, 1)[1].split(STREAM_END, 1)[0]
    tail = out.split(STREAM_END, 1)[1].strip()
    return stream, (json.loads(tail) if tail else None)


def human_rows(text: str) -> list[list[str]]:
    """The rows of ``-f human`` output (header and ``==`` rule dropped)."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    assert len(lines) >= 2 and set("".join(lines[1])) == {"="}, text
    return lines[2:]


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def machine_type_id(controller) -> int:
    with controller.client() as api:
        return only(api, "/api/v2/credential_types/", name="Machine", kind="ssh")["id"]


@pytest.fixture(scope="module")
def demo_inventory(controller) -> dict:
    with controller.client() as api:
        return only(api, "/api/v2/inventories/", name="Demo Inventory")


@pytest.fixture(scope="module")
def manual_project(awx, controller) -> dict:
    """A manual project made by the CLI from a folder in ``<data_dir>/projects``."""
    folder = unique("manual")
    path = controller.data_dir / "projects" / folder
    path.mkdir(parents=True)
    (path / "hello.yml").write_text(HELLO_PLAYBOOK)
    name = unique("manual-project")
    created = awx.json("projects", "create", "--name", name, "--organization", "Default",
                       "--scm_type", "", "--local_path", folder)
    assert created["name"] == name and created["local_path"] == folder, created
    return {"id": created["id"], "name": name, "folder": folder, "created": created}


@pytest.fixture(scope="module")
def git_server(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    try:
        yield server
    finally:
        server.stop()


# --- credentials -----------------------------------------------------------------------------

def test_credential_create_hides_secret_inputs(awx, api, machine_type_id):
    name = unique("c")
    secret = unique("s3cret")
    created = awx.json("credentials", "create", "--credential_type", "Machine", "--organization", "Default",
                       "--name", name, "--inputs", json.dumps({"username": "u", "password": secret}))
    assert created["name"] == name and created["credential_type"] == machine_type_id, created
    assert created["inputs"] == {"username": "u", "password": "$encrypted$"}, created

    stored = expect(api.get(f"/api/v2/credentials/{created['id']}/"), 200)
    assert stored["inputs"] == {"username": "u", "password": "$encrypted$"}
    assert stored["organization"] == only(api, "/api/v2/organizations/", name="Default")["id"]
    assert secret not in json.dumps(stored)

    listing = awx.json("credentials", "list", "--name", name)
    assert listing["count"] == 1 and names(listing) == [name], listing
    assert listing["results"][0]["inputs"]["password"] == "$encrypted$"
    assert listing["results"][0]["inputs"]["username"] == "u"
    assert secret not in json.dumps(listing)


def test_credentials_list_filters_by_credential_type(awx, api, machine_type_id):
    machine = awx.json("credentials", "create", "--credential_type", str(machine_type_id),
                       "--organization", "Default", "--name", unique("ssh"), "--inputs", '{"username": "x"}')
    scm_type_id = only(api, "/api/v2/credential_types/", name="Source Control")["id"]
    scm = awx.json("credentials", "create", "--credential_type", "Source Control",
                   "--organization", "Default", "--name", unique("scm"), "--inputs", '{"username": "git"}')
    assert scm["credential_type"] == scm_type_id, scm

    # --credential_type by id (the field is an "id" filter: ?credential_type=1) ...
    by_id = awx.json("credentials", "list", "--credential_type", str(machine_type_id), "--all")
    assert machine["name"] in names(by_id) and scm["name"] not in names(by_id)
    assert {c["credential_type"] for c in by_id["results"]} == {machine_type_id}
    expected = expect(api.get("/api/v2/credentials/", params={"credential_type": machine_type_id}), 200)
    assert by_id["count"] == expected["count"]

    # ... and by name, which the CLI resolves with GET /api/v2/credential_types/?name=...
    by_name = awx.json("credentials", "list", "--credential_type", "Source Control")
    assert scm["name"] in names(by_name) and machine["name"] not in names(by_name)
    assert {c["credential_type"] for c in by_name["results"]} == {scm_type_id}


# --- inventories, hosts, groups ------------------------------------------------------------

def test_inventory_host_and_group_create_with_variables(awx, api):
    inv_name = unique("inv")
    inv = awx.json("inventory", "create", "--name", inv_name, "--organization", "Default",
                   "--variables", '{"env": "test"}')
    stored_inv = expect(api.get(f"/api/v2/inventories/{inv['id']}/"), 200)
    assert stored_inv["name"] == inv_name
    assert load_vars(stored_inv["variables"]) == {"env": "test"}

    host_name = unique("h")
    # The CLI sends variables as a JSON string: {"variables": "{\"ansible_connection\": \"local\"}"}
    host = awx.json("hosts", "create", "--name", host_name, "--inventory", inv_name,
                    "--variables", '{"ansible_connection": "local"}')
    stored_host = expect(api.get(f"/api/v2/hosts/{host['id']}/"), 200)
    assert (stored_host["name"], stored_host["inventory"]) == (host_name, inv["id"])
    assert load_vars(stored_host["variables"]) == {"ansible_connection": "local"}

    group_name = unique("web")
    # YAML input: the CLI parses it and re-encodes it as a JSON string.
    group = awx.json("groups", "create", "--name", group_name, "--inventory", str(inv["id"]),
                     "--variables", "http_port: 8080")
    stored_group = expect(api.get(f"/api/v2/groups/{group['id']}/"), 200)
    assert (stored_group["name"], stored_group["inventory"]) == (group_name, inv["id"])
    assert load_vars(stored_group["variables"]) == {"http_port": 8080}

    # Filtered lists, by id and by name.
    elsewhere = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": 1}), 201)
    other = expect(api.post("/api/v2/hosts/", json={"name": unique("other"), "inventory": elsewhere["id"]}), 201)
    hosts = awx.json("hosts", "list", "--inventory", str(inv["id"]))
    assert names(hosts) == [host_name] and hosts["count"] == 1, hosts
    assert names(awx.json("hosts", "list", "--inventory", inv_name)) == [host_name]
    assert other["name"] not in names(hosts)
    assert names(awx.json("groups", "list", "--inventory", inv_name)) == [group_name]
    assert names(awx.json("hosts", "list", "--name", host_name)) == [host_name]

    # modify sends PATCH with the variables as a JSON string again
    awx.json("hosts", "modify", host_name, "--variables", '{"ansible_connection": "local", "x": 2}')
    assert load_vars(expect(api.get(f"/api/v2/hosts/{host['id']}/"), 200)["variables"]) == {
        "ansible_connection": "local", "x": 2}

    # The inventory's counters follow.
    stored_inv = expect(api.get(f"/api/v2/inventories/{inv['id']}/"), 200)
    assert (stored_inv["total_hosts"], stored_inv["total_groups"]) == (1, 1)

    ok(awx.run("hosts", "delete", host_name))
    expect(api.get(f"/api/v2/hosts/{host['id']}/"), 404)
    assert awx.json("hosts", "list", "--inventory", inv_name)["count"] == 0


def test_host_group_membership_cannot_be_set_with_awxkit_but_is_shown(awx, api):
    """awxkit 24.6.1 has no ``associate`` action for groups or hosts (only notification/
    credential associations on templates/projects/organizations), so the association goes
    through the API; the CLI then shows it in the host's ``summary_fields.groups``."""
    inv = expect(api.post("/api/v2/inventories/", json={"name": unique("inv"), "organization": 1}), 201)
    host = awx.json("hosts", "create", "--name", unique("h"), "--inventory", str(inv["id"]))
    group = awx.json("groups", "create", "--name", unique("g"), "--inventory", str(inv["id"]))

    for resource, target in (("groups", "--host"), ("hosts", "--group")):
        proc = awx.run(resource, "associate", target, str(host["id"]), str(group["id"]))
        assert proc.returncode == 2, describe(proc)
        assert "invalid choice: 'associate'" in proc.stderr, describe(proc)

    expect(api.post(f"/api/v2/groups/{group['id']}/hosts/", json={"id": host["id"]}), 204)
    shown = awx.json("hosts", "get", host["name"])
    groups = shown["summary_fields"]["groups"]
    assert groups["count"] == 1 and [g["name"] for g in groups["results"]] == [group["name"]], shown
    members = expect(api.get(f"/api/v2/groups/{group['id']}/hosts/"), 200)
    assert [h["id"] for h in members["results"]] == [host["id"]]


def test_hosts_list_all_follows_next_and_keeps_the_filter(awx, api):
    inv = expect(api.post("/api/v2/inventories/", json={"name": unique("big"), "organization": 1}), 201)
    wanted = sorted(f"bulk-{i:02d}" for i in range(30))
    for name in wanted:
        expect(api.post("/api/v2/hosts/", json={"name": name, "inventory": inv["id"]}), 201)

    first = awx.json("hosts", "list", "--inventory", str(inv["id"]))
    assert first["count"] == 30 and len(first["results"]) == 25, {k: first[k] for k in ("count", "next")}
    assert first["next"] and first["next"].startswith("/api/v2/hosts/"), first["next"]

    everything = awx.json("hosts", "list", "--inventory", str(inv["id"]), "--all", "--order_by", "name")
    assert names(everything) == wanted
    assert everything["next"] is None

    # "--order_by=-name", not "--order_by -name": argparse would read "-name" as a flag
    reverse = awx.json("hosts", "list", "--inventory", str(inv["id"]), "--order_by=-name")
    assert names(reverse) == wanted[::-1][:25]


def test_job_templates_list_all_pages(awx, api, manual_project, demo_inventory):
    tag = unique("page")
    for i in range(27):
        expect(api.post("/api/v2/job_templates/", json={
            "name": f"{tag}-{i:02d}", "description": tag, "project": manual_project["id"],
            "inventory": demo_inventory["id"], "playbook": "hello.yml"}), 201)
    total = expect(api.get("/api/v2/job_templates/"), 200)["count"]
    assert total >= 27

    page = awx.json("job_templates", "list")
    assert page["count"] == total and len(page["results"]) == 25

    everything = awx.json("job_templates", "list", "--all")
    assert len(everything["results"]) == total
    assert len({jt["id"] for jt in everything["results"]}) == total
    assert {f"{tag}-{i:02d}" for i in range(27)} <= set(names(everything))

    described = awx.json("job_templates", "list", "--description", tag, "--all")
    assert sorted(names(described)) == [f"{tag}-{i:02d}" for i in range(27)]


# --- projects --------------------------------------------------------------------------------

def test_manual_project_from_a_local_folder(awx, api, controller, manual_project):
    stored = expect(api.get(f"/api/v2/projects/{manual_project['id']}/"), 200)
    assert (stored["scm_type"], stored["local_path"]) == ("", manual_project["folder"])
    assert stored["status"] == "ok", stored["status"]
    assert stored["organization"] == only(api, "/api/v2/organizations/", name="Default")["id"]
    assert expect(api.get(f"/api/v2/projects/{manual_project['id']}/playbooks/"), 200) == ["hello.yml"]

    shown = awx.json("projects", "get", manual_project["name"])
    assert (shown["id"], shown["local_path"]) == (manual_project["id"], manual_project["folder"])

    # A manual project cannot be updated: POST update/ answers 405 (as AWX), the CLI exits 1.
    proc = awx.fails("projects", "update", manual_project["name"])
    assert json.loads(proc.stdout) == {"detail": 'Method "POST" not allowed.'}, describe(proc)
    assert expect(api.get(f"/api/v2/projects/{manual_project['id']}/project_updates/"), 200)["count"] == 0

    # A folder that does not exist is refused with the field's error.
    missing = unique("missing")
    proc = awx.fails("projects", "create", "--name", unique("p"), "--scm_type", "", "--local_path", missing)
    assert "local_path" in proc.stdout + proc.stderr, describe(proc)
    assert expect(api.get("/api/v2/projects/", params={"local_path": missing}), 200)["count"] == 0


def test_git_project_create_wait_then_update_monitor(awx, api, git_server):
    repo = unique("repo")
    first_sha = git_server.create(repo, {"hello.yml": HELLO_PLAYBOOK})
    name = unique("git-project")

    proc = awx.run("-f", "json", "projects", "create", "--name", name, "--organization", "Default",
                   "--scm_type", "git", "--scm_url", git_server.url(repo), "--wait", timeout=90)
    created = json.loads(ok(proc))  # the POST response, printed after the update was waited for
    assert created["name"] == name and created["scm_type"] == "git", created
    project_id = created["id"]

    stored = expect(api.get(f"/api/v2/projects/{project_id}/"), 200)
    assert stored["status"] == "successful", stored
    assert stored["scm_revision"] == first_sha
    updates = expect(api.get(f"/api/v2/projects/{project_id}/project_updates/"), 200)
    assert updates["count"] == 1 and updates["results"][0]["status"] == "successful", updates
    assert expect(api.get(f"/api/v2/projects/{project_id}/playbooks/"), 200) == ["hello.yml"]

    second_sha = git_server.commit(repo, {"second.yml": HELLO_PLAYBOOK})
    proc = awx.run("-f", "json", "projects", "update", name, "--monitor", "--interval", "1", timeout=90)
    ok(proc)
    stream, update = split_monitor(proc)
    assert "PLAY [" in stream and "TASK [" in stream and "PLAY RECAP" in stream, stream
    assert update["type"] == "project_update" and update["status"] == "successful", update
    assert update["project"] == project_id

    stored = expect(api.get(f"/api/v2/projects/{project_id}/"), 200)
    assert stored["scm_revision"] == second_sha and stored["status"] == "successful", stored
    assert sorted(expect(api.get(f"/api/v2/projects/{project_id}/playbooks/"), 200)) == ["hello.yml", "second.yml"]
    done = expect(api.get(f"/api/v2/project_updates/{update['id']}/"), 200)
    assert (done["status"], done["scm_revision"]) == ("successful", second_sha)
    assert expect(api.get(f"/api/v2/projects/{project_id}/project_updates/"), 200)["count"] == 2

    # The update's output is also there for `project_updates stdout`.
    text = ok(awx.run("--conf.color", "f", "project_updates", "stdout", str(update["id"])))
    assert "PLAY RECAP" in text and "\x1b[" not in text


# --- job templates ---------------------------------------------------------------------------

def test_job_template_create_list_modify_delete(awx, api, manual_project, demo_inventory):
    name = unique("jt")
    created = awx.json("job_templates", "create", "--name", name, "--project", manual_project["name"],
                       "--inventory", "Demo Inventory", "--playbook", "hello.yml",
                       "--extra_vars", '{"a": 1}')
    jt_id = created["id"]
    stored = expect(api.get(f"/api/v2/job_templates/{jt_id}/"), 200)
    assert (stored["name"], stored["project"], stored["inventory"], stored["playbook"]) == (
        name, manual_project["id"], demo_inventory["id"], "hello.yml")
    assert load_vars(stored["extra_vars"]) == {"a": 1}
    assert stored["related"]["launch"] == f"/api/v2/job_templates/{jt_id}/launch/"

    # list: --name filters server-side; json, yaml and human formats
    listing = awx.json("job_templates", "list", "--name", name)
    assert listing["count"] == 1 and names(listing) == [name]
    yml = yaml.safe_load(ok(awx.run("-f", "yaml", "job_templates", "list", "--name", name)))
    assert yml["count"] == 1 and yml["results"][0]["id"] == jt_id and yml["results"][0]["name"] == name
    rows = human_rows(ok(awx.run("-f", "human", "--filter", "id,name,playbook",
                                 "job_templates", "list", "--name", name)))
    assert rows == [[str(jt_id), name, "hello.yml"]], rows

    # the filter also works on FK fields given by name
    by_project = awx.json("job_templates", "list", "--project", manual_project["name"], "--name", name)
    assert names(by_project) == [name]

    modified = awx.json("job_templates", "modify", name, "--limit", "web")
    assert modified["limit"] == "web"
    stored = expect(api.get(f"/api/v2/job_templates/{jt_id}/"), 200)
    assert stored["limit"] == "web" and load_vars(stored["extra_vars"]) == {"a": 1}

    awx.json("job_templates", "modify", str(jt_id), "-e", '{"b": 2}', "--ask_variables_on_launch", "true")
    stored = expect(api.get(f"/api/v2/job_templates/{jt_id}/"), 200)
    assert load_vars(stored["extra_vars"]) == {"b": 2} and stored["ask_variables_on_launch"] is True

    proc = awx.run("job_templates", "delete", name)
    assert ok(proc).strip() == "", describe(proc)  # 204: nothing printed
    expect(api.get(f"/api/v2/job_templates/{jt_id}/"), 404)
    assert awx.json("job_templates", "list", "--name", name)["count"] == 0


def test_job_template_create_requires_an_existing_project(awx, api):
    name = unique("jt-bad")
    proc = awx.fails("job_templates", "create", "--name", name, "--project", unique("no-such-project"),
                     "--inventory", "Demo Inventory", "--playbook", "hello.yml")
    assert "Could not find any project" in proc.stdout + proc.stderr, describe(proc)
    assert expect(api.get("/api/v2/job_templates/", params={"name": name}), 200)["count"] == 0


def test_job_template_create_with_a_missing_playbook_is_refused(awx, api, manual_project):
    name = unique("jt-noplay")
    proc = awx.fails("job_templates", "create", "--name", name, "--project", str(manual_project["id"]),
                     "--inventory", "Demo Inventory", "--playbook", "nope.yml")
    assert "playbook" in proc.stdout + proc.stderr, describe(proc)
    assert expect(api.get("/api/v2/job_templates/", params={"name": name}), 200)["count"] == 0

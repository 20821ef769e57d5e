"""The real ``awx.awx`` 24.6.1 collection against a live controller.

One playbook (``playbooks/awx_collection.yml``) runs through ``ansible-playbook`` with
CONTROLLER_HOST/USERNAME/PASSWORD in the environment and uses the organization, user,
team, role, credential, project (manual and git with ``wait``), inventory, host, group,
job_template (with a survey), job_launch + job_wait, ad_hoc_command +
ad_hoc_command_wait, schedule, export modules and the ``controller_api`` lookup.  The
``controller`` inventory plugin runs through ``ansible-inventory``.  The playbook runs
twice: the second run must report ``changed=0``.

Every module's result is written to a JSON file by the playbook itself (the play ignores
errors so one gap does not hide the rest), and every object is read back through the HTTP
API (admin Basic auth).

Skips, always with the reason: ``schedule`` when the server has no ``/api/v2/schedules/``;
``export`` when the awx CLI venv (awxkit, which the module imports) cannot be built.

``export`` needs awxkit in the module's Python: its task sets ``ansible_python_interpreter``
to the awx CLI venv's python (``.cache/clients-venv``, see clients.py).  AnsiballZ ships the
module_utils with the module, so that venv needs no ansible-core.

Client-side facts this relies on (not server behaviour):
  * ``user``/``credential`` use ``update_secrets: false``; with the default (true) both
    modules report ``changed`` on every run against real AWX too (a write-only password
    never compares equal).
  * On the second run the inventory module still PATCHes (it sends ``kind: null`` and the
    server answers ``""``, as AWX does) but reports ``changed=False``.
  * The inventory plugin puts ``inventory_id`` into the URL unquoted, and urllib refuses a
    space, so a ``name++org`` with spaces must be given percent-encoded.
  * ansible-core 2.19 prints plugin strings as ``{"__ansible_unsafe": ...}`` in
    ``ansible-inventory --list``; the test unwraps them.
  * Every module run forks a worker, starts a Python and mints/deletes a token: about 1 s
    per task on an idle box, 3-7 s under heavy load (the playbook has ~23 tasks).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.api import expect, only
from tests.support.gitserver import GitServer

from .awx_collection import collection_env, describe, ensure_awx_collection, run_ansible
from .clients import ensure_awx_cli, unique

pytestmark = pytest.mark.compat

PLAYBOOK = Path(__file__).parent / "playbooks" / "awx_collection.yml"

GREET_PLAYBOOK = """\
- name: Greet from the collection test
  hosts: all
  gather_facts: false
  tasks:
    - name: Say it
      ansible.builtin.debug:
        msg: "collection says {{ greeting }} to {{ inventory_hostname }} ({{ jt_var }}, {{ host_var }}, {{ group_var }})"
"""

GIT_PLAYBOOK = """\
- name: From git
  hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: from git
"""

RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)


# --- helpers ---------------------------------------------------------------------------------


def recap(proc: subprocess.CompletedProcess) -> dict[str, int]:
    m = RECAP.search(proc.stdout)
    assert m, "no PLAY RECAP line for localhost\n" + describe(proc)
    return {k: int(v) for k, v in m.groupdict().items()}


def changed_tasks(stdout: str) -> list[str]:
    """Names of the tasks whose host line says ``changed``."""
    out, task = [], None
    for line in stdout.splitlines():
        m = re.match(r"^TASK \[(.*)\]", line)
        if m:
            task = m.group(1)
        elif line.startswith("changed: [") and task:
            out.append(task)
    return out


def module_ok(run: dict, key: str) -> dict:
    """The registered result of one playbook task, which must have succeeded."""
    res = run["results"][key]
    assert not res.get("failed"), f"awx.awx task {key!r} failed:\n{json.dumps(res, indent=2)[:6000]}"
    assert not res.get("skipped"), f"awx.awx task {key!r} was skipped: {res}"
    return res


def run_playbook(controller, names: dict, work: Path, tag: str) -> dict:
    results_file = work / f"results-{tag}.json"
    results_file.unlink(missing_ok=True)
    vars_file = work / f"vars-{tag}.json"
    vars_file.write_text(json.dumps({**names, "results_file": str(results_file)}))
    env = collection_env(controller, work / "home")
    started = time.monotonic()
    proc = run_ansible("playbook", "-i", "localhost,", "-e", f"@{vars_file}", str(PLAYBOOK),
                       env=env, cwd=work, timeout=300)
    elapsed = time.monotonic() - started
    try:
        results = json.loads(results_file.read_text())
    except (OSError, ValueError):
        raise AssertionError("the playbook wrote no results file\n" + describe(proc)) from None
    return {"proc": proc, "results": results, "elapsed": elapsed}


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def collection_path() -> Path:
    started = time.monotonic()
    path = ensure_awx_collection()
    print(f"awx.awx collection ready at {path} in {time.monotonic() - started:.1f}s")
    return path


@pytest.fixture(scope="module")
def gitserver(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("awx-collection")


@pytest.fixture(scope="module")
def schedules_available(controller) -> bool:
    with controller.client() as api:
        root = expect(api.get("/api/v2/"), 200)
        return "schedules" in root and api.get("/api/v2/schedules/").status_code == 200


@pytest.fixture(scope="module")
def export_python() -> tuple[str, str]:
    """(python with awxkit for the export module, or '', skip reason)."""
    try:
        awx = ensure_awx_cli()
    except Exception as e:  # noqa: BLE001 - any build failure means "skip export"
        return "", f"the awx CLI venv (awxkit for awx.awx.export) could not be built: {e}"[:500]
    return str(awx.parent / "python"), ""


@pytest.fixture(scope="module")
def names(controller, gitserver, schedules_available, export_python) -> dict:
    suffix = unique("coll").split("-", 1)[1]
    manual_dir = f"coll-manual-{suffix}"
    folder = controller.data_dir / "projects" / manual_dir
    folder.mkdir(parents=True)
    (folder / "greet.yml").write_text(GREET_PLAYBOOK)
    repo = f"coll-{suffix}.git"
    sha = gitserver.create(repo, {"git_hello.yml": GIT_PLAYBOOK})
    return {
        "suffix": suffix,
        "org": f"Coll Org {suffix}",
        "user": f"colluser{suffix}",
        "user_password": f"Pw-{suffix}-x9",
        "team": f"Coll Team {suffix}",
        "credential": f"Coll Machine {suffix}",
        "manual_project": f"Coll Manual {suffix}",
        "manual_dir": manual_dir,
        "git_project": f"Coll Git {suffix}",
        "git_url": gitserver.url(repo),
        "git_sha": sha,
        "inventory": f"Coll Inventory {suffix}",
        "host": f"collhost-{suffix}",
        "group": f"collgroup_{suffix}",
        "job_template": f"Coll JT {suffix}",
        "greeting": f"hello-{suffix}",
        "schedule": f"Coll Nightly {suffix}",
        "schedules": schedules_available,
        "export_python": export_python[0],
    }


@pytest.fixture(scope="module")
def first_run(collection_path, controller, names, work) -> dict:
    return run_playbook(controller, names, work, "first")


@pytest.fixture(scope="module")
def second_run(first_run, controller, names, work) -> dict:
    return run_playbook(controller, names, work, "second")


# --- the playbook ----------------------------------------------------------------------------

def test_first_run_succeeds_without_ignored_errors(first_run):
    proc = first_run["proc"]
    failed = {k: v.get("msg") for k, v in first_run["results"].items()
              if isinstance(v, dict) and v.get("failed")}
    assert proc.returncode == 0 and not failed, f"failed tasks: {json.dumps(failed, indent=2)}\n" + describe(proc)
    counts = recap(proc)
    assert counts["failed"] == 0 and counts["ignored"] == 0 and counts["unreachable"] == 0, counts
    assert counts["changed"] >= 12, (counts, changed_tasks(proc.stdout))


def test_second_run_changes_nothing(second_run):
    proc = second_run["proc"]
    assert proc.returncode == 0, describe(proc)
    counts = recap(proc)
    assert counts["failed"] == 0 and counts["ignored"] == 0, (counts, describe(proc))
    assert counts["changed"] == 0, (
        f"second run changed {counts['changed']} task(s): {changed_tasks(proc.stdout)}\n" + describe(proc)
    )
    # The actions ran again against the existing objects.
    assert module_ok(second_run, "job_wait")["status"] == "successful"
    assert module_ok(second_run, "ad_hoc_command_wait")["status"] == "successful"


def test_runtime_is_reasonable(first_run, second_run):
    # About 20 module runs per playbook; each forks a worker, starts a Python and mints and
    # deletes a token.  ~1 min per run on an idle 2-CPU box; the bound catches pathologies
    # (a busy-polled project update, a job that never finishes) without flaking under load.
    total = first_run["elapsed"] + second_run["elapsed"]
    print(f"ansible-playbook runs: {first_run['elapsed']:.1f}s + {second_run['elapsed']:.1f}s")
    assert total < 360, (first_run["elapsed"], second_run["elapsed"])


# --- state through the API -------------------------------------------------------------------

def test_organization_user_team_and_roles(first_run, api, names):
    res = module_ok(first_run, "organization")
    assert res["changed"] is True
    org = only(api, "/api/v2/organizations/", name=names["org"])
    assert res["id"] == org["id"] and org["description"] == "made by awx.awx"

    module_ok(first_run, "user")
    user = only(api, "/api/v2/users/", username=names["user"])
    assert (user["email"], user["first_name"], user["last_name"]) == (
        f"{names['user']}@example.invalid", "Coll", "Ection")
    # The password the module set works.
    with type(api)(api.base_url, username=names["user"], password=names["user_password"]) as as_user:
        me = expect(as_user.get("/api/v2/me/"), 200)
        assert me["results"][0]["username"] == names["user"]
    # organization: on the user module adds them as a member.
    org_users = expect(api.get(f"/api/v2/organizations/{org['id']}/users/"), 200)
    assert names["user"] in [u["username"] for u in org_users["results"]]

    module_ok(first_run, "team")
    team = only(api, "/api/v2/teams/", name=names["team"], organization=org["id"])
    assert team["description"] == f"team of {names['user']}"

    module_ok(first_run, "role_member")
    members = expect(api.get(f"/api/v2/teams/{team['id']}/users/"), 200)
    assert [u["username"] for u in members["results"]] == [names["user"]]

    module_ok(first_run, "role_use")
    cred = only(api, "/api/v2/credentials/", name=names["credential"])
    use_role = cred["summary_fields"]["object_roles"]["use_role"]["id"]
    role_users = expect(api.get(f"/api/v2/roles/{use_role}/users/"), 200)
    assert names["user"] in [u["username"] for u in role_users["results"]]

    module_ok(first_run, "role_execute")
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    exec_role = jt["summary_fields"]["object_roles"]["execute_role"]["id"]
    role_teams = expect(api.get(f"/api/v2/roles/{exec_role}/teams/"), 200)
    assert [t["name"] for t in role_teams["results"]] == [names["team"]]


def test_named_url_lookup(first_run, api, names):
    # get_one() tries GET /api/v2/job_templates/<quote(name, safe="+")>/ first when the
    # name holds "++"; a miss falls back to ?name=<the whole string> and fails.
    module_ok(first_run, "role_read_named_url")
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    named = expect(api.get(f"/api/v2/job_templates/{quote(names['job_template'] + '++' + names['org'], safe='+')}/"), 200)
    assert named["id"] == jt["id"]
    read_role = jt["summary_fields"]["object_roles"]["read_role"]["id"]
    role_teams = expect(api.get(f"/api/v2/roles/{read_role}/teams/"), 200)
    assert names["team"] in [t["name"] for t in role_teams["results"]]


def test_credential(first_run, api, names):
    module_ok(first_run, "credential")
    cred = only(api, "/api/v2/credentials/", name=names["credential"])
    machine = only(api, "/api/v2/credential_types/", name="Machine", kind="ssh")
    org = only(api, "/api/v2/organizations/", name=names["org"])
    assert (cred["credential_type"], cred["organization"]) == (machine["id"], org["id"])
    assert cred["inputs"] == {"username": "runner", "password": "$encrypted$"}


def test_projects(first_run, api, names):
    org = only(api, "/api/v2/organizations/", name=names["org"])

    module_ok(first_run, "manual_project")
    manual = only(api, "/api/v2/projects/", name=names["manual_project"])
    assert (manual["scm_type"], manual["local_path"], manual["organization"]) == (
        "", names["manual_dir"], org["id"])
    playbooks = expect(api.get(f"/api/v2/projects/{manual['id']}/playbooks/"), 200)
    assert "greet.yml" in playbooks

    module_ok(first_run, "git_project")
    git = only(api, "/api/v2/projects/", name=names["git_project"])
    assert (git["scm_type"], git["scm_url"], git["scm_branch"]) == ("git", names["git_url"], "main")
    assert git["status"] == "successful", git
    assert git["scm_revision"] == names["git_sha"], git
    updates = expect(api.get(f"/api/v2/projects/{git['id']}/project_updates/"), 200)
    assert updates["count"] >= 1 and {u["status"] for u in updates["results"]} == {"successful"}, updates
    playbooks = expect(api.get(f"/api/v2/projects/{git['id']}/playbooks/"), 200)
    assert "git_hello.yml" in playbooks


def test_inventory_host_group(first_run, api, names):
    org = only(api, "/api/v2/organizations/", name=names["org"])
    module_ok(first_run, "inventory")
    inv = only(api, "/api/v2/inventories/", name=names["inventory"], organization=org["id"])
    assert inv["description"] == f"inventory of {names['suffix']}"
    assert inv["kind"] == "" and inv["host_filter"] in ("", None), inv
    assert json.loads(inv["variables"]) == {"inv_var": f"inv-{names['suffix']}"}

    module_ok(first_run, "host")
    host = only(api, "/api/v2/hosts/", name=names["host"], inventory=inv["id"])
    assert json.loads(host["variables"]) == {"ansible_connection": "local", "host_var": f"host-{names['suffix']}"}

    module_ok(first_run, "group")
    group = only(api, "/api/v2/groups/", name=names["group"], inventory=inv["id"])
    assert json.loads(group["variables"]) == {"group_var": f"group-{names['suffix']}"}
    group_hosts = expect(api.get(f"/api/v2/groups/{group['id']}/hosts/"), 200)
    assert [h["name"] for h in group_hosts["results"]] == [names["host"]]


def test_job_template_with_survey(first_run, api, names):
    module_ok(first_run, "job_template")
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    manual = only(api, "/api/v2/projects/", name=names["manual_project"])
    inv = only(api, "/api/v2/inventories/", name=names["inventory"])
    assert (jt["project"], jt["inventory"], jt["playbook"]) == (manual["id"], inv["id"], "greet.yml")
    assert jt["survey_enabled"] is True and jt["ask_limit_on_launch"] is True
    assert json.loads(jt["extra_vars"]) == {"jt_var": f"jt-{names['suffix']}"}
    creds = expect(api.get(f"/api/v2/job_templates/{jt['id']}/credentials/"), 200)
    assert [c["name"] for c in creds["results"]] == [names["credential"]]
    spec = expect(api.get(f"/api/v2/job_templates/{jt['id']}/survey_spec/"), 200)
    assert [(q["variable"], q["type"], q["required"], q["default"]) for q in spec["spec"]] == [
        ("greeting", "text", True, "world")]


def test_job_launch_and_wait(first_run, api, names):
    launched = module_ok(first_run, "job_launch")
    waited = module_ok(first_run, "job_wait")
    assert waited["id"] == launched["id"] and waited["status"] == "successful", waited
    for key in ("elapsed", "started", "finished"):
        assert waited.get(key), (key, waited)

    job = expect(api.get(f"/api/v2/jobs/{launched['id']}/"), 200)
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    assert (job["job_template"], job["status"], job["failed"]) == (jt["id"], "successful", False), job
    assert job["limit"] == names["host"]
    assert json.loads(job["extra_vars"]) == {"jt_var": f"jt-{names['suffix']}", "greeting": names["greeting"]}
    stdout = api.get(f"/api/v2/jobs/{job['id']}/stdout/", params={"format": "txt"}).text
    expected = (f"collection says {names['greeting']} to {names['host']} "
                f"(jt-{names['suffix']}, host-{names['suffix']}, group-{names['suffix']})")
    assert expected in stdout, stdout


def test_ad_hoc_command_and_wait(first_run, api, names):
    started = module_ok(first_run, "ad_hoc_command")
    waited = module_ok(first_run, "ad_hoc_command_wait")
    assert waited["id"] == started["id"] and waited["status"] == "successful", waited

    cmd = expect(api.get(f"/api/v2/ad_hoc_commands/{started['id']}/"), 200)
    assert (cmd["module_name"], cmd["module_args"], cmd["limit"]) == (
        "command", f"echo adhoc-{names['suffix']}", names["host"])
    assert (cmd["status"], cmd["failed"]) == ("successful", False), cmd
    stdout = api.get(f"/api/v2/ad_hoc_commands/{cmd['id']}/stdout/", params={"format": "txt"}).text
    assert f"adhoc-{names['suffix']}" in stdout and names["host"] in stdout, stdout


def test_schedule(first_run, api, names):
    if not names["schedules"]:
        pytest.skip("the server has no /api/v2/schedules/ yet (another engineer is building it); "
                    "the playbook's schedule task was skipped")
    module_ok(first_run, "schedule")
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    sched = only(api, "/api/v2/schedules/", name=names["schedule"])
    assert sched["unified_job_template"] == jt["id"] and sched["enabled"] is True
    assert sched["rrule"] == "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"
    assert sched["extra_data"] == {"greeting": "scheduled"}
    assert sched["next_run"].startswith("2030-01-01T00:00:00"), sched


def test_export(first_run, names, export_python):
    if not names["export_python"]:
        pytest.skip(export_python[1])
    res = module_ok(first_run, "export")
    assets = res["assets"]
    assert [o["name"] for o in assets["organizations"]] == [names["org"]], assets
    jts = assets["job_templates"]
    assert [j["name"] for j in jts] == [names["job_template"]], assets
    assert jts[0]["playbook"] == "greet.yml"
    assert jts[0]["project"]["name"] == names["manual_project"], jts[0]
    assert jts[0]["related"]["survey_spec"]["spec"][0]["variable"] == "greeting", jts[0]


def test_lookup_plugin(first_run, api, names):
    module_ok(first_run, "lookup")
    jt = only(api, "/api/v2/job_templates/", name=names["job_template"])
    found = first_run["results"]["lookup_job_templates"]
    assert [(j["id"], j["name"]) for j in found] == [(jt["id"], jt["name"])], found
    org = first_run["results"]["lookup_organization"]
    assert org["name"] == names["org"], org


# --- the inventory plugin --------------------------------------------------------------------

def _inventory_list(controller, work: Path, config: str, tag: str) -> dict:
    path = work / f"{tag}.controller.yml"
    path.write_text(config)
    proc = run_ansible("inventory", "-i", str(path), "--list", "--export",
                       env=collection_env(controller, work / "home"), cwd=work, timeout=120)
    assert proc.returncode == 0, describe(proc)
    # ansible-inventory turns a plugin error into a warning and prints an empty inventory.
    assert "Failed to parse" not in proc.stderr and "Unable to parse" not in proc.stderr, describe(proc)
    return _untag(json.loads(proc.stdout))


def _untag(data: Any) -> Any:
    """ansible-core 2.19 (profile inventory_legacy) prints strings from a plugin as
    ``{"__ansible_unsafe": "..."}``; client-side, so unwrap them."""
    if isinstance(data, dict):
        if set(data) == {"__ansible_unsafe"}:
            return data["__ansible_unsafe"]
        return {k: _untag(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_untag(v) for v in data]
    return data


def _check_inventory(data: dict, api, names: dict) -> None:
    host = only(api, "/api/v2/hosts/", name=names["host"])
    hostvars = data["_meta"]["hostvars"][names["host"]]
    assert hostvars["ansible_connection"] == "local" and hostvars["host_var"] == f"host-{names['suffix']}"
    assert hostvars["remote_tower_id"] == host["id"] and hostvars["remote_tower_enabled"] == "true", hostvars
    assert data[names["group"]]["hosts"] == [names["host"]], data
    assert names["group"] in data["all"]["children"], data["all"]


def test_inventory_plugin_by_id(first_run, controller, api, names, work):
    module_ok(first_run, "host")
    inv = only(api, "/api/v2/inventories/", name=names["inventory"])
    data = _inventory_list(controller, work, f"plugin: awx.awx.controller\ninventory_id: {inv['id']}\n"
                           "include_metadata: true\n", "by-id")
    _check_inventory(data, api, names)
    # With --export the inventory variables stay on the all group.
    assert data["all"]["vars"]["inv_var"] == f"inv-{names['suffix']}", data["all"]
    meta = data["all"]["vars"]["controller_metadata"]
    assert meta.get("version") and meta.get("ansible_version"), meta


def test_inventory_plugin_by_named_url(first_run, controller, api, names, work):
    module_ok(first_run, "host")
    # The plugin puts inventory_id into the URL as is (only "/" removed), and urllib refuses
    # a space in a URL, so a name with spaces must be given percent-encoded (also on AWX).
    named = quote(f"{names['inventory']}++{names['org']}", safe="+")
    data = _inventory_list(controller, work, f"plugin: awx.awx.controller\ninventory_id: \"{named}\"\n",
                           "by-name")
    _check_inventory(data, api, names)

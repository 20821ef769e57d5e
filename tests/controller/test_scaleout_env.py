"""A remote job's environment is its worker's (scale-out): the galaxy content its project
installed travels with it, a local host with no interpreter of its own runs the worker's,
and its Redis stream is trimmed while it runs.

Real parts: a Redis server with a password, a real ``turret worker`` process started by an
interpreter path of its own (``relocated_python``: a worker installed elsewhere than the
controller), a real git server holding the project, its requirements installed by a real
project update (collection and role archives committed in the project: no network), real
ansible-runner jobs on localhost.
"""
from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest
import redis

from controller.workers import keys
from tests.controller.test_galaxy import (ECHO_MODULE, USE_TINY, _galaxy_credential, _last_update, _project,
                                         _role_tarball)
from tests.support.galaxy import build_collection
from tests.support.gitserver import GitServer
from tests.support.jobs import events, launch, make_inventory, make_jt, make_org, make_project, uniq, wait_job
from tests.support.workers import instance_group, registered_worker, relocated_python, scaleout_fixtures

from conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.slow

GROUP = "relocated"
SHOW_PATHS = """    - name: show paths
      ansible.builtin.debug:
        msg: "{{ lookup('env', 'ANSIBLE_COLLECTIONS_PATH') }}"
"""
WHICH_PYTHON = """- hosts: all
  gather_facts: false
  tasks:
    - name: which python
      ansible.builtin.setup:
        gather_subset: ["!all", "!min", "python"]
"""
ITEMS = 1000
CHATTY = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: chatter
      ansible.builtin.debug:
        msg: "line {{{{ item }}}}"
      loop: "{{{{ range(1, {ITEMS + 1}) | list }}}}"
"""


broker, app_state = scaleout_fixtures(ADMIN_PASSWORD, "pw-" + uniq("b"))


@pytest.fixture(scope="module")
def worker_python(tmp_path_factory) -> str:
    python = relocated_python(tmp_path_factory.mktemp("elsewhere") / "venv")
    assert python != sys.executable
    return python


@pytest.fixture(scope="module")
def worker(tmp_path_factory, broker, worker_python):
    with registered_worker(broker.url, "wk-env", GROUP, 2, tmp_path_factory.mktemp("wk") / "data",
                           python=worker_python) as proc:
        yield proc


@pytest.fixture(scope="module")
def setup(admin, app_state, worker):
    app_state.start_jobs(workers=1)
    org = make_org(admin)
    group = instance_group(admin, GROUP)
    yield {"org": org, "group": group}
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def client(broker):
    conn = redis.Redis.from_url(broker.url)
    yield conn
    conn.close()


def _to_group(admin, jt: dict, group: dict) -> dict:
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": group["id"]})
    assert resp.status_code == 204, resp.json
    return jt


def _text(admin, job: dict) -> str:
    return "".join(e["stdout"] for e in events(admin, job["id"]))


def test_galaxy_content_of_the_project_travels_with_a_remote_job(admin, app_state, setup, worker, tmp_path):
    """collections/requirements.yml and roles/requirements.yml installed by the project update
    on the controller; the job using both runs on the worker (whose run dir holds them) and
    locally alike."""
    org = setup["org"]
    cred = _galaxy_credential(admin, org, "http://127.0.0.1:9/")    # AWX installs only with one; never contacted
    assert admin.post(f"/api/v2/organizations/{org['id']}/galaxy_credentials/", {"id": cred["id"]}).status_code == 204
    tarball = build_collection(tmp_path / "collection", "turrettest", "tiny", modules={"echo.py": ECHO_MODULE})
    git = GitServer(tmp_path / "git")
    try:
        project = _project(admin, org, git, {
            "collections/requirements.yml": f"collections:\n  - name: ./collections/{tarball.name}\n    type: file\n",
            "roles/requirements.yml": "- src: ./roles/greeter.tar.gz\n  name: greeter\n",
            "use_tiny.yml": USE_TINY + SHOW_PATHS + "\n- hosts: all\n  gather_facts: false\n  roles: [greeter]\n"},
            binary={f"collections/{tarball.name}": tarball.read_bytes(),
                    "roles/greeter.tar.gz": _role_tarball(tmp_path)})
        update = _last_update(admin, project)
    finally:
        git.stop()
    assert update["status"] == "successful", update["job_explanation"]
    installed = app_state.settings.data_dir / "project_requirements" / str(project["id"]) / "current"
    inventory = make_inventory(admin, org, ["localhost"])
    remote_jt = _to_group(admin, make_jt(admin, project, inventory, "use_tiny.yml"), setup["group"])
    remote = wait_job(admin, launch(admin, remote_jt)["job"], timeout=120)
    text = _text(admin, remote)
    assert (remote["status"], remote["execution_node"]) == ("successful", worker.name), text
    assert "tiny says hello" in text and "greeter role says hi" in text, text
    # the controller's folders (on this same machine here) were only the source: the worker
    # ran with the copies in its run dir
    paths, role_task = _content_paths(admin, remote)
    assert paths.startswith(str(worker.data_dir)) and str(installed) not in paths, paths
    assert role_task.startswith(str(worker.data_dir)), role_task
    local = wait_job(admin, launch(admin, make_jt(admin, project, inventory, "use_tiny.yml"))["job"], timeout=120)
    text = _text(admin, local)
    assert local["status"] == "successful" and local["execution_node"] != worker.name, text
    assert "tiny says hello" in text and "greeter role says hi" in text, text
    assert local["job_env"]["ANSIBLE_ROLES_PATH"] == str(installed / "requirements_roles")
    paths, role_task = _content_paths(admin, local)
    assert paths.startswith(str(installed / "requirements_collections")), paths
    assert role_task.startswith(str(installed / "requirements_roles")), role_task


def _content_paths(admin, job: dict) -> tuple[str, str]:
    """(ANSIBLE_COLLECTIONS_PATH as the play saw it, the file of the greeter role's task)."""
    rows = [e for e in events(admin, job["id"]) if e["event"] == "runner_on_ok"]
    paths = next(e["event_data"]["res"]["msg"] for e in rows if e["task"] == "show paths")
    role_task = next(e["event_data"]["task_path"] for e in rows if e["event_data"].get("role") == "greeter")
    return paths, role_task


def _pythons(admin, job: dict) -> dict[str, str]:
    """{host: the interpreter that ran its ``setup`` module} from the job's stored events."""
    found = {}
    for e in events(admin, job["id"]):
        if e["event"] == "runner_on_ok" and e["task"] == "which python":
            facts = e["event_data"]["res"]["ansible_facts"]
            found[e["host_name"]] = facts["ansible_python"]["executable"]
    return found


def test_a_local_host_runs_the_workers_interpreter_on_a_worker(admin, app_state, setup, worker, worker_python):
    """Turret's default for a local host (the interpreter running ansible-playbook) is the
    worker's own on a worker and the controller's at home; one a user set (even the
    controller's path) is kept."""
    org = setup["org"]
    project = make_project(admin, app_state.settings.data_dir, org, {"which.yml": WHICH_PYTHON})
    inventory = make_inventory(admin, org, [])
    for name, hostvars in (("auto", {}), ("pinned", {"ansible_python_interpreter": sys.executable})):
        resp = admin.post("/api/v2/hosts/", {"name": name, "inventory": inventory["id"],
                                             "variables": json.dumps({"ansible_connection": "local", **hostvars})})
        assert resp.status_code == 201, resp.json
    remote = wait_job(admin, launch(admin, _to_group(admin, make_jt(admin, project, inventory, "which.yml"),
                                                     setup["group"]))["job"], timeout=120)
    assert (remote["status"], remote["execution_node"]) == ("successful", worker.name), _text(admin, remote)
    assert _pythons(admin, remote) == {"auto": worker_python, "pinned": sys.executable}
    assert "which.yml" in remote["job_args"]
    local = wait_job(admin, launch(admin, make_jt(admin, project, inventory, "which.yml"))["job"], timeout=120)
    assert local["status"] == "successful", _text(admin, local)
    assert _pythons(admin, local) == {"auto": sys.executable, "pinned": sys.executable}


def test_a_remote_jobs_stream_is_trimmed_while_it_runs(admin, app_state, setup, worker, client):
    """A job printing hundreds of events: the stream's length sampled during the run stays a
    small fraction of them, and every event is stored exactly once."""
    org = setup["org"]
    project = make_project(admin, app_state.settings.data_dir, org, {"chatty.yml": CHATTY})
    jt = _to_group(admin, make_jt(admin, project, make_inventory(admin, org, ["h1"]), "chatty.yml"), setup["group"])
    job_id = launch(admin, jt)["job"]
    stream = keys.stream("job", job_id)
    lengths: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            lengths.append(int(client.xlen(stream)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        job = wait_job(admin, job_id, timeout=180)
    finally:
        done.set()
        sampler.join(5)
    rows = events(admin, job_id)
    assert job["status"] == "successful", job["job_explanation"]
    counters = sorted(e["counter"] for e in rows)
    assert counters == list(range(1, len(rows) + 1))
    assert len({e["uuid"] for e in rows}) == len(rows)
    items = [e for e in rows if e["event"] == "runner_item_on_ok"]
    assert sorted(int(e["event_data"]["res"]["msg"].split()[1]) for e in items) == list(range(1, ITEMS + 1))
    assert len(lengths) > 20 and max(lengths) > 0
    # without trimming the stream would end holding every event line (> ITEMS entries)
    assert max(lengths) < ITEMS / 4, max(lengths)
    print(f"stream length while running: max {max(lengths)}, {len(rows)} events")
    # what is left: dispatch, claim, statuses, stats, end and the last half second's events
    assert client.xlen(stream) < ITEMS / 4


ELSEWHERE = "installed-elsewhere"
USE_BUNDLED = """- ansible.builtin.import_playbook: turret.controller.hello_world
- hosts: all
  gather_facts: false
  tasks:
""" + SHOW_PATHS


def _install_elsewhere(site: Path) -> Path:
    """A wheel's layout of this very Turret under ``site`` (another folder than the checkout the
    controller runs from): the ``controller`` package beside
    ``ansible_collections/turret/controller`` (galaxy.yml, meta, playbooks, plugins).  Returns
    ``site``, the value the worker's ``collections_path()`` must give."""
    repo = Path(__file__).resolve().parents[2]
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo / "controller", site / "controller", ignore=skip)
    bundled = site / "ansible_collections" / "turret" / "controller"
    for name in ("meta", "playbooks", "plugins"):
        shutil.copytree(repo / name, bundled / name, ignore=skip)
    shutil.copy2(repo / "galaxy.yml", bundled / "galaxy.yml")
    return site


@pytest.fixture(scope="module")
def elsewhere_worker(tmp_path_factory, broker):
    """A worker whose Turret is installed in a folder of its own: started by a relocated
    interpreter with that folder first on its import path (``PYTHONSAFEPATH``: the checkout,
    its working directory, stays off it), so its ``controller`` package and bundled collection
    are that folder's."""
    site = _install_elsewhere(tmp_path_factory.mktemp("site"))
    python = relocated_python(tmp_path_factory.mktemp("elsewhere2") / "venv")
    with registered_worker(broker.url, "wk-site", ELSEWHERE, 1, tmp_path_factory.mktemp("wks") / "data",
                           python=python, extra_env={"PYTHONSAFEPATH": "1", "PYTHONPATH": str(site)}) as proc:
        yield proc, site


def test_the_bundled_collection_path_becomes_the_workers(admin, app_state, setup, elsewhere_worker):
    """The job's ANSIBLE_COLLECTIONS_PATH ends with the controller's bundled collection path;
    on a worker installed elsewhere that entry is the worker's own, so a play of the bundled
    collection (``turret.controller.hello_world``) runs from the worker's copy."""
    proc, site = elsewhere_worker
    from controller.collection import collections_path
    assert collections_path() != str(site)
    org = setup["org"]
    group = instance_group(admin, ELSEWHERE)
    project = make_project(admin, app_state.settings.data_dir, org, {"bundled.yml": USE_BUNDLED})
    jt = _to_group(admin, make_jt(admin, project, make_inventory(admin, org, ["localhost"]), "bundled.yml"), group)
    job = wait_job(admin, launch(admin, jt)["job"], timeout=120)
    text = _text(admin, job)
    assert (job["status"], job["execution_node"]) == ("successful", proc.name), text
    assert "Hello World!" in text, text
    rows = [e for e in events(admin, job["id"]) if e["event"] == "runner_on_ok"]
    paths = next(e["event_data"]["res"]["msg"] for e in rows if e["task"] == "show paths")
    assert paths.split(":") == [str(site)], paths
    hello = next(e["event_data"]["task_path"] for e in rows if e["task"] == "Hello Message")
    assert hello.startswith(str(site / "ansible_collections" / "turret" / "controller" / "playbooks")), hello
    # the controller's own jobs keep the controller's path
    assert job["job_env"]["ANSIBLE_COLLECTIONS_PATH"] == collections_path()


def test_only_turrets_entry_of_the_collections_path_is_relocated():
    """The last entry is replaced only when it is the controller's path; other entries and a
    value without it (a user's) stay."""
    from controller.workers.relocate import relocate_collections

    def line(value: str) -> bytes:
        return json.dumps({"kwargs": {"envvars": {"ANSIBLE_COLLECTIONS_PATH": value, "X": "/ctl"}}}).encode()

    def value(out: bytes) -> str:
        return json.loads(out)["kwargs"]["envvars"]["ANSIBLE_COLLECTIONS_PATH"]

    assert value(relocate_collections(line("/run/req:/ctl"), "/ctl", "/wk")) == "/run/req:/wk"
    assert value(relocate_collections(line("/ctl:/mine"), "/ctl", "/wk")) == "/ctl:/mine"
    assert relocate_collections(line("/ctl"), "", "/wk") == line("/ctl")
    assert json.loads(relocate_collections(line("/ctl"), "/ctl", "/wk"))["kwargs"]["envvars"]["X"] == "/ctl"

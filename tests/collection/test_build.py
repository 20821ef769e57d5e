"""Build the collection tarball, install it, and drive a controller with the installed copy only:
configure.yml describes a whole controller, job_launch + job_wait run a job, and the inventory
plugin feeds a play with the hosts configure.yml defined."""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import BIN, REPO, ansible_env, connection, run_playbook, run_tasks

FORBIDDEN = ("tests/", "controller/", ".venv", "ansible_collections/", "bench/", "dev/", ".git/", "pyproject.toml",
             "__pycache__", ".pyc", "turret.egg-info", "data/", ".cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """ANSIBLE_COLLECTIONS_PATH holding only the installed tarball."""
    work = tmp_path_factory.mktemp("galaxy")
    env = ansible_env(work)
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path",
                            str(work / "dist"), "--force"], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    [tarball] = (work / "dist").glob("turret-controller-*.tar.gz")
    with tarfile.open(tarball) as tf:
        names = tf.getnames()
    bad = [n for n in names if any(f in n for f in FORBIDDEN)]
    assert bad == [], bad
    for needed in ("plugins/modules/job_launch.py", "plugins/modules/job_launch.yml", "plugins/module_utils/api.py",
                   "plugins/inventory/controller.py", "plugins/lookup/api.py", "playbooks/configure.yml", "meta/runtime.yml", "MANIFEST.json"):
        assert needed in names, needed
    coll = work / "coll"
    # not the checkout's collections path: galaxy would find turret.controller there and install nothing
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(coll)],
                             cwd=work, env=ansible_env(work, collections_path=coll), capture_output=True, text=True,
                             timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (coll / "ansible_collections" / "turret" / "controller" / "plugins" / "modules" / "host.py").exists()
    return coll


def test_configure_launch_and_inventory_from_the_tarball(controller, installed, tmp_path, api):
    folder = controller.data_dir / "projects" / "built"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    config = {
        **connection(controller),
        "controller_organizations": [{"name": "Built", "description": "from the tarball"}],
        "controller_users": [{"username": "bob", "password": "bob-pw-123", "email": "bob@example.com"}],
        "controller_teams": [{"name": "Ops", "organization": "Built"}],
        "controller_credential_types": [{"name": "Token", "kind": "cloud", "inputs": {"fields": [
            {"id": "token", "label": "Token", "type": "string", "secret": True}]}}],
        "controller_credentials": [{"name": "ssh", "organization": "Built", "credential_type": "Machine",
                                    "inputs": {"username": "deploy", "password": "pw"}}],
        "controller_projects": [{"name": "site", "organization": "Built", "local_path": "built"}],
        "controller_inventories": [{
            "name": "Prod", "organization": "Built", "variables": local,
            "hosts": [{"name": "web1"}, {"name": "web2"}, {"name": "db1", "variables": {"role": "db"}}],
            "groups": [{"name": "web", "hosts": ["web1", "web2"], "children": ["edge"]},
                       {"name": "edge", "hosts": ["web2"]}],
        }],
        "controller_job_templates": [{"name": "hello", "project": "site++Built", "inventory": "Prod++Built",
                                      "playbook": "hello.yml", "credentials": ["ssh"], "ask_limit_on_launch": True}],
        "controller_schedules": [{"name": "nightly", "unified_job_template": "hello", "cron": "0 2 * * *",
                                  "timezone": "UTC"}],
        "controller_roles": [{"team": "Ops", "role": "execute", "job_template": "hello"},
                             {"user": "bob", "role": "member", "target_team": "Ops"}],
    }
    vars_file = tmp_path / "controller.yml"
    vars_file.write_text(yaml.safe_dump(config))
    env = ansible_env(tmp_path, collections_path=installed)
    first = run_playbook(["turret.controller.configure", "-e", f"@{vars_file}"], tmp_path, env)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_playbook(["turret.controller.configure", "-e", f"@{vars_file}"], tmp_path, env)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout

    org = api.get("/api/v2/organizations/Built/").json()
    assert org["description"] == "from the tarball"
    inv = api.get("/api/v2/inventories/Prod++Built/").json()
    assert inv["total_hosts"] == 3 if "total_hosts" in inv else True
    jt = api.get("/api/v2/job_templates/hello++Built/").json()
    [sched] = api.get("/api/v2/schedules/", params={"name": "nightly"}).json()["results"]
    assert sched["unified_job_template"] == jt["id"] and sched["cron"] == "0 2 * * *"
    assert [c["name"] for c in api.get(f"/api/v2/job_templates/{jt['id']}/credentials/").json()["results"]] == ["ssh"]

    p = run_tasks(controller, [
        {"turret.controller.job_launch": {"name": "hello++Built", "limit": "web"}},
        {"turret.controller.job_wait": {"job_id": "{{ r0.id }}", "timeout": 180}},
    ], tmp_path / "launch", env=env)
    assert p[1]["status"] == "successful", p.results
    job = api.get(f"/api/v2/jobs/{p[0]['id']}/").json()
    assert job["limit"] == "web"

    src = tmp_path / "prod.controller.yml"
    src.write_text(yaml.safe_dump({"plugin": "turret.controller.controller", "inventory_id": "Prod++Built",
                                   **connection(controller)}))
    playbook = tmp_path / "ping.yml"
    playbook.write_text("- hosts: web\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
                        "    - ansible.builtin.debug: {msg: '{{ group_names }}'}\n")
    ran = run_playbook(["-i", str(src), str(playbook)], tmp_path, env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "web1" in ran.stdout and "web2" in ran.stdout and "db1" not in ran.stdout
    assert "edge" in ran.stdout

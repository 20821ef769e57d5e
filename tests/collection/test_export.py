"""export returns the configure playbook's variables; configure accepts them back (the import):
unchanged on the same controller, and a fresh controller re-exports the same data."""
from __future__ import annotations

import sys

import yaml

from tests.conftest import start_controller

from .conftest import connection, run_playbook, run_tasks, ansible_env

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


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

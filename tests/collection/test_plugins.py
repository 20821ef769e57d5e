"""The inventory plugin (turret.controller.controller) and the lookup plugin (turret.controller.api)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from .conftest import BIN, ansible_env, connection, run_tasks

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


@pytest.fixture(scope="module")
def inv(controller):
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": "POrg"}).json()
        inv = api.post("/api/v2/inventories/", {"name": "PInv", "organization": org["id"],
                                                "variables": json.dumps({**LOCAL, "site": "paris"})}).json()
        hosts = {}
        for name, os_ in (("web1", "linux"), ("web2", "linux"), ("db1", "bsd")):
            hosts[name] = api.post("/api/v2/hosts/", {"name": name, "inventory": inv["id"],
                                                      "variables": json.dumps({"os": os_})}).json()
        group = api.post("/api/v2/groups/", {"name": "web", "inventory": inv["id"],
                                             "variables": json.dumps({"tier": "front"})}).json()
        for h in ("web1", "web2"):
            api.post(f"/api/v2/groups/{group['id']}/hosts/", {"id": hosts[h]["id"]}).raise_for_status()
    return inv


def source(tmp_path, controller, **options) -> str:
    path = tmp_path / "prod.controller.yml"
    path.write_text(yaml.safe_dump({"plugin": "turret.controller.controller", **connection(controller), **options}))
    return str(path)


def plain(value):
    """ansible-core 2.19 marks strings from inventory plugins as untrusted: {"__ansible_unsafe": "x"}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory_list(tmp_path, src: str) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", src, "--list", "--export"], cwd=tmp_path,
                          env=ansible_env(tmp_path, ANSIBLE_INVENTORY_UNPARSED_FAILED="True"),
                          capture_output=True, text=True, timeout=120)
    return (plain(json.loads(proc.stdout)) if proc.returncode == 0 else {}), proc


def test_inventory_by_named_url_with_constructed(controller, inv, tmp_path):
    data, proc = inventory_list(tmp_path, source(
        tmp_path, controller, inventory_id="PInv++POrg", include_metadata=True,
        keyed_groups=[{"key": "os", "prefix": "os"}], groups={"databases": "inventory_hostname.startswith('db')"},
        compose={"where": "os | upper"}))
    assert proc.returncode == 0, proc.stderr
    assert sorted(data["web"]["hosts"]) == ["web1", "web2"]
    assert sorted(data["os_linux"]["hosts"]) == ["web1", "web2"] and data["os_bsd"]["hosts"] == ["db1"]
    assert data["databases"]["hosts"] == ["db1"]
    hostvars = data["_meta"]["hostvars"]
    assert data["web"]["vars"]["tier"] == "front" and data["all"]["vars"]["site"] == "paris"
    assert hostvars["web1"]["where"] == "LINUX" and hostvars["web1"]["os"] == "linux"
    assert hostvars["db1"]["remote_tower_id"] == hostvars["db1"]["remote_host_id"]
    assert data["all"]["vars"]["controller_metadata"]["version"]


def test_inventory_by_id_runs_a_play_and_caches(controller, inv, tmp_path, api):
    cache = tmp_path / "cache"
    src = source(tmp_path, controller, inventory_id=str(inv["id"]), cache=True,
                 cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache))
    play = tmp_path / "play.yml"
    play.write_text("- hosts: web\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", src, str(play)], cwd=tmp_path,
                          env=ansible_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "web1" in proc.stdout and "ok=1" in proc.stdout
    assert list(cache.iterdir())
    # a new host is not seen while the cache is used
    api.post("/api/v2/hosts/", {"name": "late", "inventory": inv["id"]}).raise_for_status()
    data, _ = inventory_list(tmp_path, src)
    assert "late" not in data["_meta"]["hostvars"]


def test_inventory_errors_carry_the_server_message(controller, inv, tmp_path):
    _, proc = inventory_list(tmp_path, source(tmp_path, controller, inventory_id="no-such-inventory"))
    assert proc.returncode != 0
    assert "no inventories found" in proc.stderr and "Traceback" not in proc.stderr


def test_lookup_plugin(controller, inv, tmp_path):
    lk = "turret.controller.api"
    p = run_tasks(controller, [
        {"ansible.builtin.set_fact": {"hosts": f"{{{{ query('{lk}', 'hosts', query_params={{'inventory': {inv['id']}, 'order_by': 'name'}}, **conn) }}}}"}},
        {"ansible.builtin.set_fact": {"one": f"{{{{ lookup('{lk}', 'hosts', query_params={{'name': 'db1'}}, expect_one=true, **conn) }}}}"}},
        {"ansible.builtin.set_fact": {"detail": f"{{{{ lookup('{lk}', 'inventories/{inv['id']}', **conn) }}}}"}},
        {"ansible.builtin.set_fact": {"every": f"{{{{ query('{lk}', 'hosts', query_params={{'page_size': 1}}, return_all=true, **conn) | length }}}}"}},
        {"ansible.builtin.set_fact": {"page": f"{{{{ lookup('{lk}', 'hosts', query_params={{'page_size': 1}}, return_objects=false, **conn) }}}}"}},
        {"ansible.builtin.set_fact": {"bad": f"{{{{ lookup('{lk}', 'nonexistent_endpoint', **conn) }}}}"}},
    ], tmp_path, defaults=False, play_vars={"conn": connection(controller)})
    hosts, one, detail, every, page, bad = p.results
    names = [h["name"] for h in hosts["ansible_facts"]["hosts"]]
    assert names == sorted(names) and {"db1", "web1", "web2"} <= set(names)
    assert one["ansible_facts"]["one"]["name"] == "db1"
    assert detail["ansible_facts"]["detail"]["name"] == "PInv"
    assert int(every["ansible_facts"]["every"]) >= 3
    assert page["ansible_facts"]["page"]["count"] >= 3 and len(page["ansible_facts"]["page"]["results"]) == 1
    assert bad["failed"] and "404" in bad["msg"] and "Traceback" not in bad["msg"]


def test_lookup_plugin_reads_the_environment(controller, inv, tmp_path):
    env = ansible_env(tmp_path, CONTROLLER_HOST=controller.url, CONTROLLER_USERNAME=controller.admin_username,
                      CONTROLLER_PASSWORD=controller.admin_password)
    p = run_tasks(controller, [{"ansible.builtin.debug": {"msg": "{{ lookup('turret.controller.api', 'config').version }}"}}],
                  tmp_path, defaults=False, env=env)
    assert p[0]["msg"]

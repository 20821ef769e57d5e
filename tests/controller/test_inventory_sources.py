"""Inventory sources kept in a project, imported by real ansible-inventory runs."""
from __future__ import annotations

import time

import pytest

INI = """[web]
web1 http_port=80 state=up
web2 state=down

[db]
db1

[prod:children]
web
db

[prod:vars]
env=prod
"""


@pytest.fixture(scope="module")
def jobs(app_state):
    yield app_state.start_jobs(workers=2)
    app_state.stop_jobs()


@pytest.fixture(scope="module")
def setup(admin, app_state, make_org):
    org = make_org()
    folder = app_state.settings.data_dir / "projects" / "invsrc"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts.ini").write_text(INI)
    (folder / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n")
    project = admin.post("/api/v2/projects/", {"name": "invsrc", "organization": org["id"],
                                               "local_path": "invsrc"}).json
    return {"org": org, "project": project, "folder": folder}


def wait(admin, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = admin.get(url).json
        if body["status"] in ("successful", "failed", "error", "canceled") and body["event_processing_finished"]:
            return body
        time.sleep(0.2)
    raise AssertionError(body)


def make_source(admin, setup, **extra) -> tuple[dict, dict]:
    inv = admin.post("/api/v2/inventories/", {"name": f"inv-{time.monotonic_ns()}",
                                              "organization": setup["org"]["id"]}).json
    resp = admin.post(f"{inv['url']}inventory_sources/", {"name": "file", "source": "scm",
                                                         "source_project": setup["project"]["id"],
                                                         "source_path": "hosts.ini", **extra})
    assert resp.status_code == 201, resp.json
    return inv, resp.json


def update(admin, source: dict) -> dict:
    resp = admin.post(f"{source['url']}update/")
    assert resp.status_code == 202 and resp.json["inventory_update"] == resp.json["id"]
    return wait(admin, resp.json["url"])


def names(admin, url: str) -> set[str]:
    return {r["name"] for r in admin.get(f"{url}?page_size=200").json["results"]}


def test_import_hosts_groups_and_vars(admin, jobs, setup):
    inv, source = make_source(admin, setup)
    assert admin.get(f"{source['url']}update/").json == {"can_update": True}
    done = update(admin, source)
    assert done["status"] == "successful", admin.get(f"{done['url']}stdout/").data
    assert names(admin, f"{inv['url']}hosts/") == {"web1", "web2", "db1"}
    assert names(admin, f"{inv['url']}groups/") == {"web", "db", "prod"}
    web1 = admin.get(f"/api/v2/hosts/?inventory={inv['id']}&name=web1").json["results"][0]
    assert web1["variables"] and '"http_port": 80' in web1["variables"]
    prod = admin.get(f"/api/v2/groups/?inventory={inv['id']}&name=prod").json["results"][0]
    assert '"env": "prod"' in prod["variables"]
    assert names(admin, f"{prod['url']}children/") == {"web", "db"}
    assert names(admin, f"{source['url']}hosts/") == {"web1", "web2", "db1"}
    text = admin.get(f"{done['url']}stdout/?format=txt").data.decode()
    assert "Loaded 3 groups" in text
    assert admin.get(source["url"]).json["status"] == "successful"
    assert admin.get(inv["url"]).json["has_inventory_sources"] is True


def test_overwrite_removes_what_the_source_dropped(admin, jobs, setup):
    inv, source = make_source(admin, setup, overwrite=True, source_path="small.ini")
    (setup["folder"] / "small.ini").write_text("[web]\nweb1\nweb2\n")
    assert update(admin, source)["status"] == "successful"
    manual = admin.post(f"{inv['url']}hosts/", {"name": "manual-host"})
    assert manual.status_code == 201
    (setup["folder"] / "small.ini").write_text("[web]\nweb1\n")
    assert update(admin, source)["status"] == "successful"
    # web2 came from the source and is gone; a host added by hand is kept
    assert names(admin, f"{inv['url']}hosts/") == {"web1", "manual-host"}


def test_merge_keeps_local_hosts_and_vars(admin, jobs, setup):
    inv, source = make_source(admin, setup, source_path="merge.ini")
    (setup["folder"] / "merge.ini").write_text("[web]\nweb1 a=1\nweb2\n")
    update(admin, source)
    host = admin.get(f"/api/v2/hosts/?inventory={inv['id']}&name=web1").json["results"][0]
    admin.patch(host["url"], {"variables": '{"a": 1, "local": true}'})
    (setup["folder"] / "merge.ini").write_text("[web]\nweb1 a=2\n")
    update(admin, source)
    assert names(admin, f"{inv['url']}hosts/") == {"web1", "web2"}      # no overwrite: web2 stays
    variables = admin.get(host["url"]).json["variables"]
    assert '"local": true' in variables and '"a": 2' in variables


def test_host_filter_and_enabled_var(admin, jobs, setup):
    inv, source = make_source(admin, setup, host_filter="^web", enabled_var="state", enabled_value="up")
    update(admin, source)
    hosts = {h["name"]: h for h in admin.get(f"{inv['url']}hosts/").json["results"]}
    assert set(hosts) == {"web1", "web2"}
    assert hosts["web1"]["enabled"] is True and hosts["web2"]["enabled"] is False


def test_bad_source_fails_with_the_error(admin, jobs, setup):
    inv, source = make_source(admin, setup, source_path="missing.ini")
    done = update(admin, source)
    assert done["status"] == "error" and "missing.ini" in done["job_explanation"]
    (setup["folder"] / "broken.yml").write_text("all:\n  hosts: [unclosed\n")
    _inv, broken = make_source(admin, setup, source_path="broken.yml")
    failed = update(admin, broken)
    assert failed["status"] == "failed"
    assert admin.get(f"{inv['url']}hosts/").json["count"] == 0


@pytest.mark.parametrize("body,field", [({"source_path": "../etc/hosts"}, "source_path"),
                                        ({"source_path": "/../etc/hosts"}, "source_path"),
                                        ({"source_project": None}, "source_project")])
def test_source_validation(admin, setup, body, field):
    inv = admin.post("/api/v2/inventories/", {"name": f"v-{time.monotonic_ns()}",
                                              "organization": setup["org"]["id"]}).json
    resp = admin.post(f"{inv['url']}inventory_sources/", {"name": "s", "source": "scm",
                                                         "source_project": setup["project"]["id"],
                                                         "source_path": "hosts.ini", **body})
    assert resp.status_code == 400 and field in resp.json
    assert admin.get(f"{inv['url']}inventory_sources/").json["count"] == 0


def test_update_on_launch_runs_before_the_job(admin, jobs, setup):
    inv, source = make_source(admin, setup, update_on_launch=True, source_path="launch.ini")
    (setup["folder"] / "launch.ini").write_text("[web]\nlocalhost ansible_connection=local\n")
    jt = admin.post("/api/v2/job_templates/", {"name": f"jt-{time.monotonic_ns()}", "inventory": inv["id"],
                                               "project": setup["project"]["id"], "playbook": "site.yml"}).json
    launched = admin.post(f"{jt['url']}launch/", {})
    assert launched.status_code == 201, launched.json
    job = wait(admin, launched.json["url"])
    assert job["status"] == "successful", admin.get(f"{job['url']}stdout/").data
    updates = admin.get(f"{source['url']}inventory_updates/").json["results"]
    assert [u["launch_type"] for u in updates] == ["dependency"]
    assert updates[0]["finished"] <= job["started"]
    assert "localhost" in admin.get(f"{job['url']}stdout/?format=txt").data.decode()

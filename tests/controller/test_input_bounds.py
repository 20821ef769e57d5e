"""Bounded variables and input validation (issue 11): YAML alias bombs refused at every vars
field and harmless when already stored; SCM URLs, branches, playbooks, local paths, source
paths and host patterns that could become an option or leave their folder refused at input;
option-like prompts that reach ansible as option values never act as options."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.support.gitserver import GitServer, git
from tests.support.jobs import (
    LOCAL, launch, make_inventory, make_jt, make_org, make_project, strip_ansi, uniq, wait_job,
)

# 9 levels of 9 aliases: ~350 bytes that expand to 387,420,489 strings
BOMB = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
EXPANDS = "Variables expand beyond the allowed size"
LEGIT = "base: &base {user: deploy, port: 22}\nweb: {<<: *base, port: 80}\nservers: [*base, *base]\n"
LEGIT_VALUE = {"base": {"user": "deploy", "port": 22}, "web": {"user": "deploy", "port": 80},
               "servers": [{"user": "deploy", "port": 22}, {"user": "deploy", "port": 22}]}
PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hello\n"


@pytest.fixture(scope="module")
def data_dir(app_state) -> Path:
    return Path(app_state.settings.data_dir)


@pytest.fixture(scope="module")
def world(admin, data_dir):
    """An organization, a manual project (a playbook and an INI inventory), an inventory with
    one local host and one group, and a job template asking for everything at launch."""
    org = make_org(admin)
    project = make_project(admin, data_dir, org, {"ok.yml": PLAY, "hosts.ini": "h1\n"})
    inv = make_inventory(admin, org, ["h1"])
    group = admin.post("/api/v2/groups/", {"name": uniq("g"), "inventory": inv["id"]}).json
    jt = make_jt(admin, project, inv, "ok.yml", ask_variables_on_launch=True, ask_limit_on_launch=True,
                 ask_tags_on_launch=True, ask_skip_tags_on_launch=True, allow_simultaneous=True)
    return {"org": org, "project": project, "inv": inv, "group": group, "jt": jt,
            "host": inv["_hosts"]["h1"]}


@pytest.fixture(scope="module")
def jobs(app_state):
    yield app_state.start_jobs(workers=2)
    app_state.stop_jobs()


def count(app_state, table: str) -> int:
    return app_state.store.scalar(f'SELECT count(*) FROM "{table}"')


def timed(call):
    started = time.monotonic()
    resp = call()
    return resp, time.monotonic() - started


# -- defect 3: YAML alias bombs -------------------------------------------------------------------
CREATES = {
    "inventory": ("inventories", "variables", lambda w: ("/api/v2/inventories/",
                                                         {"name": uniq("inv"), "organization": w["org"]["id"]})),
    "host": ("hosts", "variables", lambda w: ("/api/v2/hosts/", {"name": uniq("h"), "inventory": w["inv"]["id"]})),
    "group": ("groups", "variables", lambda w: ("/api/v2/groups/", {"name": uniq("g"), "inventory": w["inv"]["id"]})),
    "job_template": ("job_templates", "extra_vars", lambda w: ("/api/v2/job_templates/", {
        "name": uniq("jt"), "project": w["project"]["id"], "inventory": w["inv"]["id"], "playbook": "ok.yml"})),
    "inventory_source": ("inventory_sources", "source_vars", lambda w: (
        f"/api/v2/inventories/{w['inv']['id']}/inventory_sources/",
        {"name": uniq("src"), "source": "scm", "source_project": w["project"]["id"], "source_path": "hosts.ini"})),
    "ad_hoc_command": ("ad_hoc_commands", "extra_vars", lambda w: ("/api/v2/ad_hoc_commands/", {
        "inventory": w["inv"]["id"], "module_name": "ping"})),
}


@pytest.mark.parametrize("kind", sorted(CREATES))
def test_alias_bomb_refused_on_create(admin, app_state, world, kind):
    table, field, build = CREATES[kind]
    url, body = build(world)
    before = count(app_state, table)
    resp, elapsed = timed(lambda: admin.post(url, {**body, field: BOMB}))
    assert resp.status_code == 400, resp.json
    assert list(resp.json) == [field] and resp.json[field][0].startswith(EXPANDS)
    assert elapsed < 1.0
    assert count(app_state, table) == before
    ok = admin.post(url, {**body, field: LEGIT})   # a few aliases are fine, and kept verbatim
    assert ok.status_code == 201, ok.json
    assert ok.json[field] == LEGIT


@pytest.mark.parametrize("path,field", [("inventories/{inv}", "variables"), ("hosts/{host}", "variables"),
                                        ("groups/{group}", "variables"), ("job_templates/{jt}", "extra_vars")])
def test_alias_bomb_refused_on_update_and_object_unchanged(admin, world, path, field):
    url = "/api/v2/" + path.format(inv=world["inv"]["id"], host=world["host"], group=world["group"]["id"],
                                   jt=world["jt"]["id"]) + "/"
    assert admin.patch(url, {field: LEGIT}).status_code == 200
    before = admin.get(url).json
    for method in (admin.patch, admin.put):
        body = {field: BOMB} if method == admin.patch else {**before, field: BOMB}
        resp, elapsed = timed(lambda: method(url, body))
        assert resp.status_code == 400 and resp.json[field][0].startswith(EXPANDS), resp.json
        assert elapsed < 1.0
    after = admin.get(url).json
    assert after[field] == LEGIT and after["modified"] == before["modified"]
    if field == "variables":
        assert admin.get(f"{url}variable_data/").json == LEGIT_VALUE


def test_alias_bomb_refused_at_launch(admin, app_state, world):
    before = count(app_state, "jobs")
    resp, elapsed = timed(lambda: admin.post(f"/api/v2/job_templates/{world['jt']['id']}/launch/",
                                             {"extra_vars": BOMB}))
    assert resp.status_code == 400 and list(resp.json) == ["extra_vars"], resp.json
    assert resp.json["extra_vars"][0].startswith(EXPANDS) and elapsed < 1.0
    assert count(app_state, "jobs") == before


@pytest.mark.parametrize("text,message", [
    ("a: &a [*a]", "Variables must not contain recursive aliases."),
    ("a: " + "[" * 70 + "]" * 70, "Variables nest deeper than 64 levels."),
    ('{"a": ' + "[" * 70 + "]" * 70 + "}", "Variables nest deeper than 64 levels."),
    ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "Variables nest deeper than 64 levels."),
])
def test_recursive_and_deep_variables_refused(admin, app_state, world, text, message):
    before = count(app_state, "hosts")
    resp = admin.post("/api/v2/hosts/", {"name": uniq("h"), "inventory": world["inv"]["id"], "variables": text})
    assert resp.status_code == 400 and resp.json == {"variables": [message]}
    assert count(app_state, "hosts") == before


def test_deep_but_bounded_variables_accepted(admin, world):
    text = "a: " + "[" * 60 + "1" + "]" * 60
    resp = admin.post("/api/v2/hosts/", {"name": uniq("h"), "inventory": world["inv"]["id"], "variables": text})
    assert resp.status_code == 201 and resp.json["variables"] == text
    value = admin.get(f"/api/v2/hosts/{resp.json['id']}/variable_data/").json["a"]
    for _ in range(59):
        value = value[0]
    assert value == [1]


def test_stored_bomb_is_refused_by_the_script_endpoint(admin, app_state, world):
    """Rows stored before the bound: the inventory script answers 400 fast, naming the object,
    instead of expanding; variable_data skips the text."""
    inv = make_inventory(admin, world["org"], ["h1", "h2"])
    group = admin.post("/api/v2/groups/", {"name": "grp", "inventory": inv["id"]}).json
    script = f"/api/v2/inventories/{inv['id']}/script/"
    for table, pk, owner in (("hosts", inv["_hosts"]["h2"], "Host h2"), ("groups", group["id"], "Group grp"),
                             ("inventories", inv["id"], f"Inventory {inv['name']}")):
        app_state.store.update(table, pk, {"variables": BOMB})
        resp, elapsed = timed(lambda: admin.get(f"{script}?hostvars=1"))
        assert resp.status_code == 400 and elapsed < 1.0
        assert resp.json["detail"].startswith(f"{owner}: {EXPANDS}")
        app_state.store.update(table, pk, {"variables": ""})
    app_state.store.update("hosts", inv["_hosts"]["h2"], {"variables": BOMB})
    assert admin.get(f"{script}?host=h2").status_code == 400
    assert admin.get(f"{script}?host=h1").json == LOCAL
    assert admin.get(f"/api/v2/hosts/{inv['_hosts']['h2']}/variable_data/").json == {}
    assert admin.get(f"/api/v2/hosts/{inv['_hosts']['h2']}/").json["variables"] == BOMB


def test_stored_bomb_fails_the_job_cleanly(admin, app_state, jobs, world, data_dir):
    inv = make_inventory(admin, world["org"], ["h1"])
    app_state.store.update("hosts", inv["_hosts"]["h1"], {"variables": BOMB})
    jt = make_jt(admin, world["project"], inv, "ok.yml")
    job = wait_job(admin, launch(admin, jt)["id"], timeout=30)
    assert job["status"] == "error" and job["failed"] is True
    assert EXPANDS in job["job_explanation"] and job["job_args"] == ""
    assert not list((data_dir / "runs").glob(f"job-{job['id']}-*"))   # nothing rendered, nothing left
    # a template whose stored extra_vars are a bomb cannot launch at all
    app_state.store.update("job_templates", jt["id"], {"extra_vars": BOMB})
    before = count(app_state, "jobs")
    resp, elapsed = timed(lambda: admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}))
    assert resp.status_code == 400 and resp.json["detail"].startswith(EXPANDS) and elapsed < 1.0
    assert count(app_state, "jobs") == before


def test_stored_bomb_in_source_vars_fails_the_update(admin, app_state, jobs, world):
    inv = make_inventory(admin, world["org"], [])
    src = admin.post(f"/api/v2/inventories/{inv['id']}/inventory_sources/", {
        "name": "src", "source": "scm", "source_project": world["project"]["id"], "source_path": "hosts.ini"}).json
    app_state.store.update("inventory_sources", src["id"], {"source_vars": BOMB})
    started = admin.post(f"{src['url']}update/").json
    deadline = time.monotonic() + 30
    while (body := admin.get(started["url"]).json)["status"] not in ("successful", "failed", "error"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert body["status"] == "error" and EXPANDS in body["job_explanation"]
    assert admin.get(f"/api/v2/inventories/{inv['id']}/hosts/").json["count"] == 0


# -- defect 13: values that reach git / ansible argv or a path ------------------------------------
@pytest.mark.parametrize("field,value,message", [
    ("scm_url", "ssh://-oProxyCommand=touch%20/tmp/pwned/repo", "Invalid SCM URL: no part of it may begin with '-'."),
    ("scm_url", "git@-oProxyCommand=x:repo.git", "Invalid SCM URL: no part of it may begin with '-'."),
    ("scm_url", "-u", "Must not begin with '-'."),
    ("scm_url", "--upload-pack=touch /tmp/pwned", "Must not begin with '-'."),
    ("scm_url", "https://example.com/repo.git\n--upload-pack=x", "Must not contain control characters or line breaks."),
    ("scm_url", "https://example.com/re\x00po.git", "Null characters are not allowed."),   # the generic check
    ("scm_branch", "--upload-pack=touch /tmp/pwned", "Must not begin with '-'."),
    ("scm_refspec", "-x", "Must not begin with '-'."),
    # stored and shown in clear otherwise: a password belongs in a credential
    ("scm_url", "https://bob:s3cret@example.com/repo.git",
     "Passwords are not allowed in the SCM URL; use a Source Control credential."),
])
def test_option_like_scm_values_refused(admin, app_state, world, field, value, message):
    body = {"name": uniq("p"), "organization": world["org"]["id"], "scm_type": "git",
            "scm_url": "https://example.com/repo.git", field: value}
    before = count(app_state, "projects"), count(app_state, "project_updates")
    resp = admin.post("/api/v2/projects/", body)
    assert resp.status_code == 400 and resp.json == {field: [message]}
    assert (count(app_state, "projects"), count(app_state, "project_updates")) == before


@pytest.mark.parametrize("local_path", ["ok\x00x", "ok\nx", "{folder}/../{folder}", "escape-link", "escape-link/sub"])
def test_local_path_escapes_refused(admin, app_state, world, data_dir, local_path):
    outside = data_dir / "outside-dir"
    (outside / "sub").mkdir(parents=True, exist_ok=True)
    link = data_dir / "projects" / "escape-link"
    if not link.is_symlink():
        link.symlink_to(outside)
    folder = Path(world["project"]["_folder"]).name
    before = count(app_state, "projects")
    resp = admin.post("/api/v2/projects/", {"name": uniq("p"), "organization": world["org"]["id"],
                                            "local_path": local_path.format(folder=folder)})
    assert resp.status_code == 400 and list(resp.json) == ["local_path"], resp.json
    assert count(app_state, "projects") == before


def test_playbook_symlinks_out_of_the_project_are_neither_listed_nor_accepted(admin, world, data_dir):
    outside = data_dir / "outside-plays"
    outside.mkdir(exist_ok=True)
    (outside / "evil.yml").write_text(PLAY)
    project = make_project(admin, data_dir, world["org"], {"ok.yml": PLAY})
    folder = Path(project["_folder"])
    (folder / "escape.yml").symlink_to(outside / "evil.yml")
    (folder / "inner.yml").symlink_to(folder / "ok.yml")
    (folder / "linkdir").symlink_to(outside)
    os.mkfifo(folder / "fifo.yml")            # reading it would block the request forever
    assert admin.get(f"{project['url']}playbooks/").json == ["inner.yml", "ok.yml"]
    assert "escape.yml" not in admin.get(f"{project['url']}inventories/").json
    jt = make_jt(admin, project, world["inv"], "ok.yml")
    for playbook, message in (("escape.yml", "Playbook not found for project."),
                              ("linkdir/evil.yml", "Playbook not found for project."),
                              ("fifo.yml", "Playbook not found for project."),
                              ("--syntax-check", "Must not begin with '-'.")):
        body = {"name": uniq("jt"), "project": project["id"], "inventory": world["inv"]["id"], "playbook": playbook}
        resp = admin.post("/api/v2/job_templates/", body)
        assert resp.status_code == 400 and resp.json == {"playbook": [message]}, playbook
        assert admin.get(f"/api/v2/job_templates/?name={body['name']}").json["count"] == 0
        assert admin.patch(jt["url"], {"playbook": playbook}).json == {"playbook": [message]}
    assert admin.get(jt["url"]).json["playbook"] == "ok.yml"


def test_source_path_escapes_refused(admin, app_state, world, data_dir):
    outside = data_dir / "outside-inv"
    outside.mkdir(exist_ok=True)
    (outside / "hosts.ini").write_text("stolen\n")
    (Path(world["project"]["_folder"]) / "escape.ini").symlink_to(outside / "hosts.ini")
    before = count(app_state, "inventory_sources")
    for path, message in (("escape.ini", "Must be a path inside the project folder."),
                          ("hosts.ini\x1b", "Must be a path relative to the project folder.")):
        resp = admin.post(f"/api/v2/inventories/{world['inv']['id']}/inventory_sources/", {
            "name": uniq("src"), "source": "scm", "source_project": world["project"]["id"], "source_path": path})
        assert resp.status_code == 400 and resp.json == {"source_path": [message]}, path
    assert count(app_state, "inventory_sources") == before


def test_ad_hoc_host_pattern_cannot_be_an_option(admin, app_state, world):
    """The ad hoc limit is ansible's positional pattern: "--x=..." there would parse as an option."""
    before = count(app_state, "ad_hoc_commands")
    for body, expected in (({"limit": "--vault-password-file=/etc/shadow"}, {"limit": ["Must not begin with '-'."]}),
                           ({"limit": "h1\nh2"}, {"limit": ["Must not contain control characters or line breaks."]}),
                           ({"module_name": "command", "module_args": "id\x00x"},
                            {"module_args": ["Null characters are not allowed."]})):
        resp = admin.post("/api/v2/ad_hoc_commands/", {"inventory": world["inv"]["id"], "module_name": "ping", **body})
        assert resp.status_code == 400 and resp.json == expected
    assert count(app_state, "ad_hoc_commands") == before


def test_option_like_prompts_never_act_as_options(admin, jobs, world, tmp_path):
    """limit / job_tags / skip_tags go to ansible-playbook as the value of their own option, in
    separate argv items: "--vault-password-file=<script>" there is a usage error, and the
    script (which ansible would run at start-up were it parsed as an option) never runs."""
    marker = tmp_path / "ran"
    script = tmp_path / "vault.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho pw\n")
    script.chmod(0o700)
    for prompt in ("limit", "job_tags", "skip_tags"):
        job = launch(admin, world["jt"], {prompt: f"--vault-password-file={script}"})
        assert job[prompt] == f"--vault-password-file={script}"
        done = wait_job(admin, job["id"])
        assert done["status"] == "failed", prompt
        args = json.loads(done["job_args"])
        assert args[args.index(f"--vault-password-file={script}") - 1].startswith("--"), args
        stdout = strip_ansi(admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode())
        assert "expected one argument" in stdout, stdout
    assert not marker.exists()


def test_git_playbook_override_stays_inside_the_checkout(admin, jobs, world, tmp_path_factory):
    """With allow_override the playbook need not be listed; it still may not leave the checkout,
    even through a symlink committed to the repository."""
    server = GitServer(tmp_path_factory.mktemp("git"))
    try:
        outside = tmp_path_factory.mktemp("outside") / "evil.yml"
        outside.write_text(PLAY)
        server.create("repo", {"site.yml": PLAY})
        clone = server.work / "repo"
        (clone / "evil.yml").symlink_to(outside)
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "-m", "link")
        git(clone, "push", "-q", "origin", "main:main")
        project = admin.post("/api/v2/projects/", {"name": uniq("git"), "organization": world["org"]["id"],
                                                   "scm_type": "git", "scm_url": server.url("repo"),
                                                   "allow_override": True}).json
        update = project["summary_fields"]["current_update"]["id"]
        deadline = time.monotonic() + 60
        while admin.get(f"/api/v2/project_updates/{update}/").json["status"] != "successful":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert admin.get(f"{project['url']}playbooks/").json == ["site.yml"]
        for playbook in ("evil.yml", "../evil.yml", "sub/../../evil.yml", str(outside)):
            resp = admin.post("/api/v2/job_templates/", {"name": uniq("jt"), "project": project["id"],
                                                         "inventory": world["inv"]["id"], "playbook": playbook})
            assert resp.json == {"playbook": ["Playbook must be a path inside the project folder."]}, playbook
        good = admin.post("/api/v2/job_templates/", {"name": uniq("jt"), "project": project["id"],
                                                     "inventory": world["inv"]["id"], "playbook": "not-yet.yml"})
        assert good.status_code == 201, good.json   # may appear on another branch
        bad_url = admin.patch(project["url"], {"scm_url": "ssh://-oProxyCommand=x/repo"})
        assert bad_url.json == {"scm_url": ["Invalid SCM URL: no part of it may begin with '-'."]}
        assert admin.get(project["url"]).json["scm_url"] == server.url("repo")
    finally:
        server.stop()


def test_user_without_password_in_the_scm_url_is_accepted(admin, world):
    resp = admin.post("/api/v2/projects/", {"name": uniq("p"), "organization": world["org"]["id"], "scm_type": "git",
                                            "scm_url": "ssh://git@example.com/repo.git"})
    assert resp.status_code == 201 and resp.json["scm_url"] == "ssh://git@example.com/repo.git"


def test_deeply_nested_host_filter_is_a_clean_400(admin, world):
    before = admin.get("/api/v2/hosts/").json["count"]
    deep = "(" * 5000 + "name=x" + ")" * 5000
    resp = admin.get("/api/v2/hosts/", query_string={"host_filter": deep})
    assert resp.status_code == 400 and "nest deeper" in str(resp.json), resp.json
    shallow = "(" * 10 + "name=x" + ")" * 10
    ok = admin.get("/api/v2/hosts/", query_string={"host_filter": shallow})
    assert ok.status_code == 200 and ok.json["count"] == 0
    assert admin.get("/api/v2/hosts/").json["count"] == before

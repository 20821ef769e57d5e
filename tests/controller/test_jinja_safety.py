"""Jinja in launch input never runs on the controller (issue 11, AWX's ALLOW_JINJA_IN_EXTRA_VARS).

Every extra var that did not come from the job template's own definition -- launch
``extra_vars`` (JSON or YAML), survey answers (password answers too), credential injector
``extra_vars``, ad hoc command ``extra_vars`` -- reaches ansible as ``!unsafe`` text: a
``lookup('pipe', ...)`` in it must not run.  Checked with real jobs whose playbook uses each
variable in ``debug`` and ``set_fact``; the marker files the lookups would create must not exist.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from controller import create_app, open_state
from controller.config import Settings
from controller.jobs.extravars import extravars_yaml
from controller.jobs.job_run import safe_vars
from controller.services.bootstrap import initialize
from tests.support.jobs import (
    attach_credential, launch, make_credential, make_inventory, make_jt, make_org, make_project, set_survey,
    strip_ansi, uniq, wait_finished, wait_job,
)

from conftest import ADMIN_PASSWORD, Client  # tests/controller/conftest.py (rootdir-less import)

VARS = ("own", "overridden", "launched", "yaml_launched", "nested", "answer", "pw", "cred_var")
PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n" + "".join(
    f"    - name: show {v}\n      debug: msg=\"{v}=={{{{ {v} | default('unset') }}}}\"\n"
    f"    - name: copy {v}\n      set_fact:\n        copy_{v}: \"{{{{ {v} | default('unset') }}}}\"\n"
    f"    - name: show copy {v}\n      debug: msg=\"copy_{v}=={{{{ copy_{v} }}}}\"\n" for v in VARS)


def lookup(marker: Path) -> str:
    """Jinja that creates ``marker`` on the controller if ansible ever renders it."""
    return "{{ lookup('pipe', 'touch " + str(marker) + "') }}"


def stdout(client, kind: str, pk: int) -> str:
    return strip_ansi(client.get(f"/api/v2/{kind}/{pk}/stdout/?format=txt").data.decode())


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


@pytest.fixture(scope="module")
def inv(admin, org):
    return make_inventory(admin, org, ["h1"])


@pytest.fixture(scope="module")
def project(admin, app_state, org):
    return make_project(admin, app_state.settings.data_dir, org, {"vars.yml": PLAY})


# -- the writer and the setting -----------------------------------------------------------------
def test_untrusted_values_are_written_unsafe_to_the_last_string():
    text = extravars_yaml({"own": "{{ 1 }}", "other": "{{ 2 }}", "deep": {"k": ["{{ 3 }}", 4, True]},
                           "changed": "{{ 5 }}"}, {"own": "{{ 1 }}", "changed": "{{ 6 }}"})
    assert "own: '{{ 1 }}'" in text
    assert "other: !unsafe '{{ 2 }}'" in text
    assert "changed: !unsafe '{{ 5 }}'" in text            # same key, another value: untrusted
    assert "!unsafe 'k':" in text and "- !unsafe '{{ 3 }}'" in text and "- 4" in text and "- true" in text
    # plain YAML for any loader that ignores the tag: the values round-trip
    loader = type("L", (yaml.SafeLoader,), {})
    loader.add_constructor("!unsafe", lambda ld, node: ld.construct_scalar(node))
    assert yaml.load(text, Loader=loader)["deep"] == {"k": ["{{ 3 }}", 4, True]}


def test_safe_vars_follow_the_setting():
    template, final = {"own": "{{ 1 }}"}, {"own": "{{ 1 }}", "launched": "{{ 2 }}"}
    assert safe_vars("template", template, final) == template
    assert safe_vars("never", template, final) == {}
    assert safe_vars("always", template, final) == final


def test_setting_defaults_to_template_and_checks_its_choices():
    assert Settings({"DATA_DIR": "/nonexistent"}, environ={}).ALLOW_JINJA_IN_EXTRA_VARS == "template"
    env = {"TURRET_ALLOW_JINJA_IN_EXTRA_VARS": "never"}
    assert Settings({"DATA_DIR": "/nonexistent"}, environ=env).ALLOW_JINJA_IN_EXTRA_VARS == "never"
    with pytest.raises(ValueError, match="never, template, always"):
        Settings({"DATA_DIR": "/nonexistent"}, environ={"TURRET_ALLOW_JINJA_IN_EXTRA_VARS": "sometimes"})


# -- real jobs (default: template) --------------------------------------------------------------
@pytest.mark.slow
def test_launch_survey_and_credential_jinja_does_not_run(admin, jobs, org, inv, project, tmp_path):
    marks = {name: tmp_path / f"pwned-{name}" for name in VARS}
    ctype = admin.post("/api/v2/credential_types/", {
        "name": uniq("jinja-type"), "kind": "cloud",
        "inputs": {"fields": [{"id": "token", "label": "Token", "type": "string", "secret": True},
                              {"id": "note", "label": "Note", "type": "string"}]},
        "injectors": {"extra_vars": {"cred_var": "{{ note }}"}}})
    assert ctype.status_code == 201, ctype.json
    cred = make_credential(admin, org, ctype.json["id"], {"token": "t", "note": lookup(marks["cred_var"])})
    jt = make_jt(admin, project, inv, "vars.yml", ask_variables_on_launch=True,
                 extra_vars=json.dumps({"own": "{{ 40 + 2 }}", "overridden": "{{ 1 + 1 }}"}))
    attach_credential(admin, jt, cred)
    set_survey(admin, jt, [
        {"type": "text", "question_name": "Answer", "question_description": "", "variable": "answer",
         "required": True, "max": 4096},
        {"type": "password", "question_name": "Pw", "question_description": "", "variable": "pw",
         "required": True, "max": 4096}])
    launched = {"overridden": lookup(marks["overridden"]), "launched": lookup(marks["launched"]),
                "nested": {"list": [lookup(marks["nested"]), {"k": lookup(marks["nested"])}]},
                "answer": lookup(marks["answer"]), "pw": lookup(marks["pw"])}
    body = launch(admin, jt, {"extra_vars": launched})
    job = wait_job(admin, body["id"])
    text = stdout(admin, "jobs", job["id"])
    assert job["status"] == "successful", text
    assert [name for name, path in marks.items() if path.exists()] == []
    # the template's own Jinja still renders; the launched text arrives as it was typed
    assert "own==42" in text and "copy_own==42" in text
    for name in ("overridden", "launched", "answer", "cred_var"):
        assert f"{name}=={lookup(marks[name])}" in text, name
        assert f"copy_{name}=={lookup(marks[name])}" in text, name
    assert lookup(marks["nested"]) in text
    assert "pw==$encrypted$" in text           # a password answer is scrubbed, and did not run either

    # YAML text as extra_vars is untrusted just the same
    body = launch(admin, jt, {"extra_vars": f"yaml_launched: \"{lookup(marks['yaml_launched'])}\"\n"
                                            f"answer: plain\npw: secret-pw\n"})
    job = wait_job(admin, body["id"])
    text = stdout(admin, "jobs", job["id"])
    assert job["status"] == "successful", text
    assert not marks["yaml_launched"].exists()
    assert f"yaml_launched=={lookup(marks['yaml_launched'])}" in text and "own==42" in text

    # a relaunch replays the launch's vars: still untrusted
    relaunched = admin.post(f"/api/v2/jobs/{body['id']}/relaunch/", {})
    assert relaunched.status_code == 201, relaunched.json
    job = wait_job(admin, relaunched.json["id"])
    assert job["status"] == "successful"
    assert not marks["yaml_launched"].exists()


def test_ad_hoc_extra_vars_are_untrusted(admin, jobs, inv, tmp_path):
    mark = tmp_path / "pwned-adhoc"
    resp = admin.post("/api/v2/ad_hoc_commands/", {
        "inventory": inv["id"], "module_name": "debug", "module_args": "msg=adhoc=={{ adhoc_var }}",
        "extra_vars": json.dumps({"adhoc_var": lookup(mark)})})
    assert resp.status_code == 201, resp.json
    row = wait_finished(admin, f"/api/v2/ad_hoc_commands/{resp.json['id']}/")
    text = stdout(admin, "ad_hoc_commands", row["id"])
    assert row["status"] == "successful", text
    assert not mark.exists()
    assert f"adhoc=={lookup(mark)}" in text


# -- the other two settings ---------------------------------------------------------------------
@pytest.fixture(params=["never", "always"])
def moded(request, tmp_path_factory):
    """(mode, admin client) of a controller whose ALLOW_JINJA_IN_EXTRA_VARS is ``mode``."""
    data = tmp_path_factory.mktemp(f"jinja-{request.param}")
    state = open_state(Settings({"DATA_DIR": str(data), "ALLOW_JINJA_IN_EXTRA_VARS": request.param}, environ={}))
    initialize(state, ADMIN_PASSWORD, demo=False)
    state.start_jobs(workers=1)
    yield request.param, Client(create_app(state=state), "admin", ADMIN_PASSWORD), data
    state.stop_jobs()
    state.store.close()


@pytest.mark.slow
def test_never_and_always(moded, tmp_path):
    mode, client, data = moded
    org = make_org(client)
    inv = make_inventory(client, org, ["h1"])
    project = make_project(client, data, org, {"vars.yml": PLAY})
    jt = make_jt(client, project, inv, "vars.yml", ask_variables_on_launch=True,
                 extra_vars=json.dumps({"own": "{{ 40 + 2 }}"}))
    job = wait_job(client, launch(client, jt, {"extra_vars": {"launched": "{{ 20 + 1 }}"}})["id"])
    text = stdout(client, "jobs", job["id"])
    assert job["status"] == "successful", text
    if mode == "never":      # not even the template's own vars render
        assert "own=={{ 40 + 2 }}" in text and "launched=={{ 20 + 1 }}" in text
    else:                    # everything renders, launch input included
        assert "own==42" in text and "launched==21" in text
    mark = tmp_path / "pwned-adhoc"
    resp = client.post("/api/v2/ad_hoc_commands/", {
        "inventory": inv["id"], "module_name": "debug", "module_args": "msg=adhoc=={{ adhoc_var }}",
        "extra_vars": json.dumps({"adhoc_var": "{{ 3 * 3 }}"})})
    assert resp.status_code == 201, resp.json
    row = wait_finished(client, f"/api/v2/ad_hoc_commands/{resp.json['id']}/")
    text = stdout(client, "ad_hoc_commands", row["id"])
    assert row["status"] == "successful", text
    assert ("adhoc==9" if mode == "always" else "adhoc=={{ 3 * 3 }}") in text
    assert not mark.exists()

"""Launching job templates (AWX §6.12): the GET summary, the POST prompt rules (accepted /
ignored), surveys, credential passwords, permissions, and that accepted prompts really reach
the run.  Jobs run for real (ansible-runner against local-connection hosts)."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.support.jobs import (
    all_pages, attach_credential, files_containing, launch, make_credential, make_inventory, make_jt, make_org,
    make_project, set_survey, type_id, wait_job,
)

ECHO = """- hosts: all
  gather_facts: false
  tasks:
    - name: show
      debug:
        msg: "who={{ who | default('nobody') }} n={{ n | default('-') }} size={{ size | default('-') }} secret={{ secret | default('none') }}"
      tags: [t1]
    - name: other
      debug: msg=other-task
      tags: [t2]
"""
ASK_FLAGS = ("ask_scm_branch_on_launch", "ask_variables_on_launch", "ask_tags_on_launch", "ask_diff_mode_on_launch",
             "ask_skip_tags_on_launch", "ask_job_type_on_launch", "ask_limit_on_launch", "ask_verbosity_on_launch",
             "ask_inventory_on_launch", "ask_credential_on_launch", "ask_execution_environment_on_launch",
             "ask_labels_on_launch", "ask_forks_on_launch", "ask_job_slice_count_on_launch",
             "ask_timeout_on_launch", "ask_instance_groups_on_launch")
LAUNCH_KEYS = {"can_start_without_user_input", "passwords_needed_to_start", *ASK_FLAGS, "survey_enabled",
               "variables_needed_to_start", "credential_needed_to_start", "inventory_needed_to_start",
               "job_template_data", "defaults"}
SURVEY = [
    {"type": "text", "question_name": "Colour", "question_description": "", "variable": "who", "required": True},
    {"type": "integer", "question_name": "N", "question_description": "", "variable": "n", "required": False,
     "min": 1, "max": 5, "default": 3},
    {"type": "multiplechoice", "question_name": "Size", "question_description": "", "variable": "size",
     "required": False, "choices": ["S", "M"], "default": "S"},
    {"type": "text", "question_name": "Nick", "question_description": "", "variable": "nick", "required": False,
     "min": 2, "max": 4},
    {"type": "float", "question_name": "Ratio", "question_description": "", "variable": "ratio",
     "required": False},
    {"type": "password", "question_name": "Secret", "question_description": "", "variable": "secret",
     "required": False},
]


JOB_WORKERS = 4   # the module's dispatcher (conftest ``jobs``)


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


@pytest.fixture(scope="module")
def project(admin, app_state, org):
    return make_project(admin, app_state.settings.data_dir, org, {"echo.yml": ECHO})


@pytest.fixture(scope="module")
def inv(admin, org):
    return make_inventory(admin, org, ["h1"])


@pytest.fixture(scope="module")
def inv2(admin, org):
    return make_inventory(admin, org, ["h9", "h10"])


@pytest.fixture(scope="module")
def jt_factory(admin, project, inv):
    def make(inventory=inv, **fields):
        return make_jt(admin, project, inventory, "echo.yml", **fields)
    return make


def job_count(admin, jt: dict) -> int:
    return admin.get(f"/api/v2/job_templates/{jt['id']}/jobs/").json["count"]


def stdout(admin, job_id: int) -> str:
    return admin.get(f"/api/v2/jobs/{job_id}/stdout/?format=txt_download").data.decode()


def parsed_vars(job: dict) -> dict:
    return json.loads(job["extra_vars"]) if job["extra_vars"] else {}


def role_id(obj: dict, role: str) -> int:
    return obj["summary_fields"]["object_roles"][role]["id"]


# -- GET launch ----------------------------------------------------------------------------------
def test_get_launch_of_a_template_that_needs_nothing(admin, org, jt_factory, inv):
    machine = make_credential(admin, org, type_id(admin, "ssh"), {"username": "deployer"})
    jt = jt_factory(extra_vars="foo: 1\nbar: [a, b]\n", limit="h1", job_tags="t1", forks=3, timeout=7,
                    description="the jt")
    attach_credential(admin, jt, machine)
    resp = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/")
    assert resp.status_code == 200
    body = resp.json
    assert set(body) == LAUNCH_KEYS
    assert body["can_start_without_user_input"] is True
    assert all(body[flag] is False for flag in ASK_FLAGS)
    assert body["passwords_needed_to_start"] == [] and body["variables_needed_to_start"] == []
    assert body["credential_needed_to_start"] is False and body["inventory_needed_to_start"] is False
    assert body["survey_enabled"] is False
    assert body["job_template_data"] == {"name": jt["name"], "id": jt["id"], "description": "the jt"}
    defaults = body["defaults"]
    assert defaults["extra_vars"] == admin.get(jt["url"]).json["extra_vars"]
    assert yaml.safe_load(defaults["extra_vars"]) == {"foo": 1, "bar": ["a", "b"]}
    expected = {"diff_mode": False, "limit": "h1", "job_tags": "t1", "skip_tags": "", "job_type": "run",
                "verbosity": 0, "inventory": {"name": inv["name"], "id": inv["id"]}, "scm_branch": "",
                "execution_environment": {}, "forks": 3, "job_slice_count": 1, "timeout": 7,
                "instance_groups": []}
    for key, value in expected.items():
        assert defaults[key] == value, key
    assert defaults["credentials"] == [{"id": machine["id"], "name": machine["name"],
                                        "credential_type": machine["credential_type"], "passwords_needed": []}]
    assert "labels" not in defaults            # only when the template has labels


@pytest.mark.parametrize("flag", ASK_FLAGS)
def test_get_launch_reports_each_ask_flag(admin, app_state, org, project, jt_factory, flag):
    if flag == "ask_scm_branch_on_launch":
        # only a project that allows overriding the branch may prompt for one
        assert admin.patch(project["url"], {"allow_override": True}).status_code == 200
    jt = jt_factory(**{flag: True})
    body = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json
    assert body[flag] is True
    assert [f for f in ASK_FLAGS if body[f]] == [flag]
    assert body["can_start_without_user_input"] is False   # any prompt means user input


def test_get_launch_with_a_survey(admin, jt_factory):
    jt = jt_factory()
    set_survey(admin, jt, SURVEY)
    body = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json
    assert body["survey_enabled"] is True
    assert body["variables_needed_to_start"] == ["who"]
    assert body["can_start_without_user_input"] is False
    # a disabled survey asks nothing
    assert admin.patch(jt["url"], {"survey_enabled": False}).status_code == 200
    body = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json
    assert body["survey_enabled"] is False and body["variables_needed_to_start"] == []
    assert body["can_start_without_user_input"] is True


def test_template_without_inventory_needs_one(admin, jobs, jt_factory, inv):
    jt = jt_factory(inventory=None, ask_inventory_on_launch=True)
    body = admin.get(f"/api/v2/job_templates/{jt['id']}/launch/").json
    assert body["inventory_needed_to_start"] is True and body["can_start_without_user_input"] is False
    # AWX's get_defaults: the inventory named even when unset; no credentials key when it has none
    assert body["defaults"]["inventory"] == {"name": None, "id": None} and "credentials" not in body["defaults"]
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {})
    assert resp.status_code == 400
    assert resp.json == {"resources_needed_to_start": ["Job Template inventory is missing or undefined."]}
    assert job_count(admin, jt) == 0
    created = launch(admin, jt, {"inventory": inv["id"]})
    assert created["inventory"] == inv["id"] and created["ignored_fields"] == {}
    job = wait_job(admin, created["id"])
    assert job["status"] == "successful", stdout(admin, job["id"])


# -- POST launch ---------------------------------------------------------------------------------
def test_launch_answers_201_with_the_job(admin, jobs, jt_factory, inv):
    jt = jt_factory()
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {})
    assert resp.status_code == 201, resp.json
    body = resp.json
    job_id = body["job"]
    assert body["id"] == job_id and body["type"] == "job"
    assert body["url"] == f"/api/v2/jobs/{job_id}/"
    assert resp.headers["Location"].endswith(f"/api/v2/jobs/{job_id}/")
    assert body["ignored_fields"] == {}
    assert list(body)[:2] == ["job", "ignored_fields"]
    assert body["status"] in ("pending", "waiting", "running")
    assert body["launch_type"] == "manual" and body["job_template"] == jt["id"]
    assert body["name"] == jt["name"] and body["inventory"] == inv["id"] and body["playbook"] == "echo.yml"
    assert body["launched_by"]["name"] == "admin"
    assert body["passwords_needed_to_start"] == [] and body["event_processing_finished"] is False
    for key in ("job_args", "job_env", "event_processing_finished"):
        assert key in body, key
    for rel in ("job_events", "stdout", "cancel", "relaunch", "job_template", "inventory", "project"):
        assert rel in body["related"], rel
    assert body["related"]["job_events"] == f"/api/v2/jobs/{job_id}/job_events/"
    job = wait_job(admin, job_id)
    assert job["status"] == "successful" and job["failed"] is False
    assert job["started"] and job["finished"] and job["elapsed"] > 0
    assert "who=nobody" in stdout(admin, job_id)
    # the plain JobSerializer: the detail-only aggregates are not in the launch answer
    assert "host_status_counts" not in body and "playbook_counts" not in body


def test_prompts_the_template_does_not_ask_for_are_ignored(admin, jobs, jt_factory, inv, inv2):
    jt = jt_factory(limit="h1")
    before = job_count(admin, jt)
    body = launch(admin, jt, {"limit": "h9", "inventory": inv2["id"], "extra_vars": {"who": "intruder"},
                              "job_tags": "t2", "verbosity": 3})
    assert body["ignored_fields"] == {"limit": "h9", "inventory": inv2["id"], "extra_vars": {"who": "intruder"},
                                      "job_tags": "t2", "verbosity": 3}
    assert job_count(admin, jt) == before + 1
    assert body["limit"] == "h1" and body["inventory"] == inv["id"] and body["job_tags"] == ""
    assert body["verbosity"] == 0 and "who" not in parsed_vars(body)
    job = wait_job(admin, body["id"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful", text
    assert "who=nobody" in text and "intruder" not in text and "[h9]" not in text
    # a value equal to the template's is neither accepted nor ignored
    same = launch(admin, jt, {"limit": "h1"})
    assert same["ignored_fields"] == {} and same["limit"] == "h1"
    wait_job(admin, same["id"])


def test_accepted_prompts_reach_the_job_and_the_run(admin, jobs, jt_factory, inv2):
    jt = jt_factory(ask_limit_on_launch=True, ask_tags_on_launch=True, ask_skip_tags_on_launch=True,
                    ask_verbosity_on_launch=True, ask_inventory_on_launch=True, ask_variables_on_launch=True)
    body = launch(admin, jt, {"limit": "h9", "job_tags": "t1", "skip_tags": "t2", "verbosity": 1,
                              "inventory": inv2["id"], "extra_vars": {"who": "prompted"}})
    assert body["ignored_fields"] == {}
    assert (body["limit"], body["job_tags"], body["skip_tags"], body["verbosity"], body["inventory"]) == \
        ("h9", "t1", "t2", 1, inv2["id"])
    assert parsed_vars(body) == {"who": "prompted"}
    job = wait_job(admin, body["id"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful", text
    args = json.loads(job["job_args"])
    assert args[args.index("--limit") + 1] == "h9"
    assert "-v" in args
    assert "t1" in args and "t2" in args
    assert "who=prompted" in text and "ok: [h9]" in text and "h10" not in text
    assert "TASK [show]" in text and "TASK [other]" not in text
    hosts = [s["host_name"] for s in admin.get(f"/api/v2/jobs/{job['id']}/job_host_summaries/").json["results"]]
    assert hosts == ["h9"]


@pytest.mark.parametrize("given", [
    {"who": "alice", "n": 2},
    json.dumps({"who": "alice", "n": 2}),
    "---\nwho: alice\nn: 2\n",
], ids=["dict", "json-string", "yaml-string"])
def test_extra_vars_as_dict_json_or_yaml(admin, jobs, jt_factory, given):
    jt = jt_factory(ask_variables_on_launch=True)
    body = launch(admin, jt, {"extra_vars": given})
    assert body["ignored_fields"] == {}
    assert parsed_vars(body) == {"who": "alice", "n": 2}
    job = wait_job(admin, body["id"])
    assert parsed_vars(job) == {"who": "alice", "n": 2}
    assert "who=alice n=2" in stdout(admin, job["id"])


def test_null_prompt_is_rejected(admin, jt_factory):
    jt = jt_factory(ask_limit_on_launch=True)
    resp = admin.post(f"/api/v2/job_templates/{jt['id']}/launch/", {"limit": None})
    assert resp.status_code == 400 and resp.json == {"limit": ["This field may not be null."]}
    assert job_count(admin, jt) == 0


# -- surveys -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def survey_jt(admin, jt_factory):
    jt = jt_factory()
    set_survey(admin, jt, SURVEY)
    return jt


@pytest.mark.parametrize("answers, errors", [
    ({}, ["'who' value missing"]),
    ({"who": "x", "n": 9}, ["'n' value 9 is too large (must be no more than 5)."]),
    ({"who": "x", "n": 0}, ["'n' value 0 is too small (must be at least 1)."]),
    ({"who": "x", "size": "XL"}, ["Value XL for 'size' expected to be one of ['S', 'M']."]),
    ({"who": "x", "n": "abc"}, ["Value abc for 'n' expected to be an integer."]),
    ({"who": 5}, ["Value 5 for 'who' expected to be a string."]),
    ({"who": "x", "nick": "a"}, ["'nick' value a is too small (length is 1 must be at least 2)."]),
    ({"who": "x", "nick": "abcdef"}, ["'nick' value abcdef is too large (must be no more than 4)."]),
    ({"who": "x", "ratio": "x"}, ["Value x for 'ratio' expected to be a numeric type."]),
    ({"n": 9}, ["'who' value missing", "'n' value 9 is too large (must be no more than 5)."]),
], ids=["missing", "too-large", "too-small", "not-a-choice", "not-int", "not-str", "too-short", "too-long",
        "not-float", "two-errors"])
def test_survey_answers_are_validated(admin, survey_jt, answers, errors):
    before = job_count(admin, survey_jt)
    resp = admin.post(f"/api/v2/job_templates/{survey_jt['id']}/launch/", {"extra_vars": answers})
    assert resp.status_code == 400
    assert resp.json == {"variables_needed_to_start": errors}
    assert job_count(admin, survey_jt) == before


def test_survey_defaults_fill_in_and_other_vars_are_ignored(admin, jobs, survey_jt):
    body = launch(admin, survey_jt, {"extra_vars": {"who": "red", "unasked": 1}})
    assert body["ignored_fields"] == {"extra_vars": {"unasked": 1}}
    assert parsed_vars(body) == {"who": "red", "n": 3, "size": "S"}
    job = wait_job(admin, body["id"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful", text
    assert "who=red n=3 size=S secret=none" in text


def test_survey_password_is_never_stored_in_clear(admin, app_state, jobs, survey_jt):
    secret = "survey-pw-5c1d0e77"
    body = launch(admin, survey_jt, {"extra_vars": {"who": "pw", "secret": secret}})
    assert parsed_vars(body)["secret"] == "$encrypted$"
    assert secret not in json.dumps(body)
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful", stdout(admin, job["id"])
    assert parsed_vars(admin.get(job["url"]).json)["secret"] == "$encrypted$"
    text = stdout(admin, job["id"])
    assert "who=pw" in text and "secret=$encrypted$" in text and secret not in text
    raw = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=ansi_download").data.decode()
    assert secret not in raw
    events = all_pages(admin, f"/api/v2/jobs/{job['id']}/job_events/?no_truncate=True")
    assert events and secret not in json.dumps(events)
    # nothing on disk holds it: the database, its -wal/-shm, what a run left behind
    data_dir = app_state.settings.data_dir
    assert any(p.endswith(("turret.sqlite3", "-wal")) for p in files_containing(data_dir, survey_jt["name"].encode()))
    assert files_containing(data_dir, secret.encode()) == []


# -- credentials ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ask_jt(admin, org, jt_factory):
    machine = make_credential(admin, org, type_id(admin, "ssh"), {"username": "deployer", "password": "ASK"})
    jt = jt_factory()
    attach_credential(admin, jt, machine)
    jt["_cred"] = machine
    return jt


def test_ask_password_must_be_given_at_launch(admin, jobs, ask_jt):
    info = admin.get(f"/api/v2/job_templates/{ask_jt['id']}/launch/").json
    assert info["passwords_needed_to_start"] == ["ssh_password"]
    assert info["can_start_without_user_input"] is False
    assert info["defaults"]["credentials"][0]["passwords_needed"] == ["ssh_password"]
    before = job_count(admin, ask_jt)
    resp = admin.post(f"/api/v2/job_templates/{ask_jt['id']}/launch/", {})
    assert resp.status_code == 400 and resp.json == {"passwords_needed_to_start": ["ssh_password"]}
    resp = admin.post(f"/api/v2/job_templates/{ask_jt['id']}/launch/", {"credential_passwords": {}})
    assert resp.status_code == 400 and resp.json == {"passwords_needed_to_start": ["ssh_password"]}
    assert job_count(admin, ask_jt) == before
    password = "ssh-pw-77ab31"
    body = launch(admin, ask_jt, {"credential_passwords": {"ssh_password": password}})
    assert password not in json.dumps(body)
    job = wait_job(admin, body["id"])
    text = stdout(admin, job["id"])
    assert job["status"] == "successful", text
    args = json.loads(job["job_args"])
    assert "--ask-pass" in args and args[args.index("-u") + 1] == "deployer"
    assert password not in job["job_args"] and password not in json.dumps(job["job_env"])
    # the run's output is intact: the literal "ASK" placeholder is not a secret to scrub
    assert "TASK [show]" in text and "$encrypted$" not in text


def test_ask_password_given_the_legacy_way_at_top_level(admin, jobs, ask_jt):
    body = launch(admin, ask_jt, {"ssh_password": "ssh-pw-legacy"})
    job = wait_job(admin, body["id"])
    assert job["status"] == "successful", stdout(admin, job["id"])


def test_credential_prompt_rules(admin, jobs, org, jt_factory):
    ssh = type_id(admin, "ssh")
    first = make_credential(admin, org, ssh, {"username": "one"})
    second = make_credential(admin, org, ssh, {"username": "two"})
    jt = jt_factory(ask_credential_on_launch=True)
    attach_credential(admin, jt, first)
    url = f"/api/v2/job_templates/{jt['id']}/launch/"
    removed = admin.post(url, {"credentials": []})
    assert removed.status_code == 400 and list(removed.json) == ["credentials"]
    resp = admin.post(url, {"credentials": [first["id"], second["id"]]})
    assert resp.status_code == 400 and resp.json == {"credentials": ["Cannot assign multiple Machine credentials."]}
    assert job_count(admin, jt) == 0
    body = launch(admin, jt, {"credentials": [second["id"]]})
    assert [c["id"] for c in body["summary_fields"]["credentials"]] == [second["id"]]
    job = wait_job(admin, body["id"])
    args = json.loads(job["job_args"])
    assert args[args.index("-u") + 1] == "two"
    # AWX names the credential type first, then the credentials the list lacked
    message = removed.json["credentials"][0]
    assert message.startswith("Removing Machine credential at launch time without replacement is not supported. "
                              "Provided list lacked credential(s): ")
    assert first["name"] in message


# -- permissions ---------------------------------------------------------------------------------
def test_read_only_user_cannot_launch_and_executor_can(admin, jobs, make_user, jt_factory, inv2):
    jt = jt_factory(ask_inventory_on_launch=True)
    uid, user = make_user()
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id(jt, "read_role")}).status_code == 204
    assert user.get(jt["url"]).status_code == 200
    url = f"/api/v2/job_templates/{jt['id']}/launch/"
    assert user.get(url).status_code == 403
    resp = user.post(url, {})
    assert resp.status_code == 403 and resp.json == {"detail": "You do not have permission to perform this action."}
    assert job_count(admin, jt) == 0
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id(jt, "execute_role")}).status_code == 204
    assert user.get(url).status_code == 200
    # prompting for an inventory the user may not use is refused
    resp = user.post(url, {"inventory": inv2["id"]})
    assert resp.status_code == 403
    assert job_count(admin, jt) == 0
    resp = user.post(url, {})
    assert resp.status_code == 201, resp.json
    assert resp.json["launched_by"]["id"] == uid
    assert job_count(admin, jt) == 1
    assert user.get(resp.json["url"]).status_code == 200
    job = wait_job(admin, resp.json["id"])
    assert job["status"] == "successful", stdout(admin, job["id"])


def test_credential_summaries_name_the_type_namespace_as_awx_does(admin, org, jt_factory):
    """AWX's ``Credential.kind`` is the type's namespace: a job and its template summarize an
    AWS credential as kind "aws" (and cloud true), ordered by name."""
    aws = make_credential(admin, org, type_id(admin, "aws"), {"username": "AKIA-x", "password": "s3cr3t-aws"})
    machine = make_credential(admin, org, type_id(admin, "ssh"), {"username": "root"})
    jt = jt_factory(ask_credential_on_launch=True)
    for cred in (aws, machine):
        attach_credential(admin, jt, cred)
    expected = sorted([{"id": aws["id"], "name": aws["name"], "kind": "aws", "cloud": True},
                       {"id": machine["id"], "name": machine["name"], "kind": "ssh", "cloud": False}],
                      key=lambda c: (c["name"], c["id"]))

    def summary(obj: dict) -> list[dict]:
        return [{k: c[k] for k in ("id", "name", "kind", "cloud")} for c in obj["summary_fields"]["credentials"]]

    assert summary(admin.get(f"/api/v2/job_templates/{jt['id']}/").json) == expected
    job = launch(admin, jt)
    assert summary(admin.get(f"/api/v2/jobs/{job['id']}/").json) == expected

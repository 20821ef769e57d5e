"""Job templates, their credentials, labels, survey spec and copy, through the API (AWX §6.11, §7.4).

Behaviour and state: every test checks what the API answers and what was (or was not) stored.
"""
from __future__ import annotations

import json

import pytest

from controller.resources.credentials import seed_managed_types
from controller.services import surveys

from conftest import unique  # tests/controller/conftest.py (rootdir-less import)

JT = "/api/v2/job_templates/"
PROMPT = "You must either set a default value or ask to prompt on launch."
DUPLICATE = {"__all__": ["JobTemplate with this (name, organization) combination already exists."]}
PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"


@pytest.fixture(scope="module", autouse=True)
def managed_types(app_state):
    seed_managed_types(app_state)


@pytest.fixture(scope="module")
def org(make_org) -> dict:
    return make_org()


@pytest.fixture(scope="module")
def make_project(admin, app_state, org):
    """make_project(playbooks=..., organization=...) -> a manual project whose folder holds them."""
    def make(playbooks=("site.yml",), organization=None, **fields) -> dict:
        name = unique("folder")
        folder = app_state.settings.data_dir / "projects" / name
        for book in playbooks:
            (folder / book).parent.mkdir(parents=True, exist_ok=True)
            (folder / book).write_text(PLAY)
        folder.mkdir(parents=True, exist_ok=True)
        body = {"name": unique("project"), "local_path": name,
                "organization": (organization or org)["id"], **fields}
        resp = admin.post("/api/v2/projects/", body)
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


@pytest.fixture(scope="module")
def make_inventory(admin, org):
    def make(organization=None) -> dict:
        resp = admin.post("/api/v2/inventories/", {"name": unique("inv"), "organization": (organization or org)["id"]})
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


@pytest.fixture(scope="module")
def project(make_project) -> dict:
    return make_project(playbooks=("site.yml", "deploy/app.yml"))


@pytest.fixture(scope="module")
def inventory(make_inventory) -> dict:
    return make_inventory()


@pytest.fixture(scope="module")
def make_jt(admin, project, inventory):
    def make(client=None, **fields) -> dict:
        body = {"name": unique("jt"), "project": project["id"], "inventory": inventory["id"],
                "playbook": "site.yml", **fields}
        resp = (client or admin).post(JT, body)
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


def type_id(admin, namespace: str) -> int:
    found = admin.get(f"/api/v2/credential_types/?namespace={namespace}").json
    assert found["count"] == 1, found
    return found["results"][0]["id"]


@pytest.fixture(scope="module")
def make_cred(admin, org):
    def make(namespace: str = "ssh", inputs: dict | None = None, **fields) -> dict:
        body = {"name": unique(f"cred-{namespace}"), "credential_type": type_id(admin, namespace),
                "organization": org["id"], "inputs": inputs or {}, **fields}
        resp = admin.post("/api/v2/credentials/", body)
        assert resp.status_code == 201, resp.json
        return resp.json
    return make


def role_of(obj: dict, role: str) -> int:
    return obj["summary_fields"]["object_roles"][role]["id"]


def grant(admin, uid: int, role_id: int) -> None:
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": role_id}).status_code == 204


def git_project(app_state, org: dict, playbook_files: list[str], allow_override: bool = False) -> int:
    """A git project as a successful update leaves it (no update job is run)."""
    return app_state.store.insert("projects", {
        "name": unique("git"), "description": "", "scm_type": "git", "scm_url": "https://example.invalid/r.git",
        "organization": org["id"], "allow_override": allow_override, "playbook_files": playbook_files,
        "local_path": unique("_git")})


# -- shape and defaults ------------------------------------------------------------------------
AWX_DEFAULTS = {
    "description": "", "job_type": "run", "scm_branch": "", "forks": 0, "limit": "", "verbosity": 0,
    "extra_vars": "", "job_tags": "", "force_handlers": False, "skip_tags": "", "start_at_task": "", "timeout": 0,
    "use_fact_cache": False, "last_job_run": None, "last_job_failed": False, "next_job_run": None,
    "status": "never updated", "execution_environment": None, "host_config_key": "", "survey_enabled": False,
    "become_enabled": False, "diff_mode": False, "allow_simultaneous": False, "custom_virtualenv": None,
    "job_slice_count": 1, "webhook_service": "", "webhook_credential": None,
    "prevent_instance_group_fallback": False,
    **{f"ask_{n}_on_launch": False for n in (
        "scm_branch", "diff_mode", "variables", "limit", "tags", "skip_tags", "job_type", "verbosity", "inventory",
        "credential", "execution_environment", "labels", "forks", "job_slice_count", "timeout", "instance_groups")},
}


def test_create_has_awx_defaults_and_shape(admin, make_jt, project, inventory, org):
    obj = make_jt()
    for key, value in AWX_DEFAULTS.items():
        assert obj[key] == value, key
    assert obj["project"] == project["id"] and obj["inventory"] == inventory["id"]
    assert obj["organization"] == org["id"] and obj["playbook"] == "site.yml"
    assert "survey_spec" not in obj and "credential" not in obj
    assert list(obj)[:9] == ["id", "type", "url", "related", "summary_fields", "created", "modified", "name",
                             "description"]
    assert list(obj).index("organization") < list(obj).index("last_job_run") < list(obj).index("host_config_key")
    pk = obj["id"]
    related = obj["related"]
    for sub in ("credentials", "labels", "survey_spec", "copy", "object_roles", "access_list", "activity_stream"):
        assert related[sub] == f"/api/v2/job_templates/{pk}/{sub}/"
    assert related["project"] == f"/api/v2/projects/{project['id']}/"
    assert related["inventory"] == f"/api/v2/inventories/{inventory['id']}/"
    assert related["organization"] == f"/api/v2/organizations/{org['id']}/"
    assert related["named_url"] == f"/api/v2/job_templates/{obj['name']}++{org['name']}/"
    summary = obj["summary_fields"]
    assert summary["organization"] == {"id": org["id"], "name": org["name"], "description": ""}
    assert summary["project"]["id"] == project["id"] and summary["inventory"]["id"] == inventory["id"]
    assert summary["inventory"]["total_hosts"] == 0
    assert set(summary["object_roles"]) == {"admin_role", "execute_role", "read_role"}
    assert summary["object_roles"]["execute_role"]["description"] == "May run the job template"
    assert summary["user_capabilities"] == {"edit": True, "delete": True, "start": True, "schedule": True,
                                            "copy": True}
    assert summary["labels"] == {"count": 0, "results": []}
    assert summary["credentials"] == [] and summary["recent_jobs"] == []
    assert "survey" not in summary
    # the list has the same fields (the collection reads ask_* and survey_enabled from it), no named_url
    listed = admin.get(f"{JT}?id={pk}").json["results"][0]
    assert "named_url" not in listed["related"]
    assert {k: listed[k] for k in AWX_DEFAULTS} == {k: obj[k] for k in AWX_DEFAULTS}


def test_playbook_in_a_subfolder_and_ask_inventory(admin, make_jt):
    obj = make_jt(inventory=None, ask_inventory_on_launch=True, playbook="deploy/app.yml")
    assert obj["inventory"] is None and obj["ask_inventory_on_launch"] is True
    assert obj["playbook"] == "deploy/app.yml"
    assert "inventory" not in obj["related"] and "inventory" not in obj["summary_fields"]


def test_awx_collection_create_sequence(admin, project, inventory, org):
    """The awx.awx module: POST without organization, then PATCH with it and extra_vars as JSON text."""
    name = unique("jt")
    created = admin.post(JT, {"name": name, "playbook": "site.yml", "inventory": inventory["id"],
                              "project": project["id"]})
    assert created.status_code == 201, created.json
    found = admin.get(f"{JT}?organization={org['id']}&name={name}").json
    assert found["count"] == 1
    resp = admin.patch(created.json["url"], {"organization": org["id"], "name": name, "playbook": "site.yml",
                                             "ask_variables_on_launch": True, "extra_vars": "{\"a\": 1}",
                                             "inventory": inventory["id"], "project": project["id"]})
    assert resp.status_code == 200, resp.json
    assert resp.json["extra_vars"] == "{\"a\": 1}" and resp.json["ask_variables_on_launch"] is True


# -- organization ------------------------------------------------------------------------------
def test_organization_is_copied_from_the_project_and_read_only(admin, make_org, make_project, make_jt, make_user,
                                                               app_state, org):
    other = make_org()
    obj = make_jt(organization=other["id"])              # read-only: ignored
    assert obj["organization"] == org["id"]
    resp = admin.patch(obj["url"], {"organization": other["id"]})
    assert resp.status_code == 200 and resp.json["organization"] == org["id"]
    assert app_state.store.get("job_templates", obj["id"])["organization"] == org["id"]
    # moving to a project of another organization moves the template, and its role ancestry
    uid, jt_admin = make_user()
    grant(admin, uid, role_of(other, "job_template_admin_role"))
    assert jt_admin.get(obj["url"]).status_code == 403
    moved = admin.patch(obj["url"], {"project": make_project(organization=other)["id"]})
    assert moved.status_code == 200, moved.json
    assert moved.json["organization"] == other["id"]
    assert moved.json["summary_fields"]["organization"]["name"] == other["name"]
    assert jt_admin.get(obj["url"]).status_code == 200
    assert jt_admin.patch(obj["url"], {"description": "mine"}).status_code == 200


def test_options_post_section(admin):
    meta = admin.options(JT).json
    post, get = meta["actions"]["POST"], meta["actions"]["GET"]
    for name in ("name", "project", "playbook", "inventory", "extra_vars", "verbosity", "job_type"):
        assert name in post, name
    assert post["name"]["required"] is True
    assert post["project"]["type"] == "id" and post["inventory"]["type"] == "id"
    assert post["extra_vars"]["type"] == "json" and post["extra_vars"]["default"] == ""
    assert post["playbook"]["type"] == "string" and post["playbook"]["max_length"] == 1024
    assert post["verbosity"]["choices"][0] == [0, "0 (Normal)"] and post["verbosity"]["default"] == 0
    assert post["job_type"]["choices"] == [["run", "Run"], ["check", "Check"]]
    assert [c[0] for c in post["webhook_service"]["choices"]] == ["", "github", "gitlab", "bitbucket_dc"]
    assert post["forks"]["min_value"] == 0 and post["job_slice_count"]["default"] == 1
    for absent in ("credential", "credentials", "organization", "survey_spec", "status", "last_job_run"):
        assert absent not in post, absent
    assert get["organization"]["type"] == "id" and "never updated" in [c[0] for c in get["status"]["choices"]]
    assert meta["object_roles"] == ["admin_role", "execute_role", "read_role"]
    assert meta["search_fields"] == ["name", "description"]
    assert {"credentials__search", "labels__search", "project__search"} <= set(meta["related_search_fields"])


# -- validation --------------------------------------------------------------------------------
def _error(admin, body: dict, url: str = JT, method: str = "POST"):
    before = admin.get(f"{JT}?page_size=1").json["count"]
    resp = admin.request(method, url, json=body)
    assert resp.status_code == 400, resp.json
    if method == "POST":
        assert admin.get(f"{JT}?page_size=1").json["count"] == before
    return resp.json


def test_validation_messages_in_awx_order(admin, project, inventory):
    base = {"name": unique("jt"), "project": project["id"], "inventory": inventory["id"], "playbook": "site.yml"}
    cases = [
        ({"project": None, "inventory": None, "host_config_key": "k"},
         {"host_config_key": ["Cannot enable provisioning callback without an inventory set."]}),
        ({"project": None}, {"project": ["Job Templates must have a project assigned."]}),
        ({"inventory": None}, {"inventory": [PROMPT]}),
        ({"inventory": None, "ask_inventory_on_launch": True, "host_config_key": "k"},
         {"host_config_key": ["Cannot enable provisioning callback without an inventory set."]}),
        ({"playbook": "missing.yml"}, {"playbook": ["Playbook not found for project."]}),
        ({"playbook": "../site.yml"}, {"playbook": ["Playbook not found for project."]}),
        ({"playbook": ""}, {"playbook": ["Must select playbook for project."]}),
        ({"scm_branch": "main"}, {"scm_branch": ["Project does not allow overriding branch."]}),
        ({"ask_scm_branch_on_launch": True},
         {"ask_scm_branch_on_launch": ["Project does not allow overriding branch."]}),
        ({"forks": 201}, {"forks": ["Maximum number of forks (200) exceeded."]}),
        ({"forks": -1}, {"forks": ["Ensure this value is greater than or equal to 0."]}),
        ({"job_slice_count": -1}, {"job_slice_count": ["Ensure this value is greater than or equal to 0."]}),
        ({"verbosity": 6}, {"verbosity": ['"6" is not a valid choice.']}),
        ({"job_type": "scan"}, {"job_type": ['"scan" is not a valid choice.']}),
        ({"webhook_service": "svn"}, {"webhook_service": ['"svn" is not a valid choice.']}),
        ({"project": 999999}, {"project": ['Invalid pk "999999" - object does not exist.']}),
        ({"extra_vars": "[1, 2]"}, {"extra_vars": ["Input type `list` is not a dictionary"]}),
    ]
    for change, expected in cases:
        assert _error(admin, {**base, **change}) == expected, change
    bad_yaml = _error(admin, {**base, "extra_vars": "a: [1\nb: 2"})
    assert bad_yaml["extra_vars"][0].startswith("Cannot parse as JSON (error: ")
    assert "or YAML (error: " in bad_yaml["extra_vars"][0]
    missing = _error(admin, {"playbook": "site.yml", "project": project["id"], "inventory": inventory["id"]})
    assert missing == {"name": ["This field is required."]}


def test_validation_applies_to_updates(admin, make_jt):
    obj = make_jt()
    assert _error(admin, {"inventory": None}, obj["url"], "PATCH") == {"inventory": [PROMPT]}
    assert _error(admin, {"playbook": "nope.yml"}, obj["url"], "PATCH") == \
        {"playbook": ["Playbook not found for project."]}
    assert admin.patch(obj["url"], {"inventory": None, "ask_inventory_on_launch": True}).status_code == 200
    assert admin.get(obj["url"]).json["inventory"] is None


def test_git_project_playbooks_come_from_the_last_update(admin, app_state, org, inventory):
    fixed = git_project(app_state, org, ["site.yml"])
    body = {"project": fixed, "inventory": inventory["id"]}
    assert admin.post(JT, {"name": unique("jt"), "playbook": "site.yml", **body}).status_code == 201
    assert _error(admin, {"name": unique("jt"), "playbook": "other.yml", **body}) == \
        {"playbook": ["Playbook not found for project."]}
    assert _error(admin, {"name": unique("jt"), "playbook": "site.yml", "scm_branch": "dev", **body}) == \
        {"scm_branch": ["Project does not allow overriding branch."]}
    # allow_override: any playbook (the branch may hold others) and a branch may be set
    loose = git_project(app_state, org, ["site.yml"], allow_override=True)
    resp = admin.post(JT, {"name": unique("jt"), "playbook": "elsewhere.yml", "project": loose, "scm_branch": "dev",
                           "ask_scm_branch_on_launch": True, "inventory": inventory["id"]})
    assert resp.status_code == 201, resp.json
    assert resp.json["scm_branch"] == "dev" and resp.json["playbook"] == "elsewhere.yml"


def test_unique_name_per_organization(admin, make_jt, make_org, make_project, inventory):
    first = make_jt()
    body = {"name": first["name"], "project": first["project"], "inventory": inventory["id"], "playbook": "site.yml"}
    assert _error(admin, body) == DUPLICATE
    # the same name in another organization is fine
    elsewhere = admin.post(JT, {**body, "project": make_project(organization=make_org())["id"]})
    assert elsewhere.status_code == 201, elsewhere.json
    # renaming onto a taken name fails; saving itself does not
    second = make_jt()
    assert _error(admin, {"name": first["name"]}, second["url"], "PATCH") == DUPLICATE
    assert admin.patch(first["url"], {"name": first["name"], "limit": "web"}).status_code == 200
    # moving into the organization that holds the name fails too
    assert _error(admin, {"project": first["project"]}, elsewhere.json["url"], "PATCH") == DUPLICATE


def test_webhook_credential_rules(admin, make_jt, make_cred):
    github = make_cred("github_token", {"token": "t0k"})
    machine = make_cred("ssh", {"username": "u"})
    obj = make_jt()
    assert _error(admin, {"webhook_credential": machine["id"]}, obj["url"], "PATCH") == \
        {"webhook_credential": ["Must be a Personal Access Token."]}
    assert _error(admin, {"webhook_credential": github["id"]}, obj["url"], "PATCH") == \
        {"webhook_credential": ["Must match the selected webhook service."]}
    assert _error(admin, {"webhook_credential": github["id"], "webhook_service": "gitlab"}, obj["url"], "PATCH") == \
        {"webhook_credential": ["Must match the selected webhook service."]}
    resp = admin.patch(obj["url"], {"webhook_credential": github["id"], "webhook_service": "github"})
    assert resp.status_code == 200, resp.json
    assert resp.json["related"]["webhook_credential"] == f"/api/v2/credentials/{github['id']}/"
    assert resp.json["summary_fields"]["webhook_credential"]["kind"] == "github_token"


# -- extra_vars --------------------------------------------------------------------------------
@pytest.mark.parametrize("sent, stored", [
    ("---\nfoo: bar\nn: 1\n", "---\nfoo: bar\nn: 1\n"),        # YAML text, verbatim
    ("{\"a\": 1}", "{\"a\": 1}"),                              # JSON text (the awx CLI and collection)
    ({"a": {"b": [1, 2]}}, "{\"a\": {\"b\": [1, 2]}}"),        # an object is stored as JSON text
    ({}, ""), (None, ""), ("", ""), ("---", "---"),
])
def test_extra_vars_forms(admin, make_jt, app_state, sent, stored):
    obj = make_jt(extra_vars=sent)
    assert obj["extra_vars"] == stored
    assert admin.get(obj["url"]).json["extra_vars"] == stored
    assert app_state.store.get("job_templates", obj["id"])["extra_vars"] == stored


def test_extra_vars_cannot_be_filtered(admin):
    resp = admin.get(f"{JT}?extra_vars__icontains=secret")
    assert resp.status_code == 403
    assert resp.json == {"detail": "Filtering on extra_vars is not allowed."}


# -- named URLs --------------------------------------------------------------------------------
def test_named_urls(admin, make_jt, org):
    name = unique("Demo Job Template")
    obj = make_jt(name=name)
    encoded = name.replace(" ", "%20")
    for ident in (f"{encoded}++{org['name']}", encoded):        # name++org, and the legacy plain name
        resp = admin.get(f"{JT}{ident}/")
        assert resp.status_code == 200, ident
        assert resp.json["id"] == obj["id"]
    assert admin.get(f"{JT}{encoded}++{org['name']}/credentials/").status_code == 200
    assert admin.get(f"{JT}{encoded}++nope/").json == {"detail": "Not found."}
    assert admin.get(obj["url"]).json["related"]["named_url"] == f"{JT}{name}++{org['name']}/"   # AWX: unquoted


# -- credentials ---------------------------------------------------------------------------------
def test_credential_association_rules(admin, make_jt, make_cred, app_state):
    obj = make_jt()
    url = obj["related"]["credentials"]

    def attached() -> list[int]:
        return [c["id"] for c in admin.get(url).json["results"]]

    machine, machine2 = make_cred("ssh", {"username": "a"}), make_cred("ssh", {"username": "b"})
    scm = make_cred("scm", {"username": "git"})
    vault, vault_dev, vault_prod = (make_cred("vault", {"vault_password": "p"}),
                                    make_cred("vault", {"vault_password": "p", "vault_id": "dev"}),
                                    make_cred("vault", {"vault_password": "p", "vault_id": "prod"}))
    vault_dev2 = make_cred("vault", {"vault_password": "p", "vault_id": "dev"})
    vault2 = make_cred("vault", {"vault_password": "q"})
    cloud, net, kube = (make_cred("aws", {"username": "k", "password": "s"}),
                        make_cred("net", {"username": "n"}),
                        make_cred("kubernetes_bearer_token", {"host": "https://k8s.example", "bearer_token": "t"}))
    for cred in (machine, vault, vault_dev, vault_prod, cloud, net, kube):
        resp = admin.post(url, {"id": cred["id"], "associate": True})
        assert resp.status_code == 204 and resp.get_data() == b"", resp.json
    ok = [machine["id"], vault["id"], vault_dev["id"], vault_prod["id"], cloud["id"], net["id"], kube["id"]]
    assert sorted(attached()) == sorted(ok)
    refused = [
        (machine2, "Cannot assign multiple Machine credentials."),
        (machine, "Cannot assign multiple Machine credentials."),      # AWX checks before "already there"
        (vault_dev2, "Cannot assign multiple Vault (id=dev) credentials."),
        (vault2, "Cannot assign multiple Vault credentials."),
        (scm, "Cannot assign a Credential of kind `scm`."),
    ]
    for cred, message in refused:
        resp = admin.post(url, {"id": cred["id"]})
        assert resp.status_code == 400 and resp.json == {"error": message}, cred["name"]
    assert sorted(attached()) == sorted(ok)
    summary = admin.get(obj["url"]).json["summary_fields"]["credentials"]
    by_id = {c["id"]: c for c in summary}
    assert by_id[machine["id"]] == {"id": machine["id"], "name": machine["name"], "description": "",
                                    "kind": "ssh", "cloud": False}
    assert by_id[cloud["id"]]["cloud"] is True and by_id[cloud["id"]]["kind"] == "aws"
    # detach, then the second machine credential fits
    assert admin.post(url, {"id": machine["id"], "disassociate": True}).status_code == 204
    assert admin.post(url, {"id": machine2["id"]}).status_code == 204
    assert machine["id"] not in attached() and machine2["id"] in attached()
    assert app_state.store.count("job_template_credentials", "job_template_id = ?", [obj["id"]]) == len(ok)


def test_create_credential_through_the_sub_list(admin, make_jt, org):
    obj = make_jt()
    url = obj["related"]["credentials"]
    body = {"name": unique("cred"), "credential_type": type_id(admin, "ssh"), "organization": org["id"],
            "inputs": {"username": "x"}}
    resp = admin.post(url, body)
    assert resp.status_code == 201, resp.json
    assert [c["id"] for c in admin.get(url).json["results"]] == [resp.json["id"]]
    # an scm credential is refused and not left behind
    scm = {**body, "name": unique("cred"), "credential_type": type_id(admin, "scm")}
    resp = admin.post(url, scm)
    assert resp.status_code == 400 and resp.json == {"error": "Cannot assign a Credential of kind `scm`."}
    assert admin.get(f"/api/v2/credentials/?name={scm['name']}").json["count"] == 0


def test_attaching_a_credential_needs_its_use_role(admin, make_jt, make_cred, make_user):
    obj = make_jt()
    cred = make_cred("ssh", {"username": "x"})
    uid, user = make_user()
    grant(admin, uid, role_of(obj, "admin_role"))
    grant(admin, uid, role_of(cred, "read_role"))
    url = obj["related"]["credentials"]
    assert user.post(url, {"id": cred["id"]}).status_code == 403
    grant(admin, uid, role_of(cred, "use_role"))
    assert user.post(url, {"id": cred["id"]}).status_code == 204
    # an executor cannot detach
    eid, executor = make_user()
    grant(admin, eid, role_of(obj, "execute_role"))
    assert executor.post(url, {"id": cred["id"], "disassociate": True}).status_code == 403
    assert admin.get(url).json["count"] == 1


# -- survey spec ---------------------------------------------------------------------------------
SPEC = {"name": "Deploy", "description": "Questions", "spec": [
    {"type": "text", "question_name": "Color?", "question_description": "", "variable": "favorite_color",
     "required": True, "default": "blue", "min": 0, "max": 10},
    {"type": "integer", "question_name": "N", "variable": "n", "required": False, "default": 3, "min": 1, "max": 5},
    {"type": "multiplechoice", "question_name": "Env", "variable": "env", "required": True,
     "choices": "dev\n\nprod\n", "default": "dev"},
    {"type": "multiselect", "question_name": "Tags", "variable": "tags", "required": False,
     "choices": ["a", "b", "c"], "default": "a\nc"},
    {"type": "password", "question_name": "Secret", "variable": "secret", "required": False,
     "default": "hunter2-plaintext"},
]}


def test_survey_spec_round_trip_and_password_default_encryption(admin, make_jt, app_state):
    obj = make_jt()
    url = obj["related"]["survey_spec"]
    assert admin.get(url).json == {}
    resp = admin.post(url, SPEC)
    assert resp.status_code == 200 and resp.get_data() == b""
    shown = admin.get(url).json
    assert shown["name"] == "Deploy" and [q["variable"] for q in shown["spec"]] == \
        ["favorite_color", "n", "env", "tags", "secret"]
    assert shown["spec"][2]["choices"] == "dev\nprod"           # blank lines dropped
    assert shown["spec"][3]["default"] == "a\nc"
    assert shown["spec"][4]["default"] == "$encrypted$"
    raw = app_state.store.get("job_templates", obj["id"])["survey_spec"]
    assert "hunter2-plaintext" not in raw
    stored = json.loads(raw)["spec"][4]["default"]
    assert stored.startswith("$encrypted$") and app_state.vault.decrypt(stored) == "hunter2-plaintext"
    detail = admin.get(obj["url"]).json
    assert detail["summary_fields"]["survey"] == {"title": "Deploy", "description": "Questions"}
    # "$encrypted$" keeps the stored default; a new value replaces it
    again = json.loads(json.dumps(SPEC))
    again["spec"][4]["default"] = "$encrypted$"
    again["name"] = "Deploy 2"
    assert admin.post(url, again).status_code == 200
    assert json.loads(app_state.store.get("job_templates", obj["id"])["survey_spec"])["spec"][4]["default"] == stored
    again["spec"][4]["default"] = "new-secret"
    assert admin.post(url, again).status_code == 200
    newer = json.loads(app_state.store.get("job_templates", obj["id"])["survey_spec"])["spec"][4]["default"]
    assert newer != stored and app_state.vault.decrypt(newer) == "new-secret"
    # the activity stream never holds the plaintext
    stream = json.dumps(admin.get(obj["related"]["activity_stream"]).json)
    assert "survey_spec" in stream and "new-secret" not in stream and "hunter2" not in stream
    # DELETE: 200, spec {}
    resp = admin.delete(url)
    assert resp.status_code == 200 and resp.get_data() == b""
    assert admin.get(url).json == {}
    assert "survey" not in admin.get(obj["url"]).json["summary_fields"]
    assert json.loads(app_state.store.get("job_templates", obj["id"])["survey_spec"]) == {}


def _q(**item) -> dict:
    return {"type": "text", "question_name": "Q", "variable": "v", "required": False, **item}


def _spec(*items, **top) -> dict:
    return {"name": "", "description": "", "spec": list(items), **top}


SURVEY_ERRORS = [
    ({"name": "", "description": ""}, "Field 'spec' is missing from survey spec."),
    ({"description": "", "spec": [_q()]}, "Field 'name' is missing from survey spec."),
    ({"name": 1, "description": "", "spec": [_q()]}, "Expected string for field 'name', received int type."),
    ({"name": "", "description": "", "spec": {}}, "Expected list of items for field 'spec', received dict type."),
    (_spec(), "'spec' doesn't contain any items."),
    (_spec("x"), "Survey question 0 is not a json object."),
    (_spec({"type": "text", "question_name": "Q", "required": True}), "'variable' missing from survey question 0"),
    (_spec(_q(variable="a"), {"type": "text", "variable": "b", "required": True}),
     "'question_name' missing from survey question 1"),
    (_spec({"question_name": "Q", "variable": "v", "required": True}), "'type' missing from survey question 0"),
    (_spec({"type": "text", "question_name": "Q", "variable": "v"}), "'required' missing from survey question 0"),
    (_spec(_q(required="yes")), "'required' in survey question 0 expected to be boolean."),
    (_spec(_q(variable=7)), "'variable' in survey question 0 expected to be string."),
    (_spec(_q(variable="x"), _q(variable="x")), "'variable' 'x' duplicated in survey question 1."),
    (_spec(_q(type="bogus")), "'bogus' in survey question 0 is not one of 'multiplechoice, multiselect, text, "
                              "textarea, password, integer, float' allowed question types."),
    (_spec(_q(type="integer", default="3")), "Default value 3 in survey question 0 expected to be integer."),
    (_spec(_q(type="float", default="x")), "Default value x in survey question 0 expected to be float."),
    (_spec(_q(default=5)), "Default value 5 in survey question 0 expected to be string."),
    (_spec(_q(type="integer", min="1")), "The min limit in survey question 0 expected to be integer."),
    (_spec(_q(type="integer", max=2.5)), "The max limit in survey question 0 expected to be integer."),
    (_spec(_q(type="integer", default=9, min=1, max=5)),
     "Default value 9 in survey question 0 is too large (must be no more than 5)."),
    (_spec(_q(type="float", default=0.5, min=1, max=5)),
     "Default value 0.5 in survey question 0 is too small (must be at least 1)."),
    (_spec(_q(type="multiplechoice")), "Survey question 0 of type multiplechoice must specify choices."),
    (_spec(_q(type="multiselect", choices=None)), "Survey question 0 of type multiselect must specify choices."),
    (_spec(_q(type="multiplechoice", choices="a\nb", default="a\nb")),
     "Multiple Choice (Single Select) can only have one default value."),
    (_spec(_q(type="multiplechoice", choices="apple\nb", default="app")),
     "Default choice must be answered from the choices listed."),
    (_spec(_q(type="multiselect", choices=["a", "b"], default="a\nz")),
     "Default choice must be answered from the choices listed."),
    (_spec(_q(default="$encrypted$")),
     "$encrypted$ is a reserved keyword for password question defaults, survey question 0 is type text."),
    (_spec(_q(type="password", default="$encrypted$")),
     "$encrypted$ is a reserved keyword, may not be used for new default in position 0."),
]


@pytest.mark.parametrize("body, message", SURVEY_ERRORS, ids=[m[:40] for _, m in SURVEY_ERRORS])
def test_survey_spec_errors(admin, make_jt, app_state, body, message):
    obj = make_jt()
    url = obj["related"]["survey_spec"]
    assert admin.post(url, _spec(_q(variable="keep"))).status_code == 200
    before = app_state.store.get("job_templates", obj["id"])["survey_spec"]
    resp = admin.post(url, body)
    assert resp.status_code == 400 and resp.json == {"error": message}
    assert app_state.store.get("job_templates", obj["id"])["survey_spec"] == before


def test_survey_spec_access(admin, make_jt, make_user):
    obj = make_jt()
    url = obj["related"]["survey_spec"]
    assert admin.post(url, SPEC).status_code == 200
    rid, reader = make_user()
    eid, executor = make_user()
    oid, outsider = make_user()
    grant(admin, rid, role_of(obj, "read_role"))
    grant(admin, eid, role_of(obj, "execute_role"))
    assert reader.get(url).json["spec"][4]["default"] == "$encrypted$"
    assert executor.get(url).status_code == 200
    assert outsider.get(url).status_code == 403
    for client in (reader, executor):
        assert client.post(url, _spec(_q())).status_code == 403
        assert client.delete(url).status_code == 403
    assert admin.get(url).json["name"] == "Deploy"
    assert admin.options(url).status_code == 200
    assert admin.put(url, SPEC).status_code == 405


# -- survey answers (pure) ---------------------------------------------------------------------
STORED = surveys.validate_spec(SPEC, {}, lambda text: "$encrypted$X" + text[::-1])


def test_validate_answers():
    accepted, errors = surveys.validate_answers(STORED, {"favorite_color": "red", "env": "prod", "n": 5,
                                                         "tags": ["a", "b"], "other": 1})
    assert errors == [] and accepted == {"favorite_color": "red", "env": "prod", "n": 5, "tags": ["a", "b"]}
    _, errors = surveys.validate_answers(STORED, {"n": 9})
    assert errors == ["'favorite_color' value missing", "'n' value 9 is too large (must be no more than 5).",
                      "'env' value missing"]
    cases = [
        ({"n": 0}, "'n' value 0 is too small (must be at least 1)."),
        ({"n": "3"}, "Value 3 for 'n' expected to be an integer."),
        ({"favorite_color": 3}, "Value 3 for 'favorite_color' expected to be a string."),
        ({"favorite_color": "x" * 11},
         f"'favorite_color' value {'x' * 11} is too large (must be no more than 10)."),
        ({"env": "qa"}, "Value qa for 'env' expected to be one of ['dev', 'prod']."),
        ({"tags": "a"}, "'tags' value is expected to be a list."),
        ({"tags": ["z"]}, "Value z for 'tags' expected to be one of ['a', 'b', 'c']."),
        ({"secret": 5}, "Value 5 for 'secret' expected to be a string."),
    ]
    for answers, message in cases:
        accepted, errors = surveys.validate_answers(STORED, {"favorite_color": "red", "env": "dev", **answers})
        assert errors == [message], answers
        assert set(answers).isdisjoint(accepted)
    text_min = surveys.validate_spec(_spec(_q(min=3, required=True)), {}, str)
    assert surveys.validate_answers(text_min, {"v": "ab"})[1] == \
        ["'v' value ab is too small (length is 2 must be at least 3)."]
    floats = surveys.validate_spec(_spec(_q(type="float", min=1, max=2)), {}, str)
    assert surveys.validate_answers(floats, {"v": 1.5}) == ({"v": 1.5}, [])
    assert surveys.validate_answers(floats, {"v": "1.5"})[1] == ["Value 1.5 for 'v' expected to be a numeric type."]
    # a password answered "$encrypted$" is fine when a default exists, missing when required without one
    assert surveys.validate_answers(STORED, {"favorite_color": "r", "env": "dev", "secret": "$encrypted$"})[1] == []
    required_pw = surveys.validate_spec(_spec(_q(type="password", required=True)), {}, str)
    assert surveys.validate_answers(required_pw, {"v": "$encrypted$"})[1] == ["'v' value missing"]
    assert surveys.validate_answers(required_pw, {}, validate_required=False) == ({}, [])


def test_survey_defaults_and_helpers():
    decrypt = lambda text: text[len("$encrypted$X"):][::-1]  # noqa: E731
    assert surveys.defaults(STORED, decrypt) == {"favorite_color": "blue", "n": 3, "env": "dev", "tags": ["a", "c"],
                                                 "secret": "hunter2-plaintext"}
    assert surveys.variables_needed(STORED) == ["favorite_color", "env"]
    assert surveys.password_variables(STORED) == ["secret"]
    assert surveys.display_spec(STORED)["spec"][4]["default"] == "$encrypted$"
    assert STORED["spec"][4]["default"] == "$encrypted$X" + "hunter2-plaintext"[::-1]
    assert SPEC["spec"][2]["choices"] == "dev\n\nprod\n"          # the input is not mutated


# -- labels ------------------------------------------------------------------------------------
def test_labels_create_or_attach(admin, make_jt, org, app_state):
    one, two = make_jt(), make_jt()
    name = unique("label")
    resp = admin.post(one["related"]["labels"], {"name": name, "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    label = resp.json
    assert label["type"] == "label" and label["name"] == name and label["organization"] == org["id"]
    assert "description" not in label
    assert label["summary_fields"]["organization"]["id"] == org["id"]
    # the same name and organization attaches the existing label
    resp = admin.post(two["related"]["labels"], {"name": name, "organization": org["id"]})
    assert resp.status_code == 204
    assert admin.get(f"/api/v2/labels/?name={name}").json["count"] == 1
    for jt in (one, two):
        assert [x["id"] for x in admin.get(jt["related"]["labels"]).json["results"]] == [label["id"]]
    summary = admin.get(one["url"]).json["summary_fields"]["labels"]
    assert summary == {"count": 1, "results": [{"id": label["id"], "name": name}]}
    # attach by id is a no-op when present; detach removes only the link
    assert admin.post(one["related"]["labels"], {"id": label["id"]}).status_code == 204
    assert admin.post(one["related"]["labels"], {"id": label["id"], "disassociate": True}).status_code == 204
    assert admin.get(one["related"]["labels"]).json["count"] == 0
    assert admin.get(two["related"]["labels"]).json["count"] == 1
    assert app_state.store.count("job_template_labels", "label_id = ?", [label["id"]]) == 1
    # labels are unique per organization and have named URLs
    dup = admin.post("/api/v2/labels/", {"name": name, "organization": org["id"]})
    assert dup.status_code == 400
    assert dup.json == {"__all__": ["Label with this Name and Organization already exists."]}
    assert admin.get(f"/api/v2/labels/{name}++{org['name']}/").json["id"] == label["id"]
    missing = admin.post("/api/v2/labels/", {"name": unique("label")})
    assert missing.status_code == 400 and missing.json == {"organization": ["This field is required."]}


def test_label_access(admin, make_jt, make_org, make_user):
    other = make_org()
    obj = make_jt()
    label = admin.post("/api/v2/labels/", {"name": unique("label"), "organization": other["id"]}).json
    assert admin.post(obj["related"]["labels"], {"id": label["id"]}).status_code == 204
    uid, user = make_user()
    assert user.get(label["url"]).status_code == 403
    grant(admin, uid, role_of(obj, "read_role"))               # visible through the template
    assert user.get(label["url"]).status_code == 200
    assert user.get(f"/api/v2/labels/?id={label['id']}").json["count"] == 1
    assert user.patch(label["url"], {"name": "x"}).status_code == 403
    assert user.post("/api/v2/labels/", {"name": unique("l"), "organization": other["id"]}).status_code == 403
    grant(admin, uid, role_of(other, "member_role"))
    created = user.post("/api/v2/labels/", {"name": unique("l"), "organization": other["id"]})
    assert created.status_code == 201, created.json
    assert user.patch(created.json["url"], {"name": unique("l")}).status_code == 403
    grant(admin, uid, role_of(other, "admin_role"))
    assert user.patch(created.json["url"], {"name": unique("l")}).status_code == 200
    # AWX's LabelDetail has no DELETE, for an organization admin too: the label stays
    gone = user.delete(created.json["url"])
    assert gone.status_code == 405 and gone.json == {"detail": 'Method "DELETE" not allowed.'}
    assert admin.get(created.json["url"]).status_code == 200


# -- copy --------------------------------------------------------------------------------------
def test_copy_keeps_credentials_labels_and_survey(admin, make_jt, make_cred, org, app_state):
    obj = make_jt(extra_vars="a: 1", limit="web", ask_limit_on_launch=True)
    cred = make_cred("ssh", {"username": "u"})
    assert admin.post(obj["related"]["credentials"], {"id": cred["id"]}).status_code == 204
    assert admin.post(obj["related"]["labels"], {"name": unique("label"), "organization": org["id"]}).status_code == 201
    assert admin.post(obj["related"]["survey_spec"], SPEC).status_code == 200
    assert admin.get(obj["related"]["copy"]).json == {"can_copy": True}
    name = unique("copy")
    resp = admin.post(obj["related"]["copy"], {"name": name})
    assert resp.status_code == 201, resp.json
    new = resp.json
    assert resp.headers["Location"] == new["url"] and new["id"] != obj["id"] and new["name"] == name
    for key in ("project", "inventory", "playbook", "extra_vars", "limit", "ask_limit_on_launch", "organization"):
        assert new[key] == obj[key], key
    assert new["summary_fields"]["credentials"] == admin.get(obj["url"]).json["summary_fields"]["credentials"]
    assert new["summary_fields"]["labels"] == admin.get(obj["url"]).json["summary_fields"]["labels"]
    assert admin.get(new["related"]["survey_spec"]).json == admin.get(obj["related"]["survey_spec"]).json
    assert app_state.store.get("job_templates", new["id"])["survey_spec"] == \
        app_state.store.get("job_templates", obj["id"])["survey_spec"]
    # a taken name or none at all is refused
    for body, expected in (({"name": name}, DUPLICATE), ({"name": obj["name"]}, DUPLICATE),
                           ({}, {"name": ["This field is required."]})):
        resp = admin.post(obj["related"]["copy"], body)
        assert resp.status_code == 400 and resp.json == expected, body


def test_copy_needs_use_of_the_credentials(admin, make_jt, make_cred, make_user, project, inventory):
    obj = make_jt()
    cred = make_cred("ssh", {"username": "u"})
    assert admin.post(obj["related"]["credentials"], {"id": cred["id"]}).status_code == 204
    uid, user = make_user()
    for role in (role_of(obj, "admin_role"), role_of(project, "use_role"), role_of(inventory, "use_role")):
        grant(admin, uid, role)
    assert user.get(obj["related"]["copy"]).json == {"can_copy": False}
    assert user.get(obj["url"]).json["summary_fields"]["user_capabilities"]["copy"] is False
    assert user.post(obj["related"]["copy"], {"name": unique("copy")}).status_code == 403
    grant(admin, uid, role_of(cred, "use_role"))
    assert user.get(obj["related"]["copy"]).json == {"can_copy": True}
    resp = user.post(obj["related"]["copy"], {"name": unique("copy")})
    assert resp.status_code == 201, resp.json
    assert user.patch(resp.json["url"], {"description": "mine"}).status_code == 200   # the copier is its admin


# -- RBAC ----------------------------------------------------------------------------------------
def test_object_roles(admin, make_jt, make_user, make_project, make_inventory, project, inventory):
    obj = make_jt()
    users, uids = {}, {}
    for role in ("admin_role", "execute_role", "read_role", None):
        uid, client = make_user()
        if role:
            grant(admin, uid, role_of(obj, role))
        users[role], uids[role] = client, uid
    caps = {role: client.get(obj["url"]).json["summary_fields"]["user_capabilities"]
            for role, client in users.items() if role}
    assert caps["admin_role"] == {"edit": True, "delete": True, "start": True, "schedule": True, "copy": False}
    assert caps["execute_role"] == {"edit": False, "delete": False, "start": True, "schedule": True, "copy": False}
    assert caps["read_role"] == {"edit": False, "delete": False, "start": False, "schedule": False, "copy": False}
    outsider = users[None]
    assert outsider.get(obj["url"]).status_code == 403
    assert outsider.get(f"{JT}?id={obj['id']}").json["count"] == 0
    for role in ("execute_role", "read_role"):
        assert users[role].get(f"{JT}?id={obj['id']}").json["count"] == 1
        assert users[role].patch(obj["url"], {"description": "x"}).status_code == 403
        assert users[role].delete(obj["url"]).status_code == 403
    admin_client = users["admin_role"]
    # a template admin without use of its project and inventory makes only non-sensitive changes (AWX)
    assert admin_client.patch(obj["url"], {"description": "by admin", "limit": "web", "forks": 5,
                                           "project": obj["project"], "inventory": obj["inventory"]}
                              ).status_code == 200
    for sensitive in ({"job_type": "check"}, {"playbook": "deploy/app.yml"}, {"become_enabled": True},
                      {"project": make_project()["id"]}, {"inventory": make_inventory()["id"]}):
        assert admin_client.patch(obj["url"], sensitive).status_code == 403, sensitive
    got = admin.get(obj["url"]).json
    assert got["description"] == "by admin" and got["job_type"] == "run" and got["become_enabled"] is False
    grant(admin, uids["admin_role"], role_of(project, "use_role"))
    grant(admin, uids["admin_role"], role_of(inventory, "use_role"))
    assert admin_client.patch(obj["url"], {"job_type": "check", "playbook": "deploy/app.yml"}).status_code == 200
    assert admin_client.delete(obj["url"]).status_code == 204
    assert admin.get(obj["url"]).status_code == 404


def test_who_may_create(admin, make_user, make_project, make_inventory, org):
    project, inventory = make_project(), make_inventory()
    body = {"project": project["id"], "inventory": inventory["id"], "playbook": "site.yml"}
    uid, user = make_user()
    assert user.post(JT, {"name": unique("jt"), **body}).status_code == 403
    grant(admin, uid, role_of(project, "use_role"))
    assert user.post(JT, {"name": unique("jt"), **body}).status_code == 403            # inventory not usable
    assert user.post(JT, {"name": unique("jt"), **body, "inventory": None, "ask_inventory_on_launch": True}
                     ).status_code == 201
    grant(admin, uid, role_of(inventory, "use_role"))
    resp = user.post(JT, {"name": unique("jt"), **body})
    assert resp.status_code == 201, resp.json
    assert user.patch(resp.json["url"], {"limit": "web"}).status_code == 200          # creator is admin
    assert resp.json["summary_fields"]["user_capabilities"]["edit"] is True
    # the organization's job template admins create with the organization's projects
    aid, jt_admin = make_user()
    grant(admin, aid, role_of(org, "job_template_admin_role"))
    made = jt_admin.post(JT, {"name": unique("jt"), **body, "inventory": None, "ask_inventory_on_launch": True})
    assert made.status_code == 201, made.json
    assert jt_admin.get(resp.json["url"]).status_code == 200                          # admin of all org templates
    # the organization's execute role runs every template of the organization
    xid, org_exec = make_user()
    grant(admin, xid, role_of(org, "execute_role"))
    caps = org_exec.get(made.json["url"]).json["summary_fields"]["user_capabilities"]
    assert caps["start"] is True and caps["edit"] is False
    assert jt_admin.options(JT).json["actions"].get("POST") is not None


def test_deleting_the_inventory_or_project_keeps_the_template(admin, make_jt, make_inventory, make_project):
    inv, proj = make_inventory(), make_project()
    obj = make_jt(inventory=inv["id"], project=proj["id"])
    assert admin.delete(inv["url"]).status_code in (202, 204)
    assert admin.get(obj["url"]).json["inventory"] is None
    assert admin.delete(proj["url"]).status_code == 204
    got = admin.get(obj["url"]).json
    assert got["project"] is None and got["name"] == obj["name"]


# -- state derived from jobs ---------------------------------------------------------------------
def _job(app_state, jt: dict, status: str, finished: str | None = None) -> int:
    failed = status in ("failed", "error", "canceled")
    return app_state.store.insert("jobs", {
        "name": jt["name"], "description": "", "job_template": jt["id"], "status": status, "failed": failed,
        "finished": finished, "launch_type": "manual", "created": "2025-01-01T00:00:00.000000Z",
        "modified": "2025-01-01T00:00:00.000000Z"})


def test_status_and_recent_jobs_come_from_jobs(admin, make_jt, app_state):
    obj = make_jt()
    ok = _job(app_state, obj, "successful", "2025-01-01T00:00:01.000000Z")
    got = admin.get(obj["url"]).json
    assert got["status"] == "successful" and got["last_job_failed"] is False
    assert got["last_job_run"] == "2025-01-01T00:00:01.000000Z"
    bad = _job(app_state, obj, "failed", "2025-01-01T00:00:02.000000Z")
    running = _job(app_state, obj, "running")
    got = admin.get(obj["url"]).json
    assert got["status"] == "running" and got["last_job_failed"] is True
    assert got["last_job_run"] == "2025-01-01T00:00:02.000000Z"
    summary = got["summary_fields"]
    assert [j["id"] for j in summary["recent_jobs"]] == [running, bad, ok]
    assert summary["recent_jobs"][1] == {"id": bad, "status": "failed", "finished": "2025-01-01T00:00:02.000000Z",
                                         "canceled_on": None, "type": "job"}
    assert summary["last_job"]["id"] == bad and summary["last_job"]["failed"] is True
    assert summary["current_job"]["id"] == running and summary["current_job"]["status"] == "running"
    assert got["related"]["last_job"] == f"/api/v2/jobs/{bad}/"
    assert got["related"]["current_job"] == f"/api/v2/jobs/{running}/"
    # a running job blocks deletion (AWX 409)
    resp = admin.delete(obj["url"])
    assert resp.status_code == 409
    assert resp.json == {"error": "Resource is being used by running jobs.",
                         "active_jobs": [{"id": running, "type": "job"}]}
    for _ in range(12):
        _job(app_state, obj, "successful", "2025-01-02T00:00:00.000000Z")
    got = admin.get(obj["url"]).json
    assert len(got["summary_fields"]["recent_jobs"]) == 10
    assert got["status"] == "running" and got["summary_fields"]["current_job"]["id"] == running

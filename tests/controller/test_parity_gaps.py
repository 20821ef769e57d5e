"""Four AWX 24.6.1 parity points: POST in list OPTIONS (AWX ``can_add({})``), a null choice,
a host's ``summary_fields.last_job`` and the groups' ``parents`` filter."""
from __future__ import annotations

import pytest

from tests.controller.conftest import unique
from tests.support.jobs import make_jt, make_project

PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"

V2 = "/api/v2"


# -- 1. list OPTIONS offer POST as AWX's can_add({}) answers -------------------------------------
@pytest.fixture(scope="module")
def people(app, admin, make_user, make_org, app_state):
    """Clients by persona, over an organization holding a project and an inventory."""
    org = make_org()
    make_project(admin, app_state.settings.data_dir, org, {"site.yml": PLAY})
    assert admin.post(f"{V2}/inventories/", {"name": unique("i"), "organization": org["id"]}).status_code == 201
    empty = make_org()        # an organization with no project and no inventory
    out = {"superuser": admin}
    for persona, sub, where in (("member", "users", org), ("org_admin", "admins", org),
                                ("empty_org_admin", "admins", empty)):
        uid, client = make_user()
        assert admin.post(f"{V2}/organizations/{where['id']}/{sub}/", {"id": uid}).status_code == 204
        out[persona] = client
    out["plain"] = make_user()[1]
    return out


def _offers_post(client, plural: str) -> bool:
    resp = client.options(f"{V2}/{plural}/")
    assert resp.status_code == 200, resp.json
    return "POST" in resp.json["actions"]


# AWX 24.6.1 awx/main/access.py, each ``can_add`` with empty data (awx/api/permissions.py
# ModelAccessPermission.check_post_permissions, UserPermission for users); superusers always.
EXPECTED = {
    #                         plain  member org_admin empty_org_admin
    "schedules":              (False, False, True, True),    # a role granting execute/update
    "job_templates":          (False, False, True, False),   # use of some project
    "projects":               (False, False, True, True),    # project admin of some org
    "inventories":            (False, False, True, True),
    "credentials":            (True, True, True, True),      # "if not data: return True"
    "teams":                  (False, False, True, True),
    "users":                  (False, False, True, True),    # admin of some organization
    "hosts":                  (False, False, True, False),   # admin of some inventory
    "groups":                 (False, False, True, False),
    "inventory_sources":      (False, False, True, False),
    "labels":                 (True, True, True, True),
    "notification_templates": (False, False, True, True),
    "workflow_job_templates": (False, False, True, True),
    "execution_environments": (False, False, True, True),
    "applications":           (False, False, True, True),
    "organizations":          (False, False, False, False),
    "instance_groups":        (False, False, False, False),
    "credential_types":       (False, False, False, False),
    "tokens":                 (True, True, True, True),
    "ad_hoc_commands":        (True, True, True, True),
    "workflow_job_template_nodes": (True, True, True, True),
    "credential_input_sources": (True, True, True, True),
}


@pytest.mark.parametrize("plural", sorted(EXPECTED))
def test_list_options_offer_post_as_awx_can_add(people, plural):
    got = tuple(_offers_post(people[p], plural) for p in ("plain", "member", "org_admin", "empty_org_admin"))
    assert got == EXPECTED[plural]
    assert _offers_post(people["superuser"], plural) is True


def test_schedule_post_offered_to_who_may_run_or_update_something(admin, make_user, make_org, app_state):
    proj = make_project(admin, app_state.settings.data_dir, make_org(), {"site.yml": PLAY})
    roles = proj["summary_fields"]["object_roles"]
    for role, offered in (("use_role", False), ("update_role", True)):
        uid, client = make_user()
        assert admin.post(f"{V2}/users/{uid}/roles/", {"id": roles[role]["id"]}).status_code == 204
        assert _offers_post(client, "schedules") is offered, role
        # job templates: use of a project (AWX Project.accessible_objects(use_role)), which
        # update does not imply
        assert _offers_post(client, "job_templates") is (role == "use_role"), role


# -- 2. null for a non-nullable choice -------------------------------------------------------------
def test_null_notification_type_is_not_a_valid_choice(admin, make_org, app_state):
    org = make_org()
    name = unique("nt")
    resp = admin.post(f"{V2}/notification_templates/", {"name": name, "organization": org["id"],
                                                      "notification_type": None})
    assert resp.status_code == 400
    assert resp.json == {"notification_type": ['"" is not a valid choice.']}
    assert app_state.store.one("SELECT 1 FROM notification_templates WHERE name = ?", [name]) is None

    made = admin.post(f"{V2}/notification_templates/", {
        "name": name, "organization": org["id"], "notification_type": "webhook",
        "notification_configuration": {"url": "https://example.invalid/hook", "headers": {}}})
    assert made.status_code == 201, made.json
    resp = admin.patch(made.json["url"], {"notification_type": None})
    assert resp.status_code == 400
    assert resp.json == {"notification_type": ['"" is not a valid choice.']}
    assert app_state.store.get("notification_templates", made.json["id"])["notification_type"] == "webhook"


def test_null_choices_of_job_templates(admin, make_org, app_state):
    """An integer choice (verbosity) is DRF's plain ChoiceField: null is refused as null; a
    text choice (job_type) is AWX's ChoiceNullField: null is read as "", not a choice."""
    org = make_org()
    jt = make_jt(admin, make_project(admin, app_state.settings.data_dir, org, {"site.yml": PLAY}), None,
                 "site.yml", verbosity=2, ask_inventory_on_launch=True)
    for body, errors in (({"verbosity": None}, {"verbosity": ["This field may not be null."]}),
                         ({"job_type": None}, {"job_type": ['"" is not a valid choice.']})):
        resp = admin.patch(jt["url"], body)
        assert (resp.status_code, resp.json) == (400, errors)
    row = app_state.store.get("job_templates", jt["id"])
    assert (row["verbosity"], row["job_type"]) == (2, "run")


# -- 3. a host's summary_fields.last_job -----------------------------------------------------------
def _job(app_state, name: str, status: str, finished: str | None, template: int | None = None) -> int:
    return app_state.store.insert("jobs", {
        "name": name, "description": "", "job_template": template, "status": status,
        "failed": status in ("failed", "canceled"), "finished": finished,
        "launch_type": "manual", "created": "2025-01-01T00:00:00.000000Z", "modified": "2025-01-01T00:00:00.000000Z"})


def test_host_last_job_summary_has_awx_keys(admin, make_org, app_state):
    org = make_org()
    inv = admin.post(f"{V2}/inventories/", {"name": unique("i"), "organization": org["id"]}).json
    host = admin.post(f"{V2}/hosts/", {"name": unique("h"), "inventory": inv["id"]}).json
    jt = make_jt(admin, make_project(admin, app_state.settings.data_dir, org, {"site.yml": PLAY}), inv, "site.yml")
    done = _job(app_state, jt["name"], "failed", "2025-01-01T00:00:05.000000Z", jt["id"])
    app_state.store.update("hosts", host["id"], {"last_job": done})
    got = admin.get(host["url"]).json["summary_fields"]["last_job"]
    # AWX: id, name, description, finished, status, failed, canceled_on (None values left out),
    # job_template_id/name (HostSerializer)
    assert got == {"id": done, "name": jt["name"], "description": "", "finished": "2025-01-01T00:00:05Z",
                   "status": "failed", "failed": True, "job_template_id": jt["id"], "job_template_name": jt["name"]}
    assert got["finished"] == admin.get(f"{V2}/jobs/{done}/").json["finished"]
    assert app_state.store.get("hosts", host["id"])["last_job"] == done

    # the template's name as it is now, not the job's (AWX: obj.last_job.job_template.name)
    renamed = unique("renamed")
    assert admin.patch(jt["url"], {"name": renamed}).status_code == 200
    got = admin.get(host["url"]).json["summary_fields"]["last_job"]
    assert (got["name"], got["job_template_name"]) == (jt["name"], renamed)
    assert admin.get(f"{V2}/jobs/{done}/").json["name"] == jt["name"]

    running = _job(app_state, "running", "running", None)
    app_state.store.update("hosts", host["id"], {"last_job": running})
    listed = admin.get(f"{V2}/hosts/?id={host['id']}").json["results"][0]["summary_fields"]["last_job"]
    # no template: neither job_template_id nor job_template_name; not finished: no finished
    assert listed == {"id": running, "name": "running", "description": "", "status": "running", "failed": False}


# -- 4. groups' parents filter (the root groups) ---------------------------------------------------
def test_parents_isnull_finds_root_groups(admin, make_org):
    org = make_org()
    inv = admin.post(f"{V2}/inventories/", {"name": unique("i"), "organization": org["id"]}).json
    top = admin.post(f"{V2}/groups/", {"name": unique("top"), "inventory": inv["id"]}).json
    child = admin.post(f"{top['url']}children/", {"name": unique("child"), "inventory": inv["id"]}).json
    lone = admin.post(f"{V2}/groups/", {"name": unique("lone"), "inventory": inv["id"]}).json
    assert admin.get(f"{child['url']}").json["id"] == child["id"]

    def ids(url: str) -> set[int]:
        resp = admin.get(url)
        assert resp.status_code == 200, resp.json
        return {g["id"] for g in resp.json["results"]}

    for base in (f"{V2}/groups/?inventory={inv['id']}&", f"{inv['url']}groups/?"):
        assert ids(f"{base}parents__isnull=true") == {top["id"], lone["id"]}
        assert ids(f"{base}parents__isnull=false") == {child["id"]}
        assert ids(f"{base}parents={top['id']}") == {child["id"]}
        assert ids(f"{base}parents__name={top['name']}") == {child["id"]}
    # the root_groups sub-list agrees
    assert ids(f"{inv['url']}root_groups/") == {top["id"], lone["id"]}
    # no sub-list, no related link: a filter name only (AWX's Group has no /parents/)
    assert "parents" not in top["related"]
    assert admin.get(f"{top['url']}parents/").status_code == 404
    assert "parents__search" in admin.options(f"{V2}/groups/").json["related_search_fields"]

"""The RBAC matrix: users x resources x actions, checked against what AWX 24 does.

Seven users meet one world (organization A holding everything, B for the outsider):

    superuser    the bootstrap admin
    auditor      is_system_auditor
    org_admin    A.admin_role
    org_member   A.member_role
    executor     member of team TX (in A, not an A member), TX holds the job template's execute_role
    inv_reader   read_role on inventory I only
    outsider     member of organization B

Objects: organization A, user ua (a member of A), team TX, credential C, project P,
inventory I with host H, job template JT (P + I), one real finished job J of JT (events,
stdout, host summaries), one real finished ad hoc command X on I, a schedule S of JT, and
the activity-stream entries of JT's and I's creation.

``TABLE`` below is the one source of expectations: Y = AWX 24.6.1 grants it (awx/main/access.py
and the role ancestry of awx/main/models), . = AWX refuses.  Every cell is checked, both
ways, on stored state and not only on a status code:

* list    the object appears in its list (or sub-list) for that user
* get     detail 200 with the object, or 403 with nothing of it
* patch   200 and the change is stored, or 403/405 and the object is unchanged
* delete  on a fresh twin of the object placed like it: 204 and gone, or 403/405 and still there
* launch  201 and a job launched by that user exists, or 403 and no new job
* relaunch, cancel (of a fresh pending twin), stdout, events, host_summaries: the same idea
* cancel_done  cancel of the finished J/X: refused for everyone (AWX: 405 for a superuser,
  403 for others), and nothing changes

AWX settings assumed: ORG_ADMINS_CAN_SEE_ALL_USERS = False (with AWX's default True, org
admins and auditors list every user and team of the system; Turret does not model it).  AWX
lists every superuser to every user (the ``superuser`` rows); ``own_job`` is a job the executor
launched (AWX: its launcher may cancel it, only organization admins delete jobs).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Client, unique
from tests.support.jobs import make_inventory, make_jt, make_project, wait_job

ACTORS = ("superuser", "auditor", "org_admin", "org_member", "executor", "inv_reader", "outsider")
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
MARK = "rbac-matrix-out"
PLAYBOOK = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: say
      debug: msg={MARK}
"""

# resource         action          super audit oadm omem exec invr outs
TABLE = """
organization       list            Y     Y     Y    Y    .    .    .
organization       get             Y     Y     Y    Y    .    .    .
organization       patch           Y     .     Y    .    .    .    .
organization       delete          Y     .     Y    .    .    .    .
user               list            Y     Y     Y    Y    .    .    .
user               get             Y     Y     Y    Y    .    .    .
user               patch           Y     .     Y    .    .    .    .
user               delete          Y     .     Y    .    .    .    .
superuser          list            Y     Y     Y    Y    Y    Y    Y
superuser          get             Y     Y     Y    Y    Y    Y    Y
superuser          patch           Y     .     .    .    .    .    .
team               list            Y     Y     Y    Y    Y    .    .
team               get             Y     Y     Y    Y    Y    .    .
team               patch           Y     .     Y    .    .    .    .
team               delete          Y     .     Y    .    .    .    .
credential         list            Y     Y     Y    .    .    .    .
credential         get             Y     Y     Y    .    .    .    .
credential         patch           Y     .     Y    .    .    .    .
credential         delete          Y     .     Y    .    .    .    .
project            list            Y     Y     Y    .    .    .    .
project            get             Y     Y     Y    .    .    .    .
project            patch           Y     .     Y    .    .    .    .
project            delete          Y     .     Y    .    .    .    .
inventory          list            Y     Y     Y    .    .    Y    .
inventory          get             Y     Y     Y    .    .    Y    .
inventory          patch           Y     .     Y    .    .    .    .
inventory          delete          Y     .     Y    .    .    .    .
host               list            Y     Y     Y    .    .    Y    .
host               get             Y     Y     Y    .    .    Y    .
host               patch           Y     .     Y    .    .    .    .
host               delete          Y     .     Y    .    .    .    .
job_template       list            Y     Y     Y    .    Y    .    .
job_template       get             Y     Y     Y    .    Y    .    .
job_template       patch           Y     .     Y    .    .    .    .
job_template       delete          Y     .     Y    .    .    .    .
job_template       launch          Y     .     Y    .    Y    .    .
job                list            Y     Y     Y    .    Y    .    .
job                unified_list    Y     Y     Y    .    Y    .    .
job                get             Y     Y     Y    .    Y    .    .
job                patch           .     .     .    .    .    .    .
job                delete          Y     .     Y    .    .    .    .
job                relaunch        Y     .     Y    .    Y    .    .
job                cancel          Y     .     Y    .    .    .    .
job                cancel_done     .     .     .    .    .    .    .
job                stdout          Y     Y     Y    .    Y    .    .
job                events          Y     Y     Y    .    Y    .    .
job                host_summaries  Y     Y     Y    .    Y    .    .
job                host_events     Y     Y     Y    .    .    .    .
job                host_summary    Y     Y     Y    .    .    .    .
own_job            get             Y     Y     Y    .    Y    .    .
own_job            cancel          Y     .     Y    .    Y    .    .
own_job            delete          Y     .     Y    .    .    .    .
ad_hoc_command     list            Y     Y     Y    .    .    Y    .
ad_hoc_command     inventory_list  Y     Y     Y    .    .    Y    .
ad_hoc_command     get             Y     Y     Y    .    .    Y    .
ad_hoc_command     patch           .     .     .    .    .    .    .
ad_hoc_command     delete          Y     .     Y    .    .    .    .
ad_hoc_command     relaunch        Y     .     Y    .    .    .    .
ad_hoc_command     cancel          Y     .     Y    .    .    .    .
ad_hoc_command     cancel_done     .     .     .    .    .    .    .
ad_hoc_command     stdout          Y     Y     Y    .    .    Y    .
ad_hoc_command     events          Y     Y     Y    .    .    Y    .
schedule           list            Y     Y     Y    .    Y    .    .
schedule           get             Y     Y     Y    .    Y    .    .
schedule           patch           Y     .     Y    .    .    .    .
schedule           delete          Y     .     Y    .    .    .    .
activity_jt        list            Y     Y     Y    .    Y    .    .
activity_jt        get             Y     Y     Y    .    Y    .    .
activity_jt        patch           .     .     .    .    .    .    .
activity_jt        delete          .     .     .    .    .    .    .
activity_inv       list            Y     Y     Y    .    .    Y    .
activity_inv       get             Y     Y     Y    .    .    Y    .
"""


def _parse(table: str) -> dict[tuple[str, str, str], bool]:
    """{(actor, resource, action): AWX grants it}."""
    out = {}
    for line in table.strip().splitlines():
        resource, action, *marks = line.split()
        assert len(marks) == len(ACTORS) and set(marks) <= {"Y", "."}, line
        for actor, mark in zip(ACTORS, marks):
            out[(actor, resource, action)] = mark == "Y"
    return out


EXPECTED = _parse(TABLE)
PLURAL = {"organization": "organizations", "user": "users", "superuser": "users", "team": "teams",
          "credential": "credentials", "project": "projects", "inventory": "inventories", "host": "hosts", "job_template": "job_templates",
          "job": "jobs", "own_job": "jobs", "ad_hoc_command": "ad_hoc_commands", "schedule": "schedules",
          "activity_jt": "activity_stream", "activity_inv": "activity_stream"}
EDIT_FIELD = {"user": "first_name", "superuser": "first_name"}     # everything else edits its description


# ==========================================================================================
# the world
# ==========================================================================================
class World:
    """Ids of the objects, clients of the actors, and the admin client to make twins."""

    def __init__(self, admin: Client, data_dir: Path) -> None:
        self.admin, self.data_dir = admin, data_dir
        self.client: dict[str, Client] = {"superuser": admin}
        self.uid: dict[str, int] = {}
        self.obj: dict[str, dict] = {}

    def id(self, resource: str) -> int:
        return self.obj[resource]["id"]

    def url(self, resource: str) -> str:
        return f"/api/v2/{PLURAL[resource]}/{self.id(resource)}/"

    def role(self, resource: str, field: str) -> int:
        return self.obj[resource]["summary_fields"]["object_roles"][field]["id"]


def _ok(resp, status: int = 204):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp


def _grant_user(admin: Client, role_id: int, uid: int) -> None:
    _ok(admin.post(f"/api/v2/roles/{role_id}/users/", {"id": uid}))


@pytest.fixture(scope="module")
def world(app_state, admin, make_user) -> World:
    w = World(admin, Path(app_state.settings.data_dir))
    w.uid["superuser"] = admin.get("/api/v2/me/").json["results"][0]["id"]
    for name in ACTORS[1:]:
        extra = {"is_system_auditor": True} if name == "auditor" else {}
        w.uid[name], w.client[name] = make_user(unique(name), **extra)
    w.uid["ua"], _ = make_user(unique("ua"))
    org = _ok(admin.post("/api/v2/organizations/", {"name": unique("A")}), 201).json
    org_b = _ok(admin.post("/api/v2/organizations/", {"name": unique("B")}), 201).json
    w.obj["organization"], w.obj["org_b"] = org, org_b
    _ok(admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": w.uid["org_admin"]}))
    for who in ("org_member", "ua"):
        _ok(admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": w.uid[who]}))
    _ok(admin.post(f"/api/v2/organizations/{org_b['id']}/users/", {"id": w.uid["outsider"]}))
    w.obj["user"] = admin.get(f"/api/v2/users/{w.uid['ua']}/").json
    w.obj["superuser"] = admin.get(f"/api/v2/users/{w.uid['superuser']}/").json
    team = _ok(admin.post("/api/v2/teams/", {"name": unique("TX"), "organization": org["id"]}), 201).json
    w.obj["team"] = team
    _ok(admin.post(f"/api/v2/teams/{team['id']}/users/", {"id": w.uid["executor"]}))
    w.obj["credential"] = _make_credential(w)
    w.obj["project"] = make_project(admin, w.data_dir, org, {"matrix.yml": PLAYBOOK})
    inv = make_inventory(admin, org, ["h1"])
    w.obj["inventory"] = admin.get(f"/api/v2/inventories/{inv['id']}/").json
    w.obj["host"] = admin.get(f"/api/v2/hosts/{inv['_hosts']['h1']}/").json
    _grant_user(admin, w.role("inventory", "read_role"), w.uid["inv_reader"])
    w.obj["job_template"] = make_jt(admin, w.obj["project"], inv, "matrix.yml", allow_simultaneous=True)
    _ok(admin.post(f"/api/v2/teams/{team['id']}/roles/", {"id": w.role("job_template", "execute_role")}))
    w.obj["schedule"] = _make_schedule(w)
    # the real runs: one job and one ad hoc command, finished with every event stored
    app_state.start_jobs(workers=2)
    try:
        job = _ok(admin.post(f"/api/v2/job_templates/{w.id('job_template')}/launch/", {}), 201).json
        adhoc = _make_adhoc(w)
        w.obj["job"] = wait_job(admin, job["id"], timeout=120)
        w.obj["ad_hoc_command"] = _wait_adhoc(admin, adhoc["id"])
    finally:
        app_state.stop_jobs()    # from here on launches stay pending: cancel and relaunch can be seen
    assert w.obj["job"]["status"] == "successful", w.obj["job"]
    assert w.obj["ad_hoc_command"]["status"] == "successful", w.obj["ad_hoc_command"]
    w.obj["own_job"] = admin.get(_twin(w, "own_job")).json
    w.obj["activity_jt"] = _creation_entry(admin, "job_templates", w.id("job_template"))
    w.obj["activity_inv"] = _creation_entry(admin, "inventories", w.id("inventory"))
    return w


def _make_credential(w: World) -> dict:
    ssh = w.admin.get("/api/v2/credential_types/?namespace=ssh").json["results"][0]["id"]
    return _ok(w.admin.post("/api/v2/credentials/", {
        "name": unique("cred"), "organization": w.id("organization"), "credential_type": ssh,
        "inputs": {"username": "someone"}}), 201).json


def _make_schedule(w: World) -> dict:
    return _ok(w.admin.post(f"/api/v2/job_templates/{w.id('job_template')}/schedules/", {
        "name": unique("sched"), "enabled": False,
        "rrule": "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"}), 201).json


def _make_adhoc(w: World) -> dict:
    return _ok(w.admin.post("/api/v2/ad_hoc_commands/", {
        "inventory": w.id("inventory"), "module_name": "debug", "module_args": f"msg={MARK}"}), 201).json


def _wait_adhoc(admin: Client, pk: int) -> dict:
    import time
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = admin.get(f"/api/v2/ad_hoc_commands/{pk}/").json
        if body["status"] in ("successful", "failed", "error", "canceled") and body["event_processing_finished"]:
            return body
        time.sleep(0.1)
    raise AssertionError(f"ad hoc command {pk} did not finish")


def _creation_entry(admin: Client, plural: str, pk: int) -> dict:
    rows = admin.get(f"/api/v2/{plural}/{pk}/activity_stream/?operation=create").json["results"]
    assert len(rows) == 1, rows
    return rows[0]


# ==========================================================================================
# twins: a fresh object placed like the original, for actions that destroy or change state
# ==========================================================================================
def _twin(w: World, resource: str) -> str:
    """URL of a new object of ``resource`` with the same organization, roles and parents."""
    a, org = w.admin, w.id("organization")
    if resource == "organization":
        new = _ok(a.post("/api/v2/organizations/", {"name": unique("A-twin")}), 201).json
        _ok(a.post(f"/api/v2/organizations/{new['id']}/admins/", {"id": w.uid["org_admin"]}))
        _ok(a.post(f"/api/v2/organizations/{new['id']}/users/", {"id": w.uid["org_member"]}))
    elif resource == "user":
        new = _ok(a.post("/api/v2/users/", {"username": unique("ua-twin"), "password": "pw-twin-1"}), 201).json
        _ok(a.post(f"/api/v2/organizations/{org}/users/", {"id": new["id"]}))
    elif resource == "team":
        new = _ok(a.post("/api/v2/teams/", {"name": unique("TX-twin"), "organization": org}), 201).json
        _ok(a.post(f"/api/v2/teams/{new['id']}/users/", {"id": w.uid["executor"]}))
    elif resource == "credential":
        new = _make_credential(w)
    elif resource == "project":
        new = make_project(a, w.data_dir, w.obj["organization"], {"matrix.yml": PLAYBOOK})
    elif resource == "inventory":
        new = _ok(a.post("/api/v2/inventories/", {"name": unique("I-twin"), "organization": org}), 201).json
        _grant_user(a, new["summary_fields"]["object_roles"]["read_role"]["id"], w.uid["inv_reader"])
    elif resource == "host":
        new = _ok(a.post("/api/v2/hosts/", {"name": unique("h-twin"), "inventory": w.id("inventory")}), 201).json
    elif resource == "job_template":
        new = make_jt(a, w.obj["project"], w.obj["inventory"], "matrix.yml")
        _ok(a.post(f"/api/v2/teams/{w.id('team')}/roles/",
                   {"id": new["summary_fields"]["object_roles"]["execute_role"]["id"]}))
    elif resource == "job":
        new = _ok(a.post(f"/api/v2/job_templates/{w.id('job_template')}/launch/", {}), 201).json
    elif resource == "own_job":     # launched by the executor, not by the superuser
        new = _ok(w.client["executor"].post(f"/api/v2/job_templates/{w.id('job_template')}/launch/", {}),
                  201).json
    elif resource == "ad_hoc_command":
        new = _make_adhoc(w)
    elif resource == "schedule":
        new = _make_schedule(w)
    else:
        raise AssertionError(resource)
    return f"/api/v2/{PLURAL[resource]}/{new['id']}/"


def _finished_twin(w: World, resource: str) -> str:
    """A twin job (or ad hoc command) that has ended: launched, then canceled while pending."""
    url = _twin(w, resource)
    _ok(w.admin.post(f"{url}cancel/", {}), 202)
    assert w.admin.get(url).json["status"] == "canceled"
    return url


# ==========================================================================================
# one checker per action: returns whether the actor was granted it (asserting state)
# ==========================================================================================
def list_ids(client: Client, url: str) -> set[int] | None:
    """Every id of a list (None when the list itself is refused)."""
    out: set[int] = set()
    url = url + ("&" if "?" in url else "?") + "page_size=200"
    while url:
        resp = client.get(url)
        if resp.status_code == 403:
            assert "results" not in resp.json
            return None
        assert resp.status_code == 200, (url, resp.status_code, resp.json)
        out |= {o["id"] for o in resp.json["results"]}
        url = resp.json["next"]
    return out


def _listed(client: Client, url: str, pk: int) -> bool:
    ids = list_ids(client, url)
    return ids is not None and pk in ids


def _fetch(client: Client, url: str, pk: int) -> bool:
    resp = client.get(url)
    if resp.status_code == 403:
        assert resp.json == FORBIDDEN
        return False
    assert resp.status_code == 200, (url, resp.status_code)
    assert resp.json["id"] == pk
    return True


def check_list(w: World, actor: str, resource: str) -> bool:
    return _listed(w.client[actor], f"/api/v2/{PLURAL[resource]}/", w.id(resource))


def check_get(w: World, actor: str, resource: str) -> bool:
    return _fetch(w.client[actor], w.url(resource), w.id(resource))


def check_patch(w: World, actor: str, resource: str) -> bool:
    field = EDIT_FIELD.get(resource, "description")
    before = w.admin.get(w.url(resource)).json
    value = unique(f"by-{actor}")
    resp = w.client[actor].patch(w.url(resource), {field: value})
    after = w.admin.get(w.url(resource)).json
    if resp.status_code == 200:
        assert resp.json[field] == value and after[field] == value
        return True
    assert resp.status_code in (403, 405), (resp.status_code, resp.json)
    assert after == before
    return False


def check_delete(w: World, actor: str, resource: str) -> bool:
    if resource.startswith("activity"):
        url = w.url(resource)       # nobody may delete history: the real entry is the target
    elif resource in ("job", "own_job", "ad_hoc_command"):
        url = _finished_twin(w, resource)
    else:
        url = _twin(w, resource)
    if resource == "host":
        # AWX: no host is deleted while a job of its inventory is active (409): end the pending
        # twins other checks left on the world's inventory first
        for kind in ("jobs", "ad_hoc_commands"):
            active = w.admin.get(f"/api/v2/{kind}/?inventory={w.id('inventory')}&page_size=200"
                                 "&status__in=new,pending,waiting,running").json["results"]
            for row in active:
                _ok(w.admin.post(f"/api/v2/{kind}/{row['id']}/cancel/", {}), 202)
    resp = w.client[actor].delete(url)
    # AWX answers 202 for an inventory (its deletion runs in the background), 204 otherwise
    if resp.status_code == (202 if resource == "inventory" else 204):
        assert w.admin.get(url).status_code == 404
        return True
    assert resp.status_code in (403, 405), (resp.status_code, resp.json)
    assert w.admin.get(url).status_code == 200
    return False


def _newest(w: World, plural: str) -> int:
    return max(list_ids(w.admin, f"/api/v2/{plural}/") or {0})


def check_launch(w: World, actor: str, resource: str) -> bool:
    last = _newest(w, "jobs")
    resp = w.client[actor].post(f"{w.url('job_template')}launch/", {})
    if resp.status_code == 201:
        job = w.admin.get(f"/api/v2/jobs/{resp.json['id']}/").json
        assert job["id"] > last and job["job_template"] == w.id("job_template")
        assert job["summary_fields"]["created_by"]["id"] == w.uid[actor]
        _ok(w.admin.post(f"/api/v2/jobs/{job['id']}/cancel/", {}), 202)
        return True
    assert resp.status_code == 403, (resp.status_code, resp.json)
    assert _newest(w, "jobs") == last
    return False


def check_relaunch(w: World, actor: str, resource: str) -> bool:
    plural = PLURAL[resource]
    last = _newest(w, plural)
    resp = w.client[actor].post(f"{w.url(resource)}relaunch/", {})
    if resp.status_code == 201:
        new_id = resp.json["id"]
        new = w.admin.get(f"/api/v2/{plural}/{new_id}/").json
        assert new_id > last and new["launch_type"] == "relaunch"
        assert new["summary_fields"]["created_by"]["id"] == w.uid[actor]
        _ok(w.admin.post(f"/api/v2/{plural}/{new_id}/cancel/", {}), 202)
        return True
    assert resp.status_code == 403, (resp.status_code, resp.json)
    assert _newest(w, plural) == last
    return False


def check_cancel(w: World, actor: str, resource: str) -> bool:
    url = _twin(w, resource)
    assert w.admin.get(url).json["status"] == "pending"
    resp = w.client[actor].post(f"{url}cancel/", {})
    status = w.admin.get(url).json["status"]
    if resp.status_code == 202:
        assert status == "canceled"
        return True
    assert resp.status_code == 403, (resp.status_code, resp.json)
    assert status == "pending"
    _ok(w.admin.post(f"{url}cancel/", {}), 202)
    return False


def check_cancel_done(w: World, actor: str, resource: str) -> bool:
    before = w.admin.get(w.url(resource)).json
    resp = w.client[actor].post(f"{w.url(resource)}cancel/", {})
    assert w.admin.get(w.url(resource)).json == before
    if resp.status_code in (403, 405):
        return False
    raise AssertionError((resp.status_code, resp.get_data(as_text=True)))


def check_stdout(w: World, actor: str, resource: str) -> bool:
    resp = w.client[actor].get(f"{w.url(resource)}stdout/?format=txt")
    if resp.status_code == 403:
        assert MARK not in resp.get_data(as_text=True)
        return False
    assert resp.status_code == 200 and MARK in resp.get_data(as_text=True)
    return True


def _sub_list(w: World, actor: str, url: str) -> bool:
    """A job's own sub-list: everything the superuser sees, or refused."""
    expected = list_ids(w.admin, url)
    assert expected, url
    got = list_ids(w.client[actor], url)
    assert got in (None, expected), (got, expected)
    return got is not None


def check_events(w: World, actor: str, resource: str) -> bool:
    sub = "job_events" if resource == "job" else "events"
    return _sub_list(w, actor, f"{w.url(resource)}{sub}/")


def check_host_summaries(w: World, actor: str, resource: str) -> bool:
    return _sub_list(w, actor, f"{w.url('job')}job_host_summaries/")


def _host_sub_list(w: World, actor: str, sub: str, key: str) -> bool:
    """The host's sub-list shows the job's rows only to those who may read the job."""
    url = f"{w.url('host')}{sub}/"
    mine = {r["id"] for r in w.admin.get(f"{url}?{key}={w.id('job')}&page_size=200").json["results"]}
    assert mine
    got = list_ids(w.client[actor], url)
    if not got or not (got & mine):
        return False
    assert mine <= got
    return True


def check_host_events(w: World, actor: str, resource: str) -> bool:
    return _host_sub_list(w, actor, "job_events", "job")


def check_host_summary(w: World, actor: str, resource: str) -> bool:
    return _host_sub_list(w, actor, "job_host_summaries", "job")


def check_unified_list(w: World, actor: str, resource: str) -> bool:
    return _listed(w.client[actor], "/api/v2/unified_jobs/?type=job", w.id("job"))


def check_inventory_list(w: World, actor: str, resource: str) -> bool:
    return _listed(w.client[actor], f"{w.url('inventory')}ad_hoc_commands/", w.id("ad_hoc_command"))


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


# ==========================================================================================
# the matrix
# ==========================================================================================
CASES = [pytest.param(actor, resource, action, id=f"{resource}-{action}-{actor}")
         for (actor, resource, action) in EXPECTED]


def test_table_is_complete():
    """Every action named in the table has a checker, and every actor has a row per cell."""
    actions = {a for (_u, _r, a) in EXPECTED}
    assert actions <= set(CHECKS), actions - set(CHECKS)
    cells = {(r, a) for (_u, r, a) in EXPECTED}
    assert len(EXPECTED) == len(cells) * len(ACTORS)


@pytest.mark.slow
@pytest.mark.parametrize("actor,resource,action", CASES)
def test_matrix(world, actor, resource, action):
    granted = CHECKS[action](world, actor, resource)
    expected = EXPECTED[(actor, resource, action)]
    assert granted == expected, (f"{actor} {'was granted' if granted else 'was refused'} {action} on "
                                 f"{resource}; AWX {'grants' if expected else 'refuses'} it")


@pytest.mark.slow
def test_world_unchanged(world):
    """The objects every cell read are still there, still visible as the table says."""
    for resource in ("organization", "team", "inventory", "job_template", "job", "ad_hoc_command"):
        for actor in ACTORS:
            assert check_get(world, actor, resource) == EXPECTED[(actor, resource, "get")], (actor, resource)


@pytest.mark.slow
def test_inventory_admin_cancels_but_does_not_delete_ad_hoc_commands(world, make_user):
    """AWX AdHocCommandAccess: the inventory's admin (or the launcher) cancels; only admins of
    the inventory's organization delete, even the launcher's own command."""
    w = world
    uid, inv_admin = make_user(unique("inv_admin"))
    _grant_user(w.admin, w.role("inventory", "admin_role"), uid)
    theirs = _ok(inv_admin.post("/api/v2/ad_hoc_commands/", {
        "inventory": w.id("inventory"), "module_name": "ping"}), 201).json
    others = _twin(w, "ad_hoc_command")
    _ok(inv_admin.post(f"{others}cancel/", {}), 202)
    _ok(inv_admin.post(f"/api/v2/ad_hoc_commands/{theirs['id']}/cancel/", {}), 202)
    for url in (others, f"/api/v2/ad_hoc_commands/{theirs['id']}/"):
        body = inv_admin.get(url).json
        assert body["status"] == "canceled"
        assert body["summary_fields"]["user_capabilities"]["delete"] is False
        assert inv_admin.delete(url).json == FORBIDDEN
        assert w.admin.get(url).status_code == 200
    assert w.client["org_admin"].delete(others).status_code == 204
    assert w.admin.get(others).status_code == 404

"""The helpers that now serve several callers each (issue 12's duplicate scan): fan-out and
one-row reads of the store, WHERE fragments, lenient JSON objects, DRF's object errors, the
freshness of project and inventory updates, and the machine credential's command line.
Each is checked on the real store of an initialized app, with the callers' old behaviour."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from controller.errors import ValidationError
from controller.jobs.job_run import BECOME_PROMPT, SSH_PROMPT, _inject
from controller.jobs.spec import RunSpec
from controller.services.validation import object_errors, require_object
from controller.services.variables import json_mapping
from controller.store import all_of
from controller.store import instances as instance_sql
from controller.store import jobs as jobq

from tests.controller.conftest import unique
from tests.support.jobs import make_inventory, make_org, make_project


def _iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) - delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_grouped_gives_every_key_a_list_in_statement_order(app_state):
    store = app_state.store
    a = store.insert("instance_groups", {"name": unique("ig"), "policy_instance_list": "[]"})
    b = store.insert("instance_groups", {"name": unique("ig"), "policy_instance_list": "[]"})
    i1 = store.insert("instances", {"hostname": unique("node")})
    i2 = store.insert("instances", {"hostname": unique("node")})
    for group, inst in ((a, i2), (a, i1)):
        instance_sql.link_member(store, group, inst)
    grouped = instance_sql.group_instances(store, [a, b])
    assert [r["id"] for r in grouped[a]] == [i1, i2] and grouped[b] == []
    assert all("grouped_by" not in r for r in grouped[a])
    assert instance_sql.instance_group_ids(store, [i1, i2]) == {i1: [a], i2: [a]}
    assert instance_sql.group_instances(store, []) == {}


def test_one_dict_is_the_row_or_none(app_state):
    store = app_state.store
    name = unique("ig")
    pk = store.insert("instance_groups", {"name": name, "policy_instance_list": "[]"})
    row = instance_sql.group_named(store, name)
    assert isinstance(row, dict) and row["id"] == pk and row == store.get("instance_groups", pk)
    assert instance_sql.group_named(store, unique("missing")) is None



def test_dicts_and_tuples_read_what_rows_read(app_state):
    """``Store.dicts`` / ``tuples`` skip ``sqlite3.Row`` but give the same columns, values and
    order; the connection they use keeps returning ``Row`` objects to everyone else."""
    store = app_state.store
    names = [unique("ig") for _ in range(3)]
    ids = [store.insert("instance_groups", {"name": n, "policy_instance_list": "[]"}) for n in names]
    sql = f"SELECT id, name AS label, 1 + 1 AS two FROM instance_groups WHERE id IN ({','.join('?' * 3)}) ORDER BY id DESC"
    assert store.dicts(sql, ids) == [dict(r) for r in store.query(sql, ids)] \
        == [{"id": pk, "label": n, "two": 2} for pk, n in reversed(list(zip(ids, names)))]
    assert store.tuples(sql, ids) == [(pk, n, 2) for pk, n in reversed(list(zip(ids, names)))]
    assert store.dicts("SELECT id FROM instance_groups WHERE 0") == []
    assert store.get_many("instance_groups", ids, "id, name") == {pk: {"id": pk, "name": n} for pk, n in zip(ids, names)}
    assert store.one("SELECT id FROM instance_groups WHERE id = ?", (ids[0],))["id"] == ids[0]   # still Rows


def test_connections_read_through_mmap(app_state):
    assert app_state.store.scalar("PRAGMA mmap_size") > 0
def test_all_of_skips_empty_fragments():
    assert all_of(None, ("", []), ("1", [])) == ("1", [])
    assert all_of(("a = ?", [1]), None, ("b IN (?, ?)", [2, 3])) == ("(a = ?) AND (b IN (?, ?))", [1, 2, 3])


@pytest.mark.parametrize("value, expected", [
    ({"a": 1}, {"a": 1}), ('{"a": 1}', {"a": 1}), ("", {}), ("  ", {}), (None, {}), ("[1]", {}),
    ("not json", {}), (b'{"a": 1}', {}), (7, {}),
])
def test_json_mapping_reads_objects_leniently(value, expected):
    assert json_mapping(value) == expected


def test_object_errors_are_drf_shaped():
    assert object_errors({}) == {}
    assert object_errors([1]) == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert require_object({"a": 1}) == {"a": 1}
    with pytest.raises(ValidationError) as caught:
        require_object("text")
    assert caught.value.body == {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}


def test_update_freshness_of_projects_and_inventory_sources(app_state, admin):
    store = app_state.store
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"site.yml": "- hosts: all\n"})["id"]
    inventory = make_inventory(admin, org)["id"]
    resp = admin.post(f"/api/v2/inventories/{inventory}/inventory_sources/",
                      {"name": unique("src"), "source": "scm", "source_project": project, "source_path": "hosts"})
    assert resp.status_code == 201, resp.json
    source = resp.json["id"]
    assert not jobq.update_is_fresh(store, project, 60)
    store.insert("project_updates", {"name": "u", "project": project, "status": "failed",
                                     "finished": _iso(timedelta(seconds=5))})
    store.insert("inventory_updates", {"name": "u", "inventory_source": source, "status": "successful",
                                       "finished": _iso(timedelta(hours=2))})
    assert not jobq.update_is_fresh(store, project, 60)           # failed updates never count
    assert not jobq.inventory_update_is_fresh(store, source, 60)  # too old
    assert jobq.inventory_update_is_fresh(store, source, 3 * 3600)
    store.insert("project_updates", {"name": "u", "project": project, "status": "successful",
                                     "finished": _iso(timedelta(seconds=5))})
    assert jobq.update_is_fresh(store, project, 60)
    assert not jobq.update_is_fresh(store, project, 0)             # 0: never fresh


def test_machine_credential_command_line(app_state, admin):
    types = admin.get("/api/v2/credential_types/?namespace=ssh").json["results"]
    ctype = app_state.store.get("credential_types", types[0]["id"])
    spec = RunSpec(ident="x")
    inputs = {"username": "deployer", "password": "ASK", "become_method": "sudo", "become_username": "root",
              "become_password": "b-secret"}
    _inject(spec, ctype, inputs, {"ssh_password": "s-secret"}, "/nonexistent", 0)
    assert spec.args == ["-u", "deployer", "--ask-pass", "--become-method", "sudo", "--become-user", "root",
                         "--ask-become-pass"]
    assert spec.passwords == {SSH_PROMPT: "s-secret", BECOME_PROMPT: "b-secret"}
    assert "s-secret" in spec.secrets and "b-secret" in spec.secrets and "ASK" not in spec.secrets
    spec = RunSpec(ident="y")
    _inject(spec, ctype, {"username": "deployer"}, {}, "/nonexistent", 0)
    assert spec.args == ["-u", "deployer"] and spec.passwords == {}
    assert json.loads(json.dumps(spec.args)) == spec.args

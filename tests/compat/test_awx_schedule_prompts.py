"""The real awx.awx 24.6.1 ``schedule`` module with ``credentials:`` and ``labels:`` against a
live controller: create, the same again (``changed: false``), a change, then emptied lists;
every state read back through the HTTP API.

awx.awx 24.6.1 facts these tests rely on (plugins/modules/schedule.py): credentials are
resolved by name and labels looked up by name (they must exist), both sent as associations:
the module lists ``/schedules/N/credentials/`` and ``labels/`` and POSTs ``{"id": N}`` for
each missing one and ``{"id": N, "disassociate": true}`` for each extra one; an empty list
detaches everything, a list left out touches nothing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import expect, local_world, only

from .awx_collection import describe, ensure_awx_collection, run_recorded
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]

PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"
RULE = "DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1"


@pytest.fixture(scope="module")
def world(controller) -> dict:
    """A job template asking for credentials and labels, two credentials of one custom type,
    one of another, and two labels."""
    tag = unique("SchedP").replace("-", "")
    made = local_world(controller, tag, tag.lower(), {"hello.yml": PLAY}, {
        f"{tag} jt": ("hello.yml", {"ask_credential_on_launch": True, "ask_labels_on_launch": True})})
    org = made["org"]["id"]
    with controller.client() as api:
        types = [expect(api.post("/api/v2/credential_types/", json={
            "name": f"{tag} type {i}", "kind": "cloud", "inputs": {"fields": [{"id": "who", "label": "Who"}]},
            "injectors": {"env": {f"WHO_{i}": "{{ who }}"}}}), 201) for i in (1, 2)]
        creds = {name: expect(api.post("/api/v2/credentials/", json={
            "name": f"{tag} {name}", "organization": org, "credential_type": types[t]["id"], "inputs": {"who": name}}),
            201) for name, t in (("a", 0), ("b", 0), ("c", 1))}
        labels = {name: expect(api.post("/api/v2/labels/", json={"name": f"{tag} {name}", "organization": org}), 201)
                  for name in ("red", "blue")}
    return {"jt": f"{tag} jt", "schedule": f"{tag} nightly", "creds": creds, "labels": labels}


def run(controller, work: Path, tag: str, tasks: list[dict]) -> dict:
    """Run ``tasks`` (name, module args) as awx.awx.schedule tasks; {task name: result}."""
    got, proc = run_recorded(controller, work, f"schedule-{tag}", [
        {"name": name, "awx.awx.schedule": args, "register": f"r_{name}"} for name, args in tasks],
        ignore_errors=False)
    assert proc.returncode == 0, describe(proc)
    return got


def state(api, name: str) -> tuple[set[str], set[str]]:
    """(credential names, label names) of the schedule called ``name``."""
    s = only(api, "/api/v2/schedules/", name=name)
    creds = expect(api.get(f"/api/v2/schedules/{s['id']}/credentials/"), 200)["results"]
    labels = expect(api.get(f"/api/v2/schedules/{s['id']}/labels/"), 200)["results"]
    return {c["name"] for c in creds}, {x["name"] for x in labels}


def test_schedule_module_sets_credentials_and_labels(controller, api, world, tmp_path):
    ensure_awx_collection()
    creds, labels = world["creds"], world["labels"]
    base = {"name": world["schedule"], "unified_job_template": world["jt"], "rrule": RULE}
    first = {**base, "credentials": [creds["a"]["name"], creds["c"]["name"]], "labels": [labels["red"]["name"]]}
    got = run(controller, tmp_path, "create", [("create", first), ("again", first)])
    assert [got["create"]["changed"], got["again"]["changed"]] == [True, False]
    assert state(api, world["schedule"]) == ({creds["a"]["name"], creds["c"]["name"]}, {labels["red"]["name"]})

    # the other credential of type 1 replaces "a" (the module detaches first); labels swap
    second = {**base, "credentials": [creds["b"]["name"], creds["c"]["name"]], "labels": [labels["blue"]["name"]]}
    got = run(controller, tmp_path, "change", [("change", second), ("change_again", second),
                                                ("untouched", base)])
    assert [got[t]["changed"] for t in ("change", "change_again", "untouched")] == [True, False, False]
    assert state(api, world["schedule"]) == ({creds["b"]["name"], creds["c"]["name"]}, {labels["blue"]["name"]})

    got = run(controller, tmp_path, "clear", [("clear", {**base, "credentials": [], "labels": []})])
    assert got["clear"]["changed"] is True
    assert state(api, world["schedule"]) == (set(), set())

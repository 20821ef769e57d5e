"""turret.controller.credential_input_source against a live controller: check mode writes nothing,
create, the same again unchanged, update of the metadata (keys not given keep their values) and
of the source, absent (twice); and a refusal carries the server's message."""
from __future__ import annotations

import pytest

from .conftest import failed_cleanly

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(controller):
    with controller.client() as api:
        org = api.post("/api/v2/organizations/", {"name": "CISOrg"}).json()

        def type_id(namespace: str) -> int:
            return api.get("/api/v2/credential_types/", params={"namespace": namespace}).json()["results"][0]["id"]

        def cred(name: str, namespace: str, inputs: dict) -> dict:
            resp = api.post("/api/v2/credentials/", {"name": name, "organization": org["id"], "inputs": inputs,
                                                     "credential_type": type_id(namespace)})
            assert resp.status_code == 201, resp.text
            return resp.json()
        kv = {"url": "http://127.0.0.1:8200", "token": "t", "api_version": "v2"}
        return {"target": cred("cis-machine", "ssh", {"username": "deploy"}),
                "vault": cred("cis-vault", "hashivault_kv", kv), "vault2": cred("cis-vault-2", "hashivault_kv", kv)}


def test_credential_input_source_lifecycle(world, api, play):
    args = {"target_credential": "cis-machine", "input_field_name": "password", "source_credential": "cis-vault",
            "metadata": {"secret_path": "/kv/deploy", "secret_key": "password"}}
    check = play([{"turret.controller.credential_input_source": args, "check_mode": True}])
    assert check[0]["changed"] is True and check[0]["id"] is None
    listed = api.get("/api/v2/credential_input_sources/", params={"target_credential": world["target"]["id"]})
    assert listed.json()["count"] == 0
    p = play([
        {"turret.controller.credential_input_source": args, "diff": True},
        {"turret.controller.credential_input_source": args},
        {"turret.controller.credential_input_source": {**args, "metadata": {"secret_key": "pw"}}},
        {"turret.controller.credential_input_source": {
            "target_credential": "cis-machine", "input_field_name": "password", "source_credential": "cis-vault-2",
            "description": "moved"}},
    ])
    created, again, metadata, moved = p.results
    assert created["changed"] is True and again["changed"] is False and again["id"] == created["id"]
    assert metadata["changed"] is True and moved["changed"] is True
    stored = api.get(f"/api/v2/credential_input_sources/{created['id']}/").json()
    assert stored["metadata"] == {"secret_path": "/kv/deploy", "secret_key": "pw"}
    assert (stored["source_credential"], stored["target_credential"], stored["description"]) == \
        (world["vault2"]["id"], world["target"]["id"], "moved")
    gone = play([{"turret.controller.credential_input_source": {
        "target_credential": "cis-machine", "input_field_name": "password", "state": "absent"}}] * 2)
    assert [r["changed"] for r in gone.results] == [True, False]
    assert api.get(f"/api/v2/credential_input_sources/{created['id']}/").status_code == 404


def test_credential_input_source_refusals(world, play):
    bad_field, no_source = play([
        {"turret.controller.credential_input_source": {"target_credential": "cis-machine", "input_field_name": "pin",
                                                       "source_credential": "cis-vault",
                                                       "metadata": {"secret_path": "/x", "secret_key": "k"}}},
        {"turret.controller.credential_input_source": {"target_credential": "cis-machine",
                                                       "input_field_name": "username"}},
    ]).results
    failed_cleanly(bad_field, "Input field must be defined on target credential")
    failed_cleanly(no_source, "source_credential")

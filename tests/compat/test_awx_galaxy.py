"""awx.awx 24.6.1's ``organization`` module keeps an organization's ``galaxy_credentials`` as an
ordered list (its ``ordered_associations``): it reads the sub-list, and when the order differs
detaches everything and attaches again in order.  The server must list them in association order
and keep the managed "Ansible Galaxy" credential the demo seeds usable by name."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import expect

from .awx_collection import describe, run_play
from .clients import unique

pytestmark = [pytest.mark.compat, pytest.mark.slow]


def _run(controller, work: Path, tag: str, org: str, creds: list[str]):
    return run_play(controller, work, tag, [{"name": "organization", "awx.awx.organization": {
        "name": org, "galaxy_credentials": creds}}], name="galaxy credentials with awx.awx")


def test_awx_organization_galaxy_credentials_keep_their_order(controller, api, tmp_path):
    org = unique("org")
    galaxy_type = expect(api.get("/api/v2/credential_types/", params={"namespace": "galaxy_api_token"}),
                         200)["results"][0]["id"]
    hub = expect(api.post("/api/v2/credentials/", json={"name": unique("hub"), "organization": 1,
                                                        "credential_type": galaxy_type,
                                                        "inputs": {"url": "https://hub.example/", "token": "t0k"}}),
                 201)
    public = expect(api.get("/api/v2/credentials/", params={"name": "Ansible Galaxy"}), 200)["results"][0]

    first = _run(controller, tmp_path, "first", org, [hub["name"], "Ansible Galaxy"])
    assert "changed=1" in first.stdout, describe(first)
    [row] = expect(api.get("/api/v2/organizations/", params={"name": org}), 200)["results"]
    url = f"/api/v2/organizations/{row['id']}/galaxy_credentials/"
    assert [c["id"] for c in expect(api.get(url), 200)["results"]] == [hub["id"], public["id"]]

    second = _run(controller, tmp_path, "second", org, [hub["name"], "Ansible Galaxy"])
    assert "changed=0" in second.stdout, describe(second)

    swapped = _run(controller, tmp_path, "swapped", org, ["Ansible Galaxy", hub["name"]])
    assert "changed=1" in swapped.stdout, describe(swapped)
    assert [c["id"] for c in expect(api.get(url), 200)["results"]] == [public["id"], hub["id"]]

    emptied = _run(controller, tmp_path, "emptied", org, [])
    assert "changed=1" in emptied.stdout, describe(emptied)
    assert expect(api.get(url), 200)["count"] == 0

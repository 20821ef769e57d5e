"""The real ``awx`` CLI on credential types: managed kinds listed, a custom type created with
inputs and injectors (JSON flags), modified, used by a credential, and deleted."""
from __future__ import annotations

import json

import pytest

from .clients import unique

pytestmark = pytest.mark.compat


def test_credential_types_round_trip(awx, api):
    managed = awx.json("credential_types", "list", "--managed", "true", "--all")
    names = {t["name"] for t in managed["results"]}
    assert {"Machine", "Source Control", "Vault"} <= names and managed["count"] == len(managed["results"])
    machine = awx.json("credential_types", "get", "Machine")
    assert machine["kind"] == "ssh" and machine["managed"] is True

    name = unique("ctype")
    inputs = {"fields": [{"id": "api_token", "label": "API token", "type": "string", "secret": True}],
              "required": ["api_token"]}
    injectors = {"env": {"MY_API_TOKEN": "{{ api_token }}"}}
    created = awx.json("credential_types", "create", "--name", name, "--kind", "cloud",
                       "--inputs", json.dumps(inputs), "--injectors", json.dumps(injectors))
    stored = api.get(f"/api/v2/credential_types/{created['id']}/").json()
    assert stored["inputs"] == inputs and stored["injectors"] == injectors and stored["managed"] is False

    awx.json("credential_types", "modify", name, "--description", "tokens for the bench API")
    assert api.get(f"/api/v2/credential_types/{created['id']}/").json()["description"] == "tokens for the bench API"

    cred = awx.json("credentials", "create", "--name", unique("cred"), "--credential_type", name,
                    "--organization", "Default", "--inputs", json.dumps({"api_token": "tok-12345"}))
    assert api.get(f"/api/v2/credentials/{cred['id']}/").json()["inputs"] == {"api_token": "$encrypted$"}

    # a managed type cannot be changed, whatever the client
    refused = awx.fails("credential_types", "modify", "Machine", "--description", "mine")
    assert "Modifications not allowed for managed credential types" in refused.stdout + refused.stderr
    assert api.get(f"/api/v2/credential_types/{machine['id']}/").json()["description"] == machine["description"]

    api.delete(f"/api/v2/credentials/{cred['id']}/")
    assert awx.run("credential_types", "delete", name).returncode == 0
    assert api.get(f"/api/v2/credential_types/{created['id']}/").status_code == 404

"""turret.controller.organization keeps an organization's galaxy credentials in the order given
(the order its projects' updates try the servers in), against a live controller."""
from __future__ import annotations


def _galaxy(api, org_id: int, name: str, url: str) -> int:
    galaxy_type = api.get("/api/v2/credential_types/?namespace=galaxy_api_token").json()["results"][0]["id"]
    resp = api.post("/api/v2/credentials/", {"name": name, "organization": org_id, "credential_type": galaxy_type,
                                             "inputs": {"url": url}})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_organization_galaxy_credentials_in_order(api, play):
    t = "turret.controller.organization"
    org = api.post("/api/v2/organizations/", {"name": "GalaxyOrg"}).json()
    hub, galaxy = _galaxy(api, org["id"], "hub", "https://hub.example/"), _galaxy(api, org["id"], "pub", "https://g.example/")
    listed = f"/api/v2/organizations/{org['id']}/galaxy_credentials/"
    p = play([{t: {"name": "GalaxyOrg", "galaxy_credentials": ["hub", "pub"]}},
              {t: {"name": "GalaxyOrg", "galaxy_credentials": ["hub", "pub"]}},
              {t: {"name": "GalaxyOrg", "galaxy_credentials": ["pub", "hub"]}, "check_mode": True},
              {t: {"name": "GalaxyOrg", "galaxy_credentials": ["pub", "hub"]}, "diff": True}])
    assert [r["changed"] for r in p.results] == [True, False, True, True]
    assert [c["id"] for c in api.get(listed).json()["results"]] == [galaxy, hub]
    p = play([{t: {"name": "GalaxyOrg", "galaxy_credentials": []}}])
    assert p[0]["changed"] is True and api.get(listed).json()["count"] == 0

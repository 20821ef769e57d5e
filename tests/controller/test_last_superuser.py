"""The last superuser can be neither demoted nor deleted (issue 11, defect 13).

AWX's UserAccess refuses to delete the last superuser; Turret also refuses to demote it
(PATCH/PUT ``is_superuser: false``), which would leave nobody able to administer the system.
Each case checks the stored row and the user's powers afterwards, not only the status.
"""
from __future__ import annotations

import pytest

from conftest import ADMIN_PASSWORD, Client, unique

MESSAGE = "Cannot remove superuser status from the last superuser."
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def _superusers(app_state) -> set[str]:
    return {r[0] for r in app_state.store.query("SELECT username FROM users WHERE is_superuser = 1")}


def _admin_id(admin) -> int:
    return admin.get("/api/v2/me/").get_json()["results"][0]["id"]


@pytest.fixture()
def only_admin(app_state, admin):
    """Precondition of every test: ``admin`` is the only superuser (and stays so afterwards)."""
    assert _superusers(app_state) == {"admin"}
    yield _admin_id(admin)
    assert _superusers(app_state) == {"admin"}


def test_the_last_superuser_cannot_demote_itself(app_state, admin, only_admin):
    url = f"/api/v2/users/{only_admin}/"
    before = admin.get(url).get_json()
    resp = admin.patch(url, {"is_superuser": False})
    assert resp.status_code == 400
    assert resp.get_json() == {"is_superuser": [MESSAGE]}
    resp = admin.put(url, {"username": "admin", "is_superuser": False})
    assert resp.status_code == 400 and resp.get_json() == {"is_superuser": [MESSAGE]}
    after = admin.get(url).get_json()
    assert after == before and after["is_superuser"] is True
    # still a superuser in practice: may create organizations
    resp = admin.post("/api/v2/organizations/", {"name": unique("still-super")})
    assert resp.status_code == 201
    # other edits of the last superuser still work, including sending is_superuser: true
    resp = admin.patch(url, {"first_name": "Root", "is_superuser": True})
    assert resp.status_code == 200 and resp.get_json()["first_name"] == "Root"


def test_the_last_superuser_cannot_be_deleted(app_state, admin, only_admin):
    url = f"/api/v2/users/{only_admin}/"
    assert admin.get(url).get_json()["summary_fields"]["user_capabilities"]["delete"] is False
    resp = admin.delete(url)
    assert resp.status_code == 403 and "detail" in resp.get_json()
    assert admin.get(url).status_code == 200


def test_with_two_superusers_each_can_go_but_not_both(app_state, admin, make_user, only_admin):
    su2_id, su2 = make_user(unique("su2"), is_superuser=True)
    assert _superusers(app_state) == {"admin", su2.get("/api/v2/me/").get_json()["results"][0]["username"]}
    admin_url, su2_url = f"/api/v2/users/{only_admin}/", f"/api/v2/users/{su2_id}/"
    # two superusers: deleting the other is offered and demoting oneself is allowed
    assert admin.get(su2_url).get_json()["summary_fields"]["user_capabilities"]["delete"] is True
    resp = admin.patch(admin_url, {"is_superuser": False})
    assert resp.status_code == 200 and resp.get_json()["is_superuser"] is False
    try:
        # now su2 is the last one: it may neither demote nor delete itself, and admin (no
        # longer a superuser) may not delete it either
        resp = su2.patch(su2_url, {"is_superuser": False})
        assert resp.status_code == 400 and resp.get_json() == {"is_superuser": [MESSAGE]}
        assert su2.delete(su2_url).status_code == 403
        resp = admin.delete(su2_url)
        assert resp.status_code == 403 and resp.get_json() == FORBIDDEN
        assert su2.get(su2_url).get_json()["is_superuser"] is True
        assert su2.get(su2_url).get_json()["summary_fields"]["user_capabilities"]["delete"] is False
    finally:
        resp = su2.patch(admin_url, {"is_superuser": True})
        assert resp.status_code == 200 and resp.get_json()["is_superuser"] is True
    # two again: admin may delete su2, which leaves admin the only one
    assert admin.delete(su2_url).status_code == 204
    assert admin.get(su2_url).status_code == 404
    assert Client(admin.app, "admin", ADMIN_PASSWORD).get("/api/v2/me/").get_json()["results"][0]["is_superuser"]

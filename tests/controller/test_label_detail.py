"""``/api/v2/labels/N/`` is AWX 24.6.1's LabelDetail, a retrieve/update view: DELETE is a 405
with DRF's body for every user (an organization admin, a superuser, a label that does not exist),
``Allow`` and OPTIONS do not offer it, and the label row stays.  A label goes only when its last
detach leaves it attached to nothing (test_label_detach.py).  Label objects carry no
``user_capabilities`` (AWX's LabelSerializer shows none).  PUT/PATCH still work for the
organization's admins."""
from __future__ import annotations

import pytest

from tests.controller.conftest import unique

NOT_ALLOWED = {"detail": 'Method "DELETE" not allowed.'}
DETAIL_ALLOW = "GET, PUT, PATCH, HEAD, OPTIONS"


@pytest.fixture(scope="module")
def org(make_org) -> dict:
    return make_org()


@pytest.fixture(scope="module")
def org_admin(admin, make_user, org):
    """A client acting as an admin (not a superuser) of ``org``."""
    uid, client = make_user()
    role = org["summary_fields"]["object_roles"]["admin_role"]["id"]
    assert admin.post(f"/api/v2/roles/{role}/users/", {"id": uid}).status_code == 204
    return client


def new_label(admin, org: dict) -> dict:
    resp = admin.post("/api/v2/labels/", {"name": unique("lbl"), "organization": org["id"]})
    assert resp.status_code == 201, resp.json
    return resp.json


def stored_name(app_state, label: dict) -> str | None:
    row = app_state.store.one("SELECT name FROM labels WHERE id = ?", (label["id"],))
    return row["name"] if row else None


def test_delete_is_not_allowed_for_anyone(admin, app_state, org, org_admin):
    label = new_label(admin, org)
    for client in (admin, org_admin):
        resp = client.delete(f"/api/v2/labels/{label['id']}/")
        assert (resp.status_code, resp.json) == (405, NOT_ALLOWED)
        assert resp.headers["Allow"] == DETAIL_ALLOW
    assert stored_name(app_state, label) == label["name"]
    assert admin.get(f"/api/v2/labels/{label['id']}/").json["name"] == label["name"]
    deletes = admin.get("/api/v2/activity_stream/?operation=delete&object1=label&page_size=200").json["results"]
    assert all(e["changes"].get("name") != label["name"] for e in deletes)


def test_delete_of_a_missing_label_is_a_405_too(admin, app_state):
    """DRF checks the method before it looks the object up."""
    missing = (app_state.store.scalar("SELECT max(id) FROM labels") or 0) + 1000
    resp = admin.delete(f"/api/v2/labels/{missing}/")
    assert (resp.status_code, resp.json) == (405, NOT_ALLOWED)


def test_options_and_allow_do_not_offer_delete(admin, org, org_admin):
    label = new_label(admin, org)
    for client in (admin, org_admin):
        resp = client.options(f"/api/v2/labels/{label['id']}/")
        assert resp.status_code == 200
        assert resp.headers["Allow"] == DETAIL_ALLOW
        assert "DELETE" not in resp.json.get("actions", {})
        assert client.get(f"/api/v2/labels/{label['id']}/").headers["Allow"] == DETAIL_ALLOW


def test_a_label_shows_no_user_capabilities(admin, org, org_admin):
    label = new_label(admin, org)
    for client in (admin, org_admin):
        detail = client.get(f"/api/v2/labels/{label['id']}/").json
        assert "user_capabilities" not in detail["summary_fields"]
        listed = client.get(f"/api/v2/labels/?id={label['id']}").json["results"]
        assert [("user_capabilities" in x["summary_fields"]) for x in listed] == [False]
    assert detail["summary_fields"]["organization"]["id"] == org["id"]


def test_the_organization_admin_still_renames_a_label(admin, app_state, org, org_admin, make_user):
    label = new_label(admin, org)
    resp = org_admin.patch(f"/api/v2/labels/{label['id']}/", {"name": label["name"] + "-renamed"})
    assert resp.status_code == 200, resp.json
    assert stored_name(app_state, label) == label["name"] + "-renamed"
    _, outsider = make_user()
    assert outsider.patch(f"/api/v2/labels/{label['id']}/", {"name": "x"}).status_code == 403
    assert stored_name(app_state, label) == label["name"] + "-renamed"

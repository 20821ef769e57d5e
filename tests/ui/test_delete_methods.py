"""Delete follows the resource's declared methods (test client): a resource whose detail takes
no DELETE (the API's ``Allow`` header leaves it out, e.g. labels as in AWX) shows no Delete button
even when ``user_capabilities.delete`` says true, and its confirmation page answers the 405 the
API's DELETE would, deleting nothing.  Checked by declaring a resource not deletable in the app's
own registry (labels have no page of their own: only the confirmation address)."""
from __future__ import annotations

import pytest

from tests.support.jobs import make_org, uniq

from .page_client import page_fixtures

app, api, ui = page_fixtures()


@pytest.fixture()
def undeletable(app, monkeypatch):
    """Declare a resource of the running app without DELETE for one test."""
    registry = app.config["TURRET"].registry

    def declare(name: str) -> None:
        monkeypatch.setattr(registry[name], "deletable", False)
    return declare


def test_a_resource_without_delete_shows_no_button_and_its_question_is_a_405(app, ui, api, undeletable):
    team = api.post("/api/v2/teams/", {"name": uniq("team"), "organization": make_org(api)["id"]}).json
    link = f'href="/ui/teams/{team["id"]}/delete" data-action="delete"'
    assert link in ui.get(f"/ui/teams/{team['id']}").text            # deletable: the button is there

    undeletable("team")
    assert "DELETE" not in api.request("OPTIONS", f"/api/v2/teams/{team['id']}/").headers["Allow"]
    # the API still says the user may delete (a capability), the declaration says no DELETE
    assert api.one(f"/api/v2/teams/{team['id']}/")["summary_fields"]["user_capabilities"]["delete"] is True
    page = ui.get(f"/ui/teams/{team['id']}")
    assert page.status_code == 200 and link not in page.text and f"/ui/teams/{team['id']}/delete" not in page.text
    ask = ui.get(f"/ui/teams/{team['id']}/delete")
    assert ask.status_code == 405 and 'Method &#34;DELETE&#34; not allowed.' in ask.text
    assert ui.post(f"/ui/teams/{team['id']}/delete", {}).status_code == 405
    assert api.one(f"/api/v2/teams/{team['id']}/")["name"] == team["name"]


def test_a_label_without_delete_has_no_confirmation_page(app, ui, api):
    """As declared (AWX's LabelDetail has no DELETE): nothing in this test makes it so."""
    label = api.post("/api/v2/labels/", {"name": uniq("tag"), "organization": make_org(api)["id"]}).json
    assert "DELETE" not in api.request("OPTIONS", f"/api/v2/labels/{label['id']}/").headers["Allow"]
    ask = ui.get(f"/ui/labels/{label['id']}/delete")
    assert ask.status_code == 405 and "Method not allowed" in ask.text and 'data-action="cancel"' not in ask.text
    assert ui.post(f"/ui/labels/{label['id']}/delete", {}).status_code == 405
    assert api.one(f"/api/v2/labels/{label['id']}/")["name"] == label["name"]

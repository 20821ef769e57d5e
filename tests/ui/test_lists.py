"""Lists and error pages in-process: the search box takes AWX's query language, headers sort,
every list pages; HTML 403/404/405 pages inside /ui/; page titles; buttons a user may not use
are not shown and the server refuses them anyway."""
from __future__ import annotations

import re

import pytest

from .forms_support import Api, form_fixtures, login, post


app, admin = form_fixtures()


@pytest.fixture(scope="module")
def api(app):
    api = Api(app)
    for i in range(30):
        api.post("/api/v2/organizations/", {"name": f"list-org-{i:02d}", "description": "web" if i % 3 == 0 else ""})
    return api


def names(html: str) -> list[str]:
    """The linked names of a generic list's rows, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a>', body)


def test_search_box_accepts_the_query_language(admin, api):
    page = admin.get("/ui/organizations?search=name__icontains%3Dlist-org-1")
    assert names(page.text) == [f"list-org-{i}" for i in range(10, 20)]
    assert 'value="name__icontains=list-org-1"' in page.text               # the box keeps what was typed
    both = admin.get("/ui/organizations?search=name__startswith%3Dlist-org+description%3Dweb")
    assert names(both.text) == [f"list-org-{i:02d}" for i in range(0, 30, 3)]
    words = admin.get("/ui/organizations?search=list-org-29")
    assert names(words.text) == ["list-org-29"]                           # plain words: AWX's search=
    bad = admin.get("/ui/organizations?search=nosuchfield__exact%3D1")
    assert bad.status_code == 200 and names(bad.text) == []
    assert re.search(r'<div class="errors" role="alert"><ul><li>[^<]*nosuchfield', bad.text)
    hosts = admin.get("/ui/hosts?search=name%3Dlocalhost")
    assert names(hosts.text) == ["localhost"]


def test_headers_sort_and_lists_page(admin, api):
    first = admin.get("/ui/organizations?search=name__startswith%3Dlist-org&order_by=name")
    assert names(first.text)[:3] == ["list-org-00", "list-org-01", "list-org-02"]
    assert re.search(r'aria-sort="ascending"><a href="\?search=[^"]*order_by=-name"', first.text)
    desc = admin.get("/ui/organizations?search=name__startswith%3Dlist-org&order_by=-name")
    assert names(desc.text)[:2] == ["list-org-29", "list-org-28"] and 'aria-sort="descending"' in desc.text
    assert "Page 1 of 2 (30 items)" in desc.text and len(names(desc.text)) == 25
    nxt = re.search(r'<a rel="next" href="([^"]+)"', desc.text).group(1).replace("&amp;", "&")
    second = admin.get(f"/ui/organizations{nxt}")
    assert names(second.text) == [f"list-org-{i:02d}" for i in range(4, -1, -1)]      # order kept across pages
    assert 'rel="prev"' in second.text and "Page 2 of 2" in second.text
    past = admin.get("/ui/organizations?search=name__startswith%3Dlist-org&page=9")
    assert past.status_code == 200 and "Page 1 of 2" in past.text                     # past the end: the first
    users = admin.get("/ui/users?order_by=-username")
    assert users.status_code == 200 and 'data-sort="username"' in users.text


def test_html_error_pages_inside_ui(app, admin, api):
    for path in ("/ui/no-such-page", "/ui/organizations/999999", "/ui/no/such/thing", "/ui/organizations/999999/edit"):
        resp = admin.get(path)
        assert resp.status_code == 404 and resp.mimetype == "text/html", path
        assert "<h1>Not found</h1>" in resp.text and "<title>Not found | Error 404 | Turret</title>" in resp.text
    wrong = admin.get("/ui/inventory_sources/1/sync")
    assert wrong.status_code == 405 and "<h1>Method not allowed</h1>" in wrong.text
    api.user("lists-nobody", "nobody-pw-1")
    nobody = login(app, "lists-nobody", "nobody-pw-1")
    hidden = nobody.get("/ui/inventories/1")
    assert hidden.status_code in (403, 404) and hidden.mimetype == "text/html" and "<h1>" in hidden.text
    assert app.test_client().get("/ui/no-such-page").status_code == 302           # anonymous: log in first


def test_titles_and_headings_say_where_you_are(admin, api):
    org = api.get("/api/v2/organizations/?name=list-org-05")["results"][0]
    detail = admin.get(f"/ui/organizations/{org['id']}")
    assert "<title>list-org-05 | Organizations | Turret</title>" in detail.text
    assert "<h1>list-org-05</h1>" in detail.text
    edit = admin.get(f"/ui/organizations/{org['id']}/edit")
    assert "<title>Edit list-org-05 | Organizations | Turret</title>" in edit.text
    assert "<title>Organizations | Turret</title>" in admin.get("/ui/organizations").text


def test_buttons_a_user_may_not_use_are_hidden_and_refused(app, api):
    org = api.get("/api/v2/organizations/?name=list-org-07")["results"][0]
    member = api.user("lists-member", "member-pw-1")
    api.post(f"/api/v2/organizations/{org['id']}/users/", {"id": member["id"]})
    client = login(app, "lists-member", "member-pw-1")
    listing = client.get("/ui/organizations")
    assert "list-org-07" in listing.text and 'data-action="new"' not in listing.text
    page = client.get(f"/ui/organizations/{org['id']}")
    assert page.status_code == 200
    assert 'data-action="edit"' not in page.text and 'data-action="delete"' not in page.text
    assert client.get("/ui/organizations/new").status_code == 403
    assert client.get(f"/ui/organizations/{org['id']}/edit").status_code == 403
    forged = post(client, f"/ui/organizations/{org['id']}/edit", {"name": "taken over"})
    assert forged.status_code == 403 and "<h1>Permission denied</h1>" in forged.text
    gone = post(client, f"/ui/organizations/{org['id']}/delete", {})
    assert gone.status_code == 403
    created = post(client, "/ui/organizations/new", {"name": "member-made"})
    assert created.status_code == 403
    assert api.get(f"/api/v2/organizations/{org['id']}/")["name"] == "list-org-07"
    assert api.get("/api/v2/organizations/?name=member-made")["count"] == 0

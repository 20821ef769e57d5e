"""The whole API under ``/api/controller/`` too (AAP 2.5+ gateway layout): same answers as
under ``/api/``, and, as AWX under its optional URL prefix, links that point back under the
prefix (``url``, ``related``, ``next``, summary links, ``Location``) so clients that follow
them stay there; user data that merely mentions a path is left alone only where it is not a
path itself.  Plain HTTP over a real socket as well as in-process."""
from __future__ import annotations

import json
import threading
import urllib.request
from base64 import b64encode

import pytest
from werkzeug.serving import make_server

from conftest import ADMIN_PASSWORD, unique


def test_root_and_index_speak_the_prefix(admin):
    root = admin.get("/api/controller/").json
    assert root["current_version"] == "/api/controller/v2/"
    assert root["available_versions"] == {"v2": "/api/controller/v2/"}
    index = admin.get("/api/controller/v2/").json
    plain = admin.get("/api/v2/").json
    assert set(index) == set(plain)
    assert index["organizations"] == "/api/controller/v2/organizations/"
    assert all(v.startswith("/api/controller/v2/") for v in index.values())


def test_crud_under_the_prefix_is_the_same_object(admin):
    name = unique("gw-org")
    resp = admin.post("/api/controller/v2/organizations/", {"name": name, "description": "see /api/v2/ docs"})
    assert resp.status_code == 201, resp.json
    org = resp.json
    assert resp.headers["Location"] == f"/api/controller/v2/organizations/{org['id']}/"
    assert org["url"] == f"/api/controller/v2/organizations/{org['id']}/"
    assert org["related"]["teams"] == f"/api/controller/v2/organizations/{org['id']}/teams/"
    # a text that is not itself a path is not touched
    assert org["description"] == "see /api/v2/ docs"
    # the same row under both prefixes
    plain = admin.get(f"/api/v2/organizations/{org['id']}/").json
    assert plain["url"] == f"/api/v2/organizations/{org['id']}/"
    assert {k: v for k, v in plain.items() if k not in ("url", "related")} == \
        {k: v for k, v in admin.get(f"/api/controller/v2/organizations/{org['id']}/").json.items()
         if k not in ("url", "related")}
    # a named URL and a sub-list with a page link
    for _ in range(3):
        admin.post("/api/controller/v2/teams/", {"name": unique("t"), "organization": org["id"]})
    teams = admin.get(f"/api/controller/v2/organizations/{name}/teams/?page_size=2").json
    assert teams["count"] == 3
    assert teams["next"].startswith(f"/api/controller/v2/organizations/{name}/teams/?")
    assert teams["results"][0]["summary_fields"]["organization"]["id"] == org["id"]
    assert admin.patch(f"/api/controller/v2/organizations/{org['id']}/", {"description": "x"}).json["description"] \
        == "x"
    assert admin.delete(f"/api/controller/v2/organizations/{org['id']}/").status_code == 204
    assert admin.get(f"/api/v2/organizations/{org['id']}/").status_code == 404


def test_errors_and_auth_are_the_same(admin, anon):
    assert anon.get("/api/controller/v2/organizations/").status_code == 401
    resp = admin.get("/api/controller/v2/no_such_things/")
    assert resp.status_code == 404 and resp.json == {"detail": "Not found."}
    assert anon.get("/api/controller/v2/ping/").json["version"]


def test_prefix_is_not_matched_halfway(admin):
    """``/api/controllerX/`` is not the alias."""
    assert admin.get("/api/controllerx/v2/ping/").status_code == 404


@pytest.fixture(scope="module")
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_plain_http(live_url):
    auth = "Basic " + b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    req = urllib.request.Request(f"{live_url}/api/controller/v2/me/", headers={"Authorization": auth})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["results"][0]["username"] == "admin"
    assert body["results"][0]["url"] == "/api/controller/v2/users/1/"

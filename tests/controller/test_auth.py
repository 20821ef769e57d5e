"""Authentication: Basic, Bearer tokens, login sessions with CSRF, throttling and password storage.

The contract is shared/reference/awx-api.md §0.1 (what awxkit does), §0.2 (the awx.awx
collection's token dance) and §3.
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import ensure_admin

try:  # tests/controller/conftest.py: the same module pytest loaded (shared name counter)
    from conftest import ADMIN_PASSWORD, Client, unique
except ImportError:  # pragma: no cover - if tests/controller becomes a package
    from .conftest import ADMIN_PASSWORD, Client, unique

NOT_PROVIDED = {"detail": "Authentication credentials were not provided. To establish a login session, "
                          "visit /api/login/."}
BAD_CREDENTIALS = {"detail": "Invalid username/password. To establish a login session, visit /api/login/."}
WWW_AUTHENTICATE = "Bearer realm=api authorization_url=/api/o/authorize/"
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
CSRF_FAILED = {"detail": "CSRF Failed: CSRF token missing or incorrect."}
MASK = "************"
SCOPE_ERROR = {"scope": ["Must be a simple space-separated string with allowed scopes ['read', 'write']."]}
CLI_TOKEN_BODY = {"description": "AWX CLI", "application": None, "scope": "write"}
MODULE_TOKEN_BODY = {"description": "Automation Platform Controller Module Token", "application": None,
                     "scope": "write"}


def _db_path(app) -> Path:
    return Path(app.config["TURRET"].settings.db_path)


def _raw_bytes(app) -> bytes:
    """Everything SQLite holds on disk for this app: the database file and its WAL."""
    path = _db_path(app)
    data = path.read_bytes()
    for extra in (Path(f"{path}-wal"), Path(f"{path}-journal")):
        if extra.exists():
            data += extra.read_bytes()
    return data


def _rows(app, sql: str, params=()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(_db_path(app))
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def user_name(app, uid: int) -> str:
    return _rows(app, "SELECT username FROM users WHERE id = ?", (uid,))[0]["username"]


def _assert_401(resp, body=None) -> None:
    assert resp.status_code == 401, resp.get_json()
    assert resp.get_json() == (body or NOT_PROVIDED)
    assert resp.headers["WWW-Authenticate"] == WWW_AUTHENTICATE


# -- Basic -------------------------------------------------------------------------------------
def test_basic_good_credentials(admin, make_user):
    me = admin.get("/api/v2/me/")
    assert me.status_code == 200 and me.get_json()["results"][0]["username"] == "admin"
    uid, user = make_user()
    got = user.get("/api/v2/me/").get_json()["results"][0]
    assert got["id"] == uid
    assert "Set-Cookie" not in me.headers or "awx_sessionid" not in me.headers["Set-Cookie"]


def test_basic_bad_credentials(app, make_user):
    uid, _ = make_user(username=unique("basic"), password="right-pw")
    for username, password in (("admin", "wrong"), ("no-such-user", "x"), ("admin", ""),
                               (str(uid), "right-pw")):
        resp = Client(app, username, password).get("/api/v2/me/")
        _assert_401(resp, BAD_CREDENTIALS)
        assert "Basic" not in resp.headers["WWW-Authenticate"]     # no browser dialog
    resp = Client(app).get("/api/v2/organizations/", headers={"Authorization": "Basic !!!not-base64"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == WWW_AUTHENTICATE


def test_bad_basic_on_public_endpoints_is_ignored(app):
    bad = Client(app, "admin", "wrong")
    for url in ("/api/", "/api/v2/", "/api/v2/ping/"):
        resp = bad.get(url)
        assert resp.status_code == 200, url
        if url != "/api/v2/ping/":
            assert resp.get_json() == Client(app).get(url).get_json()
        assert "X-API-Product-Version" not in resp.headers     # not authenticated


def test_anonymous_is_401_with_bearer_challenge(anon):
    for method, url in (("GET", "/api/v2/me/"), ("GET", "/api/v2/organizations/"),
                        ("POST", "/api/v2/organizations/"), ("OPTIONS", "/api/v2/users/")):
        _assert_401(anon.request(method, url, json={} if method == "POST" else None))


# -- Bearer tokens -----------------------------------------------------------------------------
def test_token_create_shows_plaintext_once_and_stores_a_hash(app, make_user):
    uid, user = make_user()
    resp = user.post("/api/v2/tokens/", MODULE_TOKEN_BODY)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    plain = created["token"]
    assert isinstance(plain, str) and len(plain) >= 30 and plain != MASK
    assert created["type"] == "o_auth2_access_token" and created["url"] == f"/api/v2/tokens/{created['id']}/"
    assert created["user"] == uid and created["scope"] == "write" and created["application"] is None
    assert created["refresh_token"] is None and created["description"] == MODULE_TOKEN_BODY["description"]
    assert created["expires"] > "2900"      # ~1000 years, as AWX
    assert created["summary_fields"]["user"]["id"] == uid
    # afterwards only the mask
    detail = user.get(created["url"]).get_json()
    assert detail["token"] == MASK and detail["id"] == created["id"]
    listed = user.get("/api/v2/tokens/").get_json()["results"]
    assert [t["token"] for t in listed] == [MASK] and listed[0]["id"] == created["id"]
    assert user.patch(created["url"], {"description": "renamed"}).get_json()["token"] == MASK
    # the token works
    me = Client(app, token=plain).get("/api/v2/me/")
    assert me.status_code == 200 and me.get_json()["results"][0]["id"] == uid
    # on disk: a hash, never the plaintext (database file and WAL both checked)
    rows = _rows(app, "SELECT * FROM tokens WHERE id = ?", (created["id"],))
    assert len(rows) == 1
    stored = dict(rows[0])
    assert plain not in [str(v) for v in stored.values()]
    assert hashlib.sha256(plain.encode()).hexdigest() in stored.values()
    assert plain.encode() not in _raw_bytes(app)
    # nor in the activity stream
    stream = user.get(f"/api/v2/tokens/{created['id']}/activity_stream/").get_json()["results"]
    assert stream and plain not in str(stream)


def test_token_scope_validation(make_user):
    _, user = make_user()
    for scope in ("admin", "read foo", "", "READ", "read read", 1):
        resp = user.post("/api/v2/tokens/", {"description": "x", "application": None, "scope": scope})
        assert resp.status_code == 400, scope
        assert resp.get_json() == SCOPE_ERROR, scope
    resp = user.post("/api/v2/tokens/", {"scope": ["read"]})
    assert resp.status_code == 400 and resp.get_json() == {"scope": ["Not a valid string."]}
    for scope in ("read", "write", "read write", "write read"):
        resp = user.post("/api/v2/tokens/", {"scope": scope})
        assert resp.status_code == 201 and resp.get_json()["scope"] == scope
    assert user.post("/api/v2/tokens/", {}).get_json()["scope"] == "write"   # AWX default


def test_read_scope_token_cannot_write(app, admin, make_user):
    uid, user = make_user()
    read = user.post("/api/v2/tokens/", {"description": "ro", "scope": "read"}).get_json()
    client = Client(app, token=read["token"])
    assert client.get("/api/v2/me/").get_json()["results"][0]["id"] == uid
    assert client.options("/api/v2/users/").status_code == 200
    for method, url, body in (("POST", "/api/v2/tokens/", {"scope": "write"}),
                              ("PATCH", f"/api/v2/users/{uid}/", {"first_name": "changed"}),
                              ("DELETE", read["url"], None)):
        resp = client.request(method, url, json=body)
        assert resp.status_code == 403, (method, url, resp.get_json())
        assert resp.get_json() == NO_PERMISSION
    # nothing changed
    assert admin.get(f"/api/v2/users/{uid}/").get_json()["first_name"] == ""
    assert [t["id"] for t in user.get("/api/v2/tokens/").get_json()["results"]] == [read["id"]]


def test_delete_token_revokes_it(app, make_user):
    uid, user = make_user()
    created = user.post("/api/v2/tokens/", MODULE_TOKEN_BODY).get_json()
    bearer = Client(app, token=created["token"])
    assert bearer.get("/api/v2/me/").status_code == 200
    resp = user.delete(created["url"])       # the collection deletes with Basic auth at exit
    assert resp.status_code == 204 and resp.get_data() == b""
    _assert_401(bearer.get("/api/v2/me/"))
    assert user.get(created["url"]).status_code == 404
    assert _rows(app, "SELECT id FROM tokens WHERE id = ?", (created["id"],)) == []


def test_expired_token_or_gone_user_is_not_authenticated(app, admin, make_user):
    """The token and its user are read in one statement: an expired token, and a token whose
    user was deleted, both answer 401, while an unexpired one still signs its user in."""
    uid, user = make_user()
    kept = user.post("/api/v2/tokens/", MODULE_TOKEN_BODY).get_json()
    old = user.post("/api/v2/tokens/", MODULE_TOKEN_BODY).get_json()
    conn = sqlite3.connect(_db_path(app))
    with conn:
        conn.execute("UPDATE tokens SET expires = ? WHERE id = ?", ("2000-01-01T00:00:00.000000Z", old["id"]))
    conn.close()
    me = Client(app, token=kept["token"]).get("/api/v2/me/").get_json()["results"][0]
    assert me["id"] == uid and me["username"] == user_name(app, uid)
    _assert_401(Client(app, token=old["token"]).get("/api/v2/me/"))
    assert admin.delete(f"/api/v2/users/{uid}/").status_code == 204
    _assert_401(Client(app, token=kept["token"]).get("/api/v2/me/"))


def test_bearer_unknown_token_is_not_authenticated(app):
    for header in ("Bearer nope", "Bearer ", "Bearer " + "x" * 5000):
        resp = Client(app).get("/api/v2/me/", headers={"Authorization": header})
        _assert_401(resp)
    # but public endpoints still answer
    resp = Client(app, token="nope").get("/api/v2/")
    assert resp.status_code == 200


def test_tokens_are_private_to_their_owner(app, admin, make_user):
    _, alice = make_user()
    _, bob = make_user()
    mine = alice.post("/api/v2/tokens/", {"description": "alice's"}).get_json()
    assert bob.get("/api/v2/tokens/").get_json()["count"] == 0
    resp = bob.get(mine["url"])
    assert resp.status_code in (403, 404) and mine["token"] not in resp.get_data(as_text=True)
    resp = bob.delete(mine["url"])
    assert resp.status_code in (403, 404)
    assert Client(app, token=mine["token"]).get("/api/v2/me/").status_code == 200


def test_personal_tokens_for_self(app, make_user):
    username = unique("cli")
    uid, user = make_user(username=username, password="cli-pw")
    resp = user.post(f"/api/v2/users/{username}/personal_tokens/", CLI_TOKEN_BODY)   # awx login
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["user"] == uid and body["token"] != MASK
    assert Client(app, token=body["token"]).get("/api/v2/me/").get_json()["results"][0]["username"] == username
    by_id = user.post(f"/api/v2/users/{uid}/personal_tokens/", CLI_TOKEN_BODY)
    assert by_id.status_code == 201 and by_id.get_json()["user"] == uid
    listed = user.get(f"/api/v2/users/{uid}/personal_tokens/").get_json()
    assert listed["count"] == 2 and {t["token"] for t in listed["results"]} == {MASK}
    assert user.get(f"/api/v2/users/{uid}/tokens/").get_json()["count"] == 2


def test_personal_tokens_for_someone_else_are_refused(app, admin, make_user):
    other_id, _ = make_user()
    _, user = make_user()
    before = _rows(app, "SELECT count(*) AS n FROM tokens WHERE user = ?", (other_id,))[0]["n"]
    for client in (user, admin):            # owner-only, superusers included
        resp = client.post(f"/api/v2/users/{other_id}/personal_tokens/", CLI_TOKEN_BODY)
        assert resp.status_code == 403, resp.get_json()
        assert "token" not in resp.get_json()
    assert _rows(app, "SELECT count(*) AS n FROM tokens WHERE user = ?", (other_id,))[0]["n"] == before


def test_gateway_token_endpoint_is_404(app, admin):
    for client in (admin, Client(app)):
        for method in ("GET", "POST"):
            body = MODULE_TOKEN_BODY if method == "POST" else None
            resp = client.request(method, "/api/gateway/v1/tokens/", json=body)
            assert resp.status_code == 404, (method, resp.get_json())
    # so the collection falls back to /api/v2/tokens/
    assert admin.post("/api/v2/tokens/", MODULE_TOKEN_BODY).status_code == 201


# -- sessions (awxkit's login) -----------------------------------------------------------------
def _login(app, username: str, password: str, next_url: str = "/api/"):
    """The awxkit sequence: GET /api/ for csrftoken, then the form POST with X-CSRFToken."""
    http = app.test_client()
    assert http.get("/api/").status_code == 200
    csrf = http.get_cookie("csrftoken").value
    resp = http.post("/api/login/", data={"username": username, "password": password, "next": next_url},
                     headers={"X-CSRFToken": csrf, "Referer": "http://localhost/api/login/"})
    return http, resp


def _cookie_headers(resp, name: str) -> list[str]:
    return [c for c in resp.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]


def test_session_login_flow(app, make_user):
    username = unique("sess")
    uid, _ = make_user(username=username, password="sess-pw")
    http, resp = _login(app, username, "sess-pw", next_url="/api/v2/me/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/api/v2/me/")
    assert resp.headers["X-API-Session-Cookie-Name"] == "awx_sessionid"
    [session_cookie] = _cookie_headers(resp, "awx_sessionid")
    attrs = [a.strip().lower() for a in session_cookie.split(";")]
    assert "httponly" in attrs and "secure" not in attrs and "path=/" in attrs
    assert _cookie_headers(resp, "csrftoken") and "secure" not in _cookie_headers(resp, "csrftoken")[0].lower()
    session = http.get_cookie("awx_sessionid").value
    assert session and session not in str(_rows(app, "SELECT * FROM sessions"))   # stored hashed
    # the cookie authenticates
    me = http.get("/api/v2/me/")
    assert me.status_code == 200 and me.get_json()["results"][0]["id"] == uid
    assert "X-API-Product-Version" in me.headers
    assert me.get_json()["results"][0]["last_login"] is not None
    # writes need the CSRF header
    resp = http.post("/api/v2/tokens/", json={"scope": "read"})
    assert resp.status_code == 403 and resp.get_json() == CSRF_FAILED
    resp = http.post("/api/v2/tokens/", json={"scope": "read"}, headers={"X-CSRFToken": "wrong"})
    assert resp.status_code == 403 and resp.get_json() == CSRF_FAILED
    assert http.get("/api/v2/tokens/").get_json()["count"] == 0
    csrf = http.get_cookie("csrftoken").value
    resp = http.post("/api/v2/tokens/", json={"scope": "read"},
                     headers={"X-CSRFToken": csrf, "Referer": "http://localhost/api/"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["user"] == uid
    assert http.get("/api/v2/tokens/").get_json()["count"] == 1
    # logout ends the session on the server, not just in this browser
    out = http.get("/api/logout/")
    assert out.status_code == 302 and out.headers["Location"].endswith("/api/")
    _assert_401(http.get("/api/v2/me/"))
    replay = app.test_client()
    replay.set_cookie("awx_sessionid", session)
    _assert_401(replay.get("/api/v2/me/"))


def test_session_reads_do_not_need_csrf(app, make_user):
    username = unique("reader")
    make_user(username=username, password="pw-r")
    http, resp = _login(app, username, "pw-r")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/api/")
    for url in ("/api/v2/me/", "/api/v2/organizations/", "/api/v2/tokens/"):
        assert http.get(url).status_code == 200
        assert http.options(url).status_code == 200


def test_failed_login_is_401_form_without_session(app):
    http, resp = _login(app, "admin", "wrong-password")
    assert resp.status_code == 401
    assert resp.mimetype == "text/html"
    text = resp.get_data(as_text=True)
    assert "<form" in text and 'name="username"' in text
    assert not _cookie_headers(resp, "awx_sessionid")
    _assert_401(http.get("/api/v2/me/"))


def test_login_needs_csrf(app):
    http = app.test_client()
    http.get("/api/")
    resp = http.post("/api/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert resp.status_code == 403
    assert not _cookie_headers(resp, "awx_sessionid")
    # the form's hidden field works as well as the header (a browser)
    csrf = http.get_cookie("csrftoken").value
    resp = http.post("/api/login/", data={"username": "admin", "password": ADMIN_PASSWORD,
                                          "csrfmiddlewaretoken": csrf})
    assert resp.status_code == 302 and _cookie_headers(resp, "awx_sessionid")


def test_login_form_page(app):
    http = app.test_client()
    resp = http.get("/api/login/?next=/api/v2/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert http.get_cookie("csrftoken") is not None
    assert 'value="/api/v2/"' in resp.get_data(as_text=True)


def test_login_next_is_never_an_open_redirect(app):
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        _, resp = _login(app, "admin", ADMIN_PASSWORD, next_url=target)
        assert resp.status_code == 302
        assert resp.headers["Location"] in ("/api/", "http://localhost/api/"), target


# -- throttling --------------------------------------------------------------------------------
@pytest.fixture()
def strict_app(tmp_path):
    state = open_state(Settings({"DATA_DIR": str(tmp_path / "data"), "LOGIN_FAILURES": 3}, environ={}))
    ensure_admin(state, ADMIN_PASSWORD)
    yield create_app(state=state)
    state.store.close()


def test_login_failures_are_throttled(strict_app):
    for _ in range(3):
        _, resp = _login(strict_app, "admin", "wrong")
        assert resp.status_code == 401
    # the limit is reached: wrong passwords are throttled in every scheme (the right one
    # still gets in: see test_login_throttle.py)
    _, resp = _login(strict_app, "admin", "wrong")
    assert resp.status_code == 429 and not _cookie_headers(resp, "awx_sessionid")
    resp = Client(strict_app, "admin", "wrong").get("/api/v2/me/")
    assert resp.status_code == 429
    assert resp.get_json()["detail"].startswith("Request was throttled.")
    assert int(resp.headers["Retry-After"]) > 0
    # other usernames are not affected
    resp = Client(strict_app, "someone-else", "x").get("/api/v2/me/")
    assert resp.status_code == 401


def test_basic_failures_count_towards_the_limit(strict_app):
    for _ in range(3):
        assert Client(strict_app, "admin", "wrong").get("/api/v2/me/").status_code == 401
    _, resp = _login(strict_app, "admin", "wrong")
    assert resp.status_code == 429


def test_success_resets_the_failure_count(strict_app):
    for _ in range(2):
        assert Client(strict_app, "admin", "wrong").get("/api/v2/me/").status_code == 401
    assert Client(strict_app, "admin", ADMIN_PASSWORD).get("/api/v2/me/").status_code == 200
    for _ in range(2):
        assert Client(strict_app, "admin", "wrong").get("/api/v2/me/").status_code == 401
    assert Client(strict_app, "admin", ADMIN_PASSWORD).get("/api/v2/me/").status_code == 200


# -- passwords ---------------------------------------------------------------------------------
def test_passwords_are_hashed_and_never_shown(app, admin):
    username, password = unique("hashed"), "Plain-Text-Pw-" + unique("z")
    resp = admin.post("/api/v2/users/", {"username": username, "password": password})
    assert resp.status_code == 201
    user = resp.get_json()
    assert user["password"] == "$encrypted$"
    assert admin.get(user["url"]).get_json()["password"] == "$encrypted$"
    listed = admin.get(f"/api/v2/users/?username={username}").get_json()["results"][0]
    assert listed["password"] == "$encrypted$"
    [row] = _rows(app, "SELECT password FROM users WHERE username = ?", (username,))
    assert row["password"].startswith("scrypt$") and password not in row["password"]
    assert password.encode() not in _raw_bytes(app)
    stream = admin.get(f"/api/v2/users/{user['id']}/activity_stream/").get_json()["results"]
    assert stream[0]["operation"] == "create" and stream[0]["changes"]["password"] == "$encrypted$"
    assert password not in str(stream)
    assert Client(app, username, password).get("/api/v2/me/").status_code == 200


def test_password_patch_semantics(app, admin):
    username, old = unique("pw"), "old-pw-" + unique("o")
    user = admin.post("/api/v2/users/", {"username": username, "password": old}).get_json()
    [before] = _rows(app, "SELECT password FROM users WHERE id = ?", (user["id"],))
    for keep in ("$encrypted$", "", None):
        resp = admin.patch(user["url"], {"password": keep, "first_name": f"kept-{keep!s}"})
        assert resp.status_code == 200, (keep, resp.get_json())
        assert Client(app, username, old).get("/api/v2/me/").status_code == 200, keep
    [after] = _rows(app, "SELECT password FROM users WHERE id = ?", (user["id"],))
    assert after["password"] == before["password"]
    # PUT without a password keeps it too
    resp = admin.put(user["url"], {"username": username, "first_name": "put"})
    assert resp.status_code == 200
    assert Client(app, username, old).get("/api/v2/me/").status_code == 200
    # a real new password replaces it
    new = "new-pw-" + unique("n")
    assert admin.patch(user["url"], {"password": new}).status_code == 200
    assert Client(app, username, new).get("/api/v2/me/").status_code == 200
    _assert_401(Client(app, username, old).get("/api/v2/me/"), BAD_CREDENTIALS)
    stream = admin.get(f"/api/v2/users/{user['id']}/activity_stream/?operation=update").get_json()["results"]
    changed = [e["changes"]["password"] for e in stream if "password" in e["changes"]]
    assert changed == [["$encrypted$", "$encrypted$"]]
    assert new not in str(stream) and old not in str(stream)


def test_users_change_their_own_password(app, make_user):
    username = unique("self")
    uid, user = make_user(username=username, password="mine-1")
    assert user.patch(f"/api/v2/users/{uid}/", {"password": "mine-2"}).status_code == 200
    assert Client(app, username, "mine-2").get("/api/v2/me/").status_code == 200
    assert Client(app, username, "mine-1").get("/api/v2/me/").status_code == 401


def test_user_needs_a_password(admin):
    name = unique("nopw")
    for body in ({"username": name}, {"username": name, "password": ""}, {"username": name, "password": None}):
        resp = admin.post("/api/v2/users/", body)
        assert resp.status_code == 400, body
        assert resp.get_json() == {"password": ["Password required for new User."]}
    assert admin.get(f"/api/v2/users/?username={name}").get_json()["count"] == 0

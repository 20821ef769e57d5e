"""The OAuth2 authorization-code grant end to end over real HTTP (a werkzeug server on
127.0.0.1, a ``requests`` browser that follows redirects): login redirect, consent page, code
issued to the registered redirect URI only, single-use exchange at ``/api/o/token/`` bound to
client and redirect URI, PKCE, denial, CSRF, codes stored hashed."""
from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from controller.passwords import hash_token

from conftest import unique

CB = "https://client.example/cb"
OTHER = "https://client.example/other?x=1"


@pytest.fixture(scope="module")
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def setup(admin, make_org, make_user):
    """An organization, a member of it, and its applications (authorization-code, password)."""
    org = make_org()
    username = unique("oauth-user")
    uid, _ = make_user(username, "user-pw-1")
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": uid}).status_code == 204
    apps = {}
    for key, grant, extra in (("code", "authorization-code", {"redirect_uris": f"{CB} {OTHER}"}),
                              ("other", "authorization-code", {"redirect_uris": CB}),
                              ("trusted", "authorization-code", {"redirect_uris": CB, "skip_authorization": True}),
                              ("password", "password", {})):
        resp = admin.post("/api/v2/applications/", {"name": unique("app"), "organization": org["id"],
                                                    "client_type": "confidential",
                                                    "authorization_grant_type": grant, **extra})
        assert resp.status_code == 201, resp.json
        apps[key] = resp.json
    return {"uid": uid, "username": username, "apps": apps}


def _authorize_url(live_url: str, app: dict, **params) -> str:
    query = {"response_type": "code", "client_id": app["client_id"], "state": "st-42", **params}
    return f"{live_url}/api/o/authorize/?{urlencode(query)}"


def _hidden_fields(page: str) -> dict[str, str]:
    return {unescape(n): unescape(v) for n, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


@pytest.fixture(scope="module")
def browser(live_url, setup, app_state):
    """A logged-in browser session, reached the way a user reaches it: the authorize URL sends
    an anonymous visitor to the login page, whose form brings them back to the consent page."""
    session = requests.Session()
    first = session.get(_authorize_url(live_url, setup["apps"]["code"], redirect_uri=CB), timeout=10)
    assert [r.status_code for r in first.history] == [302]
    assert urlsplit(first.url).path == "/api/login/" and first.status_code == 200
    nxt = parse_qs(urlsplit(first.url).query)["next"][0]
    assert nxt.startswith("/api/o/authorize/?") and "state=st-42" in nxt
    login = session.post(f"{live_url}/api/login/", data={
        "username": setup["username"], "password": "user-pw-1", "next": nxt,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=10)
    assert login.status_code == 200 and urlsplit(login.url).path == "/api/o/authorize/"
    assert login.text.count("<h1>") == 1 and f"Authorize {setup['apps']['code']['name']}?" in login.text
    assert login.headers["X-Frame-Options"] == "DENY" and login.headers["Cache-Control"] == "no-store"
    return session


def _consent(browser, live_url: str, app: dict, answer: str = "allow", **params) -> requests.Response:
    """Open the consent page for ``app`` and post ``answer`` (``allow`` or ``cancel``)."""
    page = browser.get(_authorize_url(live_url, app, **params), timeout=10)
    assert page.status_code == 200, page.text
    fields = _hidden_fields(page.text)
    return browser.post(f"{live_url}/api/o/authorize/", data={**fields, answer: "x"}, allow_redirects=False,
                        timeout=10)


def _code_of(resp: requests.Response, redirect_uri: str = CB) -> str:
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(redirect_uri + ("&" if "?" in redirect_uri else "?")), location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def _exchange(live_url: str, app: dict, **form) -> requests.Response:
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    return requests.post(f"{live_url}/api/o/token/", data={"grant_type": "authorization_code", **form},
                         headers={"Authorization": f"Basic {basic}"}, timeout=10)


def test_code_flow_issues_a_working_token_once(browser, live_url, setup, app_state):
    app = setup["apps"]["code"]
    resp = _consent(browser, live_url, app, redirect_uri=CB, scope="read")
    code = _code_of(resp)
    [row] = app_state.store.dicts("SELECT * FROM oauth_codes WHERE code_hash = ?", (hash_token(code),))
    assert row["application"] == app["id"] and row["user_id"] == setup["uid"] and row["redirect_uri"] == CB
    assert row["scope"] == "read" and code not in str(row)
    token = _exchange(live_url, app, code=code, redirect_uri=CB)
    assert token.status_code == 200, token.text
    body = token.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert token.headers["Cache-Control"] == "no-store"
    me = requests.get(f"{live_url}/api/v2/me/", headers={"Authorization": f"Bearer {body['access_token']}"},
                      timeout=10).json()
    assert me["results"][0]["username"] == setup["username"]
    [stored] = app_state.store.dicts("SELECT * FROM tokens WHERE token_hash = ?", (hash_token(body["access_token"]),))
    assert stored["application"] == app["id"] and stored["user"] == setup["uid"] and stored["scope"] == "read"
    assert app_state.store.dicts("SELECT id FROM oauth_codes WHERE code_hash = ?", (hash_token(code),)) == []
    again = _exchange(live_url, app, code=code, redirect_uri=CB)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the refresh token of a code-grant token works like the password grant's
    refreshed = requests.post(f"{live_url}/api/o/token/", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": app["client_id"],
        "client_secret": app["client_secret"]}, timeout=10)
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != body["access_token"]


def test_code_is_bound_to_client_redirect_uri_and_lifetime(browser, live_url, setup, app_state):
    app, other = setup["apps"]["code"], setup["apps"]["other"]
    # default redirect URI is the application's first; a code for OTHER needs OTHER at the token step
    code = _code_of(_consent(browser, live_url, app, redirect_uri=OTHER), OTHER)
    mismatch = _exchange(live_url, app, code=code, redirect_uri=CB)
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_request"
    assert _exchange(live_url, app, code=code, redirect_uri=OTHER).json()["error"] == "invalid_grant"  # spent
    code = _code_of(_consent(browser, live_url, app))
    wrong_client = _exchange(live_url, other, code=code, redirect_uri=CB)
    assert wrong_client.status_code == 400 and wrong_client.json()["error"] == "invalid_grant"
    code = _code_of(_consent(browser, live_url, app))
    app_state.store.execute("UPDATE oauth_codes SET expires = 0 WHERE code_hash = ?", (hash_token(code),))
    assert _exchange(live_url, app, code=code).json()["error"] == "invalid_grant"
    secretless = requests.post(f"{live_url}/api/o/token/", data={
        "grant_type": "authorization_code", "code": "x", "client_id": app["client_id"]}, timeout=10)
    assert secretless.status_code == 401 and secretless.json()["error"] == "invalid_client"
    before = app_state.store.scalar("SELECT COUNT(*) FROM tokens")
    assert _exchange(live_url, setup["apps"]["password"], code=code).json()["error"] == "unauthorized_client"
    assert app_state.store.scalar("SELECT COUNT(*) FROM tokens") == before


def test_pkce_when_the_request_carries_a_challenge(browser, live_url, setup):
    app = setup["apps"]["code"]
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code = _code_of(_consent(browser, live_url, app, **pkce))
    assert _exchange(live_url, app, code=code).json()["error"] == "invalid_request"
    code = _code_of(_consent(browser, live_url, app, **pkce))
    assert _exchange(live_url, app, code=code, code_verifier="w" * 50).json()["error"] == "invalid_grant"
    code = _code_of(_consent(browser, live_url, app, **pkce))
    assert _exchange(live_url, app, code=code, code_verifier=verifier).status_code == 200
    bad = browser.get(_authorize_url(live_url, app, code_challenge="c", code_challenge_method="S512"),
                      allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(bad.headers["Location"]).query)["error"] == ["invalid_request"]


def test_refusals_and_no_open_redirect(browser, live_url, setup, app_state):
    app = setup["apps"]["code"]
    denied = _consent(browser, live_url, app, answer="cancel")
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {"error": ["access_denied"], "state": ["st-42"]}
    assert denied.headers["Location"].startswith(CB + "?")
    codes = app_state.store.scalar("SELECT COUNT(*) FROM oauth_codes")
    for uri in ("https://evil.example/cb", CB + "/", CB + "?x=1", "https://client.example/other"):
        resp = browser.get(_authorize_url(live_url, app, redirect_uri=uri), allow_redirects=False, timeout=10)
        assert resp.status_code == 400 and "Location" not in resp.headers, uri
        assert "Mismatching redirect URI." in resp.text and resp.text.count("<h1>") == 1
    unknown = browser.get(_authorize_url(live_url, {"client_id": "nope"}), allow_redirects=False, timeout=10)
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    # errors the client may hear go to its redirect URI
    for params, error in (({"response_type": "token"}, "unsupported_response_type"),
                          ({"scope": "admin"}, "invalid_scope")):
        resp = browser.get(_authorize_url(live_url, app, **params), allow_redirects=False, timeout=10)
        assert resp.status_code == 302 and resp.headers["Location"].startswith(CB + "?")
        assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == [error]
    # a password-grant application has no authorization step (its registered URIs: none)
    pw = browser.get(_authorize_url(live_url, setup["apps"]["password"]), allow_redirects=False, timeout=10)
    assert pw.status_code == 400 and "Location" not in pw.headers
    # the consent POST needs the CSRF token
    page = browser.get(_authorize_url(live_url, app), timeout=10)
    fields = {k: v for k, v in _hidden_fields(page.text).items() if k != "csrfmiddlewaretoken"}
    forged = browser.post(f"{live_url}/api/o/authorize/", data={**fields, "allow": "x"}, allow_redirects=False,
                          timeout=10)
    assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
    assert app_state.store.scalar("SELECT COUNT(*) FROM oauth_codes") == codes


def test_skip_authorization_and_sessionless_clients(browser, live_url, setup):
    trusted = setup["apps"]["trusted"]
    code = _code_of(browser.get(_authorize_url(live_url, trusted), allow_redirects=False, timeout=10))
    assert _exchange(live_url, trusted, code=code).status_code == 200
    # Basic credentials are no browser login: the visitor is sent to the login page
    basic = requests.get(_authorize_url(live_url, trusted), auth=(setup["username"], "user-pw-1"),
                         allow_redirects=False, timeout=10)
    assert basic.status_code == 302 and basic.headers["Location"].startswith("/api/login/?next=")


def test_code_lifetime_is_the_stored_setting(browser, live_url, setup, admin, app_state):
    """AWX's OAUTH2_PROVIDER AUTHORIZATION_CODE_EXPIRE_SECONDS (600 unless changed), read per code."""
    app = setup["apps"]["code"]

    def lifetime() -> float:
        code = _code_of(_consent(browser, live_url, app))
        [row] = app_state.store.dicts("SELECT expires FROM oauth_codes WHERE code_hash = ?", (hash_token(code),))
        return row["expires"] - time.time()

    assert 590 < lifetime() <= 600
    provider = {"ACCESS_TOKEN_EXPIRE_SECONDS": 31536000000, "AUTHORIZATION_CODE_EXPIRE_SECONDS": 30,
                "REFRESH_TOKEN_EXPIRE_SECONDS": 2628000}
    resp = admin.patch("/api/v2/settings/authentication/", {"OAUTH2_PROVIDER": provider})
    assert resp.status_code == 200, resp.json
    try:
        assert 20 < lifetime() <= 30
    finally:
        admin.delete("/api/v2/settings/authentication/")

"""OAuth2 applications (/api/v2/applications/) and the tokens bound to them, as AWX."""
from __future__ import annotations

import base64
import re

from controller.passwords import hash_token

from conftest import Client, unique


def _app_body(org: dict, **extra) -> dict:
    return {"name": unique("app"), "organization": org["id"], "client_type": "confidential",
            "authorization_grant_type": "password", **extra}


def test_create_shows_the_secret_once_and_stores_only_its_digest(admin, make_org, app_state):
    org = make_org()
    created = admin.post("/api/v2/applications/", _app_body(org, description="CI"))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["type"] == "o_auth2_application" and body["url"] == f"/api/v2/applications/{body['id']}/"
    assert len(body["client_id"]) == 40 and len(body["client_secret"]) == 128
    assert body["related"]["tokens"] == f"/api/v2/applications/{body['id']}/tokens/"
    assert body["related"]["organization"] == f"/api/v2/organizations/{org['id']}/"
    assert body["summary_fields"]["tokens"] == {"count": 0, "results": []}
    [row] = [dict(r) for r in app_state.store.query("SELECT * FROM applications WHERE id = ?", (body["id"],))]
    assert row["client_secret_hash"] == hash_token(body["client_secret"])
    assert body["client_secret"] not in str(row)
    again = admin.get(f"/api/v2/applications/{body['id']}/").json
    assert again["client_secret"] == "$encrypted$" and again["client_id"] == body["client_id"]
    listed = admin.get(f"/api/v2/organizations/{org['id']}/applications/").json
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    # the secret is no part of the activity stream either
    stream = admin.get(f"/api/v2/applications/{body['id']}/activity_stream/").json["results"]
    assert stream and body["client_secret"] not in str(stream)


def test_public_clients_have_no_secret(admin, make_org):
    body = admin.post("/api/v2/applications/", _app_body(make_org(), client_type="public")).json
    assert body["client_secret"] == ""


def test_validation_as_awx(admin, make_org):
    org = make_org()
    resp = admin.post("/api/v2/applications/", _app_body(org, authorization_grant_type="authorization-code"))
    assert resp.status_code == 400 and "redirect_uris" in resp.json
    resp = admin.post("/api/v2/applications/", {"name": "x", "client_type": "confidential",
                                                "authorization_grant_type": "password"})
    assert resp.status_code == 400 and resp.json["organization"] == ["This field is required."]
    resp = admin.post("/api/v2/applications/", _app_body(org, client_type="secret"))
    assert resp.status_code == 400 and "client_type" in resp.json
    ok = admin.post("/api/v2/applications/", _app_body(org, authorization_grant_type="authorization-code",
                                                       redirect_uris="https://a.example/cb https://b.example/cb"))
    assert ok.status_code == 201, ok.json
    changed = admin.patch(ok.json["url"], {"authorization_grant_type": "password"})
    assert changed.status_code == 400 and "authorization_grant_type" in changed.json
    assert admin.get(ok.json["url"]).json["authorization_grant_type"] == "authorization-code"
    dup = admin.post("/api/v2/applications/", {**_app_body(org), "name": ok.json["name"]})
    assert dup.status_code == 400


def test_permissions_as_awx(admin, make_org, make_user):
    org = make_org()
    app_row = admin.post("/api/v2/applications/", _app_body(org)).json
    member_id, member = make_user()
    org_admin_id, org_admin = make_user()
    _, outsider = make_user()
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": member_id}).status_code == 204
    assert admin.post(f"/api/v2/organizations/{org['id']}/admins/", {"id": org_admin_id}).status_code == 204
    # members see it and cannot change it; others do not see it
    assert member.get(app_row["url"]).json["name"] == app_row["name"]
    assert member.patch(app_row["url"], {"description": "m"}).status_code == 403
    assert member.post("/api/v2/applications/", _app_body(org)).status_code == 403
    assert outsider.get(app_row["url"]).status_code in (403, 404)
    assert app_row["id"] not in [a["id"] for a in outsider.get("/api/v2/applications/").json["results"]]
    # organization admins create, change and delete
    mine = org_admin.post("/api/v2/applications/", _app_body(org))
    assert mine.status_code == 201, mine.json
    assert org_admin.patch(app_row["url"], {"description": "by org admin"}).json["description"] == "by org admin"
    assert org_admin.delete(mine.json["url"]).status_code == 204
    assert admin.get(mine.json["url"]).status_code == 404


def test_tokens_bound_to_an_application(admin, app, make_org, make_user, app_state):
    org = make_org()
    app_row = admin.post("/api/v2/applications/", _app_body(org)).json
    user_id, user = make_user()
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": user_id}).status_code == 204
    made = user.post(f"/api/v2/applications/{app_row['id']}/tokens/", {"scope": "read", "description": "app"})
    assert made.status_code == 201, made.json
    token = made.json
    assert token["application"] == app_row["id"] and token["user"] == user_id
    assert token["token"] != "************" and token["refresh_token"] not in (None, "************")
    assert token["related"]["application"] == app_row["url"]
    [row] = [dict(r) for r in app_state.store.query("SELECT * FROM tokens WHERE id = ?", (token["id"],))]
    assert row["token_hash"] == hash_token(token["token"])
    assert row["refresh_token_hash"] == hash_token(token["refresh_token"])
    # the token works as Bearer, read scope
    bearer = Client(app, token=token["token"])
    assert bearer.get("/api/v2/me/").json["results"][0]["id"] == user_id
    assert bearer.post("/api/v2/tokens/", {}).status_code == 403
    later = user.get(f"/api/v2/tokens/{token['id']}/").json
    assert later["token"] == "************" and later["refresh_token"] == "************"
    # /tokens/ with an application id works too; personal tokens have no refresh token
    via_list = user.post("/api/v2/tokens/", {"application": app_row["id"]}).json
    assert via_list["application"] == app_row["id"]
    personal = user.post("/api/v2/tokens/", {}).json
    assert personal["application"] is None and personal["refresh_token"] is None
    listed = admin.get(f"/api/v2/applications/{app_row['id']}/tokens/").json["results"]
    assert sorted(t["id"] for t in listed) == sorted([token["id"], via_list["id"]])
    summary = admin.get(app_row["url"]).json["summary_fields"]["tokens"]
    assert summary["count"] == 2
    # a token's application is read-only once it exists (AWX's detail serializer ignores it)
    assert user.patch(f"/api/v2/tokens/{token['id']}/", {"application": None}).json["application"] == app_row["id"]
    # an outsider cannot bind a token to an application they cannot see
    _, outsider = make_user()
    assert outsider.post("/api/v2/tokens/", {"application": app_row["id"]}).status_code in (400, 403)
    # deleting the application deletes its tokens (AWX cascades), and they stop working
    assert admin.delete(app_row["url"]).status_code == 204
    assert app_state.store.query("SELECT id FROM tokens WHERE application = ?", (app_row["id"],)) == []
    assert bearer.get("/api/v2/me/").status_code == 401


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_password_grant_refresh_and_revoke(admin, app, make_org, make_user, app_state):
    """/api/o/token/ as django-oauth-toolkit answers awxkit (client credentials in Basic, form body)."""
    org = make_org()
    created = admin.post("/api/v2/applications/", _app_body(org)).json
    client_id, secret = created["client_id"], created["client_secret"]
    user_id, _ = make_user(username=unique("oauth"), password="oauth-pw-1")
    username = admin.get(f"/api/v2/users/{user_id}/").json["username"]
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": user_id}).status_code == 204
    anon = Client(app)
    form = {"grant_type": "password", "username": username, "password": "oauth-pw-1", "scope": "read"}
    got = anon.post("/api/o/token/", data=form, headers=_basic(client_id, secret))
    assert got.status_code == 200, got.json
    body = got.json
    assert body["token_type"] == "Bearer" and body["scope"] == "read" and body["expires_in"] > 0
    assert got.headers["Cache-Control"] == "no-store"
    [row] = [dict(r) for r in app_state.store.query("SELECT * FROM tokens WHERE token_hash = ?",
                                                    (hash_token(body["access_token"]),))]
    assert row["application"] == created["id"] and row["user"] == user_id and row["scope"] == "read"
    assert row["refresh_token_hash"] == hash_token(body["refresh_token"])
    bearer = Client(app, token=body["access_token"])
    assert bearer.get("/api/v2/me/").json["results"][0]["id"] == user_id
    # the secret may come in the form too; a wrong secret or password is refused as RFC 6749 says
    by_form = anon.post("/api/o/token/", data={**form, "client_id": client_id, "client_secret": secret})
    assert by_form.status_code == 200 and by_form.json["access_token"] != body["access_token"]
    bad_client = anon.post("/api/o/token/", data=form, headers=_basic(client_id, "nope"))
    assert bad_client.status_code == 401 and bad_client.json["error"] == "invalid_client"
    bad_user = anon.post("/api/o/token/", data={**form, "password": "wrong"}, headers=_basic(client_id, secret))
    assert bad_user.status_code == 400 and bad_user.json["error"] == "invalid_grant"
    # refresh: a new pair replaces the old token
    fresh = anon.post("/api/o/token/", data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                      headers=_basic(client_id, secret))
    assert fresh.status_code == 200, fresh.json
    assert bearer.get("/api/v2/me/").status_code == 401
    again = anon.post("/api/o/token/", data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                      headers=_basic(client_id, secret))
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    # revoke
    renewed = Client(app, token=fresh.json["access_token"])
    assert renewed.get("/api/v2/me/").status_code == 200
    revoked = anon.post("/api/o/revoke_token/", data={"token": fresh.json["access_token"]},
                        headers=_basic(client_id, secret))
    assert revoked.status_code == 200
    assert renewed.get("/api/v2/me/").status_code == 401
    # an authorization-code application cannot use the password grant
    code_app = admin.post("/api/v2/applications/", _app_body(org, authorization_grant_type="authorization-code",
                                                             redirect_uris="https://x.example/cb")).json
    refused = anon.post("/api/o/token/", data=form, headers=_basic(code_app["client_id"], code_app["client_secret"]))
    assert refused.status_code == 400 and refused.json["error"] == "unauthorized_client"


def test_tokens_are_thirty_letters_and_digits_as_awx_makes_them(admin):
    """oauthlib's generate_token: 30 letters and digits.  A token starting with '-' (URL-safe
    base64 may) would be taken for an option by ``awx --conf.token <token>``."""
    for _ in range(40):
        made = admin.post("/api/v2/tokens/", {"description": "shape", "scope": "read"})
        assert made.status_code == 201, made.json
        assert re.fullmatch(r"[A-Za-z0-9]{30}", made.json["token"]), made.json["token"]
        assert admin.delete(made.json["url"]).status_code == 204

"""``/api/o/``: the OAuth2 endpoints of applications (AWX's django-oauth-toolkit views)."""
from __future__ import annotations

import base64

from flask import Blueprint, Response, current_app, g, request

from ..services import oauth
from .web import client_address, json_response, public

bp = Blueprint("oauth", __name__)


def _client_credentials() -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic (RFC 6749 2.3.1, what awxkit sends) or the form."""
    scheme, _, cred = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and cred:
        try:
            client_id, _, secret = base64.b64decode(cred.strip()).decode().partition(":")
            return client_id, secret
        except ValueError:
            return "", ""
    return request.form.get("client_id", ""), request.form.get("client_secret", "")


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


@bp.route("/api/o/", methods=["GET", "HEAD"])
@public
def oauth_root() -> Response:
    return json_response({"authorize": "/api/o/authorize/", "token": "/api/o/token/",
                          "revoke_token": "/api/o/revoke_token/"})


@bp.route("/api/o/token/", methods=["POST"])
@public
def token() -> Response:
    app = oauth.client_application(g.ctx, *_client_credentials())
    state = current_app.config["TURRET"]
    body = oauth.token_grant(g.ctx, app, request.form.to_dict(),
                             lambda username, password: state.auth.check_password(username, password,
                                                                                  client_address()))
    return _no_store(json_response(body))


@bp.route("/api/o/revoke_token/", methods=["POST"])
@public
def revoke_token() -> Response:
    app = oauth.client_application(g.ctx, *_client_credentials())
    oauth.revoke(g.ctx, app, request.form.get("token", ""))
    return _no_store(json_response(None, 200))


# Basic credentials on these views name the OAuth2 client, not a user: authentication leaves them alone.
for _view in (token, revoke_token):
    _view.oauth_client = True  # type: ignore[attr-defined]

"""``/api/o/``: the OAuth2 endpoints of applications (AWX's django-oauth-toolkit views)."""
from __future__ import annotations

import base64
from typing import TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from ..errors import PermissionDenied
from ..services import oauth, oauth_authorize
from .web import client_address, json_response, public, set_csrf_cookie

bp = Blueprint("oauth", __name__)
_R = TypeVar("_R", bound=BaseResponse)


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


def _no_store(resp: _R) -> _R:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


@bp.route("/api/o/", methods=["GET", "HEAD"])
@public
def oauth_root() -> Response:
    return json_response({"authorize": "/api/o/authorize/", "token": "/api/o/token/",
                          "revoke_token": "/api/o/revoke_token/"})


def _consent_page(status: int, **context) -> Response:
    """The consent (or error) page: never cached, never framed (no clickjacked "Authorize")."""
    resp = Response("", status=status, mimetype="text/html")
    csrf = set_csrf_cookie(resp)
    resp.set_data(render_template("ui/oauth_authorize.html", csrf=csrf, **context))
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return _no_store(resp)


@bp.route("/api/o/authorize/", methods=["GET", "POST"])
@public
def authorize() -> BaseResponse:
    """The authorization-code grant's user step (django-oauth-toolkit's AuthorizationView): a
    user logged in by session sees the consent page (or, for a ``skip_authorization``
    application, is sent straight back with a code); anyone else goes to the login page first.
    The consent form's POST is CSRF-checked by the session authentication (a failed check
    leaves no user: 403)."""
    ctx = g.ctx
    if ctx.user is None or not g.get("session_auth"):
        if request.method == "POST":
            raise PermissionDenied("CSRF Failed: CSRF token missing or incorrect." if g.get("session_auth")
                                   else None)
        return redirect("/api/login/?" + urlencode({"next": request.full_path}), code=302)
    params = request.form if request.method == "POST" else request.args
    try:
        req = oauth_authorize.read_request(ctx, {k: params.get(k, "") for k in oauth_authorize.REQUEST_KEYS})
    except oauth_authorize.FatalAuthorizeError as exc:
        return _consent_page(400, error=str(exc))
    except oauth_authorize.Redirect as exc:
        return _no_store(redirect(exc.location, code=302))
    if request.method == "POST":
        approved = "allow" in request.form
        location = oauth_authorize.approve(ctx, req, ctx.user_id) if approved else oauth_authorize.deny(req)
        return _no_store(redirect(location, code=302))
    if req.app.get("skip_authorization"):
        return _no_store(redirect(oauth_authorize.approve(ctx, req, ctx.user_id), code=302))
    return _consent_page(200, app=req.app, fields=req.hidden_fields(), scopes=req.scope.split(),
                         username=ctx.user["username"])


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

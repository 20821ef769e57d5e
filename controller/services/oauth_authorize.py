"""``/api/o/authorize/``: the authorization request of the OAuth2 authorization-code grant, as
AWX's django-oauth-toolkit 1.7 ``AuthorizationView`` answers it (the code is exchanged at
``/api/o/token/``, ``services/oauth.py``).

Contracts:
  * An unknown ``client_id`` or a ``redirect_uri`` that is not one of the application's
    ``redirect_uris`` (exact string match) is a ``FatalAuthorizeError``: shown to the user,
    never redirected, so the endpoint is no open redirect.  Without ``redirect_uri`` the
    application's first one is used.
  * Every other problem (response type, grant type of the application, scope, PKCE method) is
    a ``Redirect`` to the redirect URI with ``error`` (and ``state``), as RFC 6749 4.1.2.1.
  * An approved request gets a random code, stored only as its digest, valid for
    ``OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"]`` (AWX: 600 s), bound to the
    application, the user, the redirect URI, the scope and the PKCE challenge.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode

from ..context import Context
from ..errors import APIError
from ..passwords import hash_token
from ..store import applications as app_sql
from ..store import oauth_codes
from ..store import settings as stored_settings
from .oauth import requested_scope

CODE_LIFETIME = 600     # AWX's OAUTH2_PROVIDER AUTHORIZATION_CODE_EXPIRE_SECONDS, when the setting lacks it
CHALLENGE_METHODS = ("plain", "S256")
# what the consent form carries back (the GET's query, checked again on POST)
REQUEST_KEYS = ("client_id", "redirect_uri", "response_type", "state", "scope", "code_challenge",
                "code_challenge_method")


class FatalAuthorizeError(Exception):
    """The request names no known client or no registered redirect URI: tell the user only."""


class Redirect(Exception):
    """Answer with a redirect to ``location`` (an error for the client, or its code)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass
class AuthorizeRequest:
    """A checked authorization request: what the consent page shows and the code binds."""

    app: dict
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    code_challenge_method: str

    def hidden_fields(self) -> dict[str, str]:
        """The request as the consent form's hidden fields (re-checked when posted)."""
        fields = {"client_id": self.app["client_id"], "redirect_uri": self.redirect_uri, "response_type": "code",
                  "state": self.state, "scope": self.scope}
        if self.code_challenge:
            fields.update(code_challenge=self.code_challenge, code_challenge_method=self.code_challenge_method)
        return fields


def _with_params(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query (``state`` only when the client sent one)."""
    params = {k: v for k, v in params.items() if v or k != "state"}
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def read_request(ctx: Context, params: Mapping[str, str]) -> AuthorizeRequest:
    """Check an authorization request (the GET's query or the consent form's fields)."""
    client_id = params.get("client_id") or ""
    app = app_sql.application_by_client_id(ctx.store, client_id) if client_id else None
    if app is None:
        raise FatalAuthorizeError("Invalid client_id parameter value." if client_id else "Missing client_id parameter.")
    registered = (app.get("redirect_uris") or "").split()
    redirect_uri = params.get("redirect_uri") or (registered[0] if registered else "")
    if not redirect_uri or redirect_uri not in registered:
        raise FatalAuthorizeError("Mismatching redirect URI." if redirect_uri else "Missing redirect URI.")
    state = params.get("state") or ""

    def refuse(error: str, description: str) -> Redirect:
        return Redirect(_with_params(redirect_uri, {"error": error, "error_description": description,
                                                    "state": state}))

    response_type = params.get("response_type") or ""
    if not response_type:
        raise refuse("invalid_request", "Missing response_type parameter.")
    if response_type != "code":
        raise refuse("unsupported_response_type", "The response type is not supported.")
    if app["authorization_grant_type"] != "authorization-code":
        raise refuse("unauthorized_client", "The client is not authorized to use this grant type.")
    try:
        scope = requested_scope(dict(params))
    except APIError:
        raise refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.") from None
    challenge = params.get("code_challenge") or ""
    method = (params.get("code_challenge_method") or "plain") if challenge else ""
    if challenge and method not in CHALLENGE_METHODS:
        raise refuse("invalid_request", "Transform algorithm not supported.")
    return AuthorizeRequest(app=app, redirect_uri=redirect_uri, state=state, scope=scope,
                            code_challenge=challenge, code_challenge_method=method)


def code_lifetime(ctx: Context) -> float:
    """Seconds a code lives: the stored ``OAUTH2_PROVIDER`` setting's
    ``AUTHORIZATION_CODE_EXPIRE_SECONDS`` (read per request, so a change applies at once), or AWX's 600."""
    row = stored_settings.stored(ctx.store).get("OAUTH2_PROVIDER")
    provider = row["value"] if row is not None and isinstance(row["value"], dict) else {}
    try:
        return float(provider.get("AUTHORIZATION_CODE_EXPIRE_SECONDS") or CODE_LIFETIME)
    except (TypeError, ValueError):
        return float(CODE_LIFETIME)


def approve(ctx: Context, req: AuthorizeRequest, user_id: int) -> str:
    """Issue a code for ``user_id``; the redirect URI with ``code`` and ``state``."""
    code = secrets.token_urlsafe(32)
    oauth_codes.save(ctx.store, hash_token(code), {
        "application": req.app["id"], "user_id": user_id, "redirect_uri": req.redirect_uri, "scope": req.scope,
        "code_challenge": req.code_challenge, "code_challenge_method": req.code_challenge_method}, code_lifetime(ctx))
    return _with_params(req.redirect_uri, {"code": code, "state": req.state})


def deny(req: AuthorizeRequest) -> str:
    """The user refused: the redirect URI with ``error=access_denied`` (and ``state``)."""
    return _with_params(req.redirect_uri, {"error": "access_denied", "state": req.state})

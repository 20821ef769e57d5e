"""The OAuth2 token endpoint of applications (``/api/o/token/``, ``/api/o/revoke_token/``), as
AWX's django-oauth-toolkit (1.7) views answer: the ``password``, ``authorization_code`` and
``refresh_token`` grants and revocation, for the client named by ``client_id`` (and
``client_secret`` when confidential).  Codes come from ``/api/o/authorize/``
(``services/oauth_authorize.py``): single use, bound to their application and redirect URI,
PKCE-checked when the authorization request carried a ``code_challenge`` (allowed, not required,
as DOT 1.7's ``PKCE_REQUIRED`` default).

Tokens made here are ordinary rows of ``tokens`` bound to the application, so they work as
Bearer tokens and show under ``/applications/N/tokens/``.  Errors are RFC 6749 bodies
(``{"error": "invalid_grant", "error_description": ...}``), not DRF ones, as AWX answers.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from typing import Callable

from ..context import Context
from ..errors import APIError, PermissionDenied, ValidationError
from ..passwords import hash_token
from ..store import applications as app_sql
from ..store import oauth_codes
from . import crud

EXPIRES_IN = 31536000000    # AWX's default ACCESS_TOKEN_EXPIRE_SECONDS (the token's 1000 years)


class OAuthError(APIError):
    """An RFC 6749 error answer."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__({"error": error, "error_description": description}, status=status)


def client_application(ctx: Context, client_id: str, client_secret: str) -> dict:
    """The application authenticated by these client credentials; a confidential client must
    give its secret, a public one needs none.  401 ``invalid_client`` otherwise."""
    app = app_sql.application_by_client_id(ctx.store, client_id) if client_id else None
    if app is None:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    if app["client_type"] == "confidential" and not hmac.compare_digest(
            hash_token(client_secret or ""), app["client_secret_hash"] or ""):
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return app


def requested_scope(form: dict) -> str:
    """The space-separated scope asked for (default ``write``); ``invalid_scope`` otherwise."""
    scope = (form.get("scope") or "write").strip()
    if not scope or set(scope.split()) - {"read", "write"}:
        raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    return scope


def _mint(ctx: Context, user: dict, app: dict, scope: str) -> dict:
    """A token of ``app`` for ``user`` (created as that user, with the token's own rules and
    history); the token answer of RFC 6749 5.1."""
    as_user = dataclasses.replace(ctx, user=user, scope="write", cache={})
    try:
        row = crud.create(as_user, ctx.registry["o_auth2_access_token"],
                          {"application": app["id"], "scope": scope, "description": ""})
    except (PermissionDenied, ValidationError):
        raise OAuthError("invalid_grant", "The user may not use this application.") from None
    return {"access_token": as_user.cache["shown_tokens"][row["id"]], "expires_in": EXPIRES_IN,
            "token_type": "Bearer", "scope": scope, "refresh_token": as_user.cache["shown_refresh"][row["id"]]}


def token_grant(ctx: Context, app: dict, form: dict, check_password: Callable[[str, str], dict | None]) -> dict:
    """``POST /api/o/token/``: ``grant_type=password`` (``username``, ``password``),
    ``grant_type=authorization_code`` (``code``, ``redirect_uri``, ``code_verifier``) or
    ``grant_type=refresh_token`` (``refresh_token``: the old token is replaced)."""
    grant = form.get("grant_type") or ""
    if grant == "password":
        if app["authorization_grant_type"] != "password":
            raise OAuthError("unauthorized_client", "The client is not authorized to use this grant type.")
        user = check_password(form.get("username") or "", form.get("password") or "")
        if user is None:
            raise OAuthError("invalid_grant", "Invalid credentials given.")
        return _mint(ctx, user, app, requested_scope(form))
    if grant == "authorization_code":
        return _exchange_code(ctx, app, form)
    if grant == "refresh_token":
        old = app_sql.token_by_refresh_hash(ctx.store, hash_token(form.get("refresh_token") or ""))
        if old is None or old["application"] != app["id"]:
            raise OAuthError("invalid_grant", "Invalid refresh token.")
        user = ctx.store.get("users", old["user"])
        if user is None:
            raise OAuthError("invalid_grant", "Invalid refresh token.")
        with ctx.store.transaction():
            ctx.store.delete("tokens", old["id"])    # a refresh token is good for one exchange
            return _mint(ctx, user, app, form.get("scope") or old["scope"])
    raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported.")


def _pkce_matches(code: dict, verifier: str) -> bool:
    """RFC 7636 4.6: ``plain`` compares the verifier, ``S256`` its unpadded base64url SHA-256."""
    if code["code_challenge_method"] == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(verifier, code["code_challenge"])


def _exchange_code(ctx: Context, app: dict, form: dict) -> dict:
    """``grant_type=authorization_code``: the code is taken (so spent, whatever the outcome) and
    must be this client's, unexpired, for the same ``redirect_uri`` (the application's first
    one when omitted, as at authorization) and, under PKCE, match ``code_verifier``."""
    if app["authorization_grant_type"] != "authorization-code":
        raise OAuthError("unauthorized_client", "The client is not authorized to use this grant type.")
    if not form.get("code"):
        raise OAuthError("invalid_request", "Missing code parameter.")
    code = oauth_codes.take(ctx.store, hash_token(form["code"]))
    if code is None or code["application"] != app["id"]:
        raise OAuthError("invalid_grant", "Invalid or expired authorization code.")
    registered = (app.get("redirect_uris") or "").split()
    redirect_uri = form.get("redirect_uri") or (registered[0] if registered else "")
    if redirect_uri != code["redirect_uri"]:
        raise OAuthError("invalid_request", "Mismatching redirect URI.")
    if code["code_challenge"]:
        if not form.get("code_verifier"):
            raise OAuthError("invalid_request", "Code verifier required.")
        if not _pkce_matches(code, form["code_verifier"]):
            raise OAuthError("invalid_grant", "Invalid or expired authorization code.")
    user = ctx.store.get("users", code["user_id"])
    if user is None:
        raise OAuthError("invalid_grant", "Invalid or expired authorization code.")
    return _mint(ctx, user, app, code["scope"])


def revoke(ctx: Context, app: dict, token: str) -> None:
    """``POST /api/o/revoke_token/``: delete the token of ``app`` whose access or refresh token
    is ``token``; an unknown token is not an error (RFC 7009)."""
    digest = hash_token(token or "")
    row = app_sql.token_by_hash(ctx.store, digest) or app_sql.token_by_refresh_hash(ctx.store, digest)
    if row is not None and row["application"] == app["id"]:
        with ctx.store.transaction():
            ctx.store.delete("tokens", row["id"])

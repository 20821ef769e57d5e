"""OAuth2 applications (AWX ``o_auth2_application``, ``/api/v2/applications/``).

An application belongs to one organization and names a client (``client_id`` generated,
``client_secret`` generated and shown once, in the answer to the POST that created it) that can
obtain tokens bound to it: ``/applications/N/tokens/`` and ``/api/o/token/``.

Access, as AWX's OAuth2ApplicationAccess: members of its organization see it; admins of its
organization create, change and delete it (and may see and revoke its tokens).
"""
from __future__ import annotations

import secrets

from .. import access
from ..errors import ValidationError
from ..passwords import hash_token
from ..registry import ENCRYPTED, Field, Registry, Relation, Resource
from ..store import applications as app_sql, rbac

CLIENT_TYPES = [("confidential", "Confidential"), ("public", "Public")]
GRANT_TYPES = [("authorization-code", "Authorization code"), ("password", "Resource owner password-based")]
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _random(length: int) -> str:
    """A random string of ``length`` letters and digits (django-oauth-toolkit's client ids)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _visibility(ctx):
    """Applications of organizations the user is a member of (admins are members)."""
    return rbac.fk_to_objects_with_roles_sql("organization", "organization", ("member_role",),
                                             ctx.effective_roles())


def _can_change(ctx, row: dict) -> bool:
    return access.holds(ctx, "organization", row.get("organization"), "admin_role")


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    if existing is not None:
        moved = "organization" in values and values["organization"] != existing["organization"]
        if moved and not access.holds(ctx, "organization", values["organization"], "admin_role"):
            access.require(False)
        if "authorization_grant_type" in values and \
                values["authorization_grant_type"] != existing["authorization_grant_type"]:
            raise ValidationError({"authorization_grant_type": ["This field cannot be changed."]})
    uris = (merged.get("redirect_uris") or "").split()
    if merged.get("authorization_grant_type") == "authorization-code" and not uris:
        raise ValidationError({"redirect_uris": ["Redirect URIs cannot be empty with grant type "
                                                 "authorization-code."]})
    for uri in uris:
        if not uri.startswith(("http://", "https://")):
            raise ValidationError({"redirect_uris": [f"Invalid redirect URI: {uri} (use http:// or https://)."]})


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is None:
        plain = _random(128)
        values["client_id"] = _random(40)
        # only a hash is kept: the secret is shown once, in the answer to this POST
        values["client_secret_hash"] = hash_token(plain)
        ctx.cache["pending_client_secret"] = plain
    return values


def _after_save(ctx, row: dict, existing: dict | None) -> None:
    if existing is None:
        ctx.reveal_once("pending_client_secret", "shown_client_secrets", row["id"])


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    """``client_secret``: the plain secret right after creation, ``$encrypted$`` later, and
    empty for public clients (which have no secret to keep)."""
    shown = ctx.cache.get("shown_client_secrets", {})
    out = {}
    for row in rows:
        secret = "" if row["client_type"] == "public" else shown.get(row["id"], ENCRYPTED)
        out[row["id"]] = {"client_secret": secret}
    return out


def _summary(ctx, rows: list[dict]) -> dict[int, dict]:
    """AWX's ``summary_fields.tokens``: how many tokens, and the first ten (masked)."""
    found = app_sql.tokens_of(ctx.store, [r["id"] for r in rows])
    return {pk: {"tokens": {"count": len(tokens), "results": [
        {"id": t["id"], "token": "************", "scope": t["scope"]} for t in tokens[:10]]}}
        for pk, tokens in found.items()}


def declare(reg: Registry) -> None:
    """Add the application resource and the ``applications`` sub-list of organizations."""
    reg.add(Resource(
        name="o_auth2_application", plural="applications", verbose_name="application",
        model_name="OAuth2Application",
        fields=[
            Field("client_id", "string", read_only=True, max_length=100, index=True),
            Field("client_secret", "string", stored=False, read_only=True, prevent_search=True,
                  label="Client Secret",
                  help_text="Used for more stringent verification of access to an application when creating "
                            "a token."),
            Field("client_type", "choice", required=True, choices=CLIENT_TYPES, label="Client Type",
                  help_text="Set to Public or Confidential depending on how secure the client device is."),
            Field("redirect_uris", "text", default="", label="Redirect URIs",
                  help_text="Allowed URIs list, space separated"),
            Field("authorization_grant_type", "choice", required=True, choices=GRANT_TYPES,
                  label="Authorization Grant Type",
                  help_text="The Grant type the user must use for acquire tokens for this application."),
            Field("skip_authorization", "boolean", default=False, label="Skip Authorization",
                  help_text="Set True to skip authorization step for completely trusted applications."),
            Field("organization", "id", fk="organization", required=True,
                  help_text="Organization containing this application."),
            Field("client_secret_hash", "string", hidden=True, filterable=False),
        ],
        ordering=("organization", "name"), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)), unique_together=(("name", "organization"),),
        relations=[Relation("tokens", "o_auth2_access_token", "reverse_fk", key="application", create=True,
                            attach=False)],
        create_role="organization.admin_role", visibility=_visibility, can_change=_can_change,
        validate=_validate, before_save=_before_save, after_save=_after_save, compute=_compute,
        extra_summary=_summary,
    ))
    reg["organization"].relations.append(
        Relation("applications", "o_auth2_application", "reverse_fk", key="organization", create=True))

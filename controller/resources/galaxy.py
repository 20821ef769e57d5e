"""Galaxy credentials of organizations (AWX ``/organizations/N/galaxy_credentials/``).

An organization lists, in order, the Ansible Galaxy / Automation Hub credentials its projects'
updates install ``collections/requirements.yml`` and ``roles/requirements.yml`` from (the first
server that has a content wins, as ``ansible-galaxy`` tries its server list in order).  Attaching
needs admin of the organization and read access to the credential (AWX's default attach rule);
only credentials of the managed ``galaxy_api_token`` type may be attached.
"""
from __future__ import annotations

from ..errors import APIError
from ..registry import Registry, Relation
from ..store.credentials import credential_type_of, credential_types

GALAXY_NAMESPACE = "galaxy_api_token"
LINK_TABLE = "organization_galaxy_credentials"
RELATION_KEY = f"{LINK_TABLE}:organization_id:credential_id"


def _only_galaxy(ctx, org: dict, cred: dict, on: bool) -> None:
    """Refuse to attach a credential of another type (AWX's message, as ``{"msg": ...}``)."""
    if not on:
        return
    ctype = credential_type_of(ctx.store, cred["id"]) or {}
    if ctype.get("namespace") != GALAXY_NAMESPACE:
        name = credential_types(ctx.store).get(cred["credential_type"], {}).get("name", "")
        raise APIError({"msg": f"Credential must be a Galaxy credential, not {name}."})


def declare(reg: Registry) -> None:
    """Add the ordered ``galaxy_credentials`` sub-list of organizations."""
    reg["organization"].relations.append(
        Relation("galaxy_credentials", "credential", "m2m", key=RELATION_KEY, ordered=True,
                 validate_association=_only_galaxy))

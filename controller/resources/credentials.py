"""Credential types (schemas of secrets) and credentials (secrets, encrypted at rest).

Contracts:
  * Managed credential types are written by :func:`seed_managed_types` (idempotent; called at
    start-up) and can be neither changed nor deleted through the API.  Custom types must be
    ``cloud`` or ``net``; their ``inputs`` and ``injectors`` are validated by
    :mod:`controller.services.credential_inputs`.
  * A credential's secret inputs are encrypted by ``before_save`` (the only writer of
    ``inputs``), shown as ``$encrypted$`` by ``compute`` and masked by ``redact`` for the
    activity stream; no plaintext secret reaches the database, a response or a log.
  * Ownership (AWX's create-only ``user`` / ``team`` / ``organization``) becomes roles:
    a user owner joins ``admin_role``; a team owner's admin role becomes a parent of
    ``admin_role`` and its member role a parent of ``use_role``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..services import credential_inputs as ci
from ..services import crud
from ..services.credential_injectors import check_injectors
from ..registry import ENCRYPTED, Field, Registry, Relation, Resource, RoleSpec
from ..store import now_iso, rbac
from .identity import user_can_admin
from .managed_credential_types import MANAGED_TYPES

KINDS = [("ssh", "Machine"), ("vault", "Vault"), ("net", "Network"), ("scm", "Source Control"),
         ("cloud", "Cloud"), ("registry", "Container Registry"), ("token", "Personal Access Token"),
         ("insights", "Insights"), ("external", "External"), ("kubernetes", "Kubernetes"),
         ("galaxy", "Galaxy/Automation Hub"), ("cryptography", "Cryptography")]
CUSTOM_KINDS = ("cloud", "net")
MANAGED_TYPE_CHANGE = "Modifications not allowed for managed credential types"
_JSON_HELP = "Enter {} using either JSON or YAML syntax. Refer to the documentation for example syntax."

# Extra "is this credential in use?" checks (ctx, credential row) -> bool, for uses that are not
# a foreign key or association table (those are found from the registry automatically).
IN_USE_CHECKS: list[Callable[[Any, dict], bool]] = []


# -- credential types ---------------------------------------------------------------------
def seed_managed_types(ctx: Any) -> int:
    """Insert or refresh every managed credential type; returns how many rows were written.

    ``ctx`` is anything with a ``store`` (a Context or the AppState).  Idempotent: a type is
    found by namespace (or by name and kind, adopting a same-named custom type, as AWX does)
    and rewritten only when its definition changed.
    """
    store = ctx.store
    written = 0
    with store.transaction():
        for namespace, kind, name, inputs, injectors in MANAGED_TYPES:
            ids = store.ids_where("credential_types", "namespace = ? AND managed = 1", [namespace]) or \
                store.ids_where("credential_types", "name = ? AND kind = ?", [name, kind])
            wanted = {"namespace": namespace, "kind": kind, "name": name, "managed": True,
                      "inputs": inputs, "injectors": injectors}
            if not ids:
                now = now_iso()
                store.insert("credential_types", {**wanted, "description": "", "created": now, "modified": now})
                written += 1
                continue
            row = store.get("credential_types", ids[0])
            current = {**row, "managed": bool(row["managed"]), "inputs": ci.as_dict(row["inputs"]),
                       "injectors": ci.as_dict(row["injectors"])}
            changed = {k: v for k, v in wanted.items() if current.get(k) != v}
            if changed:
                store.update("credential_types", row["id"], {**changed, "modified": now_iso()})
                written += 1
    return written


def _type_in_use(ctx, pk: int) -> bool:
    return ctx.store.exists("credentials", "credential_type = ?", [pk])


def _type_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None and existing.get("managed"):
        raise PermissionDenied(MANAGED_TYPE_CHANGE)
    if "kind" in values and values["kind"] not in CUSTOM_KINDS:
        raise ValidationError({"kind": [f"Must be 'cloud' or 'net', not {values['kind']}"]})
    inputs = values["inputs"] if "inputs" in values else ci.as_dict((existing or {}).get("inputs"))
    inputs = {} if inputs is None else inputs
    problems = ci.check_type_inputs(inputs)
    if "inputs" in values and problems:
        raise ValidationError({"inputs": problems})
    if existing is not None and "inputs" in values and inputs != ci.as_dict(existing.get("inputs")) \
            and _type_in_use(ctx, existing["id"]):
        raise APIError({"inputs": "Modifications to inputs are not allowed for credential types that are in use"},
                       status=403)
    if "injectors" in values or "inputs" in values:
        injectors = values["injectors"] if "injectors" in values else ci.as_dict((existing or {}).get("injectors"))
        problems = check_injectors({} if injectors is None else injectors, inputs)
        if problems:
            raise ValidationError({"injectors": problems})


def _type_before_save(ctx, values: dict, existing: dict | None) -> dict:
    for key in ("inputs", "injectors"):
        if key in values and values[key] is None:
            values[key] = {}
    return values


def _type_before_delete(ctx, row: dict) -> None:
    # AWX answers 403 (not 409) for both.
    if row.get("managed"):
        raise PermissionDenied("Deletion not allowed for managed credential types")
    if _type_in_use(ctx, row["id"]):
        raise PermissionDenied("Credential types that are in use cannot be deleted")


# -- credentials: ownership ---------------------------------------------------------------
def _check_owner_fields(values: dict) -> None:
    given = sorted(k for k in ("user", "team", "organization") if values.get(k) not in (None, ""))
    if not given:
        raise ValidationError({"detail": ["Missing 'user', 'team', or 'organization'."]})
    if len(given) > 1:
        raise ValidationError({"detail": ["Only one of 'user', 'team', or 'organization' should be provided, "
                                          f"received {', '.join(given)} fields."]})


def _cred_can_create(ctx, values: dict) -> bool:
    """AWX's CredentialAccess.can_add: the owner user themselves or whoever may administer them
    (``UserAccess.can_admin(..., check_setting=False)``: MANAGE_ORGANIZATION_AUTH does not
    apply), change rights on the owner team, or credential admin of the organization.  A copy
    passes the original row (it has an ``id``)."""
    if "id" not in values:
        _check_owner_fields(values)     # DRF validates before it checks access: 400 first
    reg, store = ctx.registry, ctx.store
    if values.get("user"):
        target = store.get("users", values["user"])
        return target is not None and (target["id"] == ctx.user_id or
                                       user_can_admin(ctx, target, check_setting=False))
    if values.get("team"):
        target = store.get("teams", values["team"])
        return target is not None and access.can_change(ctx, reg["team"], target)
    if values.get("organization"):
        return access.holds(ctx, "organization", values["organization"], "credential_admin_role")
    return "id" in values   # copying a personal credential: the caller checked change rights


def credential_in_use(ctx, row: dict) -> bool:
    """Does any object use this credential?  Every FK and association table pointing at
    credentials counts (read from the registry, so new resources are covered), plus
    :data:`IN_USE_CHECKS`."""
    for res, fk in ctx.registry.reverse_fks("credential"):
        if res.name != "credential" and ctx.store.exists(res.table, f'"{fk.name}" = ?', [row["id"]]):
            return True
    for table, column in crud.m2m_columns(ctx.registry, "credential"):
        if ctx.store.exists(table, f'"{column}" = ?', [row["id"]]):
            return True
    return any(check(ctx, row) for check in IN_USE_CHECKS)


def _cred_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None:
        _check_owner_fields(values)
        return
    if existing.get("managed"):
        raise PermissionDenied("Modifications not allowed for managed credentials")
    if "credential_type" in values and values["credential_type"] != existing["credential_type"] \
            and credential_in_use(ctx, existing):
        raise ValidationError({"credential_type": ["You cannot change the credential type of the credential, "
                                                   "as it may break the functionality of the resources using it."]})
    if "organization" in values and values["organization"] != existing.get("organization") and not ctx.is_superuser:
        # Moving a credential needs credential-admin rights on both organizations.
        for org in (existing.get("organization"), values["organization"]):
            if org is not None and not access.holds(ctx, "organization", org, "credential_admin_role"):
                raise PermissionDenied()


def _cred_before_save(ctx, values: dict, existing: dict | None) -> dict:
    """Owners out (they become roles in after_save), secrets in (encrypted)."""
    user, team = values.pop("user", None), values.pop("team", None)
    if existing is None:
        ctx.cache["credential_owner"] = (user, team)
        if team:
            values["organization"] = ctx.store.get("teams", team)["organization"]
    type_id = values.get("credential_type", (existing or {}).get("credential_type"))
    cred_type = ctx.store.get("credential_types", type_id) or {}
    type_changed = existing is not None and type_id != existing["credential_type"]
    before = ci.as_dict(existing["inputs"]) if existing is not None else None
    if "inputs" in values or type_changed or existing is None:
        submitted = values.get("inputs")
        if submitted is None:
            submitted = {} if existing is None else ci.decrypt_inputs(ctx.vault, cred_type, before)
        values["inputs"] = ci.prepare_inputs(ctx.vault, cred_type, submitted, before)
    return values


def _cred_after_save(ctx, row: dict, existing: dict | None) -> None:
    if existing is not None:
        return
    user, team = ctx.cache.pop("credential_owner", (None, None))
    mine = rbac.roles_of(ctx.store, "credential", [row["id"]])[row["id"]]
    if user:
        rbac.add_member(ctx.store, mine["admin_role"], user)
    if team:
        theirs = rbac.roles_of(ctx.store, "team", [team])[team]
        rbac.add_parent(ctx.store, mine["admin_role"], theirs["admin_role"])
        rbac.add_parent(ctx.store, mine["use_role"], theirs["member_role"])
    ctx.forget_roles()


def _cred_before_delete(ctx, row: dict) -> None:
    if row.get("managed"):
        raise PermissionDenied("Modifications not allowed for managed credentials")


# -- credentials: output ------------------------------------------------------------------
def _cred_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    types = ctx.store.get_many("credential_types", {r["credential_type"] for r in rows})
    out = {}
    for r in rows:
        t = types.get(r["credential_type"]) or {}
        out[r["id"]] = {"inputs": ci.mask_inputs(t, r.get("inputs")), "kind": t.get("namespace"),
                        "cloud": t.get("kind") == "cloud", "kubernetes": t.get("kind") == "kubernetes",
                        "credential_type_id": r["credential_type"]}
    return out


def _redact(row: dict) -> dict:
    # Every stored secret is a vault ciphertext, so masking by prefix needs no type lookup.
    masked = {k: ENCRYPTED if isinstance(v, str) and v.startswith(ENCRYPTED) else v
              for k, v in ci.as_dict(row.get("inputs")).items()}
    return {**row, "inputs": json.dumps(masked, separators=(",", ":"))}


def _owners(ctx, rows: list[dict]) -> dict[int, dict]:
    """``summary_fields.owners``: direct admin users, teams whose role is a parent of
    admin_role, and the organization."""
    store = ctx.store
    admin = {pk: roles.get("admin_role")
             for pk, roles in rbac.roles_of(store, "credential", [r["id"] for r in rows]).items()}
    role_ids = [rid for rid in admin.values() if rid]
    users: dict[int | None, list] = {}
    for m in rbac.direct_member_users(store, role_ids):
        users.setdefault(m["role_id"], []).append({
            "id": m["id"], "type": "user", "name": m["username"],
            "description": " ".join([m["first_name"] or "", m["last_name"] or ""]), "url": f"/api/v2/users/{m['id']}/"})
    team_links = rbac.team_grants(store, role_ids)
    teams = store.get_many("teams", {t["object_id"] for t in team_links})
    orgs = store.get_many("organizations", {r["organization"] for r in rows if r.get("organization")})
    out = {}
    for r in rows:
        rid = admin.get(r["id"])
        owners = list(users.get(rid, []))
        owners += [{"id": t["object_id"], "type": "team", "name": teams[t["object_id"]]["name"],
                    "description": teams[t["object_id"]]["description"], "url": f"/api/v2/teams/{t['object_id']}/"}
                   for t in team_links if t["role_id"] == rid and t["object_id"] in teams]
        org = orgs.get(r.get("organization"))
        if org:
            owners.append({"id": org["id"], "type": "organization", "name": org["name"],
                           "description": org["description"], "url": f"/api/v2/organizations/{org['id']}/"})
        out[r["id"]] = {"owners": owners}
    return out


# -- sub-list scopes ----------------------------------------------------------------------
def _owner_teams_scope(ctx, cred: dict) -> tuple[str, list]:
    rid = rbac.role_id(ctx.store, "credential", cred["id"], "admin_role")
    return ("id IN (SELECT r.object_id FROM role_parents rp JOIN roles r ON r.id = rp.parent_id"
            " WHERE r.content_type = 'team' AND rp.role_id = ?)", [rid or 0])


def _user_credentials_scope(ctx, user: dict) -> tuple[str, list]:
    return rbac.objects_with_role_sql("credential", "read_role", user["id"])


def _team_credentials_scope(ctx, team: dict) -> tuple[str, list]:
    return ("id IN (SELECT c.object_id FROM roles c JOIN role_parents rp ON rp.role_id = c.id"
            " JOIN roles t ON t.id = rp.parent_id WHERE c.content_type = 'credential'"
            " AND t.content_type = 'team' AND t.object_id = ? AND rp.implicit = 0)", [team["id"]])


def declare(reg: Registry) -> None:
    """Add credential types and credentials, and the credential sub-lists of their owners."""
    reg.add(Resource(
        name="credential_type", plural="credential_types",
        fields=[
            Field("kind", "choice", required=True, default=None, choices=KINDS,
                  help_text="The kind of credential: custom types must be 'cloud' or 'net'."),
            Field("namespace", "string", read_only=True, null=True, default=None,
                  help_text="Stable identifier of a managed credential type; null for custom types."),
            Field("managed", "boolean", read_only=True, default=False),
            Field("inputs", "json", default={}, help_text=_JSON_HELP.format("inputs")),
            Field("injectors", "json", default={}, help_text=_JSON_HELP.format("injectors")),
        ],
        ordering=("kind", "name"), search_fields=("name", "description"),
        named_url=(("name", "kind"),), unique_together=(("name", "kind"),),
        # AWX's CredentialTypeCredentialList has no parent_key: POST is offered to every reader
        relations=[Relation("credentials", "credential", "reverse_fk", key="credential_type",
                            create=True, attach=False, checks_add=False)],
        create_role=None, validate=_type_validate, before_save=_type_before_save,
        before_delete=_type_before_delete,
    ))

    reg.add(Resource(
        name="credential", plural="credentials",
        fields=[
            Field("organization", "id", fk="organization", null=True, default=None,
                  help_text="Inherit permissions from organization roles. If provided on creation, "
                            "do not give either user or team."),
            Field("credential_type", "id", fk="credential_type", required=True,
                  help_text="Specify the type of credential you want to create. Refer to the "
                            "documentation for details on each type."),
            Field("managed", "boolean", read_only=True, default=False),
            Field("inputs", "json", default={}, prevent_search=True, help_text=_JSON_HELP.format("inputs")),
            Field("kind", "string", stored=False, read_only=True),
            Field("cloud", "boolean", stored=False, read_only=True),
            Field("kubernetes", "boolean", stored=False, read_only=True),
            # Create-only owners: never stored (before_save turns them into roles).
            Field("user", "id", fk="user", null=True, default=None, write_only=True, create_only=True,
                  on_delete="set_null",
                  help_text="Write-only field used to add user to owner role. If provided, do not give "
                            "either team or organization. Only valid for creation."),
            Field("team", "id", fk="team", null=True, default=None, write_only=True, create_only=True,
                  on_delete="set_null",
                  help_text="Write-only field used to add team to owner role. If provided, do not give "
                            "either user or organization. Only valid for creation."),
        ],
        ordering=("name",), search_fields=("name", "description"),
        named_url=(("name",), ("credential_type.name", "credential_type.kind"), ("organization.name",)),
        unique_together=(("organization", "name", "credential_type"),),
        summary_keys=("id", "name", "description", "kind", "cloud", "kubernetes", "credential_type_id"),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}",
                     ("organization.credential_admin_role",)),
            RoleSpec("use_role", "Use", "Can use the {model} in a job template", ("admin_role",)),
            RoleSpec("read_role", "Read", "May view settings for the {model}",
                     ("use_role", "organization.auditor_role")),
        ],
        relations=[
            Relation("owner_users", "user", "role_members", key="admin_role", read_only=True),
            Relation("owner_teams", "team", "role_teams", read_only=True, scope_hook=_owner_teams_scope),
        ],
        create_role="organization.credential_admin_role", capabilities=("edit", "delete", "copy", "use"),
        actions=("copy",), validate=_cred_validate, before_save=_cred_before_save,
        after_save=_cred_after_save, before_delete=_cred_before_delete, can_create=_cred_can_create,
        may_add=access.anyone,
        compute=_cred_compute, redact=_redact, extra_summary=_owners,
    ))

    reg["organization"].relations.append(
        Relation("credentials", "credential", "reverse_fk", key="organization", create=True, attach=False))
    reg["user"].relations.append(
        Relation("credentials", "credential", "reverse_fk", key="user", create=True, attach=False,
                 scope_hook=_user_credentials_scope))
    reg["team"].relations.append(
        Relation("credentials", "credential", "reverse_fk", key="team", create=True, attach=False,
                 scope_hook=_team_credentials_scope))

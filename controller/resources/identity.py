"""Organizations, users and teams: who exists and who belongs where."""
from __future__ import annotations

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..passwords import hash_password
from ..registry import ENCRYPTED, Field, Registry, Relation, Resource, RoleSpec
from ..store import rbac
from ..store.counts import count_by

_ORG_ADMIN_KINDS = {"project": "projects", "inventory": "inventories", "credential": "credentials",
                    "workflow": "workflows", "notification": "notifications",
                    "job_template": "job templates", "execution_environment": "execution environments"}


def _org_roles() -> list[RoleSpec]:
    roles = [
        RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}", user_only=True),
        RoleSpec("execute_role", "Execute", "May run any executable resources in the {model}", ("admin_role",)),
    ]
    for kind, plural in _ORG_ADMIN_KINDS.items():
        roles.append(RoleSpec(f"{kind}_admin_role", f"{kind.replace('_', ' ').title()} Admin",
                              f"Can manage all {plural} of the {{model}}", ("admin_role",)))
    roles += [
        RoleSpec("auditor_role", "Auditor", "Can view all aspects of the {model}"),
        RoleSpec("member_role", "Member", "User is a member of the {model}", ("admin_role",), user_only=True),
        RoleSpec("read_role", "Read", "May view settings for the {model}",
                 ("member_role", "auditor_role", "execute_role",
                  *(f"{k}_admin_role" for k in _ORG_ADMIN_KINDS))),
        RoleSpec("approval_role", "Approve", "Can approve or deny a workflow approval node", ("admin_role",)),
    ]
    return roles


def _org_validate(ctx, values: dict, existing: dict | None) -> None:
    if "max_hosts" in values and not ctx.is_superuser and values["max_hosts"] != (existing or {}).get("max_hosts", 0):
        raise PermissionDenied("Cannot change max_hosts.")


def _org_counts(ctx, rows: list[dict]) -> dict[int, dict]:
    """``related_field_counts`` for organization lists."""
    ids = [r["id"] for r in rows]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for child, fk in ctx.registry.reverse_fks("organization"):
        if child.plural in ("teams", "inventories", "projects", "job_templates"):
            got = count_by(ctx.store, child.table, fk.name, ids)
            for i in ids:
                counts[i][child.plural] = got.get(i, 0)
    for role_field, key in (("member_role", "users"), ("admin_role", "admins")):
        got = rbac.direct_member_counts(ctx.store, "organization", role_field, ids)
        for i in ids:
            counts[i][key] = got.get(i, 0)
    for i in ids:
        for k in ("inventories", "teams", "users", "job_templates", "admins", "projects"):
            counts[i].setdefault(k, 0)
    return {i: {"related_field_counts": counts[i]} for i in ids}


def _sees_all_people(ctx) -> bool:
    """AWX: with ORG_ADMINS_CAN_SEE_ALL_USERS (the default) an organization admin or auditor
    sees every user and every team."""
    return bool(ctx.settings.ORG_ADMINS_CAN_SEE_ALL_USERS) and any(
        access.holds_any(ctx, "organization", role) for role in ("admin_role", "auditor_role"))


def _user_visibility(ctx):
    if _sees_all_people(ctx):
        return "1", []   # all_of's "no condition"
    return rbac.users_visible_sql(ctx.user_id or 0)


def _team_visibility(ctx):
    """AWX TeamAccess: a team is visible to holders of its read role (its members and admins,
    its organization's admins and auditors) and to every member of its organization."""
    if _sees_all_people(ctx):
        return "1", []   # all_of's "no condition"
    return access.objects_held_sql(ctx, ctx.registry["team"], "read_role",
                                   also=(("organization", "organization", ("member_role",)),))


def _is_last_superuser(ctx, row: dict) -> bool:
    """Is ``row`` the only superuser left?  (Nobody could administer the system after it.)"""
    return bool(row.get("is_superuser")) and ctx.store.count("users", "is_superuser = 1 AND id != ?",
                                                             [row["id"]]) == 0


def user_can_admin(ctx, row: dict, check_setting: bool = True) -> bool:
    """AWX ``UserAccess.can_admin(row, None, check_setting=...)``: superusers; else nobody while
    ``check_setting`` and MANAGE_ORGANIZATION_AUTH is off; never for a superuser or a system
    auditor ``row``; else an admin of every organization ``row`` belongs to (AWX
    ``is_all_org_admin``: admin of one of them does not give the password of a user who also
    belongs, or is admin, elsewhere), and of at least one (a user in no organization is the
    superusers')."""
    if ctx.is_superuser:
        return True
    if check_setting and not ctx.settings.MANAGE_ORGANIZATION_AUTH:
        return False
    if row.get("is_superuser") or row.get("is_system_auditor"):
        return False
    theirs = {pk for pk, field in rbac.roles_held_of(ctx.store, row["id"], "organization") if field == "member_role"}
    return bool(theirs) and theirs <= set(access.organizations_held(ctx, "admin_role"))


def _user_can_change(ctx, row: dict) -> bool:
    """AWX ``UserAccess.can_change``: with MANAGE_ORGANIZATION_AUTH off only superusers
    (themselves included); else the user themselves, or whoever may administer them."""
    if not ctx.settings.MANAGE_ORGANIZATION_AUTH and not ctx.is_superuser:
        return False
    return ctx.user_id == row["id"] or user_can_admin(ctx, row)


def _user_can_delete(ctx, row: dict) -> bool:
    # Nobody deletes themselves (superusers included), nor the last superuser (AWX
    # UserAccess.can_delete), so the capability flag never promises it.
    if row["id"] == ctx.user_id or _is_last_superuser(ctx, row):
        return False
    return ctx.is_superuser or _user_can_change(ctx, row)


def _user_can_create(ctx, values: dict) -> bool:
    if ctx.is_superuser:
        return True
    if not ctx.settings.MANAGE_ORGANIZATION_AUTH:
        return False
    sql, params = rbac.holds_any_sql("organization", "admin_role", ctx.user_id or 0)
    return ctx.store.one(sql, params) is not None


def _team_can_create(ctx, values: dict) -> bool:
    """AWX ``TeamAccess.can_add(data)``: superusers; else, only while MANAGE_ORGANIZATION_AUTH
    is on, an admin of the organization named in ``values`` (the body, or a sub-list's
    ``{"organization": parent}``)."""
    if ctx.is_superuser:
        return True
    if not ctx.settings.MANAGE_ORGANIZATION_AUTH:
        return False
    return access.holds(ctx, "organization", values.get("organization"), "admin_role")


def _team_validate(ctx, values: dict, existing: dict | None) -> None:
    """AWX ``TeamAccess.can_change``: nobody, superusers included, moves a team to another
    organization by changing it (attaching it to ``/organizations/N/teams/`` still does, as
    there: that asks the new organization's admin)."""
    if existing is not None and "organization" in values and values["organization"] != existing.get("organization"):
        raise PermissionDenied("Unable to change organization on a team.")


def _user_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is None and not values.get("password"):
        raise ValidationError({"password": ["Password required for new User."]})
    for flag in ("is_superuser", "is_system_auditor"):
        if values.get(flag) and not ctx.is_superuser and not (existing or {}).get(flag):
            raise PermissionDenied(f"Only superusers can set {flag}.")
    # Demoting the only superuser would leave nobody able to administer the system.
    if existing is not None and "is_superuser" in values and not values["is_superuser"] \
            and _is_last_superuser(ctx, existing):
        raise ValidationError({"is_superuser": ["Cannot remove superuser status from the last superuser."]})


def _user_before_save(ctx, values: dict, existing: dict | None) -> dict:
    password = values.pop("password", None)
    if password not in (None, "", ENCRYPTED):
        values["password"] = hash_password(password)
    return values


def _user_before_delete(ctx, row: dict) -> None:
    # Re-checked inside the delete's transaction: two superusers deleting each other at once
    # must not both succeed.
    if row["id"] == ctx.user_id:
        raise PermissionDenied("You cannot delete yourself.")
    if _is_last_superuser(ctx, row):
        raise PermissionDenied("Cannot delete the last superuser.")


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="organization", plural="organizations",
        fields=[
            Field("max_hosts", "integer", default=0, min_value=0, max_value=2147483647,
                  help_text="Maximum number of hosts allowed to be managed by this organization."),
            Field("custom_virtualenv", "string", read_only=True, null=True, default=None,
                  help_text="Local absolute file path containing a custom Python virtualenv to use"),
            Field("default_environment", "id", fk="execution_environment", on_delete="set_null", null=True,
                  default=None,
                  help_text="The default execution environment for jobs run by this organization."),
        ],
        ordering=("name",), search_fields=("name", "description"), named_url=(("name",),),
        unique_together=(), roles=_org_roles(),
        relations=[
            Relation("users", "user", "role_members", key="member_role", create=True),
            Relation("admins", "user", "role_members", key="admin_role", create=True),
            Relation("teams", "team", "reverse_fk", key="organization", create=True),
        ],
        create_role=None, validate=_org_validate, extra_summary=_org_counts,
    ))
    org_name = reg["organization"].field("name")   # the common field every resource has
    if org_name is not None:
        org_name.unique = True

    reg.add(Resource(
        name="user", plural="users", common_fields=False,
        fields=[
            Field("username", "string", required=True, max_length=150, unique=True,
                  unique_message="A user with that username already exists.",
                  help_text="Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
            Field("first_name", "string", max_length=150),
            Field("last_name", "string", max_length=150),
            Field("email", "email", max_length=254),
            Field("is_superuser", "boolean", default=False, label="Superuser status",
                  help_text="Designates that this user has all permissions without explicitly assigning them."),
            Field("is_system_auditor", "boolean", default=False),
            Field("password", "password", write_only=True, secret=True, default="", max_length=128,
                  help_text="Field used to change the password."),
            Field("last_login", "datetime", read_only=True, null=True, default=None),
        ],
        ordering=("username",), search_fields=("username", "first_name", "last_name", "email"),
        named_url=(("username",),), summary_keys=("id", "username", "first_name", "last_name"),
        relations=[
            Relation("teams", "team", "member_of", key="member_role", read_only=True),
            Relation("organizations", "organization", "member_of", key="member_role", read_only=True),
            Relation("admin_of_organizations", "organization", "member_of", key="admin_role", read_only=True),
            Relation("roles", "role", "user_roles"),
            Relation("tokens", "o_auth2_access_token", "reverse_fk", key="user", create=True, attach=False),
            Relation("personal_tokens", "o_auth2_access_token", "reverse_fk", key="user", create=True, attach=False),
        ],
        visibility=_user_visibility, can_change=_user_can_change, can_create=_user_can_create,
        # AWX UserAccess.can_add({}): MANAGE_ORGANIZATION_AUTH and admin of some organization
        may_add=lambda ctx: _user_can_create(ctx, {}),
        can_delete=_user_can_delete,
        validate=_user_validate, before_save=_user_before_save, before_delete=_user_before_delete,
    ))

    reg.add(Resource(
        name="team", plural="teams",
        fields=[Field("organization", "id", fk="organization", required=True,
                      help_text="The organization this team belongs to.")],
        ordering=("organization", "name"), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)),
        unique_together=(("organization", "name"),),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}", ("organization.admin_role",)),
            RoleSpec("member_role", "Member", "User is a member of the {model}", ("admin_role",), user_only=True),
            RoleSpec("read_role", "Read", "May view settings for the {model}",
                     ("admin_role", "member_role", "organization.auditor_role")),
        ],
        relations=[
            Relation("users", "user", "role_members", key="member_role"),
            Relation("roles", "role", "team_roles"),
        ],
        create_role="organization.admin_role", visibility=_team_visibility, can_create=_team_can_create,
        validate=_team_validate,
        manage_setting="MANAGE_ORGANIZATION_AUTH",      # AWX TeamAccess.can_change / can_delete
        # AWX TeamAccess.can_add({}) (a list's OPTIONS) asks only for an organization admin,
        # MANAGE_ORGANIZATION_AUTH or not: /teams/ offers POST to them even while the setting
        # refuses the POST itself; /organizations/N/teams/ asks _team_can_create and does not
        may_add=access.holds_some("organization.admin_role"),
    ))

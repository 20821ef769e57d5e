"""AWX's newer RBAC API (django-ansible-base): role definitions and role assignments.

``/role_definitions/`` lists one *managed* definition per declared object role (see
:mod:`.role_catalog`: "Inventory Admin" is an inventory's admin_role) and the custom definitions
superusers create (a list of ``awx.<action>_<model>`` permissions on one content type).
``/role_user_assignments/`` and ``/role_team_assignments/`` are the grants of those roles: the same
grants ``/roles/N/users/`` and ``/roles/N/teams/`` make (one store, :mod:`controller.store.role_definitions`
keeps the assignment rows in step with the grants both ways).

Custom definitions: Turret grants object roles, never loose permissions.  A custom definition
whose permissions are exactly those of one role of its content type (``[awx.view_jobtemplate,
awx.execute_jobtemplate]`` = a job template's execute role) is assigned as that role; assigning one
that matches no role is refused with a 400 naming the definitions that can be assigned (Turret
never grants more than a definition lists).  Definitions can be stored either way.

Access, as AWX: anyone logged in reads definitions, superusers create, change and delete custom
ones, managed ones are read-only; assigning or removing needs the admin role of the object (the
rule of the old API); assignments are visible to those who can see their object (and a user sees
their own).
"""
from __future__ import annotations

import json
from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..registry import Field, Registry, Relation, Resource
from ..store import now_iso, rbac
from ..store import role_definitions as rd_sql
from . import role_catalog as catalog

NOT_SUPPORTED_AID = "Turret has no resource registry: give {field} instead."
MANAGED = "Role is managed by the system"


# -- role definitions ---------------------------------------------------------------------------
def _codename(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"permissions": ["Each permission must be a string such as awx.view_inventory."]})
    return value.strip().rsplit(".", 1)[-1]


def _check_permissions(reg: Registry, resource: Resource, codenames: list[str]) -> None:
    """DAB's rules: every permission valid for the content type; a model's other permissions
    come with its view permission; delete comes with change."""
    allowed = catalog.allowed_permissions(reg, resource)
    invalid = [c for c in codenames if c not in allowed]
    if invalid:
        names = ", ".join(f'"{c}"' for c in invalid)
        raise ValidationError({"permissions": [f"Permissions {names} are not valid for "
                                               f"{catalog.model_key(resource)} roles"]})
    models: dict[str, set[str]] = {}
    for c in codenames:
        action, _, model = c.partition("_")
        if action != "add":
            models.setdefault(model, set()).add(action)
    for model, actions in models.items():
        if "view" not in actions and f"view_{model}" in allowed:
            raise ValidationError({"permissions": [f"Permissions for model {model} needs to include view, "
                                                   f"got: {', '.join(sorted(a + '_' + model for a in actions))}"]})
        if "delete" in actions and "change" not in actions:
            raise ValidationError({"permissions": [f"Permissions for model {model} needs to include change, "
                                                   f"got: {', '.join(sorted(a + '_' + model for a in actions))}"]})


def _definition_validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None and existing.get("managed"):
        raise APIError({"detail": MANAGED})
    ctype = values["content_type"] if "content_type" in values else (existing or {}).get("content_type")
    resource = catalog.resource_for(ctx.registry, ctype)
    if resource is None:
        raise ValidationError({"content_type": ["Turret has no system-wide role definitions: choose the type of "
                                                "object this role applies to (superuser and auditor are user flags)."]})
    if existing is None and values.get("permissions") is None:
        raise ValidationError({"permissions": ["This field is required."]})
    perms = values.get("permissions", (existing or {}).get("permissions"))
    if isinstance(perms, str):
        perms = _json_list(perms)
    if not isinstance(perms, list):
        raise ValidationError({"permissions": ['Expected a list of items but got type "'
                                               f'{type(perms).__name__}".']})
    codenames = list(dict.fromkeys(_codename(p) for p in perms))
    _check_permissions(ctx.registry, resource, codenames)
    role_field = catalog.role_for_permissions(ctx.registry, resource, {f"{catalog.PREFIX}.{c}" for c in codenames})
    moved = existing is not None and role_field != existing.get("role_field")
    if moved and existing is not None and rd_sql.assignments_of(ctx.store, existing["id"]):
        raise ValidationError({"permissions": ["This role definition is assigned: its permissions would grant a "
                                               "different Turret role. Remove its assignments first."]})
    ctx.cache["role_definition"] = {"permissions": [f"{catalog.PREFIX}.{c}" for c in codenames],
                                    "resource": resource.name, "role_field": role_field or ""}


def _json_list(text: Any) -> Any:
    """A stored JSON column back to its value (``permissions`` of an existing row)."""
    return json.loads(text) if isinstance(text, str) and text else (text or [])


def _definition_before_save(ctx, values: dict, existing: dict | None) -> dict:
    values.update(ctx.cache.pop("role_definition", {}))
    values["managed"] = False
    return values


def _definition_before_delete(ctx, row: dict) -> None:
    """Managed definitions stay; deleting a custom one revokes every grant made through it."""
    if row.get("managed"):
        raise APIError({"detail": MANAGED})
    for grant in rd_sql.assignments_of(ctx.store, row["id"]):
        _revoke(ctx, grant["role"], grant["kind"], grant["actor"])
    ctx.forget_roles()


def _revoke(ctx, role: int, actor_kind: str, actor: int) -> None:
    """Take ``role`` from a user (its membership) or a team (the team's member role as a parent)."""
    if actor_kind == "user":
        rbac.remove_member(ctx.store, role, actor)
        return
    member = rbac.role_id(ctx.store, "team", actor, "member_role")
    if member is not None:
        rbac.remove_parent(ctx.store, role, member)


# -- assignments --------------------------------------------------------------------------------
def _assignable(ctx, definition: dict) -> tuple[Resource, str]:
    resource = ctx.registry.get(definition.get("resource") or "")
    if resource is None or not definition.get("role_field") or resource.role(definition["role_field"]) is None:
        res = catalog.resource_for(ctx.registry, definition.get("content_type"))
        names = ", ".join(d.name for d in catalog.managed_definitions(ctx.registry)
                          if res is not None and d.resource == res.name)
        raise ValidationError({"role_definition": [
            f"Role definition {definition['name']!r} cannot be assigned: Turret grants object roles and its "
            f"permissions match no role of {definition.get('content_type')}. Role definitions that can be "
            f"assigned on that type: {names}."]})
    return resource, definition["role_field"]


def _target_object(ctx, resource: Resource, raw: Any) -> dict:
    try:
        pk = int(str(raw).strip())
    except ValueError:
        raise ValidationError({"object_id": [f'Invalid pk "{raw}" - object does not exist.']}) from None
    row = ctx.store.get(resource.table, pk) if pk > 0 else None
    if row is None or not access.can_read(ctx, resource, row):
        raise ValidationError({"object_id": [f'Invalid pk "{raw}" - object does not exist.']})
    return row


def _may_grant(ctx, resource: Resource, object_id: int, role_field: str) -> bool:
    """The old API's rule: admin of the object (or the role itself where it has no admin role)."""
    return access.holds(ctx, resource.name, object_id, "admin_role" if resource.role("admin_role") else role_field)


def _assignment_validate(actor: str):
    """Resolve definition, object and actor; check who may grant; stash the grant to make."""
    def validate(ctx, values: dict, existing: dict | None) -> None:
        for field in ("object_ansible_id", f"{actor}_ansible_id"):
            if values.get(field) not in (None, ""):
                raise ValidationError({field: [NOT_SUPPORTED_AID.format(field=field.replace("_ansible_id", "_id")
                                                                        if field.startswith("object") else actor)]})
        if values.get(actor) is None:
            msg = f"Provide exactly one of {actor} or {actor}_ansible_id"
            raise ValidationError({actor: [msg], f"{actor}_ansible_id": [msg]})
        if values.get("object_id") in (None, ""):
            raise ValidationError({"object_id": ["Object must be specified for this role assignment"]})
        definition = ctx.store.get("role_definitions", values["role_definition"])
        resource, role_field = _assignable(ctx, definition)
        obj = _target_object(ctx, resource, values["object_id"])
        actor_res = ctx.registry[actor]
        actor_row = ctx.store.get(actor_res.table, values[actor])
        if not access.can_read(ctx, actor_res, actor_row):
            raise ValidationError({actor: [f'Invalid pk "{values[actor]}" - object does not exist.']})
        if not _may_grant(ctx, resource, obj["id"], role_field):
            raise PermissionDenied()
        role = rbac.role_id(ctx.store, resource.name, obj["id"], role_field)
        if role is None:   # every object gets its roles when created
            raise ValidationError({"object_id": [f'Invalid pk "{obj["id"]}" - object does not exist.']})
        if actor == "team":
            _check_team_grant(ctx, resource, role_field, role, actor_row)
        held = (rd_sql.user_assignment_of if actor == "user" else rd_sql.team_assignment_of)(
            ctx.store, role, actor_row["id"])
        if held is not None:
            raise ValidationError({"role_definition": [
                f"The {actor} already holds this role (role {actor} assignment {held['id']})."]})
        ctx.cache["role_assignment"] = {"role": role, "resource": resource.name, "object_id": str(obj["id"]),
                                        "content_type": definition["content_type"]}
    return validate


def _check_team_grant(ctx, resource: Resource, role_field: str, role: int, team: dict) -> None:
    spec = resource.role(role_field)
    if spec is not None and spec.user_only:
        raise ValidationError({"role_definition": [
            "You cannot assign an Organization participation role as a child role for a Team."]})
    if role == rbac.role_id(ctx.store, "team", team["id"], "member_role"):
        raise ValidationError({"role_definition": ["A team cannot be granted its own member role."]})


def _assignment_before_save(ctx, values: dict, existing: dict | None) -> dict:
    values.update(ctx.cache.pop("role_assignment"))
    values["object_ansible_id"] = None
    return values


def _assignment_after_save(actor: str):
    """Make the grant the new assignment row stands for (its trigger finds the row there)."""
    def after_save(ctx, row: dict, existing: dict | None) -> None:
        if actor == "user":
            rbac.add_member(ctx.store, row["role"], row["user"])
        else:   # validate found the team's member role
            rbac.add_parent(ctx.store, row["role"], rbac.role_id(ctx.store, "team", row["team"], "member_role") or 0)
        ctx.forget_roles()
    return after_save


def _assignment_can_delete(actor: str):
    def can_delete(ctx, row: dict) -> bool:
        resource = ctx.registry.get(row.get("resource") or "")
        if ctx.is_superuser:
            return True
        if actor == "team" and access.holds(ctx, "team", row["team"], "admin_role"):
            return True
        return resource is not None and _may_grant(ctx, resource, int(row["object_id"]),
                                                   ctx.store.get("roles", row["role"])["role_field"])
    return can_delete


def _assignment_before_delete(actor: str):
    """Revoke the grant: the revoke trigger deletes the assignment row itself."""
    def before_delete(ctx, row: dict) -> None:
        _revoke(ctx, row["role"], actor, row[actor])
        ctx.forget_roles()
    return before_delete


def _roles_visible(ctx) -> tuple[str, list]:
    """WHERE over ``roles``: roles whose object the user can read."""
    visible = {res.name: access.visibility(ctx, res) for res in catalog.role_resources(ctx.registry)}
    tables = {res.name: res.table for res in catalog.role_resources(ctx.registry)}
    return rbac.typed_objects_sql("content_type", "object_id", visible, tables)


def _user_visibility(ctx):
    return rd_sql.visible_sql(_roles_visible(ctx), ctx.user_id)


def _team_visibility(ctx):
    return rd_sql.team_visible_sql(_roles_visible(ctx))


def _content_related(ctx, row: dict, detail: bool) -> dict:
    res = ctx.registry.get(row.get("resource") or "")
    return {"content_object": res.url(int(row["object_id"]))} if res and row.get("object_id") else {}


def _content_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for row in rows:
        res = ctx.registry.get(row.get("resource") or "")
        obj = ctx.store.get(res.table, int(row["object_id"])) if res and row.get("object_id") else None
        if obj is not None and res is not None:
            out[row["id"]] = {"content_object": {"id": obj["id"], "name": obj.get("name", obj.get("username", "")),
                                                 "type": res.name}}
    return out


def _assignment(reg: Registry, actor: str) -> Resource:
    model = actor.capitalize()
    return Resource(
        name=f"role_{actor}_assignment", plural=f"role_{actor}_assignments", verbose_name=f"role {actor} assignment",
        model_name=f"Role{model}Assignment", common_fields=False,
        fields=[
            Field("content_type", "string", read_only=True, null=True, default=None,
                  help_text="The type of resource this applies to"),
            Field("object_id", "string", max_length=64, null=True, default=None,
                  help_text="Primary key of the object this assignment applies to."),
            Field("object_ansible_id", "string", null=True, default=None, max_length=64,
                  help_text="Resource id of the object this role applies to. Alternative to the object_id field."),
            Field("role_definition", "id", fk="role_definition", required=True,
                  help_text="The role definition which defines permissions conveyed by this assignment"),
            Field(actor, "id", fk=actor, null=True, default=None,
                  help_text=f"The {actor} who receives the permissions of this assignment."),
            Field(f"{actor}_ansible_id", "string", null=True, default=None, max_length=64,
                  help_text=f"Resource id of the {actor} who will receive permissions from this assignment. "
                            f"Alternative to {actor} field."),
            Field("role", "integer", hidden=True, filterable=False, index=True),
            Field("resource", "string", hidden=True, filterable=False),
        ],
        updatable=False, capabilities=("delete",), create_role="authenticated",
        validate=_assignment_validate(actor), before_save=_assignment_before_save,
        after_save=_assignment_after_save(actor), can_delete=_assignment_can_delete(actor),
        before_delete=_assignment_before_delete(actor),
        visibility=_user_visibility if actor == "user" else _team_visibility,
        extra_related=_content_related, extra_summary=_content_summary,
    )


def declare(reg: Registry) -> None:
    """Role definitions and the two assignment lists.  Declared after every resource with
    roles: the content type choices are those resources."""
    reg.add(Resource(
        name="role_definition", plural="role_definitions", verbose_name="role definition",
        model_name="RoleDefinition",
        fields=[
            Field("managed", "boolean", read_only=True, default=False),
            # required on create (checked by _definition_validate, after the type checks of every field)
            Field("permissions", "json", default=None,
                  help_text="Permissions this role grants: awx.<action>_<model>, e.g. awx.view_inventory."),
            Field("content_type", "choice", choices=catalog.content_type_choices(reg), null=True, default=None,
                  create_only=True, help_text="The type of resource this applies to"),
            Field("resource", "string", hidden=True, filterable=False),
            Field("role_field", "string", hidden=True, filterable=False),
        ],
        search_fields=("name", "description"), named_url=(("name",),),
        relations=[
            Relation("user_assignments", "role_user_assignment", "reverse_fk", key="role_definition", read_only=True),
            Relation("team_assignments", "role_team_assignment", "reverse_fk", key="role_definition", read_only=True),
        ],
        validate=_definition_validate, before_save=_definition_before_save, before_delete=_definition_before_delete,
    ))
    reg.add(_assignment(reg, "user"))
    reg.add(_assignment(reg, "team"))


def seed_role_definitions(state: Any) -> int:
    """Insert or refresh the managed role definitions (every start: roles declared by an
    upgrade get theirs), drop managed ones whose role is gone, then install the grant triggers
    and align the assignment rows with the grants.  Returns how many definitions were written."""
    reg, store = state.registry, state.store
    field = reg["role_definition"].field("content_type")
    field.choices[:] = catalog.content_type_choices(reg)   # every role resource, whatever the order
    written = 0
    with store.transaction():
        stored = rd_sql.managed_by_role(store)
        keep = set()
        for md in catalog.managed_definitions(reg):
            wanted = {"name": md.name, "description": md.description, "managed": True,
                      "permissions": list(md.permissions), "content_type": md.content_type,
                      "resource": md.resource, "role_field": md.role_field}
            row = stored.get((md.resource, md.role_field)) or rd_sql.definition_named(store, md.name)
            if row is None:
                now = now_iso()
                keep.add(store.insert("role_definitions", {**wanted, "created": now, "modified": now}))
                written += 1
                continue
            keep.add(row["id"])
            current = {**row, "managed": bool(row["managed"]), "permissions": _json_list(row["permissions"])}
            changed = {k: v for k, v in wanted.items() if current.get(k) != v}
            if changed:
                store.update("role_definitions", row["id"], {**changed, "modified": now_iso()})
                written += 1
        for row in stored.values():
            if row["id"] not in keep:
                for table in ("role_user_assignments", "role_team_assignments"):
                    store.delete_where(table, "role_definition = ?", [row["id"]])
                store.delete("role_definitions", row["id"])
                written += 1
    rd_sql.install(store, definitions_changed=written > 0)
    return written

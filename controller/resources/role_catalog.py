"""AWX's role-definition vocabulary derived from Turret's declared object roles.

AWX 24 (django-ansible-base RBAC) names a permission ``awx.<action>_<model>`` (``awx.use_inventory``)
and a content type ``awx.<model>`` (``awx.jobtemplate``).  Turret keeps its object roles
(:class:`~controller.registry.RoleSpec`); this module translates them:

* every role of every resource that has roles is one *managed* role definition, named as AWX names
  its managed definitions ("Inventory Admin", "JobTemplate Execute", "Organization Member",
  "Organization Project Admin" ...; roles AWX has no managed definition for get the name AWX's own
  migration gives them: "Inventory Read");
* the permissions of a role are those of every role it implies (its descendants in the declared
  role graph, across ``organization.<role>`` parents), as AWX's migration computes them, with the
  ``add_<model>`` permissions an organization-level role carries for the objects it creates.

Pure: reads declarations only (no SQL, no Flask), so it is computed again from any registry.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry, Resource

PREFIX = "awx"
# Turret role field -> the permission actions it grants on its own object (AWX's
# role_name_to_perm_mapping; admin's "add" only exists one level up, on organizations).
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "admin_role": ("change", "delete"), "read_role": ("view",), "member_role": ("member",),
    "auditor_role": ("audit",), "execute_role": ("execute",), "use_role": ("use",),
    "update_role": ("update",), "adhoc_role": ("adhoc",), "approval_role": ("approve",),
}
# Organization roles that only pass a right down to the organization's objects: AWX has no
# execute_organization / approve_organization permission.
_DOWNWARD_ONLY = {("organization", "execute_role"), ("organization", "approval_role")}
# Word of the role in a managed definition's name ("Inventory Adhoc", "Organization Audit").
ACTION_WORDS = {"admin_role": "Admin", "read_role": "Read", "auditor_role": "Audit", "approval_role": "Approve"}
# Job templates are created through the use of their inventory and project, not by an org permission.
_NO_ADD = {"job_template", "organization"}


@dataclass(frozen=True)
class ManagedDefinition:
    """One managed role definition: which Turret role it is and what AWX shows for it."""

    name: str
    description: str
    resource: str          # Turret resource name ("job_template")
    role_field: str        # Turret role field ("execute_role")
    content_type: str      # AWX content type ("awx.jobtemplate")
    permissions: tuple[str, ...]   # sorted "awx.<codename>"


def model_key(resource: Resource) -> str:
    """AWX's model name of a resource: ``jobtemplate`` for job_template."""
    return resource.model_name.lower()


def content_type(resource: Resource) -> str:
    return f"{PREFIX}.{model_key(resource)}"


def role_resources(reg: Registry) -> list[Resource]:
    """The resources that have object roles (those role definitions can apply to)."""
    return [r for r in reg if r.has_roles]


def content_type_choices(reg: Registry) -> list[tuple[str, str]]:
    """OPTIONS choices of ``content_type``: ``[("awx.inventory", "Inventory"), ...]`` sorted."""
    return sorted((content_type(r), r.verbose_name.title()) for r in role_resources(reg))


def resource_for(reg: Registry, ctype: str | None) -> Resource | None:
    """The resource an AWX content type (``awx.inventory`` or ``inventory``) names, or None."""
    if not ctype:
        return None
    key = ctype.rsplit(".", 1)[-1]
    return next((r for r in role_resources(reg) if model_key(r) == key), None)


def own_permissions(resource: Resource, role_field: str) -> list[str]:
    """Codenames role ``role_field`` grants on its own object (no descendants)."""
    if (resource.name, role_field) in _DOWNWARD_ONLY:
        return []
    return [f"{action}_{model_key(resource)}" for action in ROLE_ACTIONS.get(role_field, ())]


def add_permission(resource: Resource) -> str | None:
    """``add_<model>`` when objects of ``resource`` are created under an organization role."""
    if resource.name in _NO_ADD or not (resource.create_role or "").startswith("organization."):
        return None
    return f"add_{model_key(resource)}"


def children(reg: Registry, resource: Resource, role_field: str) -> list[tuple[Resource, str]]:
    """Roles directly implied by (``resource``, ``role_field``): same-object roles that name it
    as a parent, and roles of other objects whose parent ``<fk>.<role_field>`` points at it."""
    out = [(resource, s.field) for s in resource.roles if role_field in s.parents]
    for other in role_resources(reg):
        for spec in other.roles:
            for ref in spec.parents:
                if "." not in ref:
                    continue
                fk_name, parent_field = ref.split(".", 1)
                fk = other.field(fk_name)
                if parent_field == role_field and fk is not None and fk.fk == resource.name:
                    out.append((other, spec.field))
    return out


def descendants(reg: Registry, resource: Resource, role_field: str) -> list[tuple[Resource, str]]:
    """Every role held by holding (``resource``, ``role_field``), itself first."""
    seen: list[tuple[str, str]] = []
    out: list[tuple[Resource, str]] = []
    todo = [(resource, role_field)]
    while todo:
        res, field = todo.pop(0)
        if (res.name, field) in seen:
            continue
        seen.append((res.name, field))
        out.append((res, field))
        todo += children(reg, res, field)
    return out


def role_permissions(reg: Registry, resource: Resource, role_field: str) -> tuple[str, ...]:
    """Sorted ``awx.<codename>`` permissions of one Turret role (AWX's migration rule)."""
    perms: set[str] = set()
    for res, field in descendants(reg, resource, role_field):
        perms.update(own_permissions(res, field))
        if resource.name == "organization" and res.name != "organization" and field == "admin_role":
            add = add_permission(res)
            if add:
                perms.add(add)
    return tuple(sorted(f"{PREFIX}.{p}" for p in perms))


def allowed_permissions(reg: Registry, resource: Resource) -> set[str]:
    """Codenames a custom definition for ``resource`` may list: its own (no ``add``) and, for
    an organization, every permission of the objects it contains (``add`` included)."""
    allowed = {p for s in resource.roles for p in own_permissions(resource, s.field)}
    if resource.name == "organization":
        for res, _field in descendants(reg, resource, "admin_role"):
            if res.name != "organization":
                allowed.update(p for s in res.roles for p in own_permissions(res, s.field))
                add = add_permission(res)
                if add:
                    allowed.add(add)
    return allowed


def _child_admin_model(reg: Registry, resource: Resource, role_field: str) -> Resource | None:
    """The resource whose admin_role an organization's ``<x>_admin_role`` is the parent of."""
    return next((res for res, field in children(reg, resource, role_field)
                 if res.name != resource.name and field == "admin_role"), None)


def definition_name(reg: Registry, resource: Resource, role_field: str) -> tuple[str, str]:
    """(name, description) of the managed definition of one role, as AWX words them."""
    model, noun = resource.model_name, resource.verbose_name
    if resource.name == "organization" and role_field == "admin_role":
        return "Organization Admin", "Has all permissions to a single organization and all objects inside of it"
    if resource.name == "organization" and role_field == "auditor_role":
        return "Organization Audit", "Has permission to view all objects inside of a single organization"
    child = _child_admin_model(reg, resource, role_field) if role_field.endswith("_admin_role") else None
    if resource.name == "organization" and child is not None and role_field != "admin_role":
        return (f"Organization {child.model_name} Admin",
                f"Has all permissions to {child.plural.replace('_', ' ')} within an organization")
    word = ACTION_WORDS.get(role_field) or " ".join(
        w.capitalize() for w in role_field.removesuffix("_role").split("_"))
    if role_field == "admin_role":
        return f"{model} Admin", f"Has all permissions to a single {noun}"
    spec = resource.role(role_field)
    if role_field in ROLE_ACTIONS and (resource.name, role_field) not in _DOWNWARD_ONLY and role_field != "read_role":
        return f"{model} {word}", f"Has {ROLE_ACTIONS[role_field][0]} permissions to a single {noun}"
    return f"{model} {word}", spec.description.format(model=noun) if spec else ""


def managed_definitions(reg: Registry) -> list[ManagedDefinition]:
    """Every managed role definition, one per declared object role, in declaration order."""
    out = []
    for res in role_resources(reg):
        for spec in res.roles:
            name, description = definition_name(reg, res, spec.field)
            out.append(ManagedDefinition(name, description, res.name, spec.field, content_type(res),
                                         role_permissions(reg, res, spec.field)))
    return out


def role_for_permissions(reg: Registry, resource: Resource, permissions: set[str]) -> str | None:
    """The role field of ``resource`` whose permissions are exactly ``permissions`` (None when
    no Turret role grants exactly that set: Turret never grants more than a definition says)."""
    # read_role first: an organization's read role and a role over objects Turret does not
    # declare roles for (notification admin) both come down to viewing the organization
    specs = sorted(resource.roles, key=lambda s: s.field != "read_role")
    return next((s.field for s in specs if set(role_permissions(reg, resource, s.field)) == permissions), None)

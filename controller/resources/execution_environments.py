"""Execution environments (AWX ``/api/v2/execution_environments/``): what a job runs with.

Contracts:
  * ``image`` is read as documented in :mod:`controller.services.execution_environments`
    (empty: the controller's Python; ``venv:<path>``: a local virtual environment; else a
    container image).  One managed environment, "Turret (controller's Python)", is seeded at
    start and is the global default.
  * ``credential`` must be a Container Registry credential (kind ``registry``).
  * Global environments (no organization) are the superuser's; an organization's are also its
    ``execution_environment_admin_role`` holders'.  Managed ones are changed by superusers only
    and never deleted.  Everyone sees the global ones and those of organizations they can read.
  * The FKs that name an environment (templates, schedules, workflow nodes, inventory sources,
    jobs; ``default_environment`` of organizations and projects) are declared by their
    resources; a deleted environment leaves them null.
"""
from __future__ import annotations

from .. import access
from ..errors import ValidationError
from ..registry import Field, Registry, Resource
from ..services import crud
from ..services.execution_environments import MANAGED_NAME, check_image
from ..store import instances as sql
from ..store import rbac

PULL_CHOICES = [("", "---------"), ("always", "Always pull container before running."),
                ("missing", "Only pull the image if not present before running."),
                ("never", "Never pull container before running.")]


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    check_image(merged.get("image") or "")
    cred = ctx.store.get("credentials", merged["credential"]) if merged.get("credential") else None
    if cred is not None:
        ctype = ctx.store.get("credential_types", cred["credential_type"]) or {}
        if ctype.get("kind") != "registry":
            raise ValidationError({"credential": ["Only Container Registry credentials can be associated with an "
                                                  "Execution Environment"]})
    if existing is not None and existing.get("managed") and not ctx.is_superuser:
        raise ValidationError({"managed": ["Only superusers may change a managed execution environment."]})
    if existing is not None and "organization" in values and values["organization"] != existing.get("organization") \
            and existing.get("organization") is not None and not ctx.is_superuser:
        raise ValidationError({"organization": ["Cannot change the organization of an execution environment."]})


def _can_change(ctx, row: dict) -> bool:
    if row.get("managed") or row.get("organization") is None:
        return ctx.is_superuser
    return access.holds(ctx, "organization", row["organization"], "execution_environment_admin_role")


def _can_delete(ctx, row: dict) -> bool:
    return not row.get("managed") and (ctx.is_superuser or _can_change(ctx, row))


def _visibility(ctx):
    org_sql, params = rbac.fk_to_objects_with_roles_sql("organization", "organization", ("read_role",),
                                                        ctx.effective_roles())
    return f"organization IS NULL OR ({org_sql})", params


def seed(ctx) -> dict:
    """The managed "Turret (controller's Python)" environment (created once); ``ctx`` acts as
    the system."""
    found = sql.default_environment(ctx.store)
    if found is not None:
        return found
    return crud.insert_trusted(ctx, ctx.registry["execution_environment"], {
        "name": MANAGED_NAME, "image": "", "managed": True, "pull": "",
        "description": "Runs jobs with the controller's own Python environment and ansible-core."})


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="execution_environment", plural="execution_environments",
        fields=[
            Field("organization", "id", fk="organization", null=True, default=None,
                  help_text="The organization used to determine access to this execution environment."),
            Field("image", "string", required=True, max_length=1024, label="Image location",
                  help_text="The full image location, including the container registry, image name, and version "
                            "tag; or venv:<absolute path> of a local Python virtual environment."),
            Field("managed", "boolean", default=False, read_only=True),
            Field("credential", "id", fk="credential", null=True, default=None, on_delete="set_null"),
            Field("pull", "choice", choices=PULL_CHOICES, default="",
                  help_text="Pull image before running?"),
        ],
        ordering=("name",), search_fields=("name", "description", "image"),
        named_url=(("name",),),
        create_role="organization.execution_environment_admin_role", capabilities=("edit", "delete", "copy"),
        validate=_validate, can_change=_can_change, can_delete=_can_delete, visibility=_visibility,
        actions=("copy",),
    ))

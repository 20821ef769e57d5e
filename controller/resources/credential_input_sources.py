"""Credential input sources (AWX's ``/api/v2/credential_input_sources/``): one input field of a
target credential whose value an external credential looks up when a run uses the target.

Contracts (AWX's model, serializer and CredentialInputSourceAccess):
  * ``source_credential`` must be of kind ``external``, ``target_credential`` must not be;
    ``input_field_name`` must be an input of the target's type, one source per (target, field);
    ``metadata`` is validated against the source type's ``metadata`` schema (known keys, types,
    choices, the type's required keys) by :func:`controller.lookups.check_metadata`.
  * Visible to readers of the target credential; created or changed by admins of the target
    who may use the source; deleted by admins of the target.  Deleting either credential
    deletes its input sources.
  * Stored rows hold no secret: values are fetched at run time only (:mod:`controller.lookups`).
"""
from __future__ import annotations

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..lookups import check_metadata
from ..registry import Field, Registry, Relation, Resource
from ..services import credential_inputs as ci
from ..store import now_iso

TABLE = "credential_input_sources"


def _visibility(ctx):
    creds = access.visibility(ctx, ctx.registry["credential"])
    if creds is None:
        return None
    return f'target_credential IN (SELECT id FROM "credentials" WHERE {creds[0]})', creds[1]


def _may_link(ctx, values: dict) -> bool:
    return access.holds(ctx, "credential", values.get("target_credential"), "admin_role") and \
        access.holds(ctx, "credential", values.get("source_credential"), "use_role")


def _can_add(ctx, values: dict) -> bool:
    """AWX CredentialInputSourceAccess.can_add: admin of the target and use of the source, each
    asked only when given (both are required, so a create names both; the OPTIONS of
    ``/credentials/N/input_sources/`` asks with the target alone)."""
    needs = (("target_credential", "admin_role"), ("source_credential", "use_role"))
    return all(access.holds(ctx, "credential", values[name], role)
               for name, role in needs if values.get(name) is not None)


def _can_delete(ctx, row: dict) -> bool:
    return access.holds(ctx, "credential", row.get("target_credential"), "admin_role")


def _type_of(ctx, cred_id: int | None) -> dict:
    cred = ctx.store.get("credentials", cred_id) if cred_id else None
    return (ctx.store.get("credential_types", cred["credential_type"]) if cred else None) or {}


def _validate(ctx, values: dict, existing: dict | None) -> None:
    merged = {**(existing or {}), **values}
    if existing is not None and not ctx.is_superuser and not _may_link(ctx, merged):
        raise PermissionDenied()      # AWX's can_change: can_add(new data) as well
    target_type, source_type = _type_of(ctx, merged.get("target_credential")), \
        _type_of(ctx, merged.get("source_credential"))
    errors: dict = {}
    if target_type.get("kind") == "external":
        errors["target_credential"] = ["Target must be a non-external credential"]
    if source_type.get("kind") != "external":
        errors["source_credential"] = ["Source must be an external credential"]
    elif "metadata" in values or "source_credential" in values:
        metadata = values["metadata"] if "metadata" in values else ci.as_dict((existing or {}).get("metadata"))
        problems = check_metadata(source_type, {} if metadata is None else metadata)
        if problems:
            errors["metadata"] = problems
    if target_type and "target_credential" not in errors:
        defined = sorted(f["id"] for f in ci.type_fields(target_type))
        if merged.get("input_field_name") not in defined:
            errors["input_field_name"] = [
                f"Input field must be defined on target credential (options are {', '.join(defined)})."]
    if errors:
        raise ValidationError(errors)


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    if "metadata" in values and values["metadata"] is None:
        values["metadata"] = {}
    return values


def _copy_sources(ctx, original: dict, new: dict) -> None:
    """A copied credential keeps its input sources (AWX's FIELDS_TO_PRESERVE_AT_COPY)."""
    now = now_iso()
    for row in ctx.store.rows_referencing(TABLE, "target_credential", original["id"]):
        copy = {k: v for k, v in row.items() if k != "id"}
        copy.update({k: now for k in ("created", "modified") if k in row})
        copy.update({k: ctx.user_id for k in ("created_by", "modified_by") if k in row})
        ctx.store.insert(TABLE, {**copy, "target_credential": new["id"]})


def declare(reg: Registry) -> None:
    """Add credential input sources, the ``input_sources`` sub-list of credentials and the
    ``test`` action of credentials and credential types (external lookups only)."""
    reg.add(Resource(
        name="credential_input_source", plural="credential_input_sources", common_fields=False,
        fields=[
            Field("description", "text", default="", help_text="Optional description of this credential input source."),
            Field("input_field_name", "string", required=True, max_length=1024,
                  help_text="The input of the target credential whose value the source credential looks up."),
            Field("metadata", "json", default={}, help_text="What to look up: the keys the source credential's type "
                                                            "declares under inputs.metadata."),
            Field("target_credential", "id", fk="credential", required=True,
                  help_text="The credential whose input is looked up."),
            Field("source_credential", "id", fk="credential", required=True,
                  help_text="The external credential that looks the value up."),
        ],
        ordering=("target_credential", "source_credential", "input_field_name"),
        search_fields=("description", "input_field_name"),
        unique_together=(("target_credential", "input_field_name"),),
        summary_keys=("id", "description", "input_field_name"),
        create_role=None, visibility=_visibility, can_create=_can_add,
        may_add=access.anyone,
        can_change=_may_link, can_delete=_can_delete, capabilities=("delete",),
        validate=_validate, before_save=_before_save,
    ))
    reg["credential"].relations.append(
        Relation("input_sources", "credential_input_source", "reverse_fk", key="target_credential", create=True,
                 attach=False))
    assert reg["credential"].after_copy is None, "credentials gained a copy hook: chain it here"
    reg["credential"].after_copy = _copy_sources
    reg["credential"].actions += ("test",)
    reg["credential_type"].actions += ("test",)

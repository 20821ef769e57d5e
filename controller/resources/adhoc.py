"""Ad hoc commands: one module run against an inventory, restricted to a module whitelist."""
from __future__ import annotations

import json

from .. import access
from ..errors import ValidationError
from ..jobs import adhoc_run, control
from ..registry import Field, Registry, Relation, Resource, UnifiedJob
from ..services.project_files import argument_problem
from ..services.variables import parse_vars
from ..store.credentials import credential_type_of
from .unified import VERBOSITY, add_unified_job, launched_by, unified_job_fields

_NEEDS_ARGS = ("command", "shell")


def module_choices(settings) -> list[tuple[str, str]]:
    return [(m, m) for m in settings.AD_HOC_COMMANDS]


def _validate(ctx, values: dict, existing: dict | None) -> None:
    module = values.get("module_name") or "command"
    allowed = ctx.settings.AD_HOC_COMMANDS
    if module not in allowed:
        raise ValidationError({"module_name": [f'"{module}" is not a valid choice.']})
    max_forks = ctx.settings.MAX_FORKS   # AWX's MAX_FORKS applies to ad hoc commands too (0: no limit)
    if max_forks and (values.get("forks") or 0) > max_forks:
        raise ValidationError({"forks": [f"Maximum number of forks ({max_forks}) exceeded."]})
    if module in _NEEDS_ARGS and not (values.get("module_args") or "").strip():
        raise ValidationError({"module_args": [f"No argument passed to {module} module."]})
    # the limit is ansible's positional host pattern: "-..." there would be parsed as an option
    problem = argument_problem(values.get("limit") or "")
    if problem:
        raise ValidationError({"limit": [problem]})
    bad = [k for k in parse_vars(values.get("extra_vars") or "") if k.startswith("ansible_")]
    if bad:
        raise ValidationError({"extra_vars": [f"Variables {', '.join(sorted(bad))} are prohibited from use in ad hoc "
                                              f"commands."]})
    inv = ctx.store.get("inventories", values["inventory"]) if values.get("inventory") else None
    if inv is None:
        raise ValidationError({"inventory": ["This field is required."]})
    if values.get("credential"):
        if (credential_type_of(ctx.store, values["credential"]) or {}).get("kind") != "ssh":
            raise ValidationError({"credential": ["You must provide a machine / SSH credential."]})


def _can_create(ctx, values: dict) -> bool:
    if not access.holds(ctx, "inventory", values.get("inventory"), "adhoc_role"):
        return False
    return not values.get("credential") or access.holds(ctx, "credential", values["credential"], "use_role")


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is None:
        values.update({"status": "pending", "name": values.get("module_name") or "command",
                       "launch_type": "manual", "launched_by_id": ctx.user_id,
                       "launched_by_type": "user" if ctx.user_id else ""})
    return values


def _after_save(ctx, row: dict, existing: dict | None) -> None:
    if existing is None:
        control.job_created(ctx, "ad_hoc_command", row["id"])
        if ctx.jobs is not None:
            ctx.jobs.notify()


def _visibility(ctx):
    vis = access.visibility(ctx, ctx.registry["inventory"])
    if vis is None:
        return None
    return (f'inventory IN (SELECT id FROM "inventories" WHERE {vis[0]}) OR '
            f"(launched_by_type = 'user' AND launched_by_id = ?)", [*vis[1], ctx.user_id or 0])


def _can_delete(ctx, row: dict) -> bool:
    """Delete: an admin of the inventory's organization (AWX AdHocCommandAccess.can_delete)."""
    if ctx.is_superuser:
        return True
    inv = ctx.store.get("inventories", row["inventory"]) if row.get("inventory") else None
    return inv is not None and access.holds(ctx, "organization", inv.get("organization"), "admin_role")


# Cancel: whoever launched it, or an admin of the inventory.
AD_HOC_COMMAND = UnifiedJob(events_table="ad_hoc_command_events", parent_col="ad_hoc_command",
                            prepare=adhoc_run.prepare, finish=adhoc_run.finish, impact=adhoc_run.impact,
                            admin=("inventory", "inventory"), launcher_may_change=True, events_have_host=True)


def declare(reg: Registry) -> None:
    add_unified_job(reg, Resource(
        name="ad_hoc_command", plural="ad_hoc_commands", id_group="unified_job", common_fields=False,
        unified_job=AD_HOC_COMMAND,
        fields=[
            Field("name", "string", read_only=True, default=""),
            *unified_job_fields(),
            Field("job_type", "choice", choices=[("run", "Run"), ("check", "Check")], default="run"),
            Field("inventory", "id", fk="inventory", required=True),
            Field("limit", "string", default=""),
            Field("credential", "id", fk="credential", null=True, default=None, on_delete="set_null"),
            # choices are checked against the AD_HOC_COMMANDS setting by the validate hook
            Field("module_name", "string", default="command", max_length=1024,
                  help_text="Module to run; one of the AD_HOC_COMMANDS setting."),
            Field("module_args", "text", default=""),
            Field("forks", "integer", default=0, min_value=0),
            Field("verbosity", "choice", choices=VERBOSITY, default=0),
            Field("extra_vars", "vars", default="", prevent_search=True),
            Field("become_enabled", "boolean", default=False),
            Field("diff_mode", "boolean", default=False),
            Field("host_status_counts", "json", stored=False, read_only=True, shown="detail"),
            Field("host_counts", "json", hidden=True, default={}),
        ],
        ordering=("id",), search_fields=("name",),
        relations=[Relation("events", "ad_hoc_command_event", "reverse_fk", key="ad_hoc_command",
                            read_only=True)],
        actions=("cancel", "stdout", "relaunch"), updatable=False,
        capabilities=("delete", "start"), validate=_validate, can_create=_can_create, may_add=access.anyone,
        before_save=_before_save, after_save=_after_save, visibility=_visibility,
        can_delete=_can_delete, compute=_compute,
    ), with_host=True)
    reg["inventory"].relations.append(Relation("ad_hoc_commands", "ad_hoc_command", "reverse_fk",
                                               key="inventory", create=True, attach=False))


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = launched_by(ctx, rows)
    for r in rows:
        raw = r.get("host_counts")
        out[r["id"]]["host_status_counts"] = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
    return out

"""Schedules (AWX §7.1): when a job template, project or inventory source runs on its own.

Contracts:
  * One stored model: ``rrule`` is AWX's text (``DTSTART[;TZID=…]:… RRULE:…``); ``cron``,
    ``interval`` + ``interval_type`` and ``date`` (with ``timezone``, ``start_time``,
    ``end_time``) are input forms translated to it by :mod:`controller.services.schedule_forms`.  The
    form used is kept (``schedule_type`` and its inputs) and read back as given.
  * ``unified_job_template`` is an integer with a hidden ``unified_job_template_type``; a posted
    id is resolved job template first, then project, then inventory source.  Template ids never
    collide in a database created by this version (the three tables share the
    ``unified_job_template`` id group), so the order only matters for older data.  Hidden FK
    columns (one per template kind) carry the link, so deleting a template deletes its schedules
    and ``<templates>/N/schedules/`` is a plain reverse-FK sub-list whose POST injects the parent.
  * Prompts (``extra_data``, ``inventory``, ``limit`` …; null = use the template) are validated
    like a launch, with errors instead of ignored fields (AWX LaunchConfigurationBaseSerializer).
    The list prompts are sub-lists: ``credentials/`` (AWX's attach rules, see
    :func:`~controller.services.schedule_prompts.check_credential_attach`), ``labels/`` (an
    existing label by name + organization is attached, as on templates) and
    ``instance_groups/`` (declared with the instance groups).
    ``PATCH {"enabled": false}`` skips every other check.
  * ``dtstart``, ``dtend`` and ``next_run`` are recomputed whenever the rule or ``enabled``
    changes; the scheduler (:mod:`controller.jobs.scheduler`) moves ``next_run``.  They are
    stored as every datetime is (``…:SS.ffffffZ``, so filters compare them exactly) and read
    as AWX renders them (``…:SSZ``).
  * Saving needs use of the inventory and read of the execution environment a save names or
    replaces (:func:`~controller.services.schedule_prompts.check_prompt_access`), checked before
    anything else.  What a schedule shows of its template, and templates of their schedules
    (``next_job_run``), is :mod:`controller.resources.schedule_links`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..services import rrules, schedule_forms
from ..services.schedule_prompts import (CREDENTIALS_KEY, LABELS_KEY, check_credential_attach,
                                         check_prompt_access, check_prompts, masked, touches_prompts)
from ..registry import Field, Registry, Relation, Resource
from .inventory_sources import SOURCES
from .labels import labels_relation
from .schedule_links import attach_next_run, schedule_related, schedule_summaries
from .unified import VERBOSITY


@dataclass(frozen=True)
class TemplateKind:
    """How a schedule reaches one kind of template (derived from a ``UnifiedJob`` declaration)."""

    resource: str       # registry name and unified_job_template_type value
    table: str
    column: str         # hidden FK column on schedules
    job_type: str       # AWX unified_job_type of what it launches
    run_role: str       # role that may create schedules (execute / update)


# AWX resolves a bare template id job template first, then project, then inventory source; kinds
# declared later follow in declaration order (ids of databases created now never collide).
_RESOLVE_ORDER = ("job_template", "project", "inventory_source")


def template_kinds(reg: Registry) -> dict[str, TemplateKind]:
    """Every template a schedule can run: one per unified-job kind that declares a template and
    a ``start`` (an approval template runs only inside a workflow)."""
    kinds = sorted((k for k in reg.unified_jobs() if k.template and k.start),
                   key=lambda k: _RESOLVE_ORDER.index(k.template) if k.template in _RESOLVE_ORDER
                   else len(_RESOLVE_ORDER))
    return {k.template: TemplateKind(k.template, reg[k.template].table, f"ujt_{k.template}", k.resource, k.run_role)
            for k in kinds if k.template}


def _kinds(ctx) -> dict[str, TemplateKind]:
    return template_kinds(ctx.registry)
FORM_KEYS = {"cron": ("cron",), "interval": ("interval", "interval_type"), "date": ("date",)}
ALT_KEYS = ("cron", "interval", "interval_type", "date", "start_time", "end_time")
UNIQUE = "Schedule with this Unified job template and Name already exists."
# AWX CLOUD_INVENTORY_SOURCES: the cloud providers and scm (every source but file and constructed)
CLOUD_INVENTORY_SOURCES = frozenset(name for name, _label in SOURCES) - {"file", "constructed"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- the template -------------------------------------------------------------------------------
def _role_holds(ctx, kind: str, ujt: dict, role: str) -> bool:
    """Roles of an inventory source live on its inventory."""
    if kind == "inventory_source":
        return access.holds(ctx, "inventory", ujt.get("inventory"), role)
    return access.holds(ctx, kind, ujt["id"], role)


def resolve(ctx, values: dict, existing: dict | None) -> tuple[str, dict]:
    """(kind, template row) for a create/update: the sub-list's parent, a new
    ``unified_job_template`` id (job template, then project, then inventory source) or the
    schedule's current template."""
    for kind in _kinds(ctx).values():
        if values.get(kind.column) is not None:
            row = ctx.store.get(kind.table, values[kind.column])
            if row is not None:
                return kind.resource, row
    pk = values.get("unified_job_template")
    if pk is not None and (existing is None or pk != existing.get("unified_job_template")):
        for kind in _kinds(ctx).values():
            row = ctx.store.get(kind.table, pk)
            if row is not None:
                return kind.resource, row
        raise ValidationError({"unified_job_template": [f'Invalid pk "{pk}" - object does not exist.']})
    if existing is not None:
        kind = _kinds(ctx)[existing["unified_job_template_type"]]
        row = ctx.store.get(kind.table, existing["unified_job_template"])
        if row is not None:
            return kind.resource, row
    raise ValidationError({"unified_job_template": ["This field is required."]})


def _check_template(kind: str, ujt: dict) -> None:
    if kind == "project" and not ujt.get("scm_type"):
        raise ValidationError({"unified_job_template": ["Manual Project cannot have a schedule set."]})
    if kind == "inventory_source" and ujt.get("source") not in CLOUD_INVENTORY_SOURCES:
        raise ValidationError({"unified_job_template": ["Inventory Source must be a cloud resource."]})


# -- the rule -------------------------------------------------------------------------------------
def _blank(value) -> bool:
    return value is None or value == ""


def _form(values: dict, existing: dict | None) -> str | None:
    """Which input form this save uses; None when the rule is untouched."""
    if existing is None:
        given = [f for f in schedule_forms.FORMS if not _blank(values.get(f))]
        if not given and not _blank(values.get("interval_type")):
            given = ["interval"]
        if not given:
            if values.get("rrule") is not None:
                rrules.parse(values["rrule"])          # "" -> "This field may not be blank."
            raise ValidationError({"rrule": ["This field is required."]})
        if len(given) > 1:
            raise ValidationError({given[1]: [f"Give only one of rrule, cron, interval or date (got "
                                              f"{', '.join(given)})."]})
        return given[0]
    changed = {k for k in ("rrule", "timezone", *ALT_KEYS)
               if k in values and not (_blank(values[k]) and _blank(existing.get(k))) and values[k] != existing.get(k)}
    forms = [f for f, keys in {"rrule": ("rrule",), **FORM_KEYS}.items()
             if any(k in changed and not _blank(values[k]) for k in keys)]
    if len(forms) > 1:
        raise ValidationError({forms[1]: [f"Change only one of {' or '.join(forms)} at a time."]})
    if forms:
        return forms[0]
    current = existing.get("schedule_type") or "rrule"
    blanked = [k for k in FORM_KEYS.get(current, ("rrule",)) if k in changed]
    if blanked:            # the current form's input removed and no other form given
        if current == "rrule":
            rrules.parse("")
        raise ValidationError({blanked[0]: [f"This field is required for a {current} schedule."]})
    if changed & {"start_time", "end_time", "timezone"} and current != "rrule":
        return current
    if changed & {"start_time", "end_time"}:
        return "rrule"
    return None


def _apply_rule(values: dict, existing: dict | None, now: datetime) -> None:
    """Translate the input form, normalise the rule and recompute dtstart/dtend/next_run."""
    for key in ALT_KEYS:
        if key in values and values[key] == "":
            values[key] = None
    form = _form(values, existing)
    merged = {**(existing or {}), **values}
    if form == "rrule":
        for key in ("start_time", "end_time"):
            if not _blank(values.get(key)):
                raise ValidationError({key: ["start_time and end_time apply to cron and interval schedules; put "
                                             "DTSTART and UNTIL in the rrule."]})
        rule = rrules.parse(merged.get("rrule") or "")
        values.update({k: None for k in ALT_KEYS})
    elif form is not None:
        if form == "date" and "date" in values:
            tz = schedule_forms.zone_or_error(merged.get("timezone"))
            if schedule_forms.parse_local(values["date"], tz, "date") <= now:
                raise ValidationError({"date": ["The date must be in the future."]})
        rule = rrules.parse(schedule_forms.translate(form, merged, now))
        values.update({k: None for f, keys in FORM_KEYS.items() if f != form for k in keys})
    else:
        if "enabled" in values and existing is not None and bool(existing.get("enabled")) != values["enabled"]:
            rule = rrules.parse(existing["rrule"])
            values["next_run"] = rrules.computed(rule, values["enabled"], now)["next_run"]
        values.pop("timezone", None)
        return
    values.update({"rrule": rule.text, "schedule_type": form, "timezone": rule.tzname})
    values.update(rrules.computed(rule, bool(merged.get("enabled", True)), now))


# -- hooks ----------------------------------------------------------------------------------------
def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is not None and values == {"enabled": False}:
        values["next_run"] = None      # AWX: disabling skips every other validation
        return values
    check_prompt_access(ctx, values, existing)
    kind, ujt = resolve(ctx, values, existing)
    moved = existing is None or (kind, ujt["id"]) != (existing.get("unified_job_template_type"),
                                                       existing.get("unified_job_template"))
    if moved:
        _check_template(kind, ujt)
        if existing is not None and not (ctx.is_superuser or
                                         _role_holds(ctx, kind, ujt, _kinds(ctx)[kind].run_role)):
            raise PermissionDenied()
    values.update({"unified_job_template": ujt["id"], "unified_job_template_type": kind,
                   **{k.column: (ujt["id"] if k.resource == kind else None) for k in _kinds(ctx).values()}})
    name = values.get("name", (existing or {}).get("name"))
    if ctx.store.exists("schedules", "unified_job_template_type = ? AND unified_job_template = ? AND name = ? "
                        "AND id != ?", [kind, ujt["id"], name, (existing or {}).get("id", 0)]):
        raise ValidationError({"__all__": [UNIQUE]})
    _apply_rule(values, existing, _now())
    if moved or touches_prompts(ujt, values):
        values["extra_data"] = check_prompts(ctx, kind, ujt, values, existing)
    return values


def _can_create(ctx, data: dict) -> bool:
    if ctx.is_superuser:
        return True
    if ctx.user is None:
        return False
    try:
        kind, ujt = resolve(ctx, data, None)
    except ValidationError:
        return True        # the save answers 400 for a missing template
    return _role_holds(ctx, kind, ujt, _kinds(ctx)[kind].run_role)


# AWX ScheduleAccess.can_add({}) (ANSIBLE_BASE_ROLE_SYSTEM_ACTIVATED): a role that grants
# execute_jobtemplate, update_project or update_inventory, on an object or organization-wide
_may_add = access.holds_some(
    "job_template.execute_role", "project.update_role", "inventory.update_role", "organization.execute_role",
    "organization.job_template_admin_role", "organization.project_admin_role", "organization.inventory_admin_role")


def _template_row(ctx, row: dict) -> tuple[str, dict | None]:
    kind = row.get("unified_job_template_type") or "job_template"
    return kind, ctx.store.get(_kinds(ctx)[kind].table, row["unified_job_template"])


def _can_change(ctx, row: dict) -> bool:
    """AWX ScheduleAccess: the template's admin, or its runner for schedules they created."""
    kind, ujt = _template_row(ctx, row)
    if ujt is None:
        return False
    if _role_holds(ctx, kind, ujt, "admin_role"):
        return True
    return row.get("created_by") == ctx.user_id and _role_holds(ctx, kind, ujt, _kinds(ctx)[kind].run_role)


def _credential_association(ctx, row: dict, cred: dict, on: bool) -> None:
    """AWX: attaching needs change on the schedule and use of the credential (403 first), then
    the launch-configuration rules; detaching only the change the generic layer checks."""
    if not on:
        return
    access.require(_can_change(ctx, row) and access.holds(ctx, "credential", cred["id"], "use_role"))
    kind, ujt = _template_row(ctx, row)
    if ujt is not None:
        check_credential_attach(ctx, kind, ujt, row, cred)


def _visibility(ctx):
    parts, params = [], []
    for kind in _kinds(ctx).values():
        vis = access.visibility(ctx, ctx.registry[kind.resource])
        sql = f'unified_job_template IN (SELECT id FROM "{kind.table}" WHERE {vis[0]})' if vis else "1"
        parts.append(f"(unified_job_template_type = ? AND {sql})")
        params += [kind.resource, *(vis[1] if vis else [])]
    return " OR ".join(parts), params


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = {}
    for r in rows:
        try:
            until = rrules.until_local(rrules.parse(r["rrule"]))
        except ValidationError:
            until = ""
        out[r["id"]] = {"until": until, "extra_data": masked(r.get("extra_data")),
                        "diff_mode": None if r.get("diff_mode") is None else bool(r["diff_mode"])}
    return out


def _redact(row: dict) -> dict:
    return {**row, "extra_data": masked(row.get("extra_data"))}


def _summary(ctx, rows: list[dict]) -> dict[int, dict]:
    return schedule_summaries(ctx, _kinds(ctx), rows)


def _related(ctx, row: dict, detail: bool) -> dict:
    kind, t = _template_row(ctx, row)
    return schedule_related(_kinds(ctx)[kind], row, t) if t is not None else {}


def _fields(reg: Registry) -> list[Field]:
    nullable: dict[str, Any] = dict(null=True, default=None)
    return [
        Field("extra_data", "json", default={}, prevent_search=True,
              help_text="Extra variables for the launch; they need ask_variables_on_launch or a survey."),
        Field("inventory", "id", fk="inventory", on_delete="set_null", help_text="Inventory applied as a prompt, "
              "assuming job template prompts for inventory", **nullable),
        Field("scm_branch", "string", max_length=1024, **nullable),
        Field("job_type", "choice", choices=[("run", "Run"), ("check", "Check")], **nullable),
        Field("job_tags", "text", **nullable),
        Field("skip_tags", "text", **nullable),
        Field("limit", "text", **nullable),
        Field("diff_mode", "boolean", **nullable),
        Field("verbosity", "choice", choices=VERBOSITY, **nullable),
        Field("execution_environment", "id", fk="execution_environment", on_delete="set_null",
              help_text="The container image to be used for execution.", **nullable),
        Field("forks", "integer", min_value=0, **nullable),
        Field("job_slice_count", "integer", min_value=0, **nullable),
        Field("timeout", "integer", **nullable),
        Field("unified_job_template", "integer", null=True, default=None,
              help_text="The job template, project or inventory source to run (an id from "
                        "/api/v2/unified_job_templates/; required unless posted to a template's schedules/)."),
        Field("enabled", "boolean", default=True, help_text="Enables processing of this schedule."),
        Field("dtstart", "datetime", read_only=True, help_text="The first occurrence of the schedule occurs on or "
              "after this time.", **nullable),
        Field("dtend", "datetime", read_only=True, help_text="The last occurrence of the schedule occurs before this "
              "time, aftewards the schedule expires.", **nullable),
        Field("rrule", "text", null=True, default=None,
              help_text="A value representing the schedules iCal recurrence rule "
              "(required unless cron, interval or date is given)."),
        Field("next_run", "datetime", read_only=True, index=True,
              help_text="The next time that the scheduled action will run.", **nullable),
        Field("timezone", "string", max_length=64, default="",
              help_text="The timezone this schedule runs in, extracted from the rrule; an input (IANA name, default "
                        "UTC) for the cron, interval and date forms."),
        Field("until", "string", stored=False, read_only=True, help_text="The date this schedule will end, from the "
              "rrule's UNTIL in the schedule's timezone; empty if the schedule does not end."),
        Field("schedule_type", "choice", read_only=True, default="rrule",
              choices=[("rrule", "RRULE"), ("cron", "Cron"), ("interval", "Interval"), ("date", "Date")],
              help_text="The input form the rule was given in."),
        Field("cron", "string", max_length=256, help_text="A 5-field cron expression (minute hour day-of-month "
              "month day-of-week), translated to the rrule in timezone.", **nullable),
        Field("interval", "integer", min_value=1, help_text="Run every interval interval_type.", **nullable),
        Field("interval_type", "choice", choices=[(t, t.capitalize()) for t in schedule_forms.INTERVAL_TYPES],
              **nullable),
        Field("date", "datetime", help_text="Run once at this date and time (naive: in timezone).", **nullable),
        Field("start_time", "datetime", help_text="First possible run of a cron or interval schedule "
              "(default: the next whole minute).", **nullable),
        Field("end_time", "datetime", help_text="No run of a cron or interval schedule after this time (UNTIL).",
              **nullable),
        Field("unified_job_template_type", "string", hidden=True, default="job_template"),
        *[Field(k.column, "id", fk=k.resource, hidden=True, on_delete="cascade", **nullable)
          for k in template_kinds(reg).values()],
    ]


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="schedule", plural="schedules", fields=_fields(reg), ordering=("id",),
        search_fields=("name", "description"), summary_keys=("id", "name", "description", "next_run"),
        relations=[Relation("unified_jobs", "job", "reverse_fk", key="schedule", read_only=True),
                   Relation("credentials", "credential", "m2m", key=CREDENTIALS_KEY,
                            validate_association=_credential_association),
                   labels_relation(LABELS_KEY)],
        create_role=None, can_create=_can_create, can_change=_can_change, visibility=_visibility, may_add=_may_add,
        before_save=_before_save, compute=_compute, redact=_redact, extra_summary=_summary,
        extra_related=_related, capabilities=("edit", "delete"),
    ))
    for kind in template_kinds(reg).values():
        template = reg[kind.resource]
        template.relations.append(Relation("schedules", "schedule", "reverse_fk", key=kind.column, create=True,
                                           attach=False))
        # one id sequence for the three template tables: /unified_job_templates/ ids name one template
        template.id_group = template.id_group or "unified_job_template"
        attach_next_run(reg, kind.resource, kind.column)

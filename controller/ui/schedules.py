"""Schedules: the list, the create / edit form in every input form the API takes (cron, interval,
one-off date, RRULE with time zone; start / end window) and a preview of the next 10 runs before
saving.

Contracts:
  * The preview is computed by the API's own service (``schedule_forms.rule_from_input`` +
    ``rrules.preview``: the same rule the save would store) in the chosen time zone.
    ``POST /ui/schedules/preview`` answers the HTML fragment ``<ol id="schedule-preview">``
    (400 with ``<ul id="schedule-preview-errors">`` items naming their field) for the page's
    script; without script the form's "Preview" button re-renders the page with the same list.
  * The form posts only the chosen input form's keys (``schedule_type`` picks it), so the
    service's one-form rule never sees a stale input; errors come back beside their fields.
  * A job template's schedule offers the prompts the template asks for (``ask_*_on_launch``,
    the schedulable ones), as the engine's fields of the schedule declaration; empty means "the
    template's own value".  They follow the template picked in the form: the script swaps in
    ``GET /ui/schedules/prompts?unified_job_template=N`` (the ``<div id="schedule-prompts">``
    fragment); without script the "Load prompts" button (``op=prompts``) re-renders the form
    with everything typed kept and saves nothing.  A save clears the stored prompts the picked
    template does not ask for (the service would refuse them).
  * The template's survey questions are offered too (:mod:`.schedule_survey`): their answers
    go in ``extra_data``, merged over the extra variables box.
  * The list prompts the template asks for (credentials, labels, instance groups) get the launch
    form's pickers (:mod:`.prompt_pickers`) showing the schedule's own lists; none picked means
    "the template's own".  A workflow job template's ask flags are followed the same way: its
    field prompts (inventory, limit, branch, tags, skip tags), its survey, and the label picker
    when it asks for labels on launch (the only list prompt it has).  A save sets the schedule's
    sub-lists as an API client would (detach, then attach, each with the API's checks:
    :func:`controller.services.schedule_prompts.set_lists`)
    in the same transaction as the schedule, so a refused credential saves nothing and is shown
    beside its picker.  Picking one of the template's own credentials adds nothing (the run has
    it anyway; the API would refuse it); a list the picked job or workflow job template does not
    ask for is emptied when the save moves the schedule to that template, and left as it is on
    any other edit (projects and inventory sources keep theirs: the form has no pickers for
    them).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import redirect, request, url_for

from ..errors import APIError, PermissionDenied, ValidationError
from ..prompts import SCHEDULABLE, SCHEDULE_LISTS
from ..resources.schedules import template_kinds
from .prompt_pickers import list_prompts, pickers, posted_ids
from .schedule_survey import answers, merged_extra, shown_answers, survey_questions, without_answers
from ..services import crud, rrules, schedule_forms
from ..services.schedule_prompts import list_ids, set_lists, template_credentials
from .base import caps, ctx, detail, field_errors, list_args, listing, page_view, registry, render
from .blueprint import bp
from .forms import FormField, form_fields, read_form

FORM_CHOICES = [("cron", "Cron expression"), ("interval", "Every N minutes / hours / days / weeks"),
                ("date", "Once, at a date and time"), ("rrule", "iCal RRULE (DTSTART;TZID=… RRULE:…)")]
INPUTS = {"cron": ("cron", "timezone", "start_time", "end_time"),
          "interval": ("interval", "interval_type", "timezone", "start_time", "end_time"),
          "date": ("date", "timezone"), "rrule": ("rrule",)}
# the kinds of template a schedule's prompts are offered for (the others take none)
PROMPTED = ("job_template", "workflow_job_template")
TEXT_KEYS = ("name", "description", "schedule_type", "cron", "interval", "interval_type", "date", "rrule",
             "timezone", "start_time", "end_time", "unified_job_template")


def _kind(values: Mapping) -> str:
    """The input form chosen (``schedule_type``), else the one whose input is filled, else cron."""
    kind = values.get("schedule_type") or next((f for f in schedule_forms.FORMS if values.get(f)), "cron")
    return kind if kind in INPUTS else "cron"


def rule_input(values: Mapping) -> dict[str, Any]:
    """The chosen input form's keys of a posted form (empty ones left out): what the API takes."""
    return {k: values.get(k, "") for k in INPUTS[_kind(values)] if values.get(k, "") != ""}


def preview_runs(values: Mapping) -> dict:
    """The next 10 runs of the posted rule: ``{"local": [...], "utc": [...], "zone": name}``;
    raises ValidationError keyed by the input field (as the save would)."""
    data = rule_input(values)
    if _kind(values) == "interval" and "interval" not in data and data.get("interval_type"):
        raise ValidationError({"interval": ["This field is required with interval_type."]})
    if not data.get(_kind(values)):
        raise ValidationError({_kind(values): ["This field is required."]})
    now = datetime.now(timezone.utc)
    rule = schedule_forms.rule_from_input(data, now)
    found = rrules.preview(rule, now)
    return {**found, "zone": rule.tzname, "pairs": list(zip(found["local"], found["utc"]))}


def _templates() -> list[tuple[Any, str]]:
    """What a schedule can run and the user may schedule: job templates, workflow job templates,
    SCM projects and SCM inventory sources (the only kinds the service accepts)."""
    out: list[tuple[Any, str]] = []
    for name, label, only in (("job_template", "Template", ()), ("workflow_job_template", "Workflow", ()),
                              ("project", "Project", (("scm_type__gt", ""),)),
                              ("inventory_source", "Inventory source", (("source", "scm"),))):
        page = crud.list_page(ctx(), registry(name), [("page_size", "200"), ("order_by", "name"), *only], "/")
        out += [(o["id"], f"{label}: {o['name']}") for o in page["results"] if caps(o).get("schedule")]
    return out


def _values_of(obj: dict | None) -> dict:
    """The form's text values for a stored schedule (or a new one)."""
    if obj is None:
        return {"schedule_type": "cron", "timezone": "UTC", "enabled": "on",
                "unified_job_template": request.args.get("unified_job_template", "")}
    values = {k: "" if obj.get(k) is None else str(obj.get(k)) for k in TEXT_KEYS}
    values["enabled"] = "on" if obj.get("enabled") else ""
    values["extra_data"] = _yaml(obj.get("extra_data"))
    for key in ("date", "start_time", "end_time"):
        values[key] = wall_time(values[key], values.get("timezone") or "UTC")
    return values


def wall_time(text: str, zone: str) -> str:
    """A stored date-time as the wall time in ``zone`` a ``datetime-local`` input shows: an
    offset (``…Z`` from an API client) is converted, since the input would drop such a value
    and a re-save would lose it; the service reads a naive value as a wall time in the zone."""
    if not text:
        return ""
    try:
        at = schedule_forms.parse_local(text, schedule_forms.zone_or_error(zone), "date")
    except ValidationError:
        return text
    return at.replace(tzinfo=None).isoformat(timespec="minutes" if at.second == 0 else "seconds")


def _yaml(value: Any) -> str:
    return "" if not value else json.dumps(value, indent=2)


def _body(values: Mapping, obj: dict | None) -> dict:
    """The API body: name, template, enabled, the chosen form's inputs; on an edit the other
    forms' inputs are sent empty (the service ignores an unchanged blank)."""
    body: dict[str, Any] = {"name": values.get("name", ""), "description": values.get("description", ""),
                            "enabled": values.get("enabled") == "on"}
    ujt = values.get("unified_job_template", "")
    if ujt:
        body["unified_job_template"] = int(ujt) if ujt.isdigit() else ujt
    kind = _kind(values)
    body.update(rule_input(values))
    if kind == "interval" and str(body.get("interval", "")).isdigit():
        body["interval"] = int(body["interval"])
    if obj is not None and kind != "rrule":
        for key in ("start_time", "end_time"):
            body.setdefault(key, None)
    extra = values.get("extra_data", "")
    if extra.strip():
        body["extra_data"] = extra
    return body


def prompt_source(template_id: str) -> tuple[str, dict] | None:
    """(kind, row) of the template ``template_id`` names when it takes prompts (a job or a
    workflow job template) and the user may see it; None otherwise.  A bare id is looked up in
    the service's order (:func:`~controller.resources.schedules.template_kinds`), so the form
    asks for the prompts of the very template the save will run."""
    if not template_id.isdigit():
        return None
    for kind in template_kinds(ctx().registry).values():
        if ctx().store.get(kind.table, int(template_id)) is None:
            continue
        if kind.resource not in PROMPTED:
            return None
        try:
            return kind.resource, crud.get_row(ctx(), registry(kind.resource), int(template_id))
        except APIError:
            return None
    return None


def prompt_template(template_id: str) -> dict | None:
    """The job or workflow job template row ``template_id`` names, if the user may see it (None
    otherwise, or for a project or an inventory source, which take no prompt).  A row holds the
    ask flags of the prompts its kind has, so a workflow gets only its own (inventory, limit,
    branch, tags, skip tags) and its survey."""
    found = prompt_source(template_id)
    return found[1] if found is not None else None


def prompt_fields(template_id: str, obj: dict | None, errors: dict) -> list[FormField]:
    """The schedule's inputs for the prompts job or workflow job template ``template_id`` asks
    for ([] for another kind of template, or one the user cannot see)."""
    jt = prompt_template(template_id)
    if jt is None:
        return []
    names = [p.key for p in SCHEDULABLE if jt.get(p.ask_flag) and registry("schedule").field(p.key)]
    if not names:
        return []
    # a yes/no prompt is a select: unset (the template's value) is a third answer a checkbox lacks
    overrides = {n: {"widget": "select", "choices": [("", "---------"), ("true", "Yes"), ("false", "No")]}
                 for n in names if registry("schedule").field(n).kind == "boolean"}
    return form_fields(registry("schedule"), obj, values=request.form if request.method == "POST" else None,
                       errors=errors, only=names, overrides=overrides)


def prompt_values(fields: list[FormField], obj: dict | None) -> dict[str, Any]:
    """The prompts' part of the body: an empty input is null (the template's own value); a
    stored prompt the picked template does not ask for is cleared (null)."""
    out: dict[str, Any] = {p.key: None for p in SCHEDULABLE
                           if obj is not None and obj.get(p.key) is not None and registry("schedule").field(p.key)}
    out.update({k: (None if v == "" else v) for k, v in read_form(fields, request.form).items()})
    return out


def list_pickers(template_id: str, obj: dict | None, form: Mapping | None) -> list[dict]:
    """The pickers of the list prompts the job or workflow job template asks for, showing the
    posted ids, else the schedule's own lists."""
    found = prompt_source(template_id)
    if found is None:
        return []
    kind, template = found
    return pickers(list_prompts(template), template, {}, form, stored=list_ids(ctx(), (obj or {}).get("id")),
                   note="None picked: the template's own.", kind=kind)


def list_values(template_id: str, obj: dict | None) -> dict[str, list[int]]:
    """The sub-lists a save sets: each shown picker's ids (less the template's own credentials);
    when an edit moves the schedule to another job or workflow job template, an empty list for
    each list prompt that template does not ask for.  A list with no picker on the page is
    otherwise left as it is (one attached through the API stays: a detach could delete a label
    attached to nothing else); another kind of template (no pickers) leaves them all."""
    found = prompt_source(template_id)
    if found is None:
        return {}
    jt = found[1]
    asked = {p.key for p in list_prompts(jt)}
    moved = obj is not None and str(obj.get("unified_job_template")) != str(jt["id"])
    out: dict[str, list[int]] = {}
    for prompt in SCHEDULE_LISTS:
        ids = posted_ids(prompt.key, request.form) if prompt.key in asked else ([] if moved else None)
        if ids is not None and prompt.key == "credentials":
            own = template_credentials(ctx(), jt["id"])
            ids = [i for i in ids if i not in own]
        if ids is not None:
            out[prompt.key] = ids
    return out


# the page of what a schedule runs, by the unified job type its summary names
TEMPLATE_PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    "job": ("ui.template_page", {}), "workflow_job": ("ui.workflow_template", {}),
    "project_update": ("ui.project", {}), "inventory_update": ("ui.generic_detail", {"plural": "inventory_sources"})}


def template_href(obj: dict | None) -> str | None:
    """The UI page of the template schedule ``obj`` runs (None for a new schedule)."""
    summary = ((obj or {}).get("summary_fields") or {}).get("unified_job_template") or {}
    page = TEMPLATE_PAGES.get(str(summary.get("unified_job_type")))
    if page is None or obj is None:
        return None
    return url_for(page[0], pk=obj["unified_job_template"], **page[1])


def _form_page(obj: dict | None):
    res = registry("schedule")
    values = dict(request.form) if request.method == "POST" else _values_of(obj)
    errors: dict[str, list[str]] = {}
    preview: dict | None = None
    template_id = str(values.get("unified_job_template") or "")
    prompts = prompt_fields(template_id, obj, errors)
    questions = survey_questions(prompt_template(template_id))
    stored = (obj or {}).get("extra_data") or {}
    if request.method != "POST" and obj is not None:
        values["extra_data"] = without_answers(values.get("extra_data", ""), questions)
    if request.method == "POST" and request.form.get("op") == "prompts":
        pass              # "Load prompts": the same form for the template picked, nothing saved
    elif request.method == "POST":
        try:
            preview = preview_runs(values)
        except ValidationError as exc:
            errors = field_errors(exc)
        if request.form.get("op") != "preview" and not errors:
            try:
                body = {**_body(values, obj), **prompt_values(prompts, obj)}
                given = answers(questions, stored, request.form)
                if given or (questions and obj is not None):     # an edit may have emptied answers
                    body["extra_data"] = merged_extra(values.get("extra_data", ""), given)
                lists = list_values(template_id, obj)
                with ctx().store.transaction():       # a refused attach saves nothing
                    if obj is None:
                        row = crud.create(ctx(), res, body)
                    else:
                        row = crud.update(ctx(), res, crud.get_row(ctx(), res, obj["id"]), body, partial=True)
                    set_lists(ctx(), row, lists)
                return redirect(url_for("ui.schedule_page", pk=row["id"]))
            except ValidationError as exc:
                errors = field_errors(exc)
    elif obj is not None:
        try:
            preview = preview_runs(values)
        except ValidationError:
            preview = None
    shown = {*TEXT_KEYS, "extra_data", *(f.name for f in prompts), *(p.key for p in SCHEDULE_LISTS)}
    for f in prompts:
        f.errors = errors.get(f.name, [])
    general = [m for k, v in errors.items() if k not in shown for m in v]
    return render("schedule_form.html", _code=400 if errors else 200, obj=obj, values=values, errors=errors,
                  general=general, preview=preview, kinds=FORM_CHOICES, templates=_templates(), prompts=prompts,
                  pickers=list_pickers(template_id, obj, request.form if request.method == "POST" else None),
                  survey=questions,
                  answers=shown_answers(questions, stored, request.form if request.method == "POST" else None),
                  interval_types=[(t, t.capitalize()) for t in schedule_forms.INTERVAL_TYPES],
                  zones=sorted(rrules.zone_names()), can_edit=obj is None or caps(obj).get("edit"),
                  template_href=template_href(obj))


@bp.route("/schedules", methods=["GET"])
@page_view
def schedules():
    args = list_args(("search", "page", "order_by"))
    data = listing(registry("schedule"), args)
    return render("schedules.html", data=data, search=request.args.get("search", ""))


@bp.route("/schedules/new", methods=["GET", "POST"])
@page_view
def schedule_new():
    return _form_page(None)


@bp.route("/schedules/<int:pk>", methods=["GET", "POST"])
@bp.route("/schedules/<int:pk>/edit", methods=["GET", "POST"], endpoint="schedule_edit")
@page_view
def schedule_page(pk: int):
    _row, obj = detail(registry("schedule"), pk)
    if request.method == "POST" and not caps(obj).get("edit"):
        raise PermissionDenied()
    return _form_page(obj)


@bp.route("/schedules/<int:pk>/delete", methods=["POST"])
@page_view
def schedule_delete(pk: int):
    res = registry("schedule")
    crud.delete(ctx(), res, crud.get_row(ctx(), res, pk))
    return redirect(url_for("ui.schedules", deleted=pk))


@bp.route("/schedules/prompts", methods=["GET"])
@page_view
def schedule_prompts():
    """The prompts fragment for the template picked in the form (``unified_job_template``); on
    an existing schedule (``schedule``) its stored values fill the inputs."""
    obj = None
    pk = request.args.get("schedule", "")
    if pk.isdigit():
        _row, obj = detail(registry("schedule"), int(pk))
    template_id = request.args.get("unified_job_template", "")
    questions = survey_questions(prompt_template(template_id))
    return render("schedule_prompts.html", prompts=prompt_fields(template_id, obj, {}),
                  pickers=list_pickers(template_id, obj, None), errors={}, survey=questions,
                  answers=shown_answers(questions, (obj or {}).get("extra_data") or {}, None))


@bp.route("/schedules/preview", methods=["POST"])
@page_view
def schedule_preview():
    """The fragment the form's script shows: the next 10 runs, or the errors by field."""
    try:
        preview, errors = preview_runs(request.form), {}
    except ValidationError as exc:
        preview, errors = None, field_errors(exc)
    return render("schedule_preview.html", _code=400 if errors else 200, preview=preview, errors=errors)

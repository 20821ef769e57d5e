"""Job templates: the template's page (details, recent jobs with a status sparkline, schedules,
launch) and its create / edit form with every run option, credentials, labels and the
``ask_*_on_launch`` switches.

Contracts:
  * The form is the engine's (:mod:`controller.ui.forms`) over the declaration; only what the
    declaration cannot say is added here: the playbook as a select of the chosen project's
    playbooks, and the two associations (credentials, labels).
  * A save is one transaction: the template through ``crud.create`` / ``crud.update`` and the
    associations through ``relations`` (the API's ``credentials/`` and ``labels/`` sub-lists, with
    their rules: one credential per type, use of each credential).  A refused association rolls
    the template back, and the form comes back (400) with every value typed.
  * ``refresh`` (the no-script "Load playbooks" button) re-renders the form for the chosen
    project without saving.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import jsonify, redirect, request, url_for

from ..errors import APIError, PermissionDenied, ValidationError
from ..services import crud, relations
from ..services.project_files import project_files
from .base import caps, ctx, detail, field_errors, flatten_errors, listing, page_view, registry, render
from .blueprint import bp
from .forms import FormField, form_fields, place_errors, read_form, render_form
from .generic import may_create

SPARK_COLORS = {"successful": "#1a7f37", "failed": "#cf222e", "error": "#cf222e", "canceled": "#57606a",
                "running": "#0969da", "pending": "#9a6700", "waiting": "#9a6700", "new": "#9a6700"}
# Shown on the template's page (the form shows every writable field).
DETAILS = ("job_type", "playbook", "forks", "limit", "verbosity", "job_tags", "skip_tags", "timeout",
           "job_slice_count", "become_enabled", "diff_mode", "allow_simultaneous", "use_fact_cache")


class _Refused(Exception):
    """A save refused with field errors (raised inside the transaction to roll it back)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("refused")
        self.errors = errors


def _project_id(obj: dict | None, fields: list[FormField]) -> int | None:
    """The project the form is about: the one posted, else the stored one, else the first offered."""
    raw = request.values.get("project")
    if raw is None and obj is not None:
        raw = obj.get("project")
    if raw is None:
        project = next((f for f in fields if f.name == "project"), None)
        raw = next((v for v, _ in (project.choices if project else []) if v not in ("", None)), None)
    text = str(raw) if raw is not None else ""
    return int(text) if text.isdigit() else None


def project_playbooks(pk: int | None) -> list[str]:
    """Playbooks of project ``pk`` the user may read ([] when none or hidden)."""
    if pk is None:
        return []
    try:
        row = crud.get_row(ctx(), registry("project"), pk)
    except APIError:
        return []
    return project_files(ctx(), row, "playbook")


def _playbook_field(fields: list[FormField], obj: dict | None) -> None:
    """The playbook input becomes a select of the project's playbooks (the current value kept)."""
    playbook = next((f for f in fields if f.name == "playbook"), None)
    if playbook is None:
        return
    found = project_playbooks(_project_id(obj, fields))
    if not found:
        playbook.help_text = "No playbook found in the project yet: type its path."
        return
    current = playbook.text
    playbook.widget = "select"
    playbook.choices = [(p, p) for p in found]
    if current and current not in found:
        playbook.choices.insert(0, (current, current))
    playbook.required = True


def _credential_choices() -> list[tuple[Any, str]]:
    """Credentials the user may use, named with their type."""
    res = registry("credential")
    page = crud.list_page(ctx(), res, [("page_size", "200"), ("order_by", "name"), ("role_level", "use_role")], "/")
    return [(c["id"], f"{c['name']} ({(c.get('summary_fields', {}).get('credential_type') or {}).get('name', '')})")
            for c in page["results"]]


def _chosen(obj: dict | None) -> tuple[list[int], str]:
    """(credential ids, labels text) the form shows: as posted, else as stored."""
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("credentials") if v.isdigit()]
        return ids, request.form.get("labels", "")
    summary = (obj or {}).get("summary_fields", {})
    ids = [c["id"] for c in summary.get("credentials") or []]
    names = [label["name"] for label in (summary.get("labels") or {}).get("results") or []]
    return ids, ", ".join(names)


def label_names(text: str) -> list[str]:
    """The labels input: comma-separated names, blanks dropped, each once."""
    return list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _sync_credentials(res, row: dict, wanted: list[int], current: list[int]) -> None:
    rel, target = res.relation("credentials"), registry("credential")
    for pk in current:
        if pk not in wanted:
            relations.associate(ctx(), res, row, rel, crud.get_row(ctx(), target, pk), False)
    for pk in wanted:
        if pk not in current:
            relations.associate(ctx(), res, row, rel, crud.get_row(ctx(), target, pk), True)


def _sync_labels(res, row: dict, names: list[str], current: dict[str, int]) -> None:
    rel, target = res.relation("labels"), registry("label")
    for name, pk in current.items():
        if name not in names:
            relations.associate(ctx(), res, row, rel, crud.get_row(ctx(), target, pk), False)
    for name in names:
        if name not in current:
            if not row.get("organization"):
                raise _Refused({"labels": ["Labels need the template's project to belong to an organization."]})
            relations.post(ctx(), res, row, rel, {"name": name, "organization": row["organization"]})


def _save(res, row: dict | None, obj: dict | None, fields: list[FormField]) -> dict:
    """The template, then its associations, in one transaction (see the module's contract)."""
    wanted, labels_text = _chosen(None)
    summary = (obj or {}).get("summary_fields", {})
    current = [c["id"] for c in summary.get("credentials") or []]
    current_labels = {lab["name"]: lab["id"] for lab in (summary.get("labels") or {}).get("results") or []}
    body = read_form(fields, request.form, row)
    try:
        with ctx().store.transaction():
            try:
                saved = crud.create(ctx(), res, body) if row is None else crud.update(ctx(), res, row, body,
                                                                                     partial=True)
            except ValidationError as exc:
                raise _Refused(field_errors(exc)) from None
            with _refusals_on("credentials"):
                _sync_credentials(res, saved, wanted, current)
            with _refusals_on("labels"):
                _sync_labels(res, saved, label_names(labels_text), current_labels)
            return saved
    except _Refused as exc:
        place_errors(fields, exc.errors)
        raise


@contextmanager
def _refusals_on(field: str) -> Iterator[None]:
    """An association's 400 (AWX's ``{"error": ...}`` or a field's message) shown beside ``field``;
    403 and 404 stay the HTML error page."""
    try:
        yield
    except APIError as exc:
        if exc.status != 400:
            raise
        raise _Refused({field: flatten_errors(exc.body)}) from None


def _form_page(obj: dict | None):
    res = registry("job_template")
    row = crud.get_row(ctx(), res, obj["id"]) if obj is not None else None
    posted = request.method == "POST"
    fields = form_fields(res, obj, values=request.form if posted else None,
                         exclude=("survey_enabled", "webhook_extractors"))
    _playbook_field(fields, obj)
    errors: dict[str, list[str]] = {}
    if posted and request.form.get("refresh") is None:
        try:
            saved = _save(res, row, obj, fields)
            return redirect(url_for("ui.template_page", pk=saved["id"]))
        except _Refused as exc:
            errors = exc.errors
    creds, labels_text = _chosen(obj)
    title = obj["name"] if obj is not None else "New job template"
    return render_form(fields, title=title, section="Templates", errors=errors, obj=obj,
                       cancel=url_for("ui.template_page", pk=obj["id"]) if obj else url_for("ui.templates"),
                       template="template_form.html", credential_choices=_credential_choices(),
                       chosen_credentials=creds, labels_text=labels_text)


@bp.app_template_global()
def may_create_template() -> bool:
    """Offer "New template" (the service decides on submit): an organization's job template
    admin, or a user of some project (AWX: project use is enough)."""
    if may_create(registry("job_template")):
        return True
    args = [("page_size", "1"), ("role_level", "use_role")]
    return bool(crud.list_page(ctx(), registry("project"), args, "/").get("count"))


@bp.route("/templates/new", methods=["GET", "POST"])
@page_view
def template_new():
    return _form_page(None)


@bp.route("/templates/<int:pk>/edit", methods=["GET", "POST"])
@page_view
def template_edit(pk: int):
    _row, obj = detail(registry("job_template"), pk)
    if not caps(obj).get("edit"):
        raise PermissionDenied()
    return _form_page(obj)


@bp.route("/templates/<int:pk>/delete", methods=["POST"])
@page_view
def template_delete(pk: int):
    res = registry("job_template")
    crud.delete(ctx(), res, crud.get_row(ctx(), res, pk))     # the service checks the right
    return redirect(url_for("ui.templates", deleted=pk))


@bp.route("/templates/<int:pk>/copy", methods=["POST"])
@page_view
def template_copy(pk: int):
    """A copy named "<name> @ <time>" (AWX's UI names copies so), then its edit form."""
    res = registry("job_template")
    row = crud.get_row(ctx(), res, pk)
    stamp = datetime.now(timezone.utc).strftime("%H:%M:%S")
    new = crud.copy(ctx(), res, row, f"{row['name']} @ {stamp}")       # the service checks the rights
    return redirect(url_for("ui.template_edit", pk=new["id"]))


@bp.route("/projects/<int:pk>/playbooks", methods=["GET"])
@page_view
def project_playbook_list(pk: int):
    """The playbooks of a project as JSON (the template form refreshes its select with it)."""
    return jsonify(project_playbooks(pk))


def sparkline(jobs: list[dict]) -> list[dict]:
    """Bars of the recent jobs, oldest first: x position, colour and the job they link to."""
    bars = []
    for i, job in enumerate(reversed(jobs)):
        bars.append({"x": i * 12, "id": job["id"], "status": job["status"],
                     "color": SPARK_COLORS.get(job["status"], "#57606a")})
    return bars


@bp.route("/templates/<int:pk>", methods=["GET"])
@page_view
def template_page(pk: int):
    """The template's page: details, recent jobs (sparkline + table), schedules, actions."""
    res = registry("job_template")
    row, obj = detail(res, pk)
    jobs = crud.list_page(ctx(), registry("job"), [("job_template", str(pk)), ("order_by", "-id"),
                                                   ("page_size", "10")], "/")["results"]
    schedules = listing(registry("schedule"), [("order_by", "name"), ("page_size", "50")],
                        scope=relations.scope(ctx(), res, row, res.relation("schedules")))
    field = res.field
    details = [(field(name).verbose_label(), _shown(field(name), obj.get(name))) for name in DETAILS
               if field(name) is not None]
    return render("template_page.html", jt=obj, jobs=jobs, bars=sparkline(jobs), schedules=schedules,
                  details=details, caps=caps(obj), can_schedule=caps(obj).get("schedule"))


def _shown(f, value: Any) -> str:
    if f.choices:
        return next((label for v, label in f.choices if v == value), str(value))
    if isinstance(value, bool) or f.kind == "boolean":
        return "Yes" if value else "No"
    return "—" if value in (None, "") else str(value)

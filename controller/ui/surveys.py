"""The survey editor of a job template: every AWX question type, reorder, preview, saved through
the same service as ``POST /api/v2/job_templates/N/survey_spec/``.

Contracts:
  * The editor is one form whose questions are numbered inputs (``spec-<i>-<key>``).  Every
    button posts the whole form: ``op=add``, ``up:<i>``, ``down:<i>``, ``remove:<i>`` and
    ``preview`` only re-render it (nothing is stored, nothing typed is lost), so reordering works
    without script; ``save`` stores the spec with :func:`controller.services.surveys.save_spec`
    and the ``survey_enabled`` switch with ``crud.update`` in one transaction; ``delete`` is
    ``surveys.delete_spec``.  Saving with no question left deletes the spec (as AWX's UI does).
  * A password question's stored default is never sent to the browser: its input stays empty,
    and empty keeps it (``$encrypted$`` in the body, the service's own keep rule).
  * The service's message (AWX's text) is shown beside the question it names (``question N`` /
    ``position N``), else beside the first question that fails on its own, else above the form.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import redirect, request, url_for

from ..errors import APIError, PermissionDenied
from ..registry import ENCRYPTED
from ..services import crud
from ..services import surveys as survey_service
from .base import caps, ctx, detail, page_view, registry, render
from .blueprint import bp

TYPES = [("text", "Text"), ("textarea", "Textarea"), ("password", "Password"), ("integer", "Integer"),
         ("float", "Float"), ("multiplechoice", "Multiple choice (single select)"),
         ("multiselect", "Multiple choice (multiple select)")]
KEYS = ("question_name", "question_description", "variable", "type", "default", "choices", "min", "max")
_INDEX = re.compile(r"(?:question|position) (\d+)")
_FIELD_WORDS = (("Default", "default"), ("default value", "default"), ("choice", "choices"), ("min limit", "min"),
                ("max limit", "max"),
                ("'variable'", "variable"), ("'type'", "type"), ("allowed question types", "type"),
                ("'question_name'", "question_name"), ("$encrypted$", "default"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def editor_rows(spec: dict) -> list[dict]:
    """The stored (displayed) spec as the editor's rows: every value as the text of its input;
    a password default becomes ``had_secret`` and an empty input."""
    rows = []
    for q in spec.get("spec") or []:
        row: dict[str, Any] = {k: _text(q.get(k)) for k in KEYS}
        row["required"] = bool(q.get("required"))
        row["had_secret"] = q.get("type") == "password" and bool(q.get("default"))
        if row["had_secret"]:
            row["default"] = ""
        rows.append(row)
    return rows


def posted_rows(form: Mapping) -> list[dict]:
    """The editor's rows as posted (``spec-<i>-<key>``, ``count`` of them)."""
    count = int(form.get("count", "0")) if str(form.get("count", "0")).isdigit() else 0
    rows = []
    for i in range(min(count, 500)):
        row: dict[str, Any] = {k: form.get(f"spec-{i}-{k}", "") for k in KEYS}
        row["type"] = row["type"] or "text"
        row["required"] = form.get(f"spec-{i}-required") == "on"
        row["had_secret"] = form.get(f"spec-{i}-had_secret") == "1" and row["type"] == "password"
        rows.append(row)
    return rows


def apply_op(rows: list[dict], op: str) -> list[dict]:
    """``add`` a blank question or move/remove question ``i`` (``up:i``, ``down:i``, ``remove:i``)."""
    rows = list(rows)
    if op == "add":
        rows.append({**{k: "" for k in KEYS}, "type": "text", "required": False, "had_secret": False})
        return rows
    verb, _, index = op.partition(":")
    if not index.isdigit() or int(index) >= len(rows):
        return rows
    i = int(index)
    if verb == "remove":
        rows.pop(i)
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def _number(text: str, cast) -> Any:
    """A number typed in an input; text that is not one is passed on as typed, so the service's
    own message (AWX's) explains it."""
    try:
        return cast(text)
    except ValueError:
        return text


def question_body(row: dict) -> dict:
    """One editor row as the question the API takes (the body an API client would POST)."""
    kind = row["type"]
    q: dict[str, Any] = {"question_name": row["question_name"], "question_description": row["question_description"],
                         "variable": row["variable"].strip(), "type": kind, "required": bool(row["required"])}
    default = row["default"]
    if kind in ("multiplechoice", "multiselect"):
        q["choices"] = row["choices"]
        default = "\n".join(line.strip() for line in default.splitlines() if line.strip())
    if kind == "integer" and default.strip():
        default = _number(default.strip(), int)
    elif kind == "float" and default.strip():
        default = _number(default.strip(), float)
    elif kind == "password" and default == "" and row.get("had_secret"):
        default = ENCRYPTED          # empty keeps the stored secret
    q["default"] = default
    for key in ("min", "max"):
        if row[key].strip():
            q[key] = _number(row[key].strip(), int)
    return q


def spec_body(form: Mapping, rows: list[dict]) -> dict:
    return {"name": form.get("name", ""), "description": form.get("description", ""),
            "spec": [question_body(r) for r in rows]}


def preview_questions(rows: list[dict]) -> list[dict]:
    """The questions as the launch form shows them (choices as lists, multiselect defaults split,
    no password default)."""
    out = []
    for r in rows:
        q = question_body(r)
        q["choice_list"] = survey_service.choice_list(q.get("choices"))
        if q["type"] == "password":
            q["default"] = "" if q["default"] == ENCRYPTED else q["default"]
        if q["type"] == "multiselect":
            q["default_list"] = [d for d in str(q.get("default") or "").split("\n") if d]
        out.append(q)
    return out


def _field_of(message: str) -> str:
    return next((key for word, key in _FIELD_WORDS if word in message), "")


def place_error(message: str, body: dict) -> tuple[dict[str, list[str]], list[str]]:
    """({"spec-<i>-<field>": [message]}, messages for the top): where the service's message
    belongs.  Without an index in the text, each question is validated alone to find it."""
    found = _INDEX.search(message)
    index = int(found.group(1)) if found else None
    if index is None:
        for i, q in enumerate(body["spec"]):
            try:
                survey_service.validate_spec({**body, "spec": [q]}, {}, lambda text: ENCRYPTED + text)
            except survey_service.SurveyError:
                index = i
                break
    if index is None or index >= len(body["spec"]):
        return {}, [message]
    return {f"spec-{index}-{_field_of(message) or 'question_name'}": [message]}, []


def _save(res, row: dict, form: Mapping, rows: list[dict]) -> None:
    """Store the spec and the switch together (a refused spec leaves the switch as it was)."""
    enabled = form.get("survey_enabled") == "on"
    with ctx().store.transaction():
        if rows:
            survey_service.save_spec(ctx(), res, row, spec_body(form, rows))
        elif survey_service.stored_spec(row):
            survey_service.delete_spec(ctx(), res, row)
        fresh = crud.get_row(ctx(), res, row["id"])
        if bool(fresh.get("survey_enabled")) != (enabled and bool(rows)):
            crud.update(ctx(), res, fresh, {"survey_enabled": enabled and bool(rows)}, partial=True)


@bp.route("/templates/<int:pk>/survey", methods=["GET", "POST"])
@page_view
def survey_editor(pk: int):
    """The editor (template admins only: the service refuses anyone else anyway)."""
    res = registry("job_template")
    row, obj = detail(res, pk)
    if not caps(obj).get("edit"):
        raise PermissionDenied()
    spec = survey_service.display_spec(survey_service.stored_spec(row))
    form: Mapping = request.form if request.method == "POST" else {
        "name": spec.get("name", ""), "description": spec.get("description", ""),
        "survey_enabled": "on" if row.get("survey_enabled") else ""}
    rows = posted_rows(request.form) if request.method == "POST" else editor_rows(spec)
    op = request.form.get("op", "")
    errors: dict[str, list[str]] = {}
    messages: list[str] = []
    asking = op == "ask-delete"    # the question first (no script needed); only "delete" deletes
    if op == "delete":
        survey_service.delete_spec(ctx(), res, row)
        if row.get("survey_enabled"):
            crud.update(ctx(), res, crud.get_row(ctx(), res, pk), {"survey_enabled": False}, partial=True)
        return redirect(url_for("ui.survey_editor", pk=pk, saved="deleted"))
    if op == "save":
        try:
            _save(res, row, request.form, rows)
            return redirect(url_for("ui.survey_editor", pk=pk, saved=1))
        except APIError as exc:
            if exc.status != 400:
                raise
            text = exc.body.get("error") if isinstance(exc.body, dict) else None
            if text:
                errors, messages = place_error(str(text), spec_body(request.form, rows))
            else:
                messages = [str(m) for v in (exc.body or {}).values() for m in (v if isinstance(v, list) else [v])]
    elif op and not asking:
        rows = apply_op(rows, op)
    return render("survey_editor.html", _code=400 if errors or messages else 200, jt=obj, rows=rows, form=form,
                  types=TYPES, errors=errors, errors_top=messages, questions=preview_questions(rows),
                  saved=request.args.get("saved", ""), has_spec=bool(spec.get("spec")),
                  asking_delete=asking and bool(spec.get("spec")), stored_questions=len(spec.get("spec") or []))

"""The survey part of a schedule's prompts: the template's survey questions as inputs
(``survey__<variable>``, so a variable never collides with the form's own names), their answers
stored in the schedule's ``extra_data`` as a launch would send them.

Contracts:
  * Questions are offered only when the template's survey is enabled; an empty answer is not
    sent (the run takes the survey's default).  Answers are typed as the survey says (integer,
    float, a list for multiselect); text that does not parse is sent as typed so the service's
    own message explains it.
  * A stored password answer is never shown: left empty it is sent as ``$encrypted$``, which the
    service reads as "keep the stored one".
  * The extra variables box shows the other variables; a save merges the answers over them.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ..errors import ValidationError
from ..registry import ENCRYPTED
from ..services import surveys
from ..services.variables import VarsError, parse_vars

PREFIX = "survey__"


def survey_questions(jt: dict | None) -> list[dict]:
    """The questions of ``jt``'s enabled survey, with ``choice_list`` and ``name`` (the input's)."""
    if jt is None or not jt.get("survey_enabled"):
        return []
    out = []
    for q in surveys.display_spec(surveys.stored_spec(jt)).get("spec") or []:
        if isinstance(q, dict) and q.get("variable"):
            out.append({**q, "choice_list": surveys.choice_list(q.get("choices")), "name": PREFIX + q["variable"]})
    return out


def shown_answers(questions: list[dict], stored: Mapping[str, Any], form: Mapping | None) -> dict[str, Any]:
    """variable -> what its input shows: as posted, else the schedule's stored answer (a list
    for a multiselect; never a password)."""
    out: dict[str, Any] = {}
    for q in questions:
        var, kind = q["variable"], q.get("type")
        if form is not None:
            out[var] = form.getlist(q["name"]) if kind == "multiselect" else form.get(q["name"], "")  # type: ignore[attr-defined]
        elif kind == "password":
            out[var] = ""
        elif kind == "multiselect":
            value = stored.get(var)
            out[var] = value if isinstance(value, list) else ([] if value is None else [str(value)])
        else:
            out[var] = "" if stored.get(var) is None else str(stored.get(var))
    return out


def _typed(kind: str | None, raw: str) -> Any:
    caster = {"integer": int, "float": float}.get(kind or "")
    if caster is None:
        return raw
    try:
        return caster(raw)
    except ValueError:
        return raw


def answers(questions: list[dict], stored: Mapping[str, Any], form: Mapping) -> dict[str, Any]:
    """The answers a posted form gives, typed (empty ones left out; see the module's contract)."""
    out: dict[str, Any] = {}
    for q in questions:
        var, kind = q["variable"], q.get("type")
        if kind == "multiselect":
            picked = form.getlist(q["name"])  # type: ignore[attr-defined]
            if picked:
                out[var] = picked
            continue
        raw = form.get(q["name"], "")
        if raw != "":
            out[var] = _typed(kind, raw)
        elif kind == "password" and var in stored:
            out[var] = ENCRYPTED
    return out


def without_answers(text: str, questions: list[dict]) -> str:
    """The extra variables box's text for a stored schedule: the survey's variables left out."""
    try:
        data = parse_vars(text)
    except VarsError:
        return text
    rest = {k: v for k, v in data.items() if k not in {q["variable"] for q in questions}}
    return json.dumps(rest, indent=2) if rest else ""


def merged_extra(text: str, given: dict[str, Any]) -> dict[str, Any]:
    """The body's ``extra_data``: the box's variables with the answers over them."""
    try:
        return {**parse_vars(text), **given}
    except VarsError as exc:
        raise ValidationError({"extra_data": [str(exc)]}) from None

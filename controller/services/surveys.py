"""Survey specs of job templates: validation of a spec (AWX ``JobTemplateSurveySpec``) and of
the answers given at launch (AWX ``SurveyJobTemplateMixin``), with AWX's messages.

Contracts:
  * The pure functions take no store and no request.  :func:`validate_spec` returns the spec to
    store (choices and defaults normalised, password defaults encrypted by ``encrypt``) or raises
    :class:`SurveyError` whose ``message`` is AWX's text (the API answers 400 ``{"error": message}``).
  * :func:`display_spec` is what ``GET survey_spec/`` shows: password defaults as ``$encrypted$``.
  * :func:`validate_answers` checks launch answers against a stored spec; :func:`defaults` gives the
    decrypted survey defaults that pass validation (launch precedence: template extra_vars <
    survey defaults < accepted answers).
  * The service functions at the end (:func:`save_spec`, :func:`delete_spec`) are the only writers
    of a template's hidden ``survey_spec`` column; they check access and record the activity.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

from .. import access
from ..errors import APIError, ValidationError
from ..registry import ENCRYPTED
from ..store import now_iso
from . import activity

# AWX's question types and the Python types a default may have.  The order is the one the
# "not one of ... allowed question types" message lists (shared/reference/awx-api.md §6.11).
QUESTION_TYPES: dict[str, Any] = {"multiplechoice": str, "multiselect": str, "text": str, "textarea": str,
                                  "password": str, "integer": int, "float": (float, int)}
_REQUIRED_KEYS = ("type", "question_name", "variable", "required")


class SurveyError(ValueError):
    """An invalid survey spec; ``message`` is AWX's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() != ""]


def choice_list(choices: Any) -> list:
    """A question's choices as a list: ``"a\\nb"`` (blank lines dropped) or a list as is."""
    if isinstance(choices, str):
        return _lines(choices)
    return list(choices) if isinstance(choices, list) else []


def pivot(spec: Any) -> dict[str, dict]:
    """Questions keyed by variable name."""
    items = spec.get("spec", []) if isinstance(spec, dict) else []
    return {q["variable"]: q for q in items if isinstance(q, dict) and "variable" in q}


# -- the spec -----------------------------------------------------------------------------------
def _check_schema(new: dict) -> None:
    error = None
    for key, expected, label in (("name", str, "string"), ("description", str, "string"),
                                 ("spec", list, "list of items")):
        if key not in new:
            error = f"Field '{key}' is missing from survey spec."
        elif not isinstance(new[key], expected):
            error = f"Expected {label} for field '{key}', received {type(new[key]).__name__} type."
    if isinstance(new.get("spec"), list) and not new["spec"]:
        error = "'spec' doesn't contain any items."
    if error:
        raise SurveyError(error)


def _check_keys(idx: int, item: Any, seen: set[str]) -> None:
    if not isinstance(item, dict):
        raise SurveyError(f"Survey question {idx} is not a json object.")
    for key in _REQUIRED_KEYS:
        if key not in item:
            raise SurveyError(f"'{key}' missing from survey question {idx}")
        expected, label = (bool, "boolean") if key == "required" else (str, "string")
        if not isinstance(item[key], expected):
            raise SurveyError(f"'{key}' in survey question {idx} expected to be {label}.")
    if item["variable"] in seen:
        raise SurveyError(f"'variable' '{item['variable']}' duplicated in survey question {idx}.")
    seen.add(item["variable"])
    if item["type"] not in QUESTION_TYPES:
        raise SurveyError(f"'{item['type']}' in survey question {idx} is not one of "
                          f"'{', '.join(QUESTION_TYPES)}' allowed question types.")


def _check_default_type(idx: int, item: dict) -> None:
    qtype = item["type"]
    default = item.get("default", "")
    if default != "" and not isinstance(default, QUESTION_TYPES[qtype]):
        label = qtype if qtype in ("integer", "float") else "string"
        raise SurveyError(f"Default value {default} in survey question {idx} expected to be {label}.")
    for key in ("min", "max"):
        if key in item and item[key] is not None and not isinstance(item[key], int):
            raise SurveyError(f"The {key} limit in survey question {idx} expected to be integer.")
    # Turret addition (AWX only checks answers): a numeric default must lie within min/max.
    if qtype in ("integer", "float") and default != "" and not isinstance(default, bool):
        if isinstance(item.get("min"), int) and default < item["min"]:
            raise SurveyError(f"Default value {default} in survey question {idx} is too small "
                              f"(must be at least {item['min']}).")
        if isinstance(item.get("max"), int) and default > item["max"]:
            raise SurveyError(f"Default value {default} in survey question {idx} is too large "
                              f"(must be no more than {item['max']}).")


def _check_choices(idx: int, item: dict) -> None:
    qtype = item["type"]
    if qtype not in ("multiplechoice", "multiselect"):
        return
    if not isinstance(item.get("choices"), (str, list)):
        raise SurveyError(f"Survey question {idx} of type {qtype} must specify choices.")
    if isinstance(item["choices"], str):
        item["choices"] = "\n".join(_lines(item["choices"]))
    if "default" in item:
        defaults = _lines(item["default"])   # a str here: _check_default_type ran first
        item["default"] = "\n".join(defaults)
        if qtype == "multiplechoice" and len(defaults) > 1:
            raise SurveyError("Multiple Choice (Single Select) can only have one default value.")
        allowed = choice_list(item["choices"])
        if any(d not in allowed for d in defaults):
            raise SurveyError("Default choice must be answered from the choices listed.")


def _protect_password(idx: int, item: dict, old: dict[str, dict], encrypt: Callable[[str], str]) -> None:
    default = item.get("default")
    if isinstance(default, str) and default.startswith(ENCRYPTED):
        if item["type"] != "password":
            raise SurveyError(f"$encrypted$ is a reserved keyword for password question defaults, "
                              f"survey question {idx} is type {item['type']}.")
        previous = old.get(item["variable"], {}).get("default")
        if not (isinstance(previous, str) and (previous.startswith(ENCRYPTED) or previous == "")):
            raise SurveyError(f"$encrypted$ is a reserved keyword, may not be used for new default "
                              f"in position {idx}.")
        item["default"] = previous
    elif item["type"] == "password" and default not in (None, ""):
        item["default"] = encrypt(default)


def validate_spec(new: Any, old: Any, encrypt: Callable[[str], str]) -> dict:
    """The spec to store for a POSTed ``new`` spec, given the stored ``old`` one.

    Checks run in AWX's order and the first failure raises :class:`SurveyError`.  ``encrypt``
    turns a plaintext password default into a ciphertext starting with ``$encrypted$``.
    """
    if not isinstance(new, dict):
        raise SurveyError("Field 'spec' is missing from survey spec.")
    spec = copy.deepcopy(new)
    _check_schema(spec)
    seen: set[str] = set()
    previous = pivot(old)
    for idx, item in enumerate(spec["spec"]):
        _check_keys(idx, item, seen)
        _check_default_type(idx, item)
        _check_choices(idx, item)
        _protect_password(idx, item, previous, encrypt)
    return spec


def display_spec(spec: Any) -> dict:
    """The spec as the API shows it: non-empty password defaults replaced by ``$encrypted$``."""
    shown = copy.deepcopy(spec) if isinstance(spec, dict) else {}
    for item in shown.get("spec", []):
        if isinstance(item, dict) and item.get("type") == "password" and item.get("default"):
            item["default"] = ENCRYPTED
    return shown


def summary(spec: Any) -> dict | None:
    """``summary_fields.survey`` (AWX: only when the spec has a name and a description)."""
    if isinstance(spec, dict) and "name" in spec and "description" in spec:
        return {"title": spec["name"], "description": spec["description"]}
    return None


def variables_needed(spec: Any) -> list[str]:
    """Variables of required questions (launch ``variables_needed_to_start``)."""
    return [q["variable"] for q in pivot(spec).values() if q.get("required")]


def password_variables(spec: Any) -> list[str]:
    return [q["variable"] for q in pivot(spec).values() if q.get("type") == "password"]


# -- answers ------------------------------------------------------------------------------------
def _limit(value: Any, cast: Callable[[Any], Any]) -> Any:
    if value in ("", None):
        return None
    try:
        return cast(value)
    except (TypeError, ValueError):
        return None


def _bounds(var: Any, value: Any, measured: Any, item: dict, cast: Callable, text: bool) -> list[str]:
    errors = []
    low, high = _limit(item.get("min"), cast), _limit(item.get("max"), cast)
    if low is not None and measured < low:
        errors.append(f"'{var}' value {value} is too small (length is {measured} must be at least {item['min']})."
                      if text else f"'{var}' value {value} is too small (must be at least {item['min']}).")
    if high is not None and measured > high:
        errors.append(f"'{var}' value {value} is too large (must be no more than {item['max']}).")
    return errors


def element_errors(item: dict, answers: dict, validate_required: bool = True) -> list[str]:
    """AWX ``_survey_element_validation``: the problems of one question's answer."""
    var, qtype = item.get("variable"), item.get("type")
    if qtype == "password" and answers.get(var) == ENCRYPTED:
        missing = item.get("default") is None and item.get("required")
        return [f"'{var}' value missing"] if missing and validate_required else []
    if var not in answers:
        return [f"'{var}' value missing"] if item.get("required") and validate_required else []
    value = answers[var]
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return [f"Value {value} for '{var}' expected to be a string."]
        return _bounds(var, value, len(value), item, int, text=True)
    if qtype == "integer":
        if type(value) is not int:
            return [f"Value {value} for '{var}' expected to be an integer."]
        return _bounds(var, value, value, item, int, text=False)
    if qtype == "float":
        if type(value) not in (float, int):
            return [f"Value {value} for '{var}' expected to be a numeric type."]
        return _bounds(var, value, value, item, float, text=False)
    allowed = choice_list(item.get("choices"))
    if qtype == "multiselect":
        if not isinstance(value, list):
            return [f"'{var}' value is expected to be a list."]
        return [f"Value {v} for '{var}' expected to be one of {allowed}." for v in value if v not in allowed]
    if qtype == "multiplechoice" and value not in allowed:
        return [f"Value {value} for '{var}' expected to be one of {allowed}."]
    return []


def validate_answers(spec: Any, answers: dict, validate_required: bool = True) -> tuple[dict, list[str]]:
    """(accepted survey answers, error messages) for launch-time ``answers``.

    Only variables of the spec are considered; keys that are not survey variables are left to
    the caller (they are accepted only when the template asks for variables on launch).  An
    answer with errors is not accepted.  A required question without an answer is an error even
    when it has a default (AWX); fill defaults in first if a launch should use them.
    """
    accepted: dict = {}
    errors: list[str] = []
    for var, item in pivot(spec).items():
        problems = element_errors(item, answers, validate_required)
        if problems:
            errors += problems
        elif var in answers:
            accepted[var] = answers[var]
    return accepted, errors


def defaults(spec: Any, decrypt: Callable[[str], str]) -> dict:
    """``{variable: default}`` for questions whose (decrypted) default passes validation;
    multiselect defaults come out as lists."""
    out = {}
    for var, item in pivot(spec).items():
        default = item.get("default")
        if default is None:
            continue
        if item.get("type") == "password" and isinstance(default, str) and default.startswith(ENCRYPTED):
            default = decrypt(default)
        if item.get("type") == "multiselect" and isinstance(default, str):
            default = _lines(default)      # stored "a\nb"; AWX would drop it (answers must be lists)
        if not element_errors(item, {var: default}):
            out[var] = default
    return out


# -- service: the stored spec -------------------------------------------------------------------
def stored_spec(row: dict) -> dict:
    """A template row's stored spec (``{}`` when none)."""
    raw = row.get("survey_spec")
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _write(ctx, resource, row: dict, spec: dict) -> None:
    before = display_spec(stored_spec(row))
    with ctx.store.transaction():
        ctx.store.update(resource.table, row["id"], {"survey_spec": spec, "modified": now_iso(),
                                                    "modified_by": ctx.user_id})
        new = ctx.store.get(resource.table, row["id"])
        activity.record(ctx, "update", resource, new, {"survey_spec": [before, display_spec(spec)]})


def save_spec(ctx, resource, row: dict, body: Any) -> None:
    """POST survey_spec/: change rights on the template, then validate and store."""
    access.require(access.can_change(ctx, resource, row))
    try:
        spec = validate_spec(body, stored_spec(row), ctx.vault.encrypt)
    except SurveyError as exc:
        raise APIError({"error": exc.message}) from None
    _write(ctx, resource, row, spec)


def delete_spec(ctx, resource, row: dict) -> None:
    """DELETE survey_spec/: delete rights on the template; the spec becomes ``{}``."""
    access.require(access.can_delete(ctx, resource, row))
    _write(ctx, resource, row, {})


def answer(spec: Any, runtime: dict, decrypt: Callable[[str], str], validate: bool = True) -> tuple[dict, dict]:
    """A launch's survey: ``(runtime vars, secret vars)`` from the spec's defaults under the
    given ``runtime`` vars (``$encrypted$`` for a password keeps its default), validated unless
    ``validate`` is false (a 400 ``variables_needed_to_start`` listing what is wrong), with the
    password answers moved out to the secret vars."""
    answers = {**defaults(spec, decrypt), **{k: v for k, v in runtime.items() if v != ENCRYPTED}}
    if validate:
        answers, errors = validate_answers(spec, answers)
        if errors:
            raise ValidationError({"variables_needed_to_start": errors})
    runtime = {**runtime, **answers}
    secret = {var: runtime.pop(var) for var in password_variables(spec) if var in runtime}
    return runtime, secret

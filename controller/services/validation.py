"""Request bodies -> values to store, with DRF/AWX error messages.

Contract: :func:`clean` returns only writable, coerced values (unknown and read-only keys are
ignored, as DRF does) or raises :class:`ValidationError` with every field's errors at once.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from ..errors import ValidationError
from ..query import parse_int64
from ..registry import ENCRYPTED, Field
from .variables import VarsError, parse_vars, vars_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_INT = 2 ** 63 - 1   # SQLite's INTEGER range
_TRUE = {True, 1, "true", "True", "TRUE", "1", "t", "T", "yes", "on"}
_FALSE = {False, 0, "false", "False", "FALSE", "0", "f", "F", "no", "off", ""}


MAX_JSON_DEPTH = 64       # deeper bodies are refused before anything recurses over them
_SURROGATE = re.compile("[\ud800-\udfff]")


class FieldError(Exception):
    pass


class JSONInputError(ValueError):
    """JSON that parses but cannot be stored or echoed safely (the web layer: 400 parse error)."""


def _refuse_constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not a valid JSON value")


def load_json(text: str | bytes) -> Any:
    """Strict ``json.loads``: refuses NaN/Infinity (literal or overflowing like ``1e999``),
    nesting deeper than :data:`MAX_JSON_DEPTH` and lone surrogates (SQLite cannot encode them).

    Raises ``ValueError`` (``JSONDecodeError``, ``UnicodeDecodeError`` or :class:`JSONInputError`).
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONInputError(f"nesting deeper than {MAX_JSON_DEPTH} levels") from None
    check_json_value(value)
    return value


def check_json_value(value: Any) -> None:
    """Raise :class:`JSONInputError` unless ``value`` is storable JSON (see :func:`load_json`).

    Iterative on purpose: the point is to refuse depths that would blow the stack.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise JSONInputError(f"nesting deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                item = item.values()
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise JSONInputError("lone surrogate in a string (not valid Unicode)")
        elif isinstance(item, float) and item - item != 0:    # inf - inf and nan - nan are nan
            raise JSONInputError(f"{item} is not a valid JSON value")


def coerce(ctx, field: Field, value: Any) -> Any:
    """One field's input -> stored value, or FieldError with DRF's message."""
    kind = field.kind
    if value is None and kind == "choice" and not field.null:
        if any(not isinstance(key, str) for key, _label in field.choices or []):
            raise FieldError("This field may not be null.")   # an integer ChoiceField (verbosity)
        value = ""             # AWX's ChoiceNullField: null -> "", then checked as a choice
    if value is None:
        if kind in ("string", "text", "email", "password") and not field.null:
            return ""          # AWX's CharNullField
        if kind == "boolean":
            return None if field.null else False   # BooleanNullField; null=True keeps null
        if kind == "vars":
            return ""
        if field.null or kind == "json":
            return None
        raise FieldError("This field may not be null.")
    if kind in ("string", "text", "email", "password"):
        if isinstance(value, (dict, list, bool)):
            raise FieldError("Not a valid string.")
        value = str(value)
        if "\x00" in value:      # DRF's ProhibitNullCharactersValidator; NUL breaks paths and C APIs
            raise FieldError("Null characters are not allowed.")
        if kind != "text" and kind != "password":
            value = value.strip()
        if field.max_length and len(value) > field.max_length:
            raise FieldError(f"Ensure this field has no more than {field.max_length} characters.")
        if kind == "email" and value and not _EMAIL.match(value):
            raise FieldError("Enter a valid email address.")
        return value
    if kind == "choice":
        for key, _label in field.choices or []:
            if value == key or (not isinstance(value, (dict, list)) and str(value) == str(key)):
                return key
        raise FieldError(f'"{value}" is not a valid choice.')
    if kind == "boolean":
        if isinstance(value, (dict, list, float)):
            raise FieldError("Must be a valid boolean.")
        if isinstance(value, str):
            value = value.strip()
        if value in _TRUE and not isinstance(value, float):
            return True
        if value in _FALSE and not isinstance(value, float):
            return False
        raise FieldError("Must be a valid boolean.")
    if kind == "integer":
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise FieldError("A valid integer is required.")
        try:
            num = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise FieldError("A valid integer is required.") from None
        if abs(num) > _MAX_INT:
            raise FieldError(f"Ensure this value is less than or equal to {_MAX_INT}.")
        _bounds(field, num)
        return num
    if kind == "float":
        if isinstance(value, bool):
            raise FieldError("A valid number is required.")
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise FieldError("A valid number is required.") from None
        _bounds(field, real)
        return real
    if kind == "id":
        if value == "":    # DRF's RelatedField reads "" as null (clients clear an FK with it)
            if field.null:
                return None
            raise FieldError("This field may not be null.")
        if isinstance(value, bool) or isinstance(value, (dict, list, float)):
            raise FieldError(f"Incorrect type. Expected pk value, received {type(value).__name__}.")
        try:        # ids are ASCII digits, as in URLs: "١" is no pk
            pk = value if isinstance(value, int) else parse_int64(str(value))
        except ValueError:
            raise FieldError(f"Incorrect type. Expected pk value, received {type(value).__name__}.") from None
        target = ctx.registry[field.fk]
        if not 0 < pk <= _MAX_INT or not ctx.store.exists(target.table, "id = ?", [pk]):
            raise FieldError(f'Invalid pk "{pk}" - object does not exist.')
        return pk
    if kind == "json":
        if isinstance(value, str):
            try:
                return load_json(value) if value.strip() else {}
            except ValueError as exc:
                raise FieldError(f"Invalid JSON: {exc}") from None
        return value
    if kind == "vars":
        try:
            parse_vars(value)
        except VarsError as exc:
            raise FieldError(str(exc)) from None
        return vars_text(value)
    if kind == "datetime":
        try:
            text = str(value).replace("Z", "+00:00")
            datetime.fromisoformat(text)
        except ValueError:
            raise FieldError("Datetime has wrong format.") from None
        return str(value)
    raise FieldError("Unsupported field.")


def _bounds(field: Field, num: float) -> None:
    if field.min_value is not None and num < field.min_value:
        raise FieldError(f"Ensure this value is greater than or equal to {field.min_value}.")
    if field.max_value is not None and num > field.max_value:
        raise FieldError(f"Ensure this value is less than or equal to {field.max_value}.")


def object_errors(value: Any) -> dict[str, list[str]]:
    """DRF's errors of a value that must be a JSON object: ``{}`` for a dict, else
    ``{"non_field_errors": ["Invalid data. Expected a dictionary, but got <type>."]}``."""
    if isinstance(value, dict):
        return {}
    return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(value).__name__}."]}


def require_object(value: Any) -> dict:
    """``value`` when it is a dict (a JSON object); otherwise a 400 with :func:`object_errors`."""
    errors = object_errors(value)
    if errors:
        raise ValidationError(errors)
    return value


def clean(ctx, resource, data: Any, existing: dict | None, partial: bool) -> dict[str, Any]:
    """Validate a create (existing None), PUT (partial False) or PATCH body."""
    require_object(data)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = existing is None
    for field in resource.fields:
        if not field.writable or (field.create_only and not creating):
            continue
        if field.name in data:
            raw = data[field.name]
            if field.secret and raw == ENCRYPTED and not creating:
                continue           # "$encrypted$" on update keeps the stored value
            try:
                value = coerce(ctx, field, raw)
            except FieldError as exc:
                errors[field.name] = [str(exc)]
                continue
            if field.required and value in ("", None) and field.kind != "boolean":
                errors[field.name] = ["This field may not be blank." if value == ""
                                      else "This field may not be null."]
                continue
            values[field.name] = value
        elif field.required and (creating or not partial):
            errors[field.name] = ["This field is required."]
        elif creating:
            values[field.name] = field.default() if callable(field.default) else field.default
    if not errors:
        _check_unique(ctx, resource, values, existing, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _check_unique(ctx, resource, values: dict, existing: dict | None, errors: dict) -> None:
    merged = {**(existing or {}), **values}
    exclude, exclude_params = ("id != ?", [existing["id"]]) if existing else ("1", [])
    verbose = resource.verbose_name[:1].upper() + resource.verbose_name[1:]
    for field in resource.fields:
        if field.unique and field.name in values:
            if ctx.store.exists(resource.table, f'"{field.name}" = ? AND {exclude}',
                                [values[field.name], *exclude_params]):
                errors[field.name] = [field.unique_message or
                                      f"{verbose} with this {field.verbose_label()} already exists."]
    for group in resource.unique_together:
        if not any(g in values for g in group):
            continue
        where = " AND ".join(f'"{g}" IS ?' for g in group)
        if ctx.store.exists(resource.table, f"{where} AND {exclude}",
                            [merged.get(g) for g in group] + exclude_params):
            labels = " and ".join(resource.field(g).verbose_label() for g in group)
            errors["__all__"] = [f"{verbose} with this {labels} already exists."]

"""Variables as AWX stores them: YAML or JSON text of a mapping, kept verbatim.

``parse_vars`` is the one parser (inventories, hosts, groups, templates, launch prompts);
errors name the line, because a user editing 200 lines of YAML needs to know where.
"""
from __future__ import annotations

import json
from typing import Any

import yaml


class VarsError(ValueError):
    pass


def parse_vars(text: Any) -> dict:
    """Text (or a mapping) -> dict; '' / '---' / None give {}; anything else raises VarsError."""
    if text is None:
        return {}
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        raise VarsError("Must be a mapping or YAML/JSON text.")
    if not text.strip() or text.strip() == "---":
        return {}
    try:
        value = json.loads(text)
    except ValueError as json_exc:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as yaml_exc:
            mark = getattr(yaml_exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(yaml_exc, "problem", None) or str(yaml_exc)
            raise VarsError(f"Cannot parse as JSON (error: {json_exc}) or YAML (error: {problem}{where}).") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VarsError(f"Input type `{type(value).__name__}` is not a dictionary")
    return value


def vars_text(value: Any) -> str:
    """What to store for a vars field: text verbatim, a mapping as JSON text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value) if value else ""
    return str(value)

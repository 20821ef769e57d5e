"""Variables as AWX stores them: YAML or JSON text of a mapping, kept verbatim.

``parse_vars`` is the one parser (inventories, hosts, groups, templates, launch prompts, and
every place stored variables are read back); errors name the line, because a user editing 200
lines of YAML needs to know where.

Bounded work: YAML aliases let 600 bytes describe billions of nodes ("billion laughs"). The
Python value stays small (aliases share objects) but every consumer that serializes it — the
job's ``hosts.json``, ``extravars.json``, the ``script`` endpoint — expands it. So the loader
weighs every node as it is composed, counting an alias as a full copy of what it names, and
stops as soon as the expanded weight passes the allowance: the work done is proportional to
the text, never to the expansion. Nesting depth is bounded too (deep nesting exhausts the
stack of the parser, or later of ``json.dumps``).
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import APIError

# What aliases may add beyond the text itself, in weight units (one per node plus one per
# character of a scalar): the larger of a fixed floor and a multiple of the text's length,
# so a long legitimate document may reuse its anchors proportionally.
MAX_ALIAS_EXPANSION = 100_000
ALIAS_EXPANSION_RATIO = 10
MAX_DEPTH = 64          # as request bodies (validation.MAX_JSON_DEPTH)


class VarsError(ValueError):
    """The text is not a YAML/JSON mapping; ``str(exc)`` is the message for the user."""


class VarsTooLarge(VarsError, APIError):
    """The text expands beyond the bound (aliases) or nests too deeply.

    A ``VarsError`` (validation turns it into ``{"<field>": [message]}``) and an ``APIError``
    (400 ``{"detail": message}``) for a stored text that reaches a reader with no field to
    name, such as a launch of a template stored before the bound existed."""

    def __init__(self, message: str) -> None:
        APIError.__init__(self, {"detail": message}, status=400)
        self.message = message

    def __str__(self) -> str:
        return self.message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that weighs nodes while composing (see the module docstring)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.allowance = max(MAX_ALIAS_EXPANSION, ALIAS_EXPANSION_RATIO * len(text))
        self.own = 0                        # weight of the nodes the text itself holds
        self.depth = 0
        self.weights: dict[int, int] = {}   # id(node) -> expanded weight (nodes live until the load ends)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        is_alias = self.check_event(AliasEvent)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise VarsTooLarge(f"Variables nest deeper than {MAX_DEPTH} levels.")
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if is_alias:
            if id(node) not in self.weights:   # an alias inside the node it names
                raise VarsTooLarge("Variables must not contain recursive aliases.")
            return node
        self._weigh(node)
        return node

    def _weigh(self, node: Node) -> None:
        """Record the node's expanded weight; refuse once aliases add more than the allowance."""
        if isinstance(node, ScalarNode):
            weight = len(node.value) + 1
            self.own += weight
        else:
            self.own += 1
            if isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, SequenceNode):
                children = list(node.value)
            else:   # pragma: no cover - PyYAML has no other node kind
                children = []
            weight = 1 + sum(self.weights[id(child)] for child in children)
        self.weights[id(node)] = weight
        if weight > self.own + self.allowance:
            raise VarsTooLarge(
                f"Variables expand beyond the allowed size: YAML aliases may add at most {self.allowance} "
                "nodes and characters to the document.")


def _load_yaml(text: str) -> Any:
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _check_depth(value: Any) -> None:
    """Refuse a parsed JSON value nested deeper than MAX_DEPTH (iterative: JSON has no
    aliases, so this walk is as long as the text)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > MAX_DEPTH:
                    raise VarsTooLarge(f"Variables nest deeper than {MAX_DEPTH} levels.")
                stack.append((child, depth + 1))


def parse_vars(text: Any) -> dict:
    """Text (or a mapping) -> dict; '' / '---' / None give {}.

    Raises VarsError when the text is no mapping, VarsTooLarge (a VarsError) when it would
    expand beyond the bound or nests too deeply — before doing work beyond the text's size."""
    if text is None:
        return {}
    if isinstance(text, dict):
        _check_depth(text)
        return text
    if not isinstance(text, str):
        raise VarsError("Must be a mapping or YAML/JSON text.")
    if not text.strip() or text.strip() == "---":
        return {}
    try:
        value = json.loads(text)
        _check_depth(value)
    except RecursionError:
        raise VarsTooLarge(f"Variables nest deeper than {MAX_DEPTH} levels.") from None
    except VarsError:
        raise
    except ValueError as json_exc:
        try:
            value = _load_yaml(text)
        except yaml.YAMLError as yaml_exc:
            mark = getattr(yaml_exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(yaml_exc, "problem", None) or str(yaml_exc)
            raise VarsError(f"Cannot parse as JSON (error: {json_exc}) or YAML (error: {problem}{where}).") from None
        except RecursionError:
            raise VarsTooLarge(f"Variables nest deeper than {MAX_DEPTH} levels.") from None
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


def json_mapping(value: Any) -> dict:
    """A JSON object as a dict: a dict is returned as it is, text holding a JSON object is
    parsed; anything else (empty or invalid text, another JSON type, ``None``) gives ``{}``.
    For JSON columns and bodies that are read leniently (the strict parser is ``parse_vars``)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}

"""Inventory lists filtered on AWX's computed counters (``?total_hosts__gt=0``,
``?has_active_failures=true`` ...): AWX stores them on the inventory row, so its query language
filters on them; here they are computed, so this ``list_filter`` hook answers those keys.

A regular inventory's counter is a SQL expression (``store/host_jobs.inventory_counter_sql``);
a smart inventory's hosts are its filter's matches, so its counters are computed as the
serializer computes them (:func:`.inventory_contents.counters`) and the matching ids passed in.

Supported: ``<counter>``, ``<counter>__exact|gt|gte|lt|lte`` and their ``not__`` forms.
"""
from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Callable

from .. import access
from ..query.values import QueryError, parse_int64, to_bool
from ..store import host_jobs
from . import inventory_contents

if TYPE_CHECKING:
    from ..context import Context

COUNTERS = {"total_hosts": "integer", "hosts_with_active_failures": "integer", "total_groups": "integer",
            "total_inventory_sources": "integer", "inventory_sources_with_failures": "integer",
            "has_active_failures": "boolean", "has_inventory_sources": "boolean", "pending_deletion": "boolean"}
_OPS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "": ("=", operator.eq), "exact": ("=", operator.eq), "gt": (">", operator.gt), "gte": (">=", operator.ge),
    "lt": ("<", operator.lt), "lte": ("<=", operator.le)}


def _keys() -> tuple[str, ...]:
    return tuple(f"{neg}{name}{'__' + op if op else ''}"
                 for name in COUNTERS for op in _OPS for neg in ("", "not__"))


def _parse(key: str) -> tuple[bool, str, str]:
    negate = key.startswith("not__")
    rest = key[len("not__"):] if negate else key
    name, _, op = rest.partition("__")
    return negate, name, op


def _value(name: str, text: str) -> Any:
    if COUNTERS[name] == "boolean":
        return to_bool(text)
    try:
        return parse_int64(text)
    except ValueError:
        raise QueryError(f"Enter a whole number. ({name}={text!r})") from None


def counters_filter(ctx: Context, args: list[tuple[str, str]]) -> tuple[str, list] | None:
    """``list_filter`` of inventories: (sql, params) over ``inventories`` for the counter keys
    of ``args`` (all must hold), or None when there are none."""
    wanted = [(key, value) for key, value in args if key in KEYS]
    if not wanted:
        return None
    # a smart inventory's counters are its filter's matches: computed for the ones the user sees
    smart = host_jobs.smart_inventories(ctx.store, access.visibility(ctx, ctx.registry["inventory"]))
    smart_counts = inventory_contents.counters(ctx, smart) if smart else {}
    terms, params = [], []
    for key, text in wanted:
        negate, name, op = _parse(key)
        value = _value(name, text)
        sql_op, test = _OPS[op]
        matching = [pk for pk, counts in smart_counts.items() if test(counts[name], value)]
        term, term_params = host_jobs.counter_term(name, sql_op, int(value), matching)
        terms.append(f"NOT {term}" if negate else term)
        params += term_params
    return " AND ".join(terms), params


KEYS = frozenset(_keys())
counters_filter.keys = KEYS  # type: ignore[attr-defined]   # crud.list_filter_keys: ours, not the query language's

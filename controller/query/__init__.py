"""AWX's query-string filter language compiled to parameterized SQLite SQL.

``compile_query`` turns the list-view query string (``?name__icontains=x&or__id=3&order_by=-name``)
into a WHERE expression, its parameters and an ORDER BY body over one resource's table.
Semantics follow AWX / django-ansible-base ``FieldLookupBackend``, ``OrderByBackend``,
``TypeFilterBackend`` and DRF's ``SearchFilter`` (see the reference, section 4).

Contracts:
  * values only ever travel as ``?`` parameters; identifiers come from the registry and are
    always double-quoted;
  * relations are compiled as ``IN (SELECT ...)`` subqueries, never joins, so the result has
    no duplicate rows and needs no DISTINCT (``Compiled.distinct`` only says AWX would have
    used one);
  * every subquery uses a private alias (``"_q1"`` ...); the top level refers to the table by
    its quoted name, so callers (and ``role_level_sql``) can do the same;
  * a trigram index given in ``text_index`` serves substring tests: the rows found are
    exactly those found without it;
  * a compiled query is kept per registry and served again for the same arguments (a copy
    each time): compiling depends on nothing else, except a ``role_level`` filter;
  * ``QueryError`` maps to HTTP 400 and ``ForbiddenFilter`` to 403, both ``{"detail": msg}``.

The package: ``values`` (the integer parser, errors, value conversions), ``compiler`` (paths,
terms, ordering), ``text`` (text lookups and their index narrowing), ``search`` (``search=``
and ``<rel>__search``); this module is its public face.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable, Collection, Mapping

from ..registry import Registry, Resource
from .compiler import Compiler
from .search import RELATED_SEARCH_FIELDS, related_search_clauses, search_clauses
from .values import INT64_MAX, ForbiddenFilter, QueryError, parse_int64

__all__ = ["QueryError", "ForbiddenFilter", "Compiled", "RESERVED", "LOOKUPS", "INT64_MAX",
           "RELATED_SEARCH_FIELDS", "TextIndex", "compile_query", "parse_int64"]


@dataclass
class Compiled:
    where: str
    params: list
    order_by: str
    distinct: bool = False


RESERVED = {"page", "page_size", "format", "order", "order_by", "search", "type", "host_filter",
            "count_disabled", "no_truncate", "limit", "validate", "role_level"}

LOOKUPS = ("exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
           "iendswith", "regex", "iregex", "gt", "gte", "lt", "lte", "in", "isnull", "search")
RoleLevelSQL = Callable[[str], "tuple[str, list]"]
# {table: (FTS5 trigram table, its columns)}: the indexes the store keeps (store.search)
TextIndex = Mapping[str, "tuple[str, frozenset[str]]"]


def _split_lookup(key: str) -> tuple[str, str]:
    if "__" in key and key.rsplit("__", 1)[1] in LOOKUPS:
        path, lookup = key.rsplit("__", 1)
    else:
        path, lookup = key, "exact"
    if not path:
        raise QueryError("Query string field name not provided.")
    return path, lookup


def _deciding(items: list[tuple[str, str]], unique: str) -> list[tuple[str, str]]:
    """ORDER BY ``items`` (expression, direction) without those that can never decide: an
    expression already sorted on (it only ties where it tied before), and everything after the
    unique ``id``.  Fewer sort keys make smaller sort records (the search page's statement:
    -10 %)."""
    seen: set[str] = set()
    out = []
    for expr, direction in items:
        if expr in seen:
            continue
        seen.add(expr)
        out.append((expr, direction))
        if expr == unique:
            break
    return out


def _check_ascii(key: str) -> None:
    if not key.isascii():
        raise QueryError(f"{key!r} is not an allowed field name. Must be ascii encodable.")


# Compiled queries kept per registry: a list is asked with the same query string again and
# again (each poll of a page, each page of a list), and compiling is ~6 % of a list request.
_KEPT: weakref.WeakKeyDictionary[Registry, dict[tuple, tuple[TextIndex | None, Compiled]]] = \
    weakref.WeakKeyDictionary()
KEPT = 512              # compiled queries kept per registry (all dropped when more would be)
KEY_CHARS = 4096        # a query string longer than this is compiled every time
_PAGING = frozenset({"page", "page_size", "count_disabled"})     # compiling ignores them


def compile_query(registry: Registry, resource: Resource, args: list[tuple[str, str]], *,
                  role_level_sql: RoleLevelSQL | None = None,
                  extra_reserved: Collection[str] = frozenset(),
                  text_index: TextIndex | None = None) -> Compiled:
    """:func:`compile_uncached`'s answer, kept for the same resource, arguments, reserved keys
    and index (a ``role_level`` filter, whose SQL depends on the user, is compiled every time).
    Each answer is the caller's own copy."""
    if (registry.by_plural(resource.plural) is not resource or any(k == "role_level" for k, _ in args)
            or sum(len(k) + len(v) for k, v in args) > KEY_CHARS):
        return compile_uncached(registry, resource, args, role_level_sql=role_level_sql,
                                extra_reserved=extra_reserved, text_index=text_index)
    kept = _KEPT.get(registry)
    if kept is None:
        kept = _KEPT.setdefault(registry, {})
    key = (resource.plural, len(resource.fields), len(resource.relations),   # a resource changed in place
           tuple(a for a in args if a[0] not in _PAGING), frozenset(extra_reserved), id(text_index))
    hit = kept.get(key)
    if hit is None or hit[0] is not text_index:     # the index is held, so its id is not reused
        compiled = compile_uncached(registry, resource, args, extra_reserved=extra_reserved,
                                    text_index=text_index)
        if len(kept) >= KEPT:
            kept.clear()
        hit = kept[key] = (text_index, compiled)
    c = hit[1]
    return Compiled(c.where, list(c.params), c.order_by, c.distinct)


def compile_uncached(registry: Registry, resource: Resource, args: list[tuple[str, str]], *,
                     role_level_sql: RoleLevelSQL | None = None,
                     extra_reserved: Collection[str] = frozenset(),
                     text_index: TextIndex | None = None) -> Compiled:
    """Compile query-string pairs (in order, repeats allowed) for a list of ``resource``.

    Keys in ``extra_reserved`` are ignored entirely (even built-in ones such as ``type``,
    so a polymorphic view can handle them itself).  ``role_level_sql(role_field)`` returns
    ``(sql, params)`` over the resource's quoted table name; ``None`` means no restriction.
    ``text_index`` names the trigram indexes that exist in the database the SQL will run on
    (None: none is used).  Raises :class:`QueryError` (400) or :class:`ForbiddenFilter` (403).
    """
    c = Compiler(registry, resource, text_index)
    outer = f'"{resource.table}"'
    grouped: dict[str, list[str]] = {}  # QueryDict.lists(): first-seen key order, all values
    for k, v in args:
        if k not in extra_reserved:
            grouped.setdefault(k, []).append(v)

    ands: list[tuple[str, list]] = []
    ors: list[tuple[str, list]] = []

    def add(bucket: list, sql: str, params: list, negate: bool) -> None:
        # COALESCE keeps NOT two-valued: a NULL comparison must count as "not matching".
        bucket.append((f"NOT COALESCE(({sql}), 0)" if negate else f"({sql})", params))

    # TypeFilterBackend: a plain list answers all or nothing (last value wins, as AWX).
    if "type" in grouped:
        if resource.name not in grouped["type"][-1].split(","):
            ands.append(("0", []))

    search_terms: list[tuple[str, str]] = []  # (relation path, term)
    search_and = False
    role_levels: list[str] = []
    for key, values in grouped.items():
        if key == "role_level":
            role_levels.append(values[0])
            continue
        if key in RESERVED:
            continue
        if key.endswith("__search"):
            _check_ascii(key)
            path, _ = _split_lookup(key)
            if values and "," in values[0]:
                search_and = True
                values = [t for v in values for t in v.split(",")]
            last = c.resolve(resource, path)[-1]
            if last.kind == "col":
                raise QueryError(f"{path} is not searchable")
            search_terms += [(path, v) for v in values]
            continue
        q_or = key.startswith("or__")
        if key.startswith("chain__") or q_or:  # chain__ == plain: every term is its own subquery
            key = key.split("__", 1)[1]
        q_not = key.startswith("not__")
        if q_not:
            key = key[5:]
        _check_ascii(key)
        path, lookup = _split_lookup(key)
        for value in values:
            sql, params = c.term(path, lookup, value, outer=outer)
            add(ors if q_or else ands, sql, params, q_not)

    if role_levels:
        if not resource.has_roles:
            raise QueryError("Cannot apply role_level filter to this list because its model "
                             "does not use roles for access control.")
        if role_level_sql is not None:
            for rl in role_levels:
                sql, params = role_level_sql(rl)
                ands.append((f"({sql})", list(params)))
    if ors:
        ands.append(("(" + " OR ".join(s for s, _ in ors) + ")", [p for _, ps in ors for p in ps]))
    if search_terms:
        per_term = related_search_clauses(c, resource, search_terms, outer)
        c.distinct = True
        if search_and:
            ands += per_term
        else:
            ands.append(("(" + " OR ".join(s for s, _ in per_term) + ")",
                         [p for _, ps in per_term for p in ps]))

    if "search" in grouped and resource.search_fields:
        ands += search_clauses(c, resource, grouped["search"][-1], outer)

    order_spec: str | None = None
    for k, v in args:
        if k in ("order", "order_by") and k not in extra_reserved:
            order_spec = v  # the last one wins, as AWX
    wanted = [s.strip() for s in (order_spec or "").split(",") if s.strip()]
    order: list[tuple[str, str]] = []
    for i, spec in enumerate(wanted + list(resource.ordering)):
        if spec not in ("type", "-type"):  # only meaningful on polymorphic lists
            # the default ordering sorts an FK by its id (index-friendly); an explicit
            # order_by=<fk> sorts by the target's own ordering, as Django does
            order += c.order_items(spec, outer, expand=i < len(wanted))
    order.append((f'{outer}."id"', "ASC"))  # deterministic pagination
    order = _deciding(order, f'{outer}."id"')

    where = " AND ".join(s for s, _ in ands) if ands else "1"
    params = [p for _, ps in ands for p in ps]
    order_by = ", ".join(f"{expr} {direction}" for expr, direction in order)
    return Compiled(where=where, params=params, order_by=order_by, distinct=c.distinct)

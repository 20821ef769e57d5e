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
  * ``QueryError`` maps to HTTP 400 and ``ForbiddenFilter`` to 403, both ``{"detail": msg}``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Collection

from .registry import Field, Registry, Resource

__all__ = ["QueryError", "ForbiddenFilter", "Compiled", "RESERVED", "compile_query", "parse_int64"]
INT64_MAX = 2 ** 63 - 1     # SQLite binds nothing wider: a bigger int is OverflowError at execute time


def parse_int64(text: str) -> int:
    """``text`` as a signed 64-bit integer written in ASCII digits, else ``ValueError``.

    The one integer parser for user input (path ids, filter values, paging, line numbers):
    ``int()`` alone takes Unicode digits (``"١"``) and ``_`` separators, and returns values
    SQLite cannot bind.  Surrounding whitespace and one sign are accepted, as ``int()`` does.
    """
    body = text.strip()
    digits = body[1:] if body[:1] in ("+", "-") else body
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a 64-bit integer: {text!r}")
    value = int(body)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"not a 64-bit integer: {text!r}")
    return value


class QueryError(Exception):
    """A malformed filter/order: HTTP 400 ``{"detail": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ForbiddenFilter(Exception):
    """Filtering/ordering on a protected field: HTTP 403 ``{"detail": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
RELATED_SEARCH_FIELDS = ("username", "first_name", "last_name", "email", "name", "description",
                         "playbook")
_TEXT_KINDS = {"string", "text", "choice", "email", "json", "vars", "password"}
_REL_LOOKUPS = {"exact", "gt", "gte", "lt", "lte", "in", "isnull"}
RoleLevelSQL = Callable[[str], "tuple[str, list]"]


@dataclass
class _Step:
    """One resolved path component.

    kind: ``col`` (scalar column), ``fk`` (forward FK column), ``rev`` (children whose ``fk``
    column points here), ``m2m`` (association ``table``/``left``/``right``).
    """

    kind: str
    name: str
    vkind: str = "rel"           # value kind for a terminal step (field kind, "rel" for relations)
    target: Resource | None = None
    column: str = ""             # col/fk: column on the current table; rev: FK column on target
    table: str = ""              # m2m association table
    left: str = ""
    right: str = ""
    nullable: bool = False

    @property
    def target_table(self) -> str:
        """The table of the resource a relation step leads to (fk, rev and m2m steps have one)."""
        assert self.target is not None, self.name
        return self.target.table


def _dj_error(message: str) -> QueryError:
    # Django ValidationError messages reach the client JSON-dumped (DAB does json.dumps(e.messages)).
    return QueryError(json.dumps([message], ensure_ascii=False))


def _to_bool(value: str, allow_none: bool = False) -> bool | None:
    low = str(value).lower()
    if low in ("true", "1", "t"):
        return True
    if low in ("false", "0", "f"):
        return False
    if allow_none and low in ("none", "null"):
        return None
    raise QueryError(f'Unable to convert "{value}" to boolean')


def _to_datetime(value: str) -> str:
    """Normalize to the stored form (UTC, 6-digit microseconds, ``Z``) so text comparison works."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _dj_error(f"“{value}” value has an invalid format. It must be in "
                        "YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)  # naive values are read as UTC (TIME_ZONE=UTC)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _field_vkind(field: Field) -> str:
    if field.kind == "choice" and field.choices and isinstance(field.choices[0][0], int):
        return "integer"  # same rule as the store's column typing
    return field.kind


class _Compiler:
    """Per-call state: alias counter and the ``distinct`` flag."""

    def __init__(self, registry: Registry, resource: Resource) -> None:
        self.registry = registry
        self.resource = resource
        self.n = 0
        self.distinct = False

    def alias(self) -> str:
        self.n += 1
        return f'"_q{self.n}"'

    # -- path resolution --------------------------------------------------------------
    def resolve(self, resource: Resource, path: str) -> list[_Step]:
        """Resolve ``a__b__c`` against ``resource``; raises the AWX errors for bad paths."""
        steps: list[_Step] = []
        seen: set[tuple[str, str]] = set()
        current: Resource | None = resource
        for name in path.split("__"):
            if current is None:
                raise QueryError(f"No related model for field {name}.")
            step = self.step(current, name)
            key = (current.name, step.name)
            if key in seen:  # same field twice could build unbounded subqueries
                raise QueryError(f"Loops not allowed in filters, detected on field {step.name}.")
            seen.add(key)
            steps.append(step)
            current = step.target
        return steps

    def step(self, res: Resource, name: str) -> _Step:
        if name in ("pk", "id"):
            return _Step("col", "id", "integer", column="id")
        fld = res.field(name)
        if fld is not None and not fld.stored and fld.forbidden_filter:
            # computed secrets (a token's plaintext) are refused like stored ones, not "unknown"
            raise ForbiddenFilter(f"Filtering on {name} is not allowed.")
        if fld is not None and fld.stored:
            if fld.prevent_search or fld.kind == "password":
                raise ForbiddenFilter(f"Filtering on {name} is not allowed.")
            if fld.secret:
                raise ForbiddenFilter(f"Filtering on field {name} is not allowed.")
            if fld.filterable:
                if fld.kind == "id":
                    return _Step("fk", name, target=self.registry.get(fld.fk or ""), column=name)
                return _Step("col", name, _field_vkind(fld), column=name, nullable=fld.null)
        elif fld is None and res.timestamps:
            if name in ("created", "modified"):
                return _Step("col", name, "datetime", column=name)
            if name in ("created_by", "modified_by") and self.registry.get("user"):
                return _Step("fk", name, target=self.registry.get("user"), column=name)
        if fld is None:
            rel = res.relation(name)
            if rel is not None and rel.kind == "m2m":
                table, left, right = rel.key.split(":")
                return _Step("m2m", name, target=self.registry.get(rel.target), table=table,
                             left=left, right=right)
            for child, cfld in self.registry.reverse_fks(res.name):
                named = next((r.name for r in res.relations if r.kind == "reverse_fk"
                              and r.target == child.name and r.key == cfld.name), child.plural)
                if named == name:
                    return _Step("rev", name, target=child, column=cfld.name)
        raise QueryError(f"{res.model_name} has no field named '{name}'")

    # -- SQL building -----------------------------------------------------------------
    def wrap(self, steps: list[_Step], alias: str, leaf: Callable[[str], str],
             null_ok: bool) -> str:
        """SQL for ``steps`` evaluated on ``alias``; ``leaf(column_sql)`` builds the test.

        ``null_ok`` (isnull=True / exact None) also accepts rows whose chain is broken, which
        is what Django's LEFT OUTER JOINs give for those lookups.
        """
        step, rest = steps[0], steps[1:]
        if step.kind == "col":
            return leaf(f'{alias}."{step.column}"')
        if step.kind == "fk":
            col = f'{alias}."{step.column}"'
            if not rest:
                return leaf(col)
            a = self.alias()
            sub = (f'{col} IN (SELECT {a}."id" FROM "{step.target_table}" {a} '
                   f'WHERE {self.wrap(rest, a, leaf, null_ok)})')
            return f"({col} IS NULL OR {sub})" if null_ok else sub
        self.distinct = True  # multi-valued: AWX would add .distinct()
        a = self.alias()
        if step.kind == "rev":
            inner = self.wrap(rest, a, leaf, null_ok) if rest else leaf(f'{a}."id"')
            base = (f'SELECT {a}."{step.column}" FROM "{step.target_table}" {a} '
                    f'WHERE {a}."{step.column}" IS NOT NULL')
            sub = f'{alias}."id" IN ({base} AND {inner})'
        else:
            if rest:
                b = self.alias()
                inner = (f'{a}."{step.right}" IN (SELECT {b}."id" FROM "{step.target_table}" {b} '
                         f'WHERE {self.wrap(rest, b, leaf, null_ok)})')
            else:
                inner = leaf(f'{a}."{step.right}"')
            base = f'SELECT {a}."{step.left}" FROM "{step.table}" {a}'
            sub = f'{alias}."id" IN ({base} WHERE {inner})'
        return f'({alias}."id" NOT IN ({base}) OR {sub})' if null_ok else sub

    def term(self, path: str, lookup: str, value: str, *, outer: str) -> tuple[str, list]:
        """One ``path__lookup=value`` filter as (sql, params) on the table aliased ``outer``."""
        steps = self.resolve(self.resource, path)
        last = steps[-1]
        vkind = last.vkind if last.kind == "col" else "rel"
        fname, nullable = last.name, last.nullable
        is_text = vkind in _TEXT_KINDS

        def conv(v: str):
            if vkind == "rel":
                if v.lower() in ("none", "null"):
                    return None
                try:
                    return parse_int64(v)
                except ValueError:
                    raise QueryError(f"Invalid {fname} id: {v}") from None
            if vkind == "boolean":
                return _to_bool(v, allow_none=nullable)
            if vkind in ("integer", "float"):
                try:
                    return parse_int64(v) if vkind == "integer" else float(v)
                except ValueError:
                    raise _dj_error(f"“{v}” value must be {'an integer' if vkind == 'integer' else 'a float'}.") \
                        from None
            if vkind == "datetime":
                return _to_datetime(v)
            return v

        if lookup == "iexact" and not is_text:  # checked first, as DAB does
            raise QueryError(f"{fname} is not a text field and cannot be filtered by "
                             "case-insensitive search")
        if vkind == "rel" and lookup not in _REL_LOOKUPS:
            raise QueryError(f"Related Field got invalid lookup: {lookup}")
        params: list = []
        null_ok = False
        if lookup == "isnull":
            flag = _to_bool(value)
            null_ok = bool(flag)
            leaf = (lambda c: f"{c} IS NULL") if flag else (lambda c: f"{c} IS NOT NULL")
        elif lookup == "in":
            if not value:
                raise QueryError("cannot provide empty value for __in")
            items = [x for x in (conv(v) for v in value.split(",")) if x is not None]
            params = items  # like Django, None members are dropped; none left -> no match
            marks = ", ".join("?" * len(items))
            leaf = (lambda c: f"{c} IN ({marks})") if items else (lambda c: "0")
        elif lookup in ("exact", "gt", "gte", "lt", "lte"):
            v = conv(value)
            if v is None:
                if lookup != "exact":
                    raise QueryError("Cannot use None as a query value")
                null_ok = True
                leaf = lambda c: f"{c} IS NULL"  # noqa: E731
            else:
                op = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[lookup]
                params = [int(v) if isinstance(v, bool) else v]
                leaf = lambda c: f"{c} {op} ?"  # noqa: E731
        else:  # text lookups; non-text columns are compared through their text form
            if lookup in ("regex", "iregex"):
                try:
                    re.compile(value)
                except re.error as e:
                    raise QueryError(str(e.args[0])) from None
            txt = (lambda c: c) if is_text else (lambda c: f"CAST({c} AS TEXT)")
            n, ci = len(value), lookup.startswith("i")
            base = lookup[1:] if ci else lookup
            low = (lambda c: f"lower({txt(c)})") if ci else txt
            if base == "exact":
                params, leaf = [value], (lambda c: f"{low(c)} = lower(?)")
            elif base == "contains" and ci:
                # LIKE folds ASCII case exactly as lower() does, and is 2-3x faster than instr(lower())
                params, leaf = ["%" + _like_escape(value) + "%"], (lambda c: f"{txt(c)} LIKE ? ESCAPE '\\'")
            elif base == "contains":  # instr(), not LIKE: LIKE is case-insensitive in SQLite
                params = [value]
                leaf = (lambda c: f"instr({txt(c)}, ?) > 0")  # noqa: E731
            elif base == "startswith" and ci:
                params, leaf = [_like_escape(value) + "%"], (lambda c: f"{txt(c)} LIKE ? ESCAPE '\\'")
            elif base == "startswith":
                params = [n, value]
                leaf = (lambda c: f"substr({txt(c)}, 1, ?) = ?")  # noqa: E731
            elif base == "endswith":
                params = [n, n, value]
                fn = "lower(?)" if ci else "?"
                leaf = lambda c: (f"(length({low(c)}) >= ? AND "  # noqa: E731
                                  f"substr({low(c)}, length({low(c)}) - ? + 1) = {fn})")
            else:  # regex / iregex through the regexp(pattern, value) function the store registers
                params = [("(?i)" + value) if lookup == "iregex" else value]
                leaf = lambda c: f"regexp(?, {txt(c)})"  # noqa: E731
        return self.wrap(steps, outer, leaf, null_ok), params

    # -- ordering ---------------------------------------------------------------------
    def order_expr(self, steps: list[_Step], alias: str) -> str:
        """A scalar SQL expression for a forward-only path (correlated subqueries per FK)."""
        step, rest = steps[0], steps[1:]
        if step.kind in ("rev", "m2m"):
            raise QueryError(f"Cannot order by multi-valued relation {step.name}.")
        if not rest:
            return f'{alias}."{step.column}"'
        a = self.alias()
        return (f'(SELECT {self.order_expr(rest, a)} FROM "{step.target_table}" {a} '
                f'WHERE {a}."id" = {alias}."{step.column}")')

    def order_items(self, spec: str, outer: str, expand: bool = True) -> list[str]:
        desc = spec.startswith("-")
        steps = self.resolve(self.resource, spec.lstrip("-"))
        last = steps[-1]
        # Ordering by an FK means ordering by the target's own default ordering (Django).
        if expand and last.kind == "fk" and last.target is not None \
                and tuple(last.target.ordering) not in ((), ("id",), ("pk",)):
            prefix = spec.lstrip("-")
            out: list[str] = []
            for o in (o for o in last.target.ordering if o.lstrip("-") != "type"):
                sub_desc = desc != o.startswith("-")
                out += self.order_items(("-" if sub_desc else "") + prefix + "__" + o.lstrip("-"),
                                        outer, expand=False)
            return out
        expr = self.order_expr(steps, outer)
        if len(steps) == 1 and last.kind == "col" and not last.nullable:
            return [f"{expr} {'DESC' if desc else 'ASC'}"]   # no NULLs: keep the index usable
        # PostgreSQL (AWX) puts NULLs last ascending and first descending.
        return [f"{expr} DESC NULLS FIRST" if desc else f"{expr} ASC NULLS LAST"]


def _like_escape(value: str) -> str:
    """A literal for LIKE ... ESCAPE '\\': %, _ and the escape itself lose their meaning."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _split_lookup(key: str) -> tuple[str, str]:
    if "__" in key and key.rsplit("__", 1)[1] in LOOKUPS:
        path, lookup = key.rsplit("__", 1)
    else:
        path, lookup = key, "exact"
    if not path:
        raise QueryError("Query string field name not provided.")
    return path, lookup


def _check_ascii(key: str) -> None:
    if not key.isascii():
        raise QueryError(f"{key!r} is not an allowed field name. Must be ascii encodable.")


def compile_query(registry: Registry, resource: Resource, args: list[tuple[str, str]], *,
                  role_level_sql: RoleLevelSQL | None = None,
                  extra_reserved: Collection[str] = frozenset()) -> Compiled:
    """Compile query-string pairs (in order, repeats allowed) for a list of ``resource``.

    Keys in ``extra_reserved`` are ignored entirely (even built-in ones such as ``type``,
    so a polymorphic view can handle them itself).  ``role_level_sql(role_field)`` returns
    ``(sql, params)`` over the resource's quoted table name; ``None`` means no restriction.
    Raises :class:`QueryError` (400) or :class:`ForbiddenFilter` (403).
    """
    c = _Compiler(registry, resource)
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
        per_term: list[tuple[str, list]] = []
        for path, term in search_terms:
            target = c.resolve(resource, path)[-1].target
            names = [f.name for f in target.fields
                     if f.stored and f.name in RELATED_SEARCH_FIELDS] if target else []
            parts = [c.term(f"{path}__{n}", "icontains", term, outer=outer) for n in names]
            # no searchable field on the target: Django's empty Q() -> no restriction
            per_term.append(("(" + " OR ".join(s for s, _ in parts) + ")" if parts else "1",
                             [p for _, ps in parts for p in ps]))
        c.distinct = True
        if search_and:
            ands += per_term
        else:
            ands.append(("(" + " OR ".join(s for s, _ in per_term) + ")",
                         [p for _, ps in per_term for p in ps]))

    # DRF SearchFilter: terms split on whitespace/commas; each term must hit some search field.
    if "search" in grouped and resource.search_fields:
        for term in grouped["search"][-1].replace("\x00", "").replace(",", " ").split():
            parts = [c.term(f, "icontains", term, outer=outer) for f in resource.search_fields]
            ands.append(("(" + " OR ".join(s for s, _ in parts) + ")",
                         [p for _, ps in parts for p in ps]))

    order_spec: str | None = None
    for k, v in args:
        if k in ("order", "order_by") and k not in extra_reserved:
            order_spec = v  # the last one wins, as AWX
    wanted = [s.strip() for s in (order_spec or "").split(",") if s.strip()]
    order: list[str] = []
    for i, spec in enumerate(wanted + list(resource.ordering)):
        if spec not in ("type", "-type"):  # only meaningful on polymorphic lists
            # the default ordering sorts an FK by its id (index-friendly); an explicit
            # order_by=<fk> sorts by the target's own ordering, as Django does
            order += c.order_items(spec, outer, expand=i < len(wanted))
    order.append(f'{outer}."id" ASC')  # deterministic pagination

    where = " AND ".join(s for s, _ in ands) if ands else "1"
    params = [p for _, ps in ands for p in ps]
    return Compiled(where=where, params=params, order_by=", ".join(order), distinct=c.distinct)

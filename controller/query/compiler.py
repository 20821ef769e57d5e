"""Path resolution and the SQL of one filter term or one ordering item (the per-call state of
:func:`controller.query.compile_query`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..registry import Field, Registry, Resource
from .text import Leaf, Narrowing, indexable, text_test
from .values import ForbiddenFilter, QueryError, dj_error, parse_int64, to_bool, to_datetime

_TEXT_KINDS = {"string", "text", "choice", "email", "json", "vars", "password"}
_REL_LOOKUPS = {"exact", "gt", "gte", "lt", "lte", "in", "isnull"}


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
    owner: str = ""              # col: the table the column lives in

    @property
    def target_table(self) -> str:
        """The table of the resource a relation step leads to (fk, rev and m2m steps have one)."""
        assert self.target is not None, self.name
        return self.target.table


def _field_vkind(field: Field) -> str:
    if field.kind == "choice" and field.choices and isinstance(field.choices[0][0], int):
        return "integer"  # same rule as the store's column typing
    return field.kind


class Compiler:
    """Per-call state: alias counter, the ``distinct`` flag and the trigram indexes
    (``{table: (fts table, indexed columns)}``) that may narrow substring tests."""

    def __init__(self, registry: Registry, resource: Resource,
                 text_index: Mapping[str, tuple[str, frozenset[str]]] | None = None) -> None:
        self.registry = registry
        self.resource = resource
        self.text_index = text_index or {}
        self.n = 0
        self.distinct = False

    def alias(self) -> str:
        self.n += 1
        return f'"_q{self.n}"'

    def narrowing(self, table: str, column: str = "") -> Narrowing | None:
        """The trigram index of ``table`` able to narrow a test on ``column`` (any of its
        indexed columns when ``column`` is empty), or None."""
        entry = self.text_index.get(table)
        if entry is None or (column and column not in entry[1]):
            return None
        return Narrowing(entry[0], column)

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
            return _Step("col", "id", "integer", column="id", owner=res.table)
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
                return _Step("col", name, _field_vkind(fld), column=name, nullable=fld.null, owner=res.table)
        elif fld is None and res.timestamps:
            if name in ("created", "modified"):
                return _Step("col", name, "datetime", column=name, owner=res.table)
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
            for owner, rel in self.registry.reverse_m2m(res.name):
                if rel.reverse_name == name:     # the association read backwards (a group's parents)
                    table, left, right = rel.key.split(":")
                    return _Step("m2m", name, target=owner, table=table, left=right, right=left)
        raise QueryError(f"{res.model_name} has no field named '{name}'")

    # -- SQL building -----------------------------------------------------------------
    def wrap(self, steps: list[_Step], alias: str, leaf: Leaf, null_ok: bool) -> str:
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

    def term(self, path: str, lookup: str, value: str, *, outer: str,
             narrow: bool = True) -> tuple[str, list]:
        """One ``path__lookup=value`` filter as (sql, params) on the table aliased ``outer``.
        ``narrow``: a substring test may use the column's trigram index (False when the
        caller narrows the whole search itself)."""
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
                return to_bool(v, allow_none=nullable)
            if vkind in ("integer", "float"):
                try:
                    return parse_int64(v) if vkind == "integer" else float(v)
                except ValueError:
                    raise dj_error(f"“{v}” value must be {'an integer' if vkind == 'integer' else 'a float'}.") \
                        from None
            if vkind == "datetime":
                return to_datetime(v)
            return v

        if lookup == "iexact" and not is_text:  # checked first, as DAB does
            raise QueryError(f"{fname} is not a text field and cannot be filtered by "
                             "case-insensitive search")
        if vkind == "rel" and lookup not in _REL_LOOKUPS:
            raise QueryError(f"Related Field got invalid lookup: {lookup}")
        params: list = []
        null_ok = False
        leaf: Leaf
        if lookup == "isnull":
            flag = to_bool(value)
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
            index = None
            if narrow and last.kind == "col" and lookup in ("contains", "icontains") and indexable(value):
                index = self.narrowing(last.owner, last.column)
            params, leaf = text_test(lookup, value, is_text, index)
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

    def order_items(self, spec: str, outer: str, expand: bool = True) -> list[tuple[str, str]]:
        """ORDER BY items of one ``order_by`` spec, each ``(expression, direction)``."""
        desc = spec.startswith("-")
        steps = self.resolve(self.resource, spec.lstrip("-"))
        last = steps[-1]
        # Ordering by an FK means ordering by the target's own default ordering (Django).
        if expand and last.kind == "fk" and last.target is not None \
                and tuple(last.target.ordering) not in ((), ("id",), ("pk",)):
            prefix = spec.lstrip("-")
            out: list[tuple[str, str]] = []
            for o in (o for o in last.target.ordering if o.lstrip("-") != "type"):
                sub_desc = desc != o.startswith("-")
                out += self.order_items(("-" if sub_desc else "") + prefix + "__" + o.lstrip("-"),
                                        outer, expand=False)
            return out
        expr = self.order_expr(steps, outer)
        if len(steps) == 1 and last.kind == "col" and not last.nullable:
            return [(expr, "DESC" if desc else "ASC")]   # no NULLs: keep the index usable
        # PostgreSQL (AWX) puts NULLs last ascending and first descending.
        return [(expr, "DESC NULLS FIRST") if desc else (expr, "ASC NULLS LAST")]



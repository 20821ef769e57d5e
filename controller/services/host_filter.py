"""AWX smart-inventory ``host_filter`` expressions compiled to SQL over the hosts table.

Grammar (AWX ``awx/main/utils/filters.py::SmartFilter``)::

    expr   := and ("or" and)*
    and    := atom ("and" atom)*
    atom   := "(" expr ")" | term
    term   := key "=" [value]
    key, value := bare word (no whitespace, parentheses, "=" or quotes) | 'quoted' | "quoted"

``and`` binds tighter than ``or``.  Each term is one filter of the AWX query language on
hosts (§4.2 names: ``name=web1``, ``name__icontains=web``, ``groups__name=east``,
``inventory__name="US East"``, ``enabled=true``, ``search=foo``, ``groups__search=bar``;
AWX's legacy ``group__search`` means ``groups__search``) and is compiled by
:func:`controller.query.compile_query`, so values only travel as parameters.

Not supported: ``ansible_facts__a__b=...`` JSON paths (Turret does not store facts yet);
such terms are refused with a clear error.

Contract: :func:`compile_filter` returns ``(sql, params)`` evaluated on the table
``"hosts"`` (usable as a top-level WHERE over it) or raises :class:`HostFilterError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ..query import RESERVED, ForbiddenFilter, QueryError, compile_query

__all__ = ["HostFilterError", "Term", "Op", "parse", "compile_filter"]

_SPECIAL = set("()=\"'")


class HostFilterError(ValueError):
    """An invalid filter; ``message`` is what the API shows."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Term:
    key: str
    value: str


@dataclass(frozen=True)
class Op:
    op: str                      # "and" | "or"
    items: tuple["Node", ...]


Node = Union[Term, Op]


@dataclass(frozen=True)
class _Tok:
    kind: str                    # "(" ")" "=" "word"
    text: str = ""
    quoted: bool = False


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()=":
            out.append(_Tok(c))
            i += 1
        elif c in "\"'":
            end = text.find(c, i + 1)
            if end < 0:
                raise HostFilterError(f"Invalid query {text}")
            out.append(_Tok("word", text[i + 1:end], quoted=True))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            out.append(_Tok("word", text[i:j]))
            i = j
    return out


MAX_DEPTH = 32     # parentheses nest at most this deep: parsing is recursive, input is not trusted


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def fail(self) -> HostFilterError:
        return HostFilterError(f"Invalid query {self.text}")

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def is_op(self, name: str) -> bool:
        tok = self.peek()
        nxt = self.peek(1)
        return (tok is not None and tok.kind == "word" and not tok.quoted and tok.text.lower() == name
                and (nxt is None or nxt.kind != "="))

    def joined(self, op: str, operand: Callable[[], Node]) -> Node:
        """``operand (op operand)*``: one operand alone, or an ``Op`` over all of them."""
        items = [operand()]
        while self.is_op(op):
            self.i += 1
            items.append(operand())
        return items[0] if len(items) == 1 else Op(op, tuple(items))

    def expr(self) -> Node:
        return self.joined("or", self.conj)

    def conj(self) -> Node:
        return self.joined("and", self.atom)

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail()
        if tok.kind == "(":
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise HostFilterError(f"Invalid query {self.text}: parentheses nest deeper than {MAX_DEPTH}.")
            node = self.expr()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.fail()
            self.i += 1
            return node
        eq = self.peek(1)
        if tok.kind != "word" or eq is None or eq.kind != "=":
            raise self.fail()
        self.i += 2
        value = self.peek()
        if value is not None and value.kind == "word":
            self.i += 1
            return Term(tok.text, value.text)
        return Term(tok.text, "")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise self.fail()
        return node


def parse(text: str) -> Node:
    """Parse a filter into a tree of :class:`Term` / :class:`Op`; raises HostFilterError."""
    if not isinstance(text, str) or not text.strip():
        raise HostFilterError("Empty host_filter.")
    return _Parser(text).parse()


def _term_sql(registry, hosts, term: Term) -> tuple[str, list]:
    key = term.key
    if key == "ansible_facts" or key.startswith("ansible_facts__"):
        raise HostFilterError("Filtering on ansible_facts is not supported.")
    if key == "group__search":
        key = "groups__search"
    bare = key.split("__", 1)[1] if key.startswith(("or__", "chain__")) else key
    if key != "search" and (key in RESERVED or bare in RESERVED):
        raise HostFilterError(f"{key} is not a valid host filter.")
    try:
        compiled = compile_query(registry, hosts, [(key, term.value)])
    except (QueryError, ForbiddenFilter) as exc:
        raise HostFilterError(exc.message) from None
    return compiled.where, compiled.params


def _node_sql(registry, hosts, node: Node) -> tuple[str, list]:
    if isinstance(node, Term):
        sql, params = _term_sql(registry, hosts, node)
        return f"({sql})", params
    parts = [_node_sql(registry, hosts, item) for item in node.items]
    joiner = " AND " if node.op == "and" else " OR "
    return "(" + joiner.join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]


def compile_filter(registry, text: str) -> tuple[str, list]:
    """``(sql, params)`` over ``"hosts"`` selecting the hosts the filter matches."""
    return _node_sql(registry, registry["host"], parse(text))

"""The text lookups (``exact/iexact``, ``[i]contains``, ``[i]startswith``, ``[i]endswith``,
``[i]regex``) as SQL tests on one column, optionally narrowed by a trigram index.

A test is ``(params, leaf)``: ``leaf(column_sql)`` is the SQL of the test on a column written
``<alias>."<column>"`` (the compiler always writes columns so), with ``params`` in the order
its ``?`` appear.

Semantics are SQLite's LIKE/``lower()`` ones, which fold ASCII case only; AWX's PostgreSQL
folds more, but the answer must not depend on whether an index exists.  The trigram index
(:class:`Narrowing`, ``controller.store.search``) holds texts folded as ``lower()`` folds them
and matches case-sensitively, so for a term folded the same way (:func:`fold`) it finds exactly
what ``icontains`` (LIKE) finds: it decides ``icontains`` alone, and only narrows the rows a
case-sensitive ``contains`` then tests with ``instr``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .values import QueryError, like_escape

Leaf = Callable[[str], str]
MIN_INDEXED = 3            # the trigram tokenizer finds nothing in a shorter string
_ASCII_LETTERS = re.compile(r"[A-Za-z]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Narrowing:
    """A trigram index able to narrow a test on ``column``: an FTS5 table ``fts`` whose rowid
    is the id of the row and whose column ``column`` holds the row's text (``column`` empty:
    match any column of the index)."""

    fts: str
    column: str = ""


def fold(text: str) -> str:
    """``text`` as SQLite's ``lower()`` gives it: ASCII letters lowered, nothing else (Python's
    ``str.lower`` would lower every alphabet, and so miss a text's ``Ü``)."""
    return text.translate(_ASCII_LOWER)


def phrase(term: str) -> str:
    """The FTS5 phrase that finds ``term`` in the index as LIKE finds it: folded as the index's
    texts are, then quoted literally (quotes doubled; nothing else is special inside a quoted
    string)."""
    return '"' + fold(term).replace('"', '""') + '"'


def indexable(term: str) -> bool:
    """Whether a trigram index can narrow a substring test for ``term``: at least three
    characters, and no NUL (which the tokenizer would end the text at)."""
    return len(term) >= MIN_INDEXED and "\x00" not in term


def index_test(index: Narrowing, row: str) -> str:
    """SQL: the row aliased ``row`` is one the index finds for a phrase (its one ``?``)."""
    target = f'"{index.column}"' if index.column else f'"{index.fts}"'
    return f'{row}."id" IN (SELECT rowid FROM "{index.fts}" WHERE {target} MATCH ?)'


def _owner(col: str) -> str:
    """The row alias of a column written ``<alias>."<column>"``: the index answers with row ids."""
    return col[: col.rindex('."')]


def indexed(index: Narrowing, term: str) -> tuple[list, Leaf]:
    """``icontains`` of ``term`` decided by the trigram index alone (exact: see the module)."""
    return [phrase(term)], (lambda col: index_test(index, _owner(col)))


def narrowed(index: Narrowing, term: str, params: list, leaf: Leaf) -> tuple[list, Leaf]:
    """``leaf`` restricted first to the rows the trigram index finds for ``term``."""
    return [phrase(term), *params], (lambda col: f"({index_test(index, _owner(col))} AND {leaf(col)})")


def contains_test(value: str, ci: bool, is_text: bool) -> tuple[list, Leaf]:
    """``[i]contains``: a case-sensitive substring test is ``instr`` (LIKE ignores case); so is
    a case-insensitive one of a term too short for the trigram index and without an ASCII
    letter (nothing to fold: ``instr`` is about twice as fast as LIKE); otherwise LIKE, which
    folds ASCII case as ``lower()`` does and is 2-3x faster than ``instr(lower())``.  A term the
    index could answer is always LIKE, as the index answers: both stop at a NUL in the text,
    where ``instr`` looks past it."""
    txt = _text(is_text)
    if ci and (_ASCII_LETTERS.search(value) or indexable(value)):
        return ["%" + like_escape(value) + "%"], (lambda c: f"{txt(c)} LIKE ? ESCAPE '\\'")
    return [value], (lambda c: f"instr({txt(c)}, ?) > 0")


def text_test(lookup: str, value: str, is_text: bool, index: Narrowing | None = None) -> tuple[list, Leaf]:
    """The test of a text ``lookup`` with ``value``; non-text columns are compared through
    their text form.  ``index`` narrows ``[i]contains`` when the term is long enough."""
    if lookup in ("regex", "iregex"):
        try:
            re.compile(value)
        except re.error as e:
            raise QueryError(str(e.args[0])) from None
    txt = _text(is_text)
    n, ci = len(value), lookup.startswith("i")
    base = lookup[1:] if ci else lookup
    low: Leaf = (lambda c: f"lower({txt(c)})") if ci else txt
    if base == "exact":
        return [value], (lambda c: f"{low(c)} = lower(?)")
    if base == "contains":
        if index is not None and ci and indexable(value):
            return indexed(index, value)
        params, leaf = contains_test(value, ci, is_text)
        if index is not None and indexable(value):
            return narrowed(index, value, params, leaf)
        return params, leaf
    if base == "startswith" and ci:
        return [like_escape(value) + "%"], (lambda c: f"{txt(c)} LIKE ? ESCAPE '\\'")
    if base == "startswith":
        return [n, value], (lambda c: f"substr({txt(c)}, 1, ?) = ?")
    if base == "endswith":
        fn = "lower(?)" if ci else "?"
        return [n, n, value], (lambda c: f"(length({low(c)}) >= ? AND "
                                         f"substr({low(c)}, length({low(c)}) - ? + 1) = {fn})")
    # regex / iregex through the regexp(pattern, value) function the store registers
    return [("(?i)" + value) if lookup == "iregex" else value], (lambda c: f"regexp(?, {txt(c)})")


def _text(is_text: bool) -> Leaf:
    return (lambda c: c) if is_text else (lambda c: f"CAST({c} AS TEXT)")

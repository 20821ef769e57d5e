"""``search=`` (DRF's SearchFilter over a resource's search fields) and ``<rel>__search``
(AWX's search over a related resource's usual text fields), as WHERE fragments."""
from __future__ import annotations

from ..registry import Resource
from .compiler import Compiler
from .text import index_test, indexable, phrase

# The fields ``<rel>__search`` looks in, when the related resource has them (AWX).
RELATED_SEARCH_FIELDS = ("username", "first_name", "last_name", "email", "name", "description",
                         "playbook")


def search_clauses(c: Compiler, resource: Resource, text: str, outer: str) -> list[tuple[str, list]]:
    """DRF SearchFilter: ``text`` splits on whitespace and commas; each term must be found
    (``icontains``) in at least one search field.  One clause per term, to be ANDed.

    A term long enough for the resource's trigram index is looked up there alone (one MATCH
    over all search fields, which is exact: ``controller.query.text``)."""
    index = c.narrowing(resource.table)
    # the index holds exactly the search fields: a match in another column would be no match
    covered = index is not None and set(resource.search_fields) == set(c.text_index[resource.table][1])
    out = []
    for term in text.replace("\x00", "").replace(",", " ").split():
        # each field's test is built even when the index answers: it refuses a field that may
        # not be searched (400/403) whether or not the index exists
        parts = [c.term(f, "icontains", term, outer=outer, narrow=False) for f in resource.search_fields]
        sql = "(" + " OR ".join(s for s, _ in parts) + ")"
        params = [p for _, ps in parts for p in ps]
        if covered and index is not None and indexable(term):
            sql, params = f"({index_test(index, outer)})", [phrase(term)]
        out.append((sql, params))
    return out


def related_search_clauses(c: Compiler, resource: Resource, terms: list[tuple[str, str]],
                           outer: str) -> list[tuple[str, list]]:
    """``<rel>__search=term`` pairs: per term, an OR over the related resource's
    :data:`RELATED_SEARCH_FIELDS` (a related resource with none of them restricts nothing,
    as Django's empty ``Q()``)."""
    out = []
    for path, term in terms:
        target = c.resolve(resource, path)[-1].target
        names = [f.name for f in target.fields
                 if f.stored and f.name in RELATED_SEARCH_FIELDS] if target else []
        parts = [c.term(f"{path}__{n}", "icontains", term, outer=outer) for n in names]
        out.append(("(" + " OR ".join(s for s, _ in parts) + ")" if parts else "1",
                    [p for _, ps in parts for p in ps]))
    return out

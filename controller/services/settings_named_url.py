"""The read-only ``named-url`` settings category (AWX's ``NAMED_URL_FORMATS`` and
``NAMED_URL_GRAPH_NODES``): derived from the registry's ``named_url`` declarations, so they
always describe the identifiers the API really resolves (``name++organization.name`` ...)."""
from __future__ import annotations

from typing import Any

CATEGORY = "named-url"
KEYS = ("NAMED_URL_FORMATS", "NAMED_URL_GRAPH_NODES")
HELP = {"NAMED_URL_FORMATS": "Read-only list of key-value pairs that shows the standard format of all available "
                             "named URLs.",
        "NAMED_URL_GRAPH_NODES": "Read-only list of key-value pairs that exposes the named URL graph topology."}


def _named(registry) -> list:
    return [res for res in registry if res.named_url and res.listed]


def formats(registry) -> dict[str, str]:
    """``{plural: "<name>++<organization.name>"}`` for every resource with a named URL."""
    return {res.plural: "++".join("+".join(f"<{path}>" for path in component) for component in res.named_url)
            for res in _named(registry)}


def graph_nodes(registry) -> dict[str, dict[str, Any]]:
    """``{plural: {"fields": own fields, "adj_list": [[fk, target plural]]}}`` of the named URLs."""
    out = {}
    for res in _named(registry):
        paths = [path for component in res.named_url for path in component]
        fields = [p for p in paths if "." not in p]
        adj = []
        for fk in dict.fromkeys(p.split(".", 1)[0] for p in paths if "." in p):
            field = res.field(fk)
            target = registry.get(field.fk) if field is not None and field.fk else None
            if target is not None:
                adj.append([fk, target.plural])
        out[res.plural] = {"fields": fields, "adj_list": adj}
    return out


def values(registry) -> dict[str, Any]:
    return {"NAMED_URL_FORMATS": formats(registry), "NAMED_URL_GRAPH_NODES": graph_nodes(registry)}

"""Reference documentation derived from the declarations: resources, fields, sub-lists, settings.

``render()`` is deterministic so a test can prove the committed ``docs/reference.md`` is current.
"""
from __future__ import annotations

from ..config import SETTINGS


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _field_row(f) -> str:
    flags = []
    if f.required:
        flags.append("required")
    if f.read_only or not f.stored:
        flags.append("read-only")
    if f.create_only:
        flags.append("set on create only")
    if f.write_only:
        flags.append("write-only")
    if f.secret or f.kind == "password":
        flags.append("secret")
    if f.unique:
        flags.append("unique")
    if f.filterable and not f.forbidden_filter:
        flags.append("filterable")
    kind = f"id → {f.fk}" if f.kind == "id" else f.kind
    if f.choices:
        kind += " (" + ", ".join(repr(c[0]) for c in f.choices) + ")"
    default = "" if f.required or f.default in (None, "") or callable(f.default) else repr(f.default)
    return f"| `{f.name}` | {_cell(kind)} | {_cell(default)} | {', '.join(flags)} | {_cell(f.help_text)} |"


def render(registry) -> str:
    out = ["# Turret API reference", "",
           "Generated from the resource declarations by `turret docs`; do not edit by hand.", "",
           "Every list accepts the AWX query language (`page`, `page_size`, `order_by`, `search`, "
           "`<field>__<lookup>`, `not__`, `or__`, `chain__`, `<relation>__search`, `role_level`).", ""]
    for res in sorted(registry.endpoints(), key=lambda r: r.plural):
        methods = ["GET"] + (["POST"] if res.creatable else [])
        detail = ["GET"] + (["PUT", "PATCH"] if res.updatable else []) + (["DELETE"] if res.deletable else [])
        out += [f"## `{res.list_url}` — {res.verbose_name}", "",
                f"Type `{res.name}`. List: {', '.join(methods)}. Detail `{res.list_url}<id>/`: {', '.join(detail)}."]
        if res.named_url:
            fmt = "++".join("+".join(f"<{p}>" for p in comp) for comp in res.named_url)
            out.append(f"Named URL: `{res.list_url}{fmt}/`.")
        if res.search_fields:
            out.append(f"`search` looks in: {', '.join(res.search_fields)}. Default order: {', '.join(res.ordering)}.")
        out += ["", "| field | type | default | notes | help |", "|---|---|---|---|---|"]
        out += [_field_row(f) for f in res.fields if not f.hidden]
        if res.relations:
            out += ["", "Sub-lists:", ""]
            for rel in res.relations:
                how = []
                if rel.create:
                    how.append("POST creates")
                if rel.attach and not rel.read_only:
                    how.append('POST `{"id": N}` attaches, `{"id": N, "disassociate": true}` detaches')
                out.append(f"- `{rel.name}/` → {rel.target}" + (f" ({'; '.join(how)})" if how else " (read-only)"))
        if res.actions:
            out += ["", "Actions: " + ", ".join(f"`{a}/`" for a in res.actions)]
        if res.roles:
            out += ["", "Object roles: " + ", ".join(f"`{r.field}` ({r.name})" for r in res.roles)]
        out.append("")
    out += ["# Settings", "", "Each setting is read from the environment as `TURRET_<NAME>`.", "",
            "| name | default | help |", "|---|---|---|"]
    out += [f"| `TURRET_{s.name}` | {_cell(repr(s.default))} | {_cell(s.help)} |" for s in SETTINGS]
    return "\n".join(out) + "\n"

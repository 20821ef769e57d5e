"""OPTIONS metadata derived from the registry, shaped like AWX's (the awx CLI builds its flags
from it: list ``actions`` may only hold GET and POST; every field has a ``type``).
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..registry import Field

RENDERS = ["application/json", "text/html"]
PARSES = ["application/json"]
RELATED_SEARCH_NAMES = ("username", "first_name", "last_name", "email", "name", "description", "playbook")


def _implicit_fields(resource) -> list[tuple[str, dict]]:
    model = resource.verbose_name
    out = [
        ("id", {"type": "integer", "label": "ID", "help_text": f"Database ID for this {model}.", "filterable": True}),
        ("type", {"type": "choice", "label": "Type", "help_text": f"Data type for this {model}.",
                  "filterable": True, "choices": [[resource.name, model.title()]]}),
        ("url", {"type": "string", "label": "Url", "help_text": f"URL for this {model}.", "filterable": False}),
        ("related", {"type": "object", "label": "Related",
                     "help_text": "Data structure with URLs of related resources.", "filterable": False}),
        ("summary_fields", {"type": "object", "label": "Summary fields",
                            "help_text": "Data structure with name/description for related resources.  The output "
                                         "for some objects may be limited for performance reasons.",
                            "filterable": False}),
    ]
    if resource.timestamps:
        out += [
            ("created", {"type": "datetime", "label": "Created",
                         "help_text": f"Timestamp when this {model} was created.", "filterable": True}),
            ("modified", {"type": "datetime", "label": "Modified",
                          "help_text": f"Timestamp when this {model} was last modified.", "filterable": True}),
        ]
    return [(name, {"hidden": False, **info}) for name, info in out]


def field_info(field: Field, method: str) -> dict[str, Any]:
    """One field's metadata for the GET or POST/PUT section."""
    info: dict[str, Any] = {"type": field.api_type}
    if method != "GET":
        info["required"] = field.required
    info["hidden"] = False
    if method != "GET" and field.read_only:
        info["read_only"] = True
    info["label"] = field.verbose_label()
    if field.help_text:
        info["help_text"] = field.help_text
    if method != "GET":
        if field.max_length is not None and field.kind in ("string", "email", "password"):
            info["max_length"] = field.max_length
        if field.min_value is not None:
            info["min_value"] = field.min_value
        if field.max_value is not None:
            info["max_value"] = field.max_value
    info["filterable"] = bool(field.filterable)
    if method != "GET" and not field.required and field.default is not None and not callable(field.default) \
            and field.kind not in ("password", "id"):
        info["default"] = field.default
    if field.choices:
        choices = [[v, label] for v, label in field.choices]
        if field.default == "" and all(v != "" for v, _ in field.choices):
            choices.insert(0, ["", "---------"])
        info["choices"] = choices
    if field.write_only and method != "GET":
        info["write_only"] = True
    if field.options:
        info.update(field.options)
    return info


def _get_section(resource) -> dict[str, dict]:
    section = dict(_implicit_fields(resource))
    for f in resource.fields:
        if f.visible and not (f.write_only and not f.secret):
            section[f.name] = field_info(f, "GET")
    return section


def _write_section(resource, method: str) -> dict[str, dict]:
    return {f.name: field_info(f, method) for f in resource.fields if f.writable}


def _common(ctx, resource, name: str) -> dict[str, Any]:
    related = sorted({f"{f.name}__search" for f in resource.fk_fields if f.visible}
                     | {f"{r.name}__search" for r in resource.relations if r.kind in ("reverse_fk", "m2m")}
                     | {f"{r.reverse_name}__search" for _owner, r in ctx.registry.reverse_m2m(resource.name)})
    return {
        "name": name,
        "description": "",
        "renders": RENDERS,
        "parses": PARSES,
        "types": [resource.name],
        "search_fields": list(resource.search_fields),
        "related_search_fields": related,
        "object_roles": [r.field for r in resource.roles],
    }


def list_options(ctx, resource, relation=None, parent: dict | None = None) -> dict[str, Any]:
    """OPTIONS for a list or sub-list: actions GET and (when allowed) POST.

    A sub-list's ``parent`` is the row the user reads (None only for a superuser, who is
    answered without looking it up, as AWX's ``always_allow_superuser``).  A request that may
    not write (a read-scoped token, :attr:`Context.may_write`) is offered no POST."""
    title = resource.verbose_name.title()
    meta = _common(ctx, resource, f"{title} List")
    actions: dict[str, Any] = {"GET": _get_section(resource)}
    # AWX's metadata re-runs APIView.check_permissions per method, which refuses unsafe methods
    # to a read-scoped token before any role is looked at (superusers too)
    post = _post_section(ctx, resource, relation, parent) if ctx.may_write else None
    if post is not None:
        actions["POST"] = post
    meta["actions"] = actions
    meta["max_page_size"] = 200
    return meta


def _post_section(ctx, resource, relation, parent: dict | None) -> dict[str, Any] | None:
    """The POST section of a list (``relation`` None) or sub-list OPTIONS, or None when the
    user may not post there (AWX's ``can_add({})``, or ``can_add({parent_key: parent})``)."""
    if relation is None:
        if resource.creatable and access.may_add(ctx, resource):
            return _write_section(resource, "POST")
        return None
    if not relation.writable or not access.may_add_under(ctx, resource, relation, parent):
        return None
    creates = relation.create and resource.creatable
    post = _write_section(resource, "POST") if creates else {}
    if relation.attach and (not creates or relation.kind == "m2m"):
        # AWX's attach lists announce "id" (awxkit's export/import associates by it), also
        # when a body without it creates the child (m2m create-and-attach lists)
        post["id"] = {"type": "integer", "required": not creates, "hidden": False, "label": "ID",
                      "help_text": f"Database ID for this {resource.verbose_name}."}
        if relation.kind in ("user_roles", "team_roles", "role_users", "role_teams", "role_members", "m2m"):
            post["disassociate"] = {"type": "integer", "required": False, "hidden": False,
                                    "label": "Disassociate", "help_text": "Provide to remove this role."
                                    if "role" in relation.kind else "Provide to remove this association."}
    return post


def detail_options(ctx, resource, row: dict | None) -> dict[str, Any]:
    """OPTIONS for a detail URL: GET always, PUT when the object exists and may be changed by
    a request that may write (never by a read-scoped token, as :func:`list_options`)."""
    meta = _common(ctx, resource, resource.verbose_name.title())
    actions: dict[str, Any] = {"GET": _get_section(resource)}
    if ctx.may_write and row is not None and resource.updatable and access.can_change(ctx, resource, row):
        actions["PUT"] = _write_section(resource, "PUT")
    meta["actions"] = actions
    return meta


def list_allow(resource, relation=None) -> str:
    writable = resource.creatable if relation is None else relation.writable
    return "GET, POST, HEAD, OPTIONS" if writable else "GET, HEAD, OPTIONS"


def detail_allow(resource) -> str:
    methods = ["GET"]
    if resource.updatable:
        methods += ["PUT", "PATCH"]
    if resource.deletable:
        methods.append("DELETE")
    return ", ".join(methods + ["HEAD", "OPTIONS"])

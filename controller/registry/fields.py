"""Declarations of one resource's attributes and object roles: :class:`Field`, :class:`RoleSpec`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Storage/validation kinds a field can have, and the AWX OPTIONS type each one shows as.
FIELD_KINDS: dict[str, str] = {
    "string": "string",      # short text, max_length applies
    "text": "string",        # long text
    "integer": "integer",
    "float": "float",
    "boolean": "boolean",
    "choice": "choice",
    "id": "id",              # foreign key to another resource (``fk`` names it)
    "json": "json",          # any JSON value, stored as JSON text
    "vars": "json",          # YAML or JSON text of a mapping, stored verbatim (variables, extra_vars)
    "datetime": "datetime",
    "email": "email",
    "password": "string",    # write-only secret hashed by a hook; shown as $encrypted$
}

ENCRYPTED = "$encrypted$"
# a ``compute`` hook's value meaning "leave this field out of this object" (AWX serializers that
# drop a field per object, e.g. a notification's subject for some types)
OMIT: Any = object()


@dataclass
class Field:
    """One attribute of a resource.

    ``stored`` fields are columns; the others are computed at serialization time by the
    resource's ``compute`` hook and can be neither written nor filtered.
    """

    name: str
    kind: str = "string"
    required: bool = False
    default: Any = ""
    choices: list[tuple[Any, str]] | None = None
    max_length: int | None = None
    min_value: int | float | None = None
    max_value: int | float | None = None
    label: str | None = None
    help_text: str = ""
    read_only: bool = False
    write_only: bool = False       # accepted on input, never output (OPTIONS GET omits it)
    secret: bool = False           # output as $encrypted$; filtering on it answers 403
    prevent_search: bool = False   # filtering on it answers 403 ("Filtering on x is not allowed.")
    fk: str | None = None          # target resource name when kind == "id"
    null: bool = False             # null is a valid stored value (FKs, nullable datetimes)
    unique: bool = False
    create_only: bool = False      # writable on create, read-only afterwards
    stored: bool = True
    filterable: bool | None = None
    on_delete: str = "cascade"     # for FKs: "cascade" | "set_null" | "protect"
    index: bool = False
    hidden: bool = False           # stored but never output, written or shown (e.g. a token hash)
    unique_message: str | None = None  # overrides "<Model> with this <Field> already exists."
    shown: str = "always"          # "always" | "not_list" (omitted from lists) | "detail" (detail GET only)
    options: dict | None = None    # extra keys of its OPTIONS metadata (AWX: notification_configuration's
                                   # per-type fields, messages' per-type defaults)
    summary_keys: tuple[str, ...] = ()  # FKs: its summary_fields keys when not the target's (AWX
                                        # SUMMARIZABLE_FK_FIELDS by FK name: a host's last_job)

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if self.kind == "id" and not self.fk:
            raise ValueError(f"id field {self.name} needs fk=")
        if self.kind == "id":
            self.index = True
        if self.default == "" and self.kind in ("id", "datetime", "integer", "float", "boolean", "json"):
            # "" is the text default; other kinds start at their own empty value
            self.default = {"integer": 0, "float": 0.0, "boolean": False}.get(self.kind)
        if self.filterable is None:
            self.filterable = self.stored and not self.write_only and not self.hidden

    @property
    def api_type(self) -> str:
        """The type name AWX's OPTIONS metadata uses for this field."""
        return FIELD_KINDS[self.kind]

    @property
    def writable(self) -> bool:
        return self.stored and not self.read_only and not self.hidden

    @property
    def visible(self) -> bool:
        """Shown in object bodies (write-only secrets show as $encrypted$)."""
        return not self.hidden and (not self.write_only or self.secret)

    @property
    def forbidden_filter(self) -> bool:
        return self.secret or self.prevent_search or self.kind == "password"

    def verbose_label(self) -> str:
        if self.label:
            return self.label
        text = self.name.replace("_", " ")
        return text[:1].upper() + text[1:]


@dataclass
class RoleSpec:
    """An object role (``admin_role`` ...).

    ``parents`` are the roles whose holders implicitly hold this one: either another role
    field of the same object (``"admin_role"``) or a role reached through a foreign key
    (``"organization.admin_role"``).
    """

    field: str
    name: str
    description: str
    parents: tuple[str, ...] = ()
    user_only: bool = False   # cannot be granted to a team (organization admin/member)

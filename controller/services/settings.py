"""The settings API (``/api/v2/settings/``) as AWX has it: categories, read, change, reset.

Contract: the settings served are the ``category``-bearing entries of
:data:`controller.config.SETTINGS` (they change what Turret does) plus
:data:`.settings_awx.AWX_ONLY` (stored and returned, no effect).  A value stored here wins over
``TURRET_<NAME>`` and the table default (``Settings`` overlays it; :class:`StoredSettings` is
its source).  Superusers and system auditors read, superusers change; secret values read as
``$encrypted$`` and ``$encrypted$`` sent back keeps the stored value; every stored change is
one activity-stream entry (object1 ``setting``).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from ..config import SETTINGS, Setting
from ..errors import NotFound, PermissionDenied, ValidationError
from ..registry import ENCRYPTED
from ..store import settings as stored_settings
from . import activity
from . import settings_named_url as named_url
from .settings_awx import AWX_ONLY
from .validation import require_object

CATEGORY_NAMES = {"all": "All", "changed": "Changed", "authentication": "Authentication", "bulk": "Bulk Actions",
                  "debug": "Debug", "jobs": "Jobs", "logging": "Logging", "named-url": "Named URL",
                  "system": "System", "ui": "UI"}
_LOGO = re.compile(r"^data:image/(gif|png|jpeg);base64,[A-Za-z0-9+/=\s]+$")
_TYPES = {bool: "boolean", int: "integer", str: "string", list: "list", dict: "nested object"}


@dataclass(frozen=True)
class _Kind:
    """Stands for the ``setting`` object type in the activity stream (it is no registry resource)."""

    name: str = "setting"


_SETTING = _Kind()


@functools.cache
def catalog() -> dict[str, Setting]:
    """Every setting the API serves, by name: Turret's first, then AWX's others."""
    out = {s.name: s for s in SETTINGS if s.category}
    for s in AWX_ONLY:
        out.setdefault(s.name, s)
    return out


def categories() -> dict[str, str]:
    """``{slug: name}`` of the categories, ``all`` and ``changed`` included, sorted by slug."""
    slugs = {"all", "changed", named_url.CATEGORY} | {s.category for s in catalog().values()}
    return {slug: CATEGORY_NAMES.get(slug, slug.replace("-", " ").title()) for slug in sorted(slugs)}


class StoredSettings:
    """The source ``Settings.attach`` overlays: the stored values, secrets decrypted."""

    def __init__(self, store: Any, vault: Any) -> None:
        self.store, self.vault = store, vault

    def version(self) -> Any:
        return stored_settings.version(self.store)

    def load(self) -> dict[str, Any]:
        out = {}
        for key, row in stored_settings.stored(self.store).items():
            setting = catalog().get(key)
            if setting is not None:
                out[key] = _decrypt(self.vault, setting, row["value"])
        return out


def _decrypt(vault: Any, setting: Setting, value: Any) -> Any:
    return vault.decrypt(value) if setting.secret and isinstance(value, str) and vault is not None else value


def _keys(slug: str) -> list[str]:
    if slug not in categories():
        raise NotFound()
    return [name for name, s in catalog().items() if slug in ("all", "changed") or s.category == slug]


def _may_read(ctx) -> None:
    if not ctx.is_auditor:
        raise PermissionDenied()


def _may_change(ctx) -> None:
    if not ctx.is_superuser or ctx.scope != "write":
        raise PermissionDenied()


def _default(ctx, setting: Setting) -> Any:
    """The value without a stored one: Turret's environment/table value, or AWX's default."""
    if setting in SETTINGS:
        return ctx.settings.base(setting.name)
    return setting.default


def _shown(setting: Setting, value: Any) -> Any:
    return ENCRYPTED if setting.secret and isinstance(value, str) and value else value


def _current(ctx) -> dict[str, dict]:
    """Stored rows (id, value decrypted) of every known setting."""
    rows = stored_settings.stored(ctx.store)
    for key, row in rows.items():
        if key in catalog():
            row["value"] = _decrypt(ctx.vault, catalog()[key], row["value"])
    return rows


def read(ctx, slug: str) -> dict[str, Any]:
    """The settings of category ``slug`` as AWX shows them (secrets masked)."""
    _may_read(ctx)
    keys, rows = _keys(slug), _current(ctx)
    if slug == "changed":
        keys = [k for k in keys if k in rows]
    out = {}
    for key in keys:
        setting = catalog()[key]
        out[key] = _shown(setting, rows[key]["value"] if key in rows else _default(ctx, setting))
    if slug in ("all", named_url.CATEGORY):
        out.update(named_url.values(ctx.registry))   # read-only, derived from the declarations
    return out


def update(ctx, slug: str, body: Any) -> dict[str, Any]:
    """Store the values ``body`` names (PUT and PATCH alike, as AWX: a setting not sent keeps its
    value; keys of other categories or unknown to AWX are ignored).  All or nothing: one invalid
    value refuses the request with ``{KEY: [message]}``."""
    _may_change(ctx)
    keys = set(_keys(slug))
    require_object(body)
    values, errors = {}, {}
    for key, raw in body.items():
        setting = catalog().get(key)
        if setting is None or key not in keys:
            continue
        if setting.secret and isinstance(raw, str) and raw.startswith(ENCRYPTED):
            continue   # the masked value sent back: keep the stored one
        try:
            values[key] = validate(setting, raw)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    rows = _current(ctx)
    with ctx.store.transaction():
        for key, value in values.items():
            setting = catalog()[key]
            old = rows[key]["value"] if key in rows else _default(ctx, setting)
            if key in rows and old == value:
                continue
            stored = ctx.vault.encrypt(value) if setting.secret and isinstance(value, str) and value else value
            pk = stored_settings.put(ctx.store, key, stored)
            _record(ctx, "update", pk, setting, old, value)
    ctx.settings.invalidate()
    return read(ctx, slug)


def reset(ctx, slug: str) -> None:
    """Forget the stored values of category ``slug``: its settings are back to their defaults."""
    _may_change(ctx)
    keys, rows = _keys(slug), _current(ctx)
    gone = [k for k in keys if k in rows]
    with ctx.store.transaction():
        stored_settings.remove(ctx.store, gone)
        for key in gone:
            setting = catalog()[key]
            _record(ctx, "delete", rows[key]["id"], setting, rows[key]["value"], _default(ctx, setting))
    ctx.settings.invalidate()


def _record(ctx, operation: str, pk: int, setting: Setting, old: Any, new: Any) -> None:
    activity.record(ctx, operation, _SETTING, {"id": pk, "name": setting.name},
                    {"key": setting.name, "category": setting.category,
                     "value": [_shown(setting, old), _shown(setting, new)]})


# -- validation --------------------------------------------------------------------------------
_TRUE, _FALSE = {True, "true", "True", "TRUE", "1", 1, "yes", "on"}, {False, "false", "False", "FALSE", "0", 0,
                                                                          "no", "off"}


def validate(setting: Setting, raw: Any) -> Any:
    """``raw`` as the value ``setting`` holds, or ValueError with a DRF-worded message."""
    if raw is None:
        if setting.default is None:
            return None
        raise ValueError("This field may not be null.")
    kind = setting.type
    if kind is bool:
        if isinstance(raw, (bool, int, str)) and raw in _TRUE:
            return True
        if isinstance(raw, (bool, int, str)) and raw in _FALSE:
            return False
        raise ValueError("Must be a valid boolean.")
    if kind is int:
        value = _integer(raw)
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"Ensure this value is greater than or equal to {setting.minimum}.")
        return value
    if kind is list:
        if not isinstance(raw, list):
            raise ValueError(f'Expected a list of items but got type "{type(raw).__name__}".')
        if any(isinstance(item, (dict, list)) for item in raw):
            raise ValueError("Each item must be a string.")
        return [str(item) for item in raw]
    if kind is dict:
        if not isinstance(raw, dict):
            raise ValueError(f'Expected a dictionary of items but got type "{type(raw).__name__}".')
        return _mapping(setting, raw)
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ValueError("Not a valid string.")
    text = str(raw)
    if setting.choices and text not in setting.choices:
        raise ValueError(f'"{text}" is not a valid choice.')
    if setting.name == "CUSTOM_LOGO" and text and not _LOGO.match(text):
        raise ValueError("Invalid format for custom logo. Must be a data URL with a base64-encoded GIF, PNG or "
                         "JPEG image.")
    return text


def _integer(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError("A valid integer is required.")
    try:
        return int(raw)
    except ValueError:
        raise ValueError("A valid integer is required.") from None


def _mapping(setting: Setting, raw: dict) -> dict:
    """A key/value setting (AWX_TASK_ENV): string values, as environment variables are."""
    if not isinstance(setting.default, dict) or setting.name != "AWX_TASK_ENV":
        return raw   # a nested object (OAUTH2_PROVIDER ...): kept as sent
    out = {}
    for key, value in raw.items():
        if isinstance(value, (dict, list)) or value is None:
            raise ValueError(f"{key}: Value must be a string.")
        out[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


# -- OPTIONS -----------------------------------------------------------------------------------
def field_info(ctx, setting: Setting, method: str) -> dict[str, Any]:
    """One setting's OPTIONS metadata (GET or PUT section)."""
    info: dict[str, Any] = {"type": "choice" if setting.choices else _TYPES.get(setting.type, "field")}
    if method != "GET":
        info["required"] = False
    info["label"] = setting.name.replace("_", " ").capitalize()
    info["help_text"] = setting.help
    info["category"] = CATEGORY_NAMES.get(setting.category, setting.category)
    info["category_slug"] = setting.category
    info["defined_in_file"] = False
    if setting.choices:
        info["choices"] = [[c, c or "---------"] for c in setting.choices]
    if method != "GET":
        if setting.minimum is not None:
            info["min_value"] = setting.minimum
        info["default"] = _shown(setting, _default(ctx, setting))
    if setting.type is list:
        info["child"] = {"type": "string", "required": True, "read_only": False}
    return info


def options(ctx, slug: str) -> dict[str, Any]:
    """``actions`` of ``/settings/<slug>/``: GET for readers, PUT too for superusers whose
    request may write (not through a read-scoped token: AWX's APIView.check_permissions)."""
    _may_read(ctx)
    keys = _keys(slug)
    actions = {"GET": {k: field_info(ctx, catalog()[k], "GET") for k in keys}}
    if slug in ("all", named_url.CATEGORY):
        actions["GET"].update({k: {"type": "nested object", "label": k.replace("_", " ").capitalize(),
                                   "help_text": named_url.HELP[k], "category": "Named URL",
                                   "category_slug": named_url.CATEGORY, "defined_in_file": False}
                               for k in named_url.KEYS})
    if ctx.is_superuser and ctx.may_write:
        actions["PUT"] = {k: field_info(ctx, catalog()[k], "PUT") for k in keys}
    return actions


def category_list(ctx, base_url: str) -> list[dict[str, str]]:
    """The categories the user may read (none for users who are neither superuser nor auditor)."""
    if not ctx.is_auditor:
        return []
    return [{"url": f"{base_url}{slug}/", "slug": slug, "name": name} for slug, name in categories().items()]

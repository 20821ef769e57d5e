"""A notification template's ``notification_configuration``: validated against its type's
fields as AWX does, secrets encrypted at rest, shown as ``$encrypted$``, decrypted only to send.

Contracts:
  * :func:`prepare` is the only writer of the stored configuration: every ``password`` field is a
    vault ciphertext afterwards; posting ``$encrypted$`` for one keeps the stored value.
  * :func:`mask` is what any output shows; :func:`decrypt` is called by the sender alone, and
    its result is never stored, logged or put in an error.
  * Errors are AWX's (``NotificationTemplateSerializer.validate``) under ``non_field_errors``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from ..errors import ValidationError
from ..registry import ENCRYPTED
from .types import AWX_TYPES, TYPES, NotificationType

# AWX's serializer type_map: the Python types each kind of configuration field accepts (the
# check is on the exact type, as AWX's: ``True`` is no int, ``1`` is no bool)
_PY_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "list": (list,),
                                          "password": (str,), "object": (dict,)}


def type_of(name: str | None) -> NotificationType | None:
    """The registered type called ``name`` (None when there is none)."""
    return TYPES.get(name or "")


def as_dict(value: Any) -> dict:
    """A stored configuration (JSON text or dict) as a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def secret_names(ntype: NotificationType | None) -> list[str]:
    """The configuration keys of ``ntype`` that are secrets."""
    return [f.name for f in ntype.fields if f.kind == "password"] if ntype else []


def check(type_name: str | None, config: Any, has_existing: bool) -> list[str]:
    """AWX's validation of a submitted configuration; returns the error messages (empty: valid).
    Fills in defaults of missing fields in ``config`` (a dict) as AWX does."""
    ntype = type_of(type_name)
    if ntype is None:
        return ["Missing required fields for Notification Configuration: notification_type"]
    if not isinstance(config, dict):
        return ["Expected dict for 'notification_configuration' field, found {}".format(type(config))]
    missing: list[str] = []
    wrong: list[tuple[str, str]] = []
    errors: list[str] = []
    for f in ntype.fields:
        if f.name not in config:
            if f.default is not None or not f.required:
                if f.default is not None:
                    config[f.name] = f.default
                continue
            missing.append(f.name)
            continue
        value = config[f.name]
        if f.extra and ntype.name in AWX_TYPES:
            continue   # not one of AWX's init_parameters: AWX checks nothing of it
        if type(value) not in _PY_TYPES.get(f.kind, (object,)):
            wrong.append((f.name, f.kind))
            continue
        if f.kind == "list" and f.required and len(value) < 1:
            errors.append(f"No values specified for field '{f.name}'")
            continue
        if f.name == "http_method" and value.lower() not in ("put", "post"):
            errors.append("HTTP method must be either 'POST' or 'PUT'.")
    if missing:
        errors.append(f"Missing required fields for Notification Configuration: {missing}.")
    errors += [f"Configuration field '{name}' incorrect type, expected {kind}." for name, kind in wrong]
    return errors


# Settings deciding where a configuration's secrets travel (and over what): changing one while
# keeping a stored secret would send that secret somewhere its owner never sent it.
_ENDPOINT_NAMES = {"url", "host", "server", "port", "subdomain", "aws_region", "use_tls", "use_ssl",
                   "disable_ssl_verification"}
_ENDPOINT_SUFFIXES = ("_url", "_no_verify_ssl")
REENTER = "Enter the secret again when you change where it is sent ({})."


def _is_endpoint(name: str) -> bool:
    return name in _ENDPOINT_NAMES or name.endswith(_ENDPOINT_SUFFIXES)


def kept_secret_conflicts(type_name: str | None, old_type: str | None, submitted: dict | None,
                          stored: Any) -> list[str]:
    """Errors of an update that keeps a stored secret (sent back as ``$encrypted$`` or left out)
    while changing where the secrets go: the type, or an endpoint setting (a URL, a host or
    port, TLS and certificate checks).  Empty when the update is safe.  ``submitted`` is None
    when the update leaves the configuration alone."""
    before = as_dict(stored)
    config = before if submitted is None else submitted
    ntype = type_of(type_name)
    secrets = secret_names(ntype)
    kept = [n for n in secrets if before.get(n) and (n not in config or config[n] == ENCRYPTED)]
    if not kept:
        return []
    changed = ["notification_type"] if type_name != old_type else []
    for name in sorted(set(config) | set(before)):
        if not _is_endpoint(name) or name in kept:
            continue
        if name in secrets:
            if name in config and config[name] != ENCRYPTED:   # a new secret endpoint was entered
                changed.append(name)
        elif config.get(name) != before.get(name) and name in config:
            changed.append(name)
    return [REENTER.format(", ".join(changed))] if changed else []


def prepare(vault, type_name: str, submitted: dict, stored: Any) -> dict:
    """The configuration to store: secrets encrypted; ``$encrypted$`` (or a secret left out of a
    partial update) keeps the stored secret.  ``stored`` is the current configuration or None."""
    before = as_dict(stored)
    out = dict(submitted)
    for name in secret_names(type_of(type_name)):
        value = out.get(name)
        if value == ENCRYPTED or (name not in out and name in before):
            if name in before:
                out[name] = before[name]
            else:
                out.pop(name, None)
            continue
        if isinstance(value, str):
            out[name] = vault.encrypt(value) if value else ""
    return out


def mask(type_name: str | None, config: Any) -> dict:
    """The configuration as output shows it: every secret that is set reads ``$encrypted$``."""
    out = as_dict(config)
    for name in secret_names(type_of(type_name)):
        if out.get(name):
            out[name] = ENCRYPTED
    # a value stored encrypted under a key the type no longer calls secret stays hidden too
    return {k: ENCRYPTED if isinstance(v, str) and v.startswith(ENCRYPTED) else v for k, v in out.items()}


def decrypt(vault, type_name: str, config: Any) -> dict:
    """The configuration with secrets in clear, for a sender only (never store or log it);
    defaults of fields missing from an older stored configuration filled in."""
    ntype = type_of(type_name)
    out = as_dict(config)
    for f in ntype.fields if ntype else ():
        if f.name not in out and f.default is not None:
            out[f.name] = f.default
    for name in secret_names(ntype):
        if isinstance(out.get(name), str):
            out[name] = vault.decrypt(out[name])
    return out


def recipients(type_name: str, config: Any) -> str:
    """What a send record shows as ``recipients``: the type's recipient field (AWX's
    ``recipient_parameter``, as AWX's ``smart_str`` shows it), "" when that is a secret."""
    ntype = type_of(type_name)
    name = getattr(ntype, "recipient_parameter", "") if ntype else ""
    if not name or name in secret_names(ntype):
        return ""
    value = as_dict(config).get(name)
    return "" if value is None else str(value)


def destination_key(vault, type_name: str, config: Any) -> str:
    """A stable key of where a (decrypted) configuration sends to: what per-destination rate
    limits count.  Secrets are part of a destination (a DingTalk robot is its secret URL), so
    the key is an HMAC under the data directory's key: equal for equal destinations, and
    revealing nothing of them to whoever reads the database."""
    canonical = json.dumps([type_name, as_dict(config)], sort_keys=True, default=str).encode()
    return hmac.new(_hmac_key(vault), canonical, hashlib.sha256).hexdigest()[:32]


def _hmac_key(vault) -> bytes:
    key_path = getattr(vault, "key_path", None)
    secret = key_path.read_bytes() if key_path is not None and key_path.exists() else b""
    return hashlib.sha256(b"turret-notification-destination:" + secret).digest()


def validation_error(errors: list[str]) -> ValidationError:
    """AWX's body for errors of ``validate``: ``{"non_field_errors": [...]}``."""
    return ValidationError({"non_field_errors": errors})

"""Credential inputs: the schema a credential type declares, and the values a credential holds.

Contracts:
  * :func:`check_type_inputs` returns the problems of a credential type's ``inputs`` schema
    (empty list = valid); :mod:`.credential_injectors` does the same for ``injectors``.
  * :func:`prepare_inputs` validates a credential's submitted ``inputs`` against its type and
    returns what to store: every secret value encrypted with the vault, a secret submitted as
    exactly ``$encrypted$`` on update replaced by the stored ciphertext.  Errors are AWX's
    ``{"inputs": {"<field>": ["..."]}}`` / ``{"inputs": ["..."]}`` and never echo a secret.
  * :func:`mask_inputs` is the only way stored inputs leave the API: secrets as ``$encrypted$``.
  * :func:`decrypt_inputs` and :func:`passwords_needed` serve the job executor (which renders
    injectors with :mod:`.credential_injectors`, the module above this one).

A credential type is passed around as its stored row (``inputs``/``injectors`` may be JSON text
or already decoded); inputs are plain dicts.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..errors import ValidationError
from ..registry import ENCRYPTED
from ..secrets import SecretError

FIELD_ID = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
_FIELD_KEYS = {"id", "label", "type", "help_text", "format", "secret", "multiline", "ask_at_runtime",
               "choices", "default"}
_STRING_ONLY = ("secret", "multiline", "format", "choices")
_CUSTOM_FORMATS = ("ssh_private_key", "url")
_MANAGED_FORMATS = _CUSTOM_FORMATS + ("vault_id",)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)-----END \1-----", re.S)


def as_dict(value: Any) -> dict:
    """A stored JSON column (text or decoded) as a dict; anything else as ``{}``."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def unique_hash(cred: dict, cred_type: dict) -> tuple[str, str]:
    """AWX's ``Credential.unique_hash`` (key, display name): what makes two credentials exclusive
    on one job or template -- the type, and for a vault its vault id (not a secret input: read
    as stored)."""
    key, display = str(cred["credential_type"]), str(cred_type.get("name", ""))
    if cred_type.get("kind") == "vault":
        vault_id = as_dict(cred.get("inputs")).get("vault_id")
        if vault_id:
            return f"{key}_{vault_id}", f"{display} (id={vault_id})"
    return key, display


def type_fields(cred_type: dict) -> list[dict]:
    """The declared input fields of a credential type row."""
    fields = as_dict(cred_type.get("inputs")).get("fields") or []
    return [f for f in fields if isinstance(f, dict) and isinstance(f.get("id"), str)]


def secret_fields(cred_type: dict) -> set[str]:
    return {f["id"] for f in type_fields(cred_type) if f.get("secret") is True}


# -- credential type schemas ---------------------------------------------------------------
def check_type_inputs(inputs: Any, managed: bool = False) -> list[str]:
    """Problems of a credential type's ``inputs`` schema, each naming where it is."""
    if not isinstance(inputs, dict):
        return ["inputs must be an object with 'fields' (a list) and optionally 'required'."]
    problems: list[str] = []
    # managed types may also declare "dependencies" and, external lookups, "metadata" (fields of an input source)
    allowed = {"fields", "required"} | ({"dependencies", "metadata"} if managed else set())
    problems += [f"'{k}' is not allowed in inputs (allowed: {', '.join(sorted(allowed))})."
                 for k in inputs if k not in allowed]
    fields = inputs.get("fields", [])
    if not isinstance(fields, list):
        return problems + ["fields must be a list."]
    seen: set[str] = set()
    for i, spec in enumerate(fields):
        problems += _check_field_spec(i, spec, managed, seen)
    if managed:     # an input source's keys may be required too; they need not be variable names
        seen |= {m["id"] for m in inputs.get("metadata", []) if isinstance(m, dict) and isinstance(m.get("id"), str)}
    required = inputs.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append("required must be a list of field ids.")
    else:
        problems += [f"required: '{r}' is not a declared field id." for r in required if r not in seen]
    return problems


def _check_field_spec(i: int, spec: Any, managed: bool, seen: set[str]) -> list[str]:
    where = f"fields[{i}]"
    if not isinstance(spec, dict):
        return [f"{where} must be an object."]
    out = [f"{where}: unknown key '{k}'." for k in spec if k not in _FIELD_KEYS]
    fid = spec.get("id")
    if not isinstance(fid, str) or not fid:
        out.append(f"{where}: 'id' is required.")
    else:
        where = f"fields[{i}] ({fid})"
        if not FIELD_ID.match(fid):
            out.append(f"{where}: id must match ^[a-zA-Z_]+[a-zA-Z0-9_]*$.")
        if fid == "tower":
            out.append(f"{where}: 'tower' is a reserved field name.")
        if fid in seen:
            out.append(f"field IDs must be unique ({fid}).")
        seen.add(fid)
    if not isinstance(spec.get("label"), str) or not spec.get("label"):
        out.append(f"{where}: 'label' is required.")
    kind = spec.get("type", "string")
    if kind not in ("string", "boolean"):
        out.append(f"{where}: type must be 'string' or 'boolean'.")
    if kind == "boolean":
        out += [f"{where}: '{k}' is only allowed for string fields." for k in _STRING_ONLY if k in spec]
    for flag in ("secret", "multiline", "ask_at_runtime"):
        if flag in spec and not isinstance(spec[flag], bool):
            out.append(f"{where}: '{flag}' must be true or false.")
    if "help_text" in spec and not isinstance(spec["help_text"], str):
        out.append(f"{where}: 'help_text' must be a string.")
    formats = _MANAGED_FORMATS if managed else _CUSTOM_FORMATS
    if kind == "string" and "format" in spec and spec["format"] not in formats:
        out.append(f"{where}: format must be one of {', '.join(formats)}.")
    choices = spec.get("choices")
    if kind == "string" and "choices" in spec and (
            not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)):
        out.append(f"{where}: 'choices' must be a list of strings.")
    if "default" in spec and not isinstance(spec["default"], bool if kind == "boolean" else str):
        out.append(f"{where}: 'default' must be a {kind}.")
    if spec.get("ask_at_runtime") and not managed:
        out.append("'ask_at_runtime' is not supported for custom credentials.")
    return out


# -- credential values ---------------------------------------------------------------------
def private_key_blocks(text: str) -> list[tuple[str, str]]:
    """(PEM label, body) of each private key block in ``text``."""
    return [(m.group(1), m.group(2)) for m in _PEM.finditer(text) if m.group(1).endswith("PRIVATE KEY")]


def key_is_encrypted(text: Any) -> bool:
    """Does this PEM/OpenSSH private key need a passphrase?"""
    if not isinstance(text, str):
        return False
    for label, body in private_key_blocks(text.replace("\r\n", "\n")):
        headers = body.split("\n\n", 1)[0] if "\n\n" in body else ""
        if label == "ENCRYPTED PRIVATE KEY" or ("Proc-Type:" in headers and "ENCRYPTED" in headers):
            return True
        if label == "OPENSSH PRIVATE KEY":
            try:
                raw = base64.b64decode("".join(body.split()), validate=False)
            except (binascii.Error, ValueError):
                continue
            magic = b"openssh-key-v1\x00"
            if raw.startswith(magic) and len(raw) >= len(magic) + 4:
                size = int.from_bytes(raw[len(magic):len(magic) + 4], "big")
                cipher = raw[len(magic) + 4:len(magic) + 4 + size]
                if cipher != b"none":
                    return True
    return False


def _field_problem(spec: dict, value: Any) -> str | None:
    """Why one submitted value does not fit its field (the value itself is never quoted
    when the field is secret)."""
    kind = spec.get("type", "string")
    secret = spec.get("secret") is True
    shown = "Value" if secret else repr(value)
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{shown} is not of type 'boolean'"
    if not isinstance(value, str):
        return f"{shown} is not of type 'string'"
    if spec.get("choices") and value not in spec["choices"] and value != "":
        return f"{shown} is not one of {spec['choices']!r}"
    fmt = spec.get("format")
    if fmt == "ssh_private_key" and value:
        if len(private_key_blocks(value)) != 1:
            return "Invalid certificate or key: expected exactly one PEM or OpenSSH private key."
    if fmt == "vault_id" and "@" in value:
        return "Vault IDs cannot contain \"@\"."
    return None


def _reserved(field: str) -> ValidationError:
    return ValidationError({"inputs": [f"{ENCRYPTED} is a reserved keyword, and cannot be used for {field}."]})


def prepare_inputs(vault, cred_type: dict, submitted: Any, stored_before: dict | None) -> dict:
    """Validate ``submitted`` inputs against ``cred_type``; return the dict to store.

    ``stored_before`` is the credential's stored inputs on update (None on create): a secret
    submitted as exactly ``$encrypted$`` keeps that stored ciphertext.  Raises ValidationError.
    """
    if vault is None:
        raise RuntimeError("no vault: refusing to store credential secrets unencrypted")
    if not isinstance(submitted, dict):
        raise ValidationError({"inputs": ["Inputs must be an object of field ids to values."]})
    specs = {f["id"]: f for f in type_fields(cred_type)}
    secrets = secret_fields(cred_type)
    before = stored_before or {}
    plain: dict[str, Any] = {}
    kept: set[str] = set()
    for key, value in submitted.items():
        if isinstance(value, str) and value.startswith(ENCRYPTED):
            # Only an update may echo the mask, and only for a secret that has a stored value.
            if value != ENCRYPTED or stored_before is None or key not in secrets or before.get(key) in (None, ""):
                raise _reserved(key)
            try:
                plain[key] = vault.decrypt(before[key])
            except SecretError:
                raise ValidationError({"inputs": {key: ["The stored value cannot be decrypted; "
                                                        "submit a new value."]}}) from None
            kept.add(key)
        else:
            plain[key] = value
    errors: dict[str, list[str]] = {}
    for key, value in plain.items():
        if key not in specs:
            errors[key] = [f"Additional properties are not allowed ('{key}' was unexpected)"]
            continue
        problem = _field_problem(specs[key], value)
        if problem:
            errors[key] = [problem]
    # required inputs are not checked here (AWX accepts a credential without them: an input
    # source may supply them later); missing_required() checks them when a job uses it
    if "ssh_key_data" in specs and "ssh_key_unlock" in specs and not errors:
        encrypted = key_is_encrypted(plain.get("ssh_key_data"))
        if encrypted and plain.get("ssh_key_unlock") in (None, ""):
            errors["ssh_key_unlock"] = ["must be set when SSH key is encrypted."]
        elif not encrypted and plain.get("ssh_key_unlock") not in (None, "") and plain.get("ssh_key_data"):
            errors["ssh_key_unlock"] = ["should not be set when SSH key is not encrypted."]
    if errors:
        raise ValidationError({"inputs": errors})
    if cred_type.get("kind") == "vault" and stored_before is not None and before.get("vault_id") \
            and plain.get("vault_id") != before.get("vault_id"):
        raise ValidationError({"inputs": ["Vault IDs cannot be changed once they have been created."]})
    stored: dict[str, Any] = {}
    for key, value in plain.items():
        if key in kept:
            stored[key] = before[key]           # same ciphertext: no spurious change
        elif key in secrets and value not in (None, ""):
            stored[key] = vault.encrypt(value)
        else:
            stored[key] = value
    return stored


def mask_inputs(cred_type: dict | None, stored: Any) -> dict:
    """Stored inputs as the API shows them: every secret with a value as ``$encrypted$``."""
    secrets = secret_fields(cred_type or {})
    out = {}
    for key, value in as_dict(stored).items():
        masked = (key in secrets and value not in (None, "")) or \
            (isinstance(value, str) and value.startswith(ENCRYPTED))
        out[key] = ENCRYPTED if masked else value
    return out


def decrypt_inputs(vault, cred_type: dict, stored: Any) -> dict:
    """Stored inputs with secrets decrypted, for injection into a job (never for output)."""
    out = {}
    for key, value in as_dict(stored).items():
        out[key] = vault.decrypt(value) if isinstance(value, str) and vault.is_encrypted(value) else value
    return out


def missing_required(cred_type: dict, inputs: dict) -> list[str]:
    """The type's required input ids that ``inputs`` (decrypted, input sources resolved) leave
    empty: a job that uses such a credential cannot run (``ASK`` counts as given: the launch
    supplies it)."""
    required = as_dict(cred_type.get("inputs")).get("required", []) or []
    return [r for r in required if inputs.get(r) in (None, "")]


def passwords_needed(cred_type: dict, inputs: dict) -> list[str]:
    """Passwords a launch must supply for this credential (AWX names), given its decrypted
    inputs: ``ssh_password``, ``become_password``, ``ssh_key_unlock``,
    ``vault_password`` or ``vault_password.<vault_id>``."""
    kind = cred_type.get("kind")
    needed: list[str] = []
    if kind == "ssh":
        if inputs.get("password") == "ASK":
            needed.append("ssh_password")
        if inputs.get("become_password") == "ASK":
            needed.append("become_password")
        if inputs.get("ssh_key_unlock") in ("ASK", "") and key_is_encrypted(inputs.get("ssh_key_data")):
            needed.append("ssh_key_unlock")
    if kind == "vault" and inputs.get("vault_password") == "ASK":
        needed.append(f"vault_password.{inputs['vault_id']}" if inputs.get("vault_id") else "vault_password")
    return needed


__all__ = ["FIELD_ID", "as_dict", "type_fields", "secret_fields", "check_type_inputs",
           "prepare_inputs", "mask_inputs", "decrypt_inputs", "passwords_needed", "missing_required",
           "key_is_encrypted", "private_key_blocks"]

"""Credential input sources at work: validating an input source's ``metadata``, fetching the
value of each sourced input of a credential, and testing an external credential.

Contracts:
  * :func:`credential_inputs` is the ONE place a credential's inputs are read for use by a run
    (job, ad hoc command, project update): stored inputs decrypted, every input that has an
    input source replaced by the value its external credential fetches now.  It returns the
    fetched values too: they are secrets, and the caller scrubs them from the run's output.
  * A failed lookup raises :class:`LookupFailed` with a message naming the target credential,
    the input field and the source credential, never a secret (the source credential's
    secret inputs and every value fetched so far are masked out of it).
  * Nothing here writes: fetched values live in memory only.
"""
from __future__ import annotations

import os
from typing import Any

from ..registry import ENCRYPTED
from ..services import credential_inputs as ci
from . import centrify, cloud, cyberark, delinea, hashivault
from .base import Backend
from .http import LookupFailed

BACKENDS: dict[str, Backend] = {b.namespace: b for b in (
    *cyberark.BACKENDS, *hashivault.BACKENDS, *cloud.BACKENDS, *centrify.BACKENDS, *delinea.BACKENDS)}
TABLE = "credential_input_sources"


def backend_of(cred_type: dict | None) -> Backend | None:
    """The lookup of an external credential type row (None for any other type)."""
    if not cred_type or cred_type.get("kind") != "external":
        return None
    return BACKENDS.get(str(cred_type.get("namespace") or ""))


def _metadata_specs(cred_type: dict) -> list[dict]:
    specs = ci.as_dict(cred_type.get("inputs")).get("metadata") or []
    return [s for s in specs if isinstance(s, dict) and isinstance(s.get("id"), str)]


def check_metadata(source_type: dict, metadata: Any) -> list[str] | dict[str, list[str]]:
    """AWX's validation of an input source's ``metadata`` against its source credential type:
    ``[]`` when valid; a list of messages for the object as a whole; else {key: [messages]}."""
    if not isinstance(metadata, dict):
        return [f"{type(metadata).__name__} provided, expected dict"]
    specs = {s["id"]: s for s in _metadata_specs(source_type)}
    extra = sorted(k for k in metadata if k not in specs)
    if extra:
        names = ", ".join(repr(k) for k in extra)
        return [f"Additional properties are not allowed ({names} {'was' if len(extra) == 1 else 'were'} unexpected)"]
    errors: dict[str, list[str]] = {}
    for key, value in metadata.items():
        spec = specs[key]
        kind = spec.get("type", "string")
        if kind == "boolean" and not isinstance(value, bool):
            errors[key] = [f"{value!r} is not of type 'boolean'"]
        elif kind == "string" and not isinstance(value, str):
            errors[key] = [f"{value!r} is not of type 'string'"]
        elif spec.get("choices") and value not in spec["choices"]:
            errors[key] = [f"{value!r} is not one of {list(spec['choices'])!r}"]
    for key in ci.as_dict(source_type.get("inputs")).get("required") or []:
        if key in specs and not metadata.get(key) and key not in errors:
            errors[key] = [f"required for {source_type.get('name', 'this credential type')}"]
    return errors or []


def _defaults(cred_type: dict) -> dict[str, Any]:
    specs = ci.type_fields(cred_type) + _metadata_specs(cred_type)
    return {s["id"]: s["default"] for s in specs if "default" in s}


def task_env(ctx) -> dict[str, str]:
    """The environment a lookup runs in: the controller's, with ``AWX_TASK_ENV`` over it (as AWX
    runs its plugins), read now so a settings change applies to the next lookup."""
    extra = getattr(ctx.settings, "AWX_TASK_ENV", None) or {}
    return {**os.environ, **{str(k): str(v) for k, v in dict(extra).items()}}


def _scrub(message: str, secrets: list[str]) -> str:
    for value in sorted((s for s in secrets if isinstance(s, str) and len(s) >= 3), key=len, reverse=True):
        message = message.replace(value, ENCRYPTED)
    return message


def fetch(ctx, backend: Backend, source_inputs: dict, metadata: dict) -> str:
    """One lookup: the source credential's type defaults, its (decrypted) inputs, then the
    input source's metadata, handed to the backend."""
    return backend.fetch({**_defaults({"inputs": backend.inputs}), **source_inputs, **metadata}, task_env(ctx))


def credential_inputs(ctx, cred: dict, cred_type: dict) -> tuple[dict, list[str]]:
    """(inputs ready for injection, the values fetched from external sources) of ``cred``."""
    inputs = ci.decrypt_inputs(ctx.vault, cred_type, cred.get("inputs"))
    if cred_type.get("kind") == "external" or ctx.registry.get("credential_input_source") is None:
        return inputs, []
    sources = sorted(ctx.store.rows_referencing(TABLE, "target_credential", cred["id"]),
                     key=lambda row: row["input_field_name"])
    fetched: list[str] = []
    for source in sources:
        field_name = source["input_field_name"]
        origin = ctx.store.get("credentials", source["source_credential"]) or {}
        origin_type = ctx.store.get("credential_types", origin.get("credential_type")) or {}
        backend = backend_of(origin_type)
        what = (f"Could not fetch the input {field_name!r} of credential {cred['name']!r} from "
                f"{origin.get('name', 'a deleted credential')!r}")
        if backend is None:
            raise LookupFailed(f"{what}: it is not an external credential this controller can look up")
        origin_inputs = ci.decrypt_inputs(ctx.vault, origin_type, origin.get("inputs"))
        try:
            value = fetch(ctx, backend, origin_inputs, ci.as_dict(source.get("metadata")))
        except LookupFailed as exc:
            hidden = [v for k, v in origin_inputs.items() if k in ci.secret_fields(origin_type)] + fetched
            raise LookupFailed(f"{what} ({backend.name}): {_scrub(str(exc), hidden)}") from None
        inputs[field_name] = value
        fetched.append(value)
    return inputs, fetched


def test_lookup(ctx, cred_type: dict, inputs: dict, metadata: Any) -> None:
    """Run one lookup with ``inputs`` and ``metadata`` as given (AWX's external credential
    test); raises :class:`LookupFailed` (its message scrubbed of the given secrets)."""
    backend = backend_of(cred_type)
    if backend is None:
        raise LookupFailed("This credential type has no external lookup to test.")
    meta = metadata if isinstance(metadata, dict) else {}
    try:
        fetch(ctx, backend, inputs, meta)
    except LookupFailed as exc:
        raise LookupFailed(_scrub(str(exc), [v for k, v in inputs.items() if k in ci.secret_fields(cred_type)]))

"""What an external secret lookup is, as data: a :class:`Backend` pairs the managed credential
type AWX ships (namespace, name, ``inputs`` with ``fields``, ``metadata`` and ``required``) with
the function that fetches one value.

A backend's ``fetch(params, env)`` gets the source credential's decrypted inputs merged with
the input source's ``metadata`` (AWX's ``backend(**kwargs)``) and the environment a lookup runs
in (``AWX_TASK_ENV`` over the controller's own: endpoint overrides such as
``AWS_ENDPOINT_URL`` or ``AZURE_AUTHORITY_HOST`` come from there), and returns the value as
text or raises :class:`controller.lookups.http.LookupFailed`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .http import LookupFailed

Fetch = Callable[[dict[str, Any], Mapping[str, str]], str]


@dataclass(frozen=True)
class Backend:
    """One external credential type and its lookup."""

    namespace: str          # AWX's entry point name: "hashivault_kv"
    name: str               # the credential type's name: "HashiCorp Vault Secret Lookup"
    inputs: dict            # {"fields": [...], "metadata": [...], "required": [...]}
    fetch: Fetch


def field(fid: str, label: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    """One input or metadata field, as AWX declares it."""
    return {"id": fid, "label": label, "type": kind, **extra}


def secret(fid: str, label: str, **extra: Any) -> dict[str, Any]:
    return field(fid, label, secret=True, **extra)


def text(params: Mapping[str, Any], key: str, default: str = "") -> str:
    """A parameter as text ('' and None read as ``default``)."""
    value = params.get(key)
    return default if value in (None, "") else str(value)


def required(params: Mapping[str, Any], *keys: str) -> None:
    """Refuse a lookup that lacks a parameter it cannot do without (AWX: a KeyError)."""
    missing = [k for k in keys if params.get(k) in (None, "")]
    if missing:
        raise LookupFailed(f"missing {', '.join(missing)}")

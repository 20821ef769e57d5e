"""Licences and subscriptions as the open edition of AWX answers them (``/api/v2/config/``
POST/DELETE, ``/config/subscriptions/``, ``/config/attach/``), used by awx.awx's ``license``
and ``subscriptions`` modules.

Contracts (AWX open edition behaviour; nothing here ever contacts a network host):
  * The licence is always AWX's open one (:data:`OPEN_LICENSE`); it cannot be replaced.
  * POST ``config/`` without a manifest answers the licence in force (200).  A ``license_key``
    (legacy) is refused; a ``manifest`` is refused as AWX open refuses it: "Invalid manifest
    submitted." when it is not base64 of a zip archive, else "Invalid License".
  * DELETE ``config/`` removes nothing (there is no installed licence) and answers 204.
  * Subscriptions cannot be listed (Red Hat's service is not reached): 400 "Invalid
    Subscription"; attaching a pool: 400, "No subscription pool ID provided." without one.
  * Only superusers may write (403 otherwise); errors are AWX's ``{"error": "..."}`` bodies.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from typing import Any

from ..context import Context
from ..errors import APIError, PermissionDenied

OPEN_LICENSE = {"license_type": "open", "valid_key": True, "subscription_name": "OPEN", "product_name": "AWX"}
LEGACY = "Legacy license submitted. A subscription manifest is now required."


def _refuse(message: str) -> APIError:
    return APIError({"error": message}, status=400)


def _require_superuser(ctx: Context) -> None:
    if not ctx.is_superuser:
        raise PermissionDenied()


def _is_zip(manifest: Any) -> bool:
    try:
        raw = base64.b64decode(str(manifest), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        legacy = json.loads(raw)
    except ValueError:
        legacy = None
    if isinstance(legacy, dict) and "license_key" in legacy:
        raise _refuse(LEGACY)
    return zipfile.is_zipfile(io.BytesIO(raw))


def install_license(ctx: Context, data: Any) -> dict:
    """POST ``/api/v2/config/`` (see the module contract): the licence data, or APIError."""
    _require_superuser(ctx)
    if not isinstance(data, dict):
        raise _refuse("Invalid subscription data")
    if "license_key" in data:
        raise _refuse(LEGACY)
    if "manifest" in data:
        if not _is_zip(data["manifest"]):
            raise _refuse("Invalid manifest submitted.")
        raise _refuse("Invalid License")    # the open edition reads no subscription manifest
    return dict(OPEN_LICENSE)


def remove_license(ctx: Context) -> None:
    """DELETE ``/api/v2/config/``: nothing to remove (see the module contract)."""
    _require_superuser(ctx)


def list_subscriptions(ctx: Context, data: Any) -> list[dict]:
    """POST ``/api/v2/config/subscriptions/``: always refused here (see the module contract)."""
    _require_superuser(ctx)
    raise _refuse("Invalid Subscription")


def attach_subscription(ctx: Context, data: Any) -> dict:
    """POST ``/api/v2/config/attach/``: always refused here (see the module contract)."""
    _require_superuser(ctx)
    if not isinstance(data, dict) or not data.get("pool_id"):
        raise _refuse("No subscription pool ID provided.")
    raise _refuse("Error processing subscription metadata.")

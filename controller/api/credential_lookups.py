"""Action views of external credentials (AWX's External Credential Test): ``POST
/credentials/N/test/`` tries the lookup with the credential's stored inputs, the body's
``inputs`` over them (``$encrypted$`` keeps the stored secret) and the body's ``metadata``;
``POST /credential_types/N/test/`` tries it with the body's ``inputs`` and ``metadata`` only.
202 ``{}`` when the lookup succeeds, 400 ``{"inputs": "<why>"}`` when it does not (the reason
never carries a secret).  Testing a credential needs its use role, as AWX."""
from __future__ import annotations

from flask import Response

from .. import access
from ..errors import APIError
from ..lookups import LookupFailed, backend_of, test_lookup
from ..registry import ENCRYPTED
from ..services import credential_inputs as ci
from .actions import action
from .web import json_response, parse_body

_ALLOW = {"Allow": "POST, OPTIONS"}


def _run(ctx, cred_type: dict, inputs: dict, metadata) -> Response:
    if backend_of(cred_type) is None:
        raise APIError({"detail": "Only external credentials can be tested."}, status=400)
    try:
        test_lookup(ctx, cred_type, inputs, metadata)
    except LookupFailed as exc:
        return json_response({"inputs": str(exc)}, 400, _ALLOW)
    return json_response({}, 202, _ALLOW)


def _body() -> tuple[dict, object]:
    body = parse_body()
    body = body if isinstance(body, dict) else {}
    inputs = body.get("inputs")
    return (inputs if isinstance(inputs, dict) else {}), body.get("metadata") or {}


@action("test", resource="credential", methods=("POST",))
def credential_test_view(ctx, res, row) -> Response:
    access.require(access.holds(ctx, "credential", row["id"], "use_role"))
    cred_type = ctx.store.get("credential_types", row["credential_type"]) or {}
    given, metadata = _body()
    inputs = ci.decrypt_inputs(ctx.vault, cred_type, row.get("inputs"))
    inputs.update({k: v for k, v in given.items() if v != ENCRYPTED})
    return _run(ctx, cred_type, inputs, metadata)


@action("test", resource="credential_type", methods=("POST",))
def credential_type_test_view(ctx, res, row) -> Response:
    given, metadata = _body()
    return _run(ctx, row, given, metadata)

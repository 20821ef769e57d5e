"""The API's second address and per-request metrics, installed once on the app.

**``/api/controller/``** (AAP 2.5+ gateway layout; awx.awx selects it with
``CONTROLLER_OPTIONAL_API_URLPATTERN_PREFIX=/api/controller/``) serves every ``/api/`` route:
a WSGI wrapper maps the path onto ``/api/`` before Flask routes it, so no view is declared
twice.  As AWX does for a request under its optional prefix, the answer speaks the prefix back:
every JSON string that starts with ``/api/`` (``url``, ``related``, ``next``, summary links...)
and the ``Location`` header start with ``/api/controller/``.  That matters: the awx.awx
modules follow ``related`` links and would otherwise build ``/api/controller/v2/api/v2/...``.

**Request durations**: every answered request is observed by
:func:`controller.metrics.observe_request` under its URL rule (the pattern with the resource and
sub-list names filled in, ids left as ``<ident>``, so label values stay few), timed from the
moment the WSGI server handed it over.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable, Iterable

from flask import Flask, Response, current_app, request

from .. import metrics

API = "/api/"
ALIAS = "/api/controller/"
_FLAG = "turret.api_alias"       # WSGI environ key: the request came in under ALIAS
_STARTED = "turret.started"


def _alias_value(value: Any) -> Any:
    """``value`` with each string that starts with ``/api/`` moved under ``/api/controller/``."""
    if isinstance(value, str):
        return ALIAS + value[len(API):] if value.startswith(API) and not value.startswith(ALIAS) else value
    if isinstance(value, dict):
        return {k: _alias_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_alias_value(v) for v in value]
    return value


def _alias_response(resp: Response) -> None:
    """Rewrite ``resp`` (answering a request made under ALIAS) so its links point there too."""
    location = resp.headers.get("Location")
    if location:
        resp.headers["Location"] = _alias_value(location)
    if resp.is_streamed or resp.mimetype != "application/json":
        return
    text = resp.get_data(as_text=True)
    if API not in text:
        return
    body = json.loads(text)
    resp.set_data(json.dumps(_alias_value(body), separators=(",", ":"), allow_nan=False))


# URL-rule arguments whose values are few (resource plurals, sub-list and action names): the
# route label shows them, so ``/api/v2/<plural>/`` reads ``/api/v2/hosts/``; ids stay patterns
_NAMED_ARGS = re.compile(r"<(?:[^:>]+:)?(plural|sub)>")


_ROUTES: dict[tuple, str] = {}     # (rule, plural, sub) -> label: as few as the label values


def _route() -> str:
    rule = request.url_rule
    if rule is None:
        return "(unmatched)"
    args = request.view_args or {}
    key = (rule.rule, args.get("plural"), args.get("sub"))
    label = _ROUTES.get(key)
    if label is not None:
        return label
    named = dict(args)
    if "sub" in args and not _declared_sub(args.get("plural"), args["sub"]):
        named.pop("sub")      # any text reaches the rule: only declared names become label values
    label = _NAMED_ARGS.sub(lambda m: str(named.get(m.group(1), m.group(0))), rule.rule)
    if "sub" not in args or "sub" in named:
        _ROUTES[key] = label
    return label


def _declared_sub(plural: str | None, sub: str) -> bool:
    """Whether ``sub`` is a sub-list or an action of the resource served as ``plural``."""
    res = current_app.config["TURRET"].registry.by_plural(plural) if plural else None
    return res is not None and (sub in res.actions or res.relation(sub) is not None)


def unaliased(path: str) -> str:
    """``path`` under ``/api/`` when it was asked under :data:`ALIAS`, else itself."""
    return API + path[len(ALIAS):] if path.startswith(ALIAS) or path == ALIAS.rstrip("/") else path


def install(app: Flask) -> None:
    """Serve the API under ``/api/controller/`` too and time every request."""
    inner: Callable = app.wsgi_app

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        environ[_STARTED] = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if path.startswith(ALIAS) or path == ALIAS.rstrip("/"):
            environ[_FLAG] = True
            environ["PATH_INFO"] = unaliased(path)
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

    @app.after_request
    def _after(resp: Response) -> Response:
        if request.environ.get(_FLAG):
            _alias_response(resp)
        started = request.environ.get(_STARTED)
        if started is not None:
            metrics.observe_request(request.method, _route(), resp.status_code, time.perf_counter() - started)
        return resp

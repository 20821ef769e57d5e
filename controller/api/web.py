"""Request/response plumbing shared by every view: body parsing, JSON rendering, headers,
authentication of each request, CSRF, and the error handlers.
"""
from __future__ import annotations

import base64
import json
import secrets
import socket
import time
from typing import Any, Callable

import orjson
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ..config import AWX_COMPAT_VERSION, VERSION
from ..context import Context
from ..errors import APIError, MethodNotAllowed, NotAuthenticated, NotFound, ParseError, PermissionDenied
from ..query import ForbiddenFilter, QueryError, parse_int64
from ..services import metadata, named_urls
from ..services.validation import JSONInputError, load_json

SESSION_COOKIE = "awx_sessionid"
CSRF_COOKIE = "csrftoken"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_ALLOW_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")   # as AWX lists Allow
# Fixed routes anyone may call (AWX's AllowAny views): a method they lack is a 405 even
# without credentials; every other route asks for a login first (DRF authenticates before it
# looks for the method's handler).  Not the views marked @public: those also take in
# metrics/ (public only to decide access itself; AWX's default is a 401) and openapi.json
# (Turret's own); a new AllowAny route belongs in both.
_ANONYMOUS_ENDPOINTS = frozenset({
    "root.api_root", "root.api_v2_root", "root.ping", "root.login", "root.logout",
    "oauth.oauth_root", "oauth.authorize", "oauth.token", "oauth.revoke_token", "webhooks.receiver"})
_NODE = socket.gethostname()
# the headers of every answer (AWX's), and the one added for a signed-in user
_ANYONE = (("X-API-Product-Name", "AWX"), ("X-Turret-Version", VERSION), ("X-API-Node", _NODE))
_SIGNED_IN = (*_ANYONE, ("X-API-Product-Version", AWX_COMPAT_VERSION))


def public(view: Callable) -> Callable:
    """Mark a view as reachable without authentication."""
    view.public = True  # type: ignore[attr-defined]
    return view


def slow(view: Callable) -> Callable:
    """Mark a view whose answer may take long to compute (it aggregates over a history that
    grows): granian's workers answer it on their pool, not on the loop that answers the other
    reads one after the other (:func:`slow_paths`, ``api.rsgi``)."""
    view.slow = True  # type: ignore[attr-defined]
    return view


def slow_paths(app: Flask) -> frozenset[str]:
    """The paths of ``app``'s routes whose view is marked :func:`slow`, each ending in ``/``.
    Only fixed paths can be: a route with arguments raises (declare an action ``slow``)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions.get(rule.endpoint), "slow", False):
            if rule.arguments:
                raise ValueError(f"{rule.rule}: only a fixed path can be marked slow")
            paths.add(rule.rule.rstrip("/") + "/")
    return frozenset(paths)


def _finite(value: Any) -> Any:
    """``value`` with NaN/Infinity floats (YAML ``.nan`` in variables ...) replaced by null."""
    if isinstance(value, float) and value - value != 0:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _dumps(body: Any) -> str | bytes:
    """Strict JSON: Python's ``NaN`` literals are not JSON, and clients' parsers refuse them.

    orjson first (a 25-object list page: 0.03 ms against 0.16 ms; it writes NaN as null, as
    ``_finite`` does); the standard library for what orjson refuses (integers past 64 bits,
    lone surrogates), with the same compact separators."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(body), separators=(",", ":"), allow_nan=False)


class App(Flask):
    """Flask, with ``ensure_sync`` decided once per function: Flask asks it of every hook and
    view on every request (an ``inspect`` look at its code each time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        try:
            return self._sync[func]
        except KeyError:
            if len(self._sync) >= 4096:     # a callable made per request must not grow it for ever
                self._sync.clear()
            made = self._sync[func] = super().ensure_sync(func)
            return made
        except TypeError:       # an unhashable callable
            return super().ensure_sync(func)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = "" if body is None else _dumps(body)
    resp = Response(text, status=status, mimetype="application/json" if body is not None else None)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def parse_body() -> Any:
    """The JSON request body (``{}`` when empty), with AWX's parse errors.

    Strict (see :func:`controller.services.validation.load_json`): NaN/Infinity, nesting past
    64 levels and lone surrogates are 400 here, before any service sees the value.
    """
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        return {}
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise APIError({"detail": "You did not use correct Content-Type in your HTTP request. If you are "
                                  "using our REST API, the Content-Type must be application/json"}, status=415)
    try:
        value = load_json(raw)
    except JSONInputError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    except ValueError as exc:     # includes UnicodeDecodeError
        raise ParseError(f"JSON parse error - {exc}\nPossible cause: trailing comma.") from None
    if not isinstance(value, dict):
        raise ParseError("JSON parse error - not a JSON object")
    return value


def query_args() -> list[tuple[str, str]]:
    return list(request.args.items(multi=True))


def ctx() -> Context:
    return g.ctx


def _login_first(valid: set[str]) -> bool:
    """Whether a request refused by routing for its method (``valid``: the route's methods)
    must be answered 401 instead: nobody is signed in and the route is not one of
    :data:`_ANONYMOUS_ENDPOINTS`."""
    c = getattr(g, "ctx", None)
    if c is None or c.user is not None:
        return False
    try:
        endpoint, _args = current_app.create_url_adapter(request).match(   # type: ignore[union-attr]
            method="GET" if "GET" in valid else sorted(valid)[0])
    except HTTPException:
        return False
    return endpoint not in _ANONYMOUS_ENDPOINTS


def require_user() -> Context:
    c = g.ctx
    if c.user is None:
        raise NotAuthenticated()
    return c


def options_body(name: str, actions: dict | None) -> dict:
    """DRF's OPTIONS body of a view outside the registry: its name, what it renders and parses,
    and ``actions`` (``{verb: fields}``) when given (AWX's index views have none)."""
    body: dict[str, Any] = {"name": name, "description": "", "renders": metadata.RENDERS, "parses": metadata.PARSES}
    if actions is not None:
        body["actions"] = actions
    return body


def one_verb_view(verb: str, options: Callable[[Context], dict], run: Callable[[Context], Any]) -> Response:
    """The whole of a view that answers one verb and OPTIONS: a signed-in user is required;
    OPTIONS answers ``options(ctx)``, ``verb`` (GET, which brings HEAD, or POST) answers
    ``run(ctx)`` with 200, any other method is refused with 405; every answer carries the
    view's Allow header, as DRF's do."""
    c = require_user()
    verbs = ("GET", "HEAD") if verb == "GET" else (verb,)
    allow = ", ".join((*verbs, "OPTIONS"))
    g.allow = allow
    if request.method == "OPTIONS":
        return json_response(options(c), headers={"Allow": allow})
    if request.method not in verbs:
        raise MethodNotAllowed(request.method)
    return json_response(run(c), headers={"Allow": allow})


def path_id(ident: str) -> int | None:
    """The id an ASCII-digit path segment names, None for any other text (a named URL ...).

    Digits beyond 64 bits name no row: ``NotFound``, not an id SQLite would refuse to bind.
    """
    if not (ident.isascii() and ident.isdigit()):
        return None
    try:
        return parse_int64(ident)
    except ValueError:
        raise NotFound() from None


def resolve_pk(ctx: Context, resource, ident: str) -> int:
    """Integer id, or an AWX named-URL identifier resolved to one (404 when unknown).

    Only ASCII digits are ids: ``"١"`` or ``"³"`` are looked up as names like any other text.
    """
    pk = path_id(ident)
    if pk is not None:
        return pk
    pk = named_urls.resolve(ctx, resource, ident)
    if pk is None:
        raise NotFound()
    return pk


def query_int(name: str) -> int | None:
    """A non-negative 64-bit integer query argument, None when absent or anything else."""
    try:
        value = parse_int64(request.args.get(name) or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def client_address() -> str:
    return request.remote_addr or "unknown"


# -- per-request authentication -------------------------------------------------------------
def _authenticate(app_state) -> None:
    c = Context(store=app_state.store, registry=app_state.registry, settings=app_state.settings,
                vault=app_state.vault, jobs=app_state.dispatcher)
    g.ctx = c
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    is_public = bool(getattr(view, "public", False))
    header = request.headers.get("Authorization", "")
    scheme, _, cred = header.partition(" ")
    scheme = scheme.lower()
    try:
        if scheme == "bearer" and cred:
            found = app_state.auth.bearer(cred.strip())
            if found:
                c.user, c.scope = found
        elif scheme == "basic" and cred and not getattr(view, "oauth_client", False):
            try:
                username, _, password = base64.b64decode(cred.strip()).decode().partition(":")
            except ValueError:
                raise NotAuthenticated("Invalid basic header. Credentials not correctly base64 encoded.")
            c.user = app_state.auth.basic(username, password, client_address())
        if c.user is None and request.cookies.get(SESSION_COOKIE):
            user = app_state.auth.session_user(request.cookies[SESSION_COOKIE])
            if user is not None:
                c.user = user
                g.session_auth = True
                _check_csrf()
    except (NotAuthenticated, APIError):
        if not is_public:
            raise
        c.user = None


def _check_csrf() -> None:
    """Session-authenticated writes must echo the csrftoken cookie (Django's rule)."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get("X-CSRFToken") or request.form.get("csrfmiddlewaretoken")
    if not cookie or not sent or not secrets.compare_digest(cookie, sent):
        raise PermissionDenied("CSRF Failed: CSRF token missing or incorrect.")


def set_csrf_cookie(resp: BaseResponse, rotate: bool = False) -> str:
    token = request.cookies.get(CSRF_COOKIE)
    if rotate or not token:
        token = secrets.token_hex(32)
        resp.set_cookie(CSRF_COOKIE, token, max_age=31449600, samesite="Lax", path="/",
                        secure=current_app.config["TURRET"].settings.COOKIE_SECURE)
    return token


def install(app: Flask, app_state) -> None:
    """Hook authentication, headers and error rendering into the app."""

    @app.before_request
    def _before() -> None:
        g.started = time.perf_counter()
        _authenticate(app_state)
        c = g.ctx
        if c.user is not None and not c.may_write and request.method not in SAFE_METHODS:
            raise PermissionDenied()

    @app.after_request
    def _after(resp: Response) -> Response:
        # added, not set: no view sets these, and one extend costs a third of five sets
        found = g._get_current_object()
        c = getattr(found, "ctx", None)
        started = getattr(found, "started", None)
        resp.headers.extend([
            *(_SIGNED_IN if c is not None and c.user is not None else _ANYONE),
            *([("X-API-Time", f"{time.perf_counter() - started:.3f}s")] if started is not None else []),
        ])
        resp.headers.setdefault("Vary", "Accept")
        return resp

    @app.errorhandler(APIError)
    def _api_error(exc: APIError) -> Response:
        headers = dict(exc.headers)
        if exc.status == 405 and "Allow" not in headers and g.get("allow"):
            headers["Allow"] = g.allow      # DRF sends Allow with every answer of a view
        return json_response(exc.body, exc.status, headers)

    @app.errorhandler(QueryError)
    def _query_error(exc: QueryError) -> Response:
        return json_response({"detail": exc.message}, 400)

    @app.errorhandler(ForbiddenFilter)
    def _forbidden_filter(exc: ForbiddenFilter) -> Response:
        return json_response({"detail": exc.message}, 403)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> BaseResponse:
        if exc.code in (301, 302, 307, 308):
            return exc.get_response()
        if exc.code == 404:
            body = {"detail": "Not found."}
        elif exc.code == 405:
            body = {"detail": f'Method "{request.method}" not allowed.'}
            valid = set(getattr(exc, "valid_methods", None) or ())     # the route's own, in DRF's order
            if valid and _login_first(valid):
                return _api_error(NotAuthenticated())
            if valid:
                return json_response(body, 405, {"Allow": ", ".join(m for m in _ALLOW_ORDER if m in valid)})
        elif exc.code == 413:
            body = {"detail": f"Request body exceeds the limit of {app_state.settings.MAX_BODY_BYTES} bytes."}
        else:
            body = {"detail": exc.description or exc.name}
        return json_response(body, exc.code or 500)

    # Backstop only: each known cause is fixed where the input is parsed.  These escape only
    # from input nobody validated yet (an int SQLite cannot bind, a structure too deep to walk,
    # text SQLite cannot encode), so they are the client's 400, logged for the operators.
    @app.errorhandler(OverflowError)
    @app.errorhandler(RecursionError)
    @app.errorhandler(UnicodeError)
    def _unparsed_input(exc: Exception) -> Response:
        app.logger.warning("input error reached the backstop on %s %s: %r", request.method, request.path, exc)
        return json_response({"detail": f"Invalid input: {type(exc).__name__}."}, 400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Log the traceback for operators; never send it to the client.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"detail": "A server error occurred."}, 500)

"""Plumbing shared by the UI pages: login guard, CSRF token, error pages, list helpers."""
from __future__ import annotations

import re
import shlex
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..api.web import CSRF_COOKIE, SESSION_COOKIE, public, set_csrf_cookie
from ..errors import APIError, NotFound, ValidationError
from ..query import ForbiddenFilter, QueryError
from ..services import crud
from ..services.metadata import detail_allow
from ..services.serializer import serialize_one
from ..status import ACTIVE, FINISHED  # noqa: F401 - the job pages' status vocabulary
from .blueprint import bp


def ctx():
    return g.ctx


def registry(name: str):
    return g.ctx.registry[name]


def page_view(view: Callable) -> Callable:
    """A UI page: anonymous visitors are sent to the login page (the API would answer 401)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if g.ctx.user is None:
            return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    # Not marked public: the web layer's failures (a write without the CSRF token, bad Basic
    # credentials) must stay errors here too, not silently turn the visitor anonymous.
    return wrapper


def render(template: str, _code: int = 200, **values: Any) -> Response:
    resp = current_app.make_response((render_template(f"ui/{template}", **values), _code))
    values_token = request.cookies.get(CSRF_COOKIE)
    if not values_token:
        set_csrf_cookie(resp)
    return resp


def csrf_token() -> str:
    """The token forms echo; a fresh one is minted (and set) by ``render`` when missing."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = g.get("ui_csrf")
        if not token:
            import secrets
            token = g.ui_csrf = secrets.token_hex(32)
    return token


@bp.app_template_global()
def ui_csrf() -> str:
    return csrf_token()


@bp.after_request
def _csrf_cookie(resp: Response) -> Response:
    token = g.get("ui_csrf")
    if token and not request.cookies.get(CSRF_COOKIE):
        resp.set_cookie(CSRF_COOKIE, token, max_age=31449600, samesite="Lax", path="/",
                        secure=current_app.config["TURRET"].settings.COOKIE_SECURE)
    resp.headers.setdefault("Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    return resp


ERROR_TITLES = {401: "Log in required", 403: "Permission denied", 404: "Not found", 405: "Method not allowed"}


def error_page(code: int, messages: list[str]) -> Response:
    """The HTML error page of everything under /ui/ (403, 404, 405 ...): error.html, inside the
    layout, with the API's messages."""
    return render("error.html", _code=code, title=ERROR_TITLES.get(code, "Error"), problems=messages, code=code)


@bp.errorhandler(APIError)
def _api_error(exc: APIError):
    if exc.status == 401:
        return redirect(url_for("ui.login", next=request.path))
    return error_page(exc.status, flatten_errors(exc.body))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    """Any /ui/ address no page answers: the HTML 404 (405 when a page exists for another
    method).  Werkzeug ranks this catch-all last, so every real page wins."""
    adapter = current_app.url_map.bind("")
    for method in ("GET", "POST"):
        if method == request.method:
            continue
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "ui.not_found":
            raise APIError({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    if g.ctx.user is None:
        return redirect(url_for("ui.login", next=request.path))
    raise NotFound()


def flatten_errors(body: Any, prefix: str = "") -> list[str]:
    """An API error body ({"field": ["msg"]} / {"detail": "..."}) as readable lines."""
    if isinstance(body, dict):
        out = []
        for key, value in body.items():
            label = "" if key in ("detail", "error", "__all__", "non_field_errors") else key
            out += flatten_errors(value, f"{prefix}{label}: " if label else prefix)
        return out
    if isinstance(body, list):
        out = []
        for item in body:
            out += flatten_errors(item, prefix)
        return out
    return [f"{prefix}{body}"]


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    body = exc.body if isinstance(exc.body, dict) else {"detail": exc.body}
    return {k: flatten_errors(v) for k, v in body.items()}


QUERY_KEY = re.compile(r"^(?:or__|not__|chain__)*[A-Za-z_][A-Za-z0-9_]*(?:__[A-Za-z0-9_]+)*$")
ALWAYS = ("page", "page_size", "order_by")


def search_args(text: str) -> list[tuple[str, str]]:
    """The search box's text as query arguments: ``key=value`` words are AWX query language
    (``name__icontains=web``, ``or__kind=smart``), the other words one ``search=`` term."""
    try:
        words = shlex.split(text)
    except ValueError:        # an unbalanced quote: the words as typed
        words = text.split()
    args, plain = [], []
    for word in words:
        key, eq, value = word.partition("=")
        if eq and QUERY_KEY.match(key) and key not in ALWAYS:
            args.append((key, value))
        else:
            plain.append(word)
    if plain:
        args.append(("search", " ".join(plain)))
    return args


def list_args(allowed: tuple[str, ...], page_size: int = 25) -> list[tuple[str, str]]:
    """Query-language arguments for a list page, from the page's own query string: the keys the
    page allows, paging and sorting, and the search box (``search_args``)."""
    args: list[tuple[str, str]] = []
    for k, v in request.args.items(multi=True):
        if v == "":
            continue
        if k == "search" and "search" in allowed:
            args += search_args(v)
        elif k in allowed or k in ALWAYS:
            args.append((k, v))
    if not any(k == "page_size" for k, _ in args):
        args.append(("page_size", str(page_size)))
    return args


def listing(resource, args: list[tuple[str, str]], scope=None) -> dict:
    """One page of a list, plus the links the pager needs (page numbers, not API URLs).  A search
    the query language refuses is an empty page with the reason in ``query_error``."""
    try:
        data = crud.list_page(ctx(), resource, args, request.path, scope=scope)
    except (QueryError, ForbiddenFilter) as exc:
        return {"count": 0, "results": [], "page": 1, "pages": 1, "next_href": None, "prev_href": None,
                "query_error": exc.message}
    except APIError as exc:
        if exc.status == 404:        # a page past the end: show the first one
            args = [(k, v) for k, v in args if k != "page"]
            data = crud.list_page(ctx(), resource, args, request.path, scope=scope)
        else:
            raise
    page = int(dict(args).get("page", 1) or 1)
    keep = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    data["page"] = page
    data["next_href"] = f"?{urlencode(keep + [('page', page + 1)])}" if data.get("next") else None
    data["prev_href"] = f"?{urlencode(keep + [('page', page - 1)])}" if data.get("previous") else None
    size = int(dict(args).get("page_size", 25))
    data["pages"] = max(1, -(-(data.get("count") or 0) // size))
    return data


@bp.app_template_global()
def sort_href(key: str) -> tuple[str, str]:
    """(link, aria-sort state) of a sortable column header: ascending first, then descending."""
    current = request.args.get("order_by", "")
    keep = [(k, v) for k, v in request.args.items(multi=True) if k not in ("order_by", "page")]
    if current == key:
        return f"?{urlencode(keep + [('order_by', '-' + key)])}", "ascending"
    state = "descending" if current == f"-{key}" else "none"
    return f"?{urlencode(keep + [('order_by', key)])}", state


def allows_delete(resource) -> bool:
    """Whether ``resource``'s detail answers DELETE at all: its declared methods, as the API's
    ``Allow`` header (and OPTIONS) list them."""
    return "DELETE" in detail_allow(resource).split(", ")


def ui_object(resource, row: dict) -> dict:
    """The API object of ``row`` as the pages show it: its ``user_capabilities.delete`` is false
    when the resource's declared methods have no DELETE (a capability may still say true: it
    follows the user's rights, not the methods), so no page's Delete button (each follows that
    capability) offers what the API would refuse with a 405."""
    obj = serialize_one(ctx(), resource, row)
    summary = obj.get("summary_fields")
    if isinstance(summary, dict) and (summary.get("user_capabilities") or {}).get("delete") \
            and not allows_delete(resource):
        obj["summary_fields"] = {**summary, "user_capabilities": {**summary["user_capabilities"], "delete": False}}
    return obj


def detail(resource, pk: int) -> tuple[dict, dict]:
    """(row, :func:`ui_object`) of something the user may read (403/404 otherwise)."""
    row = crud.get_row(ctx(), resource, pk)
    return row, ui_object(resource, row)


def caps(obj: dict) -> dict:
    return obj.get("summary_fields", {}).get("user_capabilities", {})


# -- layout: navigation and branding ------------------------------------------------------
NAV: tuple[tuple[str, str, dict], ...] = (
    ("Dashboard", "ui.dashboard", {}), ("Templates", "ui.templates", {}), ("Jobs", "ui.jobs", {}),
    ("Schedules", "ui.schedules", {}), ("Approvals", "ui.approvals", {}), ("Inventories", "ui.inventories", {}),
    ("Hosts", "ui.generic_list", {"plural": "hosts"}), ("Projects", "ui.projects", {}),
    ("Credentials", "ui.credentials", {}), ("Notifications", "ui.notification_templates", {}),
    ("Organizations", "ui.generic_list", {"plural": "organizations"}),
    ("Users", "ui.generic_list", {"plural": "users"}), ("Teams", "ui.generic_list", {"plural": "teams"}),
    ("Credential types", "ui.generic_list", {"plural": "credential_types"}),
    ("Tokens", "ui.generic_list", {"plural": "tokens"}), ("Activity", "ui.activity", {}),
)


@bp.app_template_global()
def ui_nav() -> list[tuple[str, str, dict]]:
    """The main menu: pages that exist (a page module may not be loaded), Settings for those
    who may read them (superusers and system auditors)."""
    views = current_app.view_functions
    items = [item for item in NAV if item[1] in views]
    if g.ctx.user is not None and g.ctx.is_auditor and "ui.settings_index" in views:
        items.append(("Settings", "ui.settings_index", {}))
    return items


@bp.app_template_global()
def ui_logo() -> str:
    """The CUSTOM_LOGO setting (a data: URL, validated when stored), read per request."""
    return str(current_app.config["TURRET"].settings.CUSTOM_LOGO or "")


# -- login / logout ------------------------------------------------------------------------
@bp.route("/login", methods=["GET"])
@public
def login():
    nxt = request.args.get("next") or url_for("ui.dashboard")
    if not nxt.startswith("/ui") or nxt.startswith("//"):
        nxt = url_for("ui.dashboard")
    if g.ctx.user is not None:
        return redirect(nxt)
    settings = current_app.config["TURRET"].settings   # read per request: a changed setting shows at once
    return render("login.html", next=nxt, custom_logo=settings.CUSTOM_LOGO,
                  custom_login_info=settings.CUSTOM_LOGIN_INFO)


@bp.route("/logout", methods=["POST"])
@page_view
def logout():
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        current_app.config["TURRET"].auth.end_session(key)
    resp = redirect(url_for("ui.login"))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    resp.set_cookie("userLoggedIn", "false", samesite="Lax", path="/")
    return resp


@bp.app_template_filter("when")
def _when(value: Any) -> str:
    if not value:
        return "—"
    return str(value).replace("T", " ")[:19]


@bp.app_template_filter("elapsed")
def _elapsed(value: Any) -> str:
    try:
        secs = float(value or 0)
    except (TypeError, ValueError):
        return "—"
    if secs < 60:
        return f"{secs:.1f}s"
    return f"{int(secs // 60)}m {int(secs % 60)}s"


@bp.app_template_filter("dig")
def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


@bp.app_template_test("search")
def _contains(value: Any, needle: str) -> bool:
    return needle in str(value)

"""Root endpoints (/api/, /api/v2/, ping, config, me, openapi) and session login/logout."""
from __future__ import annotations

import html
from importlib import metadata as pkg_metadata

from flask import Blueprint, Response, current_app, g, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ..config import AWX_COMPAT_VERSION, VERSION
from ..errors import APIError, Throttled
from ..services import instances, openapi
from ..services.serializer import serialize
from . import subscriptions as subscription_views
from .actions import view_for
from .web import (CSRF_COOKIE, SESSION_COOKIE, client_address, json_response, public,
                  require_user, set_csrf_cookie)

bp = Blueprint("root", __name__)

# AWX's key order for /api/v2/; only keys of resources that exist are shown.
_AWX_ORDER = ("ping", "instances", "instance_groups", "config", "settings", "me", "dashboard",
              "organizations", "users", "execution_environments", "projects", "project_updates", "teams",
              "credentials", "credential_types", "credential_input_sources", "applications", "tokens",
              "metrics", "inventory", "constructed_inventory", "inventory_sources", "inventory_updates",
              "groups", "hosts", "host_metrics", "job_templates", "jobs", "ad_hoc_commands",
              "system_job_templates", "system_jobs", "schedules", "roles", "notification_templates",
              "notifications", "labels", "unified_job_templates", "unified_jobs", "activity_stream",
              "workflow_job_templates", "workflow_jobs", "workflow_approvals",
              "workflow_job_template_nodes", "workflow_job_nodes")
BECOME_METHODS = [["sudo", "Sudo"], ["su", "Su"], ["pbrun", "Pbrun"], ["pfexec", "Pfexec"],
                  ["dzdo", "DZDO"], ["pmrun", "Pmrun"], ["runas", "Runas"], ["enable", "Enable"],
                  ["doas", "Doas"], ["ksu", "Ksu"], ["machinectl", "Machinectl"], ["sesu", "Sesu"]]


def _state():
    return current_app.config["TURRET"]


@bp.route("/api/", methods=["GET", "HEAD"])
@public
def api_root() -> Response:
    resp = json_response({
        "description": "Turret REST API (AWX API v2 compatible)",
        "current_version": "/api/v2/",
        "available_versions": {"v2": "/api/v2/"},
        "oauth2": "/api/o/",
        "custom_logo": _state().settings.CUSTOM_LOGO,
        "custom_login_info": _state().settings.CUSTOM_LOGIN_INFO,
        "login_redirect_override": "",
    })
    set_csrf_cookie(resp)
    return resp


@bp.route("/api/v2/", methods=["GET", "HEAD"])
@public
def api_v2_root() -> Response:
    links = {"ping": "/api/v2/ping/", "config": "/api/v2/config/", "settings": "/api/v2/settings/", "me": "/api/v2/me/",
             "unified_jobs": "/api/v2/unified_jobs/", "unified_job_templates": "/api/v2/unified_job_templates/",
             "dashboard": "/api/v2/dashboard/", "metrics": "/api/v2/metrics/",
             "system_job_templates": "/api/v2/system_job_templates/"}
    for res in g.ctx.registry.endpoints():
        if res.listed:
            links[res.api_key] = res.list_url
    links["bulk"] = "/api/v2/bulk/"   # the bulk API (api/bulk.py)
    ordered = {k: links[k] for k in _AWX_ORDER if k in links}
    ordered.update({k: v for k, v in links.items() if k not in ordered})
    return json_response(ordered)


def _install_uuid() -> str:
    return _state().install_uuid


@bp.route("/api/v2/ping/", methods=["GET", "HEAD"])
@public
def ping() -> Response:
    topology = instances.topology(g.ctx)
    return json_response({
        "ha": len(topology["instances"]) > 1, "version": AWX_COMPAT_VERSION, "turret_version": VERSION,
        "active_node": _state().node_name, "install_uuid": _install_uuid(), **topology,
    })


def _ansible_version() -> str:
    try:
        return pkg_metadata.version("ansible-core")
    except pkg_metadata.PackageNotFoundError:
        return ""


@bp.route("/api/v2/config/", methods=["GET", "HEAD", "POST", "DELETE"])
def config() -> Response:
    if request.method in ("POST", "DELETE"):     # licence install / removal (AWX open edition)
        return subscription_views.config_write(request.method)
    ctx = require_user()
    body = {
        "time_zone": "UTC",
        "license_info": {"license_type": "open", "valid_key": True, "subscription_name": "OPEN",
                         "product_name": "AWX"},
        "version": AWX_COMPAT_VERSION,
        "turret_version": VERSION,
        "ansible_version": _ansible_version(),
        "eula": "",
        "analytics_status": "off",
        "analytics_collectors": {},
        "become_methods": BECOME_METHODS,
    }
    if ctx.is_auditor:
        body["project_base_dir"] = str(ctx.settings.data_dir / "projects")
        body["project_local_paths"] = []
        body["custom_virtualenvs"] = []
    return json_response(body)


@bp.route("/api/v2/me/", methods=["GET", "HEAD"])
def me() -> Response:
    ctx = require_user()
    user = ctx.store.get("users", ctx.user_id)
    results = serialize(ctx, ctx.registry["user"], [user])
    return json_response({"count": 1, "next": None, "previous": None, "results": results})


@bp.route("/api/v2/openapi.json", methods=["GET", "HEAD"])
@public
def openapi_document() -> Response:
    return json_response(openapi.document(g.ctx.registry, action_methods=_action_methods))


def _action_methods(res, name: str) -> tuple[str, ...]:
    """Methods the view of ``/<res>/<id>/<name>/`` serves (its declaration), () when none."""
    view = view_for(res, name)
    return tuple(view.methods) if view is not None else ()


# -- session login ----------------------------------------------------------------------------
_FORM = """<!doctype html><html><head><title>Log in | Turret</title></head><body>
<h1>Turret REST API</h1>{error}
<form method="post" action="/api/login/">
<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password"
 autocomplete="current-password"></p>
<p><button type="submit">Log in</button></p></form></body></html>"""


def _form(status: int, error: str = "") -> Response:
    resp = Response("", status=status, mimetype="text/html")
    token = set_csrf_cookie(resp)
    nxt = request.values.get("next", "/api/")
    msg = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    resp.set_data(_FORM.format(error=msg, csrf=html.escape(token), next=html.escape(nxt)))
    return resp


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/api/"
    return target


@bp.route("/api/login/", methods=["GET", "POST", "HEAD"])
@public
def login() -> BaseResponse:
    if request.method != "POST":
        return _form(200)
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get("X-CSRFToken") or request.form.get("csrfmiddlewaretoken")
    if not cookie or cookie != sent:
        raise APIError({"detail": "CSRF Failed: CSRF token missing or incorrect."}, status=403)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    try:
        user = _state().auth.check_password(username, password, client_address())
    except Throttled as exc:
        return _form(429, exc.body["detail"])
    if user is None:
        return _form(401, "Please enter a correct username and password. Note that both fields may be "
                          "case-sensitive.")
    key = _state().auth.start_session(user["id"])
    resp = redirect(_safe_next(request.form.get("next") or request.args.get("next")), code=302)
    secure = _state().settings.COOKIE_SECURE
    resp.set_cookie(SESSION_COOKIE, key, httponly=True, samesite="Lax", path="/", secure=secure,
                    max_age=_state().settings.SESSION_AGE)
    resp.set_cookie("userLoggedIn", "true", samesite="Lax", path="/", secure=secure)
    set_csrf_cookie(resp, rotate=True)
    resp.headers["X-API-Session-Cookie-Name"] = SESSION_COOKIE
    return resp


@bp.route("/api/logout/", methods=["GET", "POST"])
@public
def logout() -> BaseResponse:
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        _state().auth.end_session(key)
    resp = redirect("/api/", code=302)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    resp.set_cookie("userLoggedIn", "false", samesite="Lax", path="/")
    return resp

"""Action sub-resources (``copy``, later ``launch``, ``update``, ``cancel`` ...).

A resource names its actions in its declaration; this module maps each name to a view that
parses the request, calls a service and renders.  Per-resource variants are keyed
``(resource name, action)`` and win over the generic one.
"""
from __future__ import annotations

from typing import Callable

from flask import Response, g, request

from .. import access
from ..errors import MethodNotAllowed
from ..query import parse_int64
from ..services import crud
from ..services.serializer import serialize_one
from .web import json_response, parse_body

ActionView = Callable[..., Response]
VIEWS: dict[str, ActionView] = {}
RESOURCE_VIEWS: dict[tuple[str, str], ActionView] = {}


def action(name: str, resource: str | None = None,
           methods: tuple[str, ...] = ("GET", "POST")) -> Callable[[ActionView], ActionView]:
    """Register ``view`` for the action ``name`` (of every resource naming it, or of ``resource``).

    ``methods`` is the contract: :func:`dispatch` answers any other method 405 before the view
    runs, OPTIONS announces them in ``Allow``, and the OpenAPI document lists them.
    """
    def register(view: ActionView) -> ActionView:
        view.methods = tuple(methods)  # type: ignore[attr-defined]
        if resource:
            RESOURCE_VIEWS[(resource, name)] = view
        else:
            VIEWS[name] = view
        return view
    return register


def dispatch(ctx, res, ident: str, name: str) -> Response:
    view = view_for(res, name)
    if view is None:
        raise MethodNotAllowed(request.method)
    g.allow = allow_header(view)
    if request.method not in (*view.methods, "HEAD", "OPTIONS"):
        raise MethodNotAllowed(request.method)
    if request.method == "OPTIONS":
        return _options(ctx, res, view)
    from .generic import resolve_pk
    row = crud.get_row(ctx, res, resolve_pk(ctx, res, ident))
    return view(ctx, res, row)


def view_for(res, name: str) -> ActionView | None:
    """The view serving ``/<res>/<id>/<name>/`` (a per-resource variant wins), or None."""
    return RESOURCE_VIEWS.get((res.name, name)) or VIEWS.get(name)


def allow_header(view: ActionView) -> str:
    methods = list(view.methods)
    if "GET" in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join([*methods, "OPTIONS"])


def _options(ctx, res, view: ActionView) -> Response:
    # The awx CLI reads actions.POST of some action endpoints (launch/, update/) to build
    # flags, and crashes on a 2xx answer without it: always send a POST section.
    from ..services import metadata
    fields_of = getattr(view, "post_fields", None)
    fields = fields_of(ctx, res) if fields_of else {}
    return json_response({"name": view.__name__.replace("_view", "").title(), "description": "",
                          "renders": metadata.RENDERS,
                          "parses": metadata.PARSES, "actions": {"POST": fields}},
                         headers={"Allow": allow_header(view)})


@action("copy")
def copy_view(ctx, res, row) -> Response:
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    if request.method in ("GET", "HEAD"):
        can = access.can_change(ctx, res, row) and access.can_create(ctx, res, row)
        return json_response({"can_copy": can}, headers=allow)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    body = parse_body()
    new = crud.copy(ctx, res, row, body.get("name"))
    obj = serialize_one(ctx, res, new)
    return json_response(obj, 201, {**allow, "Location": obj["url"]})


# -- projects ----------------------------------------------------------------------------------
@action("update", resource="project")
def project_update_view(ctx, res, row) -> Response:
    from ..jobs.project_update import request_update
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    can = bool(row["scm_type"]) and access.holds(ctx, "project", row["id"], "update_role")
    if request.method in ("GET", "HEAD"):
        return json_response({"can_update": can}, headers=allow)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    update = request_update(ctx, row)
    target = ctx.registry["project_update"]
    body = {"project_update": update["id"], **serialize_one(ctx, target, update)}
    return json_response(body, 202, {**allow, "Location": body["url"]})


@action("playbooks", resource="project", methods=("GET",))
def project_playbooks_view(ctx, res, row) -> Response:
    from ..resources.projects import project_files
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    return json_response(project_files(ctx, row, "playbook"), headers={"Allow": "GET, HEAD, OPTIONS"})


@action("inventories", resource="project", methods=("GET",))
def project_inventories_view(ctx, res, row) -> Response:
    from ..resources.projects import project_files
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    return json_response(project_files(ctx, row, "inventory"), headers={"Allow": "GET, HEAD, OPTIONS"})


# -- unified jobs ------------------------------------------------------------------------------
@action("cancel")
def cancel_view(ctx, res, row) -> Response:
    from ..jobs import control
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    can = row["status"] in ("new", "pending", "waiting", "running")
    if request.method in ("GET", "HEAD"):
        return json_response({"can_cancel": can}, headers=allow)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    control.cancel(ctx, res, row)
    return json_response(None, 202, allow)


_FORMATS = {"txt", "ansi", "json", "html", "txt_download", "ansi_download", "api"}


@action("stdout", methods=("GET",))
def stdout_view(ctx, res, row) -> Response:
    from ..jobs.kinds import KINDS
    from ..services.stdout import MAX_DISPLAY, join_events, strip_ansi, to_html
    from ..store import jobs as q
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    fmt = request.args.get("format", "txt")
    if fmt not in _FORMATS:
        from ..errors import NotFound
        raise NotFound()
    kind = KINDS[res.name]

    def _int(name: str) -> int | None:
        # ASCII digits within 64 bits only: anything else means "no bound", as before
        try:
            value = parse_int64(request.args.get(name) or "")
        except ValueError:
            return None
        return value if value >= 0 else None

    start, end = _int("start_line"), _int("end_line")
    chunks = q.events_text(ctx.store, kind.events_table, kind.parent_col, row["id"], start, end)
    text, first, last = join_events(chunks, start, end)
    absolute_end = len(join_events(q.events_text(ctx.store, kind.events_table, kind.parent_col,
                                                 row["id"]))[0].splitlines())
    if fmt.endswith("_download"):
        body = text if fmt == "ansi_download" else strip_ansi(text)
        suffix = ".ansi.txt" if fmt == "ansi_download" else ".txt"
        return Response(body, mimetype="text/plain", headers={
            "Content-Disposition": f'attachment; filename="{res.name}_{row["id"]}{suffix}"'})
    if len(text.encode()) > MAX_DISPLAY:
        text = (f"Standard Output too large to display ({len(text.encode())} bytes), only download supported "
                f"for sizes over {MAX_DISPLAY} bytes.")
    if fmt == "json":
        return json_response({"range": {"start": first, "end": last, "absolute_end": absolute_end},
                              "content": strip_ansi(text)})
    if fmt == "html":
        return Response(to_html(text, f"{res.verbose_name} {row['id']}", request.args.get("dark") == "1"),
                        mimetype="text/html")
    if fmt == "ansi":
        return Response(text, mimetype="text/plain")
    return Response(strip_ansi(text), mimetype="text/plain")


# -- inventories, hosts, groups ----------------------------------------------------------------
@action("variable_data", methods=("GET", "PUT", "PATCH"))
def variable_data_view(ctx, res, row) -> Response:
    """GET the parsed ``variables``; PUT/PATCH replace them with the body (stored as JSON)."""
    import json
    from ..services.variables import VarsError, parse_vars
    allow = {"Allow": "GET, PUT, PATCH, HEAD, OPTIONS"}
    if request.method in ("PUT", "PATCH"):
        row = crud.update(ctx, res, row, {"variables": json.dumps(parse_body())}, partial=True)
    elif request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    try:
        data = parse_vars(row.get("variables"))
    except VarsError:
        data = {}
    return json_response(data, headers=allow)


@action("script", resource="inventory", methods=("GET",))
def inventory_script_view(ctx, res, row) -> Response:
    """Ansible JSON inventory (``?hostvars=1&towervars=1&all=1``, ``?host=name``, ``?subset=``)."""
    from ..services import inventory_script
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    show_all = bool(request.args.get("all", ""))
    allow = {"Allow": "GET, HEAD, OPTIONS"}
    if request.args.get("host", ""):
        return json_response(inventory_script.host_vars(ctx, row, request.args["host"], show_all), headers=allow)
    data = inventory_script.script_data(
        ctx, row, hostvars=bool(request.args.get("hostvars", "")), towervars=bool(request.args.get("towervars", "")),
        show_all=show_all, subset=request.args.get("subset", ""))
    return json_response(data, headers=allow)


@action("copy", resource="inventory")
def inventory_copy_view(ctx, res, row) -> Response:
    """The generic copy, plus the inventory's hosts, groups and their links (AWX deep copy)."""
    from ..services.inventory_tree import copy_inventory
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    if request.method in ("GET", "HEAD"):
        return copy_view(ctx, res, row)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    new = copy_inventory(ctx, res, row, parse_body().get("name"))
    obj = serialize_one(ctx, res, new)
    return json_response(obj, 201, {**allow, "Location": obj["url"]})


# -- job templates -----------------------------------------------------------------------------
@action("survey_spec", resource="job_template", methods=("GET", "POST", "DELETE"))
def survey_spec_view(ctx, res, row) -> Response:
    """GET the spec (password defaults masked), POST a full spec (200, empty), DELETE it (200)."""
    from ..services import surveys
    allow = {"Allow": "GET, POST, DELETE, HEAD, OPTIONS"}
    if request.method in ("GET", "HEAD"):
        return json_response(surveys.display_spec(surveys.stored_spec(row)), headers=allow)
    if request.method == "POST":
        surveys.save_spec(ctx, res, row, parse_body())
    elif request.method == "DELETE":
        surveys.delete_spec(ctx, res, row)
    else:
        raise MethodNotAllowed(request.method)
    return json_response(None, 200, allow)


@action("copy", resource="job_template")
def job_template_copy_view(ctx, res, row) -> Response:
    """The generic copy, refusing a name already taken in the template's organization (AWX)."""
    from ..resources.templates import check_unique_name
    if request.method == "POST":
        access.require(access.can_change(ctx, res, row) and access.can_create(ctx, res, row))
        name = parse_body().get("name")
        if isinstance(name, (str, int)) and not isinstance(name, bool) and str(name).strip():
            check_unique_name(ctx, str(name).strip(), row.get("organization"), None)
    return copy_view(ctx, res, row)


from . import jobs as _job_views  # noqa: E402,F401 - registers launch/relaunch/stream views


@action("update", resource="inventory_source")
def inventory_source_update_view(ctx, res, row) -> Response:
    from ..jobs.inventory_update import start_update
    allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
    can = access.holds(ctx, "inventory", row["inventory"], "update_role")
    if request.method in ("GET", "HEAD"):
        return json_response({"can_update": can}, headers=allow)
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    access.require(can)
    update = start_update(ctx, row, launch_type="manual")
    body = {"inventory_update": update["id"], **serialize_one(ctx, ctx.registry["inventory_update"], update)}
    return json_response(body, 202, {**allow, "Location": body["url"]})

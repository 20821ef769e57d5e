"""Action sub-resources (``copy``, ``update``, ``cancel``, ``stdout``, ``launch`` ...).

A resource names its actions in its declaration; this module holds the table mapping each name
to a view, and the views every resource shares.  Per-resource variants are keyed
``(resource name, action)`` and win over the generic one.  Views of other modules
(:mod:`.jobs`) register through :func:`action` when the app factory imports them.

The router (``generic.sub_view``) checks the method with :func:`checked_view`, answers OPTIONS
with :func:`options`, resolves the row (read access checked) and calls :func:`dispatch`.  A view
parses the request, makes one service call and renders.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Protocol, cast

import yaml
from flask import Response, g, request

from ..errors import MethodNotAllowed, ParseError
from ..jobs import control, inventory_update, project_update
from ..registry import Resource
from ..services import crud, inventory_script, metadata, stdout, surveys
from ..services.project_files import project_files
from ..services.serializer import serialize_one
from ..services.variables import VarsError, parse_vars
from .web import json_response, parse_body, query_int

ViewFunction = Callable[..., Response]


class ActionView(Protocol):
    """A registered action view: ``view(ctx, res, row)``; ``methods`` are those it serves."""

    methods: tuple[str, ...]
    __name__: str

    def __call__(self, *args: Any, **kwargs: Any) -> Response: ...


VIEWS: dict[str, ActionView] = {}
RESOURCE_VIEWS: dict[tuple[str, str], ActionView] = {}
# (resource or None for every resource, action) whose reads may take long (a folder walked, a
# job's whole output): granian's workers serve them on their pool, never on the event loop that
# answers the other reads (.rsgi)
SLOW_READS: set[tuple[str | None, str]] = set()


def action(name: str, resource: str | None = None, methods: tuple[str, ...] = ("GET", "POST"),
           slow: bool = False) -> Callable[[ViewFunction], ActionView]:
    """Register ``view`` for the action ``name`` (of every resource naming it, or of ``resource``).

    ``methods`` is the contract: the router answers any other method 405 before the view runs,
    OPTIONS announces them in ``Allow``, and the OpenAPI document lists them.  ``slow`` marks a
    read that may take long (:data:`SLOW_READS`).
    """
    if slow:
        SLOW_READS.add((resource, name))

    def register(function: ViewFunction) -> ActionView:
        function.methods = tuple(methods)  # type: ignore[attr-defined]
        view = cast(ActionView, function)
        if resource:
            RESOURCE_VIEWS[(resource, name)] = view
        else:
            VIEWS[name] = view
        return view
    return register


def view_for(res: Resource, name: str) -> ActionView | None:
    """The view serving ``/<res>/<id>/<name>/`` (a per-resource variant wins), or None."""
    return RESOURCE_VIEWS.get((res.name, name)) or VIEWS.get(name)


def checked_view(res: Resource, name: str) -> ActionView:
    """The view of action ``name``, once the request's method is one it takes (405 otherwise)."""
    view = view_for(res, name)
    if view is None:
        raise MethodNotAllowed(request.method)
    g.allow = allow_header(view)
    if request.method not in (*view.methods, "HEAD", "OPTIONS"):
        raise MethodNotAllowed(request.method)
    return view


def dispatch(ctx, res: Resource, row: dict, name: str) -> Response:
    """Run action ``name`` on ``row`` (already resolved and readable by the user)."""
    return checked_view(res, name)(ctx, res, row)


def allow_header(view: ActionView) -> str:
    methods = list(view.methods)
    if "GET" in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join([*methods, "OPTIONS"])


def options(ctx, res: Resource, view: ActionView) -> Response:
    """OPTIONS of an action.  The awx CLI reads actions.POST of some action endpoints (launch/,
    update/) to build flags, and crashes on a 2xx answer without it: a POST section is sent, unless
    the view has no POST and declares its sections (``options_sections(ctx, res)``)."""
    fields_of = getattr(view, "post_fields", None)
    fields = fields_of(ctx, res) if fields_of else {}
    sections_of = getattr(view, "options_sections", None)    # views without POST declare theirs
    sections = sections_of(ctx, res) if sections_of else {"POST": fields}
    name = getattr(view, "view_name", "") or view.__name__.replace("_view", "").title()
    return json_response({"name": name, "description": "",
                          "renders": metadata.RENDERS,
                          "parses": metadata.PARSES, "actions": sections},
                         headers={"Allow": allow_header(view)})


def reading() -> bool:
    """GET/HEAD: the view answers what the action would do; else only the POST it takes (405)."""
    if request.method in ("GET", "HEAD"):
        return True
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    return False


ALLOW = {"Allow": "GET, POST, HEAD, OPTIONS"}
_READ_ONLY = {"Allow": "GET, HEAD, OPTIONS"}


def created(body: dict, status: int = 201) -> Response:
    """The answer of a POST that made ``body`` (an object with its ``url``): 201 and Location."""
    return json_response(body, status, {**ALLOW, "Location": body["url"]})


@action("copy")
def copy_view(ctx, res, row) -> Response:
    if reading():
        return json_response({"can_copy": crud.can_copy(ctx, res, row)}, headers=ALLOW)
    return created(serialize_one(ctx, res, crud.copy(ctx, res, row, parse_body().get("name"))))


# -- projects and inventory sources ------------------------------------------------------------
@action("update", resource="project")
def project_update_view(ctx, res, row) -> Response:
    if reading():
        return json_response(project_update.update_info(ctx, row), headers=ALLOW)
    update = project_update.request_update(ctx, row)
    return created({"project_update": update["id"], **serialize_one(ctx, ctx.registry["project_update"], update)},
                    202)


@action("update", resource="inventory_source")
def inventory_source_update_view(ctx, res, row) -> Response:
    if reading():
        return json_response(inventory_update.update_info(ctx, row), headers=ALLOW)
    update = inventory_update.request_update(ctx, row)
    return created({"inventory_update": update["id"],
                     **serialize_one(ctx, ctx.registry["inventory_update"], update)}, 202)


@action("playbooks", resource="project", methods=("GET",), slow=True)
def project_playbooks_view(ctx, res, row) -> Response:
    return json_response(project_files(ctx, row, "playbook"), headers=_READ_ONLY)


@action("inventories", resource="project", methods=("GET",), slow=True)
def project_inventories_view(ctx, res, row) -> Response:
    return json_response(project_files(ctx, row, "inventory"), headers=_READ_ONLY)


# -- unified jobs ------------------------------------------------------------------------------
@action("cancel")
def cancel_view(ctx, res, row) -> Response:
    if reading():
        return json_response({"can_cancel": control.can_cancel(row)}, headers=ALLOW)
    control.cancel(ctx, res, row)
    return json_response(None, 202, ALLOW)


@action("stdout", methods=("GET",), slow=True)
def stdout_view(ctx, res, row) -> Response:
    body, mimetype, headers = stdout.render(ctx, res, row, request.args.get("format", "txt"), query_int("start_line"),
                                            query_int("end_line"), dark=request.args.get("dark") == "1")
    if isinstance(body, dict):
        return json_response(body, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)


# -- inventories, hosts, groups ----------------------------------------------------------------
# AWX's variable_data views also parse and render YAML (djangorestframework-yaml)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


def _variables_body() -> dict:
    """The PUT/PATCH body of ``variable_data``: a JSON object, or a YAML mapping when sent as
    YAML (parsed by the bounded variables loader)."""
    if request.mimetype not in YAML_TYPES:
        return parse_body()
    text = request.get_data(cache=True, as_text=True)
    try:
        return parse_vars(text)
    except VarsError as exc:
        raise ParseError(f"YAML parse error - {exc}") from None


def _wants_yaml() -> bool:
    if request.args.get("format") == "yaml":
        return True
    best = request.accept_mimetypes.best_match(["application/json", *YAML_TYPES], default="application/json")
    return best in YAML_TYPES


def _variables_sections(ctx, res) -> dict:
    """OPTIONS ``actions`` of variable_data: ``variables`` to read and to PUT (AWX lists GET
    and PUT of its ``variables`` serializer; the object is not resolved for OPTIONS)."""
    field = res.field("variables")
    return {"GET": {"variables": metadata.field_info(field, "GET")},
            "PUT": {"variables": metadata.field_info(field, "PUT")}}


@action("variable_data", methods=("GET", "PUT", "PATCH"))
def variable_data_view(ctx, res, row) -> Response:
    """GET the parsed ``variables``; PUT/PATCH replace them with the body (stored as JSON).
    Bodies and answers are JSON, or YAML (``Content-Type`` / ``Accept: application/yaml``,
    ``?format=yaml``)."""
    if request.method in ("PUT", "PATCH"):
        row = crud.update(ctx, res, row, {"variables": json.dumps(_variables_body())}, partial=True)
    try:
        data = parse_vars(row.get("variables"))
    except VarsError:
        data = {}
    headers = {"Allow": "GET, PUT, PATCH, HEAD, OPTIONS"}
    if _wants_yaml():
        text = yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False)
        return Response(text, mimetype="application/yaml", headers=headers)
    return json_response(data, headers=headers)


variable_data_view.options_sections = _variables_sections  # type: ignore[attr-defined]


@action("script", resource="inventory", methods=("GET",), slow=True)
def inventory_script_view(ctx, res, row) -> Response:
    """Ansible JSON inventory (``?hostvars=1&towervars=1&all=1``, ``?host=name``, ``?subset=``)."""
    args = request.args
    if args.get("host", ""):
        return json_response(inventory_script.host_vars(ctx, row, args["host"], bool(args.get("all", ""))),
                             headers=_READ_ONLY)
    return json_response(inventory_script.script_data(
        ctx, row, hostvars=bool(args.get("hostvars", "")), towervars=bool(args.get("towervars", "")),
        show_all=bool(args.get("all", "")), subset=args.get("subset", "")), headers=_READ_ONLY)


# AWX's script view reads only (its serializer has no fields): no POST section
inventory_script_view.options_sections = lambda ctx, res: {"GET": {}}  # type: ignore[attr-defined]


# -- job templates and workflow job templates -------------------------------------------------
@action("survey_spec", methods=("GET", "POST", "DELETE"))
def survey_spec_view(ctx, res, row) -> Response:
    """GET the spec (password defaults masked), POST a full spec (200, empty), DELETE it (200);
    of job templates and workflow job templates alike."""
    allow = {"Allow": "GET, POST, DELETE, HEAD, OPTIONS"}
    if request.method in ("GET", "HEAD"):
        return json_response(surveys.display_spec(surveys.stored_spec(row)), headers=allow)
    if request.method == "POST":
        surveys.save_spec(ctx, res, row, parse_body())
    else:
        surveys.delete_spec(ctx, res, row)
    return json_response(None, 200, allow)

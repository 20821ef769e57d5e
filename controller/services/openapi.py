"""An OpenAPI 3 document derived from the registry (for users, and for schemathesis).

Contract: every route the API serves is described, with the methods it serves and the shapes
it answers.  Generic paths come from the registry (lists, details, sub-lists); action paths
from each resource's ``actions`` and the methods its view declares (``action_methods``, given
by the web layer, which owns the views); the few one-of-a-kind routes (root, ping, login ...)
from :data:`_FIXED`.  HEAD is accepted wherever GET is and is not listed.
"""
from __future__ import annotations

from typing import Any, Callable

from ..config import VERSION
from .metadata import detail_allow, list_allow
from .settings import categories as setting_categories

_JSON_TYPES = {"string": "string", "text": "string", "email": "string", "password": "string",
               "datetime": "string", "choice": "string", "integer": "integer", "id": "integer",
               "boolean": "boolean", "float": "number", "json": "object", "vars": "string"}
_ERROR = {"$ref": "#/components/schemas/Error"}
_ANY_OBJECT = {"type": "object", "additionalProperties": True}
_ERROR_CODES = ((400, "Bad request"), (401, "Not authenticated"), (403, "Forbidden"), (404, "Not found"),
                (405, "Method not allowed"), (409, "Conflict"), (413, "Body too large"),
                (415, "Unsupported media type"), (429, "Throttled"))
ActionMethods = Callable[[Any, str], "tuple[str, ...]"]


def _field_schema(field, write: bool, api_written: bool = True) -> dict[str, Any]:
    """JSON schema of one field as written (``write``) or as answered.

    ``api_written``: rows of the resource are created through validation, which turns a
    missing writable value into its default; other values (read-only, computed, or rows the
    controller writes itself: jobs, events) may be null in answers.
    """
    if field.kind == "choice" and field.choices and isinstance(field.choices[0][0], int):
        schema: dict[str, Any] = {"type": "integer"}
    elif field.kind == "json":
        schema = {}
    else:
        schema = {"type": _JSON_TYPES[field.kind]}
    masked = field.kind == "password" or field.secret
    if field.kind == "datetime":
        schema["format"] = "date-time"
    if field.choices and (write or not masked):
        schema["enum"] = [c[0] for c in field.choices] + ([None] if field.null else [])
    if write and field.max_length and field.kind in ("string", "email", "password"):
        schema["maxLength"] = field.max_length
    if field.min_value is not None and (write or not masked):
        schema["minimum"] = field.min_value
    if field.max_value is not None and (write or not masked):
        schema["maximum"] = field.max_value
    if field.null or (field.kind == "id" and not field.required) or not field.stored or \
            (not write and not (api_written and field.writable)):
        schema["nullable"] = True
    if field.help_text:
        schema["description"] = field.help_text
    if masked and not write:
        # write-only secrets are answered as "$encrypted$" (empty when unset), never as stored
        schema["description"] = (schema.get("description", "") + ' Answered as "$encrypted$" when set.').strip()
    if field.write_only and write:
        schema["writeOnly"] = True
    if not write and (field.read_only or not field.stored):
        schema["readOnly"] = True
    return schema


def _schemas(resource) -> tuple[dict, dict]:
    """(answer schema, request-body schema) of one resource."""
    props: dict[str, Any] = {
        "id": {"type": "integer", "readOnly": True}, "type": {"type": "string", "readOnly": True},
        "url": {"type": "string", "readOnly": True}, "related": {"type": "object", "readOnly": True},
        "summary_fields": {"type": "object", "readOnly": True},
    }
    if resource.timestamps:
        props["created"] = {"type": "string", "format": "date-time", "nullable": True, "readOnly": True}
        props["modified"] = {"type": "string", "format": "date-time", "nullable": True, "readOnly": True}
    write: dict[str, Any] = {}
    required = []
    for f in resource.fields:
        if f.visible:
            props[f.name] = _field_schema(f, write=False, api_written=resource.creatable)
        elif not f.hidden:      # write-only and never answered: OpenAPI's writeOnly says exactly that
            props[f.name] = _field_schema(f, write=True)
        if f.writable:
            write[f.name] = _field_schema(f, write=True)
            if f.required:
                required.append(f.name)
    write_schema: dict[str, Any] = {"type": "object", "properties": write}
    if required:
        write_schema["required"] = required
    return {"type": "object", "properties": props, "required": ["id", "type", "url"]}, write_schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_schema(item: dict) -> dict:
    return {"type": "object", "properties": {
        "count": {"type": "integer"}, "next": {"type": "string", "nullable": True},
        "previous": {"type": "string", "nullable": True}, "results": {"type": "array", "items": item}}}


def _resp(schema: dict | None, desc: str = "OK", media: str = "application/json") -> dict:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {media: {"schema": schema}}
    return out


def _errors() -> dict[str, Any]:
    return {str(code): _resp(_ERROR, desc) for code, desc in _ERROR_CODES}


def _op(op_id: str, tag: str, responses: dict, body: dict | None = None,
        params: list | None = None, media: str = "application/json") -> dict:
    op: dict[str, Any] = {"operationId": op_id, "tags": [tag], "responses": {**responses, **_errors()}}
    if body is not None:
        op["requestBody"] = {"content": {media: {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _options_op(op_id: str, tag: str, metadata: bool = True) -> dict:
    """OPTIONS: AWX metadata (``actions``, ``Allow``) from our views, an empty 200 from Flask's."""
    return _op(op_id, tag, {"200": _resp(_ANY_OBJECT if metadata else None, "Allowed methods and metadata")})


_LIST_PARAMS = [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
    ("page", {"type": "integer", "minimum": 1}), ("page_size", {"type": "integer", "minimum": 1}),
    ("order_by", {"type": "string"}), ("search", {"type": "string"}))]
_PATH_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]


# -- actions: answer shapes per (action, method); the methods come from the views ------------
def _action_responses(registry, res, name: str, method: str) -> dict[str, Any]:
    model = _ref(res.model_name)

    def flag(key: str) -> dict:
        return {"200": _resp({"type": "object", "properties": {key: {"type": "boolean"}}, "required": [key]})}

    def started(kind: str) -> dict:
        target = registry[kind]
        return {"202": _resp({"allOf": [_ref(target.model_name),
                                         {"type": "object", "properties": {kind: {"type": "integer"}}}]},
                             "Accepted")}

    if name == "stdout":
        return {"200": {"description": "The output in the requested format", "content": {
            "text/plain": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object", "properties": {
                "range": {"type": "object"}, "content": {"type": "string"}}}}}}}
    if name == "events_stream":
        return {"200": _resp({"type": "string"}, "Server-Sent Events until the job ends (or about 1 MiB: resume "
                                                 "with Last-Event-ID)", "text/event-stream")}
    if name in ("playbooks", "inventories"):
        return {"200": _resp({"type": "array", "items": {"type": "string"}})}
    if method == "GET":
        keyed = {"copy": "can_copy", "cancel": "can_cancel", "update": "can_update"}
        return flag(keyed[name]) if name in keyed else {"200": _resp(_ANY_OBJECT)}
    if name == "copy":
        return {"201": _resp(model, "Created")}
    if name == "cancel":
        return {"202": _resp(None, "Cancel requested")}
    if name == "update":
        return started("project_update" if res.name == "project" else "inventory_update")
    if name in ("launch", "relaunch"):
        kind = {"job_template": "job", "workflow_job_template": "workflow_job"}.get(res.name, res.name)
        created = {"type": "object", "properties": {kind: {"type": "integer"},
                                                    "ignored_fields": {"type": "object"}}}
        return {"201": _resp({"allOf": [_ref(registry[kind].model_name), created]}, "Created")}
    if name == "survey_spec":
        return {"200": _resp(None, "Saved" if method == "POST" else "Deleted")}
    if name in ("approve", "deny"):
        return {"204": _resp(None, "Decided")}
    if name in ("webhook_key", "create_approval_template"):
        return {"201": _resp(_ANY_OBJECT, "Created")}
    if name == "test":
        return {"202": _resp(_ANY_OBJECT, "Notification queued")}
    if name in ("github", "gitlab", "bitbucket_dc", "webhook"):
        return {"202": _resp(_ANY_OBJECT, "Job queued, or previously received"),
                "200": _resp(_ANY_OBJECT, "Webhook ignored (the reason is in the body)")}
    return {"200": _resp(_ANY_OBJECT)}


def _op_name(registry, res) -> str:
    """The operationId stem: the type name, or a view's API key (a view shares its type's name)."""
    return res.name if registry.get(res.name) is res else str(res.api_key)


def _action_path(registry, res, name: str, methods: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {"parameters": _PATH_ID}
    op = _op_name(registry, res)
    for method in methods:
        body = _ANY_OBJECT if method in ("POST", "PUT", "PATCH") and name != "events_stream" else None
        params = None
        if name == "stdout":
            params = [{"name": "format", "in": "query", "required": False, "schema": {
                "type": "string", "enum": ["txt", "ansi", "json", "html", "txt_download", "ansi_download"]}},
                *({"name": n, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}
                  for n in ("start_line", "end_line"))]
        item[method.lower()] = _op(f"{method.lower()}_{op}__{name}", res.plural,
                                   _action_responses(registry, res, name, method), body, params)
    item["options"] = _options_op(f"options_{op}__{name}", res.plural)
    return item


# -- one-of-a-kind routes --------------------------------------------------------------------
_HTML = {"type": "string"}
_FIXED: dict[str, dict[str, tuple[str, dict]]] = {
    "/api/": {"get": ("api_root", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/": {"get": ("api_v2_root", {"200": _resp({"type": "object",
                                                        "additionalProperties": {"type": "string"}})})},
    "/api/v2/ping/": {"get": ("ping", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/config/": {"get": ("config", {"200": _resp(_ANY_OBJECT)}),
                        "post": ("config_license", {"200": _resp(_ANY_OBJECT)}),
                        "delete": ("config_license_remove", {"204": _resp(None, "Licence removed")})},
    "/api/v2/openapi.json": {"get": ("openapi", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/schedules/zoneinfo/": {"get": ("schedule_zoneinfo", {"200": _resp({"type": "object", "properties": {
        "zones": {"type": "array", "items": {"type": "string"}},
        "links": {"type": "object", "additionalProperties": {"type": "string"}}}})})},
    "/api/v2/schedules/preview/": {"post": ("schedule_preview", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/dashboard/": {"get": ("dashboard", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/dashboard/graphs/jobs/": {"get": ("dashboard_jobs_graph", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/metrics/": {"get": ("metrics", {"200": _resp({"type": "string"}, "Prometheus text format",
                                                          "text/plain")})},
    "/api/v2/config/subscriptions/": {"post": ("config_subscriptions", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/config/attach/": {"post": ("config_attach", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/system_job_templates/": {"get": ("system_job_templates_list", {"200": _resp(_ANY_OBJECT)})},
    "/api/v2/bulk/": {"get": ("bulk", {"200": _resp(_ANY_OBJECT)})},
    **{f"/api/v2/bulk/{name}/": {"get": (f"bulk_{name}_read", {"200": _resp(_ANY_OBJECT)}),
                                 "post": (f"bulk_{name}", {"201": _resp(_ANY_OBJECT)})}
       for name in ("host_create", "host_delete", "job_launch")},
    "/api/login/": {"get": ("login_form", {"200": _resp(_HTML, "Login form", "text/html")}),
                    "post": ("login", {"302": _resp(None, "Logged in: session cookie set"),
                                       "401": _resp(_HTML, "Wrong credentials", "text/html"),
                                       "429": _resp(_HTML, "Throttled", "text/html")})},
    "/api/logout/": {"get": ("logout", {"302": _resp(None, "Logged out")}),
                     "post": ("logout_post", {"302": _resp(None, "Logged out")})},
    "/api/o/": {"get": ("oauth2_root", {"200": _resp(_ANY_OBJECT)})},
    "/api/o/authorize/": {"get": ("oauth2_authorize", {"200": _resp(_HTML, "Consent page", "text/html"),
                                                       "302": _resp(None, "To the login page or the redirect URI"),
                                                       "400": _resp(_HTML, "Unknown client or redirect URI",
                                                                    "text/html")}),
                          "post": ("oauth2_authorize_answer", {"302": _resp(None, "To the redirect URI"),
                                                               "403": _resp(_ANY_OBJECT, "CSRF failed")})},
    "/api/o/token/": {"post": ("oauth2_token", {"200": _resp(_ANY_OBJECT, "Access and refresh token"),
                                                "400": _resp(_ANY_OBJECT, "RFC 6749 error"),
                                                "401": _resp(_ANY_OBJECT, "Client authentication failed")})},
    "/api/o/revoke_token/": {"post": ("oauth2_revoke_token", {
        "200": _resp(None, "Revoked"), "401": _resp(_ANY_OBJECT, "Client authentication failed")})},
}
# routes whose OPTIONS is Flask's automatic answer (empty body, Allow header)
_FLASK_OPTIONS = {"/api/", "/api/v2/", "/api/v2/ping/", "/api/v2/config/", "/api/v2/openapi.json",
                  "/api/login/", "/api/logout/", "/api/o/", "/api/o/token/", "/api/o/revoke_token/",
                  "/api/o/authorize/",
                  "/api/v2/dashboard/", "/api/v2/dashboard/graphs/jobs/", "/api/v2/metrics/",
                  "/api/v2/config/subscriptions/", "/api/v2/config/attach/"}
_LOGIN_FORM = {"type": "object", "properties": {
    "username": {"type": "string"}, "password": {"type": "string"}, "next": {"type": "string"},
    "csrfmiddlewaretoken": {"type": "string"}}}
_OAUTH_FORM = {"type": "object", "properties": {name: {"type": "string"} for name in (
    "grant_type", "username", "password", "refresh_token", "scope", "client_id", "client_secret", "token",
    "code", "redirect_uri", "code_verifier", "response_type", "state", "code_challenge", "code_challenge_method",
    "csrfmiddlewaretoken", "allow", "cancel")}}


def _fixed_paths(registry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, ops in _FIXED.items():
        item: dict[str, Any] = {}
        for verb, (op_id, responses) in ops.items():
            body: dict[str, Any] | None = None
            media = "application/json"
            if path == "/api/login/" and verb == "post":
                body, media = _LOGIN_FORM, "application/x-www-form-urlencoded"
            elif path.startswith("/api/o/") and verb == "post":
                body, media = _OAUTH_FORM, "application/x-www-form-urlencoded"
            elif verb == "post" and path != "/api/logout/":
                body = _ANY_OBJECT
            item[verb] = _op(op_id, "root", responses, body, media=media)
        item["options"] = _options_op(f"options_{ops[next(iter(ops))][0]}", "root",
                                      metadata=path not in _FLASK_OPTIONS)
        paths[path] = item
    if registry.get("user") is not None:
        paths["/api/v2/me/"] = {"get": _op("me", "root", {"200": _resp(_list_schema(_ref("User")))}),
                                "options": _options_op("options_me", "root", metadata=False)}
    unified = {"type": "object", "properties": {"id": {"type": "integer"}, "type": {"type": "string"},
                                                "url": {"type": "string"}}, "additionalProperties": True}
    for plural in ("unified_jobs", "unified_job_templates"):
        paths[f"/api/v2/{plural}/"] = {
            "get": _op(f"list_{plural}", plural, {"200": _resp(_list_schema(unified))}, params=_LIST_PARAMS),
            "options": _options_op(f"options_{plural}", plural)}
    paths.update(_settings_paths())
    return paths


def _settings_paths() -> dict[str, Any]:
    """``/settings/`` (the categories) and ``/settings/{slug}/`` (one category's values)."""
    slug = [{"name": "slug", "in": "path", "required": True,
             "schema": {"type": "string", "enum": list(setting_categories())}}]
    values = {"type": "object", "additionalProperties": True}
    detail: dict[str, Any] = {"parameters": slug, "get": _op("get_settings", "settings", {"200": _resp(values)}),
                              "options": _options_op("options_settings", "settings")}
    for verb in ("put", "patch"):
        detail[verb] = _op(f"{verb}_settings", "settings", {"200": _resp(values)}, values)
    detail["delete"] = _op("delete_settings", "settings", {"204": _resp(None, "Reset to defaults")})
    return {"/api/v2/settings/": {"get": _op("list_setting_categories", "settings", {"200": _resp(_ANY_OBJECT)}),
                                  "options": _options_op("options_setting_categories", "settings")},
            "/api/v2/settings/{slug}/": detail}


# -- the registry's resources ------------------------------------------------------------------
def _resource_paths(registry, res, action_methods: ActionMethods | None) -> dict[str, Any]:
    model, op = res.model_name, _op_name(registry, res)
    ref, wref = _ref(model), _ref(f"{model}Write")
    paths: dict[str, Any] = {}
    item: dict[str, Any] = {"get": _op(f"list_{res.plural}", res.plural, {"200": _resp(_list_schema(ref))},
                                       params=_LIST_PARAMS),
                            "options": _options_op(f"options_list_{res.plural}", res.plural)}
    if "POST" in list_allow(res):
        item["post"] = _op(f"create_{op}", res.plural, {"201": _resp(ref, "Created")}, wref)
    paths[res.list_url] = item
    detail: dict[str, Any] = {"parameters": _PATH_ID,
                              "get": _op(f"get_{op}", res.plural, {"200": _resp(ref)}),
                              "options": _options_op(f"options_get_{op}", res.plural)}
    allowed = detail_allow(res)
    for verb in ("PUT", "PATCH"):
        if verb in allowed:
            detail[verb.lower()] = _op(f"{verb.lower()}_{op}", res.plural, {"200": _resp(ref)}, wref)
    if "DELETE" in allowed:
        detail["delete"] = _op(f"delete_{op}", res.plural,
                               {str(res.delete_status): _resp(None, "Deleted")})
    paths[f"/api/v2/{res.plural}/{{id}}/"] = detail
    for rel in res.relations:
        target = registry[rel.target]
        sub: dict[str, Any] = {"parameters": _PATH_ID,
                               "get": _op(f"list_{res.plural}__{rel.name}", res.plural,
                                          {"200": _resp(_list_schema(_ref(target.model_name)))},
                                          params=_LIST_PARAMS),
                               "options": _options_op(f"options_{res.plural}__{rel.name}", res.plural)}
        if "POST" in list_allow(target, rel):
            sub["post"] = _op(f"post_{res.plural}__{rel.name}", res.plural,
                              {"201": _resp(_ref(target.model_name), "Created"),
                               "204": _resp(None, "Associated or disassociated")}, _ANY_OBJECT)
        paths[f"/api/v2/{res.plural}/{{id}}/{rel.name}/"] = sub
    if action_methods is not None:
        for name in res.actions:
            methods = action_methods(res, name)
            if methods:
                paths[f"/api/v2/{res.plural}/{{id}}/{name}/"] = _action_path(registry, res, name, methods)
    return paths


def document(registry, action_methods: ActionMethods | None = None) -> dict[str, Any]:
    """The whole API as OpenAPI 3.0.

    ``action_methods(resource, action)`` gives the methods an action view serves (besides
    HEAD and OPTIONS); without it action paths are left out (the docs renderer needs none).
    """
    paths: dict[str, Any] = _fixed_paths(registry)
    schemas: dict[str, Any] = {"Error": {
        "type": "object", "description": 'AWX/DRF error: {"detail": "..."} or {"field": ["message", ...]}',
        "properties": {"detail": {"type": "string"}}, "additionalProperties": True}}
    for res in registry.endpoints():
        schemas[res.model_name], schemas[f"{res.model_name}Write"] = _schemas(res)
        paths.update(_resource_paths(registry, res, action_methods))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Turret API (AWX API v2 compatible)", "version": VERSION,
                 "description": "HEAD is answered wherever GET is.  Errors use the AWX shapes."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas,
                       "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
    }

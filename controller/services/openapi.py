"""An OpenAPI 3 document derived from the registry (for users, and for schemathesis)."""
from __future__ import annotations

from typing import Any

from ..config import VERSION

_JSON_TYPES = {"string": "string", "text": "string", "email": "string", "password": "string",
               "datetime": "string", "choice": "string", "integer": "integer", "id": "integer",
               "boolean": "boolean", "float": "number", "json": "object", "vars": "string"}
_ERROR = {"$ref": "#/components/schemas/Error"}


def _field_schema(field) -> dict[str, Any]:
    if field.kind == "choice" and field.choices and isinstance(field.choices[0][0], int):
        schema: dict[str, Any] = {"type": "integer"}
    elif field.kind == "json":
        schema = {}
    else:
        schema = {"type": _JSON_TYPES[field.kind]}
    if field.kind == "datetime":
        schema["format"] = "date-time"
    if field.choices:
        schema["enum"] = [c[0] for c in field.choices]
    if field.max_length and field.kind in ("string", "email", "password"):
        schema["maxLength"] = field.max_length
    if field.min_value is not None:
        schema["minimum"] = field.min_value
    if field.max_value is not None:
        schema["maximum"] = field.max_value
    if field.null or (field.kind == "id" and not field.required):
        schema["nullable"] = True
    if field.help_text:
        schema["description"] = field.help_text
    if field.read_only or not field.stored:
        schema["readOnly"] = True
    if field.write_only:
        schema["writeOnly"] = True
    return schema


def _schemas(resource) -> tuple[dict, dict]:
    props: dict[str, Any] = {
        "id": {"type": "integer", "readOnly": True}, "type": {"type": "string", "readOnly": True},
        "url": {"type": "string", "readOnly": True}, "related": {"type": "object", "readOnly": True},
        "summary_fields": {"type": "object", "readOnly": True},
    }
    if resource.timestamps:
        props["created"] = {"type": "string", "format": "date-time", "readOnly": True}
        props["modified"] = {"type": "string", "format": "date-time", "readOnly": True}
    write: dict[str, Any] = {}
    required = []
    for f in resource.fields:
        if f.hidden:
            continue
        props[f.name] = _field_schema(f)
        if f.writable:
            write[f.name] = {k: v for k, v in _field_schema(f).items() if k != "readOnly"}
            if f.required:
                required.append(f.name)
    write_schema = {"type": "object", "properties": write}
    if required:
        write_schema["required"] = required
    return {"type": "object", "properties": props}, write_schema


def _list_schema(name: str) -> dict:
    return {"type": "object", "properties": {
        "count": {"type": "integer"}, "next": {"type": "string", "nullable": True},
        "previous": {"type": "string", "nullable": True},
        "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}}


def _resp(schema: dict | None, desc: str = "OK") -> dict:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


def document(registry) -> dict[str, Any]:
    """The whole API as OpenAPI 3.0."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": {"type": "object", "additionalProperties": True}}
    params = [{"name": n, "in": "query", "required": False, "schema": {"type": t}}
              for n, t in (("page", "integer"), ("page_size", "integer"), ("order_by", "string"),
                           ("search", "string"))]
    errors = {str(c): _resp(_ERROR, d) for c, d in ((400, "Bad request"), (401, "Not authenticated"),
                                                     (403, "Forbidden"), (404, "Not found"))}
    for res in registry:
        model = res.model_name
        read, write = _schemas(res)
        schemas[model] = read
        schemas[f"{model}Write"] = write
        ref = {"$ref": f"#/components/schemas/{model}"}
        wref = {"$ref": f"#/components/schemas/{model}Write"}
        item = {"get": {"operationId": f"list_{res.plural}", "tags": [res.plural], "parameters": params,
                        "responses": {"200": _resp(_list_schema(model)), **errors}}}
        if res.creatable:
            item["post"] = {"operationId": f"create_{res.name}", "tags": [res.plural],
                            "requestBody": {"content": {"application/json": {"schema": wref}}},
                            "responses": {"201": _resp(ref, "Created"), **errors}}
        paths[res.list_url] = item
        pid = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
        detail: dict[str, Any] = {"parameters": pid,
                                  "get": {"operationId": f"get_{res.name}", "tags": [res.plural],
                                          "responses": {"200": _resp(ref), **errors}}}
        if res.updatable:
            for verb in ("put", "patch"):
                detail[verb] = {"operationId": f"{verb}_{res.name}", "tags": [res.plural],
                                "requestBody": {"content": {"application/json": {"schema": wref}}},
                                "responses": {"200": _resp(ref), **errors}}
        if res.deletable:
            detail["delete"] = {"operationId": f"delete_{res.name}", "tags": [res.plural],
                                "responses": {str(res.delete_status): _resp(None, "Deleted"), **errors}}
        paths[f"/api/v2/{res.plural}/{{id}}/"] = detail
        for rel in res.relations:
            target = registry[rel.target]
            sub = {"parameters": pid,
                   "get": {"operationId": f"list_{res.plural}__{rel.name}", "tags": [res.plural],
                           "parameters": params,
                           "responses": {"200": _resp(_list_schema(target.model_name)), **errors}}}
            if rel.writable:
                sub["post"] = {"operationId": f"post_{res.plural}__{rel.name}", "tags": [res.plural],
                               "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                               "responses": {"201": _resp(None, "Created"), "204": _resp(None, "Associated"),
                                             **errors}}
            paths[f"/api/v2/{res.plural}/{{id}}/{rel.name}/"] = sub
    return {
        "openapi": "3.0.3",
        "info": {"title": "Turret API (AWX API v2 compatible)", "version": VERSION},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
    }

"""Tokens, roles and the activity stream: resources about access and history."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .. import access
from ..errors import ValidationError
from ..passwords import hash_token, new_token
from ..store import rbac
from ..registry import Field, Registry, Relation, Resource

TOKEN_MASK = "************"
_SCOPES = {"read", "write"}


def _token_validate(ctx, values: dict, existing: dict | None) -> None:
    scope = values.get("scope", (existing or {}).get("scope", "write"))
    words = scope.split() if isinstance(scope, str) else []
    if not words or set(words) - _SCOPES or len(words) != len(set(words)):
        raise ValidationError({"scope": ["Must be a simple space-separated string with allowed scopes "
                                         "['read', 'write']."]})


def _token_before_save(ctx, values: dict, existing: dict | None) -> dict:
    if existing is None:
        values["user"] = values.get("user") or ctx.user_id
        plain = new_token()
        values["token_hash"] = hash_token(plain)
        values["expires"] = (datetime.now(timezone.utc) + timedelta(days=365 * 1000)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        ctx.cache["pending_token"] = plain
        values["refresh_token_hash"] = ""
        if values.get("application"):
            # a token of an application also gets a refresh token (AWX), shown once like the token
            refresh = new_token()
            values["refresh_token_hash"] = hash_token(refresh)
            ctx.cache["pending_refresh"] = refresh
    return values


def _token_after_save(ctx, row: dict, existing: dict | None) -> None:
    if existing is None and "pending_token" in ctx.cache:
        ctx.reveal_once("pending_token", "shown_tokens", row["id"])
        ctx.reveal_once("pending_refresh", "shown_refresh", row["id"])


def _token_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    shown, refresh = ctx.cache.get("shown_tokens", {}), ctx.cache.get("shown_refresh", {})
    return {r["id"]: {"token": shown.get(r["id"], TOKEN_MASK),
                      "refresh_token": refresh.get(r["id"], TOKEN_MASK) if r.get("refresh_token_hash") else None}
            for r in rows}


def _token_visibility(ctx):
    """AWX OAuth2TokenAccess: the user's own tokens, and tokens of applications of organizations
    the user administers or audits."""
    if ctx.registry.get("o_auth2_application") is None:
        return "user = ?", [ctx.user_id or 0]
    org_sql, org_params = rbac.fk_to_objects_with_roles_sql(
        "organization", "organization", ("admin_role", "auditor_role"), ctx.effective_roles())
    return (f'user = ? OR application IN (SELECT id FROM "applications" WHERE {org_sql})',
            [ctx.user_id or 0, *org_params])


def _token_can_create(ctx, values: dict) -> bool:
    # Personal tokens are minted by their owner only (superusers included, as AWX); a token of an
    # application needs to see that application.
    if ctx.user is None or values.get("user") not in (None, ctx.user_id):
        return False
    app_id = values.get("application")
    if app_id in (None, "") or ctx.registry.get("o_auth2_application") is None:
        return True
    app = ctx.store.get("applications", app_id) if isinstance(app_id, int) else None
    return app is None or access.can_read(ctx, ctx.registry["o_auth2_application"], app)


def _token_can_change(ctx, row: dict) -> bool:
    if row["user"] == ctx.user_id:
        return True
    app = ctx.store.get("applications", row["application"]) if row.get("application") else None
    return app is not None and access.holds(ctx, "organization", app["organization"], "admin_role")


def _readable(ctx) -> tuple[dict, dict]:
    """Visibility SQL of every resource whose visibility is not itself 'typed'."""
    visible, tables = {}, {}
    for res in ctx.registry:
        if getattr(res.visibility, "typed", False):
            continue
        if res.has_roles or res.visibility is not None:
            visible[res.name] = access.visibility(ctx, res)
            tables[res.name] = res.table
    return visible, tables


def _typed_visibility(type_col: str, id_col: str, with_roles: bool = False):
    """Rows naming an object (type, id) that the user can read.  Roles are readable when their
    object is (one level: roles and the activity stream are not objects of their own lists)."""
    def visibility(ctx):
        visible, tables = _readable(ctx)
        if with_roles:
            visible["role"] = rbac.typed_objects_sql("content_type", "object_id", dict(visible), tables)
            tables["role"] = "roles"
        return rbac.typed_objects_sql(type_col, id_col, visible, tables)
    visibility.typed = True  # type: ignore[attr-defined]
    return visibility


def _activity_visibility(ctx):
    sql, params = _typed_visibility("object1", "object1_id", with_roles=True)(ctx)
    link, link_params = _typed_visibility("object_link", "object_link_id")(ctx)
    return f"actor = ? OR {sql} OR {link}", [ctx.user_id or 0, *params, *link_params]


_activity_visibility.typed = True  # type: ignore[attr-defined]


def _activity_related(ctx, row: dict, detail: bool) -> dict:
    rel: dict[str, list[str]] = {}
    for n in ("1", "2"):
        res = ctx.registry.get(row.get(f"object{n}") or "")
        if res is not None and row.get(f"object{n}_id") is not None:
            rel.setdefault(res.name, []).append(res.url(row[f"object{n}_id"]))
    return rel


def _activity_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    out = {}
    for row in rows:
        summary: dict = {}
        for n in ("1", "2"):
            kind = row.get(f"object{n}")
            if kind and row.get(f"object{n}_id") is not None:
                summary.setdefault(kind, []).append({"id": row[f"object{n}_id"], "name": row[f"object{n}_name"]})
        out[row["id"]] = summary
    return out


def _role_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = {}
    for row in rows:
        res = ctx.registry.get(row["content_type"])
        spec = res.role(row["role_field"]) if res else None
        out[row["id"]] = {
            "name": spec.name if spec else row["role_field"],
            "description": spec.description.format(model=res.verbose_name) if spec else "",
        }
    return out


def _role_related(ctx, row: dict, detail: bool) -> dict:
    res = ctx.registry.get(row["content_type"])
    return {res.name: res.url(row["object_id"])} if res else {}


def _role_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    out = {}
    by_type: dict[str, set[int]] = {}
    for row in rows:
        by_type.setdefault(row["content_type"], set()).add(row["object_id"])
    names = {}
    for ctype, ids in by_type.items():
        res = ctx.registry.get(ctype)
        if res is None:
            continue
        label = "username" if res.name == "user" else "name"
        for pk, obj in ctx.store.get_many(res.table, ids).items():
            names[(ctype, pk)] = obj.get(label, "")
    for row in rows:
        res = ctx.registry.get(row["content_type"])
        out[row["id"]] = {
            "resource_name": names.get((row["content_type"], row["object_id"]), ""),
            "resource_type": row["content_type"],
            "resource_type_display_name": res.verbose_name.title() if res else row["content_type"],
            "resource_id": row["object_id"],
        }
    return out


def declare(reg: Registry) -> None:
    reg.add(Resource(
        name="o_auth2_access_token", plural="tokens", verbose_name="access token",
        model_name="OAuth2AccessToken", common_fields=False,
        fields=[
            Field("description", "text", default=""),
            Field("user", "id", fk="user", read_only=True, null=True,
                  help_text="The user representing the token owner"),
            Field("token", "string", stored=False, read_only=True, prevent_search=True),
            Field("refresh_token", "string", stored=False, read_only=True, prevent_search=True),
            Field("application", "id", fk="o_auth2_application", null=True, default=None, create_only=True),
            Field("expires", "datetime", read_only=True, null=True, default=None),
            Field("scope", "string", default="write", max_length=32,
                  help_text="Allowed scopes, further restricts user's permissions. Must be a simple "
                            "space-separated string with allowed scopes ['read', 'write']."),
            Field("token_hash", "string", hidden=True, filterable=False, unique=False, index=True),
            Field("refresh_token_hash", "string", hidden=True, filterable=False, index=True),
        ],
        search_fields=("description",), capabilities=("edit", "delete"),
        validate=_token_validate, before_save=_token_before_save, after_save=_token_after_save,
        compute=_token_compute, visibility=_token_visibility, can_create=_token_can_create, may_add=access.anyone,
        can_change=_token_can_change,
    ))

    reg.add(Resource(
        name="role", plural="roles", common_fields=False, timestamps=False,
        fields=[
            Field("name", "string", stored=False, read_only=True),
            Field("description", "string", stored=False, read_only=True),
            Field("content_type", "string", hidden=True, filterable=True),
            Field("object_id", "integer", hidden=True, filterable=True),
            Field("role_field", "string", hidden=True, filterable=True),
        ],
        indexes=(("content_type", "object_id", "role_field"),),
        relations=[
            Relation("users", "user", "role_users"),
            Relation("teams", "team", "role_teams"),
        ],
        creatable=False, updatable=False, deletable=False, capabilities=(),
        compute=_role_compute, extra_related=_role_related, extra_summary=_role_summary,
        visibility=_typed_visibility("content_type", "object_id"),
    ))

    reg.add(Resource(
        name="activity_stream", plural="activity_stream", common_fields=False, timestamps=False,
        fields=[
            Field("timestamp", "datetime", read_only=True),
            Field("operation", "choice", read_only=True, choices=[
                ("create", "Entity Created"), ("update", "Entity Updated"), ("delete", "Entity Deleted"),
                ("associate", "Entity Associated with another Entity"),
                ("disassociate", "Entity was Disassociated with another Entity")],
                help_text="The action taken with respect to the given object(s)."),
            Field("changes", "json", read_only=True,
                  help_text="A summary of the new and changed values when an object is created, updated, or deleted"),
            Field("object1", "string", read_only=True,
                  help_text="For create, update, and delete events this is the object type that was affected. "
                            "For associate and disassociate events this is the object type associated or "
                            "disassociated with object2."),
            Field("object2", "string", read_only=True,
                  help_text="Unpopulated for create, update, and delete events. For associate and disassociate "
                            "events this is the object type that object1 is being associated with."),
            Field("object_association", "string", read_only=True,
                  help_text="When present, shows the field name of the role or relationship that changed."),
            Field("action_node", "string", read_only=True, help_text="The cluster node the activity took place on."),
            Field("actor", "id", fk="user", read_only=True, null=True, on_delete="set_null"),
            Field("object1_id", "integer", hidden=True, filterable=True, index=True),
            Field("object2_id", "integer", hidden=True, filterable=True, index=True),
            Field("object1_name", "string", hidden=True),
            Field("object2_name", "string", hidden=True),
            Field("object_link", "string", hidden=True, filterable=True),
            Field("object_link_id", "integer", hidden=True, filterable=True, null=True, default=None),
        ],
        search_fields=("changes",), indexes=(("object1", "object1_id"), ("object2", "object2_id"),
                                             ("object_link", "object_link_id")),
        creatable=False, updatable=False, deletable=False, capabilities=(),
        extra_related=_activity_related, extra_summary=_activity_summary,
        visibility=_activity_visibility,
    ))

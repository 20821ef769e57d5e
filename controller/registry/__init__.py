"""The resource registry: one declaration per resource, from which everything else is derived.

A :class:`Resource` lists its :class:`Field` s, sub-lists (:class:`Relation`), object roles
(:class:`RoleSpec`) and a few hooks.  The store derives tables from it, the query compiler
derives the filterable fields and relations, the API derives routes, validation,
serialization, OPTIONS and OpenAPI, and the access layer derives visibility and permissions.

Nothing here touches SQL or Flask: declarations are plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Iterator

from .fields import ENCRYPTED, FIELD_KINDS, OMIT, Field, RoleSpec
from .relations import Relation
from .unified_jobs import Hook, UnifiedJob

__all__ = ["ENCRYPTED", "FIELD_KINDS", "OMIT", "Field", "RoleSpec", "Relation", "Hook", "UnifiedJob", "Resource",
           "Registry"]


@dataclass
class Resource:
    """The single declaration of one API resource."""

    name: str                      # type name: "organization", "job_template"
    plural: str                    # URL segment and table: "organizations"
    fields: list[Field]
    verbose_name: str = ""         # "job template"
    api_key: str | None = None     # key under /api/v2/ ("inventory" for inventories)
    model_name: str = ""           # Django-like model name used in messages: "JobTemplate"
    ordering: tuple[str, ...] = ("id",)
    search_fields: tuple[str, ...] = ()
    named_url: tuple[tuple[str, ...], ...] = ()   # components of name++org style identifiers
    unique_together: tuple[tuple[str, ...], ...] = ()
    relations: list[Relation] = dc_field(default_factory=list)
    roles: list[RoleSpec] = dc_field(default_factory=list)
    common_fields: bool = True     # name/description present
    timestamps: bool = True        # created/modified present
    creatable: bool = True
    updatable: bool = True
    deletable: bool = True
    listed: bool = True            # shown in /api/v2/
    summary_keys: tuple[str, ...] = ("id", "name", "description")
    # access control: role needed on the FK target to create ("organization.admin_role"),
    # None = superuser only; "authenticated" = anyone logged in.
    create_role: str | None = None
    read_role: str = "read_role"
    change_role: str = "admin_role"
    delete_role: str = "admin_role"
    capabilities: tuple[str, ...] = ("edit", "delete")
    # hooks (all optional); see services for their contracts
    validate: Hook | None = None          # (ctx, data, existing) -> None, raises ValidationError
    before_save: Hook | None = None       # (ctx, values, existing) -> values to store
    after_save: Hook | None = None        # (ctx, row, existing) -> None
    before_delete: Hook | None = None     # (ctx, row) -> None, may raise
    compute: Hook | None = None           # (ctx, rows) -> {id: {field: value}}: computed fields, or
                                          # overrides of stored ones (e.g. masked credential inputs)
    redact: Hook | None = None            # (row) -> row with secrets masked, for the activity stream
    extra_related: Hook | None = None     # (ctx, row, detail) -> dict of related urls
    extra_summary: Hook | None = None     # (ctx, rows) -> {id: dict}
    visibility: Hook | None = None        # (ctx) -> (sql, params) | None, replaces role visibility
    list_filter: Hook | None = None       # (ctx, args) -> (sql, params) | None: extra list params
                                          # (e.g. hosts' host_filter), applied to lists and sub-lists
    can_change: Hook | None = None        # (ctx, row) -> bool, replaces role checks
    can_create: Hook | None = None        # (ctx, data) -> bool
    # (ctx) -> bool: may a (non-superuser) user create some object at all?  AWX's ``can_add({})``,
    # which decides whether list OPTIONS offers POST; None = derived from ``create_role``
    may_add: Hook | None = None
    can_delete: Hook | None = None        # (ctx, row) -> bool, replaces every other delete check
    # a boolean setting that, while false, leaves changing and deleting these objects to
    # superusers whatever roles others hold (AWX TeamAccess with MANAGE_ORGANIZATION_AUTH)
    manage_setting: str = ""
    delete_status: int = 204
    indexes: tuple[tuple[str, ...], ...] = ()
    list_transform: Hook | None = None   # (ctx, objects, args) -> objects: list-only presentation
    id_group: str = ""   # resources of one group never share an id (AWX's unified jobs share one sequence)
    list_headers: dict[str, str] = dc_field(default_factory=dict)   # extra headers of its lists
    actions: tuple[str, ...] = ()  # action sub-paths (copy, launch, update, ...); views live in api/actions
    after_copy: Hook | None = None        # (ctx, original row, new row) -> None: deep copy of children
    unified_job: UnifiedJob | None = None  # set on the resources that are unified jobs
    table_name: str = ""           # its table when that is not ``plural`` (a view: Registry.add_view)

    def __post_init__(self) -> None:
        if not self.verbose_name:
            self.verbose_name = self.name.replace("_", " ")
        if not self.model_name:
            self.model_name = "".join(p.capitalize() for p in self.name.split("_"))
        if self.api_key is None:
            self.api_key = self.plural
        base: list[Field] = []
        if self.common_fields:
            base += [
                Field("name", "string", required=True, max_length=512,
                      help_text=f"Name of this {self.verbose_name}."),
                Field("description", "text", default="",
                      help_text=f"Optional description of this {self.verbose_name}."),
            ]
        names = {f.name for f in self.fields}
        self.fields = [f for f in base if f.name not in names] + self.fields
        self._by_name = {f.name: f for f in self.fields}

    # -- lookups -------------------------------------------------------------------------
    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def stored_fields(self) -> list[Field]:
        return [f for f in self.fields if f.stored]

    @property
    def fk_fields(self) -> list[Field]:
        return [f for f in self.fields if f.kind == "id" and f.stored]

    def relation(self, name: str) -> Relation | None:
        return next((r for r in self.relations if r.name == name), None)

    def role(self, field: str) -> RoleSpec | None:
        return next((r for r in self.roles if r.field == field), None)

    @property
    def has_roles(self) -> bool:
        return bool(self.roles)

    @property
    def table(self) -> str:
        return self.table_name or self.plural

    def url(self, pk: int) -> str:
        return f"/api/v2/{self.plural}/{pk}/"

    @property
    def list_url(self) -> str:
        return f"/api/v2/{self.plural}/"


class Registry:
    """All declared resources, by type name and by URL plural."""

    def __init__(self) -> None:
        self._by_name: dict[str, Resource] = {}
        self._by_plural: dict[str, Resource] = {}
        # (ctx, job resource name, id) -> None, called when a unified job has been created (inside
        # the creating transaction: what a hook stores is committed with the job, e.g. the routing
        # of its notifications), and when it starts running.
        self.job_create_hooks: list[Hook] = []
        self.job_start_hooks: list[Hook] = []
        # (ctx, job resource name, id) -> None, called once a unified job has ended (any kind, any
        # way: run to its end, canceled before it ran, failed to start), after its final status is
        # stored; e.g. the workflow engine moving a workflow on.  Declared by resources.
        self.job_end_hooks: list[Hook] = []
        # (ctx, now: aware datetime) -> None, called on every scheduler tick by the process holding
        # the scheduler lease: work that is due by the clock (approval timeouts, safety sweeps).
        self.tick_hooks: list[Hook] = []
        self._views: list[Resource] = []

    def add(self, resource: Resource) -> Resource:
        if resource.name in self._by_name or resource.plural in self._by_plural:
            raise ValueError(f"resource {resource.name} declared twice")
        self._by_name[resource.name] = resource
        self._by_plural[resource.plural] = resource
        if resource.unified_job is not None:
            resource.unified_job.resource, resource.unified_job.table = resource.name, resource.table
        return resource

    def add_view(self, resource: Resource) -> Resource:
        """A second address over the rows of the resource named ``resource.name`` (AWX's
        ``/constructed_inventories/`` over inventories): its own ``plural``, fields and hooks, the
        same type, table (``table_name``), roles and history.  The generic views serve it by its
        plural and :meth:`endpoints` lists it, but iterating the registry does not yield it: tables,
        roles and reverse relations derive once, from the resource itself."""
        if resource.name not in self._by_name or resource.plural in self._by_plural:
            raise ValueError(f"view {resource.plural} of an undeclared resource, or declared twice")
        self._by_plural[resource.plural] = resource
        self._views.append(resource)
        return resource

    def endpoints(self) -> list[Resource]:
        """Every resource and every view: what the API root, OpenAPI and the docs list."""
        return [*self, *self._views]

    def __getitem__(self, name: str) -> Resource:
        return self._by_name[name]

    def get(self, name: str) -> Resource | None:
        return self._by_name.get(name)

    def by_plural(self, plural: str) -> Resource | None:
        return self._by_plural.get(plural)

    def plurals(self) -> list[str]:
        """Every name the API serves a resource under: declared resources and their views."""
        return list(self._by_plural)

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._by_name.values()))

    def unified_jobs(self) -> list[UnifiedJob]:
        """Every declared unified-job kind, in declaration order."""
        return [r.unified_job for r in self if r.unified_job is not None]

    def process_jobs(self) -> list[UnifiedJob]:
        """The unified-job kinds that run a process (those the dispatcher runs)."""
        return [k for k in self.unified_jobs() if k.prepare is not None]

    def unified_templates(self) -> list[str]:
        """Every resource some unified-job kind is a run of ("job_template", "project" ...)."""
        return [k.template for k in self.unified_jobs() if k.template]

    def unified_job_of(self, template: str) -> UnifiedJob | None:
        """The kind of job that runs template resource ``template`` (None when none does)."""
        return next((k for k in self.unified_jobs() if k.template == template), None)

    def reverse_fks(self, target: str) -> list[tuple[Resource, Field]]:
        """Every (resource, field) whose FK points at ``target``: the reverse relations."""
        return [(r, f) for r in self for f in r.fk_fields if f.fk == target]

    def reverse_m2m(self, target: str) -> list[tuple[Resource, Relation]]:
        """Every (resource, m2m relation) to ``target`` with a ``reverse_name``: the names
        ``target`` filters those associations by, read backwards (a group's ``parents``)."""
        return [(r, rel) for r in self for rel in r.relations
                if rel.kind == "m2m" and rel.reverse_name and rel.target == target]

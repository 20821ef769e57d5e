"""The resource registry: one declaration per resource, from which everything else is derived.

A :class:`Resource` lists its :class:`Field` s, sub-lists (:class:`Relation`), object roles
(:class:`RoleSpec`) and a few hooks.  The store derives tables from it, the query compiler
derives the filterable fields and relations, the API derives routes, validation,
serialization, OPTIONS and OpenAPI, and the access layer derives visibility and permissions.

Nothing here touches SQL or Flask: declarations are plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Callable, Iterator

# Storage/validation kinds a field can have, and the AWX OPTIONS type each one shows as.
FIELD_KINDS: dict[str, str] = {
    "string": "string",      # short text, max_length applies
    "text": "string",        # long text
    "integer": "integer",
    "float": "float",
    "boolean": "boolean",
    "choice": "choice",
    "id": "id",              # foreign key to another resource (``fk`` names it)
    "json": "json",          # any JSON value, stored as JSON text
    "vars": "json",          # YAML or JSON text of a mapping, stored verbatim (variables, extra_vars)
    "datetime": "datetime",
    "email": "email",
    "password": "string",    # write-only secret hashed by a hook; shown as $encrypted$
}

ENCRYPTED = "$encrypted$"


@dataclass
class Field:
    """One attribute of a resource.

    ``stored`` fields are columns; the others are computed at serialization time by the
    resource's ``compute`` hook and can be neither written nor filtered.
    """

    name: str
    kind: str = "string"
    required: bool = False
    default: Any = ""
    choices: list[tuple[Any, str]] | None = None
    max_length: int | None = None
    min_value: int | float | None = None
    max_value: int | float | None = None
    label: str | None = None
    help_text: str = ""
    read_only: bool = False
    write_only: bool = False       # accepted on input, never output (OPTIONS GET omits it)
    secret: bool = False           # output as $encrypted$; filtering on it answers 403
    prevent_search: bool = False   # filtering on it answers 403 ("Filtering on x is not allowed.")
    fk: str | None = None          # target resource name when kind == "id"
    null: bool = False             # null is a valid stored value (FKs, nullable datetimes)
    unique: bool = False
    create_only: bool = False      # writable on create, read-only afterwards
    stored: bool = True
    filterable: bool | None = None
    on_delete: str = "cascade"     # for FKs: "cascade" | "set_null" | "protect"
    index: bool = False
    hidden: bool = False           # stored but never output, written or shown (e.g. a token hash)
    unique_message: str | None = None  # overrides "<Model> with this <Field> already exists."
    shown: str = "always"          # "always" | "not_list" (omitted from lists) | "detail" (detail GET only)
    options: dict | None = None    # extra keys of its OPTIONS metadata (AWX: notification_configuration's
                                   # per-type fields, messages' per-type defaults)

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if self.kind == "id" and not self.fk:
            raise ValueError(f"id field {self.name} needs fk=")
        if self.kind == "id":
            self.index = True
        if self.default == "" and self.kind in ("id", "datetime", "integer", "float", "boolean", "json"):
            # "" is the text default; other kinds start at their own empty value
            self.default = {"integer": 0, "float": 0.0, "boolean": False}.get(self.kind)
        if self.filterable is None:
            self.filterable = self.stored and not self.write_only and not self.hidden

    @property
    def api_type(self) -> str:
        """The type name AWX's OPTIONS metadata uses for this field."""
        return FIELD_KINDS[self.kind]

    @property
    def writable(self) -> bool:
        return self.stored and not self.read_only and not self.hidden

    @property
    def visible(self) -> bool:
        """Shown in object bodies (write-only secrets show as $encrypted$)."""
        return not self.hidden and (not self.write_only or self.secret)

    @property
    def forbidden_filter(self) -> bool:
        return self.secret or self.prevent_search or self.kind == "password"

    def verbose_label(self) -> str:
        if self.label:
            return self.label
        text = self.name.replace("_", " ")
        return text[:1].upper() + text[1:]


@dataclass
class RoleSpec:
    """An object role (``admin_role`` ...).

    ``parents`` are the roles whose holders implicitly hold this one: either another role
    field of the same object (``"admin_role"``) or a role reached through a foreign key
    (``"organization.admin_role"``).
    """

    field: str
    name: str
    description: str
    parents: tuple[str, ...] = ()
    user_only: bool = False   # cannot be granted to a team (organization admin/member)


@dataclass
class Relation:
    """A sub-list ``/<plural>/<id>/<name>/`` and how it is stored.

    kinds:
      * ``reverse_fk``   children whose ``key`` FK points at the parent (create injects it,
                         disassociate deletes the child)
      * ``role_members`` users that are direct members of the parent's role ``key``
      * ``member_of``    objects of ``target`` whose role ``key`` holds the parent user
      * ``m2m``          association table ``key`` = "table:left_col:right_col"
      * ``object_roles`` / ``user_roles`` / ``team_roles`` / ``role_users`` / ``role_teams``
      * ``access_list``  users with effective access to the parent
      * ``activity``     activity-stream entries about the parent
      * ``derived``      read-only list computed by ``scope_hook`` (root_groups, all_hosts ...)
    """

    name: str
    target: str
    kind: str
    key: str = ""
    create: bool = False       # POST without "id" creates a child
    attach: bool = True        # POST {"id": N} attaches, {"id", "disassociate"} detaches
    read_only: bool = False
    scope_hook: Callable[..., Any] | None = None   # (ctx, parent_row) -> (sql, params): overrides kind
    # (ctx, parent_row, child_row, on) -> None: raise APIError to refuse an attach (on) or a detach (cycles...)
    validate_association: Callable[..., Any] | None = None
    # m2m create-and-attach: parent fields copied onto the new child ("inventory" for a group's hosts)
    inherit: tuple[str, ...] = ()
    # (ctx, parent_row, body) -> child row | None: POST without "id" attaches this existing child
    # instead of creating one (204), e.g. a group's host named like an existing one
    find_existing: Callable[..., Any] | None = None
    # reverse_fk only: (ctx, child_row) -> None run instead of the target's ``before_delete`` when a
    # disassociation deletes the child (AWX: a group dropped from /inventories/N/groups/ is deleted
    # alone, not recursively as by DELETE /groups/N/)
    detach_delete: Callable[..., Any] | None = None
    # (ctx, parent_row) -> None: when set, ``{"disassociate": true}`` without "id" deletes the
    # parent itself, this hook replacing its ``before_delete`` (AWX GroupChildrenList.unattach)
    detach_all_deletes_parent: Callable[..., Any] | None = None
    # m2m only: a detach that leaves the child in no association table of any resource deletes the
    # child, without its delete permission (AWX's label sub-lists: a label attached to nothing goes)
    detach_deletes_unused: bool = False
    # m2m only: an attach or create is refused (400, "Maximum number of <name> for <parent> reached.")
    # while the parent holds more than this many children; 0 = no cap (AWX's label sub-lists: 100)
    max_links: int = 0
    # m2m only: the association keeps the order of attachment (AWX's OrderedManyToManyField, e.g. an
    # organization's galaxy_credentials): the link table gets a ``position`` column and the sub-list
    # is listed in that order unless the request asks for another
    ordered: bool = False

    @property
    def writable(self) -> bool:
        return not self.read_only and (self.create or self.attach)


Hook = Callable[..., Any]


@dataclass
class UnifiedJob:
    """What makes a resource a unified job (job, project update, inventory update, ad hoc
    command ...), declared once on that resource (``Resource.unified_job``).

    The dispatcher runs it (``prepare``/``finish``/``impact``/``blocked``), the scheduler starts
    it from its template (``start``), stdout and the live stream read its events
    (``events_table``/``parent_col``), and the generic hooks of every job resource (delete
    guard, who may cancel, event visibility) derive from it.  The callables live above this
    floor (in ``controller.jobs``): the declaration in ``controller.resources`` hands them in.
    """

    events_table: str = ""           # its events' table ("job_events"); "" when it has none
    parent_col: str = ""             # the events' FK column naming the job ("job")
    prepare: Hook | None = None      # (ctx, row) -> RunSpec; raises JobError to error the job.
                                     # None: the kind runs no process (a workflow job, an approval):
                                     # the dispatcher leaves it alone and its own engine moves it on
    template: str | None = None      # resource it is a run of ("job_template"); None: no template
    template_fk: str = ""            # its column naming the template ("job_template")
    start: Hook | None = None        # (ctx, template row, launch_type, body, extra_fields) -> job row
    run_role: str = "execute_role"   # role on the template that may start (and schedule) it
    finish: Hook | None = None       # (ctx, row, RunResult, run_data) -> fields to store
    impact: Hook | None = None       # (ctx, row) -> capacity units (default 1)
    blocked: Hook | None = None      # (ctx, row) -> True while it must wait (dependencies ...)
    record_failure: Hook | None = None  # (ctx, template, reason, extra_fields) -> job row in error:
                                        # what a scheduled start that raised leaves (None: re-raise)
    cancel: Hook | None = None       # (ctx, row): how a kind that runs no process stops (a workflow
                                     # job); None: the dispatcher's cancel (flag, or end it unstarted)
    admin: tuple[str, str] = ("", "")   # (resource, column of the job): its admin may cancel the job
    launcher_may_change: bool = False   # whoever launched it may cancel it too
    events_have_host: bool = False      # events carry a ``host`` FK
    resource: str = ""               # the job resource's name and table, set by Registry.add
    table: str = ""


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
    can_delete: Hook | None = None        # (ctx, row) -> bool, replaces every other delete check
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

"""Labels (AWX §7.4): a name within an organization, attached to templates (and their jobs).

Access, as AWX's LabelAccess: a label is visible to readers of its organization and to readers
of any job or workflow job template it is attached to; members of the organization create
labels; its admins change them.  Labels have no roles of their own.

Contracts (AWX 24.6.1's LabelDetail and LabelSubListCreateAttachDetachView):
  * ``/labels/N/`` is retrieve/update only: DELETE is a 405 for everyone and ``Allow`` does not
    list it; a label goes when the last detach leaves it attached to nothing (services.relations).
    Label objects carry no ``user_capabilities``.
  * Every writable ``labels/`` sub-list (job and workflow job templates, workflow template nodes,
    schedules) is declared by :func:`labels_relation`: ``{"name", "organization"}`` attaches the
    label of that name in that organization, else creates it (201) and attaches it; an attach or
    create is refused while the parent already holds more than ``MAX_LABELS`` labels.
"""
from __future__ import annotations

from .. import access
from ..errors import PermissionDenied
from ..registry import Field, Registry, Relation, Resource
from ..store import labels as label_sql

LABELS_TABLE = "job_template_labels"   # association table of job templates, see templates.py
# Templates whose readers see the labels attached to them (AWX: unifiedjobtemplate_labels):
# (resource, association table, its template column); see templates.py and workflows.py.
TEMPLATE_LINKS = (("job_template", LABELS_TABLE, "job_template_id"),
                  ("workflow_job_template", "workflow_job_template_labels", "workflow_job_template_id"))
# AWX refuses a label sub-list POST once the parent holds more than this many labels.
MAX_LABELS = 100


def find_label(ctx, parent: dict, body: dict) -> dict | None:
    """``find_existing`` of the label sub-lists: the label ``body["name"]`` (stripped, as a new
    label's name would be) of organization ``body["organization"]``, or None (then a POST creates)."""
    name, org = body.get("name"), body.get("organization")
    if not isinstance(name, str) or isinstance(org, bool) or not isinstance(org, (int, str)):
        return None
    return label_sql.label_named(ctx.store, name.strip(), org)


def labels_relation(key: str) -> Relation:
    """The ``labels/`` sub-list over association table ``key`` ("table:owner_col:label_id"):
    attach/detach by id, create-or-attach by name, the cap, and a detach that leaves the label
    attached to nothing deletes it."""
    return Relation("labels", "label", "m2m", key=key, create=True, find_existing=find_label,
                    detach_deletes_unused=True, max_links=MAX_LABELS)


def _visibility(ctx):
    """(sql, params) over labels: organization readable, or attached to a readable job or
    workflow job template; None when everything is visible."""
    parts: list[str] = []
    params: list = []
    org = access.visibility(ctx, ctx.registry["organization"])
    if org is None:
        return None
    parts.append(f'organization IN (SELECT id FROM "organizations" WHERE {org[0]})')
    params += org[1]
    for name, link_table, owner_col in TEMPLATE_LINKS:
        res = ctx.registry.get(name)
        if res is None:       # a registry built without that domain (unit tests)
            continue
        owned = access.visibility(ctx, res)
        if owned is None:
            return None
        parts.append(label_sql.attached_to(link_table, owner_col, res.table, owned[0]))
        params += owned[1]
    return " OR ".join(f"({p})" for p in parts), params


def _can_change(ctx, row: dict) -> bool:
    return access.holds(ctx, "organization", row.get("organization"), "admin_role")


def _validate(ctx, values: dict, existing: dict | None) -> None:
    # Moving a label to another organization needs membership there too (AWX can_change -> can_add).
    moved = existing is not None and "organization" in values and values["organization"] != existing["organization"]
    if moved and not access.holds(ctx, "organization", values["organization"], "member_role"):
        raise PermissionDenied()


def declare(reg: Registry) -> None:
    """Add the label resource."""
    reg.add(Resource(
        name="label", plural="labels", common_fields=False,
        fields=[
            Field("name", "string", required=True, max_length=512, help_text="Name of this label."),
            Field("organization", "id", fk="organization", required=True,
                  help_text="Organization this label belongs to."),
        ],
        ordering=("organization", "name"), search_fields=("name",),
        named_url=(("name",), ("organization.name",)), unique_together=(("name", "organization"),),
        create_role="organization.member_role", may_add=access.anyone, visibility=_visibility, can_change=_can_change,
        validate=_validate, deletable=False, capabilities=(),
    ))

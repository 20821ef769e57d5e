"""``/api/v2/constructed_inventories/``: AWX's constructed inventories (§6.7).

A constructed inventory is an inventory of kind ``"constructed"``: its hosts and groups are what
its one auto-created ``constructed`` inventory source imports from its ordered
``input_inventories`` (``resources/inventory.py`` makes that source; ``jobs/inventory_plugins.py``
runs it).  This address is a second declaration over the same rows (:meth:`Registry.add_view`),
as AWX's ConstructedInventorySerializer is over its Inventory model: the inventory's fields
without ``host_filter``, ``kind`` read-only (a create makes it ``"constructed"``), and four
fields read from and written through to the auto-created source.  The list shows constructed
inventories only; type, roles, related links and history are the inventory's.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import ValidationError
from ..registry import Field, Hook, Registry, Resource
from ..services import crud
from ..services.variables import VarsError, parse_vars
from .inventory_sources import CONSTRUCTED_EDITABLE

_PENDING = "constructed_source_values"   # ctx.cache key: through values between before_save and after_save
_ONLY_CONSTRUCTED = ('"kind" = ?', ["constructed"])


def _through_fields() -> list[Field]:
    """AWX's ConstructedCharField/ConstructedIntegerField: null (or absent) means "not given"."""
    common: dict[str, Any] = dict(null=True, default=None, filterable=False)
    return [
        Field("source_vars", "text", help_text="The source_vars for the related auto-created inventory source, "
                                               "special to constructed inventory.", **common),
        Field("update_cache_timeout", "integer", min_value=0,
              help_text="The cache timeout for the related auto-created inventory source, special to "
                        "constructed inventory", **common),
        Field("limit", "text", help_text="The limit to restrict the returned hosts for the related auto-created "
                                         "inventory source, special to constructed inventory.", **common),
        Field("verbosity", "integer", min_value=0, max_value=2,
              help_text="The verbosity level for the related auto-created inventory source, special to "
                        "constructed inventory", **common),
    ]


def _sources_of(ctx, inventory_ids: list[int]) -> dict[int, dict]:
    """Each inventory's first (auto-created) inventory source, in one query."""
    if not inventory_ids:
        return {}
    marks = ", ".join("?" for _ in inventory_ids)
    rows = ctx.store.page("inventory_sources", f"inventory IN ({marks})", list(inventory_ids), "id DESC",
                          len(inventory_ids) * 50, 0)
    return {r["inventory"]: r for r in rows}     # id DESC: the lowest id is written last and kept


def _hook(resource: Resource, name: str) -> Hook:
    """The declared hook ``name`` of ``resource`` (the inventory declares each one the view extends)."""
    hook = getattr(resource, name)
    if hook is None:
        raise ValueError(f"{resource.name} declares no {name} hook")
    return hook


def declare(reg: Registry) -> None:
    base = reg["inventory"]
    base_validate, base_before_save, base_after_save, base_compute, base_related = (
        _hook(base, name) for name in ("validate", "before_save", "after_save", "compute", "extra_related"))

    def validate(ctx, values: dict, existing: dict | None) -> None:
        base_validate(ctx, values, existing)
        if values.get("source_vars"):
            try:
                parse_vars(values["source_vars"])
            except VarsError as exc:
                raise ValidationError({"source_vars": [str(exc)]}) from None

    def before_save(ctx, values: dict, existing: dict | None) -> dict:
        ctx.cache[_PENDING] = {name: values.pop(name) for name in CONSTRUCTED_EDITABLE
                               if name in values and values[name] is not None}
        for name in CONSTRUCTED_EDITABLE:
            values.pop(name, None)
        if existing is None:
            values["kind"] = "constructed"
        return base_before_save(ctx, values, existing)

    def after_save(ctx, row: dict, existing: dict | None) -> None:
        """The inventory's own hook (which makes the source), then AWX's apply_inv_src_data."""
        base_after_save(ctx, row, existing)
        pending = ctx.cache.pop(_PENDING, {})
        source = _sources_of(ctx, [row["id"]]).get(row["id"])
        if pending and source is not None:
            crud.update(ctx, ctx.registry["inventory_source"], source, pending, partial=True)

    def compute(ctx, rows: list[dict]) -> dict[int, dict]:
        out = base_compute(ctx, rows)
        sources = _sources_of(ctx, [r["id"] for r in rows])
        for r in rows:
            source = sources.get(r["id"]) or {}
            out.setdefault(r["id"], {}).update({name: source.get(name) for name in CONSTRUCTED_EDITABLE})
        return out

    def related(ctx, row: dict, detail: bool) -> dict[str, str]:
        # copy is the inventory's action (its answer is an inventory): linked at its own address
        return {**base_related(ctx, row, detail), "copy": f"{base.url(row['id'])}copy/"}

    fields = [replace(f, read_only=True) if f.name == "kind" else f for f in base.fields if f.name != "host_filter"]
    reg.add_view(Resource(
        name=base.name, plural="constructed_inventories", api_key="constructed_inventory",
        verbose_name="constructed inventory", model_name="ConstructedInventory", table_name=base.table,
        fields=fields + _through_fields(),
        ordering=base.ordering, search_fields=base.search_fields, named_url=base.named_url,
        unique_together=base.unique_together, summary_keys=base.summary_keys, roles=base.roles,
        create_role=base.create_role, capabilities=base.capabilities,
        relations=base.relations,     # the same list: sub-lists other domains add later are shared
        actions=tuple(a for a in base.actions if a != "copy"),
        validate=validate, before_save=before_save, after_save=after_save, compute=compute,
        extra_related=related, before_delete=base.before_delete, delete_status=base.delete_status,
        list_filter=lambda ctx, args: _ONLY_CONSTRUCTED,
    ))

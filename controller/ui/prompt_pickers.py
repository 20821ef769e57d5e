"""Pickers for the list-valued launch prompts (credentials, labels, instance groups).

Contracts:
  * A picker offers what the user may put in the prompt: the credentials and instance groups
    they may use (``role_level=use_role``, as the launch checks), the labels they can see.
    Credentials are grouped by their type, since the launch replaces the template's credentials
    type by type (and refuses to drop a machine credential without a replacement).
  * What the picker shows picked: the posted ids, else the template's own (its credentials,
    instance groups in their order) on the launch form, the schedule's own lists on the
    schedule form (where none picked means "the template's own").
  * Labels are additive (AWX): a job (or workflow job) always gets the template's labels plus
    the picked ones.  The label picker lists the template's own as ``fixed`` (shown, always
    included, not offered) and offers the other labels to add; nothing is picked until the user
    picks.  The template is a job template or a workflow job template (``kind``): its own labels
    are read through its declared ``labels`` relation, so both work alike.
  * The form sends the list only when the picker was on the page (a hidden ``<key>__shown``
    input), so an emptied picker is an empty list and a form without it leaves the template's.
    The list is ids, as the API's launch takes them; the service validates every one.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..prompts import PROMPTS, Prompt
from ..services import crud
from ..store import links
from .base import ctx, registry

# prompt key -> the resource its ids name
TARGETS = {"credentials": "credential", "labels": "label", "instance_groups": "instance_group"}
SHOWN = "__shown"


def list_prompts(jt: dict) -> list[Prompt]:
    """The list prompts ``jt`` asks for on launch, in the prompts table's order (a workflow job
    template has only ``ask_labels_on_launch`` of them, so it gets the label picker at most)."""
    return [p for p in PROMPTS if p.list_of_ids and p.key in TARGETS and jt.get(p.ask_flag)]


def picker_groups(key: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """The options of prompt ``key``'s picker as (group label, [(id, label)]) ("" : no group)."""
    res = registry(TARGETS[key])
    args = [("page_size", "200"), ("order_by", "name")]
    if res.has_roles:
        args.append(("role_level", "use_role"))
    results = crud.list_page(ctx(), res, args, "/")["results"]
    if key != "credentials":
        return [("", [(o["id"], str(o["name"])) for o in results])]
    groups: dict[str, list[tuple[int, str]]] = {}
    for c in results:
        kind = (c.get("summary_fields", {}).get("credential_type") or {}).get("name", "")
        groups.setdefault(str(kind), []).append((c["id"], str(c["name"])))
    return sorted(groups.items())


def template_ids(key: str, jt_obj: dict, defaults: Mapping[str, Any]) -> list[int]:
    """What the launch form picks before the user does: the template's own ids of prompt ``key``
    (the launch's defaults); none for labels, whose picker only adds to the template's."""
    if key == "labels":
        return []
    return [d["id"] for d in defaults.get(key) or [] if isinstance(d, dict) and "id" in d]


def fixed_labels(jt_obj: dict, kind: str = "job_template") -> list[tuple[int, str]]:
    """The own labels of template ``jt_obj`` (a ``kind`` resource: job or workflow job template)
    as (id, name), by id: a job of it always has them."""
    rel = registry(kind).relation("labels")
    if not jt_obj.get("id") or rel is None:
        return []
    store = ctx().store
    table, left, right = str(rel.key).split(":")
    ids = sorted(links.linked_ids(store, table, left, right, int(jt_obj["id"])))
    rows = store.get_many("labels", ids, "id, name")
    return [(pk, str(rows[pk]["name"])) for pk in ids if pk in rows]


def posted_ids(key: str, form: Mapping) -> list[int] | None:
    """The ids picked for ``key`` in a posted form, or None when the form had no picker for it."""
    if f"{key}{SHOWN}" not in form:
        return None
    return [int(v) for v in form.getlist(key) if str(v).isdigit()]  # type: ignore[attr-defined]


def pickers(prompts: list[Prompt], jt_obj: dict, defaults: Mapping[str, Any], form: Mapping | None,
            stored: Mapping[str, list[int]] | None = None, note: str = "", kind: str = "job_template") -> list[dict]:
    """What the template renders for each list prompt: key, label, help (+ ``note``), options,
    picked ids: as posted, else ``stored`` (a schedule's own lists) when given, else the
    template's; ``fixed``: the labels of template ``jt_obj`` (a ``kind`` resource; the label
    picker offers only the others)."""
    out = []
    for p in prompts:
        picked = posted_ids(p.key, form) if form is not None else None
        if picked is None:
            picked = list(stored.get(p.key, [])) if stored is not None else template_ids(p.key, jt_obj, defaults)
        groups = picker_groups(p.key)
        fixed = fixed_labels(jt_obj, kind) if p.key == "labels" else []
        if fixed:
            own = {pk for pk, _name in fixed}
            groups = [(g, [o for o in items if o[0] not in own]) for g, items in groups]
        help_text = p.launch_help if p.key != "labels" else "Labels to add to the template's: the job gets the " \
            "template's labels and the ones picked here."
        out.append({"key": p.key, "label": p.label, "help": f"{help_text} {note}".strip(), "groups": groups,
                    "count": sum(len(items) for _, items in groups), "picked": picked,
                    "fixed": [name for _pk, name in fixed]})
    return out


def list_values(prompts: list[Prompt], form: Mapping) -> dict[str, list[int]]:
    """The list prompts' part of a launch body: each picker's ids (only pickers that were shown)."""
    out = {}
    for p in prompts:
        ids = posted_ids(p.key, form)
        if ids is not None:
            out[p.key] = ids
    return out

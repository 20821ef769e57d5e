"""Delete confirmation: ``GET /ui/<plural>/<pk>/delete`` asks before anything is deleted.

Contracts:
  * Every delete button on the pages is a link to this page; the page's form POSTs to the same
    address, whose POST handler (``generic_delete`` or a resource's own) is the only thing that
    deletes.  A GET never deletes.
  * The right is checked before the question is shown: a user who may not delete the object
    (its ``user_capabilities.delete``) gets the 403 page, one who may not see it the 403/404.
    A resource whose declared methods have no DELETE (the API's ``Allow``) gets the 405 page,
    as the API's DELETE would; its pages show no Delete button (:func:`.base.ui_object`).
  * The page names what goes with the object where the declarations say so (an inventory's
    hosts, groups and sources; a template's schedules), counted as the user sees them.
  * With script, ``turret.js`` shows this page's ``#confirm-delete`` box in a ``<dialog>`` instead
    of navigating to it (same form, same POST).
"""
from __future__ import annotations

from ..errors import MethodNotAllowed, PermissionDenied
from ..services import crud, relations
from .base import allows_delete, caps, ctx, detail, page_view, render
from .blueprint import bp
from .generic import section_of, ui_resource

# resource -> (relation, what its members are called): the objects deleted along with it
GOES_WITH: dict[str, tuple[tuple[str, str], ...]] = {
    "inventory": (("hosts", "hosts"), ("groups", "groups"), ("inventory_sources", "inventory sources")),
    "job_template": (("schedules", "schedules"),),
    "workflow_job_template": (("schedules", "schedules"), ("workflow_nodes", "workflow nodes")),
    "project": (("schedules", "schedules"),),
    "inventory_source": (("schedules", "schedules"),),
}


def object_label(obj: dict) -> str:
    """How the question names the object: its name, username or description, else its id."""
    return str(obj.get("name") or obj.get("username") or obj.get("description") or f"#{obj['id']}")


def count_cascade(resource, row: dict) -> list[tuple[int, str]]:
    """(count, noun) of the related objects deleted with ``row``, only the non-empty ones."""
    out = []
    for rel_name, noun in GOES_WITH.get(resource.name, ()):
        rel = resource.relation(rel_name)
        if rel is None:
            continue
        target = ctx().registry[rel.target]
        page = crud.list_page(ctx(), target, [("page_size", "1")], "/",
                              scope=relations.scope(ctx(), resource, row, rel))
        count = int(page.get("count") or 0)
        if count:
            out.append((count, noun if count > 1 else noun[:-1]))      # "1 host", "2 hosts"
    return out


@bp.route("/<plural>/<int:pk>/delete", methods=["GET"])
@page_view
def delete_confirm(plural: str, pk: int):
    """The question "Delete <type> <name>?" with what goes with it, a Delete button (POST, with
    the CSRF token) and a Cancel link back to the object's page."""
    res = ui_resource(plural)
    if not allows_delete(res):          # before the lookup, as the API's DELETE (DRF's order)
        raise MethodNotAllowed("DELETE")
    row, obj = detail(res, pk)
    if not caps(obj).get("delete"):
        raise PermissionDenied()
    return render("confirm_delete.html", noun=res.verbose_name, name=object_label(obj), section=section_of(plural),
                  goes=count_cascade(res, row), action=f"/ui/{plural}/{pk}/delete", cancel=f"/ui/{plural}/{pk}")

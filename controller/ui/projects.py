"""Projects: create / edit (a manual folder picked from the projects directory, or git / archive
with branch, credential and update options), delete, and a project update's page with its
output followed live.

Contracts:
  * The form is the engine's (:mod:`controller.ui.forms`) over the project declaration; this
    module only narrows two selects: ``local_path`` offers the folders of the projects root
    (AWX's ``project_local_paths``: not hidden, not another project's SCM checkout) and
    ``credential`` the source-control credentials the user may use.  The service validates.
  * The update page reads the output with the API's stdout service; ``/state`` answers JSON
    ``{status, active, output}`` that the page's script polls until the update has finished.
"""
from __future__ import annotations

import re
from typing import Any

from flask import jsonify, redirect, request, url_for

from .. import access
from ..errors import PermissionDenied
from ..jobs.project_update import request_update
from ..services import crud, relations, stdout
from ..services.project_files import project_files, projects_root
from ..status import ACTIVE
from .base import caps, ctx, detail, list_args, listing, page_view, registry, render
from .blueprint import bp
from .forms import FormField, form_fields, render_form, submit
from .generic import may_create

FIELDS = ("name", "description", "organization", "scm_type", "local_path", "scm_url", "scm_branch", "scm_refspec",
          "credential", "scm_clean", "scm_delete_on_update", "scm_track_submodules", "scm_update_on_launch",
          "scm_update_cache_timeout", "allow_override", "timeout", "default_environment")
_CHECKOUT = re.compile(r"^_\d+__")          # the folders SCM projects are checked out into


def project_folders() -> list[str]:
    """Folders a manual project may use: direct sub-folders of the projects root, without the
    hidden ones and SCM checkouts, sorted."""
    root = projects_root(ctx())
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and not _CHECKOUT.match(p.name))


def _scm_credentials() -> list[tuple[Any, str]]:
    page = crud.list_page(ctx(), registry("credential"), [("credential_type__kind", "scm"), ("role_level", "use_role"),
                                                          ("order_by", "name"), ("page_size", "200")], "/")
    return [("", "---------")] + [(c["id"], c["name"]) for c in page["results"]]


def _fields(obj: dict | None, errors: dict | None = None) -> list[FormField]:
    folders = project_folders()
    current = (obj or {}).get("local_path") or ""
    choices: list[tuple[Any, str]] = [("", "---------")] + [(f, f) for f in folders]
    if current and current not in folders:
        choices.append((current, current))
    overrides = {"local_path": {"widget": "select", "choices": choices, "label": "Playbook directory",
                                "help_text": f"A folder of the projects directory ({projects_root(ctx())}); "
                                             "manual projects only."},
                 "credential": {"choices": _scm_credentials(), "label": "Source control credential"},
                 "organization": {"required": True}}
    if obj is not None and obj.get("scm_type"):
        overrides["local_path"] = {"read_only": True}
    return form_fields(registry("project"), obj, values=request.form if request.method == "POST" else None,
                       errors=errors, only=FIELDS, overrides=overrides)


def _form_page(obj: dict | None):
    res = registry("project")
    row = crud.get_row(ctx(), res, obj["id"]) if obj is not None else None
    fields = _fields(obj)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        saved, errors = submit(res, row, fields)
        if saved is not None:
            return redirect(url_for("ui.project", pk=saved["id"]))
    return render_form(fields, title=obj["name"] if obj else "New project", section="Projects", errors=errors,
                       obj=obj, cancel=url_for("ui.project", pk=obj["id"]) if obj else url_for("ui.projects"),
                       template="project_form.html")


@bp.route("/projects/new", methods=["GET", "POST"])
@page_view
def project_new():
    return _form_page(None)


@bp.route("/projects/<int:pk>/edit", methods=["GET", "POST"])
@page_view
def project_edit(pk: int):
    _row, obj = detail(registry("project"), pk)
    if not caps(obj).get("edit"):
        raise PermissionDenied()
    return _form_page(obj)


@bp.route("/projects/<int:pk>/delete", methods=["POST"])
@page_view
def project_delete(pk: int):
    res = registry("project")
    crud.delete(ctx(), res, crud.get_row(ctx(), res, pk))
    return redirect(url_for("ui.projects", deleted=pk))


@bp.route("/projects", methods=["GET"])
@page_view
def projects():
    data = listing(registry("project"), list_args(("search", "page", "order_by")))
    return render("projects.html", data=data, search=request.args.get("search", ""),
                  can_create=may_create(registry("project")))


@bp.route("/projects/<int:pk>", methods=["GET"])
@page_view
def project(pk: int):
    """The project's page: details, playbooks, recent updates, sync / edit / delete buttons for
    those who may use them."""
    res = registry("project")
    row, obj = detail(res, pk)
    playbooks = project_files(ctx(), row, "playbook")
    updates = listing(registry("project_update"), [("order_by", "-id"), ("page_size", "10")],
                      scope=relations.scope(ctx(), res, row, res.relation("project_updates")))
    can_sync = bool(row.get("scm_type")) and access.holds(ctx(), "project", pk, "update_role")
    return render("project.html", obj=obj, playbooks=playbooks, updates=updates, can_sync=can_sync,
                  can_edit=caps(obj).get("edit") and not obj.get("managed"), can_delete=caps(obj).get("delete"))


@bp.route("/projects/<int:pk>/sync", methods=["POST"])
@page_view
def project_sync(pk: int):
    """Sync: start an update (the service checks the project is SCM and the update role) and
    follow its output on the update's page."""
    row = crud.get_row(ctx(), registry("project"), pk)
    update = request_update(ctx(), row)
    return redirect(url_for("ui.project_update", pk=update["id"]))


def _update_parts(pk: int) -> dict:
    res = registry("project_update")
    row, obj = detail(res, pk)
    text, _mime, _headers = stdout.render(ctx(), res, row, "txt")
    return {"update": obj, "output": text, "active": row["status"] in ACTIVE}


@bp.route("/project_updates/<int:pk>", methods=["GET"])
@page_view
def project_update(pk: int):
    return render("project_update.html", **_update_parts(pk))


@bp.route("/project_updates/<int:pk>/state", methods=["GET"])
@page_view
def project_update_state(pk: int):
    parts = _update_parts(pk)
    return jsonify({"status": parts["update"]["status"], "active": parts["active"], "output": parts["output"]})

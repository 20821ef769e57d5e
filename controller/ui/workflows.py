"""Workflow pages: a workflow template's graph and launch form, a workflow job's live graph,
the approvals inbox.

Reads go through the same services as the API (``detail``/``listing`` check visibility); the
graph itself is read in a few statements (``store.workflow_graph``) once the user may read the
workflow, because 1,000 boxes must render in well under a second.  Writes go through the
workflow engine (``launch_workflow``, ``cancel``) and ``approvals.decide``, which check rights
themselves; the buttons shown here are only a courtesy.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, redirect, render_template, request, url_for

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..services import crud, surveys
from ..store.approvals import has_voted
from ..store.workflow_graph import approval_sources, graph_edges, graph_nodes, names_of_referenced
from ..workflows import approvals as approving
from ..workflows import engine, relaunch
from .base import ACTIVE, caps, ctx, detail, field_errors, flatten_errors, list_args, listing, page_view, \
    registry, render
from .blueprint import bp
from .jobs import _form_prompts, _launch_body, _picks, _questions, cancel_and_show
from .workflow_graph import BOX_H, BOX_W, layout, short_label

KIND_LABELS = {"job_template": "Job template", "project": "Project sync", "inventory_source": "Inventory sync",
               "workflow_job_template": "Workflow", "workflow_approval_template": "Approval"}
UNSTARTED, DNR = "idle", "dnr"       # a job node that spawned nothing (yet) / will never run


def _may_start(row: dict, obj: dict) -> bool:
    if "start" in caps(obj):
        return bool(caps(obj)["start"])
    return access.holds(ctx(), "workflow_job_template", row["id"], "execute_role")


def _template_tables() -> dict[str, str]:
    """Type name -> table of every kind of template a node may run (one id space)."""
    return {name: registry(name).table for name in ctx().registry.unified_templates()}


def _job_tables() -> dict[str, str]:
    return {kind.resource: kind.table for kind in ctx().registry.unified_jobs()}


def _job_href(kind: str, pk: int) -> str:
    """Where a node's spawned job is shown: its UI page when it has one, else its API page."""
    if kind == "job":
        return url_for("ui.job", pk=pk)
    if kind == "workflow_job":
        return url_for("ui.workflow_job", pk=pk)
    if kind == "workflow_approval":
        return url_for("ui.approvals", status="")
    return registry(kind).url(pk)


def graph_view(owner: str, pk: int) -> dict:
    """The drawing of one workflow template's (``owner="template"``) or job's (``"job"``) graph:
    {"nodes": [...], "edges": [...], "width", "height"}, each node with its place, labels,
    status (job graphs) and link."""
    store = ctx().store
    table, col = (("workflow_job_template_nodes", "workflow_job_template") if owner == "template"
                  else ("workflow_job_nodes", "workflow_job"))
    extra = ("identifier", "unified_job_template") + (("job", "do_not_run") if owner == "job" else ())
    rows = graph_nodes(store, table, col, pk, extra)
    edges = graph_edges(store, table, col, pk)
    templates = names_of_referenced(store, _template_tables(), table, "unified_job_template", col, pk)
    jobs = (names_of_referenced(store, _job_tables(), table, "job", col, pk, extra=("status",))
            if owner == "job" else {})
    placed = layout([r["id"] for r in rows], edges)
    nodes = []
    for r in rows:
        box = placed.boxes[r["id"]]
        tpl = templates.get(r.get("unified_job_template") or 0)
        name = tpl["name"] if tpl else ("(deleted template)" if r.get("unified_job_template") else "(no template)")
        kind = KIND_LABELS.get(tpl["type"], tpl["type"]) if tpl else "—"
        node = {"id": r["id"], "x": box.x, "y": box.y, "label": short_label(name), "name": name, "kind": kind,
                "identifier": r.get("identifier") or "", "href": None, "status": ""}
        if owner == "template" and tpl and tpl["type"] == "workflow_job_template":
            node["href"] = url_for("ui.workflow_template", pk=tpl["id"])
        if owner == "job":
            node.update(_node_state(r, jobs))
        nodes.append(node)
    return {"nodes": nodes, "edges": placed.edges, "width": placed.width, "height": placed.height,
            "box_w": BOX_W, "box_h": BOX_H}


def _node_state(row: dict, jobs: dict[int, dict]) -> dict:
    """A job node's status (its spawned job's, else "dnr" or "idle") and the link to that job."""
    job = jobs.get(row.get("job") or 0)
    if job:
        return {"status": job["status"], "href": _job_href(job["type"], job["id"]), "job": job["id"]}
    return {"status": DNR if row.get("do_not_run") else UNSTARTED, "href": None, "job": None}


# -- templates -----------------------------------------------------------------------------
@bp.app_template_global()
def workflow_templates_listing() -> dict | None:
    """The workflow templates the templates page lists under the job templates (same search box);
    None when workflows are not declared."""
    res = ctx().registry.get("workflow_job_template")
    if res is None:
        return None
    args = [("order_by", "name"), ("page_size", "25")]
    if request.args.get("search"):
        args.append(("search", request.args["search"]))
    return crud.list_page(ctx(), res, args, "/")


@bp.route("/workflow_templates/<int:pk>", methods=["GET"])
@page_view
def workflow_template(pk: int):
    res = registry("workflow_job_template")
    row, obj = detail(res, pk)
    runs = listing(registry("workflow_job"), [("workflow_job_template", str(pk)), ("order_by", "-id"),
                                              ("page_size", "10")])
    return render("workflow_template.html", wfjt=obj, graph=graph_view("template", pk), runs=runs,
                  can_start=_may_start(row, obj))


@bp.route("/workflow_templates/<int:pk>/launch", methods=["GET", "POST"])
@page_view
def workflow_launch(pk: int):
    res = registry("workflow_job_template")
    row, obj = detail(res, pk)
    if not _may_start(row, obj):
        raise PermissionDenied()
    info: dict[str, Any] = {"defaults": {}, **engine.launch_info(ctx(), row)}
    questions = _questions(surveys.display_spec(surveys.stored_spec(row))) if row.get("survey_enabled") else []
    prompts = _form_prompts(row)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            job, _ignored = engine.launch_workflow(ctx(), row, _launch_body(row, questions, prompts))
            return redirect(url_for("ui.workflow_job", pk=job["id"]))
        except ValidationError as exc:
            errors = field_errors(exc)
    return render("launch.html", _code=400 if errors else 200, jt=obj, info=info, questions=questions,
                  errors=errors, messages=[m for v in errors.values() for m in v],
                  values=dict(request.form) if request.method == "POST" else {},
                  multi={q["variable"]: request.form.getlist(q["variable"]) for q in questions
                         if q.get("type") == "multiselect"} if request.method == "POST" else {},
                  prompts=prompts, picks=_picks(prompts), job_field=registry("job_template").field)


# -- workflow jobs -------------------------------------------------------------------------
def _job_parts(pk: int) -> dict:
    res = registry("workflow_job")
    row, obj = detail(res, pk)
    active = row["status"] in ACTIVE
    # relaunching is launching the template again: its execute role decides; a workflow job
    # without one (a bulk job, its template deleted) is copied, by a system administrator only
    can_relaunch = not active and (access.holds(ctx(), "workflow_job_template", row["workflow_job_template"],
                                                "execute_role")
                                   if row.get("workflow_job_template") else ctx().is_superuser)
    return {"row": row, "wj": obj, "active": active, "can_cancel": active and access.can_change(ctx(), res, row),
            "can_relaunch": can_relaunch}


@bp.route("/workflow_jobs/<int:pk>", methods=["GET"])
@page_view
def workflow_job(pk: int):
    parts = _job_parts(pk)
    return render("workflow_job.html", graph=graph_view("job", pk), **parts)


@bp.route("/workflow_jobs/<int:pk>/state", methods=["GET"])
@page_view
def workflow_job_state(pk: int):
    """What changes while the workflow runs: its status and each node's status and link."""
    parts = _job_parts(pk)
    graph = graph_view("job", pk)
    return jsonify({"status": parts["row"]["status"], "active": parts["active"], "can_cancel": parts["can_cancel"],
                    "meta": render_template("ui/workflow_job_meta.html", **parts),
                    "actions": render_template("ui/workflow_job_actions.html", **parts),
                    "nodes": [{"id": n["id"], "status": n["status"], "href": n["href"]} for n in graph["nodes"]]})


@bp.route("/workflow_jobs/<int:pk>/cancel", methods=["POST"])
@page_view
def workflow_job_cancel(pk: int):
    return cancel_and_show("workflow_job", pk, "ui.workflow_job")


@bp.route("/workflow_jobs/<int:pk>/relaunch", methods=["POST"])
@page_view
def workflow_job_relaunch(pk: int):
    """Relaunch the whole graph, or (``nodes=failed``) resume it: what succeeded is carried forward."""
    row = crud.get_row(ctx(), registry("workflow_job"), pk)
    try:
        new = relaunch.relaunch(ctx(), row, {"nodes": request.form.get("nodes", "all")})
    except ValidationError as exc:
        return render("workflow_job.html", _code=400, graph=graph_view("job", pk), messages=flatten_errors(exc.body),
                      **_job_parts(pk))
    return redirect(url_for("ui.workflow_job", pk=new["id"]))


# -- approvals -----------------------------------------------------------------------------
def _inbox(messages: list[str] | None = None, code: int = 200):
    status = request.args.get("status", "pending")
    args = [(k, v) for k, v in list_args(("page",)) if k != "status"] + [("order_by", "-id")]
    if status:
        args.append(("status", status))
    data = listing(registry("workflow_approval"), args)
    sources = approval_sources(ctx().store, [a["id"] for a in data["results"]])
    for item in data["results"]:
        item["_workflow_job"] = sources.get(item["id"], (None, None))[0]
        may = item["status"] == "pending" and approving.can_decide(ctx(), item)
        # quorum approvals: who already voted waits for the others (a second vote is refused)
        item["_voted"] = may and has_voted(ctx().store, item["id"], ctx().user_id)
        item["_can_decide"] = may and not item["_voted"]
    return render("approvals.html", _code=code, data=data, status=status, messages=messages or [],
                  decided=request.args.get("decided", ""))


@bp.route("/approvals", methods=["GET"])
@page_view
def approvals():
    return _inbox()


@bp.route("/approvals/<int:pk>/<any(approve, deny):decision>", methods=["POST"])
@page_view
def approval_decide(pk: int, decision: str):
    row = crud.get_row(ctx(), registry("workflow_approval"), pk)
    try:
        approving.decide(ctx(), row, decision == "approve", request.form.get("comment", ""))
    except APIError as exc:             # decided already, voted already, a bad comment
        if exc.status != 400:
            raise
        return _inbox(flatten_errors(exc.body), 400)
    return redirect(url_for("ui.approvals", decided=f"{decision}:{pk}"))

"""Dashboard, job templates (list, launch form), jobs (list, live page, cancel, relaunch)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask import jsonify, redirect, request, url_for

from .. import access
from ..errors import PermissionDenied, ValidationError
from ..jobs import control
from ..jobs import launch as launching
from ..jobs import relaunch as relaunching
from ..prompts import PROMPTS, Prompt
from ..services import crud, relations, surveys
from ..services.variables import VarsError, parse_vars
from . import prompt_pickers
from .blueprint import bp
from .base import ACTIVE, caps, ctx, detail, field_errors, flatten_errors, list_args, listing, \
    page_view, registry, render

STATUSES = ("successful", "failed", "error", "canceled", "running", "pending", "waiting", "new")


def _count(resource, args: list[tuple[str, str]]) -> int:
    return crud.count(ctx(), resource, args)    # no row serialized: 40 of these make the dashboard


# -- dashboard -----------------------------------------------------------------------------
@bp.route("/", methods=["GET"])
@page_view
def dashboard():
    job = registry("job")
    counts = {s: _count(job, [("status", s)]) for s in STATUSES}
    today = datetime.now(timezone.utc).date()
    days = []
    for back in range(13, -1, -1):
        day = today - timedelta(days=back)
        nxt = day + timedelta(days=1)
        window = [("finished__gte", day.isoformat()), ("finished__lt", nxt.isoformat())]
        days.append({"day": day.isoformat(), "label": day.strftime("%m-%d"),
                     "successful": _count(job, [*window, ("status", "successful")]),
                     "failed": _count(job, [*window, ("status__in", "failed,error")])})
    recent = crud.list_page(ctx(), job, [("order_by", "-id"), ("page_size", "10")], "/")["results"]
    running = crud.list_page(ctx(), job, [("status__in", ",".join(ACTIVE)), ("order_by", "-id"),
                                          ("page_size", "20")], "/")
    totals = {name: _count(registry(name), []) for name in ("job_template", "inventory", "host", "project")}
    return render("dashboard.html", counts=counts, days=days, chart=_chart(days), recent=recent,
                  running=running, totals=totals)


def _chart(days: list[dict]) -> dict:
    """Geometry of the 14-day bar chart (inline SVG, no script)."""
    top = max([d["successful"] + d["failed"] for d in days] + [1])
    width, height, pad = 560, 180, 24
    slot = (width - pad) / len(days)
    bars = []
    for i, d in enumerate(days):
        x = pad + i * slot
        ok_h = (height - pad) * d["successful"] / top
        bad_h = (height - pad) * d["failed"] / top
        bars.append({"x": round(x + 3, 1), "w": round(slot / 2 - 3, 1), "day": d,
                     "ok_y": round(height - pad - ok_h, 1), "ok_h": round(ok_h, 1),
                     "bad_x": round(x + slot / 2, 1), "bad_y": round(height - pad - bad_h, 1),
                     "bad_h": round(bad_h, 1), "label_x": round(x + slot / 2, 1)})
    return {"width": width, "height": height, "pad": pad, "top": top, "bars": bars}


# -- job templates -------------------------------------------------------------------------
@bp.route("/templates", methods=["GET"])
@page_view
def templates():
    data = listing(registry("job_template"), list_args(("search", "page", "order_by")))
    return render("templates.html", data=data, search=request.args.get("search", ""))


def _launch_context(pk: int) -> tuple[dict, dict, dict, dict]:
    res = registry("job_template")
    row, obj = detail(res, pk)
    if not caps(obj).get("start"):
        raise PermissionDenied()
    info = launching.launch_info(ctx(), row)
    spec = surveys.display_spec(surveys.stored_spec(row))
    return row, obj, info, spec


def _questions(spec: dict) -> list[dict]:
    """The survey's questions with their choices as lists (and multiselect defaults split)."""
    out = []
    for q in spec.get("spec") or []:
        q = dict(q)
        q["choice_list"] = surveys.choice_list(q.get("choices"))
        default = q.get("default")
        if q.get("type") == "multiselect":
            q["default_list"] = default.split("\n") if isinstance(default, str) else list(default or [])
        out.append(q)
    return out


@bp.route("/templates/<int:pk>/launch", methods=["GET", "POST"])
@page_view
def launch(pk: int):
    row, obj, info, spec = _launch_context(pk)
    questions = _questions(spec) if row.get("survey_enabled") else []
    errors: dict[str, list[str]] = {}
    values = dict(request.form) if request.method == "POST" else {}
    prompts = _form_prompts(row)
    lists = prompt_pickers.list_prompts(row)
    if request.method == "POST":
        try:
            body = {**_launch_body(row, questions, prompts), **prompt_pickers.list_values(lists, request.form)}
            job, _ignored = launching.launch_job(ctx(), row, body)
            return redirect(url_for("ui.job", pk=job["id"]))
        except ValidationError as exc:
            errors = field_errors(exc)
    return render("launch.html", _code=400 if errors else 200, jt=obj, info=info, questions=questions,
                  errors=errors, messages=[m for v in errors.values() for m in v], values=values,
                  multi={q["variable"]: request.form.getlist(q["variable"]) for q in questions
                         if q.get("type") == "multiselect"} if request.method == "POST" else {},
                  prompts=prompts, picks=_picks(prompts), job_field=registry("job_template").field,
                  pickers=prompt_pickers.pickers(lists, obj, info["defaults"],
                                                 request.form if request.method == "POST" else None))


def _target(prompt: Prompt) -> str | None:
    """The resource an id prompt picks from (None: nothing to pick from here)."""
    field = registry("job_template").field(prompt.key)
    return field.fk if prompt.kind == "id" and field is not None else None


def _form_prompts(jt: dict) -> list[Prompt]:
    """The prompts ``jt`` asks for that the form can show, in the table's order with the extra
    variables (a textarea) last.  Lists of ids are left out (``prompt_pickers`` shows them), and
    so is an id with no resource to pick from."""
    shown = [p for p in PROMPTS if jt.get(p.ask_flag) and not p.list_of_ids
             and (p.kind != "id" or _target(p) is not None)]
    return sorted(shown, key=lambda p: p.kind == "json")


def _picks(prompts: list[Prompt]) -> dict[str, list[dict]]:
    """prompt key -> the objects its select offers: those the user may use (the launch checks it)."""
    return {p.key: crud.list_page(ctx(), registry(_target(p) or ""), [("role_level", "use_role"), ("page_size", "200")],
                                  "/")["results"] for p in prompts if p.kind == "id"}


def _form_value(prompt: Prompt, form: Any) -> tuple[bool, Any]:
    """(sent?, value) of one prompt's input: a checkbox is always sent; text as typed (when the
    input was there); a text choice when one is picked; ids, integers and numeric choices only
    when the input holds digits (anything else leaves the template's value)."""
    raw = form.get(prompt.key, "")
    if prompt.kind == "boolean":
        return True, raw == "on"
    if prompt.kind == "string":
        return prompt.key in form, raw
    choices = registry("job_template").field(prompt.key).choices if prompt.kind == "choice" else None
    if choices and not isinstance(choices[0][0], int):
        return bool(raw), raw
    return raw.isdigit(), int(raw) if raw.isdigit() else None


def _launch_body(jt: dict, questions: list[dict], prompts: list[Prompt]) -> dict:
    """The launch request the form stands for: survey answers typed as the survey says (a value
    that does not parse is passed as typed text, so the service's own message explains it)."""
    form = request.form
    extra: dict = {}
    if jt.get("ask_variables_on_launch") and form.get("extra_vars", "").strip():
        try:
            extra.update(parse_vars(form["extra_vars"]))
        except VarsError as exc:
            raise ValidationError({"extra_vars": [str(exc)]}) from None
    for q in questions:
        var, kind = q["variable"], q.get("type")
        if kind == "multiselect":
            picked = form.getlist(var)
            if picked:
                extra[var] = picked
            continue
        raw = form.get(var, "")
        if raw == "":
            continue
        if kind == "integer":
            try:
                extra[var] = int(raw)
            except ValueError:
                extra[var] = raw
        elif kind == "float":
            try:
                extra[var] = float(raw)
            except ValueError:
                extra[var] = raw
        else:
            extra[var] = raw
    body: dict = {"extra_vars": extra} if extra else {}
    passwords = {name[len("password__"):]: value for name, value in form.items()
                 if name.startswith("password__") and value}
    if passwords:
        body["credential_passwords"] = passwords
    for prompt in prompts:
        if prompt.kind == "json":          # the extra variables: merged with the survey's above
            continue
        sent, value = _form_value(prompt, form)
        if sent:
            body[prompt.key] = value
    return body


# -- jobs ----------------------------------------------------------------------------------
@bp.route("/jobs", methods=["GET"])
@page_view
def jobs():
    args = list_args(("status", "job_template", "page", "search"))
    if not any(k == "order_by" for k, _ in args):
        args.append(("order_by", "-id"))
    data = listing(registry("job"), args)
    jts = crud.list_page(ctx(), registry("job_template"), [("page_size", "200"), ("order_by", "name")],
                         "/")["results"]
    return render("jobs.html", data=data, statuses=STATUSES, templates=jts,
                  status=request.args.get("status", ""), job_template=request.args.get("job_template", ""))


def _job_parts(pk: int) -> dict:
    res = registry("job")
    row, obj = detail(res, pk)
    rel = res.relation("job_host_summaries")
    summaries = crud.list_page(ctx(), registry("job_host_summary"),
                               [("order_by", "host_name"), ("page_size", "200")], "/",
                               scope=relations.scope(ctx(), res, row, rel))
    # relaunching is launching the template again: the template's execute role decides
    can_relaunch = bool(row.get("job_template")) and access.holds(ctx(), "job_template", row["job_template"],
                                                                  "execute_role")
    failed_hosts = [s["host_name"] for s in summaries["results"] if s.get("failed")]
    return {"row": row, "job": obj, "summaries": summaries, "active": row["status"] in ACTIVE,
            "can_cancel": row["status"] in ACTIVE and access.can_change(ctx(), res, row),
            "can_relaunch": can_relaunch, "failed_hosts": failed_hosts}


@bp.route("/jobs/<int:pk>", methods=["GET"])
@page_view
def job(pk: int):
    parts = _job_parts(pk)
    events = None
    if request.args.get("failed") or request.args.get("host"):
        res = registry("job")
        args = [("order_by", "counter"), ("page_size", "50")]
        if request.args.get("failed"):
            args.append(("failed", "true"))
        if request.args.get("host"):
            args.append(("host_name__icontains", request.args["host"]))
        if request.args.get("page", "").isdigit():
            args.append(("page", request.args["page"]))
        events = listing(registry("job_event"), args,
                         scope=relations.scope(ctx(), res, parts["row"], res.relation("job_events")))
    return render("job.html", events=events, failed=request.args.get("failed", ""),
                  host=request.args.get("host", ""), **parts)


@bp.route("/jobs/<int:pk>/state", methods=["GET"])
@page_view
def job_state(pk: int):
    """The parts of the job page that change while it runs (status, times, host summary)."""
    from flask import render_template
    parts = _job_parts(pk)
    return jsonify({"status": parts["row"]["status"], "active": parts["active"],
                    "meta": render_template("ui/_job_meta.html", **parts),
                    "summary": render_template("ui/_host_summary.html", **parts),
                    "actions": render_template("ui/_job_actions.html", **parts)})


def cancel_and_show(kind: str, pk: int, page: str):
    """Cancel unified job ``pk`` of ``kind`` (any kind: its own ``cancel`` applies) and show it
    again at ``page``; one that is already over (a double click) is just shown."""
    res = registry(kind)
    row = crud.get_row(ctx(), res, pk)
    if row["status"] in ACTIVE:
        control.cancel(ctx(), res, row)  # checks the right to cancel
    return redirect(url_for(page, pk=pk))


@bp.route("/jobs/<int:pk>/cancel", methods=["POST"])
@page_view
def job_cancel(pk: int):
    return cancel_and_show("job", pk, "ui.job")


@bp.route("/jobs/<int:pk>/relaunch", methods=["POST"])
@page_view
def job_relaunch(pk: int):
    res = registry("job")
    row = crud.get_row(ctx(), res, pk)
    try:
        new, _ = relaunching.relaunch(ctx(), row, {"hosts": request.form.get("hosts", "all")})
    except ValidationError as exc:
        parts = _job_parts(pk)
        return render("job.html", _code=400, events=None, failed="", host="",
                      messages=flatten_errors(exc.body), **parts)
    return redirect(url_for("ui.job", pk=new["id"]))

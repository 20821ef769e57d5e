"""AWX's dashboard: ``/api/v2/dashboard/`` (object totals and failures, as the user sees them)
and ``/api/v2/dashboard/graphs/jobs/`` (ended jobs per day or hour).

Contracts:
  * Every total counts only what the asking user may read (the same visibility filter as the
    lists), so a number never differs from the ``count`` of the list its ``url`` names.
  * The graph covers ``period`` = ``month`` | ``two_weeks`` | ``week`` (one point per UTC day,
    from the first day's midnight through today) or ``day`` (one point per hour of the last 24);
    ``job_type`` = ``all`` | ``playbook_run`` | ``scm_update`` | ``inv_sync``.  Each point is
    ``[epoch seconds of the period's start, jobs]`` for the statuses successful, failed,
    canceled and error.  Jobs a project sync launched (``launch_type`` ``sync``) are left out.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

from dateutil.relativedelta import relativedelta

from .. import access, query
from ..context import Context
from ..errors import APIError
from ..store import all_of
from ..store import dashboard as sql
from .crud import list_filter_keys

PERIODS = {"month": relativedelta(months=1), "two_weeks": relativedelta(weeks=2), "week": relativedelta(weeks=1),
           "day": relativedelta(days=1)}
JOB_TYPES = {"all": None, "playbook_run": ("job",), "scm_update": ("project_update",),
             "inv_sync": ("inventory_update",)}
GRAPH_STATUSES = ("successful", "failed", "canceled", "error")
SCM_TYPES = (("git", "Git"), ("svn", "Subversion"), ("archive", "Remote Archive"))


def _last_failed(table: str, column: str) -> tuple[str, list]:
    """WHERE fragment: the row's newest ended job in ``table`` (linked by ``column``) failed."""
    return (f'id IN (SELECT u."{column}" FROM "{table}" u WHERE u.failed = 1 AND u.id = (SELECT max(id) '
            f'FROM "{table}" WHERE "{column}" = u."{column}" AND status IN (?, ?, ?, ?)))',
            ["successful", "failed", "error", "canceled"])


# the host's newest job host summary says it failed (AWX: last_job_host_summary__failed)
_HOST_FAILED: tuple[str, list] = ("id IN (SELECT s.host FROM job_host_summaries s WHERE s.failed = 1 AND s.id = "
                "(SELECT max(id) FROM job_host_summaries WHERE host = s.host))", [])
_HAS_SOURCES: tuple[str, list] = ("id IN (SELECT inventory FROM inventory_sources)", [])
_HAS_FAILED_HOSTS: tuple[str, list] = (f"id IN (SELECT inventory FROM hosts WHERE {_HOST_FAILED[0]})", [])


def count_visible(ctx: Context, name: str, args: Iterable[tuple[str, str]] = (),
                  where: tuple[str, list] | None = None) -> int:
    """Rows of resource ``name`` the user may read that match the AWX filters ``args`` and the
    SQL fragment ``where`` (0 when the resource is not declared)."""
    res = ctx.registry.get(name)
    if res is None:
        return 0
    args = list(args)
    compiled = query.compile_query(ctx.registry, res, args, role_level_sql=access.role_level_sql(ctx, res),
                                   extra_reserved=list_filter_keys(res))
    extra = res.list_filter(ctx, args) if res.list_filter else None
    sql_where, params = all_of(access.visibility(ctx, res), extra, where, (compiled.where, compiled.params))
    return sql.table_count(ctx.store, res.table, sql_where, params)


def _list(ctx: Context, name: str) -> str:
    return ctx.registry[name].list_url


def dashboard(ctx: Context) -> dict:
    """The body of ``GET /api/v2/dashboard/`` (see the module contract)."""
    inventories, sources = _list(ctx, "inventory"), _list(ctx, "inventory_source")
    hosts, projects = _list(ctx, "host"), _list(ctx, "project")
    body: dict = {"related": {"jobs_graph": "/api/v2/dashboard/graphs/jobs/"}}
    source_failed = _last_failed("inventory_updates", "inventory_source")
    project_failed = _last_failed("project_updates", "project")
    body["inventories"] = {
        "url": inventories, "total": count_visible(ctx, "inventory"),
        "total_with_inventory_source": count_visible(ctx, "inventory", where=_HAS_SOURCES),
        "job_failed": count_visible(ctx, "inventory", where=_HAS_FAILED_HOSTS),
        # AWX sums the inventories' failed sources: the failed sources of visible inventories
        "inventory_failed": count_visible(ctx, "inventory_source", where=source_failed)}
    body["inventory_sources"] = {"ec2": {
        "url": f"{sources}?source=ec2", "failures_url": f"{sources}?source=ec2&status=failed", "label": "Amazon EC2",
        "total": count_visible(ctx, "inventory_source", [("source", "ec2")]),
        "failed": count_visible(ctx, "inventory_source", [("source", "ec2")], where=source_failed)}}
    body["groups"] = {"url": _list(ctx, "group"), "total": count_visible(ctx, "group"),
                      "inventory_failed": count_visible(
                          ctx, "group", where=(f"inventory IN (SELECT inventory FROM inventory_sources WHERE "
                                               f"{source_failed[0]})", source_failed[1]))}
    body["hosts"] = {"url": hosts, "failures_url": f"{hosts}?last_job_host_summary__failed=True",
                     "total": count_visible(ctx, "host"), "failed": count_visible(ctx, "host", where=_HOST_FAILED)}
    body["projects"] = {"url": projects, "failures_url": f"{projects}?last_job_failed=True",
                        "total": count_visible(ctx, "project"),
                        "failed": count_visible(ctx, "project", where=project_failed)}
    body["scm_types"] = {kind: {
        "url": f"{projects}?scm_type={kind}", "label": label,
        "failures_url": f"{projects}?scm_type={kind}&last_job_failed=True",
        "total": count_visible(ctx, "project", [("scm_type", kind)]),
        "failed": count_visible(ctx, "project", [("scm_type", kind)], where=project_failed)}
        for kind, label in SCM_TYPES}
    for name, key in (("user", "users"), ("organization", "organizations"), ("team", "teams"),
                      ("credential", "credentials"), ("job_template", "job_templates")):
        body[key] = {"url": _list(ctx, name), "total": count_visible(ctx, name)}
    return body


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jobs_graph(ctx: Context, period: str = "month", job_type: str = "all",
               now: datetime | None = None) -> dict:
    """The body of ``GET /api/v2/dashboard/graphs/jobs/`` (see the module contract); 400 for an
    unknown ``period`` or ``job_type``."""
    if period not in PERIODS:
        raise APIError({"error": f'Unknown period "{period}"'}, status=400)
    if job_type not in JOB_TYPES:
        raise APIError({"error": f'Unknown job type "{job_type}"'}, status=400)
    end = now or datetime.now(timezone.utc)
    start = end - PERIODS[period]
    hourly = period == "day"
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    first = start.replace(minute=0, second=0, microsecond=0) if hourly else \
        start.replace(hour=0, minute=0, second=0, microsecond=0)
    names = JOB_TYPES[job_type] or tuple(k.resource for k in ctx.registry.unified_jobs())
    members = []
    for name in names:
        res = ctx.registry.get(name)
        if res is None:
            continue
        has_launch_type = any(f.name == "launch_type" for f in res.stored_fields)
        sync: tuple[str, list] | None = ("launch_type != 'sync'", []) if has_launch_type else None
        members.append((res.table, *all_of(access.visibility(ctx, res), sync)))
    counts = sql.finished_by_period(ctx.store, members, GRAPH_STATUSES, _iso(first), _iso(end),
                                    13 if hourly else 10)
    series: dict[str, list] = {status: [] for status in GRAPH_STATUSES}
    moment = first
    while moment <= end:
        key = moment.strftime("%Y-%m-%dT%H") if hourly else moment.strftime("%Y-%m-%d")
        for status in GRAPH_STATUSES:
            series[status].append([moment.timestamp(), counts.get((status, key), 0)])
        moment += step
    return {"jobs": series}

"""What a notification message may say about a job: AWX's context (``job``, ``job_friendly_name``,
``url``, ``job_metadata``; for approvals ``approval_status``, ``approval_node_name``,
``workflow_url``) plus Turret's ``approval_url``, the approval's own API address (where
``approve``/``deny`` are POSTed; AWX users ask for it).

Contracts: the context holds only what AWX's allowed list names (no job_args, job_env or
other secret-bearing fields); extra vars appear as stored (survey passwords are kept apart,
encrypted, so they never reach a message).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..services.bootstrap import acting_as_system
from ..services.serializer import serialize_one
from ..store import notifications as q

FRIENDLY_NAMES = {"job": "Job", "project_update": "Project Update", "inventory_update": "Inventory Update",
                  "workflow_job": "Workflow Job", "ad_hoc_command": "AdHoc Command",
                  "workflow_approval": "Workflow Approval", "system_job": "System Job"}
# pages of the web UI showing a job of each kind (the others link to the API)
_UI_PAGES = {"job": "/ui/jobs/{}", "workflow_job": "/ui/workflow_jobs/{}"}

# AWX's JobNotificationMixin.JOB_FIELDS_ALLOWED_LIST: what ``job`` may show
_ALLOWED: list[Any] = [
    "id", "type", "url", "created", "modified", "name", "description", "job_type", "playbook", "forks", "limit",
    "verbosity", "job_tags", "force_handlers", "skip_tags", "start_at_task", "timeout", "use_fact_cache",
    "launch_type", "status", "failed", "started", "finished", "elapsed", "job_explanation", "execution_node",
    "controller_node", "allow_simultaneous", "scm_revision", "diff_mode", "job_slice_number", "job_slice_count",
    "custom_virtualenv", "approval_status", "approval_node_name", "workflow_url", "scm_branch", "artifacts",
    {"host_status_counts": ["skipped", "ok", "changed", "failed", "failures", "dark", "processed", "rescued",
                            "ignored"]},
    {"summary_fields": [
        {"inventory": ["id", "name", "description", "has_active_failures", "total_hosts",
                       "hosts_with_active_failures", "total_groups", "has_inventory_sources",
                       "total_inventory_sources", "inventory_sources_with_failures", "organization_id", "kind"]},
        {"project": ["id", "name", "description", "status", "scm_type"]},
        {"job_template": ["id", "name", "description"]},
        {"unified_job_template": ["id", "name", "description", "unified_job_type"]},
        {"instance_group": ["name", "id"]},
        {"created_by": ["id", "username", "first_name", "last_name"]},
        {"schedule": ["id", "name", "description", "next_run"]},
        {"labels": ["count", "results"]},
    ]},
]
_HOST_KEYS = ("failed", "changed", "dark", "failures", "ok", "processed", "skipped", "rescued", "ignored")


def url_base(settings) -> str:
    """The external address of this controller, for links in messages (``URL_BASE``, else the
    address ``turret serve`` listens on)."""
    base = str(settings.URL_BASE or "")
    return base.rstrip("/") if base else f"http://{settings.HOST}:{settings.PORT}"


def job_url(ctx, job_type: str, pk: int) -> str:
    """Where a person looks at a job: its UI page, or its API detail for kinds the UI lacks."""
    page = _UI_PAGES.get(job_type)
    path = page.format(pk) if page else ctx.registry[job_type].url(pk)
    return url_base(ctx.settings) + path


def _allowed(node: dict, fields: dict, allowed: list) -> None:
    for item in allowed:
        if isinstance(item, dict):
            (name, sub), = item.items()
            if isinstance(fields.get(name), dict):
                node[name] = {}
                _allowed(node[name], fields[name], sub)
        elif item in fields:
            node[item] = fields[item]


def _extra_vars(text: Any) -> Any:
    """AWX's ``display_extra_vars()``: the stored text as it is (survey passwords are stored as
    ``$encrypted$`` there already, as AWX's display shows them)."""
    return "" if text is None else text


def _isoformat(value: Any) -> str | None:
    """A stored timestamp as AWX's ``datetime.isoformat()`` writes it (``+00:00``, no
    microseconds when they are 0); None stays None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _metadata(ctx, job_type: str, row: dict, serialized: dict) -> dict:
    """AWX's ``notification_data()`` of the job (``job_metadata`` is its JSON text)."""
    creator = (serialized.get("summary_fields") or {}).get("created_by") or {}
    data: dict[str, Any] = {
        "id": row["id"], "name": row.get("name"), "url": job_url(ctx, job_type, row["id"]),
        "created_by": creator.get("username") or "None", "started": _isoformat(row.get("started")),
        "finished": _isoformat(row.get("finished")), "status": row.get("status"),
        "traceback": row.get("result_traceback") or "",
    }
    summary = serialized.get("summary_fields") or {}
    if job_type == "job":
        data.update({
            "friendly_name": FRIENDLY_NAMES["job"],
            "inventory": (summary.get("inventory") or {}).get("name"),
            "project": (summary.get("project") or {}).get("name"), "playbook": row.get("playbook"),
            "credential": q.machine_credential_name(ctx.store, row["id"]), "limit": row.get("limit"),
            "extra_vars": _extra_vars(row.get("extra_vars")),
            "hosts": {h["host_name"]: {k: (bool(h[k]) if k == "failed" else h[k]) for k in _HOST_KEYS}
                      for h in q.host_summaries(ctx.store, row["id"])},
        })
    elif job_type == "workflow_job":
        lines = ["Workflow job summary:", ""]
        for node in q.workflow_node_jobs(ctx.store, row["id"]):
            job = _any_job(ctx, node["job"])
            described = "no job." if job is None else \
                f'job #{job["id"]}, "{job.get("name")}", which finished with status {job.get("status")}.'
            lines.append(f"- node #{node['id']} spawns {described}")
        data.update({"body": "\n".join(lines), "inventory": (summary.get("inventory") or {}).get("name"),
                     "limit": row.get("limit"), "extra_vars": _extra_vars(row.get("extra_vars"))})
    elif job_type == "workflow_approval":
        wj = _workflow_job(ctx, row)
        data["extra_vars"] = _extra_vars((wj or {}).get("extra_vars"))
    return data


def _any_job(ctx, pk: int | None) -> dict | None:
    """The unified job ``pk`` of whichever kind (ids are shared by every kind)."""
    if pk is None:
        return None
    for kind in ctx.registry.unified_jobs():
        row = ctx.store.get(kind.table, pk)
        if row is not None:
            return row
    return None


def _workflow_job(ctx, approval: dict) -> dict | None:
    pk = q.workflow_job_of_approval(ctx.store, approval)
    return ctx.store.get("workflow_jobs", pk) if pk else None


def build(ctx, job_type: str, row: dict, approval_status: str = "") -> dict:
    """The rendering context of one event of job ``row`` of resource ``job_type``."""
    # as the system: messages show a job whole, whoever caused the event (a voter, a canceler)
    sys_ctx = acting_as_system(ctx, jobs=None)
    serialized = serialize_one(sys_ctx, ctx.registry[job_type], row, detail=True)
    job: dict[str, Any] = {"host_status_counts": serialized.get("host_status_counts") or {}}
    _allowed(job, serialized, _ALLOWED)
    context: dict[str, Any] = {
        "job": job, "job_friendly_name": FRIENDLY_NAMES.get(job_type, ctx.registry[job_type].verbose_name.title()),
        "url": job_url(ctx, job_type, row["id"]),
        "job_metadata": json.dumps(_metadata(sys_ctx, job_type, row, serialized), ensure_ascii=False, indent=4),
    }
    if job_type == "workflow_approval":
        wj = _workflow_job(ctx, row)
        approval_url = url_base(ctx.settings) + ctx.registry[job_type].url(row["id"])
        context.update({
            "approval_status": approval_status, "approval_node_name": row.get("name") or "",
            "workflow_url": job_url(ctx, "workflow_job", wj["id"]) if wj else "",
            "approval_url": approval_url, "url": approval_url,
        })
    return context

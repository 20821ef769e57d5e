"""Read-side aggregates of jobs: host status counts, play/task counts, summary_fields."""
from __future__ import annotations

import json

from ..store import jobs as q


def host_status(row: dict) -> str:
    """One status per host summary: dark > failures > changed > ok > skipped."""
    if row["dark"]:
        return "dark"
    if row["failures"]:
        return "failures"
    if row["changed"]:
        return "changed"
    return "ok" if row["ok"] else "skipped"


def count_statuses(rows: list[dict]) -> dict[str, int]:
    """``host_status_counts`` of one job's host summaries (what ``job_run.finish`` stores on the
    job as ``host_counts``, so lists never re-read every host's summary)."""
    counts: dict[str, int] = {}
    for row in rows:
        status = host_status(row)
        counts[status] = counts.get(status, 0) + 1
    return counts


def host_status_counts(ctx, job_ids: list[int]) -> dict[int, dict]:
    """Counted from the host summaries, per job: for jobs finished before ``host_counts`` was
    stored (a job of 10,000 hosts is 10,000 rows: never for a whole page of such jobs)."""
    out: dict[int, dict] = {}
    for row in q.summaries_of(ctx.store, job_ids):
        counts = out.setdefault(row["job"], {})
        status = host_status(row)
        counts[status] = counts.get(status, 0) + 1
    return out


def stored_counts(row: dict) -> dict:
    """The ``host_counts`` a finished job stored ({} before it finished, or from before)."""
    raw = row.get("host_counts")
    value = json.loads(raw) if isinstance(raw, str) and raw else raw
    return value if isinstance(value, dict) else {}


def playbook_counts(ctx, job_ids: list[int]) -> dict[int, dict]:
    return {jid: {"play_count": plays, "task_count": tasks}
            for jid, plays, tasks in q.play_task_counts(ctx.store, job_ids)}


def job_summary_fields(ctx, rows: list[dict]) -> dict[int, dict]:
    ids = [r["id"] for r in rows]
    creds = q.credentials_summary(ctx.store, "job_credentials", "job_id", ids)
    labels = q.labels_summary(ctx.store, "job_labels", "job_id", ids)
    out = {}
    for r in rows:
        out[r["id"]] = {
            "unified_job_template": {"id": r.get("job_template"), "name": r["name"],
                                     "description": r.get("description", ""), "unified_job_type": "job"},
            "credentials": creds.get(r["id"], []),
            "labels": {"count": len(labels.get(r["id"], [])), "results": labels.get(r["id"], [])},
        }
    return out


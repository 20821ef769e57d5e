"""Read-side aggregates of jobs: host status counts, play/task counts, summary_fields."""
from __future__ import annotations

from ..store import jobs as q


def host_status_counts(ctx, job_ids: list[int]) -> dict[int, dict]:
    """One status per host (dark > failures > changed > ok > skipped), counted per job."""
    out: dict[int, dict] = {}
    for row in q.summaries_of(ctx.store, job_ids):
        if row["dark"]:
            status = "dark"
        elif row["failures"]:
            status = "failures"
        elif row["changed"]:
            status = "changed"
        elif row["ok"]:
            status = "ok"
        else:
            status = "skipped"
        counts = out.setdefault(row["job"], {})
        counts[status] = counts.get(status, 0) + 1
    return out


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

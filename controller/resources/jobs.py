"""Jobs (runs of job templates), their events and per-host summaries."""
from __future__ import annotations

from typing import Any

from .. import access
from ..jobs import job_run, launch
from ..jobs.summaries import host_status_counts, job_summary_fields, playbook_counts, stored_counts
from ..registry import Field, Registry, Relation, Resource, UnifiedJob
from ..webhooks import fields as webhook_fields
from .unified import (VERBOSITY, add_unified_job, launched_by, nested_visibility, template_job_visibility,
                      unified_job_fields)


# AWX JobAccess: a job is visible to whoever can read its template (any role on it), to admins
# and auditors of the job's organization, and to whoever launched it.  Read access to the
# inventory or the project alone shows nothing (it would expose every run, its output and its
# extra vars to inventory readers).  Events, host summaries, stdout and the sub-lists of hosts
# and inventories follow this rule (see unified.nested_visibility).
_job_visibility = template_job_visibility("job_template", "job_template", org_of_template=False)


def _job_can_delete(ctx, row: dict) -> bool:
    """Delete: an admin of the job's organization only (AWX JobAccess.can_delete), so a
    launcher cannot erase the record of what they ran."""
    return access.holds(ctx, "organization", row.get("organization"), "admin_role")


def _job_compute(ctx, rows: list[dict]) -> dict[int, dict]:
    out = launched_by(ctx, rows)
    stored = {r["id"]: stored_counts(r) for r in rows}
    counts = host_status_counts(ctx, [pk for pk, c in stored.items() if not c])   # older jobs only
    plays = playbook_counts(ctx, [r["id"] for r in rows])
    # AWX names the template as it is now (job.job_template.name), not as the job was named
    templates = ctx.store.get_many("job_templates", [r.get("job_template") for r in rows], columns="id, name")
    for r in rows:
        out[r["id"]].update({
            "host_status_counts": stored[r["id"]] or counts.get(r["id"], {}),
            "playbook_counts": plays.get(r["id"], {}),
            "passwords_needed_to_start": [],
            "custom_virtualenv": None,
            # for other objects' summary_fields.job
            "type": "job", "job_template_id": r.get("job_template"),
            "job_template_name": templates.get(r.get("job_template"), {}).get("name"),   # AWX: none without one
        })
    return out


def _job_summary(ctx, rows: list[dict]) -> dict[int, dict]:
    return job_summary_fields(ctx, rows)


# Cancel: the launcher, or an admin of the template (AWX JobAccess.can_cancel).
JOB = UnifiedJob(template="job_template", template_fk="job_template", events_table="job_events", parent_col="job",
                 prepare=job_run.prepare, finish=job_run.finish, impact=job_run.impact, blocked=job_run.blocked,
                 start=launch.start_job, record_failure=launch.record_failed_launch, run_role="execute_role",
                 admin=("job_template", "job_template"), launcher_may_change=True, events_have_host=True)


def job_option_fields() -> list[Field]:
    """The options a job copies from its template at launch (and prompts may override)."""
    ro: dict[str, Any] = dict(read_only=True)
    return [
        Field("job_type", "choice", choices=[("run", "Run"), ("check", "Check")], default="run", **ro),
        Field("inventory", "id", fk="inventory", null=True, default=None, on_delete="set_null", **ro),
        Field("project", "id", fk="project", null=True, default=None, on_delete="set_null", **ro),
        Field("playbook", "string", default="", **ro),
        Field("scm_branch", "string", default="", **ro),
        Field("forks", "integer", default=0, **ro),
        Field("limit", "text", default="", **ro),
        Field("verbosity", "choice", choices=VERBOSITY, default=0, **ro),
        Field("extra_vars", "text", default="", prevent_search=True, **ro),
        Field("job_tags", "text", default="", **ro),
        Field("force_handlers", "boolean", default=False, **ro),
        Field("skip_tags", "text", default="", **ro),
        Field("start_at_task", "string", default="", **ro),
        Field("timeout", "integer", default=0, **ro),
        Field("use_fact_cache", "boolean", default=False, **ro),
        Field("organization", "id", fk="organization", null=True, default=None, on_delete="set_null", **ro),
    ]


def declare(reg: Registry) -> None:
    ro: dict[str, Any] = dict(read_only=True)
    add_unified_job(reg, Resource(
        name="job", plural="jobs", id_group="unified_job", unified_job=JOB,
        fields=unified_job_fields() + job_option_fields() + [
            Field("job_template", "id", fk="job_template", null=True, default=None, on_delete="set_null", **ro),
            Field("schedule", "id", fk="schedule", null=True, default=None, on_delete="set_null",
                  help_text="The schedule that launched this job, if any.", index=True, **ro),
            Field("passwords_needed_to_start", "json", stored=False, **ro),
            Field("allow_simultaneous", "boolean", default=False, **ro),
            Field("artifacts", "json", default={}, **ro),
            Field("scm_revision", "string", default="", **ro),
            Field("instance_group", "id", fk="instance_group", null=True, default=None, on_delete="set_null",
                  help_text="The Instance group the job was run under", **ro),
            Field("diff_mode", "boolean", default=False, **ro),
            Field("become_enabled", "boolean", default=False, **ro),
            Field("job_slice_number", "integer", default=0, **ro),
            Field("job_slice_count", "integer", default=1, **ro),
            Field("webhook_service", "string", default="", **ro),
            Field("webhook_credential", "integer", null=True, default=None, **ro),
            Field("webhook_guid", "string", default="", **ro),
            *webhook_fields.job_fields(),   # hidden: the status post-back context
            Field("host_status_counts", "json", stored=False, shown="detail", **ro),
            # host_status_counts as the job finished (job_run.finish): read back, never recounted
            Field("host_counts", "json", hidden=True, default={}),
            Field("playbook_counts", "json", stored=False, shown="detail", **ro),
            Field("custom_virtualenv", "string", stored=False, shown="detail", **ro),
            Field("launch_prompts", "json", hidden=True, default={}),   # what the launch asked, for relaunch
            Field("credential_passwords", "text", hidden=True, default=""),  # encrypted, cleared at the end
            Field("secret_vars", "text", hidden=True, default=""),           # encrypted survey passwords
            Field("dependency_update", "integer", hidden=True, null=True, default=None),
            Field("dependency_inventory_updates", "json", hidden=True, default=[]),
        ],
        ordering=("id",), search_fields=("name", "description"),
        summary_keys=("id", "name", "description", "status", "failed", "elapsed", "type", "canceled_on",
                      "job_template_id", "job_template_name"),
        relations=[
            Relation("job_events", "job_event", "reverse_fk", key="job", read_only=True),
            Relation("job_host_summaries", "job_host_summary", "reverse_fk", key="job", read_only=True),
            Relation("credentials", "credential", "m2m", key="job_credentials:job_id:credential_id", read_only=True),
            Relation("labels", "label", "m2m", key="job_labels:job_id:label_id", read_only=True),
        ],
        actions=("cancel", "stdout", "relaunch", "events_stream"), creatable=False, updatable=False,
        capabilities=("delete", "start"), visibility=_job_visibility, can_delete=_job_can_delete,
        compute=_job_compute, extra_summary=_job_summary,
    ), with_host=True)
    reg.job_end_hooks.append(job_run.forget_launch_passwords)
    reg["job_template"].relations.append(Relation("jobs", "job", "reverse_fk", key="job_template", read_only=True))
    reg["job_template"].actions = tuple(dict.fromkeys(reg["job_template"].actions + ("launch",)))
    reg["host"].relations.append(Relation("job_host_summaries", "job_host_summary", "reverse_fk", key="host",
                                          read_only=True))
    reg["host"].relations.append(Relation("job_events", "job_event", "reverse_fk", key="host", read_only=True))
    reg.add(Resource(
        name="job_host_summary", plural="job_host_summaries", common_fields=False, listed=False,
        fields=[
            Field("job", "id", fk="job", **ro),
            Field("host", "id", fk="host", null=True, default=None, on_delete="set_null", **ro),
            Field("constructed_host", "integer", null=True, default=None, **ro),
            Field("host_name", "string", default="", **ro),
            *[Field(n, "integer", default=0, **ro) for n in ("changed", "dark", "failures", "ok", "processed",
                                                              "skipped", "ignored", "rescued")],
            Field("failed", "boolean", default=False, **ro),
        ],
        ordering=("host_name", "id"), creatable=False, updatable=False, deletable=False, capabilities=(),
        visibility=nested_visibility("job", "job"), summary_keys=("id", "failed"),   # a host's last_job_host_summary
    ))

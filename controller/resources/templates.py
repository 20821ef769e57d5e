"""Job templates (AWX §6.11): what to run (project + playbook), where (inventory), how (options and
``ask_*_on_launch`` prompts), with credentials, labels and a survey.

Contracts:
  * ``organization`` is read-only: ``before_save`` copies it from the project, before roles sync.
  * Validation runs in AWX's order (JobTemplateSerializer -> JobTemplateMixin -> JobOptionsSerializer
    -> model checks) and stops at the first failure, with AWX's messages.
  * Creating needs ``use_role`` on the inventory (when given) and either ``use_role`` on the project
    or ``job_template_admin_role`` in the project's organization (AWX requires project use only; the
    org job-template admin is Turret's addition).  Copying also needs ``use_role`` on every attached
    credential.  A template admin changes anything beyond :data:`NON_SENSITIVE` fields only with use
    of the (new or current) project and inventory, as AWX.
  * Credentials attach under AWX's rules (kinds, one per type / vault id); the survey spec lives in
    the hidden ``survey_spec`` column, written only by :mod:`controller.services.surveys`.
"""
from __future__ import annotations

from typing import Any

from .. import access
from ..errors import APIError, PermissionDenied, ValidationError
from ..services import credential_inputs as ci
from ..services import surveys
from ..services.template_webhooks import check_webhook_credential
from ..services.project_files import argument_problem, confined, project_dir, project_files
from ..store import credentials as cred_sql
from ..store import jobs as jobq
from .labels import LABELS_TABLE, labels_relation
from ..webhooks import fields as webhook_fields
from ..prompts import PROMPTS
from ..registry import Field, Registry, Relation, Resource, RoleSpec
from .unified import ACTIVE, FINISHED, STATUS_CHOICES, VERBOSITY, job_links, template_status

MAX_FORKS = 200                       # AWX's default MAX_FORKS
CREDENTIAL_KINDS = ("ssh", "vault", "cloud", "net", "kubernetes")
CREDENTIALS_TABLE = "job_template_credentials"
PROMPT_MESSAGE = "You must either set a default value or ask to prompt on launch."
UNIQUE_MESSAGE = "JobTemplate with this (name, organization) combination already exists."
NO_BRANCH_OVERRIDE = "Project does not allow overriding branch."
WEBHOOK_SERVICES = [("", "---------"), ("github", "GitHub"), ("gitlab", "GitLab"),
                    ("bitbucket_dc", "BitBucket DataCenter")]

# AWX JobTemplateAccess.changes_are_non_sensitive: what a template admin may change without use
# of the template's project and inventory.
NON_SENSITIVE = frozenset({
    "name", "description", "forks", "limit", "verbosity", "extra_vars", "job_tags", "force_handlers", "skip_tags",
    "ask_variables_on_launch", "ask_tags_on_launch", "ask_job_type_on_launch", "ask_skip_tags_on_launch",
    "ask_inventory_on_launch", "ask_credential_on_launch", "survey_enabled", "custom_virtualenv", "diff_mode",
    "timeout", "job_slice_count"})


# -- validation -------------------------------------------------------------------------------
def project_playbooks(ctx, project: dict) -> list[str]:
    """Playbooks a template may name (see services.project_files.project_files)."""
    return project_files(ctx, project, "playbook")


def _may_use_project(ctx, project: dict) -> bool:
    return access.holds(ctx, "project", project["id"], "use_role") or \
        access.holds(ctx, "organization", project.get("organization"), "job_template_admin_role")


def _may_add(ctx) -> bool:
    """AWX JobTemplateAccess.can_add({}): some project the user may use (:func:`_may_use_project`)."""
    if access.holds_any(ctx, "project", "use_role"):
        return True
    orgs = access.organizations_held(ctx, "job_template_admin_role")
    return bool(orgs) and ctx.store.exists("projects", f"organization IN ({','.join('?' * len(orgs))})", orgs)


def _check_changes_allowed(ctx, values: dict, existing: dict) -> None:
    """AWX JobTemplateAccess.can_change: sensitive changes need use of the (new or current)
    project and inventory; a new webhook credential needs its use."""
    if ctx.is_superuser:
        return
    changed = {k for k, v in values.items()
               if (bool(existing.get(k)) != v if isinstance(v, bool) else existing.get(k) != v)}
    if not changed - NON_SENSITIVE:
        return
    merged = {**existing, **values}
    project = ctx.store.get("projects", merged["project"]) if merged.get("project") else None
    if project is not None and not _may_use_project(ctx, project):
        raise PermissionDenied()
    if merged.get("inventory") is not None and not access.holds(ctx, "inventory", merged["inventory"], "use_role"):
        raise PermissionDenied()
    cred = merged.get("webhook_credential")
    if "webhook_credential" in changed and cred is not None and not access.holds(ctx, "credential", cred, "use_role"):
        raise PermissionDenied()


def _check_playbook_path(ctx, playbook: str, project: dict, listed: bool) -> None:
    """The playbook is one argv item of ansible-playbook and a path in the project folder:
    no option-like name, no control character, and, when it need not be one of the project's
    listed playbooks (which are confined already), no escape from the folder (``..``,
    absolute, or a symlink whose real path is outside) whether or not the file exists yet."""
    problem = argument_problem(playbook)
    if problem:
        raise ValidationError({"playbook": [problem]})
    if listed:
        if playbook not in project_playbooks(ctx, project):
            raise ValidationError({"playbook": ["Playbook not found for project."]})
    elif confined(project_dir(ctx, project), playbook) is None:
        raise ValidationError({"playbook": ["Playbook must be a path inside the project folder."]})


def _check_playbook(ctx, merged: dict, project: dict) -> None:
    playbook = merged.get("playbook") or ""
    skip = bool(project.get("scm_type")) and bool(project.get("allow_override"))
    if playbook:
        _check_playbook_path(ctx, playbook, project, listed=not skip)
    if not playbook:
        raise ValidationError({"playbook": ["Must select playbook for project."]})
    if merged.get("scm_branch") and not project.get("allow_override"):
        raise ValidationError({"scm_branch": [NO_BRANCH_OVERRIDE]})
    if merged.get("ask_scm_branch_on_launch") and not project.get("allow_override"):
        raise ValidationError({"ask_scm_branch_on_launch": [NO_BRANCH_OVERRIDE]})


def check_unique_name(ctx, name: str, organization: int | None, exclude: int | None) -> None:
    """AWX JobTemplate.validate_unique: (name, organization) is unique, a null org included."""
    if ctx.store.exists("job_templates", "name = ? AND organization IS ? AND id != ?",
                        [name, organization, exclude or 0]):
        raise ValidationError({"__all__": [UNIQUE_MESSAGE]})


def _validate(ctx, values: dict, existing: dict | None) -> None:
    if existing is not None:
        _check_changes_allowed(ctx, values, existing)
    merged = {**(existing or {}), **values}
    inventory = merged.get("inventory")
    project = ctx.store.get("projects", merged["project"]) if merged.get("project") else None
    if merged.get("host_config_key") and inventory is None:
        raise ValidationError({"host_config_key": ["Cannot enable provisioning callback without an "
                                                   "inventory set."]})
    if project is None:
        raise ValidationError({"project": ["Job Templates must have a project assigned."]})
    if inventory is None and not merged.get("ask_inventory_on_launch"):
        raise ValidationError({"inventory": [PROMPT_MESSAGE]})
    check_webhook_credential(ctx, merged)
    webhook_fields.check_settings(merged)
    _check_playbook(ctx, merged, project)
    max_forks = getattr(ctx.settings, "MAX_FORKS", MAX_FORKS)
    if max_forks and (merged.get("forks") or 0) > max_forks:
        raise ValidationError({"forks": [f"Maximum number of forks ({max_forks}) exceeded."]})
    check_unique_name(ctx, merged.get("name") or "", project.get("organization"), merged.get("id"))


def _before_save(ctx, values: dict, existing: dict | None) -> dict:
    project_id = values.get("project", (existing or {}).get("project"))
    project = ctx.store.get("projects", project_id) if project_id else None
    values["organization"] = project["organization"] if project else None
    if existing is None:
        values["survey_spec"] = {}
    return webhook_fields.assign_key(ctx, values, existing)


def _can_create(ctx, values: dict) -> bool:
    """Superuser; else use of the inventory (if any) and the project (or job-template admin of
    its organization); a copy (``values`` is the original row) also needs its credentials' use."""
    if ctx.is_superuser:
        return True
    if ctx.user is None:
        return False
    if values.get("inventory") is not None and not access.holds(ctx, "inventory", values["inventory"], "use_role"):
        return False
    cred = values.get("webhook_credential")
    if cred is not None and not access.holds(ctx, "credential", cred, "use_role"):
        return False
    project = ctx.store.get("projects", values["project"]) if values.get("project") else None
    if project is None or not _may_use_project(ctx, project):
        return False
    if "id" in values:
        attached = jobq.template_credentials(ctx.store, values["id"])
        return all(access.holds(ctx, "credential", pk, "use_role") for pk in attached)
    return True


# -- credentials ------------------------------------------------------------------------------
def _credential_association(ctx, jt: dict, cred: dict, on: bool) -> None:
    """Attach rules (AWX JobTemplateCredentialsList.is_valid_relation), after the permission
    check AWX makes first: change on the template and use of the credential."""
    if not on:
        return
    if not (access.can_change(ctx, ctx.registry["job_template"], jt)
            and access.holds(ctx, "credential", cred["id"], "use_role")):
        raise PermissionDenied()
    types = cred_sql.credential_types(ctx.store)
    ctype = types.get(cred["credential_type"], {})
    key, display = ci.unique_hash(cred, ctype)
    attached = cred_sql.attached_credentials(ctx.store, CREDENTIALS_TABLE, "job_template_id", jt["id"])
    if any(ci.unique_hash(o, types.get(o["credential_type"], {}))[0] == key for o in attached):
        raise APIError({"error": f"Cannot assign multiple {display} credentials."})
    if ctype.get("kind") not in CREDENTIAL_KINDS:
        raise APIError({"error": f"Cannot assign a Credential of kind `{ctype.get('kind')}`."})


# -- output -----------------------------------------------------------------------------------
def _jobs(ctx, ids: list[int]) -> dict[int, dict]:
    """{template id: {"recent": [...10 newest], "current": job|None, "last": job|None}} from the
    ``jobs`` table, when the job resource is declared (empty otherwise); cached for the request."""
    known: dict[int, dict] = ctx.cache.setdefault("job_template_jobs", {})   # per request: compute,
    ids = [i for i in ids if i not in known]                                  # summary and related share it
    if ctx.registry.get("job") is None:
        known.update({i: {"recent": [], "current": None, "last": None} for i in ids})
        return known
    known.update(jobq.template_jobs(ctx.store, ids, finished=FINISHED, active=ACTIVE))
    return known


def _compute(ctx, rows: list[dict]) -> dict[int, dict]:
    jobs = _jobs(ctx, [r["id"] for r in rows])
    return {r["id"]: template_status(jobs[r["id"]]["current"], jobs[r["id"]]["last"]) for r in rows}


def _credentials_summary(ctx, ids: list[int]) -> dict[int, list[dict]]:
    """``summary_fields.credentials`` per template (the shape jobs have too)."""
    found = jobq.credentials_summary(ctx.store, CREDENTIALS_TABLE, "job_template_id", ids)
    return {i: found.get(i, []) for i in ids}


def _summary(ctx, rows: list[dict]) -> dict[int, dict]:
    ids = [r["id"] for r in rows]
    creds = _credentials_summary(ctx, ids)
    labels = jobq.labels_summary(ctx.store, LABELS_TABLE, "job_template_id", ids)
    labels.update({i: [] for i in ids if i not in labels})
    jobs = _jobs(ctx, ids)
    out = {}
    for r in rows:
        s: dict = {"labels": {"count": len(labels[r["id"]]), "results": labels[r["id"]][:10]}}
        state = jobs[r["id"]]
        for key, job in (("last_job", state["last"]), ("current_job", state["current"])):
            if job:
                s[key] = {k: job[k] for k in ("id", "name", "description", "status")}
                s[key].update(failed=bool(job["failed"]), license_error=False)
                if key == "last_job":
                    s[key].update(finished=job["finished"], canceled_on=job["canceled_on"])
        survey = surveys.summary(surveys.stored_spec(r))
        if survey:
            s["survey"] = survey
        s["recent_jobs"] = [{"id": j["id"], "status": j["status"], "finished": j["finished"],
                             "canceled_on": j["canceled_on"], "type": "job"} for j in state["recent"]]
        s["credentials"] = creds[r["id"]]
        out[r["id"]] = s
    return out


def _related(ctx, row: dict, detail: bool) -> dict:
    state = _jobs(ctx, [row["id"]])[row["id"]]
    rel = job_links("jobs", last_job=state["last"], current_job=state["current"])
    rel.update(webhook_fields.receiver_related("job_templates", row))
    return rel


# -- declaration ------------------------------------------------------------------------------
def _fields() -> list[Field]:
    ro_null: dict[str, Any] = dict(read_only=True, null=True, default=None)
    return [
        Field("job_type", "choice", choices=[("run", "Run"), ("check", "Check")], default="run"),
        Field("inventory", "id", fk="inventory", null=True, default=None, on_delete="set_null"),
        Field("project", "id", fk="project", null=True, default=None, on_delete="set_null"),
        Field("playbook", "string", max_length=1024, default=""),
        Field("scm_branch", "string", max_length=1024, default="",
              help_text="Branch to use in job run. Project default used if blank. Only allowed if project "
                        "allow_override field is set to true."),
        Field("forks", "integer", default=0, min_value=0, max_value=2147483647),
        Field("limit", "text", default=""),
        Field("verbosity", "choice", choices=VERBOSITY, default=0),
        Field("extra_vars", "vars", default="", prevent_search=True),
        Field("job_tags", "string", max_length=1024, default=""),
        Field("force_handlers", "boolean", default=False),
        Field("skip_tags", "string", max_length=1024, default=""),
        Field("start_at_task", "string", max_length=512, default=""),
        Field("timeout", "integer", default=0,
              help_text="The amount of time (in seconds) to run before the task is canceled."),
        Field("use_fact_cache", "boolean", default=False,
              help_text="If enabled, the service will act as an Ansible Fact Cache Plugin; persisting facts at "
                        "the end of a playbook run to the database and caching facts for use by Ansible."),
        Field("organization", "id", fk="organization", on_delete="set_null",
              help_text="The organization used to determine access to this template.", **ro_null),
        Field("last_job_run", "datetime", stored=False, read_only=True),
        Field("last_job_failed", "boolean", stored=False, read_only=True),
        Field("next_job_run", "datetime", stored=False, read_only=True),
        Field("status", "choice", stored=False, read_only=True,
              choices=STATUS_CHOICES + [("never updated", "Never Updated")]),
        Field("execution_environment", "id", fk="execution_environment", on_delete="set_null", null=True, default=None,
              help_text="The container image to be used for execution."),
        Field("host_config_key", "string", max_length=1024, default="", prevent_search=True),
        *[Field(p.ask_flag, "boolean", default=False, help_text=p.ask_help) for p in PROMPTS],
        Field("survey_enabled", "boolean", default=False),
        Field("become_enabled", "boolean", default=False),
        Field("diff_mode", "boolean", default=False,
              help_text="If enabled, textual changes made to any templated files on the host are shown in the "
                        "standard output"),
        Field("allow_simultaneous", "boolean", default=False),
        Field("custom_virtualenv", "string", help_text="Local absolute file path containing a custom Python "
                                                        "virtualenv to use", **ro_null),
        Field("job_slice_count", "integer", default=1, min_value=0, max_value=2147483647,
              help_text="The number of jobs to slice into at runtime. Will cause the Job Template to launch a "
                        "workflow if value is greater than 1."),
        Field("webhook_service", "choice", choices=WEBHOOK_SERVICES, default="",
              help_text="Service that webhook requests will be accepted from"),
        Field("webhook_credential", "id", fk="credential", null=True, default=None, on_delete="set_null",
              help_text="Personal Access Token for posting back the status to the service API"),
        *webhook_fields.template_fields(),
        Field("prevent_instance_group_fallback", "boolean", default=False,
              help_text="If enabled, the job template will prevent adding any inventory or organization instance "
                        "groups to the list of preferred instances groups to run on.If this setting is enabled and "
                        "you provided an empty list, the global instance groups will be applied."),
        Field("survey_spec", "json", hidden=True, default={}, prevent_search=True),
    ]


def declare(reg: Registry) -> None:
    """Add the job template resource (labels come from :mod:`.labels`)."""
    reg.add(Resource(
        name="job_template", plural="job_templates", fields=_fields(),
        ordering=("name",), search_fields=("name", "description"),
        named_url=(("name",), ("organization.name",)),
        roles=[
            RoleSpec("admin_role", "Admin", "Can manage all aspects of the {model}",
                     ("organization.job_template_admin_role",)),
            RoleSpec("execute_role", "Execute", "May run the {model}", ("admin_role", "organization.execute_role")),
            RoleSpec("read_role", "Read", "May view settings for the {model}",
                     ("execute_role", "organization.auditor_role")),
        ],
        relations=[
            Relation("credentials", "credential", "m2m", key=f"{CREDENTIALS_TABLE}:job_template_id:credential_id",
                     create=True, validate_association=_credential_association),
            labels_relation(f"{LABELS_TABLE}:job_template_id:label_id"),
        ],
        actions=("copy", "survey_spec", *webhook_fields.TEMPLATE_ACTIONS),
        create_role="organization.job_template_admin_role", can_create=_can_create,
        may_add=_may_add,
        capabilities=("edit", "delete", "start", "schedule", "copy"),
        validate=_validate, before_save=_before_save, compute=_compute, extra_summary=_summary,
        extra_related=_related,
    ))

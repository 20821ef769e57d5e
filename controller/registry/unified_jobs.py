"""The declaration of a unified-job kind: :class:`UnifiedJob`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Hook = Callable[..., Any]


@dataclass
class UnifiedJob:
    """What makes a resource a unified job (job, project update, inventory update, ad hoc
    command ...), declared once on that resource (``Resource.unified_job``).

    The dispatcher runs it (``prepare``/``finish``/``impact``/``blocked``), the scheduler starts
    it from its template (``start``), stdout and the live stream read its events
    (``events_table``/``parent_col``), and the generic hooks of every job resource (delete
    guard, who may cancel, event visibility) derive from it.  The callables live above this
    floor (in ``controller.jobs``): the declaration in ``controller.resources`` hands them in.
    """

    events_table: str = ""           # its events' table ("job_events"); "" when it has none
    parent_col: str = ""             # the events' FK column naming the job ("job")
    prepare: Hook | None = None      # (ctx, row) -> RunSpec; raises JobError to error the job.
                                     # None: the kind runs no process (a workflow job, an approval):
                                     # the dispatcher leaves it alone and its own engine moves it on
    template: str | None = None      # resource it is a run of ("job_template"); None: no template
    template_fk: str = ""            # its column naming the template ("job_template")
    start: Hook | None = None        # (ctx, template row, launch_type, body, extra_fields) -> job row
    run_role: str = "execute_role"   # role on the template that may start (and schedule) it
    finish: Hook | None = None       # (ctx, row, RunResult, run_data) -> fields to store
    impact: Hook | None = None       # (ctx, row) -> capacity units (default 1)
    blocked: Hook | None = None      # (ctx, row) -> True while it must wait (dependencies ...)
    record_failure: Hook | None = None  # (ctx, template, reason, extra_fields) -> job row in error:
                                        # what a scheduled start that raised leaves (None: re-raise)
    cancel: Hook | None = None       # (ctx, row): how a kind that runs no process stops (a workflow
                                     # job); None: the dispatcher's cancel (flag, or end it unstarted)
    admin: tuple[str, str] = ("", "")   # (resource, column of the job): its admin may cancel the job
    launcher_may_change: bool = False   # whoever launched it may cancel it too
    events_have_host: bool = False      # events carry a ``host`` FK
    resource: str = ""               # the job resource's name and table, set by Registry.add
    table: str = ""

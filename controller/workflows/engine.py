"""Workflow jobs: launch, advance, cancel -- the only places workflow jobs start,
move and stop (orchestration.md §2.2-§2.6).

Contracts:
  * :func:`advance` is idempotent and spawns each node's job exactly once: it reads the graph
    and writes its decision inside one ``store.transaction()`` (BEGIN IMMEDIATE), so two
    threads or processes advancing the same workflow job are serialized and the second sees
    the first's jobs.  Its reads are a fixed number of statements per pass (``store.workflows``).
  * It is driven by the end of any unified job (:func:`job_end_hook`, registered in
    ``Registry.job_end_hooks``: the next node starts as soon as its parent's end is stored)
    and by the scheduler tick (:func:`tick_hook`: due retries, pending workflow jobs that may
    start, and a sweep of every running one that catches ends nobody announced).
  * Re-entrant calls in one thread (a nested workflow or an approval ending inside an advance)
    are queued and run after the current one, never nested.
  * A workflow job that ends announces it with ``control.job_ended`` (it may be a node of a
    parent workflow, and the next pending run of its template may then start).
  * Retries (Turret): a node whose job ends ``failed``/``error`` runs again up to
    ``max_retries`` times, ``retry_delay`` seconds after the failure (due retries are fired by
    the tick, or at once when the delay is 0); ``job`` names the latest attempt, ``attempts``
    counts them.  A canceled job is never retried.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from .. import access, status
from ..errors import APIError, MethodNotAllowed
from ..jobs import control
from ..jobs.launch import job_labels
from ..services.bootstrap import acting_as_system
from ..store import workflows as wq
from . import graph, node_launch
from . import workflow_launch as wl
from .workflow_launch import launch_info  # noqa: F401 - the contract's name for the launch GET

__all__ = ["launch_info", "launch_workflow", "launch_copy", "start_workflow", "record_failed_launch", "advance",
           "job_end_hook", "tick_hook", "cancel"]
log = logging.getLogger("turret.workflows")
_local = threading.local()
RECURSION = "Workflow Job spawned from workflow could not start because it would result in recursion " \
            "(spawn order, most recent first: {})"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _notify(ctx) -> None:
    if ctx.jobs is not None:
        ctx.jobs.notify()


# -- launch -----------------------------------------------------------------------------------
def launch_workflow(ctx, wfjt: dict, body: dict, launch_type: str = "manual", trusted: bool = False,
                    extra_fields: dict | None = None, carried: dict[str, dict] | None = None) -> tuple[dict, dict]:
    """Create a workflow job of ``wfjt`` with its nodes and start it (or leave it ``pending``
    behind a running one when the template does not allow simultaneous runs); returns (row,
    ignored_fields).  ``trusted``: prompts from the system, applied as given.  Raises
    ValidationError (400) / PermissionDenied (403) as AWX does."""
    if not isinstance(body, dict):
        raise APIError({"detail": "JSON parse error - not a JSON object"})
    if not trusted:
        access.require(access.holds(ctx, "workflow_job_template", wfjt["id"], "execute_role"))
    accepted, ignored = wl.split_prompts(ctx, wfjt, body, trusted)
    runtime, secret, ignored_vars = wl.split_vars(ctx, wfjt, body, trusted)
    if ignored_vars:
        ignored["extra_vars"] = ignored_vars
    values = wl.job_values(ctx, wfjt, accepted, runtime, secret, launch_type, extra_fields or {})
    with ctx.store.transaction():
        pk = control.create_job(ctx, "workflow_job", values)
        # labels are additive (AWX's copy_m2m_relationships): the template's plus the prompted
        labels = job_labels(wl.template_labels(ctx, wfjt["id"]), accepted.get("labels"))
        wq.link(ctx.store, "workflow_job_labels", "workflow_job_id", "label_id", pk, labels)
        wl.instantiate(ctx, wfjt["id"], pk, carried)
        _start(ctx, pk, None if values.get("allow_simultaneous") else wfjt["id"])
        advance(ctx, pk)
    _notify(ctx)   # again once committed: a worker woken inside the transaction found nothing yet
    return ctx.store.get("workflow_jobs", pk), ignored


def _start(ctx, pk: int, exclusive: int | None) -> bool:
    """pending -> running, announced to the job-start hooks; False when it was not pending or,
    with ``exclusive`` (a template id), while an older run of that template is active."""
    with ctx.store.transaction():
        started = not (exclusive and wq.other_active(ctx.store, exclusive, pk)) and wq.start(ctx.store, pk)
    if started:
        control.job_started(ctx, "workflow_job", pk)
    return started


def start_workflow(ctx, wfjt: dict, launch_type: str = "manual", body: dict | None = None,
                   extra_fields: dict | None = None) -> dict:
    """The workflow kind's ``UnifiedJob.start`` (schedules): a launch with ``body`` as prompts."""
    row, _ignored = launch_workflow(ctx, wfjt, body or {}, launch_type=launch_type, extra_fields=extra_fields)
    return row


def record_failed_launch(ctx, wfjt: dict, reason: str, extra_fields: dict | None = None,
                         launch_type: str = "scheduled") -> dict:
    """A workflow job of ``wfjt`` created in ``error`` with ``reason`` (a scheduled launch
    that could not start); nothing runs."""
    values = wl.failed_values(ctx, wfjt, reason, launch_type, extra_fields or {}, "error")
    with ctx.store.transaction():
        pk = control.create_job(ctx, "workflow_job", values)
    return ctx.store.get("workflow_jobs", pk)


def launch_copy(ctx, old: dict, carried: dict[str, dict] | None = None) -> dict:
    """A new workflow job copied from ``old``, one without a template (a bulk job's, or its
    template deleted): its fields, labels and nodes (AWX's ``create_relaunch_workflow_job``),
    started at once, since there is no template to wait behind.  ``carried`` as for
    :func:`workflow_launch.instantiate`."""
    values = wl.copy_values(ctx, old)
    with ctx.store.transaction():
        pk = control.create_job(ctx, "workflow_job", values)
        wq.link(ctx.store, "workflow_job_labels", "workflow_job_id", "label_id", pk,
                wq.linked(ctx.store, "workflow_job_labels", "workflow_job_id", "label_id", old["id"]))
        wl.copy_nodes(ctx, old["id"], pk, carried)
        _start(ctx, pk, None)
        advance(ctx, pk)
    _notify(ctx)
    return ctx.store.get("workflow_jobs", pk)


# -- advance ----------------------------------------------------------------------------------
def advance(ctx, workflow_job_id: int, now: datetime | None = None) -> None:
    """Move workflow job ``workflow_job_id`` on: mark do-not-run nodes, spawn the jobs that may
    run, retry, cancel, or end it (module doc).  Safe to call any number of times.  ``now``
    (default: the clock) decides which retries are due."""
    queue = getattr(_local, "queue", None)
    if queue is not None:
        if workflow_job_id not in queue:
            queue.append(workflow_job_id)
        return
    _local.queue = queue = [workflow_job_id]
    ended: list[int] = []
    try:
        while queue:
            pk = queue.pop(0)
            with ctx.store.transaction():
                if _advance_one(ctx, pk, now or datetime.now(timezone.utc)):
                    ended.append(pk)
    finally:
        _local.queue = None
    _notify(ctx)
    for pk in ended:
        control.job_ended(ctx, "workflow_job", pk)


def _graph_node(node: dict, jobs: dict[int, dict], kinds: dict, retrying: set[int]) -> graph.Node:
    job = jobs.get(node["job"]) if node.get("job") else None
    state = (job or {"status": "error"})["status"] if node.get("job") else None
    return graph.Node(node["id"], state, bool(node.get("do_not_run")), node.get("unified_job_template") in kinds,
                      bool(node.get("all_parents_must_converge")), node["id"] in retrying)


def _advance_one(ctx, pk: int, now: datetime) -> bool:
    """One workflow job's step inside the caller's transaction; True when it ended now."""
    store = ctx.store
    wj = store.get("workflow_jobs", pk)
    if wj is None or wj["status"] != "running":
        return False
    nodes = {n["id"]: n for n in wq.job_nodes(store, pk)}
    edges = [graph.Edge(p, c, k) for p, c, k in wq.job_edges(store, pk)]
    tables = [k.table for k in ctx.registry.unified_jobs()]
    jobs = wq.spawned_jobs(store, tables, [n["job"] for n in nodes.values()], "id, status, cancel_flag")
    if wj.get("cancel_flag"):
        return _cancel_step(ctx, wj, nodes, jobs)
    kinds = wq.template_kinds(store, wl.template_tables(ctx), [n["unified_job_template"] for n in nodes.values()])
    parents: dict[int, list[int]] = {}
    for e in edges:
        parents.setdefault(e.child, []).append(e.parent)
    while True:
        retrying, due = _retries(store, nodes, jobs, now)
        # a node about to run again has no outcome yet: its children wait for the last attempt
        decision = graph.decide([_graph_node(n, jobs, kinds, retrying | set(due)) for n in nodes.values()], edges)
        wq.mark_dnr(store, decision.dnr)
        for nid in decision.dnr:
            nodes[nid]["do_not_run"] = True
        spawned = [_spawn(ctx, wj, nodes, nid, kinds, jobs, parents) for nid in decision.run + due]
        if not any(status_ended(row) for row in spawned):
            break
    if not decision.done:
        return False
    final = "failed" if decision.failed else "successful"
    return wq.finish(store, pk, final, decision.explanation)


def status_ended(row: dict) -> bool:
    return not status.is_active(row.get("status"))


def _retries(store, nodes: dict[int, dict], jobs: dict[int, dict], now: datetime) -> tuple[set[int], list[int]]:
    """(nodes waiting for a retry, nodes whose retry is due at ``now``); plans the retry of a
    node whose job just failed (``retry_at``)."""
    waiting: set[int] = set()
    due: list[int] = []
    for node in nodes.values():
        job = jobs.get(node["job"])
        if job is None or job["status"] not in status.FAILED or int(node.get("attempts") or 0) > \
                int(node.get("max_retries") or 0):
            continue
        if not node.get("retry_at"):
            node["retry_at"] = _stamp(now + timedelta(seconds=int(node.get("retry_delay") or 0)))
            wq.set_node(store, node["id"], {"retry_at": node["retry_at"]})
        if node["retry_at"] <= _stamp(now):
            due.append(node["id"])
        else:
            waiting.add(node["id"])
    return waiting, due


def _ancestry(store, wj: dict) -> list[int]:
    """Workflow job template ids from this workflow job up through the workflows that spawned it."""
    chain: list[int] = []
    current: dict | None = wj
    seen: set[int] = set()
    while current is not None and current["id"] not in seen:
        seen.add(current["id"])
        if current.get("workflow_job_template"):
            chain.append(current["workflow_job_template"])
        parent = wq.parent_workflow_job(store, current["id"])
        current = store.get("workflow_jobs", parent) if parent else None
    return chain


def _spawn(ctx, wj: dict, nodes: dict[int, dict], nid: int, kinds: dict, jobs: dict[int, dict],
           parents: dict[int, list[int]]) -> dict:
    """Start node ``nid``'s job (exactly once: the node is linked in the same transaction)."""
    node = nodes[nid]
    kind, template = kinds[node["unified_job_template"]]
    artifacts = dict(_inherited(ctx.store, nodes, parents.get(nid, [])))
    extra = {"launched_by_id": wj["id"], "launched_by_type": "workflow_job", "launch_type": "workflow"}
    chain = _ancestry(ctx.store, wj) if kind == "workflow_job_template" else []
    if kind == "workflow_job_template" and template["id"] in chain:
        explanation = RECURSION.format(", ".join(str(t) for t in [template["id"], *chain]))
        values = wl.failed_values(ctx, template, explanation, "workflow", extra, "failed")
        row = ctx.store.get("workflow_jobs", control.create_job(ctx, "workflow_job", values))
    else:
        row = node_launch.spawn(ctx, kind, template, node, wj, artifacts, _launch_nested)
    attempts = int(node.get("attempts") or 0) + 1
    node.update({"job": row["id"], "attempts": attempts, "retry_at": None, "ancestor_artifacts": artifacts})
    wq.set_node(ctx.store, nid, {"job": row["id"], "attempts": attempts, "retry_at": None,
                                 "ancestor_artifacts": artifacts})
    jobs[row["id"]] = {"id": row["id"], "status": row["status"], "cancel_flag": row.get("cancel_flag")}
    return row


def _launch_nested(ctx, wfjt: dict, body: dict, extra: dict) -> dict:
    try:
        row, _ignored = launch_workflow(ctx, wfjt, body, launch_type="workflow", trusted=True, extra_fields=extra)
        return row
    except APIError as exc:
        values = wl.failed_values(ctx, wfjt, node_launch.refusal(exc), "workflow", extra, "error")
        return ctx.store.get("workflow_jobs", control.create_job(ctx, "workflow_job", values))


def _inherited(store, nodes: dict[int, dict], parent_ids: list[int]) -> dict:
    """Ancestor artifacts of a node: each parent's inherited artifacts, then its job's own
    ``set_stats`` artifacts over them (parent over grandparent)."""
    with_jobs = [nodes[p]["job"] for p in sorted(parent_ids) if nodes[p].get("job")]
    own = wq.artifacts_of(store, with_jobs)
    merged: dict = {}
    for p in sorted(parent_ids):
        merged.update(node_launch.as_dict(nodes[p].get("ancestor_artifacts")))
        merged.update(node_launch.as_dict(own.get(nodes[p]["job"])))
    return merged


# -- cancel -----------------------------------------------------------------------------------
def _cancel_step(ctx, wj: dict, nodes: dict[int, dict], jobs: dict[int, dict]) -> bool:
    """A canceling workflow job: unspawned nodes do-not-run, spawned jobs canceled; it ends
    ``canceled`` once none of them is active."""
    wq.mark_unspawned_dnr(ctx.store, wj["id"])
    sys_ctx = acting_as_system(ctx)
    active = [j for j in jobs.values() if status.is_active(j["status"])]
    for job in active:
        if job.get("cancel_flag"):
            continue
        kind = next(k for k in ctx.registry.unified_jobs() if k.table == job["_table"])
        row = ctx.store.get(kind.table, job["id"])
        if kind.resource == "workflow_job":
            cancel(sys_ctx, row)
        else:
            control.cancel(sys_ctx, ctx.registry[kind.resource], row)
    still = wq.spawned_jobs(ctx.store, {j["_table"] for j in active}, [j["id"] for j in active])
    if any(status.is_active(j["status"]) for j in still.values()):
        return False
    return wq.finish(ctx.store, wj["id"], "canceled", "")


def cancel(ctx, workflow_job: dict) -> None:
    """Cancel a workflow job (405 once it has ended, 403 without the right to change it): a
    pending one ends at once, a running one cancels its spawned jobs and ends ``canceled``
    when they have."""
    if not status.is_active(workflow_job["status"]):
        raise MethodNotAllowed("POST")
    access.require(access.can_change(ctx, ctx.registry["workflow_job"], workflow_job))
    pk = workflow_job["id"]
    with ctx.store.transaction():
        wq.flag_cancel(ctx.store, pk)
        ended = wq.finish(ctx.store, pk, "canceled", "", among=status.QUEUED)   # not started: ends now
        if ended:
            wq.mark_unspawned_dnr(ctx.store, pk)
    if ended:
        control.job_ended(ctx, "workflow_job", pk)
    else:
        advance(ctx, pk)


# -- hooks ------------------------------------------------------------------------------------
def job_end_hook(ctx, resource: str, pk: int) -> None:
    """``Registry.job_end_hooks``: a unified job ended; advance the workflow job it belongs to,
    and when it is itself a workflow job, start the next pending run of its template."""
    node = wq.node_of_job(ctx.store, pk)
    if node is not None:
        advance(ctx, node["workflow_job"])
    if resource == "workflow_job":
        row = ctx.store.get("workflow_jobs", pk)
        if row is not None and row.get("workflow_job_template"):
            _start_next(ctx, row["workflow_job_template"])


def _start_next(ctx, wfjt_id: int) -> None:
    nxt = wq.next_pending(ctx.store, wfjt_id)
    if nxt is None:
        return
    if _start(ctx, nxt, wfjt_id):
        advance(ctx, nxt)


def tick_hook(ctx, now: datetime) -> None:
    """``Registry.tick_hooks``: fire due retries, start pending workflow jobs that may run now,
    and advance every running workflow job (ends nobody announced, e.g. reaped at start-up)."""
    for row in wq.pending_workflow_jobs(ctx.store):
        _start(ctx, row["id"], None if row.get("allow_simultaneous") else row["workflow_job_template"])
    for pk in sorted(set(wq.due_retries(ctx.store, _stamp(now))) | set(wq.running_workflow_jobs(ctx.store))):
        try:
            advance(ctx, pk, now)
        except Exception:  # noqa: BLE001 - one broken workflow job must not stall the others
            log.exception("advancing workflow job %s failed", pk)

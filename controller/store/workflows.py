"""SQL of the workflow engine: template graphs, workflow job nodes and their edges, the jobs
nodes spawned, and the compare-and-set transitions of workflow jobs.

Every read of a graph is a fixed number of statements whatever its size (nodes in one query,
edges in one, spawned jobs in one per job table), so advancing a 1,000-node workflow stays
linear.  Table and column names are the contract's (wf-contract.md).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from ..status import ACTIVE
from . import now_iso

EDGE_KINDS = ("success", "failure", "always")
TEMPLATE_NODES = "workflow_job_template_nodes"
JOB_NODES = "workflow_job_nodes"


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


def _edges(store, prefix: str, owner_col: str, owner_table: str, owner: int) -> list[tuple[int, int, str]]:
    """(parent, child, kind) of every edge between the nodes of one workflow (one statement)."""
    parts = [f'SELECT e.parent_id, e.child_id, \'{kind}\' FROM "{prefix}_{kind}_nodes" e '
             f'JOIN "{owner_table}" n ON n.id = e.parent_id WHERE n."{owner_col}" = ?' for kind in EDGE_KINDS]
    rows = store.query(" UNION ALL ".join(parts), [owner] * len(EDGE_KINDS))
    return [(r[0], r[1], r[2]) for r in rows]


# -- templates -------------------------------------------------------------------------------
def template_nodes(store, wfjt_id: int) -> list[dict]:
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{TEMPLATE_NODES}" WHERE workflow_job_template = ? ORDER BY id', (wfjt_id,))]


def template_edges(store, wfjt_id: int) -> list[tuple[int, int, str]]:
    return _edges(store, "workflow_job_template_node", "workflow_job_template", TEMPLATE_NODES, wfjt_id)


def template_node_links(store, table: str, column: str, node_ids: list[int]) -> dict[int, list[int]]:
    """{template node id: [linked ids]} of association ``table`` (credentials, labels)."""
    if not node_ids:
        return {}
    out: dict[int, list[int]] = {}
    other = "credential_id" if table.endswith("credentials") else "label_id"
    for r in store.query(f'SELECT "{column}", "{other}" FROM "{table}" WHERE "{column}" IN ({_marks(node_ids)}) '
                         f'ORDER BY "{other}"', node_ids):
        out.setdefault(r[0], []).append(r[1])
    return out


def template_kinds(store, tables: dict[str, str], ids: Iterable[int]) -> dict[int, tuple[str, dict]]:
    """{unified job template id: (resource name, row)} for those of ``ids`` that exist in one of
    ``tables`` ({resource name: table}); one statement per table."""
    wanted = sorted({int(i) for i in ids if i is not None})
    out: dict[int, tuple[str, dict]] = {}
    if not wanted:
        return out
    for name, table in tables.items():
        for r in store.query(f'SELECT * FROM "{table}" WHERE id IN ({_marks(wanted)})', wanted):
            out[r["id"]] = (name, dict(r))
    return out


# -- workflow job nodes ----------------------------------------------------------------------
def insert_job_node(store, values: dict) -> int:
    return store.insert(JOB_NODES, values)


def insert_edges(store, kind: str, pairs: list[tuple[int, int]]) -> None:
    store.insert_many(f"workflow_job_node_{kind}_nodes", [{"parent_id": p, "child_id": c} for p, c in pairs],
                      ready=True)


def link_credentials(store, node_id: int, credential_ids: list[int]) -> None:
    store.insert_many("workflow_job_node_credentials",
                      [{"workflow_job_node_id": node_id, "credential_id": c} for c in credential_ids], ready=True)


def node_credentials(store, node_id: int) -> list[int]:
    return [r[0] for r in store.query('SELECT credential_id FROM "workflow_job_node_credentials" '
                                      'WHERE workflow_job_node_id = ? ORDER BY credential_id', (node_id,))]


def job_nodes(store, workflow_job_id: int) -> list[dict]:
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{JOB_NODES}" WHERE workflow_job = ? ORDER BY id', (workflow_job_id,))]


def job_edges(store, workflow_job_id: int) -> list[tuple[int, int, str]]:
    return _edges(store, "workflow_job_node", "workflow_job", JOB_NODES, workflow_job_id)


def node_of_job(store, job_id: int) -> dict | None:
    """The workflow job node that spawned unified job ``job_id`` (ids are shared by all kinds)."""
    return store.one_dict(f'SELECT * FROM "{JOB_NODES}" WHERE job = ? ORDER BY id DESC LIMIT 1', (job_id,))


def set_node(store, node_id: int, values: dict) -> None:
    store.update(JOB_NODES, node_id, {**values, "modified": now_iso()})


def mark_dnr(store, node_ids: list[int]) -> None:
    if node_ids:
        store.update_where(JOB_NODES, {"do_not_run": True, "modified": now_iso()},
                           f"id IN ({_marks(node_ids)}) AND job IS NULL", node_ids)


def mark_unspawned_dnr(store, workflow_job_id: int) -> None:
    """Cancel: every node of the workflow job that spawned nothing is do_not_run."""
    store.update_where(JOB_NODES, {"do_not_run": True, "retry_at": None, "modified": now_iso()},
                       "workflow_job = ? AND job IS NULL", [workflow_job_id])
    store.update_where(JOB_NODES, {"retry_at": None}, "workflow_job = ? AND retry_at IS NOT NULL",
                       [workflow_job_id])


def spawned_jobs(store, tables: Iterable[str], ids: Iterable[int], columns: str = "id, status") -> dict[int, dict]:
    """{job id: row (``columns``)} of the spawned unified jobs ``ids`` across the job ``tables``."""
    wanted = sorted({int(i) for i in ids if i is not None})
    out: dict[int, dict] = {}
    if not wanted:
        return out
    for table in tables:
        for r in store.query(f'SELECT {columns} FROM "{table}" WHERE id IN ({_marks(wanted)})', wanted):
            out[r["id"]] = {**dict(r), "_table": table}
    return out


def artifacts_of(store, job_ids: list[int]) -> dict[int, str]:
    """{job id: artifacts JSON text} of playbook jobs (the only kind with artifacts)."""
    if not job_ids:
        return {}
    return {r[0]: r[1] for r in store.query(
        f'SELECT id, artifacts FROM "jobs" WHERE id IN ({_marks(job_ids)})', job_ids)}


# -- workflow jobs ---------------------------------------------------------------------------
def running_workflow_jobs(store) -> list[int]:
    return store.ids_where("workflow_jobs", "status = 'running'", [])


def parent_workflow_job(store, workflow_job_id: int) -> int | None:
    """The workflow job whose node spawned workflow job ``workflow_job_id`` (None: top level)."""
    return store.scalar(f'SELECT workflow_job FROM "{JOB_NODES}" WHERE job = ? LIMIT 1', (workflow_job_id,))


def other_active(store, wfjt_id: int, workflow_job_id: int) -> bool:
    """Whether another workflow job of the template runs (or waits to) before this one."""
    return store.exists("workflow_jobs", "workflow_job_template = ? AND id < ? AND status IN ("
                        + _marks(ACTIVE) + ")", [wfjt_id, workflow_job_id, *ACTIVE])


def next_pending(store, wfjt_id: int) -> int | None:
    return store.scalar("SELECT id FROM workflow_jobs WHERE workflow_job_template = ? AND status = 'pending' "
                        "ORDER BY id LIMIT 1", (wfjt_id,))


def start(store, workflow_job_id: int) -> bool:
    """pending -> running (compare-and-set)."""
    now = now_iso()
    return store.update_where("workflow_jobs", {"status": "running", "started": now, "modified": now},
                              "id = ? AND status = 'pending'", [workflow_job_id]) == 1


def finish(store, workflow_job_id: int, status: str, explanation: str, among: tuple[str, ...] = ACTIVE) -> bool:
    """A workflow job whose status is one of ``among`` (default: any active one) ends with
    ``status`` (compare-and-set: it ends once)."""
    row = store.one("SELECT started FROM workflow_jobs WHERE id = ?", (workflow_job_id,))
    now = now_iso()
    values = {"status": status, "failed": status != "successful", "finished": now, "modified": now,
              "job_explanation": explanation, "event_processing_finished": True}
    if row is not None and row[0]:
        values["elapsed"] = round(_seconds_between(row[0], now), 3)
    return store.update_where("workflow_jobs", values, f"id = ? AND status IN ({_marks(among)})",
                              [workflow_job_id, *among]) == 1


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def flag_cancel(store, workflow_job_id: int) -> None:
    """Ask a workflow job to cancel (its next advance cancels what it spawned); once."""
    store.update_where("workflow_jobs", {"cancel_flag": True, "canceled_on": now_iso()},
                       "id = ? AND NOT coalesce(cancel_flag, 0)", [workflow_job_id])


def due_retries(store, now: str) -> list[int]:
    """Workflow jobs running with a node whose retry came due at ``now``."""
    return [r[0] for r in store.query(
        f'SELECT DISTINCT n.workflow_job FROM "{JOB_NODES}" n JOIN workflow_jobs w ON w.id = n.workflow_job '
        "WHERE n.retry_at IS NOT NULL AND n.retry_at <= ? AND w.status = 'running'", (now,))]


def linked(store, table: str, left: str, right: str, pk: int) -> list[int]:
    """Ids linked to ``pk`` in association ``table`` (``left`` names the owner)."""
    return [r[0] for r in store.query(f'SELECT "{right}" FROM "{table}" WHERE "{left}" = ? ORDER BY "{right}"',
                                      (pk,))]


def pending_workflow_jobs(store) -> list[dict]:
    return [dict(r) for r in store.query("SELECT id, workflow_job_template, allow_simultaneous FROM workflow_jobs "
                                         "WHERE status = 'pending' ORDER BY id")]


def link(store, table: str, left: str, right: str, pk: int, ids: list[int]) -> None:
    """Link ``pk`` to each of ``ids`` in association ``table`` (existing links are kept)."""
    for other in ids:
        store.execute(f'INSERT OR IGNORE INTO "{table}" ("{left}", "{right}") VALUES (?, ?)', (pk, other))

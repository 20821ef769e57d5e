"""SQL of the workflow API (declarations in ``controller.resources.workflows`` and
``workflow_jobs``): edges between nodes, graph copies, a workflow's recent jobs, the workflow
job that spawned a job.  The engine's own SQL lives in :mod:`controller.store.workflows`.

Edge tables are ``<node table singular>_{success,failure,always}_nodes(parent_id, child_id)``;
``prefix`` names the node kind ("workflow_job_template_node" or "workflow_job_node").
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from . import Store

EDGE_TYPES = ("success_nodes", "failure_nodes", "always_nodes")


def edge_table(prefix: str, edge: str) -> str:
    """The association table of one edge type (``edge`` in :data:`EDGE_TYPES`)."""
    return f"{prefix}_{edge}"


def _marks(ids: Sequence[Any]) -> str:
    return ",".join("?" * len(ids))


def children_of(store: Store, prefix: str, node_ids: Sequence[int]) -> dict[int, dict[str, list[int]]]:
    """``{node id: {"success_nodes": [child ids], "failure_nodes": [...], "always_nodes": [...]}}``
    for every id asked (empty lists when it has no child)."""
    out: dict[int, dict[str, list[int]]] = {pk: {e: [] for e in EDGE_TYPES} for pk in node_ids}
    if not node_ids:
        return out
    for edge in EDGE_TYPES:
        for r in store.query(f'SELECT parent_id, child_id FROM "{edge_table(prefix, edge)}" '
                             f"WHERE parent_id IN ({_marks(node_ids)}) ORDER BY child_id", list(node_ids)):
            out[r["parent_id"]][edge].append(r["child_id"])
    return out


def graph_edges(store: Store, prefix: str, owner_col: str, owner: int, node_table: str) -> list[tuple[int, int, str]]:
    """Every edge ``(parent, child, edge type)`` between the nodes whose ``owner_col`` is ``owner``."""
    out: list[tuple[int, int, str]] = []
    for edge in EDGE_TYPES:
        rows = store.query(f'SELECT e.parent_id, e.child_id FROM "{edge_table(prefix, edge)}" e '
                           f'JOIN "{node_table}" n ON n.id = e.parent_id WHERE n."{owner_col}" = ?', [owner])
        out += [(r["parent_id"], r["child_id"], edge) for r in rows]
    return out


def copy_edges(store: Store, prefix: str, mapping: dict[int, int]) -> None:
    """Give the new nodes (``mapping`` old id -> new id) the edges the old ones have among themselves."""
    if not mapping:
        return
    old = list(mapping)
    for edge in EDGE_TYPES:
        table = edge_table(prefix, edge)
        rows = store.query(f'SELECT parent_id, child_id FROM "{table}" WHERE parent_id IN ({_marks(old)})', old)
        store.insert_many(table, [{"parent_id": mapping[r["parent_id"]], "child_id": mapping[r["child_id"]]}
                                  for r in rows if r["child_id"] in mapping], ready=True)


def recent_jobs(store: Store, table: str, column: str, ids: Sequence[int], limit: int = 10) -> dict[int, list[dict]]:
    """The ``limit`` newest jobs of each parent (``column`` names it), newest first."""
    out: dict[int, list[dict]] = {pk: [] for pk in ids}
    if not ids:
        return out
    rows = store.query(f'SELECT * FROM (SELECT id, "{column}", status, finished, canceled_on, ROW_NUMBER() OVER '
                       f'(PARTITION BY "{column}" ORDER BY id DESC) AS rn FROM "{table}" '
                       f'WHERE "{column}" IN ({_marks(ids)})) WHERE rn <= ? ORDER BY id DESC', [*ids, limit])
    for r in rows:
        out[r[column]].append(dict(r))
    return out


def spawning_workflow_jobs(store: Store, job_ids: Sequence[int]) -> dict[int, dict]:
    """``{job id: workflow job row (id, name, description, status, failed, elapsed)}`` for the
    jobs some workflow job node spawned."""
    if not job_ids:
        return {}
    rows = store.query("SELECT n.job AS job, w.id, w.name, w.description, w.status, w.failed, w.elapsed "
                       'FROM "workflow_job_nodes" n JOIN "workflow_jobs" w ON w.id = n.workflow_job '
                       f"WHERE n.job IN ({_marks(job_ids)})", list(job_ids))
    return {r["job"]: {k: r[k] for k in ("id", "name", "description", "status", "failed", "elapsed")}
            for r in rows}


def node_job_filter_sql(column: str = "id") -> str:
    """SQL over a unified job table: its ``column`` is the job of a node of workflow job ``?``."""
    return f'"{column}" IN (SELECT job FROM "workflow_job_nodes" WHERE workflow_job = ? AND job IS NOT NULL)'


def job_named_sql(tables: Sequence[str]) -> str:
    """SQL over workflow job nodes: the node's job, a row of one of ``tables``, is named ``?``
    (one parameter per table)."""
    union = " UNION ALL ".join(f'SELECT id FROM "{t}" WHERE name = ?' for t in tables)
    return f'job IN ({union})'


def workflow_templates_using(store: Store, template_id: int) -> list[int]:
    """The workflow job templates having a node that runs ``template_id``."""
    return [r[0] for r in store.query('SELECT DISTINCT workflow_job_template FROM "workflow_job_template_nodes" '
                                      "WHERE unified_job_template = ?", [template_id])]

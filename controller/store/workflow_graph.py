"""SQL of the workflow pages: a workflow's whole graph (nodes and edges) in a few statements.

The pages draw every node of a workflow at once (1,000 nodes must render in well under a
second), so they read the node and edge tables directly instead of paging through the API's
lists: one select for the nodes, one per edge type, one per unified table for the names and
statuses of what the nodes point at.  Callers check that the user may read the workflow first.
Table names come from the registry's declarations, never from a request.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from . import Store

EDGE_TYPES = ("success", "failure", "always")


def graph_nodes(store: Store, node_table: str, owner_col: str, owner_id: int, columns: Sequence[str]) -> list[dict]:
    """The rows (``id`` plus ``columns``) of the nodes of one workflow template or job, by id."""
    cols = ", ".join(f'"{c}"' for c in ("id", *columns))
    return [dict(r) for r in store.query(f'SELECT {cols} FROM "{node_table}" WHERE "{owner_col}" = ? ORDER BY id',
                                         (owner_id,))]


def graph_edges(store: Store, node_table: str, owner_col: str, owner_id: int) -> list[tuple[int, int, str]]:
    """Every edge ``(parent id, child id, type)`` between the nodes of one workflow, types in
    :data:`EDGE_TYPES` order; the edge tables are ``<node_table minus s>_<type>_nodes``."""
    out: list[tuple[int, int, str]] = []
    base = node_table[:-1]
    for kind in EDGE_TYPES:
        rows = store.query(f'SELECT e.parent_id, e.child_id FROM "{base}_{kind}_nodes" e '
                           f'JOIN "{node_table}" n ON n.id = e.parent_id WHERE n."{owner_col}" = ? ORDER BY e.rowid',
                           (owner_id,))
        out += [(r[0], r[1], kind) for r in rows]
    return out


def names_of_referenced(store: Store, tables: dict[str, str], node_table: str, ref_col: str, owner_col: str,
                        owner_id: int, extra: Sequence[str] = ()) -> dict[int, dict]:
    """``{id: {"type", "name", *extra}}`` of the rows of ``tables`` (type name -> table) that the
    nodes of one workflow point at through ``ref_col`` (the tables share one id space, so an id
    names one row).  ``extra`` columns are read where a table has them (None elsewhere)."""
    out: dict[int, dict] = {}
    for type_name, table in tables.items():
        present = {r[1] for r in store.query(f'PRAGMA table_info("{table}")')}
        picked = ", ".join(f'"{c}"' if c in present else f"NULL AS \"{c}\"" for c in extra)
        rows = store.query(f'SELECT id, name{", " + picked if picked else ""} FROM "{table}" WHERE id IN '
                           f'(SELECT "{ref_col}" FROM "{node_table}" WHERE "{owner_col}" = ?)', (owner_id,))
        for r in rows:
            out[r["id"]] = {"type": type_name, **dict(r)}
    return out


def approval_sources(store: Store, approval_ids: Sequence[int]) -> dict[int, tuple[int, int | None]]:
    """``{approval id: (workflow job id, workflow job template id or None)}``: the workflow each
    approval step belongs to (its node's ``job`` is the approval)."""
    if not approval_ids:
        return {}
    marks = ",".join("?" * len(approval_ids))
    rows = store.query(f"SELECT n.job, n.workflow_job, w.workflow_job_template FROM workflow_job_nodes n "
                       f"JOIN workflow_jobs w ON w.id = n.workflow_job WHERE n.job IN ({marks})", list(approval_ids))
    return {r[0]: (r[1], r[2]) for r in rows}

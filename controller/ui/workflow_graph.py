"""Layout of a workflow graph for the pages: boxes layered left to right by depth, edges as curves.

Pure (no Flask, no store): ``layout(node_ids, edges)`` in O(n + e).  A node's depth (column) is
the length of the longest path from a root to it, computed in one topological pass (Kahn);
within a column nodes keep the order in which that pass finished them, so children of earlier
nodes come first and siblings stay together without any sorting.  The templates draw the result
as inline SVG (no script needed to see the graph).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BOX_W, BOX_H = 190, 46        # a node's box
GAP_X, GAP_Y = 70, 18         # between columns / between boxes of a column
PAD = 12                      # around the drawing
LABEL_CHARS = 26              # longer names are cut (the full name is the box's tooltip)


@dataclass
class Box:
    """One node's place: ``x``/``y`` of its top-left corner, its column and row."""
    id: int
    column: int
    row: int
    x: int
    y: int


@dataclass
class Layout:
    """Everything a template needs to draw the graph."""
    boxes: dict[int, Box] = field(default_factory=dict)
    edges: list[dict] = field(default_factory=list)   # {"parent", "child", "type", "d"}: SVG path
    width: int = 0
    height: int = 0
    columns: int = 0


def layout(node_ids: list[int], edges: list[tuple[int, int, str]]) -> Layout:
    """Place ``node_ids`` (in a stable order, e.g. by id) linked by ``edges`` ``(parent, child,
    type)``.  Edges naming unknown nodes are ignored; should the graph hold a cycle (the API
    refuses them), the nodes on it are placed in a last column rather than lost."""
    known = set(node_ids)
    children: dict[int, list[int]] = {n: [] for n in node_ids}
    indegree: dict[int, int] = {n: 0 for n in node_ids}
    kept = [(p, c, t) for p, c, t in edges if p in known and c in known and p != c]
    for parent, child, _ in kept:
        children[parent].append(child)
        indegree[child] += 1
    depth = {n: 0 for n in node_ids}
    queue = deque(n for n in node_ids if indegree[n] == 0)
    order: list[int] = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for child in children[node]:
            depth[child] = max(depth[child], depth[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    if len(order) < len(node_ids):              # a cycle: park what is left after the rest
        last = max((depth[n] for n in order), default=-1) + 1
        done = set(order)
        for n in node_ids:
            if n not in done:
                depth[n] = last
                order.append(n)
    return _place(order, depth, kept)


def _place(order: list[int], depth: dict[int, int], edges: list[tuple[int, int, str]]) -> Layout:
    """Coordinates from (order, depth), and each edge as a cubic curve between box sides."""
    rows: dict[int, int] = {}
    out = Layout()
    for node in order:
        col = depth[node]
        row = rows.get(col, 0)
        rows[col] = row + 1
        out.boxes[node] = Box(node, col, row, PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    for parent, child, kind in edges:
        a, b = out.boxes[parent], out.boxes[child]
        x1, y1 = a.x + BOX_W, a.y + BOX_H // 2
        x2, y2 = b.x, b.y + BOX_H // 2
        bend = max(GAP_X // 2, (x2 - x1) // 2)
        out.edges.append({"parent": parent, "child": child, "type": kind,
                          "d": f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"})
    out.columns = len(rows)
    out.width = PAD * 2 + max(out.columns, 1) * (BOX_W + GAP_X) - GAP_X
    out.height = PAD * 2 + max(rows.values(), default=1) * (BOX_H + GAP_Y) - GAP_Y
    return out


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to fit a box (with an ellipsis when cut)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"

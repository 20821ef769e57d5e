"""What a workflow job does next, decided from its graph alone (pure: no SQL, no context).

AWX's workflow manager (``dag_workflow.py``, ``has_workflow_failed``; orchestration.md §2.2,
§2.3) restated over plain data, in one pass over the nodes in topological order, so one
decision costs O(nodes + edges) whatever the graph.

Contracts:
  * A node's *outcome* is ``"success"`` (its job ended ``successful``) or ``"failure"`` (its
    job ended ``failed``/``error``/``canceled``, or the node has no template left and was
    reached); a node whose job is still active, or that waits for a retry, has none yet and
    blocks its children.  A ``do_not_run`` node is decided but has no outcome.
  * Edges are followed by outcome: success -> ``success`` + ``always`` children, failure ->
    ``failure`` + ``always`` children.
  * ANY node (``all_parents_must_converge`` false): runs once every parent is decided and at
    least one parent's outcome leads to it; ``do_not_run`` once every parent is decided and
    none does.
  * ALL node: ``do_not_run`` as soon as a parent is ``do_not_run`` or a parent with an
    outcome is not linked to it by the matching edge (or ``always``) -- for every failure
    outcome, ``error`` and ``canceled`` included (AWX checks only ``failed``: awx#14009);
    runs once every parent is decided and none of that happened.
  * Roots run at once and are never ``do_not_run``.
  * A reached node without a template is not spawned: it takes the failure outcome at once.
  * Done when no node is active, waiting or runnable.  Failed iff some failure-outcome node
    has neither a ``failure`` nor an ``always`` child (a handler that is itself
    ``do_not_run`` still counts as handling it).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

SUCCESS_STATES = ("successful",)
FAILURE_STATES = ("failed", "error", "canceled")
EDGE_TYPES = ("success", "failure", "always")
NO_HANDLER = "No error handling paths found, marking workflow as failed"


@dataclass(frozen=True)
class Node:
    """One workflow job node as the decision needs it.

    ``status`` is the status of the node's (latest) job, None when it has spawned none;
    ``retrying``: its job failed and another attempt is planned (it has no outcome yet)."""

    id: int
    status: str | None = None
    do_not_run: bool = False
    has_template: bool = True
    converge_all: bool = False
    retrying: bool = False


@dataclass(frozen=True)
class Edge:
    """``parent`` -> ``child`` followed on ``kind`` ("success" | "failure" | "always")."""

    parent: int
    child: int
    kind: str


@dataclass
class Decision:
    """What to do now: mark ``dnr`` do_not_run, spawn ``run``; ``done`` with ``failed`` and its
    ``explanation`` once nothing is left to run.  ``missing``: reached nodes without a
    template (they follow their failure path without a job)."""

    dnr: list[int] = field(default_factory=list)
    run: list[int] = field(default_factory=list)
    done: bool = False
    failed: bool = False
    explanation: str = ""
    missing: list[int] = field(default_factory=list)


def outcome_of(status: str | None) -> str | None:
    """"success" / "failure" for a finished job's status, None while it is active or absent."""
    if status in SUCCESS_STATES:
        return "success"
    if status in FAILURE_STATES:
        return "failure"
    return None


def leads_to(kind: str, outcome: str) -> bool:
    """Whether an edge of ``kind`` is followed after a parent's ``outcome``."""
    return kind == "always" or kind == outcome


def topological(node_ids: Iterable[int], edges: Iterable[Edge]) -> list[int]:
    """The node ids parents first (Kahn; ties by id so the order is stable).  Nodes on a cycle
    (the API refuses them) come last, in id order, so a decision still terminates (they wait
    for ever: a cycle is never run)."""
    ids = sorted(set(node_ids))
    indegree = {i: 0 for i in ids}
    children: dict[int, list[int]] = {i: [] for i in ids}
    for e in edges:
        if e.parent in indegree and e.child in indegree:
            children[e.parent].append(e.child)
            indegree[e.child] += 1
    ready = deque(i for i in ids if indegree[i] == 0)
    order: list[int] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for child in sorted(children[current]):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    seen = set(order)
    return order + [i for i in ids if i not in seen]


# a node's state within one decision: "dnr", "success", "failure", "pending" (active, retrying or
# to be spawned now) or "waiting" (some parent undecided)
def _state_of(node: Node, parents: list[tuple[str, str]], is_root: bool) -> str:
    """The state of a node that has no job and is not yet do_not_run, from its parents'
    (state, edge kind) pairs: "run", "dnr" or "waiting"."""
    if is_root:
        return "run"
    if node.converge_all:
        for state, kind in parents:
            if state == "dnr" or (state in ("success", "failure") and not leads_to(kind, state)):
                return "dnr"
        return "waiting" if any(s in ("pending", "waiting") for s, _k in parents) else "run"
    if any(s in ("pending", "waiting") for s, _k in parents):
        return "waiting"
    if any(s in ("success", "failure") and leads_to(k, s) for s, k in parents):
        return "run"
    return "dnr"


def decide(nodes: Iterable[Node], edges: Iterable[Edge]) -> Decision:
    """The next step of a workflow job whose nodes and edges are given (see the module doc)."""
    by_id = {n.id: n for n in nodes}
    edge_list = [e for e in edges if e.parent in by_id and e.child in by_id]
    parents: dict[int, list[Edge]] = {i: [] for i in by_id}
    handled: set[int] = set()
    for e in edge_list:
        parents[e.child].append(e)
        if e.kind in ("failure", "always"):
            handled.add(e.parent)
    decision = Decision()
    states: dict[int, str] = {}
    for pk in topological(by_id, edge_list):
        node = by_id[pk]
        if node.status is not None:
            states[pk] = "pending" if node.retrying else (outcome_of(node.status) or "pending")
            continue
        if node.do_not_run:
            states[pk] = "dnr"
            continue
        verdict = _state_of(node, [(states.get(e.parent, "waiting"), e.kind) for e in parents[pk]], not parents[pk])
        if verdict == "dnr":
            decision.dnr.append(pk)
            states[pk] = "dnr"
        elif verdict == "waiting":
            states[pk] = "waiting"
        elif node.has_template:
            decision.run.append(pk)
            states[pk] = "pending"
        else:
            decision.missing.append(pk)
            states[pk] = "failure"
    decision.done = not any(s in ("pending", "waiting") for s in states.values())
    if decision.done:
        decision.failed, decision.explanation = _final(by_id, states, handled)
    return decision


def _final(by_id: dict[int, Node], states: dict[int, str], handled: set[int]) -> tuple[bool, str]:
    """(failed, explanation) of a finished workflow job: AWX's ``has_workflow_failed``."""
    unhandled = [pk for pk, s in sorted(states.items()) if s == "failure" and pk not in handled]
    if not unhandled:
        return False, ""
    parts = []
    for pk in unhandled:
        status = by_id[pk].status
        parts.append(f"node {pk} ({status})" if status else f"node {pk} (missing unified job template)")
    return True, f"{NO_HANDLER}: {', '.join(parts)}."

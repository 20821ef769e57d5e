"""The pure workflow decisions (controller.workflows.graph): AWX's scheduling rules of
orchestration.md §2.2/§2.3 on small graphs, with the awx#14009 fix."""
from __future__ import annotations

import pytest

from controller.workflows.graph import NO_HANDLER, Edge, Node, decide, topological


def E(parent: int, child: int, kind: str = "success") -> Edge:
    return Edge(parent, child, kind)


def test_roots_all_run_at_once_and_are_never_dnr():
    d = decide([Node(1), Node(2), Node(3, has_template=True)], [])
    assert (d.run, d.dnr, d.done) == ([1, 2, 3], [], False)


def test_child_waits_while_parent_runs():
    d = decide([Node(1, "running"), Node(2)], [E(1, 2)])
    assert (d.run, d.dnr, d.done) == ([], [], False)


def test_success_edge_runs_after_success():
    d = decide([Node(1, "successful"), Node(2)], [E(1, 2)])
    assert (d.run, d.dnr) == ([2], [])


def test_case1_linear_failure_without_handler_fails_and_child_is_dnr():
    d = decide([Node(1, "failed"), Node(2)], [E(1, 2)])
    assert d.dnr == [2] and d.run == [] and d.done and d.failed
    assert d.explanation.startswith(NO_HANDLER) and "node 1 (failed)" in d.explanation


def test_dnr_propagates_down_the_chain_in_one_decision():
    d = decide([Node(1, "failed"), Node(2), Node(3), Node(4)], [E(1, 2), E(2, 3), E(3, 4, "always")])
    assert d.dnr == [2, 3, 4] and d.done and d.failed


def test_case2_failure_handler_runs_then_success_means_successful():
    nodes, edges = [Node(1, "failed"), Node(2)], [E(1, 2, "failure")]
    assert decide(nodes, edges).run == [2]
    d = decide([Node(1, "failed"), Node(2, "successful")], edges)
    assert d.done and not d.failed and d.explanation == ""


def test_case2_failing_handler_without_handler_fails_the_workflow():
    d = decide([Node(1, "failed"), Node(2, "failed")], [E(1, 2, "failure")])
    assert d.done and d.failed and "node 2 (failed)" in d.explanation and "node 1" not in d.explanation


@pytest.mark.parametrize("status", ["successful", "failed", "error", "canceled"])
def test_case3_always_runs_after_any_outcome(status):
    assert decide([Node(1, status), Node(2)], [E(1, 2, "always")]).run == [2]


def test_always_child_handles_failure():
    d = decide([Node(1, "failed"), Node(2, "successful")], [E(1, 2, "always")])
    assert d.done and not d.failed


@pytest.mark.parametrize("status", ["canceled", "error"])
def test_case4_canceled_or_error_node_is_a_failure(status):
    d = decide([Node(1, status), Node(2), Node(3)], [E(1, 2), E(1, 3, "failure")])
    assert d.dnr == [2] and d.run == [3]
    d = decide([Node(1, status), Node(2)], [E(1, 2)])
    assert d.done and d.failed and f"node 1 ({status})" in d.explanation


def test_success_skips_failure_edges():
    d = decide([Node(1, "successful"), Node(2), Node(3)], [E(1, 2, "failure"), E(1, 3)])
    assert d.dnr == [2] and d.run == [3]


def test_case5_missing_template_follows_failure_path():
    d = decide([Node(1, has_template=False), Node(2), Node(3)], [E(1, 2), E(1, 3, "failure")])
    assert d.missing == [1] and d.dnr == [2] and d.run == [3] and not d.done


def test_case5_missing_template_without_handler_fails_with_message():
    d = decide([Node(1, has_template=False), Node(2)], [E(1, 2)])
    assert d.done and d.failed and d.dnr == [2]
    assert "node 1 (missing unified job template)" in d.explanation


def test_missing_template_not_reached_is_dnr_not_failure():
    d = decide([Node(1, "successful"), Node(2, has_template=False)], [E(1, 2, "failure")])
    assert d.dnr == [2] and d.missing == [] and d.done and not d.failed


def test_missing_template_waits_for_its_parents():
    d = decide([Node(1, "running"), Node(2, has_template=False)], [E(1, 2)])
    assert (d.missing, d.done) == ([], False)


def test_case6_any_convergence_runs_once_both_finished():
    edges = [E(1, 3), E(2, 3)]
    assert decide([Node(1, "successful"), Node(2, "running"), Node(3)], edges).run == []
    d = decide([Node(1, "successful"), Node(2, "failed"), Node(3)], edges)
    assert d.run == [3] and d.dnr == []


def test_any_convergence_dnr_when_no_parent_leads():
    d = decide([Node(1, "failed"), Node(2, "failed"), Node(3)], [E(1, 3), E(2, 3)])
    assert d.dnr == [3] and d.done and d.failed


def test_any_convergence_ignores_dnr_parent():
    # 1 fails -> 2 dnr; 3 ok; 4 <- 2 (success), 3 (success): 4 runs
    d = decide([Node(1, "failed"), Node(2), Node(3, "successful"), Node(4), Node(5, "successful")],
               [E(1, 2), E(1, 5, "failure"), E(2, 4), E(3, 4)])
    assert d.dnr == [2] and d.run == [4]


def test_case7_all_convergence_wrong_edge_is_dnr():
    d = decide([Node(1, "successful"), Node(2, "failed"), Node(3, converge_all=True), Node(4)],
               [E(1, 3), E(2, 3), E(2, 4, "failure")])
    assert d.dnr == [3] and d.run == [4]


@pytest.mark.parametrize("status", ["error", "canceled"])
def test_case7_awx14009_errored_parent_blocks_all_node(status):
    d = decide([Node(1, "successful"), Node(2, status), Node(3, converge_all=True)], [E(1, 3), E(2, 3)])
    assert d.dnr == [3] and d.run == []


def test_all_convergence_dnr_early_while_other_parent_runs():
    d = decide([Node(1, "failed"), Node(2, "running"), Node(3, converge_all=True)], [E(1, 3), E(2, 3)])
    assert d.dnr == [3] and not d.done


def test_all_convergence_waits_then_runs():
    edges = [E(1, 3), E(2, 3, "failure")]
    assert decide([Node(1, "successful"), Node(2, "running"), Node(3, converge_all=True)], edges).run == []
    d = decide([Node(1, "successful"), Node(2, "failed"), Node(3, converge_all=True)], edges)
    assert d.run == [3] and d.dnr == []


def test_all_convergence_dnr_parent_makes_dnr():
    d = decide([Node(1, "failed"), Node(2), Node(3, "successful"), Node(4, converge_all=True)],
               [E(1, 2), E(2, 4), E(3, 4)])
    assert d.dnr == [2, 4]


def test_failed_node_whose_handler_is_dnr_counts_as_handled():
    # 2 fails, its failure handler 4 is an ALL node that 3's success does not reach -> dnr
    d = decide([Node(1, "successful"), Node(2, "failed"), Node(3, "failed"), Node(4, converge_all=True),
                Node(5, "successful")],
               [E(1, 2), E(2, 4, "failure"), E(3, 4), E(3, 5, "failure")])
    assert d.dnr == [4] and d.done and not d.failed


def test_retrying_node_blocks_and_is_not_failed():
    d = decide([Node(1, "failed", retrying=True), Node(2)], [E(1, 2)])
    assert (d.run, d.dnr, d.done) == ([], [], False)


def test_approval_pending_blocks():
    d = decide([Node(1, "pending"), Node(2), Node(3)], [E(1, 2), E(1, 3, "failure")])
    assert (d.run, d.dnr, d.done) == ([], [], False)


def test_done_all_successful():
    d = decide([Node(1, "successful"), Node(2, "successful")], [E(1, 2)])
    assert d.done and not d.failed and d.run == [] and d.dnr == []


def test_already_dnr_nodes_are_not_reported_again():
    d = decide([Node(1, "failed"), Node(2, do_not_run=True), Node(3, "successful")],
               [E(1, 2), E(1, 3, "failure")])
    assert d.dnr == [] and d.done and not d.failed


def test_empty_workflow_is_done_and_successful():
    d = decide([], [])
    assert d.done and not d.failed


def test_topological_is_parents_first_and_stable():
    order = topological([5, 3, 1, 2, 4], [E(5, 1), E(3, 1), E(1, 2), E(4, 2)])
    assert order.index(5) < order.index(1) < order.index(2) and order.index(4) < order.index(2)
    assert order == topological([1, 2, 3, 4, 5], [E(3, 1), E(5, 1), E(4, 2), E(1, 2)])


def test_cycle_does_not_hang():
    d = decide([Node(1), Node(2)], [E(1, 2), E(2, 1)])
    assert d.run == [] and not d.done   # the API refuses cycles; one in the data never runs


def test_large_chain_is_linear():
    n = 3000
    nodes = [Node(i, "successful") for i in range(1, n)] + [Node(n)]
    d = decide(nodes, [E(i, i + 1) for i in range(1, n)])
    assert d.run == [n]

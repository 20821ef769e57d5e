"""check_messages's structural errors (AWX's texts), pinned by event and approval sub-event:
None means "not given" at both levels, any other non-dict is named with its type."""
from __future__ import annotations

from controller.notifications.messages import check_messages


def test_structure_errors_name_the_event_and_the_approval_sub_event():
    errors = check_messages({"started": "text", "success": None, "bogus": {},
                             "workflow_approval": {"running": ["x"], "denied": None, "late": {}}}, None)
    assert errors == [
        "Expected dict for event 'started', found <class 'str'>",
        "Event 'bogus' invalid, must be one of 'started', 'success', 'error', or 'workflow_approval'",
        "Expected dict for workflow approval event 'running', found <class 'list'>",
        "Workflow Approval event 'late' invalid, must be one of 'running', 'approved', 'timed_out', or 'denied'",
    ]
    assert check_messages({"workflow_approval": 5}, None) == [
        "Expected dict for event 'workflow_approval', found <class 'int'>"]
    assert check_messages({"workflow_approval": None, "error": None}, None) == []


def test_every_given_template_is_test_rendered_at_both_levels():
    assert check_messages({"error": {"message": "{{ job.name }} failed", "body": None},
                           "workflow_approval": {"approved": {"message": "{{ approval_node_name }} ok"}}},
                          None) == []
    assert check_messages({"success": {"message": "{{ nope }}"},
                           "workflow_approval": {"denied": {"body": "{{ nada }}"}}}, None) == [
        "Field 'nope' unavailable", "Field 'nada' unavailable"]

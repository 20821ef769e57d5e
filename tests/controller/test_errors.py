"""errors.explain: an error as one line of a job explanation (what a refused scheduled launch
or a workflow node whose job could not start records)."""
from __future__ import annotations

from controller.errors import APIError, PermissionDenied, ValidationError, explain
from controller.jobs.scheduler import _reason
from controller.workflows.node_launch import refusal


def test_an_api_error_body_becomes_one_line_by_field():
    exc = ValidationError({"inventory": ["Required.", "Bad."], "__all__": ["Clash."], "limit": "x"})
    assert explain(exc) == "inventory: Required.; Bad. | Clash. | limit: x"
    assert explain(PermissionDenied()) == "You do not have permission to perform this action."
    assert explain(APIError(["a list body"])) == "['a list body']"
    assert explain(RuntimeError("disk full")) == "disk full"


def test_the_scheduler_and_the_workflow_engine_say_it_the_same_way():
    exc = ValidationError({"credentials": ["Missing."], "detail": "No inventory."})
    assert _reason(exc) == "Scheduled launch failed: credentials: Missing. | No inventory."
    assert refusal(exc) == "Workflow node could not start its job: credentials: Missing. | No inventory."
    assert refusal(OSError("gone")) == "Workflow node could not start its job: gone"

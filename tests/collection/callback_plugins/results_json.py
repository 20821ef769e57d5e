"""Test-only callback: append every task result of localhost to $RESULTS_JSON (one JSON line
each), so tests read results without an extra task per play."""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: results_json
type: aggregate
short_description: write task results to a JSON-lines file (tests only)
description: [Writes each task result to the file named by RESULTS_JSON.]
requirements: [enabled in ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_json"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, **flags):
        path = os.environ.get("RESULTS_JSON")
        if not path:
            return
        data = dict(result._result)
        data.update(flags)
        with open(path, "a") as f:
            f.write(json.dumps({"task": result._task.get_name(), "result": data}, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._write(result, skipped=True)

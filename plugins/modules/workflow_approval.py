#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule

DECIDED = {"approve": "successful", "deny": "failed"}


def find_approval(api, workflow_job_id, name):
    """The approval spawned by the node named ``name`` (identifier or approval name), or None."""
    for node in api.list("workflow_job_nodes", {"workflow_job": workflow_job_id}):
        job = (node.get("summary_fields") or {}).get("job") or {}
        if not node.get("job") or name not in (node.get("identifier"), job.get("name")):
            continue
        if job.get("type") not in (None, "workflow_approval"):
            raise ControllerError("node %s of workflow job %s runs a %s, not an approval"
                                  % (name, workflow_job_id, job.get("type")))
        return api.get("workflow_approvals/%s" % node["job"])
    return None


def wait_for_approval(module):
    """Poll until the node has spawned its approval, or fail once ``timeout`` is over."""
    p, api = module.params, module.api
    deadline = time.time() + p["timeout"] if p["timeout"] else None
    while True:
        approval = find_approval(api, p["workflow_job_id"], p["name"])
        if approval is not None:
            return approval
        workflow = api.get("workflow_jobs/%s" % p["workflow_job_id"])
        if workflow.get("finished") or workflow.get("status") in ("successful", "failed", "error", "canceled"):
            raise ControllerError("workflow job %s ended %s without reaching approval %s"
                                  % (p["workflow_job_id"], workflow.get("status"), p["name"]))
        if deadline is not None and time.time() > deadline:
            raise ControllerError("timed out after %ss waiting for workflow job %s to reach approval %s"
                                  % (p["timeout"], p["workflow_job_id"], p["name"]))
        time.sleep(p["interval"] or 1.0)


def main():
    module = ControllerModule(argument_spec=dict(
        workflow_job_id=dict(type="int", required=True), name=dict(type="str", required=True),
        action=dict(type="str", choices=["approve", "deny"], default="approve"), comment=dict(type="str"),
        timeout=dict(type="float", default=60), interval=dict(type="float", default=1.0),
    ), supports_check_mode=True)
    p, api = module.params, module.api
    try:
        approval = wait_for_approval(module)
        url = "workflow_approvals/%s" % approval["id"]
        result = dict(changed=False, id=approval["id"], status=approval["status"], approval=approval)
        if approval["status"] == DECIDED[p["action"]]:
            module.exit_json(**result)
        if approval["status"] != "pending":
            module.fail_json(msg="approval %s already ended %s" % (approval["id"], approval["status"]), **result)
        result["changed"] = True
        if not module.check_mode:
            api.post("%s/%s/" % (url, p["action"]), {"comment": p["comment"]} if p.get("comment") else {})
            approval = api.get(url)
            result.update(status=approval["status"], approval=approval)
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

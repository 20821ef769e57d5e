#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: workflow_approval
short_description: Approve or deny the approval step of a running workflow job
version_added: 0.1.0
description:
  - Waits until the workflow job reaches the approval node named by O(name), then approves or denies it
    (C(POST /api/v2/workflow_approvals/N/approve/) or C(deny/)).
  - Needs a superuser or the approve role of the workflow job template (its admins and the organization's
    approvers have it); execute alone is not enough.
  - With a quorum (C(required_approvals) above 1) the approval stays pending until enough users approved;
    each user votes once.
  - Reports no change when the approval already ended the way O(action) asks; fails when it ended the other way.
    In check mode the approval is found but not decided.
extends_documentation_fragment:
  - turret.controller.auth
options:
  workflow_job_id:
    description:
      - Id of the workflow job, for example the C(id) returned by M(turret.controller.workflow_launch).
    type: int
    required: true
  name:
    description:
      - The approval step, by the identifier of its node or by the name of the approval.
    type: str
    required: true
  action:
    description:
      - Approve (the node's success edges run) or deny (its failure edges run).
    type: str
    choices: [approve, deny]
    default: approve
  comment:
    description:
      - Why; stored with the vote (C(/api/v2/workflow_approvals/N/votes/)).
    type: str
  timeout:
    description:
      - Seconds to wait for the workflow job to reach the approval node. C(0) waits forever.
    type: float
    default: 60
  interval:
    description:
      - Seconds between two looks at the workflow job's nodes.
    type: float
    default: 1.0
'''

EXAMPLES = r'''
- name: Launch without waiting
  turret.controller.workflow_launch:
    name: release
  register: release

- name: Approve its gate
  turret.controller.workflow_approval:
    workflow_job_id: "{{ release.id }}"
    name: approve
    comment: change window open
'''

RETURN = r'''
id:
  description: Id of the approval (a unified job of type C(workflow_approval)).
  returned: always
  type: int
  sample: 12
status:
  description: Status of the approval after the decision (C(pending) while a quorum is not reached).
  returned: always
  type: str
  sample: successful
approval:
  description: The approval as the API returns it.
  returned: always
  type: dict
'''

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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: workflow_job_template_node
short_description: Manage one node of a workflow job template
version_added: 0.1.0
description:
- Create, update or delete one node of a workflow graph (C(/api/v2/workflow_job_template_nodes/)), found by its
  O(identifier) within O(workflow_job_template). M(turret.controller.workflow_job_template) with
  C(workflow_nodes) manages the whole graph at once; this module changes one node and its edges.
- The run options (O(limit), O(job_type), O(job_tags) ...) are prompts given to the node's job, used only where
  the node's template asks for them on launch. Left out, they are left as they are.
extends_documentation_fragment:
- turret.controller.resource
- turret.controller.job_options
- turret.controller.job_options.playbook
options:
  identifier:
    description:
    - Identifies the node within its workflow (unique there); copied to the nodes of every workflow job.
    type: str
    required: true
  new_identifier:
    description:
    - Rename the node found by O(identifier).
    type: str
  workflow_job_template:
    type: str
    description:
    - The workflow job template of the node, by name or id (or a C(name++organization) named URL).
      Set when the node is created, never moved.
  unified_job_template:
    type: str
    description:
    - What the node runs, looked up among all templates (job templates, projects, inventory sources,
      workflow job templates) by id or unique name. Use O(approval) for an approval step.
  approval:
    type: dict
    description:
    - Make the node an approval step with its own approval template (C(create_approval_template/)) and keep
      that template's C(name), C(description), C(timeout), C(required_approvals) and C(on_timeout) as given.
  all_parents_must_converge:
    type: bool
    description:
    - Run only when every parent took an edge to this node (ALL); by default one is enough (ANY).
  extra_data:
    type: dict
    description:
    - Variables given to the node's job, over its template's and under the workflow's and the artifacts of earlier nodes.
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The hosts of the node's job, when its template prompts for an inventory.
  job_slice_count:
    type: int
    description:
    - Slices asked for the node's job. Stored for AWX compatibility; Turret runs every job as one slice.
  timeout:
    type: int
    description:
    - Seconds the node's job may run, when its template prompts for a timeout.
  execution_environment:
    type: str
    description:
    - The execution environment, by name or id, the node's job runs with, when its template prompts for one.
  start_at_task:
    type: str
    description:
    - Start the node's playbook at this task (a Turret per-node override).
  force_handlers:
    type: bool
    description:
    - Run notified handlers on failed hosts too, for the node's job only.
  become_enabled:
    type: bool
    description:
    - Run the node's playbook with privilege escalation, whatever its template says.
  max_retries:
    type: int
    description:
    - Launch the node's job again up to this many times when it fails (C(0) never).
  retry_delay:
    type: int
    description:
    - Seconds between a failed attempt and the next one.
  success_nodes:
    type: list
    elements: str
    description:
    - Identifiers of the nodes run when this one succeeds (exactly this list).
  failure_nodes:
    type: list
    elements: str
    description:
    - Identifiers of the nodes run when this one fails (exactly this list).
  always_nodes:
    type: list
    elements: str
    description:
    - Identifiers of the nodes run when this one ends, whatever its outcome (exactly this list).
  credentials:
    type: list
    elements: str
    description:
    - Names or ids of credentials given to the node's job, when its template prompts for credentials.
  labels:
    type: list
    elements: str
    description:
    - Names or ids of labels given to the node's job, when its template prompts for labels.
'''

EXAMPLES = r'''
- name: A node that deploys after the build node succeeds
  turret.controller.workflow_job_template_node:
    identifier: deploy
    workflow_job_template: release
    unified_job_template: deploy site
    limit: web

- name: The build node, linked to it
  turret.controller.workflow_job_template_node:
    identifier: build
    workflow_job_template: release
    unified_job_template: build
    success_nodes: [deploy]

- name: An approval gate
  turret.controller.workflow_job_template_node:
    identifier: gate
    workflow_job_template: release
    approval: {name: "Ship it?", timeout: 3600}
'''

RETURN = r'''
id:
  description: Id of the node (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The node as the API returns it (after the change; the planned object in check mode).
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    Assoc, Resource, job_options_spec, run_resource)
from ansible_collections.turret.controller.plugins.module_utils.workflow import Sync

NODE = Assoc("workflow_job_template_nodes", identity="identifier", scope=("workflow_job_template",))

RESOURCE = Resource(
    endpoint="workflow_job_template_nodes",
    identity="identifier",
    fields=dict(
        job_options_spec(playbook=True),
        all_parents_must_converge=dict(type='bool'),
        extra_data=dict(type='dict'),
        job_slice_count=dict(type='int'),
        timeout=dict(type='int'),
        start_at_task=dict(type='str'),
        force_handlers=dict(type='bool'),
        become_enabled=dict(type='bool'),
        max_retries=dict(type='int'),
        retry_delay=dict(type='int'),
    ),
    fks=dict(workflow_job_template="workflow_job_templates", inventory="inventories",
             unified_job_template="unified_job_templates", execution_environment="execution_environments"),
    scope=("workflow_job_template",),
    create_only=("workflow_job_template",),
    associations=dict(credentials=Assoc("credentials"), labels=Assoc("labels"),
                      success_nodes=NODE, failure_nodes=NODE, always_nodes=NODE),
)

EXTRA = dict(approval=dict(type="dict"))


def after(module, result):
    """Keep the node's approval template as ``approval`` says."""
    wanted = module.params["approval"]
    if wanted is None:
        return
    if not wanted.get("name"):
        module.fail_json(msg="approval needs a name")
    node = result["object"]
    sync = Sync(module, None)
    if node.get("url"):
        sync.ensure_approval(node["identifier"], node, wanted)
    else:
        sync.changes.append("create approval %s" % wanted["name"])
    if sync.changes:
        result["changed"] = True
        result.setdefault("diff", {"before": {}, "after": {}})["after"]["approval"] = wanted


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

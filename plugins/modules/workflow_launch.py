#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: workflow_launch
short_description: Launch a workflow job template
version_added: 0.1.0
description:
  - Launch a workflow job template (C(POST /api/v2/workflow_job_templates/N/launch/)), optionally waiting
    for the workflow job to finish.
  - The prompts are only accepted where the workflow job template asks for them on launch (C(ask_*_on_launch));
    the controller reports the others as ignored. A workflow's prompts reach a node's job only where that
    node's template asks for them too.
  - Always reports a change (a workflow job is started); in check mode nothing is launched.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.wait
options:
  name:
    description:
      - The workflow job template, by name, id, or C(name++organization) named URL.
    type: str
    required: true
    aliases: [workflow_template]
  organization:
    description:
      - Narrows the lookup by O(name) to this organization (name or id).
    type: str
  inventory:
    description: Inventory for the nodes that prompt for one, instead of the workflow's (by name or id).
    type: str
  limit:
    description: Host pattern for the nodes that prompt for a limit.
    type: str
  scm_branch:
    description: Project branch for the nodes that prompt for one.
    type: str
  job_tags:
    description: Comma-separated tags for the nodes that prompt for tags.
    type: str
  skip_tags:
    description: Comma-separated tags to skip, for the nodes that prompt for them.
    type: str
  labels:
    description: Names or ids of the labels of the workflow job, instead of the template's.
    type: list
    elements: str
  extra_vars:
    description: Extra variables of the workflow job (they win over every node's variables).
    type: dict
  wait:
    description:
      - Wait until the workflow job is finished; the task fails unless it ends C(successful).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Launch a release and wait for it
  turret.controller.workflow_launch:
    name: release
    organization: Engineering
    extra_vars: {version: "1.2"}
    wait: true
    timeout: 1800
  register: release
'''

RETURN = r'''
id:
  description: Id of the workflow job (null in check mode).
  returned: always
  type: int
  sample: 7
status:
  description: Status of the workflow job (its final status when waited for).
  returned: always
  type: str
  sample: successful
job:
  description: The workflow job as the API returns it.
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerModule, launch_and_wait, wait_spec)
from ansible_collections.turret.controller.plugins.module_utils.templates import launch_prepare

# The workflow launch prompts passed as given (awx-api.md 7.2); inventory and labels are resolved below.
PROMPTS = dict(limit=dict(type="str"), scm_branch=dict(type="str"), job_tags=dict(type="str"),
               skip_tags=dict(type="str"), extra_vars=dict(type="dict"))


def main():
    spec = dict(name=dict(type="str", required=True, aliases=["workflow_template"]),
                organization=dict(type="str"), inventory=dict(type="str"),
                labels=dict(type="list", elements="str"), **PROMPTS)
    spec.update(wait_spec(default_wait=False))
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    prepare = launch_prepare("workflow_job_templates", PROMPTS, dict(inventory="inventories", labels="labels"),
                             scope=dict(organization="organizations"))
    launch_and_wait(module, prepare, "workflow_jobs", show_body=True)


if __name__ == '__main__':
    main()

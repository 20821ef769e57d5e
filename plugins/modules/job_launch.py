#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: job_launch
short_description: Launch a job template
version_added: 0.1.0
description:
  - Launch a job template (C(POST /api/v2/job_templates/N/launch/)), optionally waiting for the job.
  - The prompts are only accepted by the controller when the template asks for them on launch
    (C(ask_*_on_launch)); the controller reports ignored prompts.
  - Always reports a change (a job is started); in check mode nothing is launched.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.job_options
  - turret.controller.job_options.playbook
  - turret.controller.wait
options:
  name:
    description:
      - The job template, by name, id, or C(name++organization) named URL.
    type: str
    required: true
    aliases: [job_template]
  inventory:
    description: Inventory to use instead of the template's (by name or id).
    type: str
  credentials:
    description: Credentials to use instead of the template's (names or ids).
    type: list
    elements: str
  extra_vars:
    description: Extra variables for the job.
    type: dict
  execution_environment:
    description: Execution environment to run with instead of the template's (by name or id).
    type: str
  instance_groups:
    description: Instance groups to run in instead of the template's, most preferred first (names or ids).
    type: list
    elements: str
  wait:
    description:
      - Wait until the job is finished; the task fails unless it ends C(successful).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Launch and wait
  turret.controller.job_launch:
    name: deploy site
    extra_vars:
      version: "1.2"
    limit: web
    wait: true
  register: launched

- name: Launch now, wait later
  turret.controller.job_launch:
    name: deploy site++Engineering
  register: job

- name: Wait for it
  turret.controller.job_wait:
    job_id: "{{ job.id }}"
'''

RETURN = r'''
id:
  description: Id of the job (null in check mode).
  returned: always
  type: int
  sample: 7
status:
  description: Status of the job (its final status when waited for).
  returned: always
  type: str
  sample: successful
job:
  description: The job as the API returns it.
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerModule, job_options_spec, launch_and_wait, wait_spec)
from ansible_collections.turret.controller.plugins.module_utils.templates import launch_prepare

# The controller's launch prompts (controller/prompts.py) passed as given; inventory and credentials
# are resolved from names below.  tests/collection/test_completeness.py keeps the module's prompt
# options equal to the controller's (with the reasons for the few it leaves out).
PROMPTS = dict(job_options_spec(playbook=True), extra_vars=dict(type="dict"))


def main():
    spec = dict(name=dict(type="str", required=True, aliases=["job_template"]), inventory=dict(type="str"),
                credentials=dict(type="list", elements="str"), execution_environment=dict(type="str"),
                instance_groups=dict(type="list", elements="str"), **PROMPTS)
    spec.update(wait_spec(default_wait=False))
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    prepare = launch_prepare("job_templates", PROMPTS, dict(inventory="inventories", credentials="credentials",
                                                            execution_environment="execution_environments",
                                                            instance_groups="instance_groups"))
    launch_and_wait(module, prepare, "jobs", show_body=True)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ad_hoc_command
short_description: Run an ad hoc command on an inventory
version_added: 0.1.0
description:
  - Run one module on the hosts of an inventory (C(POST /api/v2/ad_hoc_commands/)) and by default wait for it.
  - The controller only allows the modules of its C(AD_HOC_COMMANDS) setting.
  - Always reports a change; in check mode nothing is started.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.wait
  - turret.controller.job_options
options:
  inventory:
    description: The inventory, by name, id or C(name++organization) named URL.
    type: str
    required: true
  module_name:
    description: The module to run.
    type: str
    default: command
  module_args:
    description: Arguments of the module.
    type: str
  credential:
    description: Machine credential (name or id).
    type: str
  extra_vars:
    description: Extra variables.
    type: dict
  become_enabled:
    description: Run with privilege escalation.
    type: bool
'''

EXAMPLES = r'''
- name: Ping every host
  turret.controller.ad_hoc_command:
    inventory: Production
    module_name: ping
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
  type: dict'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerModule, job_options_spec, launch_and_wait, wait_spec)

FIELDS = dict(job_options_spec(), module_name=dict(type="str", default="command"), module_args=dict(type="str"),
              extra_vars=dict(type="dict"), become_enabled=dict(type="bool"))


def main():
    spec = dict(inventory=dict(type="str", required=True), credential=dict(type="str"), **FIELDS)
    spec.update(wait_spec())
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)

    def prepare(p, api):
        body = dict((k, p[k]) for k in FIELDS if p.get(k) is not None)
        body["inventory"] = api.resolve_id("inventories", p["inventory"])
        if p.get("credential"):
            body["credential"] = api.resolve_id("credentials", p["credential"])
        return "ad_hoc_commands", body

    launch_and_wait(module, prepare, "ad_hoc_commands")


if __name__ == '__main__':
    main()

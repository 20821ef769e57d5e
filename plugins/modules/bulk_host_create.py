#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bulk_host_create
short_description: Add many hosts to an inventory in one request
version_added: 0.1.0
description:
  - Create many hosts of one inventory at once (C(POST /api/v2/bulk/host_create/)).
  - All or nothing - when one host is refused (a name the inventory already has, a bad field, more hosts
    than the controller's C(BULK_HOST_MAX_CREATE) setting allows) none is created and the task fails with
    the controller's message.
  - Always reports a change (the hosts are new); in check mode nothing is created.
extends_documentation_fragment:
  - turret.controller.auth
options:
  inventory:
    description:
      - The inventory the hosts are added to, by name, id or C(name++organization) named URL.
    type: str
    required: true
  hosts:
    description:
      - The hosts to create.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the host (unique in the inventory).
        type: str
        required: true
      description:
        description: Description of the host.
        type: str
      enabled:
        description: Whether the host is available for running jobs.
        type: bool
      variables:
        description: Host variables.
        type: dict
      instance_id:
        description: Identifier of the host in an external source.
        type: str
'''

EXAMPLES = r'''
- name: Add two hosts
  turret.controller.bulk_host_create:
    inventory: web servers
    hosts:
      - name: web1.example.com
        variables: {http_port: 8080}
      - name: web2.example.com
        enabled: false
'''

RETURN = r'''
hosts:
  description: The created hosts (with their ids), as the controller returns them.
  returned: success, not in check mode
  type: list
  elements: dict
'''

import json

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule

HOST_OPTIONS = dict(name=dict(type="str", required=True), description=dict(type="str"), enabled=dict(type="bool"),
                    variables=dict(type="dict"), instance_id=dict(type="str"))


def main():
    module = ControllerModule(argument_spec=dict(
        inventory=dict(type="str", required=True),
        hosts=dict(type="list", elements="dict", required=True, options=HOST_OPTIONS),
    ), supports_check_mode=True)
    p = module.params
    try:
        inventory = module.api.resolve_id("inventories", p["inventory"])
        hosts = []
        for host in p["hosts"]:
            given = dict((k, v) for k, v in host.items() if v is not None)
            if "variables" in given:
                given["variables"] = json.dumps(given["variables"])
            hosts.append(given)
        if module.check_mode:
            module.exit_json(changed=True, hosts=[])
        result = module.api.post("bulk/host_create", dict(inventory=inventory, hosts=hosts))
        module.exit_json(changed=True, hosts=result.get("hosts", []))
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

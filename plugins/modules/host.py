#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: host
short_description: Manage hosts of an inventory
version_added: 0.1.0
description:
- Create, update or delete a host of a Turret controller (C(/api/v2/hosts/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the host; identifies it (with inventory).
    type: str
    required: true
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The inventory of the host. With O(name) it identifies the host, so every task needs it.
  enabled:
    type: bool
    description:
    - Is this host online and available for running jobs?
  instance_id:
    type: str
    description:
    - The value used by the remote inventory source to uniquely identify the host
  variables:
    type: raw
    description:
    - Host variables in JSON or YAML format.
    - A dict, or YAML/JSON text; compared as data.
'''

EXAMPLES = r'''
- name: A host
  turret.controller.host:
    name: web1.example.com
    inventory: Production
    variables:
      ansible_host: 10.0.0.11
'''

RETURN = r'''
id:
  description: Id of the object (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The object as the API returns it (after the change; the planned object in check mode).
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="hosts",
    fields=dict(
        description=dict(type='str'),
        enabled=dict(type='bool'),
        instance_id=dict(type='str'),
        variables=dict(type='raw'),
    ),
    fks=dict(inventory="inventories"),
    scope=('inventory',),
    vars_fields=('variables',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

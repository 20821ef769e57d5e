#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: group
short_description: Manage groups of an inventory (with their hosts and child groups)
version_added: 0.1.0
description:
- Create, update or delete a group of a Turret controller (C(/api/v2/groups/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the group; identifies it (with inventory).
    type: str
    required: true
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The inventory of the group. With O(name) it identifies the group, so every task needs it.
  variables:
    type: raw
    description:
    - Group variables in JSON or YAML format.
    - A dict, or YAML/JSON text; compared as data.
  hosts:
    description:
    - Names of the hosts of the inventory that are direct members (exactly this list).
    type: list
    elements: str
  children:
    description:
    - Names of the groups of the inventory that are children of this group (exactly this list).
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: A group with two hosts and a child group
  turret.controller.group:
    name: web
    inventory: Production
    hosts: [web1.example.com, web2.example.com]
    children: [web_eu]
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

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource

RESOURCE = Resource(
    endpoint="groups",
    fields=dict(
        description=dict(type='str'),
        variables=dict(type='raw'),
    ),
    fks=dict(inventory="inventories"),
    scope=('inventory',),
    vars_fields=('variables',),
    associations=dict(hosts=Assoc("hosts", scope=("inventory",)), children=Assoc("groups", relation="children", scope=("inventory",))),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: inventory
short_description: Manage inventories
version_added: 0.1.0
description:
- Create, update or delete an inventory of a Turret controller (C(/api/v2/inventories/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the inventory; identifies it (with organization).
    type: str
    required: true
  organization:
    type: str
    description:
    - The organization, by name or id (or a C(name++organization) named URL).
    - Organization containing this inventory.
  kind:
    type: str
    choices:
    - ''
    - smart
    description:
    - Kind of inventory being represented.
  host_filter:
    type: str
    description:
    - Filter that will be applied to the hosts of this inventory.
  prevent_instance_group_fallback:
    type: bool
    description:
    - Jobs on this inventory do not fall back to its organization's instance groups.
  variables:
    type: raw
    description:
    - Inventory variables in JSON or YAML format.
    - A dict, or YAML/JSON text; compared as data.
  instance_groups:
    type: list
    elements: str
    description:
    - Names or ids of the instance groups the jobs on this inventory run in, most preferred first (exactly this list).
'''

EXAMPLES = r'''
- name: An inventory
  turret.controller.inventory:
    name: Production
    organization: Engineering
    variables:
      ntp_server: ntp.example.com
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
    endpoint="inventories",
    fields=dict(
        description=dict(type='str'),
        kind=dict(type='str', choices=['', 'smart']),
        host_filter=dict(type='str'),
        prevent_instance_group_fallback=dict(type='bool'),
        variables=dict(type='raw'),
    ),
    fks=dict(organization="organizations"),
    scope=('organization',),
    vars_fields=('variables',),
    associations=dict(instance_groups=Assoc("instance_groups")),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

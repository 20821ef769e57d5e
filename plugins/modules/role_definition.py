#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: role_definition
short_description: Manage custom role definitions
version_added: 0.1.0
description:
- Create, update or delete a custom role definition of a Turret controller (C(/api/v2/role_definitions/)),
  a set of permissions on one type of object, assignable with M(turret.controller.role_user_assignment) and
  M(turret.controller.role_team_assignment).
- Managed role definitions (one per object role, such as C(Inventory Admin) or C(JobTemplate Execute)) exist
  already and cannot be changed.
- A custom definition can be assigned when its permissions are exactly those of one object role of its type
  (for example C(awx.view_jobtemplate) and C(awx.execute_jobtemplate)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the role definition; identifies it.
    type: str
    required: true
  permissions:
    description:
    - The permissions the role grants, as C(awx.<action>_<model>) (C(awx.view_inventory), C(awx.use_inventory)).
      Compared in the order given.
    - Required when the role definition is created.
    type: list
    elements: str
  content_type:
    description:
    - The type of object the role applies to, as C(awx.<model>) (C(awx.inventory), C(awx.jobtemplate)); fixed
      once the role definition exists.
    - Required when the role definition is created.
    type: str
'''

EXAMPLES = r'''
- name: Run one job template
  turret.controller.role_definition:
    name: Launch only
    content_type: awx.jobtemplate
    permissions:
      - awx.view_jobtemplate
      - awx.execute_jobtemplate
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
    endpoint="role_definitions",
    fields=dict(
        description=dict(type='str'),
        permissions=dict(type='list', elements='str'),
        content_type=dict(type='str'),
    ),
    create_only=('content_type',),
    required_on_create=('permissions', 'content_type'),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

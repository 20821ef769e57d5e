#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: team
short_description: Manage teams
version_added: 0.1.0
description:
- Create, update or delete a team of a Turret controller (C(/api/v2/teams/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the team; identifies it (with organization).
    type: str
    required: true
  organization:
    type: str
    description:
    - The organization, by name or id (or a C(name++organization) named URL).
    - The organization this team belongs to.
'''

EXAMPLES = r'''
- name: A team
  turret.controller.team:
    name: Ops
    organization: Engineering
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
    endpoint="teams",
    fields=dict(
        description=dict(type='str'),
    ),
    fks=dict(organization="organizations"),
    scope=('organization',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

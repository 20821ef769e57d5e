#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: organization
short_description: Manage organizations
version_added: 0.1.0
description:
- Create, update or delete an organization of a Turret controller (C(/api/v2/organizations/)).
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.notifications
- turret.controller.notifications.approvals
options:
  name:
    description:
    - Name of the organization; identifies it. Digits alone also match an id.
    type: str
    required: true
  max_hosts:
    type: int
    description:
    - Maximum number of hosts allowed to be managed by this organization.
  default_environment:
    type: str
    description:
    - The execution environment, by name or id, of the organization's jobs that name none closer.
  instance_groups:
    type: list
    elements: str
    description:
    - Names or ids of the instance groups the organization's jobs run in, most preferred first (exactly this list).
  galaxy_credentials:
    type: list
    elements: str
    description:
    - Names or ids of the Ansible Galaxy / Automation Hub credentials its projects' updates install
      C(collections/requirements.yml) and C(roles/requirements.yml) from, tried in this order (exactly this list).
'''

EXAMPLES = r'''
- name: An organization
  turret.controller.organization:
    name: Engineering
    description: The engineers
    max_hosts: 100
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

from ansible_collections.turret.controller.plugins.module_utils.module import (
    Assoc, Resource, notification_associations, run_resource)

RESOURCE = Resource(
    endpoint="organizations",
    fields=dict(
        description=dict(type='str'),
        max_hosts=dict(type='int'),
    ),
    fks=dict(default_environment="execution_environments"),
    associations=dict(instance_groups=Assoc("instance_groups"),
                      galaxy_credentials=Assoc("credentials", "galaxy_credentials", ordered=True),
                      **notification_associations(approvals=True)),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

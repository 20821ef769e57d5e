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
    Resource, notification_associations, run_resource)

RESOURCE = Resource(
    endpoint="organizations",
    fields=dict(
        description=dict(type='str'),
        max_hosts=dict(type='int'),
    ),
    associations=notification_associations(approvals=True),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

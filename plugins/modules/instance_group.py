#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: instance_group
short_description: Manage instance groups
version_added: 0.1.0
description:
- Create, update or delete an instance group of a Turret controller (C(/api/v2/instance_groups/)).
- The controller's own instance is in the seeded groups C(controlplane) and C(default); a group's
  O(max_concurrent_jobs) and O(max_forks) limit the jobs that run in it at once (the others wait, pending).
extends_documentation_fragment:
- turret.controller.resource
options:
  name:
    description:
    - Name of the instance group; identifies it. Digits alone also match an id.
    type: str
    required: true
  new_name:
    description:
    - Rename an existing instance group to this.
    type: str
  credential:
    type: str
    description:
    - The credential, by name or id (AWX uses it for container groups).
  is_container_group:
    type: bool
    description:
    - Whether the group runs jobs in Kubernetes pods. Turret runs no Kubernetes and refuses C(true).
  max_concurrent_jobs:
    type: int
    description:
    - Maximum number of jobs running in the group at once (C(0) means no limit).
  max_forks:
    type: int
    description:
    - Maximum number of forks the group's running jobs take together (C(0) means no limit).
  policy_instance_percentage:
    type: int
    description:
    - Minimum percentage of all instances that will be automatically assigned to this group.
  policy_instance_minimum:
    type: int
    description:
    - Static minimum number of instances that will be automatically assigned to this group.
  policy_instance_list:
    type: list
    elements: str
    description:
    - Hostnames of instances that will be assigned to this group.
  pod_spec_override:
    type: str
    description:
    - A custom Kubernetes pod spec (container groups only, refused by Turret).
  instances:
    type: list
    elements: str
    description:
    - Hostnames or ids of the instances of the group (exactly this list).
'''

EXAMPLES = r'''
- name: A group that runs one job at a time
  turret.controller.instance_group:
    name: serial
    max_concurrent_jobs: 1
    instances:
    - "{{ controller_hostname }}"
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
    endpoint="instance_groups",
    fields=dict(
        is_container_group=dict(type='bool'),
        max_concurrent_jobs=dict(type='int'),
        max_forks=dict(type='int'),
        policy_instance_percentage=dict(type='int'),
        policy_instance_minimum=dict(type='int'),
        policy_instance_list=dict(type='list', elements='str'),
        pod_spec_override=dict(type='str'),
    ),
    fks=dict(credential="credentials"),
    associations=dict(instances=Assoc("instances", identity="hostname")),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

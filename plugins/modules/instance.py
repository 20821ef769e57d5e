#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: instance
short_description: Modify instances
version_added: 0.1.0
description:
- Change an instance of a Turret controller (C(/api/v2/instances/)); the controller itself is one.
- Instances are neither created nor deleted (Turret runs no mesh); O(state=absent) is refused.
extends_documentation_fragment:
- turret.controller.resource
options:
  hostname:
    description:
    - Hostname of the instance; identifies it. Digits alone also match an id.
    type: str
    required: true
  new_hostname:
    description:
    - Not supported (an instance's hostname never changes); refused by the controller.
    type: str
  capacity_adjustment:
    type: float
    description:
    - Where the capacity lies between the CPU and the memory capacity (C(0) the smaller, C(1) the larger).
  enabled:
    type: bool
    description:
    - A disabled instance has no capacity.
  managed_by_policy:
    type: bool
    description:
    - Whether the instance groups' policies may assign the instance.
  node_type:
    type: str
    choices:
    - control
    - execution
    - hybrid
    - hop
    description:
    - Role that this node plays in the mesh (set when an instance is created).
  node_state:
    type: str
    choices:
    - provisioning
    - provision-fail
    - installed
    - ready
    - unavailable
    - deprovisioning
    - deprovision-fail
    description:
    - Indicates the current life cycle stage of this instance.
  listener_port:
    type: int
    description:
    - Port that Receptor will listen for incoming connections on (kept for AWX clients).
  peers:
    type: list
    elements: int
    description:
    - Ids of receptor addresses to peer to (kept for AWX clients).
  peers_from_control_nodes:
    type: bool
    description:
    - If true, control plane cluster nodes should automatically peer to it (kept for AWX clients).
'''

EXAMPLES = r'''
- name: Use the controller's memory capacity rather than its CPU capacity
  turret.controller.instance:
    hostname: "{{ controller_hostname }}"
    capacity_adjustment: 0.0
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
    endpoint="instances",
    identity="hostname",
    fields=dict(
        capacity_adjustment=dict(type='float'),
        enabled=dict(type='bool'),
        managed_by_policy=dict(type='bool'),
        node_type=dict(type='str', choices=['control', 'execution', 'hybrid', 'hop']),
        node_state=dict(type='str', choices=['provisioning', 'provision-fail', 'installed', 'ready', 'unavailable',
                                             'deprovisioning', 'deprovision-fail']),
        listener_port=dict(type='int'),
        peers=dict(type='list', elements='int'),
        peers_from_control_nodes=dict(type='bool'),
    ),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

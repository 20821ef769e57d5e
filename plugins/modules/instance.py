#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="instances",
    identity="hostname",
    fields=dict(
        capacity_adjustment='float', enabled='bool', managed_by_policy='bool',
        node_type=dict(type='str', choices=['control', 'execution', 'hybrid', 'hop']),
        node_state=dict(type='str', choices=['provisioning', 'provision-fail', 'installed', 'ready', 'unavailable',
                                             'deprovisioning', 'deprovision-fail']),
        listener_port='int',
        peers=dict(type='list', elements='int'),
        peers_from_control_nodes='bool',
    ),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource

RESOURCE = Resource(
    endpoint="inventories",
    fields=dict(
        description='str',
        kind=dict(type='str', choices=['', 'smart']),
        host_filter='str', prevent_instance_group_fallback='bool', variables='raw',
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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource

RESOURCE = Resource(
    endpoint="instance_groups",
    fields=dict(
        is_container_group='bool', max_concurrent_jobs='int', max_forks='int',
        policy_instance_percentage='int', policy_instance_minimum='int',
        policy_instance_list=dict(type='list', elements='str'),
        pod_spec_override='str',
    ),
    fks=dict(credential="credentials"),
    associations=dict(instances=Assoc("instances", identity="hostname")),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="inventory_sources",
    fields=dict(
        description='str',
        source=dict(type='str', choices=['scm', 'file', 'constructed', 'ec2', 'gce', 'azure_rm', 'vmware',
                                         'satellite6', 'openstack', 'rhv', 'controller', 'insights', 'terraform',
                                         'openshift_virtualization']),
        source_path='str', source_vars='raw', scm_branch='str', enabled_var='str', enabled_value='str',
        host_filter='str', overwrite='bool', overwrite_vars='bool', timeout='int',
        verbosity=dict(type='int', choices=[0, 1, 2]),
        limit='str', update_on_launch='bool', update_cache_timeout='int',
    ),
    fks=dict(credential="credentials", inventory="inventories", source_project="projects",
             execution_environment="execution_environments"),
    scope=('inventory',),
    vars_fields=('source_vars',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

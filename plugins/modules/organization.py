#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import (
    Assoc, Resource, notification_associations, run_resource)

RESOURCE = Resource(
    endpoint="organizations",
    fields=dict(
        description='str', max_hosts='int',
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

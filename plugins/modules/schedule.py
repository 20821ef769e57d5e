#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_options_spec

RESOURCE = Resource(
    endpoint="schedules",
    fields=dict(
        job_options_spec(playbook=True),
        description='str', extra_data='dict', job_slice_count='int', timeout='int', enabled='bool',
        rrule='str', timezone='str', cron='str', interval='int',
        interval_type=dict(type='str', choices=['seconds', 'minutes', 'hours', 'days', 'weeks']),
        date='str', start_time='str', end_time='str',
    ),
    fks=dict(inventory="inventories", unified_job_template="unified_job_templates",
             execution_environment="execution_environments"),
    associations=dict(instance_groups=Assoc("instance_groups")),
    optional_scope=('unified_job_template',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: schedule
short_description: Manage schedules of job templates, projects and inventory sources
version_added: 0.1.0
description:
- Create, update or delete a schedule of a Turret controller (C(/api/v2/schedules/)).
- The launch options (O(extra_data), O(inventory), O(job_type), O(limit) ...) are prompts, as for
  M(turret.controller.job_launch). Left out, the job uses the template's value. Given, the template must ask for
  it on launch (its C(ask_*_on_launch)), or the controller refuses the schedule.
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.job_options
- turret.controller.job_options.playbook
options:
  name:
    description:
    - Name of the schedule; identifies it. Digits alone also match an id.
    type: str
    required: true
  extra_data:
    type: dict
    description:
    - Extra variables of the jobs this schedule starts. They need the template's C(ask_variables_on_launch),
      or must be variables of its survey.
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The inventory the jobs run on instead of the template's; needs C(ask_inventory_on_launch).
  execution_environment:
    type: str
    description:
    - The execution environment, by name or id, the jobs run with; needs C(ask_execution_environment_on_launch).
  instance_groups:
    type: list
    elements: str
    description:
    - Names or ids of the instance groups its jobs run in, most preferred first (exactly this list);
      they need C(ask_instance_groups_on_launch).
  job_slice_count:
    type: int
    description:
    - Into how many slices the job is split; needs C(ask_job_slice_count_on_launch).
      Stored for AWX compatibility; Turret runs every job as one slice.
  timeout:
    type: int
    description:
    - Seconds a job may run before it is canceled and marked failed (C(0) means no limit);
      needs C(ask_timeout_on_launch).
  unified_job_template:
    type: str
    description:
    - The job template, project or inventory source to run, by name or id.
  enabled:
    type: bool
    description:
    - C(false) pauses the schedule; it keeps its rule but starts nothing until enabled again.
  rrule:
    type: str
    description:
    - An RFC 5545 recurrence, e.g. C(DTSTART:20300101T000000Z RRULE:FREQ=DAILY;INTERVAL=1).
    - Or give O(cron), O(interval) with O(interval_type), or O(date) instead.
  timezone:
    type: str
    description:
    - The timezone this schedule runs in, extracted from the rrule; an input (IANA name, default UTC) for the cron,
      interval and date forms.
  cron:
    type: str
    description:
    - A 5-field cron expression (minute hour day-of-month month day-of-week), translated to the rrule in timezone.
  interval:
    type: int
    description:
    - Run every O(interval) O(interval_type), from O(start_time) on; translated to an rrule.
  interval_type:
    type: str
    choices:
    - seconds
    - minutes
    - hours
    - days
    - weeks
    description:
    - The unit of O(interval).
  date:
    type: str
    description:
    - 'Run once at this date and time (naive: in timezone).'
  start_time:
    type: str
    description:
    - 'First possible run of a cron or interval schedule (default: the next whole minute).'
  end_time:
    type: str
    description:
    - No run of a cron or interval schedule after this time (UNTIL).
'''

EXAMPLES = r'''
- name: Every night at two
  turret.controller.schedule:
    name: nightly deploy
    unified_job_template: deploy site
    cron: "0 2 * * *"
    timezone: Europe/Paris
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
    Assoc, Resource, job_options_spec, run_resource)

RESOURCE = Resource(
    endpoint="schedules",
    fields=dict(
        job_options_spec(playbook=True),
        description=dict(type='str'),
        extra_data=dict(type='dict'),
        job_slice_count=dict(type='int'),
        timeout=dict(type='int'),
        enabled=dict(type='bool'),
        rrule=dict(type='str'),
        timezone=dict(type='str'),
        cron=dict(type='str'),
        interval=dict(type='int'),
        interval_type=dict(type='str', choices=['seconds', 'minutes', 'hours', 'days', 'weeks']),
        date=dict(type='str'),
        start_time=dict(type='str'),
        end_time=dict(type='str'),
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

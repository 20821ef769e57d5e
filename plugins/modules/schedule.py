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
- 'Idempotent: only the fields that differ are sent (C(PATCH)); supports check mode and diff.'
author:
- Turret maintainers (@turret)
extends_documentation_fragment:
- turret.controller.auth
options:
  name:
    description:
    - Name of the schedule; identifies it. Digits alone also match an id.
    type: str
    required: true
  new_name:
    description:
    - Rename an existing schedule to this.
    type: str
  description:
    type: str
    description:
    - Optional description of this schedule.
  extra_data:
    type: dict
    description:
    - Extra variables for the launch; they need ask_variables_on_launch or a survey.
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - Inventory applied as a prompt, assuming job template prompts for inventory
  scm_branch:
    type: str
    description:
    - The scm branch of the schedule.
  job_type:
    type: str
    choices:
    - run
    - check
    description:
    - The job type of the schedule.
  job_tags:
    type: str
    description:
    - The job tags of the schedule.
  skip_tags:
    type: str
    description:
    - The skip tags of the schedule.
  limit:
    type: str
    description:
    - The limit of the schedule.
  diff_mode:
    type: bool
    description:
    - The diff mode of the schedule.
  verbosity:
    type: int
    choices:
    - 0
    - 1
    - 2
    - 3
    - 4
    - 5
    description:
    - The verbosity of the schedule.
  execution_environment:
    type: int
    description:
    - The container image to be used for execution.
  forks:
    type: int
    description:
    - The forks of the schedule.
  job_slice_count:
    type: int
    description:
    - The job slice count of the schedule.
  timeout:
    type: int
    description:
    - The timeout of the schedule.
  unified_job_template:
    type: str
    description:
    - The job template, project or inventory source to run, by name or id.
  enabled:
    type: bool
    description:
    - Enables processing of this schedule.
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
    - Run every interval interval_type.
  interval_type:
    type: str
    choices:
    - seconds
    - minutes
    - hours
    - days
    - weeks
    description:
    - The interval type of the schedule.
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
  state:
    description:
    - C(present) creates or updates the schedule, C(absent) deletes it.
    type: str
    default: present
    choices:
    - present
    - absent
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

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="schedules",
    fields=dict(
        description=dict(type='str'),
        extra_data=dict(type='dict'),
        scm_branch=dict(type='str'),
        job_type=dict(type='str', choices=['run', 'check']),
        job_tags=dict(type='str'),
        skip_tags=dict(type='str'),
        limit=dict(type='str'),
        diff_mode=dict(type='bool'),
        verbosity=dict(type='int', choices=[0, 1, 2, 3, 4, 5]),
        execution_environment=dict(type='int'),
        forks=dict(type='int'),
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
    fks=dict(inventory="inventories", unified_job_template="unified_job_templates"),
    optional_scope=('unified_job_template',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

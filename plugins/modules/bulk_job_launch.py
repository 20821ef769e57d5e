#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bulk_job_launch
short_description: Launch many jobs in one request
version_added: 0.1.0
description:
  - Launch many job templates, projects updates, inventory source updates or workflows at once
    (C(POST /api/v2/bulk/job_launch/)). The controller creates one workflow job named O(name) whose nodes
    run the jobs side by side; the module waits for that workflow job when O(wait) is set.
  - A job's prompts (and the top-level O(inventory), O(limit), O(scm_branch), O(job_tags), O(skip_tags)) are
    applied only where its template asks for them on launch; O(extra_vars) reach every job.
  - All or nothing - when one job is refused (a template you may not run, more jobs than the controller's
    C(BULK_JOB_MAX_LAUNCH) setting allows) nothing is launched and the task fails.
  - Always reports a change; in check mode nothing is launched.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.wait
options:
  jobs:
    description:
      - The jobs to launch. Each item takes C(unified_job_template) (an id, required) and the prompts of a
        workflow node - C(inventory), C(credentials), C(labels), C(execution_environment), C(instance_groups)
        (ids), C(extra_data), C(limit), C(scm_branch), C(job_type), C(job_tags), C(skip_tags), C(diff_mode),
        C(verbosity), C(forks), C(job_slice_count), C(timeout) and C(identifier).
    type: list
    elements: dict
    required: true
  name:
    description: Name of the bulk job (the controller's default is C(Bulk Job Launch)).
    type: str
  description:
    description: Description of the bulk job.
    type: str
  organization:
    description:
      - Organization of the bulk job (name or id); who administers it sees the job. Needed when you belong to
        several organizations.
    type: str
  inventory:
    description: Inventory for the jobs whose template prompts for one (name or id).
    type: str
  limit:
    description: Host pattern for the jobs whose template prompts for a limit.
    type: str
  scm_branch:
    description: Project branch for the jobs whose template prompts for one.
    type: str
  job_tags:
    description: Tags for the jobs whose template prompts for tags.
    type: str
  skip_tags:
    description: Tags to skip, for the jobs whose template prompts for them.
    type: str
  extra_vars:
    description: Extra variables of every job (they win over each job's C(extra_data)).
    type: dict
'''

EXAMPLES = r'''
- name: Run two templates at once and wait for both
  turret.controller.bulk_job_launch:
    name: nightly checks
    jobs:
      - unified_job_template: 7
        limit: web
      - unified_job_template: 9
        extra_data: {level: deep}
    extra_vars: {ticket: CHG-1}
  register: bulk
'''

RETURN = r'''
id:
  description: Id of the bulk workflow job (null in check mode).
  returned: always
  type: int
status:
  description: Status of the bulk workflow job (its final status when waited for).
  returned: always
  type: str
job:
  description: The bulk workflow job as the API returns it.
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerModule, launch_and_wait, wait_spec)

PASSED = ("jobs", "name", "description", "limit", "scm_branch", "job_tags", "skip_tags", "extra_vars")


def prepare(p, api):
    """The POST of the bulk launch: the options given, organization and inventory as ids."""
    body = dict((k, p[k]) for k in PASSED if p.get(k) is not None)
    for option, endpoint in (("organization", "organizations"), ("inventory", "inventories")):
        if p.get(option):
            body[option] = api.resolve_id(endpoint, p[option])
    return "bulk/job_launch", body


def main():
    spec = dict(jobs=dict(type="list", elements="dict", required=True), name=dict(type="str"),
                description=dict(type="str"), organization=dict(type="str"), inventory=dict(type="str"),
                limit=dict(type="str"), scm_branch=dict(type="str"), job_tags=dict(type="str"),
                skip_tags=dict(type="str"), extra_vars=dict(type="dict"))
    spec.update(wait_spec(default_wait=True))
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    launch_and_wait(module, prepare, "workflow_jobs", show_body=True)


if __name__ == '__main__':
    main()

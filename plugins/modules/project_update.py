#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: project_update
short_description: Update a project (start a sync)
version_added: 0.1.0
description:
  - Start an update of a project (C(POST /api/v2/projects/N/update/)) and by default wait for it.
  - Always reports a change; in check mode nothing is started.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.wait
options:
  name:
    description: The project, by name, id or C(name++organization) named URL.
    type: str
    required: true
  organization:
    description: Organization of the project (narrows the lookup by name).
    type: str
'''

EXAMPLES = r'''
- name: Sync and wait
  turret.controller.project_update:
    name: site
    organization: Engineering
    timeout: 300
'''

RETURN = r'''
id:
  description: Id of the job (null in check mode).
  returned: always
  type: int
  sample: 7
status:
  description: Status of the job (its final status when waited for).
  returned: always
  type: str
  sample: successful
job:
  description: The job as the API returns it.
  returned: always
  type: dict'''

from ansible_collections.turret.controller.plugins.module_utils.module import Update, run_update

UPDATE = Update(endpoint="projects", scope=dict(organization="organizations"), job_key="project_update", jobs="project_updates")


def main():
    run_update(UPDATE)


if __name__ == '__main__':
    main()

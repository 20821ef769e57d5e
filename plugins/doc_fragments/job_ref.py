# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How the modules that act on an existing job (job_wait, job_cancel) name it (module_utils/module.py job_ref_spec).
    DOCUMENTATION = r'''
options:
  job_id:
    description:
      - Id of the job, for example the C(id) returned by M(turret.controller.job_launch).
    type: int
    required: true
  job_type:
    description:
      - The kind of job, as its list endpoint (C(jobs) for playbook runs, C(project_updates),
        C(inventory_updates), C(ad_hoc_commands) or C(workflow_jobs)).
    type: str
    default: jobs
    choices: [jobs, project_updates, inventory_updates, ad_hoc_commands, workflow_jobs]
'''

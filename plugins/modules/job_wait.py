#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: job_wait
short_description: Wait for a job to finish
version_added: 0.1.0
description:
  - Poll a job (or a project update, inventory update or ad hoc command) until it is finished
    and its events are stored. Fails unless it ends C(successful). Never changes anything.
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.job_ref
options:
  timeout:
    description: Seconds to wait before failing. C(0) waits forever.
    type: float
    default: 600
  interval:
    description: Seconds between two polls.
    type: float
    default: 1.0
'''

EXAMPLES = r'''
- name: Wait for a job started earlier
  turret.controller.job_wait:
    job_id: "{{ job.id }}"
    timeout: 120
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
  type: dict
elapsed:
  description: Seconds the job ran.
  returned: always
  type: float
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, ControllerModule, job_ref_spec, job_result)


def main():
    module = ControllerModule(argument_spec=job_ref_spec(
        timeout=dict(type="float", default=600), interval=dict(type="float", default=1.0),
    ), supports_check_mode=True)
    module.params["wait"] = True
    url = "%s/%s" % (module.params["job_type"], module.params["job_id"])
    try:
        job_result(module, module.api.get(url), url, changed=False)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

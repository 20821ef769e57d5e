#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.api import TERMINAL
from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_ref_spec


def main():
    module = ControllerModule(argument_spec=job_ref_spec(
        fail_if_not_running=dict(type="bool", default=False),
    ), supports_check_mode=True)
    p = module.params
    try:
        job = module.api.get("%s/%s" % (p["job_type"], p["job_id"]))
        if job["status"] in TERMINAL:
            if p["fail_if_not_running"]:
                module.fail_json(msg="job %s is already %s" % (job["id"], job["status"]), id=job["id"], status=job["status"])
            module.exit_json(changed=False, id=job["id"], status=job["status"])
        if not module.check_mode:
            module.api.post(job["related"]["cancel"])
        module.exit_json(changed=True, id=job["id"], status=job["status"])
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

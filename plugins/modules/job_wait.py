#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_ref_spec, job_result


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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_options_spec, launch_and_wait, wait_spec
from ansible_collections.turret.controller.plugins.module_utils.templates import launch_prepare

# The controller's launch prompts (controller/prompts.py) passed as given; inventory and credentials
# are resolved from names below.  tests/collection/test_completeness.py keeps the module's prompt
# options equal to the controller's (with the reasons for the few it leaves out).
PROMPTS = dict(job_options_spec(playbook=True), extra_vars=dict(type="dict"))


def main():
    spec = dict(name=dict(type="str", required=True, aliases=["job_template"]), inventory=dict(type="str"),
                credentials=dict(type="list", elements="str"), execution_environment=dict(type="str"),
                instance_groups=dict(type="list", elements="str"), **PROMPTS)
    spec.update(wait_spec(default_wait=False))
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    prepare = launch_prepare("job_templates", PROMPTS, dict(inventory="inventories", credentials="credentials",
                                                            execution_environment="execution_environments",
                                                            instance_groups="instance_groups"))
    launch_and_wait(module, prepare, "jobs", show_body=True)


if __name__ == '__main__':
    main()

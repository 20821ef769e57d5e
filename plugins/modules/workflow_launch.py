#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import launch_and_wait, wait_spec
from ansible_collections.turret.controller.plugins.module_utils.templates import launch_prepare

# The workflow launch prompts passed as given (awx-api.md 7.2); inventory and labels are resolved below.
PROMPTS = dict(limit=dict(type="str"), scm_branch=dict(type="str"), job_tags=dict(type="str"),
               skip_tags=dict(type="str"), extra_vars=dict(type="dict"))


def main():
    spec = dict(name=dict(type="str", required=True, aliases=["workflow_template"]),
                organization=dict(type="str"), inventory=dict(type="str"),
                labels=dict(type="list", elements="str"), **PROMPTS)
    spec.update(wait_spec(default_wait=False))
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    prepare = launch_prepare("workflow_job_templates", PROMPTS, dict(inventory="inventories", labels="labels"),
                             scope=dict(organization="organizations"))
    launch_and_wait(module, prepare, "workflow_jobs", show_body=True)


if __name__ == '__main__':
    main()

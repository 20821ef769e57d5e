#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import launch_and_wait, wait_spec

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

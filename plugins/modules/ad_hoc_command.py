#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerModule
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_options_spec, launch_and_wait, wait_spec

FIELDS = dict(job_options_spec(), module_name=dict(type="str", default="command"), module_args=dict(type="str"),
              extra_vars=dict(type="dict"), become_enabled=dict(type="bool"))


def main():
    spec = dict(inventory=dict(type="str", required=True), credential=dict(type="str"), **FIELDS)
    spec.update(wait_spec())
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)

    def prepare(p, api):
        body = dict((k, p[k]) for k in FIELDS if p.get(k) is not None)
        body["inventory"] = api.resolve_id("inventories", p["inventory"])
        if p.get("credential"):
            body["credential"] = api.resolve_id("credentials", p["credential"])
        return "ad_hoc_commands", body

    launch_and_wait(module, prepare, "ad_hoc_commands")


if __name__ == '__main__':
    main()

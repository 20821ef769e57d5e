#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule

HOST_OPTIONS = dict(name=dict(type="str", required=True), description=dict(type="str"), enabled=dict(type="bool"),
                    variables=dict(type="dict"), instance_id=dict(type="str"))


def main():
    module = ControllerModule(argument_spec=dict(
        inventory=dict(type="str", required=True),
        hosts=dict(type="list", elements="dict", required=True, options=HOST_OPTIONS),
    ), supports_check_mode=True)
    p = module.params
    try:
        inventory = module.api.resolve_id("inventories", p["inventory"])
        hosts = []
        for host in p["hosts"]:
            given = dict((k, v) for k, v in host.items() if v is not None)
            if "variables" in given:
                given["variables"] = json.dumps(given["variables"])
            hosts.append(given)
        if module.check_mode:
            module.exit_json(changed=True, hosts=[])
        result = module.api.post("bulk/host_create", dict(inventory=inventory, hosts=hosts))
        module.exit_json(changed=True, hosts=result.get("hosts", []))
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

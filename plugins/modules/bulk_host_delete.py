#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule


def main():
    module = ControllerModule(argument_spec=dict(hosts=dict(type="list", elements="int", required=True)),
                              supports_check_mode=True)
    try:
        if module.check_mode:
            module.exit_json(changed=True, deleted={})
        result = module.api.post("bulk/host_delete", dict(hosts=module.params["hosts"]))
        module.exit_json(changed=True, deleted=result.get("hosts", {}))
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

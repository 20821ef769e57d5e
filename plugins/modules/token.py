#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule


def main():
    module = ControllerModule(argument_spec=dict(
        description=dict(type="str"), scope=dict(type="str", default="write", choices=["read", "write"]),
        application=dict(type="int"), existing_token_id=dict(type="int"),
        existing_token=dict(type="dict", no_log=False), state=dict(type="str", default="present", choices=["present", "absent"]),
    ), supports_check_mode=True, required_if=[("state", "absent", ("existing_token_id", "existing_token"), True)])
    p, api = module.params, module.api
    try:
        if p["state"] == "absent":
            token_id = p["existing_token_id"] or p["existing_token"]["id"]
            try:
                api.get("tokens/%s" % token_id)
            except ControllerError as e:
                if e.status == 404:
                    module.exit_json(changed=False, id=token_id)
                raise
            if not module.check_mode:
                api.delete("tokens/%s" % token_id)
            module.exit_json(changed=True, id=token_id)
        if module.check_mode:
            module.exit_json(changed=True, id=None, token={})
        body = dict((k, p[k]) for k in ("description", "scope", "application") if p.get(k) is not None)
        token = api.post("tokens", body)
        module.exit_json(changed=True, id=token["id"], token=token)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

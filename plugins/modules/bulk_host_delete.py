#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bulk_host_delete
short_description: Delete many hosts in one request
version_added: 0.1.0
description:
  - Delete many hosts, of one or more inventories, at once (C(POST /api/v2/bulk/host_delete/)).
  - All or nothing - when one id names no host, a host of an inventory you may not administer, or there are more
    ids than the controller's C(BULK_HOST_MAX_DELETE) setting allows, no host is deleted and the task fails.
  - Always reports a change; in check mode nothing is deleted.
extends_documentation_fragment:
  - turret.controller.auth
options:
  hosts:
    description:
      - Ids of the hosts to delete.
    type: list
    elements: int
    required: true
'''

EXAMPLES = r'''
- name: Remove three hosts
  turret.controller.bulk_host_delete:
    hosts: [12, 13, 14]
'''

RETURN = r'''
deleted:
  description: One message per deleted host, by host id.
  returned: success, not in check mode
  type: dict
'''

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

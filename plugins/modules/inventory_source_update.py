#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: inventory_source_update
short_description: Update a inventory source (start a sync)
version_added: 0.1.0
description:
  - Start an update of a inventory source (C(POST /api/v2/inventory_sources/N/update/)) and by default wait for it.
  - Always reports a change; in check mode nothing is started.
author:
  - Turret maintainers (@turret)
extends_documentation_fragment:
  - turret.controller.auth
  - turret.controller.wait
options:
  name:
    description: The inventory source, by name or id.
    type: str
    required: true
  inventory:
    description: Inventory of the source (narrows the lookup by name).
    type: str
'''

EXAMPLES = r'''
- name: Sync and wait
  turret.controller.inventory_source_update:
    name: from git
    inventory: Production
    timeout: 300
'''

RETURN = r'''
id:
  description: Id of the job (null in check mode).
  returned: always
  type: int
  sample: 7
status:
  description: Status of the job (its final status when waited for).
  returned: always
  type: str
  sample: successful
job:
  description: The job as the API returns it.
  returned: always
  type: dict'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, ControllerModule, job_result, wait_spec)

SCOPE = dict(inventory="inventories")


def main():
    spec = dict(name=dict(type="str", required=True))
    spec.update((k, dict(type="str")) for k in SCOPE)
    spec.update(wait_spec())
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    p, api = module.params, module.api
    try:
        scope = dict((k, api.resolve_id(ep, p[k])) for k, ep in SCOPE.items() if p.get(k))
        obj = api.lookup("inventory_sources", p["name"], scope=scope)
        if module.check_mode:
            module.exit_json(changed=True, id=None, status=None, job={})
        started = api.post(obj["related"]["update"])
        job_id = started.get("inventory_update") or started["id"]
        job_result(module, api.get("inventory_updates/%s" % job_id), "inventory_updates/%s" % job_id)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

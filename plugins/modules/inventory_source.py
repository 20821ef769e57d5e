#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: inventory_source
short_description: Manage inventory sources
version_added: 0.1.0
description:
- Create, update or delete a inventory source of a Turret controller (C(/api/v2/inventory_sources/)).
- 'Idempotent: only the fields that differ are sent (C(PATCH)); supports check mode and diff.'
author:
- Turret maintainers (@turret)
extends_documentation_fragment:
- turret.controller.auth
options:
  name:
    description:
    - Name of the inventory source; identifies it (with inventory).
    type: str
    required: true
  new_name:
    description:
    - Rename an existing inventory source to this.
    type: str
  description:
    type: str
    description:
    - Optional description of this inventory source.
  source:
    type: str
    choices:
    - scm
    - file
    description:
    - The source of the inventory source.
  source_path:
    type: str
    description:
    - Path of the inventory file or directory, relative to the project.
  source_vars:
    type: raw
    description:
    - Inventory source variables in YAML or JSON format.
    - A dict, or YAML/JSON text; compared as data.
  scm_branch:
    type: str
    description:
    - The scm branch of the inventory source.
  credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
  enabled_var:
    type: str
    description:
    - Retrieve the enabled state from the given dict of host variables.
  enabled_value:
    type: str
    description:
    - Only used when enabled_var is set. Value when the host is considered enabled.
  host_filter:
    type: str
    description:
    - Regular expression where only matching host names will be imported.
  overwrite:
    type: bool
    description:
    - Overwrite local groups and hosts from remote inventory source.
  overwrite_vars:
    type: bool
    description:
    - Overwrite local variables from remote inventory source.
  timeout:
    type: int
    description:
    - The timeout of the inventory source.
  verbosity:
    type: int
    choices:
    - 0
    - 1
    - 2
    description:
    - The verbosity of the inventory source.
  limit:
    type: str
    description:
    - The limit of the inventory source.
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - Only used when the object is created.
  source_project:
    type: str
    description:
    - The project, by name or id (or a C(name++organization) named URL).
  update_on_launch:
    type: bool
    description:
    - The update on launch of the inventory source.
  update_cache_timeout:
    type: int
    description:
    - The update cache timeout of the inventory source.
  state:
    description:
    - C(present) creates or updates the inventory source, C(absent) deletes it.
    type: str
    default: present
    choices:
    - present
    - absent
'''

EXAMPLES = r'''
- name: Hosts from an inventory file of a project
  turret.controller.inventory_source:
    name: from git
    inventory: Production
    source: scm
    source_project: site
    source_path: inventory/hosts.yml
    overwrite: true
'''

RETURN = r'''
id:
  description: Id of the object (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The object as the API returns it (after the change; the planned object in check mode).
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="inventory_sources",
    fields=dict(
        description=dict(type='str'),
        source=dict(type='str', choices=['scm', 'file']),
        source_path=dict(type='str'),
        source_vars=dict(type='raw'),
        scm_branch=dict(type='str'),
        enabled_var=dict(type='str'),
        enabled_value=dict(type='str'),
        host_filter=dict(type='str'),
        overwrite=dict(type='bool'),
        overwrite_vars=dict(type='bool'),
        timeout=dict(type='int'),
        verbosity=dict(type='int', choices=[0, 1, 2]),
        limit=dict(type='str'),
        update_on_launch=dict(type='bool'),
        update_cache_timeout=dict(type='int'),
    ),
    fks=dict(credential="credentials", inventory="inventories", source_project="projects"),
    scope=('inventory',),
    vars_fields=('source_vars',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

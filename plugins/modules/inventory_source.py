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
- Create, update or delete an inventory source of a Turret controller (C(/api/v2/inventory_sources/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the inventory source; identifies it (with inventory).
    type: str
    required: true
  source:
    type: str
    choices:
    - scm
    - file
    - constructed
    - ec2
    - gce
    - azure_rm
    - vmware
    - satellite6
    - openstack
    - rhv
    - controller
    - insights
    - terraform
    - openshift_virtualization
    description:
    - Where the hosts come from. C(scm) reads an inventory file or directory of O(source_project) at O(source_path).
    - C(file) (a path on the controller) is refused by Turret; use C(scm) with a project.
    - The cloud kinds and C(constructed) run their inventory plugin (its collection must be installed on the
      controller) with O(source_vars) as the plugin configuration and O(credential) injected, as AWX does;
      C(constructed) reads the inventory's input inventories.
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
    - Branch, tag or commit of O(source_project) to read the inventory from (AWX needs the project's C(allow_override)).
      Stored for AWX compatibility; Turret's updates read the project as it was last synced.
  credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - The cloud credential an inventory plugin reads. Stored for AWX compatibility; C(scm) sources need none.
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
    - Seconds an inventory update may run before it is canceled and marked failed; C(0) means no limit.
  verbosity:
    type: int
    choices:
    - 0
    - 1
    - 2
    description:
    - Verbosity of the C(ansible-inventory) run of an update, C(0) (warnings) to C(2) (debug).
  limit:
    type: str
    description:
    - A host pattern that only imports the matching hosts (C(--limit) of C(ansible-inventory)).
      Stored for AWX compatibility; Turret imports every host (see O(host_filter)).
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The inventory this source fills with hosts and groups. With O(name) it identifies the source,
      so every task needs it.
  source_project:
    type: str
    description:
    - The project, by name or id (or a C(name++organization) named URL).
    - The project whose files hold the inventory (C(scm) sources).
  update_on_launch:
    type: bool
    description:
    - Update this source before a job that uses its inventory starts (unless the last update is fresher than
      O(update_cache_timeout)).
  update_cache_timeout:
    type: int
    description:
    - With O(update_on_launch), seconds after an update during which a launch uses it instead of starting another;
      C(0) updates before every job.
  execution_environment:
    type: str
    description:
    - The execution environment, by name or id, its updates run with.
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
        source=dict(type='str', choices=['scm', 'file', 'constructed', 'ec2', 'gce', 'azure_rm', 'vmware',
                                         'satellite6', 'openstack', 'rhv', 'controller', 'insights', 'terraform',
                                         'openshift_virtualization']),
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
    fks=dict(credential="credentials", inventory="inventories", source_project="projects",
             execution_environment="execution_environments"),
    scope=('inventory',),
    vars_fields=('source_vars',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

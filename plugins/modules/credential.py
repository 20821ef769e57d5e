#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: credential
short_description: Manage credentials
version_added: 0.1.0
description:
- Create, update or delete a credential of a Turret controller (C(/api/v2/credentials/)).
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.resource.secrets
options:
  name:
    description:
    - Name of the credential; identifies it. Digits alone also match an id.
    type: str
    required: true
  organization:
    type: str
    description:
    - The organization, by name or id (or a C(name++organization) named URL).
    - Inherit permissions from organization roles. If provided on creation, do not give either user or team.
  credential_type:
    type: str
    description:
    - The credential type, by name or id (or a C(name++organization) named URL).
    - The credential type (for example C(Machine), C(Source Control), C(Vault)), which decides the O(inputs) it takes
      and how a job receives them.
  inputs:
    type: dict
    description:
    - The values of the credential type's input fields, for example C(username) and C(ssh_key_data) of a
      C(Machine) credential. Secret fields are stored encrypted and shown as C($encrypted$).
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
  user:
    type: str
    description:
    - The user, by username or id (or a C(name++organization) named URL).
    - Write-only field used to add user to owner role. If provided, do not give either team or organization. Only
      valid for creation.
    - Only used when the object is created.
  team:
    type: str
    description:
    - The team, by name or id (or a C(name++organization) named URL).
    - Write-only field used to add team to owner role. If provided, do not give either user or organization. Only
      valid for creation.
    - Only used when the object is created.
'''

EXAMPLES = r'''
- name: A machine credential
  turret.controller.credential:
    name: deploy
    organization: Engineering
    credential_type: Machine
    inputs:
      username: deploy
      password: "{{ deploy_password }}"
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
    endpoint="credentials",
    fields=dict(
        description=dict(type='str'),
        inputs=dict(type='dict'),
    ),
    fks=dict(organization="organizations", credential_type="credential_types", user="users", team="teams"),
    optional_scope=('organization', 'credential_type'),
    secrets=('inputs',),
    required_on_create=('credential_type',),
    create_only=('user', 'team'),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

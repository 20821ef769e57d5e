#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: credential_type
short_description: Manage custom credential types
version_added: 0.1.0
description:
- Create, update or delete a credential type of a Turret controller (C(/api/v2/credential_types/)).
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the credential type; identifies it. Digits alone also match an id.
    type: str
    required: true
  kind:
    type: str
    choices:
    - ssh
    - vault
    - net
    - scm
    - cloud
    - registry
    - token
    - insights
    - external
    - kubernetes
    - galaxy
    - cryptography
    description:
    - 'The kind of credential: custom types must be ''cloud'' or ''net''.'
  inputs:
    type: dict
    description:
    - The input fields a credential of this type has, as AWX declares them
      (C(fields) list of C(id), C(label), C(type), C(secret) ..., and C(required) list).
  injectors:
    type: dict
    description:
    - How a job receives the inputs, as C(env) variables, C(extra_vars) and C(file) contents; each value is a
      template that names input ids.
'''

EXAMPLES = r'''
- name: A custom credential type
  turret.controller.credential_type:
    name: API key
    kind: cloud
    inputs:
      fields:
        - {id: api_key, label: API key, type: string, secret: true}
    injectors:
      env:
        API_KEY: "{{ '{{' }} api_key {{ '}}' }}"
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
    endpoint="credential_types",
    fields=dict(
        description=dict(type='str'),
        kind=dict(type='str', choices=[
            'ssh',
            'vault',
            'net',
            'scm',
            'cloud',
            'registry',
            'token',
            'insights',
            'external',
            'kubernetes',
            'galaxy',
            'cryptography']),
        inputs=dict(type='dict'),
        injectors=dict(type='dict'),
    ),
    required_on_create=('kind',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

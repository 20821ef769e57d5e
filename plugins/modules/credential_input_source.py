#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: credential_input_source
short_description: Manage credential input sources
version_added: 0.1.0
description:
- Create, update or delete a credential input source of a Turret controller (C(/api/v2/credential_input_sources/)).
- An input source names one input of a credential whose value an external credential (HashiCorp Vault, CyberArk,
  Azure Key Vault ...) looks up each time a job uses the credential.
extends_documentation_fragment:
- turret.controller.resource
options:
  input_field_name:
    description:
    - The input of the target credential the source fills (for example C(password) of a C(Machine) credential);
      identifies the input source, with O(target_credential).
    type: str
    required: true
  new_input_field_name:
    description:
    - Move an existing input source to this input of the target credential.
    type: str
  target_credential:
    type: str
    required: true
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - The credential whose input is looked up.
  source_credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - The external credential that looks the value up (its type is of kind C(external)). Needed to create.
  metadata:
    type: dict
    description:
    - What to look up, with the keys the source credential's type declares under C(inputs.metadata) (for
      HashiCorp Vault Secret Lookup C(secret_path), C(secret_key) ...). Keys not given keep their stored values.
  description:
    type: str
    description:
    - Optional description of this credential input source.
'''

EXAMPLES = r'''
- name: The deploy credential's password comes from HashiCorp Vault
  turret.controller.credential_input_source:
    target_credential: deploy
    input_field_name: password
    source_credential: Vault lookup
    metadata:
      secret_path: /kv/deploy
      secret_key: password
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
    endpoint="credential_input_sources",
    identity="input_field_name",
    fields=dict(
        metadata=dict(type="dict"),
        description=dict(type="str"),
    ),
    fks=dict(target_credential="credentials", source_credential="credentials"),
    scope=("target_credential",),
    required_on_create=("source_credential",),
    subset_fields=("metadata",),
)


def main():
    run_resource(RESOURCE, extra_spec=dict(target_credential=dict(type="str", required=True)))


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: user
short_description: Manage users
version_added: 0.1.0
description:
- Create, update or delete a user of a Turret controller (C(/api/v2/users/)).
- 'Idempotent: only the fields that differ are sent (C(PATCH)); supports check mode and diff.'
author:
- Turret maintainers (@turret)
extends_documentation_fragment:
- turret.controller.auth
options:
  username:
    description:
    - Username of the user; identifies it. Digits alone also match an id.
    type: str
    required: true
  new_username:
    description:
    - Rename an existing user to this.
    type: str
  first_name:
    type: str
    description:
    - The first name of the user.
  last_name:
    type: str
    description:
    - The last name of the user.
  email:
    type: str
    description:
    - The email of the user.
  is_superuser:
    type: bool
    description:
    - Designates that this user has all permissions without explicitly assigning them.
  is_system_auditor:
    type: bool
    description:
    - The is system auditor of the user.
  password:
    type: str
    description:
    - Field used to change the password.
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
  state:
    description:
    - C(present) creates or updates the user, C(absent) deletes it.
    type: str
    default: present
    choices:
    - present
    - absent
  update_secrets:
    description:
    - Send secret values even when the API shows C($encrypted$) for them (always reports a change).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: A user
  turret.controller.user:
    username: alice
    password: "{{ alice_password }}"
    email: alice@example.com
    first_name: Alice
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
    endpoint="users",
    identity="username",
    fields=dict(
        first_name=dict(type='str'),
        last_name=dict(type='str'),
        email=dict(type='str'),
        is_superuser=dict(type='bool'),
        is_system_auditor=dict(type='bool'),
        password=dict(type='str'),
    ),
    secrets=('password',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

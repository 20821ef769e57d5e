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
extends_documentation_fragment:
- turret.controller.resource
- turret.controller.resource.secrets
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
    - Given name of the user, shown in the UI and in the API's C(summary_fields).
  last_name:
    type: str
    description:
    - Family name of the user, shown in the UI and in the API's C(summary_fields).
  email:
    type: str
    description:
    - Email address of the user (not used to log in).
  is_superuser:
    type: bool
    description:
    - Designates that this user has all permissions without explicitly assigning them.
  is_system_auditor:
    type: bool
    description:
    - Let the user read every object of the controller (as a superuser can) without being able to change
      any of them beyond the roles given to the user.
  password:
    type: str
    description:
    - The password the user logs in with; needed to create a user. The API never shows it, so by default it is
      only sent when the user is created.
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
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

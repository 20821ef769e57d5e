#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: role_user_assignment
short_description: Give a user a role on an object
version_added: 0.1.0
description:
- Assign a role definition to a user on one object (C(/api/v2/role_user_assignments/)), or remove that
  assignment. The same grant as adding the user to the object's role (M(turret.controller.role)).
- An assignment is identified by its role definition, object and user; it is created or deleted, never changed.
extends_documentation_fragment:
- turret.controller.auth
- turret.controller.role_assignment
options:
  user:
    description:
    - The user, by username or id.
    type: str
    required: true
  user_ansible_id:
    description:
    - Accepted for compatibility with AWX (the user's resource id); Turret has no resource registry, so the
      server refuses a value.
    type: str
'''

EXAMPLES = r'''
- name: bob may run the deploy template
  turret.controller.role_user_assignment:
    role_definition: JobTemplate Execute
    object_id: 7
    user: bob
'''

RETURN = r'''
id:
  description: Id of the assignment (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The assignment as the API returns it.
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.role_assignment import run_assignment


def main():
    run_assignment("user", "role_user_assignments")


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options role_user_assignment and role_team_assignment share (module_utils/role_assignment.py).
    DOCUMENTATION = r'''
options:
  role_definition:
    description:
      - The role definition, by name or id (C(Inventory Admin), C(JobTemplate Execute) ...).
    type: str
    required: true
  object_id:
    description:
      - Id of the object (of the role definition's type) the role applies to.
    type: int
    required: true
  object_ansible_id:
    description:
      - Accepted for compatibility with AWX; Turret has no resource registry, so the server refuses a value.
    type: str
  state:
    description:
      - C(present) creates the assignment when it does not exist; C(absent) deletes it (revoking the role).
    type: str
    default: present
    choices: [present, absent]
notes:
  - Idempotent; supports check mode and diff.
'''

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: role_team_assignment
short_description: Give a team a role on an object
version_added: 0.1.0
description:
- Assign a role definition to a team on one object (C(/api/v2/role_team_assignments/)), or remove that
  assignment. The same grant as adding the team to the object's role (M(turret.controller.role)).
- An assignment is identified by its role definition, object and team; it is created or deleted, never changed.
extends_documentation_fragment:
- turret.controller.auth
- turret.controller.role_assignment
options:
  team:
    description:
    - The team, by name or id.
    type: str
    required: true
  team_ansible_id:
    description:
    - Accepted for compatibility with AWX (the team's resource id); Turret has no resource registry, so the
      server refuses a value.
    type: str
'''

EXAMPLES = r'''
- name: Operators may run the deploy template
  turret.controller.role_team_assignment:
    role_definition: JobTemplate Execute
    object_id: 7
    team: Operators
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
    run_assignment("team", "role_team_assignments")


if __name__ == '__main__':
    main()

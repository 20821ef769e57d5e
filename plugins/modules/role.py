#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: role
short_description: Grant or revoke a role of an object to a user or team
version_added: 0.1.0
description:
  - Give a user or a team a role of one object (for example C(use) of a credential,
    C(execute) of a job template, C(member) of a team) through C(/api/v2/roles/N/users/)
    or C(/api/v2/roles/N/teams/), or take it away.
  - Exactly one of O(user) and O(team), and exactly one target option, are needed.
extends_documentation_fragment:
  - turret.controller.auth
options:
  role:
    description:
      - The role, as named in the object's C(summary_fields.object_roles) without the C(_role)
        suffix, for example C(admin), C(member), C(use), C(read), C(execute), C(update), C(adhoc).
    type: str
    required: true
  user:
    description: The user receiving or losing the role (username or id).
    type: str
  team:
    description: The team receiving or losing the role (name, id or C(name++organization)).
    type: str
  organization:
    description: Target organization (name or id).
    type: str
  target_team:
    description: Target team (name, id or C(name++organization)).
    type: str
  inventory:
    description: Target inventory (name, id or C(name++organization)).
    type: str
  project:
    description: Target project (name, id or C(name++organization)).
    type: str
  job_template:
    description: Target job template (name, id or C(name++organization)).
    type: str
  credential:
    description: Target credential (name or id).
    type: str
  state:
    description: C(present) grants the role, C(absent) revokes it.
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: Ops may run the deploy template
  turret.controller.role:
    team: Ops
    role: execute
    job_template: deploy site

- name: Alice is a member of Ops
  turret.controller.role:
    user: alice
    role: member
    target_team: Ops
'''

RETURN = r'''
id:
  description: Id of the role.
  returned: always
  type: int
'''

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule

TARGETS = dict(organization="organizations", target_team="teams", inventory="inventories", project="projects",
               job_template="job_templates", credential="credentials")


def main():
    spec = dict(role=dict(type="str", required=True), user=dict(type="str"), team=dict(type="str"),
                state=dict(type="str", default="present", choices=["present", "absent"]))
    spec.update((k, dict(type="str")) for k in TARGETS)
    module = ControllerModule(argument_spec=spec, supports_check_mode=True,
                              required_one_of=[("user", "team"), tuple(TARGETS)],
                              mutually_exclusive=[("user", "team"), tuple(TARGETS)])
    p, api = module.params, module.api
    try:
        option = next(k for k in TARGETS if p.get(k))
        target = api.lookup(TARGETS[option], p[option])
        roles = target.get("summary_fields", {}).get("object_roles", {})
        field = p["role"] if p["role"].endswith("_role") else p["role"] + "_role"
        if field not in roles:
            module.fail_json(msg="%s %r has no role %r; it has: %s" % (
                option, p[option], p["role"], ", ".join(sorted(r[:-5] for r in roles))))
        role_id = roles[field]["id"]
        if p["user"]:
            relation, member = "users", api.lookup("users", p["user"], identity="username")
        else:
            relation, member = "teams", api.lookup("teams", p["team"])
        url = "/api/v2/roles/%s/" % role_id
        has = bool(api.get(url + relation + "/", {"id": member["id"]}).get("count"))
        want = p["state"] == "present"
        result = dict(changed=has != want, id=role_id)
        if has != want:
            result["diff"] = dict(before={relation: [member["id"]] if has else []},
                                  after={relation: [member["id"]] if want else []})
            if not module.check_mode:
                api.associate(url, relation, member["id"], disassociate=not want)
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

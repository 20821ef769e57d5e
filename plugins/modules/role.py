#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

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

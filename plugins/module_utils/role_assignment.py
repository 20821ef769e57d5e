# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role_user_assignment / role_team_assignment modules: an assignment has no name, it is
identified by (role definition, object, user or team); it is created or deleted, never updated."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule


def run_assignment(actor, endpoint):
    """Run an assignment module for ``actor`` ("user" or "team") against ``endpoint``."""
    module = ControllerModule(argument_spec=dict(
        role_definition=dict(type="str", required=True), object_id=dict(type="int", required=True),
        object_ansible_id=dict(type="str"), state=dict(type="str", default="present", choices=["present", "absent"]),
        **{actor: dict(type="str", required=True), actor + "_ansible_id": dict(type="str")}
    ), supports_check_mode=True)
    p, api = module.params, module.api
    try:
        definition = api.resolve_id("role_definitions", p["role_definition"])
        actor_id = api.resolve_id(actor + "s", p[actor], "username" if actor == "user" else "name")
        wanted = {"role_definition": definition, "object_id": p["object_id"], actor: actor_id}
        found = api.list(endpoint, dict(wanted), limit=1)
        existing = found[0] if found else None
        result = dict(changed=False, id=existing["id"] if existing else None, object=existing)
        if p["state"] == "absent":
            if existing:
                result.update(changed=True, diff=dict(before=wanted, after={}))
                if not module.check_mode:
                    api.remove(existing)
            module.exit_json(**result)
        if existing is None:
            body = dict(wanted)
            for key in ("object_ansible_id", actor + "_ansible_id"):
                if p.get(key) is not None:
                    body[key] = p[key]
            created = body if module.check_mode else api.create(endpoint, body)
            result.update(changed=True, id=created.get("id"), object=created, diff=dict(before={}, after=wanted))
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)

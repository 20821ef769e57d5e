#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: token
short_description: Create or delete API tokens
version_added: 0.1.0
description:
  - Create a personal API token of the authenticated user (C(POST /api/v2/tokens/)), or delete one.
  - A token's value is only shown when it is created, so O(state=present) always creates a new
    token and reports a change. The result can be passed as O(controller_oauthtoken) to other modules.
extends_documentation_fragment:
  - turret.controller.auth
options:
  description:
    description: Description of the token.
    type: str
  scope:
    description: Scope of the token.
    type: str
    default: write
    choices: [read, write]
  application:
    description: Id of the OAuth application the token belongs to (none for a personal token).
    type: int
  existing_token_id:
    description: Id of the token to delete with O(state=absent).
    type: int
  existing_token:
    description: A token returned by this module, to delete with O(state=absent).
    type: dict
  state:
    description: C(present) creates a token, C(absent) deletes one.
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: A token for the rest of the play
  turret.controller.token:
    description: playbook token
  register: tok

- name: Use it
  turret.controller.organization:
    name: Engineering
    controller_oauthtoken: "{{ tok.token }}"

- name: Delete it
  turret.controller.token:
    existing_token: "{{ tok.token }}"
    state: absent
'''

RETURN = r'''
id:
  description: Id of the token.
  returned: always
  type: int
token:
  description: The created token object; C(token.token) is the secret value.
  returned: when O(state=present)
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule


def main():
    module = ControllerModule(argument_spec=dict(
        description=dict(type="str"), scope=dict(type="str", default="write", choices=["read", "write"]),
        application=dict(type="int"), existing_token_id=dict(type="int"),
        existing_token=dict(type="dict", no_log=False), state=dict(type="str", default="present", choices=["present", "absent"]),
    ), supports_check_mode=True, required_if=[("state", "absent", ("existing_token_id", "existing_token"), True)])
    p, api = module.params, module.api
    try:
        if p["state"] == "absent":
            token_id = p["existing_token_id"] or p["existing_token"]["id"]
            try:
                api.get("tokens/%s" % token_id)
            except ControllerError as e:
                if e.status == 404:
                    module.exit_json(changed=False, id=token_id)
                raise
            if not module.check_mode:
                api.delete("tokens/%s" % token_id)
            module.exit_json(changed=True, id=token_id)
        if module.check_mode:
            module.exit_json(changed=True, id=None, token={})
        body = dict((k, p[k]) for k in ("description", "scope", "application") if p.get(k) is not None)
        token = api.post("tokens", body)
        module.exit_json(changed=True, id=token["id"], token=token)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

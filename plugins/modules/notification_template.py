#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, ControllerModule, Resource, ensure)

TYPES = ["awssns", "dingtalk", "discord", "email", "grafana", "irc", "mattermost", "pagerduty", "rocketchat",
         "slack", "teams", "telegram", "twilio", "webhook", "wecom"]

RESOURCE = Resource(
    endpoint="notification_templates",
    fields=dict(
        description='str',
        notification_type=dict(type='str', choices=TYPES),
        notification_configuration='dict', messages='dict',
    ),
    fks=dict(organization="organizations"),
    optional_scope=('organization',),
    secrets=('notification_configuration',),
    subset_fields=('notification_configuration',),
    required_on_create=('organization', 'notification_type'),
)


def copy_if_asked(module):
    """Create the template as a copy of ``copy_from`` when none named ``name`` exists yet
    (awx.awx's behaviour); ``ensure`` then finds the copy and applies the other options.
    Returns whether a copy was made (True in check mode when one would be)."""
    p, api = module.params, module.api
    if not p.get("copy_from") or p["state"] != "present":
        return False
    scope = {}
    if p.get("organization"):
        scope["organization"] = api.resolve_id("organizations", p["organization"])
    if api.lookup(RESOURCE.endpoint, p["name"], scope=scope, required=False):
        return False
    source = api.lookup(RESOURCE.endpoint, p["copy_from"])
    if not module.check_mode:
        api.post(source["related"]["copy"], {"name": p["name"]})
    return True


def main():
    spec = RESOURCE.argument_spec()
    spec["copy_from"] = dict(type="str")
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)
    try:
        copied = copy_if_asked(module)
        if copied and module.check_mode:
            module.exit_json(changed=True, copied=True, id=None, object={})
        result = ensure(module, RESOURCE)
        if module.params.get("copy_from"):
            result["copied"] = copied
            result["changed"] = result["changed"] or copied
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: notification_template
short_description: Manage notification templates
version_added: 0.1.0
description:
- Create, update, copy or delete a notification template of a Turret controller
  (C(/api/v2/notification_templates/)), which says where messages about jobs go (email, Slack, a webhook, Teams,
  DingTalk, WeCom ...) and what they say.
- Attach a template to what it reports on with the C(notification_templates_started),
  C(notification_templates_success), C(notification_templates_error) (and C(notification_templates_approvals))
  options of M(turret.controller.job_template), M(turret.controller.project), M(turret.controller.organization)
  and M(turret.controller.workflow_job_template).
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.resource.secrets
options:
  name:
    description:
    - Name of the notification template; identifies it (within O(organization) when given). Digits alone also
      match an id.
    type: str
    required: true
  organization:
    type: str
    description:
    - The organization, by name or id.
    - The organization that owns the template; needed to create one. When given it also narrows the lookup.
  notification_type:
    type: str
    description:
    - The kind of destination; it decides the keys of O(notification_configuration) (the API's C(OPTIONS) lists
      them per type). Needed to create a template.
    choices:
    - awssns
    - dingtalk
    - discord
    - email
    - grafana
    - irc
    - mattermost
    - pagerduty
    - rocketchat
    - slack
    - teams
    - telegram
    - twilio
    - webhook
    - wecom
  notification_configuration:
    type: dict
    description:
    - The destination's settings, for example C(url), C(http_method) and C(headers) of a C(webhook), or
      C(webhook_url) and C(secret) of a C(dingtalk) robot. Secret keys (passwords, tokens) are stored encrypted
      and shown as C($encrypted$).
    - Compared on the keys given only; the keys not given keep their stored values (the server fills in defaults
      for those never given). A stored secret is kept only while the destination stays the same (changing a URL,
      host or port needs the secret again).
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
  messages:
    type: dict
    description:
    - Custom message templates (Jinja) instead of the type's defaults, in AWX's shape. Keys C(started),
      C(success) and C(error) each hold a C(message) (the subject) and a C(body); C(workflow_approval) holds the
      same for C(running), C(approved), C(timed_out) and C(denied). Null keeps the defaults.
    - A message may not contain a newline; the server checks every template when it is saved.
  copy_from:
    type: str
    description:
    - Name or id of a notification template to copy (C(POST .../copy/)) when no template named O(name) exists yet;
      the other options then apply to the copy. Ignored when the template exists.
'''

EXAMPLES = r'''
- name: Tell a webhook about failed jobs
  turret.controller.notification_template:
    name: ops hook
    organization: Engineering
    notification_type: webhook
    notification_configuration:
      url: https://hooks.example.com/turret
      http_method: POST
      headers: {X-Team: ops}
      username: ''
      password: ''
      disable_ssl_verification: false

- name: A signed DingTalk robot with a custom subject
  turret.controller.notification_template:
    name: dingtalk ops
    organization: Engineering
    notification_type: dingtalk
    notification_configuration:
      webhook_url: https://oapi.dingtalk.com/robot/send?access_token=...
      secret: SEC...
    messages:
      error: {message: "{{ '{{' }} job.name {{ '}}' }} failed"}

- name: Attach it to a job template's failures
  turret.controller.job_template:
    name: deploy site
    notification_templates_error: [ops hook]
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
copied:
  description: Whether the template was created as a copy of O(copy_from).
  returned: when O(copy_from) is given
  type: bool
'''

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, ControllerModule, Resource, ensure)

TYPES = ["awssns", "dingtalk", "discord", "email", "grafana", "irc", "mattermost", "pagerduty", "rocketchat",
         "slack", "teams", "telegram", "twilio", "webhook", "wecom"]

RESOURCE = Resource(
    endpoint="notification_templates",
    fields=dict(
        description=dict(type='str'),
        notification_type=dict(type='str', choices=TYPES),
        notification_configuration=dict(type='dict'),
        messages=dict(type='dict'),
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

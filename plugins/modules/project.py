#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: project
short_description: Manage projects
version_added: 0.1.0
description:
- Create, update or delete a project of a Turret controller (C(/api/v2/projects/)).
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.notifications
- turret.controller.webhooks
options:
  name:
    description:
    - Name of the project; identifies it. Digits alone also match an id.
    type: str
    required: true
  local_path:
    type: str
    description:
    - Local path (relative to the projects root) containing playbooks and related files for this project.
  scm_type:
    type: str
    choices:
    - ''
    - git
    description:
    - Specifies the source control system used to store the project.
  scm_url:
    type: str
    description:
    - The location where the project is stored.
  scm_branch:
    type: str
    description:
    - Specific branch, tag or commit to checkout.
  scm_refspec:
    type: str
    description:
    - For git projects, an additional refspec to fetch.
  scm_clean:
    type: bool
    description:
    - Discard any local changes before syncing the project.
  scm_track_submodules:
    type: bool
    description:
    - Track submodules latest commits on defined branch.
  scm_delete_on_update:
    type: bool
    description:
    - Delete the project before syncing.
  credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - The Source Control credential used to fetch the project from O(scm_url).
  timeout:
    type: int
    description:
    - The amount of time (in seconds) to run before the task is canceled.
  organization:
    type: str
    description:
    - The organization, by name or id (or a C(name++organization) named URL).
    - The organization used to determine access to this template.
  scm_update_on_launch:
    type: bool
    description:
    - Update the project when a job is launched that uses the project.
  scm_update_cache_timeout:
    type: int
    description:
    - The number of seconds after the last project update ran that a new project update will be launched as a job
      dependency.
  allow_override:
    type: bool
    description:
    - Allow changing the SCM branch or revision in a job template that uses this project.
  scm_update_on_push:
    type: bool
    description:
    - Sync the project when its O(webhook_service) delivers a push (C(POST /api/v2/projects/<id>/<service>/));
      O(webhook_events) and O(webhook_ref_filter) narrow which pushes do.
  wait:
    type: bool
    default: true
    description:
    - Wait for the project update the controller starts when the project is created or its source changes.
  wait_timeout:
    type: float
    default: 600
    description:
    - Seconds to wait for that update.
  update_project:
    type: bool
    default: false
    description:
    - Start a project update even when nothing changed (always reports a change).
  default_environment:
    type: str
    description:
    - The execution environment, by name or id, of the project's jobs that name none closer.
'''

EXAMPLES = r'''
- name: A git project, waiting for its first sync
  turret.controller.project:
    name: site
    organization: Engineering
    scm_type: git
    scm_url: https://git.example.com/site.git
    scm_branch: main
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

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, Resource, notification_associations, run_resource)
from ansible_collections.turret.controller.plugins.module_utils.webhook import (
    sync_webhook_key, webhook_fields, webhook_key_spec)

RESOURCE = Resource(
    endpoint="projects",
    fields=dict(
        description=dict(type='str'),
        local_path=dict(type='str'),
        scm_type=dict(type='str', choices=['', 'git']),
        scm_url=dict(type='str'),
        scm_branch=dict(type='str'),
        scm_refspec=dict(type='str'),
        scm_clean=dict(type='bool'),
        scm_track_submodules=dict(type='bool'),
        scm_delete_on_update=dict(type='bool'),
        timeout=dict(type='int'),
        scm_update_on_launch=dict(type='bool'),
        scm_update_cache_timeout=dict(type='int'),
        allow_override=dict(type='bool'),
        scm_update_on_push=dict(type='bool'),
        **webhook_fields(templates=False)
    ),
    fks=dict(credential="credentials", organization="organizations",
             default_environment="execution_environments"),
    optional_scope=('organization',),
    associations=notification_associations(),
)

EXTRA = dict(wait=dict(type="bool", default=True), wait_timeout=dict(type="float", default=600),
             update_project=dict(type="bool", default=False), **webhook_key_spec())


def after(module, result):
    """The project's update, then the webhook key (whose change must not count as a source change)."""
    update_and_wait(module, result)
    sync_webhook_key(module, result)


def update_and_wait(module, result):
    """Start (update_project) and wait for the project's update, like awx.awx.project."""
    obj, api, p = result["object"], module.api, module.params
    if module.check_mode or not obj.get("url") or not obj.get("scm_type"):
        return
    update = None
    if p["update_project"]:
        update = api.post(obj["related"]["update"])
        result["changed"] = True
    elif result["changed"]:
        current = api.get(obj["url"]).get("summary_fields", {}).get("current_update")
        update = current
    if update and p["wait"]:
        done = api.wait("project_updates/%s" % update.get("project_update", update.get("id")),
                        timeout=p["wait_timeout"])
        result["update"] = done
        if done["status"] != "successful":
            raise ControllerError("project update %s ended %s" % (done["id"], done["status"]), body=done)


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import (
    ControllerError, Resource, notification_associations, run_resource)
from ansible_collections.turret.controller.plugins.module_utils.webhook import (
    sync_webhook_key, webhook_fields, webhook_key_spec)

RESOURCE = Resource(
    endpoint="projects",
    fields=dict(
        description='str', local_path='str',
        scm_type=dict(type='str', choices=['', 'git']),
        scm_url='str', scm_branch='str', scm_refspec='str', scm_clean='bool', scm_track_submodules='bool',
        scm_delete_on_update='bool', timeout='int', scm_update_on_launch='bool',
        scm_update_cache_timeout='int', allow_override='bool', scm_update_on_push='bool',
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

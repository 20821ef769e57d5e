#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import (
    Assoc, Resource, notification_associations, run_resource, sync_survey)
from ansible_collections.turret.controller.plugins.module_utils.templates import template_spec
from ansible_collections.turret.controller.plugins.module_utils.webhook import (
    sync_webhook_key, webhook_fields, webhook_key_spec)
from ansible_collections.turret.controller.plugins.module_utils.workflow import sync_workflow_nodes

RESOURCE = Resource(
    endpoint="workflow_job_templates",
    fields=dict(
        template_spec(),
        description='str', limit='str', scm_branch='str', job_tags='str', skip_tags='str', extra_vars='raw',
        **webhook_fields()
    ),
    fks=dict(organization="organizations", inventory="inventories", webhook_credential="credentials"),
    optional_scope=('organization',),
    vars_fields=('extra_vars',),
    associations=dict(labels=Assoc("labels"), **notification_associations(approvals=True)),
)

EXTRA = dict(survey_spec=dict(type="dict"),
             workflow_nodes=dict(type="list", elements="dict", aliases=["schema"]), **webhook_key_spec())


def after(module, result):
    """The survey, the graph, then the webhook key."""
    sync_survey(module, result)
    if module.params["workflow_nodes"] is not None:
        sync_workflow_nodes(module, result, module.params["workflow_nodes"])
    sync_webhook_key(module, result)


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

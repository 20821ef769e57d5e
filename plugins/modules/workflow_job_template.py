#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: workflow_job_template
short_description: Manage workflow job templates and their graph of nodes
version_added: 0.1.0
description:
- Create, update or delete a workflow job template of a Turret controller (C(/api/v2/workflow_job_templates/)),
  with its survey, labels and, through O(workflow_nodes), every node of its graph and every edge between nodes.
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.notifications
- turret.controller.notifications.approvals
- turret.controller.template
- turret.controller.webhooks
- turret.controller.webhooks.templates
options:
  name:
    description:
    - Name of the workflow job template; identifies it (with O(organization) when given). Digits alone also match an id.
    type: str
    required: true
  organization:
    type: str
    description:
    - The organization, by name or id (or a C(name++organization) named URL).
    - The organization whose workflow admins, approvers and members may use the workflow; narrows the lookup
      by O(name).
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The hosts of the nodes whose job templates prompt for an inventory (C(ask_inventory_on_launch)).
  limit:
    type: str
    description:
    - A host pattern given to the nodes whose job templates prompt for a limit. Empty or null gives none
      (an empty limit never clears a node's own limit).
  scm_branch:
    type: str
    description:
    - The branch given to the nodes whose job templates prompt for one (C(ask_scm_branch_on_launch)).
  job_tags:
    type: str
    description:
    - Comma-separated tags given to the nodes whose job templates prompt for tags.
  skip_tags:
    type: str
    description:
    - Comma-separated tags to skip, given to the nodes whose job templates prompt for them.
  extra_vars:
    type: raw
    description:
    - Variables of every job the workflow runs; they win over the job templates', the nodes' and the
      artifacts of earlier nodes.
    - A dict, or YAML/JSON text; compared as data.
  labels:
    type: list
    elements: str
    description:
    - Names or ids of existing labels of the workflow job template (exactly this list).
  workflow_nodes:
    type: list
    elements: dict
    aliases: [schema]
    description:
    - The whole graph, one dict per node; nodes of the template that are not listed are deleted, the
      others are created or updated to match (left out, the graph is not touched).
    - C(identifier) (required) names the node, unique within the workflow.
    - C(unified_job_template) is what the node runs, a dict with C(type) (C(job_template), C(project),
      C(inventory_source), C(workflow_job_template) or C(approval)) and C(name), narrowed by C(organization)
      (or, for an inventory source, C(inventory)); an id or unique name alone is looked up among all templates.
      An approval takes C(name), C(description), C(timeout) (seconds, C(0) never), C(required_approvals) and
      C(on_timeout) (C(deny) or C(approve)) and gets its own approval template.
    - C(success_nodes), C(failure_nodes), C(always_nodes) list the identifiers of the nodes that run after this
      one when it succeeds, fails, or either (awx.awx's C(related) form is accepted too).
    - C(all_parents_must_converge) makes the node wait for every parent to take an edge to it.
    - 'Prompts given to the node''s job where its template asks for them: C(extra_data), C(inventory), C(limit),
      C(scm_branch), C(job_type), C(job_tags), C(skip_tags), C(diff_mode), C(verbosity), C(forks), C(timeout),
      C(job_slice_count), C(credentials), C(labels); and the per-node overrides C(start_at_task),
      C(force_handlers), C(become_enabled), with retries C(max_retries) and C(retry_delay) (seconds).'
    - A node is exactly what it lists; a field left out goes back to its default (prompts to "not given"),
      except C(credentials) and C(labels), which are left as they are unless listed.
'''

EXAMPLES = r'''
- name: Build, approve, deploy; notify on failure
  turret.controller.workflow_job_template:
    name: release
    organization: Engineering
    extra_vars: {channel: stable}
    workflow_nodes:
      - identifier: build
        unified_job_template: {type: job_template, name: build, organization: Engineering}
        success_nodes: [approve]
        failure_nodes: [notify]
      - identifier: approve
        unified_job_template: {type: approval, name: "Ship it?", timeout: 3600}
        success_nodes: [deploy]
      - identifier: deploy
        unified_job_template: {type: job_template, name: deploy}
        limit: web
        max_retries: 2
      - identifier: notify
        unified_job_template: {type: job_template, name: notify}
'''

RETURN = r'''
id:
  description: Id of the workflow job template (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The workflow job template as the API returns it (the planned object in check mode).
  returned: always
  type: dict
nodes:
  description: Identifier -> id of every declared node (null for a node created in check mode).
  returned: when O(workflow_nodes) is given
  type: dict
  sample: {build: 7, deploy: 8}
'''

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
        description=dict(type='str'),
        limit=dict(type='str'),
        scm_branch=dict(type='str'),
        job_tags=dict(type='str'),
        skip_tags=dict(type='str'),
        extra_vars=dict(type='raw'),
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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_options_spec
from ansible_collections.turret.controller.plugins.module_utils.workflow import Sync

NODE = Assoc("workflow_job_template_nodes", identity="identifier", scope=("workflow_job_template",))

RESOURCE = Resource(
    endpoint="workflow_job_template_nodes",
    identity="identifier",
    fields=dict(
        job_options_spec(playbook=True),
        all_parents_must_converge='bool', extra_data='dict', job_slice_count='int', timeout='int',
        start_at_task='str', force_handlers='bool', become_enabled='bool', max_retries='int',
        retry_delay='int',
    ),
    fks=dict(workflow_job_template="workflow_job_templates", inventory="inventories",
             unified_job_template="unified_job_templates", execution_environment="execution_environments"),
    scope=("workflow_job_template",),
    create_only=("workflow_job_template",),
    associations=dict(credentials=Assoc("credentials"), labels=Assoc("labels"),
                      success_nodes=NODE, failure_nodes=NODE, always_nodes=NODE),
)

EXTRA = dict(approval=dict(type="dict"))


def after(module, result):
    """Keep the node's approval template as ``approval`` says."""
    wanted = module.params["approval"]
    if wanted is None:
        return
    if not wanted.get("name"):
        module.fail_json(msg="approval needs a name")
    node = result["object"]
    sync = Sync(module, None)
    if node.get("url"):
        sync.ensure_approval(node["identifier"], node, wanted)
    else:
        sync.changes.append("create approval %s" % wanted["name"])
    if sync.changes:
        result["changed"] = True
        result.setdefault("diff", {"before": {}, "after": {}})["after"]["approval"] = wanted


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: job_template
short_description: Manage job templates (with credentials, labels and survey)
version_added: 0.1.0
description:
- Create, update or delete a job template of a Turret controller (C(/api/v2/job_templates/)).
extends_documentation_fragment:
- turret.controller.resource.named
- turret.controller.resource.secrets
- turret.controller.job_options
- turret.controller.job_options.playbook
- turret.controller.notifications
- turret.controller.template
- turret.controller.webhooks
- turret.controller.webhooks.templates
options:
  name:
    description:
    - Name of the job template; identifies it. Digits alone also match an id.
    type: str
    required: true
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
    - The hosts the jobs run on. Needed unless O(ask_inventory_on_launch=true), in which case a launch may give it.
  project:
    type: str
    description:
    - The project, by name or id (or a C(name++organization) named URL).
    - Where the playbook comes from; the template's organization is the project's.
  playbook:
    type: str
    description:
    - Path of the playbook to run, relative to the project directory (one of the project's C(playbooks)).
  extra_vars:
    type: raw
    description:
    - Extra variables of every job (C(--extra-vars)), merged under the survey answers and the variables given at launch.
    - A dict, or YAML/JSON text; compared as data.
  force_handlers:
    type: bool
    description:
    - Run the notified handlers even on hosts where a task failed (C(--force-handlers)).
  start_at_task:
    type: str
    description:
    - Start the playbook at the task of this name (C(--start-at-task)); empty starts at the beginning.
  timeout:
    type: int
    description:
    - Seconds a job may run before it is canceled and marked failed; C(0) means no limit.
  use_fact_cache:
    type: bool
    description:
    - If enabled, the service will act as an Ansible Fact Cache Plugin; persisting facts at the end of a playbook
      run to the database and caching facts for use by Ansible.
    - Stored for AWX compatibility; Turret does not cache facts yet.
  host_config_key:
    type: str
    description:
    - The key a host presents to ask for a provisioning callback run of this template (AWX's C(callback) endpoint).
      Needs an inventory. Stored for AWX compatibility; Turret has no callback endpoint yet.
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
  ask_diff_mode_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(diff_mode).
  ask_job_type_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(job_type) (run or check).
  ask_verbosity_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(verbosity).
  ask_credential_on_launch:
    type: bool
    description:
    - Let a launch replace O(credentials), kind by kind.
  ask_execution_environment_on_launch:
    type: bool
    description:
    - Let a launch or a schedule name an execution environment.
      Stored for AWX compatibility; Turret runs jobs in its own Python environment.
  ask_forks_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(forks).
  ask_job_slice_count_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(job_slice_count).
  ask_timeout_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(timeout).
  ask_instance_groups_on_launch:
    type: bool
    description:
    - Let a launch name instance groups. Stored for AWX compatibility; Turret has no instance groups.
  become_enabled:
    type: bool
    description:
    - Run the playbook with privilege escalation (C(--become)).
  job_slice_count:
    type: int
    description:
    - The number of jobs to slice into at runtime. Will cause the Job Template to launch a workflow if value is
      greater than 1.
    - Stored for AWX compatibility; Turret runs every job as one slice.
  prevent_instance_group_fallback:
    type: bool
    description:
    - If enabled, the job template will prevent adding any inventory or organization instance groups to the list
      of preferred instances groups to run on. If this setting is enabled and you provided an empty list, the global
      instance groups will be applied.
    - Stored for AWX compatibility; Turret has no instance groups.
  credentials:
    description:
    - Names or ids of the credentials of the job template (exactly this list).
    type: list
    elements: str
  labels:
    description:
    - Names or ids of existing labels of the job template (exactly this list).
    type: list
    elements: str
  execution_environment:
    type: str
    description:
    - The execution environment, by name or id, its jobs run with (see M(turret.controller.execution_environment)).
  instance_groups:
    type: list
    elements: str
    description:
    - Names or ids of the instance groups the template's jobs run in, most preferred first (exactly this list).
'''

EXAMPLES = r'''
- name: A job template with a credential and a survey
  turret.controller.job_template:
    name: deploy site
    project: site
    inventory: Production
    playbook: site.yml
    credentials: [deploy]
    ask_variables_on_launch: true
    survey_enabled: true
    survey_spec:
      name: ""
      description: ""
      spec:
        - {question_name: Version, variable: version, type: text, required: true}
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
    Assoc, Resource, job_options_spec, notification_associations, run_resource, sync_survey)
from ansible_collections.turret.controller.plugins.module_utils.templates import template_spec
from ansible_collections.turret.controller.plugins.module_utils.webhook import (
    sync_webhook_key, webhook_fields, webhook_key_spec)

RESOURCE = Resource(
    endpoint="job_templates",
    fields=dict(
        template_spec(job_options_spec(playbook=True)),
        description=dict(type='str'),
        playbook=dict(type='str'),
        extra_vars=dict(type='raw'),
        force_handlers=dict(type='bool'),
        start_at_task=dict(type='str'),
        timeout=dict(type='int'),
        use_fact_cache=dict(type='bool'),
        host_config_key=dict(type='str'),
        ask_diff_mode_on_launch=dict(type='bool'),
        ask_job_type_on_launch=dict(type='bool'),
        ask_verbosity_on_launch=dict(type='bool'),
        ask_credential_on_launch=dict(type='bool'),
        ask_execution_environment_on_launch=dict(type='bool'),
        ask_forks_on_launch=dict(type='bool'),
        ask_job_slice_count_on_launch=dict(type='bool'),
        ask_timeout_on_launch=dict(type='bool'),
        ask_instance_groups_on_launch=dict(type='bool'),
        become_enabled=dict(type='bool'),
        job_slice_count=dict(type='int'),
        prevent_instance_group_fallback=dict(type='bool'),
        **webhook_fields()
    ),
    fks=dict(inventory="inventories", project="projects", webhook_credential="credentials",
             execution_environment="execution_environments"),
    vars_fields=('extra_vars',),
    secrets=('host_config_key',),
    associations=dict(credentials=Assoc("credentials"), labels=Assoc("labels"),
                      instance_groups=Assoc("instance_groups"), **notification_associations()),
)

EXTRA = dict(survey_spec=dict(type="dict"), **webhook_key_spec())


def after(module, result):
    """The survey, then the webhook key."""
    sync_survey(module, result)
    sync_webhook_key(module, result)


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

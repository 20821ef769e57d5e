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
  ask_scm_branch_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(scm_branch). Needs the project's C(allow_override).
  ask_diff_mode_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(diff_mode).
  ask_variables_on_launch:
    type: bool
    description:
    - Let a launch or a schedule add any extra variables. Without it only the survey's variables are accepted.
  ask_limit_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(limit).
  ask_tags_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(job_tags).
  ask_skip_tags_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(skip_tags).
  ask_job_type_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(job_type) (run or check).
  ask_verbosity_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(verbosity).
  ask_inventory_on_launch:
    type: bool
    description:
    - Let a launch or a schedule run on another inventory than O(inventory); the template may then have none.
  ask_credential_on_launch:
    type: bool
    description:
    - Let a launch replace O(credentials), kind by kind.
  ask_execution_environment_on_launch:
    type: bool
    description:
    - Let a launch or a schedule name an execution environment.
      Stored for AWX compatibility; Turret runs jobs in its own Python environment.
  ask_labels_on_launch:
    type: bool
    description:
    - Let a launch give the job other labels than O(labels).
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
  survey_enabled:
    type: bool
    description:
    - Ask the questions of O(survey_spec) at launch; their answers become extra variables.
  become_enabled:
    type: bool
    description:
    - Run the playbook with privilege escalation (C(--become)).
  allow_simultaneous:
    type: bool
    description:
    - Let several jobs of this template run at the same time; by default a new job waits until the running one ends.
  job_slice_count:
    type: int
    description:
    - The number of jobs to slice into at runtime. Will cause the Job Template to launch a workflow if value is
      greater than 1.
    - Stored for AWX compatibility; Turret runs every job as one slice.
  webhook_service:
    type: str
    choices:
    - ''
    - github
    - gitlab
    - bitbucket_dc
    description:
    - The service whose webhooks may launch this template (empty for none). Stored for AWX compatibility;
      Turret has no webhook receiver yet.
  webhook_credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - The personal access token used to post the job's status back to the webhook service.
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
  survey_spec:
    type: dict
    description:
    - The survey (C(name), C(description), C(spec) list), set with C(POST survey_spec/); compared as data.
    - An empty dict deletes the survey.
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

RESOURCE = Resource(
    endpoint="job_templates",
    fields=dict(
        job_options_spec(playbook=True),
        description=dict(type='str'),
        playbook=dict(type='str'),
        extra_vars=dict(type='raw'),
        force_handlers=dict(type='bool'),
        start_at_task=dict(type='str'),
        timeout=dict(type='int'),
        use_fact_cache=dict(type='bool'),
        host_config_key=dict(type='str'),
        ask_scm_branch_on_launch=dict(type='bool'),
        ask_diff_mode_on_launch=dict(type='bool'),
        ask_variables_on_launch=dict(type='bool'),
        ask_limit_on_launch=dict(type='bool'),
        ask_tags_on_launch=dict(type='bool'),
        ask_skip_tags_on_launch=dict(type='bool'),
        ask_job_type_on_launch=dict(type='bool'),
        ask_verbosity_on_launch=dict(type='bool'),
        ask_inventory_on_launch=dict(type='bool'),
        ask_credential_on_launch=dict(type='bool'),
        ask_execution_environment_on_launch=dict(type='bool'),
        ask_labels_on_launch=dict(type='bool'),
        ask_forks_on_launch=dict(type='bool'),
        ask_job_slice_count_on_launch=dict(type='bool'),
        ask_timeout_on_launch=dict(type='bool'),
        ask_instance_groups_on_launch=dict(type='bool'),
        survey_enabled=dict(type='bool'),
        become_enabled=dict(type='bool'),
        allow_simultaneous=dict(type='bool'),
        job_slice_count=dict(type='int'),
        webhook_service=dict(type='str', choices=['', 'github', 'gitlab', 'bitbucket_dc']),
        prevent_instance_group_fallback=dict(type='bool'),
    ),
    fks=dict(inventory="inventories", project="projects", webhook_credential="credentials"),
    vars_fields=('extra_vars',),
    secrets=('host_config_key',),
    associations=dict(credentials=Assoc("credentials"), labels=Assoc("labels"), **notification_associations()),
)

EXTRA = dict(survey_spec=dict(type="dict"))


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=sync_survey)


if __name__ == '__main__':
    main()

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
- 'Idempotent: only the fields that differ are sent (C(PATCH)); supports check mode and diff.'
author:
- Turret maintainers (@turret)
extends_documentation_fragment:
- turret.controller.auth
options:
  name:
    description:
    - Name of the job template; identifies it. Digits alone also match an id.
    type: str
    required: true
  new_name:
    description:
    - Rename an existing job template to this.
    type: str
  description:
    type: str
    description:
    - Optional description of this job template.
  job_type:
    type: str
    choices:
    - run
    - check
    description:
    - The job type of the job template.
  inventory:
    type: str
    description:
    - The inventory, by name or id (or a C(name++organization) named URL).
  project:
    type: str
    description:
    - The project, by name or id (or a C(name++organization) named URL).
  playbook:
    type: str
    description:
    - The playbook of the job template.
  scm_branch:
    type: str
    description:
    - Branch to use in job run. Project default used if blank. Only allowed if project allow_override field is set
      to true.
  forks:
    type: int
    description:
    - The forks of the job template.
  limit:
    type: str
    description:
    - The limit of the job template.
  verbosity:
    type: int
    choices:
    - 0
    - 1
    - 2
    - 3
    - 4
    - 5
    description:
    - The verbosity of the job template.
  extra_vars:
    type: raw
    description:
    - A dict, or YAML/JSON text; compared as data.
  job_tags:
    type: str
    description:
    - The job tags of the job template.
  force_handlers:
    type: bool
    description:
    - The force handlers of the job template.
  skip_tags:
    type: str
    description:
    - The skip tags of the job template.
  start_at_task:
    type: str
    description:
    - The start at task of the job template.
  timeout:
    type: int
    description:
    - The amount of time (in seconds) to run before the task is canceled.
  use_fact_cache:
    type: bool
    description:
    - If enabled, the service will act as an Ansible Fact Cache Plugin; persisting facts at the end of a playbook
      run to the database and caching facts for use by Ansible.
  host_config_key:
    type: str
    description:
    - The host config key of the job template.
    - 'Secret: an existing value (shown by the API as C($encrypted$)) counts as unchanged unless O(update_secrets=true).'
  ask_scm_branch_on_launch:
    type: bool
    description:
    - The ask scm branch on launch of the job template.
  ask_diff_mode_on_launch:
    type: bool
    description:
    - The ask diff mode on launch of the job template.
  ask_variables_on_launch:
    type: bool
    description:
    - The ask variables on launch of the job template.
  ask_limit_on_launch:
    type: bool
    description:
    - The ask limit on launch of the job template.
  ask_tags_on_launch:
    type: bool
    description:
    - The ask tags on launch of the job template.
  ask_skip_tags_on_launch:
    type: bool
    description:
    - The ask skip tags on launch of the job template.
  ask_job_type_on_launch:
    type: bool
    description:
    - The ask job type on launch of the job template.
  ask_verbosity_on_launch:
    type: bool
    description:
    - The ask verbosity on launch of the job template.
  ask_inventory_on_launch:
    type: bool
    description:
    - The ask inventory on launch of the job template.
  ask_credential_on_launch:
    type: bool
    description:
    - The ask credential on launch of the job template.
  ask_execution_environment_on_launch:
    type: bool
    description:
    - The ask execution environment on launch of the job template.
  ask_labels_on_launch:
    type: bool
    description:
    - The ask labels on launch of the job template.
  ask_forks_on_launch:
    type: bool
    description:
    - The ask forks on launch of the job template.
  ask_job_slice_count_on_launch:
    type: bool
    description:
    - The ask job slice count on launch of the job template.
  ask_timeout_on_launch:
    type: bool
    description:
    - The ask timeout on launch of the job template.
  ask_instance_groups_on_launch:
    type: bool
    description:
    - The ask instance groups on launch of the job template.
  survey_enabled:
    type: bool
    description:
    - The survey enabled of the job template.
  become_enabled:
    type: bool
    description:
    - The become enabled of the job template.
  diff_mode:
    type: bool
    description:
    - If enabled, textual changes made to any templated files on the host are shown in the standard output
  allow_simultaneous:
    type: bool
    description:
    - The allow simultaneous of the job template.
  job_slice_count:
    type: int
    description:
    - The number of jobs to slice into at runtime. Will cause the Job Template to launch a workflow if value is
      greater than 1.
  webhook_service:
    type: str
    choices:
    - ''
    - github
    - gitlab
    - bitbucket_dc
    description:
    - Service that webhook requests will be accepted from
  webhook_credential:
    type: str
    description:
    - The credential, by name or id (or a C(name++organization) named URL).
    - Personal Access Token for posting back the status to the service API
  prevent_instance_group_fallback:
    type: bool
    description:
    - If enabled, the job template will prevent adding any inventory or organization instance groups to the list
      of preferred instances groups to run on.If this setting is enabled and you provided an empty list, the global
      instance groups will be applied.
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
  state:
    description:
    - C(present) creates or updates the job template, C(absent) deletes it.
    type: str
    default: present
    choices:
    - present
    - absent
  update_secrets:
    description:
    - Send secret values even when the API shows C($encrypted$) for them (always reports a change).
    type: bool
    default: false
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

from ansible_collections.turret.controller.plugins.module_utils.module import Assoc, Resource, run_resource

RESOURCE = Resource(
    endpoint="job_templates",
    fields=dict(
        description=dict(type='str'),
        job_type=dict(type='str', choices=['run', 'check']),
        playbook=dict(type='str'),
        scm_branch=dict(type='str'),
        forks=dict(type='int'),
        limit=dict(type='str'),
        verbosity=dict(type='int', choices=[0, 1, 2, 3, 4, 5]),
        extra_vars=dict(type='raw'),
        job_tags=dict(type='str'),
        force_handlers=dict(type='bool'),
        skip_tags=dict(type='str'),
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
        diff_mode=dict(type='bool'),
        allow_simultaneous=dict(type='bool'),
        job_slice_count=dict(type='int'),
        webhook_service=dict(type='str', choices=['', 'github', 'gitlab', 'bitbucket_dc']),
        prevent_instance_group_fallback=dict(type='bool'),
    ),
    fks=dict(inventory="inventories", project="projects", webhook_credential="credentials"),
    vars_fields=('extra_vars',),
    secrets=('host_config_key',),
    associations=dict(credentials=Assoc("credentials"), labels=Assoc("labels")),
)

EXTRA = dict(survey_spec=dict(type="dict"))


def after(module, result):
    """Keep /job_templates/N/survey_spec/ equal to the survey_spec option."""
    wanted, obj, api = module.params["survey_spec"], result["object"], module.api
    if wanted is None:
        return
    url = obj.get("url", "") + "survey_spec/"
    current = api.get(url) if obj.get("url") else {}
    if (current or {}) == wanted:
        return
    result["changed"] = True
    diff = result.setdefault("diff", {"before": {}, "after": {}})
    if not getattr(module, "created", False):
        diff["before"]["survey_spec"] = current or {}
    diff["after"]["survey_spec"] = wanted
    if not module.check_mode:
        if wanted:
            api.post(url, wanted)
        else:
            api.delete(url)


def main():
    run_resource(RESOURCE, extra_spec=EXTRA, after=after)


if __name__ == '__main__':
    main()

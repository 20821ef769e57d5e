#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import (
    Assoc, Resource, notification_associations, run_resource, sync_survey)
from ansible_collections.turret.controller.plugins.module_utils.jobs import job_options_spec
from ansible_collections.turret.controller.plugins.module_utils.templates import template_spec
from ansible_collections.turret.controller.plugins.module_utils.webhook import (
    sync_webhook_key, webhook_fields, webhook_key_spec)

RESOURCE = Resource(
    endpoint="job_templates",
    fields=dict(
        template_spec(job_options_spec(playbook=True)),
        description='str', playbook='str', extra_vars='raw', force_handlers='bool', start_at_task='str',
        timeout='int', use_fact_cache='bool', host_config_key='str', ask_diff_mode_on_launch='bool',
        ask_job_type_on_launch='bool', ask_verbosity_on_launch='bool', ask_credential_on_launch='bool',
        ask_execution_environment_on_launch='bool', ask_forks_on_launch='bool',
        ask_job_slice_count_on_launch='bool', ask_timeout_on_launch='bool',
        ask_instance_groups_on_launch='bool', become_enabled='bool', job_slice_count='int',
        prevent_instance_group_fallback='bool',
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

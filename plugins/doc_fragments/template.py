# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options job templates and workflow job templates share (the ask_* flags both kinds have, the
    # survey, concurrency); module_utils/templates.py template_spec is their argument spec (survey_spec
    # is the modules' extra option, synced by sync_survey).
    DOCUMENTATION = r'''
options:
  ask_variables_on_launch:
    type: bool
    description:
    - Let a launch or a schedule add any extra variables. Without it only the survey's variables are accepted.
  ask_inventory_on_launch:
    type: bool
    description:
    - Let a launch or a schedule run on another inventory than O(inventory); a job template may then have none.
  ask_scm_branch_on_launch:
    type: bool
    description:
    - Let a launch or a schedule replace O(scm_branch). A job template needs its project's C(allow_override).
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
  ask_labels_on_launch:
    type: bool
    description:
    - Let a launch give the job other labels than O(labels).
  survey_enabled:
    type: bool
    description:
    - Ask the questions of O(survey_spec) at launch; their answers become extra variables.
  survey_spec:
    type: dict
    description:
    - The survey (C(name), C(description), C(spec) list), set with C(POST survey_spec/); compared as data.
    - An empty dict deletes the survey.
  allow_simultaneous:
    type: bool
    description:
    - Let several jobs of this template run at the same time; by default a new job waits until the running one ends.
'''

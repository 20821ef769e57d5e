# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The run options of AWX's JobOptions that every job-running resource shares: job_template
    # (its defaults), schedule and job_launch (prompts), ad_hoc_command (the run itself);
    # their argument spec is module_utils/module.py job_options_spec.
    DOCUMENTATION = r'''
options:
  job_type:
    description:
      - C(run) runs normally; C(check) runs in check mode (C(--check)), reporting what would change
        without changing anything.
    type: str
    choices: [run, check]
  limit:
    description:
      - A host pattern that narrows the inventory to the hosts the job runs on (C(--limit)),
        for example C(web:!web3). Empty runs on every host of the inventory.
    type: str
  forks:
    description:
      - How many hosts Ansible works on in parallel (C(--forks)); C(0) keeps Ansible's default of 5.
      - The controller's capacity counts a job as the smaller of its forks and its hosts, plus one.
    type: int
  verbosity:
    description:
      - Output verbosity, from C(0) (normal) to C(5) (C(-vvvvv), WinRM debug).
    type: int
    choices: [0, 1, 2, 3, 4, 5]
  diff_mode:
    description:
      - Show the changes made to templated files and other text on the hosts (C(--diff)).
    type: bool
'''

    # The options only a playbook run has (not an ad hoc command).
    PLAYBOOK = r'''
options:
  scm_branch:
    description:
      - Branch, tag or commit of the project to take the playbook from. Empty uses the project's own
        branch. Any other value needs the project's C(allow_override).
    type: str
  job_tags:
    description:
      - Only run the plays and tasks that have one of these tags (comma-separated, C(--tags)).
    type: str
  skip_tags:
    description:
      - Skip the plays and tasks that have one of these tags (comma-separated, C(--skip-tags)).
    type: str
'''

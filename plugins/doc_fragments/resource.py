# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options every resource module has (module_utils/module.py Resource.argument_spec, run_resource).
    DOCUMENTATION = r'''
options:
  state:
    description:
      - C(present) creates the object when none matches, otherwise sends only the fields that differ (C(PATCH)).
      - C(absent) deletes the object when it exists.
    type: str
    default: present
    choices: [present, absent]
notes:
  - 'Idempotent: an option left out is left as it is, an option equal to the stored value is not sent;
    supports check mode and diff.'
'''

    # The rename and description options of the resources identified by a name.
    NAMED = r'''
options:
  new_name:
    description:
      - Rename the object found by O(name) to this name; an object created by the task gets this name.
    type: str
  description:
    description:
      - Free text describing the object (empty by default).
    type: str
'''

    # The option of the resources that have secret fields (Resource.secrets).
    SECRETS = r'''
options:
  update_secrets:
    description:
      - The API never shows a stored secret (it answers C($encrypted$)), so by default a secret option only
        counts as a change when the object has no value for it yet.
      - C(true) sends the secret options given every time, and then always reports a change.
    type: bool
    default: false
'''

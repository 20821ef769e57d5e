# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.turret.controller.plugins.doc_fragments.auth import ModuleDocFragment as AuthFragment


class ResourceParts(object):
    """The literal parts of the composed variants below (ansible-test's yamllint checks them here)."""

    # The options every resource module has (module_utils/module.py Resource.argument_spec, run_resource).
    STATE = r'''
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


def combine(*fragments):
    """One fragment's YAML made of several, merged as Ansible merges fragments listed one after
    the other: options joined, lists (author, notes) appended in order."""
    merged = {}
    for text in fragments:
        for key, value in yaml.safe_load(text).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return yaml.safe_dump(merged, default_flow_style=False, sort_keys=False)


class ModuleDocFragment(object):
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


# Every resource module extends one of these two, which include the connection options and author
# (turret.controller.auth) a resource module always has, so that a module lists one fragment, not three.
# They are set after the class because they are composed: ansible-test's yamllint reads each
# assignment in a fragment class as a literal string (it lints the literals above instead).
ModuleDocFragment.DOCUMENTATION = combine(AuthFragment.DOCUMENTATION, ResourceParts.STATE)
ModuleDocFragment.NAMED = combine(AuthFragment.DOCUMENTATION, ResourceParts.STATE, ResourceParts.NAMED)

# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attach options of the modules whose object notifies (module_utils/module.py notification_associations).
    DOCUMENTATION = r'''
options:
  notification_templates_started:
    description:
      - Names or ids of the notification templates told when a job of this object starts (exactly this list).
      - A job notifies the templates of its job template, its project and its organization together.
    type: list
    elements: str
  notification_templates_success:
    description:
      - Names or ids of the notification templates told when a job of this object succeeds (exactly this list).
    type: list
    elements: str
  notification_templates_error:
    description:
      - Names or ids of the notification templates told when a job of this object ends any other way
        (failed, error, canceled; exactly this list).
    type: list
    elements: str
'''

    # Organizations and workflow job templates also notify about workflow approvals.
    APPROVALS = r'''
options:
  notification_templates_approvals:
    description:
      - Names or ids of the notification templates told when a workflow approval of this object waits, is
        approved, denied or times out (exactly this list).
    type: list
    elements: str
'''

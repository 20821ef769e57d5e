# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of the modules that start a job (module_utils/module.py wait_spec).
    DOCUMENTATION = r'''
options:
  wait:
    description:
      - Wait until the job is finished (and its events are stored); the task fails unless it ends C(successful).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the job before failing. C(0) waits forever.
    type: float
    default: 600
  interval:
    description:
      - Seconds between two polls of the job.
    type: float
    default: 1.0
'''

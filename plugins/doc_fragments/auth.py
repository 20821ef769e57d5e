# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of every module (plugins/module_utils/module.py auth_argument_spec), and the
    # author they all share; the resource fragments include it (resource.py).
    DOCUMENTATION = r'''
options:
  controller_host:
    description:
      - URL of the Turret controller, for example C(http://127.0.0.1:8013). A host without a scheme gets C(https://).
      - Falls back to E(TURRET_CONTROLLER_HOST), E(CONTROLLER_HOST), E(TOWER_HOST), then E(TURRET_HOST).
      - Defaults to C(http://127.0.0.1:8013).
    type: str
  controller_username:
    description:
      - User to authenticate as (HTTP Basic auth on every request).
      - Falls back to E(TURRET_USERNAME), E(CONTROLLER_USERNAME), E(TOWER_USERNAME).
    type: str
  controller_password:
    description:
      - Password of O(controller_username).
      - Falls back to E(TURRET_PASSWORD), E(CONTROLLER_PASSWORD), E(TOWER_PASSWORD).
    type: str
  controller_oauthtoken:
    description:
      - An API token (a string, or a dict with a C(token) key such as the result of M(turret.controller.token)).
      - Used as C(Authorization Bearer) instead of the username and password.
      - Falls back to E(TURRET_TOKEN), E(CONTROLLER_OAUTH_TOKEN), E(TOWER_OAUTH_TOKEN).
    type: raw
  validate_certs:
    description:
      - Verify the server's TLS certificate. Defaults to true.
      - Falls back to E(TURRET_VERIFY_SSL), E(CONTROLLER_VERIFY_SSL), E(TOWER_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  request_timeout:
    description:
      - Seconds to wait for each API request. Defaults to 10.
      - Falls back to E(TURRET_REQUEST_TIMEOUT), E(CONTROLLER_REQUEST_TIMEOUT).
    type: float
author:
  - Turret maintainers (@turret)
notes:
  - Every module of this collection is in the action group C(turret.controller.controller), so
    C(module_defaults) with C(group/turret.controller.controller) sets these options once.
'''

    # The same options for the inventory and lookup plugins, with their environment variables
    # (the last variable set wins, so the most specific comes last).
    PLUGINS = r'''
options:
  controller_host:
    description:
    - URL of the Turret controller, for example C(http://127.0.0.1:8013). A host without a scheme gets C(https://).
    - Defaults to C(http://127.0.0.1:8013).
    type: str
    env:
    - name: TURRET_HOST
    - name: TOWER_HOST
    - name: CONTROLLER_HOST
    - name: TURRET_CONTROLLER_HOST
  controller_username:
    description:
    - User to authenticate as (HTTP Basic auth on every request).
    type: str
    env:
    - name: TOWER_USERNAME
    - name: CONTROLLER_USERNAME
    - name: TURRET_USERNAME
  controller_password:
    description:
    - Password of O(controller_username).
    type: str
    env:
    - name: TOWER_PASSWORD
    - name: CONTROLLER_PASSWORD
    - name: TURRET_PASSWORD
  controller_oauthtoken:
    description:
    - An API token (a string, or a dict with a C(token) key such as the result of M(turret.controller.token)).
    - Used as C(Authorization Bearer) instead of the username and password.
    type: raw
    env:
    - name: TOWER_OAUTH_TOKEN
    - name: CONTROLLER_OAUTH_TOKEN
    - name: TURRET_TOKEN
  validate_certs:
    description:
    - Verify the server's TLS certificate. Defaults to true.
    type: bool
    aliases:
    - verify_ssl
    env:
    - name: TOWER_VERIFY_SSL
    - name: CONTROLLER_VERIFY_SSL
    - name: TURRET_VERIFY_SSL
  request_timeout:
    description:
    - Seconds to wait for each API request. Defaults to 10.
    type: float
    env:
    - name: CONTROLLER_REQUEST_TIMEOUT
    - name: TURRET_REQUEST_TIMEOUT
'''

# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: api
short_description: Read any endpoint of a Turret controller
version_added: 0.1.0
author:
  - Turret maintainers (@turret)
description:
  - Returns the JSON of a list or detail endpoint of the controller's API v2, for example
    C(job_templates), C(jobs/12) or C(inventories/3/hosts).
  - A list gives its C(results) (every page with O(return_all)); a detail gives the object.
extends_documentation_fragment:
  - turret.controller.auth.PLUGINS
options:
  _terms:
    description: Endpoint(s) relative to C(/api/v2/) (or a root-relative C(/api/v2/...) path).
    required: true
    type: list
    elements: str
  query_params:
    description: Query parameters (filters of the API query language, C(order_by), C(page_size)...).
    type: dict
    aliases: [query, data, filter]
  return_all:
    description: Follow C(next) and return every object of a list instead of its first page.
    type: bool
    default: false
  max_objects:
    description: Most objects returned with O(return_all).
    type: int
    default: 1000
  expect_one:
    description: Fail unless a list holds exactly one object, and return that object.
    type: bool
    default: false
  return_objects:
    description: For a list, return its C(results) (V(true)) or the whole page with C(count) and C(next) (V(false)).
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Names of every job template
  ansible.builtin.debug:
    msg: "{{ query('turret.controller.api', 'job_templates', return_all=true) | map(attribute='name') }}"

- name: One host, by a filter
  ansible.builtin.debug:
    msg: "{{ lookup('turret.controller.api', 'hosts', query_params={'name': 'web1'}, expect_one=true) }}"

- name: A detail endpoint
  ansible.builtin.debug:
    msg: "{{ lookup('turret.controller.api', 'config').version }}"
'''

RETURN = r'''
_raw:
  description: The objects of a list endpoint, or the object of a detail endpoint.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.turret.controller.plugins.module_utils.api import ControllerAPI, ControllerError

CONNECTION = ("controller_host", "controller_username", "controller_password", "controller_oauthtoken",
              "validate_certs", "request_timeout")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        api = ControllerAPI(**dict((k, self.get_option(k)) for k in CONNECTION))
        params = self.get_option("query_params") or {}
        out = []
        try:
            for term in terms:
                page = api.get(term, params)
                is_list = isinstance(page, dict) and "results" in page and "count" in page
                if not is_list:
                    out.append(page)
                    continue
                if self.get_option("expect_one"):
                    if page["count"] != 1:
                        raise AnsibleError("%s matched %s objects, expected exactly one" % (term, page["count"]))
                    out.append(page["results"][0])
                elif self.get_option("return_all"):
                    out.extend(api.list(term, params, limit=self.get_option("max_objects")))
                elif self.get_option("return_objects"):
                    out.extend(page["results"])
                else:
                    out.append(page)
        except ControllerError as e:
            raise AnsibleError("turret.controller.api: %s" % to_native(e))
        return out

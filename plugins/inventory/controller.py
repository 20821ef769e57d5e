# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: controller
short_description: Inventories of a Turret controller as Ansible inventory
version_added: 0.1.0
author:
  - Turret maintainers (@turret)
description:
  - Reads one inventory of a Turret controller (C(/api/v2/inventories/N/script/?hostvars=1&towervars=1&all=1))
    with its groups, hosts and variables.
  - Inventory source files must end in C(.controller.yml) or C(.controller.yaml).
  - Supports C(compose), C(groups) and C(keyed_groups) (constructed) and inventory caching.
extends_documentation_fragment:
  - turret.controller.auth.PLUGINS
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it should always be set to V(turret.controller.controller).
    type: str
    required: true
    choices: [turret.controller.controller]
  inventory_id:
    description:
      - The inventory, by id, name, or C(name++organization) named URL.
    type: str
    required: true
    aliases: [inventory]
    env:
      - name: CONTROLLER_INVENTORY
  include_metadata:
    description: Add the controller's version (from C(/api/v2/config/)) as the C(controller_metadata) variable of C(all).
    type: bool
    default: false
'''

EXAMPLES = r'''
# production.controller.yml
plugin: turret.controller.controller
controller_host: http://127.0.0.1:8013
controller_username: admin
controller_password: secret
inventory_id: Production++Engineering
keyed_groups:
  - key: os | default("unknown")
    prefix: os
compose:
  ansible_host: address | default(inventory_hostname)
'''

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.turret.controller.plugins.module_utils.api import ControllerAPI, ControllerError

CONNECTION = ("controller_host", "controller_username", "controller_password", "controller_oauthtoken",
              "validate_certs", "request_timeout")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "turret.controller.controller"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and \
            path.endswith((".controller.yml", ".controller.yaml"))

    def fetch(self):
        """The script data of the inventory: {group: {hosts, children, vars}, _meta: {hostvars}}."""
        api = ControllerAPI(**dict((k, self.get_option(k)) for k in CONNECTION))
        ident = str(self.get_option("inventory_id"))
        inventory = api.lookup("inventories", ident) if not ident.isdigit() else {"id": int(ident)}
        data = api.get("inventories/%s/script" % inventory["id"], {"hostvars": 1, "towervars": 1, "all": 1})
        if self.get_option("include_metadata"):
            config = api.get("config")
            data.setdefault("all", {}).setdefault("vars", {})["controller_metadata"] = dict(
                (k, config.get(k)) for k in ("version", "turret_version", "ansible_version"))
        return data

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path)
        self._read_config_data(path)
        key = self.get_cache_key(path)
        use_cache = cache and self.get_option("cache")
        data = None
        if use_cache:
            try:
                data = self._cache[key]
            except KeyError:
                data = None
        if data is None:
            try:
                data = self.fetch()
            except ControllerError as e:
                raise AnsibleParserError("turret.controller.controller: %s" % to_native(e))
            if self.get_option("cache"):
                self._cache[key] = data
        self.populate(data)

    def populate(self, data):
        hostvars = data.get("_meta", {}).get("hostvars", {})
        for group, body in data.items():
            if group == "_meta" or not isinstance(body, dict):
                continue
            self.inventory.add_group(group)
            for child in body.get("children", []):
                self.inventory.add_group(child)
                self.inventory.add_child(group, child)
            for host in body.get("hosts", []):
                self.inventory.add_host(host, group=group)
            for name, value in body.get("vars", {}).items():
                self.inventory.set_variable(group, name, value)
        strict = self.get_option("strict")
        for host, variables in hostvars.items():
            self.inventory.add_host(host)
            for name, value in variables.items():
                self.inventory.set_variable(host, name, value)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

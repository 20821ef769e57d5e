#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.jobs import Update, run_update

UPDATE = Update(endpoint="inventory_sources", scope=dict(inventory="inventories"), job_key="inventory_update", jobs="inventory_updates")


def main():
    run_update(UPDATE)


if __name__ == '__main__':
    main()

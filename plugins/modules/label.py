#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="labels",
    fields=dict(
    ),
    fks=dict(organization="organizations"),
    scope=('organization',),
    states=('present',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

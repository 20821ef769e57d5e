#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="credential_types",
    fields=dict(
        description='str',
        kind=dict(type='str', choices=[
            'ssh',
            'vault',
            'net',
            'scm',
            'cloud',
            'registry',
            'token',
            'insights',
            'external',
            'kubernetes',
            'galaxy',
            'cryptography']),
        inputs='dict', injectors='dict',
    ),
    required_on_create=('kind',),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

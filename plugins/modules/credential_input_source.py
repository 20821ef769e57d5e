#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="credential_input_sources",
    identity="input_field_name",
    fields=dict(
        metadata=dict(type="dict"),
        description=dict(type="str"),
    ),
    fks=dict(target_credential="credentials", source_credential="credentials"),
    scope=("target_credential",),
    required_on_create=("source_credential",),
    subset_fields=("metadata",),
)


def main():
    run_resource(RESOURCE, extra_spec=dict(target_credential=dict(type="str", required=True)))


if __name__ == '__main__':
    main()

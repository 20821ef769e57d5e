#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: execution_environment
short_description: Manage execution environments
version_added: 0.1.0
description:
- Create, update or delete an execution environment of a Turret controller (C(/api/v2/execution_environments/)).
- An empty O(image) is the controller's own Python; C(venv:<absolute path>) runs jobs with that virtual
  environment's C(ansible-playbook); any other image is a container image, run with podman or docker.
extends_documentation_fragment:
- turret.controller.resource.named
options:
  name:
    description:
    - Name of the execution environment; identifies it. Digits alone also match an id.
    type: str
    required: true
  image:
    type: str
    description:
    - The container image reference (registry, name and tag), or C(venv:<absolute path>) of a local virtual
      environment.
  organization:
    type: str
    description:
    - The organization, by name or id; none makes a global environment (superusers only).
  credential:
    type: str
    description:
    - A Container Registry credential, by name or id, to pull the image with.
  pull:
    type: str
    choices:
    - ''
    - always
    - missing
    - never
    description:
    - When the container image is pulled before a job runs.
'''

EXAMPLES = r'''
- name: Jobs run with a second Python environment
  turret.controller.execution_environment:
    name: ansible 2.16
    image: venv:/opt/ansible-2.16
'''

RETURN = r'''
id:
  description: Id of the object (null when it is absent, or created in check mode).
  returned: always
  type: int
  sample: 42
object:
  description: The object as the API returns it (after the change; the planned object in check mode).
  returned: always
  type: dict
'''

from ansible_collections.turret.controller.plugins.module_utils.module import Resource, run_resource

RESOURCE = Resource(
    endpoint="execution_environments",
    fields=dict(
        description=dict(type='str'),
        image=dict(type='str'),
        pull=dict(type='str', choices=['', 'always', 'missing', 'never']),
    ),
    fks=dict(organization="organizations", credential="credentials"),
)


def main():
    run_resource(RESOURCE)


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The webhook options of job templates, workflow job templates and projects (doc fragment
``webhooks``): plain fields sent with the object, and the key, which the API keeps out of the
object and sets through the object's ``webhook_key/`` sub-resource."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.api import ENCRYPTED

SERVICES = ['', 'github', 'gitlab', 'bitbucket_dc']


def webhook_fields(templates=True):
    """The argument spec of the webhook fields sent with the object (``webhook_credential`` is a
    foreign key: the module declares it in its ``fks``).  ``templates``: also the generic receiver's
    extractors (job and workflow job templates; a project has none)."""
    spec = dict(webhook_service=dict(type='str', choices=SERVICES),
                webhook_events=dict(type='str'),
                webhook_ref_filter=dict(type='str'))
    if templates:
        spec['webhook_extractors'] = dict(type='dict')
    return spec


def webhook_key_spec():
    """The ``webhook_key`` option: a module option, not a field of the object's body."""
    return dict(webhook_key=dict(type='str', no_log=True))


def sync_webhook_key(module, result):
    """Make the object's webhook key the ``webhook_key`` option, when given.

    The stored key is read from ``GET <object>/webhook_key/`` and compared, so the same key twice
    is no change; a different one is set with ``POST <object>/webhook_key/ {"webhook_key": ...}``.
    The value never reaches the result: the diff says only that the key changed (``$encrypted$``).
    In check mode nothing is posted; an object created in check mode has no key yet (a change).
    """
    wanted, obj, api = module.params.get('webhook_key'), result['object'], module.api
    if wanted is None:
        return
    url = obj.get('url', '') + 'webhook_key/' if obj.get('url') else None
    current = (api.get(url) or {}).get('webhook_key') if url else None
    if current == wanted:
        return
    result['changed'] = True
    diff = result.setdefault('diff', {'before': {}, 'after': {}})
    if not getattr(module, 'created', False):
        diff['before']['webhook_key'] = ENCRYPTED if current else ''
    diff['after']['webhook_key'] = ENCRYPTED
    if url and not module.check_mode:
        api.post(url, {'webhook_key': wanted})

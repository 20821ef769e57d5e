# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules of job templates and workflow job templates share: the argument spec of the
options of the ``template`` doc fragment, and the request a ``*_launch`` module posts."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The ask_* flags both kinds of template have (doc fragment turret.controller.template).
SHARED_ASKS = ("ask_variables_on_launch", "ask_inventory_on_launch", "ask_scm_branch_on_launch",
               "ask_limit_on_launch", "ask_tags_on_launch", "ask_skip_tags_on_launch", "ask_labels_on_launch")


def template_spec(base=None):
    """``base`` (a spec) with the argument spec of the ``template`` doc fragment's fields
    (``survey_spec`` is not a field: the modules take it as an extra option and sync it apart)."""
    spec = dict(base or {})
    spec.update((name, dict(type="bool")) for name in SHARED_ASKS + ("survey_enabled", "allow_simultaneous"))
    return spec


def launch_prepare(endpoint, prompts, ids, scope=None):
    """The ``prepare`` of :func:`jobs.launch_and_wait` for a template's ``launch`` action.

    The template is looked up by O(name) at ``endpoint``, narrowed by the ``scope`` options
    (option -> endpoint) that are given; the ``prompts`` given are passed as they are; each of
    the ``ids`` options (option -> endpoint) is resolved to an id when it is set, a list option
    item by item (an empty list is sent: it clears)."""
    scope = scope or {}

    def prepare(p, api):
        where = dict((k, api.resolve_id(ep, p[k])) for k, ep in scope.items() if p.get(k))
        template = api.lookup(endpoint, p["name"], scope=where)
        body = dict((k, p[k]) for k in prompts if p.get(k) is not None)
        for option, ep in ids.items():
            value = p.get(option)
            if isinstance(value, list):
                body[option] = [api.resolve_id(ep, item) for item in value]
            elif value:
                body[option] = api.resolve_id(ep, value)
        return template["related"]["launch"], body
    return prepare

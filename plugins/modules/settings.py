#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

_TRUE = ("true", "yes", "on", "1", "t", "y")
_FALSE = ("false", "no", "off", "0", "f", "n")


def coerce(kind, value):
    """``value`` as the declared ``kind`` when it came as text; anything else is left as given."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            return value
    if kind == "boolean" and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    if kind in ("list", "nested object") and text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return yaml.safe_load(text) if HAS_YAML else value
    return value


def main():
    module = ControllerModule(
        argument_spec=dict(name=dict(type="str"), value=dict(type="raw"), settings=dict(type="dict")),
        required_one_of=[["name", "settings"]], mutually_exclusive=[["name", "settings"]],
        required_by={"name": "value"}, supports_check_mode=True)
    p = module.params
    wanted = p["settings"] if p["settings"] is not None else {p["name"]: p["value"]}
    try:
        kinds = (module.api.request("OPTIONS", "settings/all") or {}).get("actions", {}).get("PUT", {})
        unknown = sorted(k for k in wanted if k not in kinds)
        if unknown:
            module.fail_json(msg="Unknown setting(s): %s" % ", ".join(unknown))
        wanted = dict((k, coerce(kinds[k].get("type"), v)) for k, v in wanted.items())
        current = module.api.get("settings/all")
        changes = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
        result = dict(changed=bool(changes), old_values=dict((k, current.get(k)) for k in changes),
                      new_values=changes)
        if module._diff:
            result["diff"] = dict(before=result["old_values"], after=changes)
        if changes and not module.check_mode:
            stored = module.api.patch("settings/all", changes)
            result["values"] = dict((k, stored.get(k)) for k in wanted)
        elif not module.check_mode:
            result["values"] = dict((k, current.get(k)) for k in wanted)
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()

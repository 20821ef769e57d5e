"""The one place job variables are written: the extra vars file (``-e @file``) of a run.

Contract: a top-level variable equal to the job template's own definition is written as
plain YAML (ansible renders its Jinja); every other value, with every string inside it (keys
and nested values too), is tagged ``!unsafe``, which ansible keeps as text it never renders.
Pure YAML: nothing here needs ansible-runner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class _Untrusted:
    """A value that did not come from the template's own definition."""

    value: Any


class _VarsDumper(yaml.SafeDumper):
    """YAML for ``-e @file``: an ``_Untrusted`` value is written with every string in it (keys
    and nested values too) tagged ``!unsafe``, which ansible keeps as text it never renders."""


def _represent_untrusted(dumper: yaml.SafeDumper, data: _Untrusted) -> yaml.Node:
    value = data.value
    if isinstance(value, str):
        return dumper.represent_scalar("!unsafe", value)
    if isinstance(value, dict):
        return dumper.represent_dict({_Untrusted(k): _Untrusted(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return dumper.represent_list([_Untrusted(v) for v in value])
    return dumper.represent_data(value)


_VarsDumper.add_representer(_Untrusted, _represent_untrusted)


def extravars_yaml(extravars: dict, safe_vars: dict) -> str:
    """The extra vars file of a run.  A top-level (key, value) pair equal to one in
    ``safe_vars`` is written as plain YAML (ansible renders its Jinja); everything else is
    ``!unsafe``, so Jinja from a launch, a survey, a schedule or a credential input reaches the
    playbook as literal text and cannot run lookups on the controller."""
    doc = {key: value if key in safe_vars and safe_vars[key] == value else _Untrusted(value)
           for key, value in extravars.items()}
    return yaml.dump(doc, Dumper=_VarsDumper, sort_keys=False, allow_unicode=True, default_flow_style=False)

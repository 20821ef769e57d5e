# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module adapter: a resource module is a :class:`Resource` declaration run by
:func:`run_resource`, which does lookup, present/absent, idempotence, check mode and diff.

Action modules (launch, wait, cancel ...) use :class:`ControllerModule` for the connection
options and error handling and call the client (``module.api``) themselves.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.turret.controller.plugins.module_utils.api import (
    ENCRYPTED, ENV_FALLBACKS, ControllerAPI, ControllerError)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False


def auth_argument_spec():
    """The connection options every module takes (documented in the ``auth`` doc fragment)."""
    def env(name):
        return (env_fallback, list(ENV_FALLBACKS[name]))
    return dict(
        controller_host=dict(type="str", fallback=env("controller_host")),
        controller_username=dict(type="str", fallback=env("controller_username")),
        controller_password=dict(type="str", no_log=True,
                                 fallback=env("controller_password")),
        controller_oauthtoken=dict(type="raw", no_log=True, fallback=env("controller_oauthtoken")),
        validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=env("validate_certs")),
        request_timeout=dict(type="float", fallback=env("request_timeout")),
    )


AUTH_OPTIONS = tuple(auth_argument_spec())


class ControllerModule(AnsibleModule):
    """An AnsibleModule with the connection options and a lazily built API client."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = auth_argument_spec()
        spec.update(argument_spec or {})
        super(ControllerModule, self).__init__(argument_spec=spec, **kwargs)
        self._api = None

    @property
    def api(self):
        if self._api is None:
            self._api = ControllerAPI(**dict((k, self.params.get(k)) for k in AUTH_OPTIONS))
        return self._api

    def fail(self, error, **result):
        self.fail_json(msg=str(error), status=getattr(error, "status", None),
                       response=getattr(error, "body", None), **result)


class Assoc:
    """A list option kept equal to an association sub-list (``credentials``, ``hosts`` ...);
    ``ordered``: the sub-list keeps an order (an organization's ``galaxy_credentials``), so the
    option's order counts too."""

    def __init__(self, endpoint, relation=None, identity="name", scope=(), ordered=False):
        self.endpoint = endpoint
        self.relation = relation
        self.identity = identity
        self.scope = scope
        self.ordered = ordered


def notification_associations(approvals=False):
    """The attach options of an object that notifies (doc fragment ``notifications``): each a list of
    notification templates kept equal to the sub-list of the same name."""
    events = ("started", "success", "error") + (("approvals",) if approvals else ())
    return dict(("notification_templates_" + e, Assoc("notification_templates")) for e in events)


class Resource:
    """A declaration of one API resource as a module.

    ``fields``: option -> argument spec, sent as the API field of the same name; a plain type name
    (``description='str'``) stands for the spec ``dict(type='str')``.
    ``fks``: option -> endpoint of the object named by the option (resolved to an id).
    ``scope``: FK options that, with the identity, identify the object (a host's inventory);
    ``optional_scope``: FK options that narrow the lookup when given (a project's organization).
    ``vars_fields``: YAML/JSON text fields compared as data.  ``secrets``: no_log options.
    ``associations``: list option -> :class:`Assoc`.
    ``subset_fields``: dict options compared on the keys given only, the others keeping their stored
    values (the server fills in defaults, as for a notification template's ``notification_configuration``).
    ``states``: the ``state`` choices (a label has no ``absent``: the controller offers no delete of it).
    """

    def __init__(self, endpoint, identity="name", fields=None, fks=None, scope=(), vars_fields=(),
                 secrets=(), associations=None, create_only=(), required_on_create=(), optional_scope=(),
                 subset_fields=(), states=("present", "absent")):
        self.endpoint = endpoint
        self.states = tuple(states)
        self.identity = identity
        self.fields = dict((name, dict(type=opt) if isinstance(opt, str) else opt)
                           for name, opt in (fields or {}).items())
        self.fks = fks or {}
        self.scope = tuple(scope)
        self.optional_scope = tuple(optional_scope)
        self.vars_fields = tuple(vars_fields)
        self.secrets = tuple(secrets)
        self.associations = associations or {}
        self.create_only = tuple(create_only)
        self.required_on_create = tuple(required_on_create)
        self.subset_fields = tuple(subset_fields)

    def argument_spec(self):
        spec = {self.identity: dict(type="str", required=True)}
        spec["new_" + self.identity] = dict(type="str")
        for name, opt in self.fields.items():
            opt = dict(opt)
            if name in self.secrets:
                opt["no_log"] = True
            spec[name] = opt
        for name in self.fks:
            spec.setdefault(name, dict(type="str"))
        for name in self.associations:
            spec[name] = dict(type="list", elements="str")
        spec["state"] = dict(type="str", default="present", choices=list(self.states))
        if self.secrets:
            spec["update_secrets"] = dict(type="bool", default=False, no_log=False)
        return spec


def parse_vars(value):
    """YAML or JSON text (or a dict) -> data, for comparing ``variables``-like fields."""
    if value is None or value == "":
        return {}
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if HAS_YAML:
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                pass
    return value


def same(existing, desired, update_secrets=False):
    """True when ``desired`` already holds: ``$encrypted$`` matches unless update_secrets."""
    if existing == ENCRYPTED and not update_secrets:
        return True
    if isinstance(desired, dict) and isinstance(existing, dict):
        return all(same(existing.get(k), v, update_secrets) for k, v in desired.items()) and \
            all(k in desired for k in existing if existing[k] not in (None, "", ENCRYPTED))
    if isinstance(desired, list) and isinstance(existing, list):
        return len(desired) == len(existing) and all(
            same(e, d, update_secrets) for e, d in zip(existing, desired))
    if isinstance(desired, (int, float)) and not isinstance(desired, bool) and \
            isinstance(existing, (int, float)):
        return float(existing) == float(desired)
    if desired == "" and existing is None:
        return True
    return existing == desired


SECRET_WORDS = ("password", "secret", "key", "token", "passphrase")


def _mask(data, secrets, existing=None):
    """``data`` for a diff: secret options hidden; in a secret dict (credential inputs) only the
    values that look secret or that the server shows as ``$encrypted$``."""
    out = {}
    for k, v in data.items():
        if k in secrets and isinstance(v, dict):
            old = (existing or {}).get(k) or {}
            old = old if isinstance(old, dict) else {}
            out[k] = dict((ik, ENCRYPTED if iv not in (None, "") and (
                old.get(ik) == ENCRYPTED or any(w in ik.lower() for w in SECRET_WORDS)) else iv)
                for ik, iv in v.items())
        elif k in secrets and v not in (None, ""):
            out[k] = ENCRYPTED
        else:
            out[k] = v
    return out


def run_resource(resource, extra_spec=None, after=None, **module_kwargs):
    """Run a resource module end to end (exits the process).

    ``after(module, result)`` runs once the object is present (waits, sub-resources).
    """
    spec = resource.argument_spec()
    spec.update(extra_spec or {})
    module = ControllerModule(argument_spec=spec, supports_check_mode=True, **module_kwargs)
    try:
        result = ensure(module, resource)
        if after is not None and module.params["state"] == "present":
            after(module, result)
        module.exit_json(**result)
    except ControllerError as e:
        module.fail(e)


def desired_fields(module, resource):
    """The API body the parameters ask for (only options the user set)."""
    p = module.params
    api = module.api
    data = {}
    for name in resource.fields:
        if p.get(name) is not None:
            value = p[name]
            if name in resource.vars_fields and not isinstance(value, str):
                value = json.dumps(value)
            data[name] = value
    for name, endpoint in resource.fks.items():
        value = p.get(name)
        if value is None:
            continue
        ident = "username" if endpoint == "users" else "name"
        data[name] = api.resolve_id(endpoint, value, ident) if value != "" else None
    return data


def differs(resource, existing, desired, update_secrets):
    changes = {}
    for key, value in desired.items():
        if key in resource.create_only:
            continue
        old = existing.get(key)
        if key in resource.vars_fields:
            if parse_vars(old) != parse_vars(value):
                changes[key] = value
        elif key in resource.subset_fields and isinstance(old, dict) and isinstance(value, dict):
            if not all(same(old.get(k), v, update_secrets) for k, v in value.items()):
                # the keys not given keep their stored values (a secret goes back as $encrypted$)
                changes[key] = dict(old, **value)
        elif not same(old, value, update_secrets):
            changes[key] = value
    return changes


def ensure(module, res):
    """present/absent with idempotence, check mode and diff; returns the exit_json result."""
    p = module.params
    api = module.api
    scope = {}
    for name in res.scope + res.optional_scope:
        if p.get(name) is None:
            if name in res.scope:
                module.fail_json(msg="%s is required to identify the %s" % (name, res.endpoint))
            continue
        scope[name] = api.resolve_id(res.fks[name], p[name])
    existing = api.lookup(res.endpoint, p[res.identity], res.identity, scope, required=False)
    check = module.check_mode
    module.created = existing is None and p["state"] == "present"
    result = {"changed": False, "id": existing["id"] if existing else None, "object": existing}

    if p["state"] == "absent":
        if existing:
            result["changed"] = True
            result["diff"] = {"before": _mask(_view(existing, res), res.secrets), "after": {}}
            if not check:
                api.remove(existing)
        return result

    desired = desired_fields(module, res)
    desired.update(scope)
    if existing is None:
        desired[res.identity] = p.get("new_" + res.identity) or p[res.identity]
        missing = [f for f in res.required_on_create if desired.get(f) in (None, "")]
        if missing:
            module.fail_json(msg="creating a new %s needs: %s" % (res.endpoint, ", ".join(missing)))
        result.update(changed=True, diff={"before": {}, "after": _mask(desired, res.secrets)})
        obj = desired if check else api.create(res.endpoint, desired)
        result.update(id=obj.get("id"), object=obj)
    else:
        if p.get("new_" + res.identity):
            desired[res.identity] = p["new_" + res.identity]
        changes = differs(res, existing, desired, p.get("update_secrets"))
        obj = existing
        if changes:
            before = dict((k, existing.get(k)) for k in changes)
            result.update(changed=True, diff={"before": _mask(before, res.secrets, existing),
                                              "after": _mask(changes, res.secrets, existing)})
            obj = dict(existing, **changes) if check else api.update(existing, changes)
        result["object"] = obj
    _sync_associations(module, res, result, scope)
    return result


def _view(obj, res):
    keys = [res.identity] + list(res.fields) + list(res.fks)
    return dict((k, obj.get(k)) for k in keys if k in obj)


def _sync_associations(module, res, result, scope):
    p = module.params
    api = module.api
    for option, assoc in res.associations.items():
        if p.get(option) is None:
            continue
        query = dict((k, scope[k]) for k in assoc.scope if k in scope)
        wanted = [api.resolve_id(assoc.endpoint, n, assoc.identity, query) for n in p[option]]
        obj = result["object"]
        if not obj.get("url"):  # created in check mode: everything would be added
            if wanted:
                result["changed"] = True
            continue
        added, removed = api.set_associations(obj, assoc.relation or option, wanted, module.check_mode,
                                              ordered=assoc.ordered)
        if added or removed:
            result["changed"] = True
            diff = result.setdefault("diff", {"before": {}, "after": {}})
            current = None if module.check_mode else api.associated_ids(obj, assoc.relation or option)
            if not getattr(module, "created", False):
                diff["before"][option] = sorted(set(wanted) - set(added) | set(removed))
            diff["after"][option] = sorted(current if current is not None else wanted)


def sync_survey(module, result):
    """Keep the object's ``survey_spec/`` equal to the ``survey_spec`` option (job and workflow
    job templates): an empty dict deletes the survey; ``None`` leaves it alone."""
    wanted, obj, api = module.params["survey_spec"], result["object"], module.api
    if wanted is None:
        return
    url = obj.get("url", "") + "survey_spec/"
    current = api.get(url) if obj.get("url") else {}
    if (current or {}) == wanted:
        return
    result["changed"] = True
    diff = result.setdefault("diff", {"before": {}, "after": {}})
    if not getattr(module, "created", False):
        diff["before"]["survey_spec"] = current or {}
    diff["after"]["survey_spec"] = wanted
    if not module.check_mode:
        if wanted:
            api.post(url, wanted)
        else:
            api.delete(url)

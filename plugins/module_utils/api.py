# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection: pure, no AnsibleModule import.

Modules (through module.py), the inventory plugin and the lookup plugin all talk to the
controller through :class:`ControllerAPI`.  Every failure is a :class:`ControllerError`
whose message carries the server's own error text.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import Request

ENCRYPTED = "$encrypted$"
TERMINAL = ("successful", "failed", "error", "canceled")

# option -> (environment variables, most specific first)
ENV_FALLBACKS = {
    "controller_host": ("TURRET_CONTROLLER_HOST", "CONTROLLER_HOST", "TOWER_HOST", "TURRET_HOST"),
    "controller_username": ("TURRET_USERNAME", "CONTROLLER_USERNAME", "TOWER_USERNAME"),
    "controller_password": ("TURRET_PASSWORD", "CONTROLLER_PASSWORD", "TOWER_PASSWORD"),
    "controller_oauthtoken": ("TURRET_TOKEN", "CONTROLLER_OAUTH_TOKEN", "TOWER_OAUTH_TOKEN"),
    "validate_certs": ("TURRET_VERIFY_SSL", "CONTROLLER_VERIFY_SSL", "TOWER_VERIFY_SSL"),
    "request_timeout": ("TURRET_REQUEST_TIMEOUT", "CONTROLLER_REQUEST_TIMEOUT"),
}
DEFAULTS = {"controller_host": "http://127.0.0.1:8013", "validate_certs": True, "request_timeout": 10.0}


class ControllerError(Exception):
    """An HTTP or connection failure; ``status`` is None when the server never answered."""

    def __init__(self, message, status=None, body=None):
        super(ControllerError, self).__init__(message)
        self.status = status
        self.body = body


def from_env(name):
    for var in ENV_FALLBACKS.get(name, ()):
        if os.environ.get(var):
            return os.environ[var]
    return None


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def connection_settings(options):
    """Resolve the connection options: explicit value, then environment, then default."""
    out = {}
    for name in ENV_FALLBACKS:
        value = options.get(name)
        if value is None:
            value = from_env(name)
        if value is None:
            value = DEFAULTS.get(name)
        out[name] = value
    out["validate_certs"] = _bool(out["validate_certs"])
    out["request_timeout"] = float(out["request_timeout"])
    token = out["controller_oauthtoken"]
    if isinstance(token, dict):
        out["controller_oauthtoken"] = token.get("token")
    return out


def server_message(body, fallback=""):
    """The human part of an AWX/DRF error body: ``detail``, ``__all__`` or field errors."""
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        if "error" in body and isinstance(body["error"], str):
            return body["error"]
        parts = []
        for key, value in body.items():
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            parts.append(str(value) if key == "__all__" else "%s: %s" % (key, value))
        if parts:
            return "; ".join(parts)
    if isinstance(body, list) and body:
        return " ".join(str(v) for v in body)
    return fallback or (body if isinstance(body, str) else json.dumps(body))


class ControllerAPI:
    """A small typed client for the AWX-compatible API v2 of a Turret controller."""

    def __init__(self, controller_host=None, controller_username=None, controller_password=None,
                 controller_oauthtoken=None, validate_certs=None, request_timeout=None, **_ignored):
        s = connection_settings(dict(
            controller_host=controller_host, controller_username=controller_username,
            controller_password=controller_password, controller_oauthtoken=controller_oauthtoken,
            validate_certs=validate_certs, request_timeout=request_timeout))
        host = str(s["controller_host"]).rstrip("/")
        if "://" not in host:
            host = "https://" + host
        self.host = host
        self.timeout = s["request_timeout"]
        self.validate_certs = s["validate_certs"]
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if s["controller_oauthtoken"]:
            self.headers["Authorization"] = "Bearer %s" % s["controller_oauthtoken"]
        elif s["controller_username"]:
            pair = "%s:%s" % (s["controller_username"], s["controller_password"] or "")
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    # -- plumbing -------------------------------------------------------------------------
    def url(self, path, query=None):
        """``organizations`` -> /api/v2/organizations/; root-relative paths are kept."""
        if path.startswith(("http://", "https://")):
            full = path
        else:
            if not path.startswith("/api/"):
                path = "/api/v2/%s" % path.strip("/")
                if "?" not in path and not path.endswith("/"):
                    path += "/"
            full = self.host + path
        if query:
            full += ("&" if "?" in full else "?") + urlencode(sorted(query.items()), doseq=True)
        return full

    def request(self, method, path, data=None, query=None):
        """Send one request; return the decoded JSON body (None when empty)."""
        url = self.url(path, query)
        body = None if data is None else json.dumps(data)
        req = Request(headers=self.headers, validate_certs=self.validate_certs, timeout=self.timeout,
                      follow_redirects="all")
        try:
            resp = req.open(method, url, data=body)
            raw = resp.read()
        except HTTPError as e:
            raw = e.read() if hasattr(e, "read") else b""
            parsed = _decode(raw)
            msg = server_message(parsed, e.reason if hasattr(e, "reason") else str(e))
            raise ControllerError("%s %s returned %s: %s" % (method, _path(url), e.code, msg), e.code, parsed)
        except Exception as e:  # URLError, socket errors, SSL errors
            raise ControllerError("%s %s failed: %s" % (method, _path(url), e))
        return _decode(raw)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, data=None):
        return self.request("POST", path, data={} if data is None else data)

    def patch(self, path, data):
        return self.request("PATCH", path, data=data)

    def delete(self, path):
        return self.request("DELETE", path)

    # -- collections ----------------------------------------------------------------------
    def list(self, endpoint, query=None, limit=None):
        """Every object of a list, following ``next`` (at most ``limit`` of them)."""
        q = dict(query or {})
        q.setdefault("page_size", 200)
        page = self.get(endpoint, q)
        results = list(page.get("results", []))
        while page.get("next") and (limit is None or len(results) < limit):
            page = self.get(page["next"])
            results.extend(page.get("results", []))
        return results if limit is None else results[:limit]

    def lookup(self, endpoint, name, identity="name", scope=None, required=True):
        """Find one object by id, by name (``identity``) within ``scope``, or by named URL."""
        if isinstance(name, dict):
            return name
        text = "" if name is None else str(name)
        if "++" in text:
            try:
                return self.get("%s/%s" % (endpoint, quote(text, safe="+")))
            except ControllerError as e:
                if e.status != 404:
                    raise
        query = dict(scope or {})
        if text.isdigit():
            query.update({"or__id": text, "or__%s" % identity: text})
        else:
            query[identity] = text
        found = self.get(endpoint, query).get("results", [])
        if text.isdigit() and len(found) > 1:
            found = [o for o in found if str(o.get("id")) == text] or found
        if len(found) > 1:
            raise ControllerError("%d %s are named %r; use an id or a name++organization named URL"
                                  % (len(found), endpoint, text))
        if not found:
            if required:
                raise ControllerError("no %s found with %s %r%s" % (
                    endpoint, identity, text, (" in %s" % scope) if scope else ""), 404)
            return None
        return found[0]

    def resolve_id(self, endpoint, name, identity="name", scope=None):
        if name is None or name == "":
            return None
        if isinstance(name, int):
            return name
        return self.lookup(endpoint, name, identity, scope)["id"]

    # -- writes ---------------------------------------------------------------------------
    def create(self, endpoint, data):
        return self.post(endpoint, data)

    def update(self, obj_or_url, data):
        return self.patch(_url_of(obj_or_url), data)

    def remove(self, obj_or_url):
        return self.delete(_url_of(obj_or_url))

    def associated_ids(self, obj_or_url, relation):
        return [o["id"] for o in self.list(_url_of(obj_or_url) + relation + "/")]

    def associate(self, obj_or_url, relation, child_id, disassociate=False):
        data = {"id": child_id}
        if disassociate:
            data["disassociate"] = True
        return self.post(_url_of(obj_or_url) + relation + "/", data)

    def set_associations(self, obj_or_url, relation, wanted_ids, check_mode=False, ordered=False):
        """Make the sub-list hold exactly ``wanted_ids`` (``ordered``: in that order, by detaching
        everything and attaching again in order, as an ordered list only appends); return
        (added, removed)."""
        current = self.associated_ids(obj_or_url, relation)
        added = [i for i in wanted_ids if i not in current]
        removed = [i for i in current if i not in wanted_ids]
        if ordered and list(current) != list(wanted_ids):
            added, removed = list(wanted_ids), list(current)
            if not check_mode:
                for child in removed:
                    self.associate(obj_or_url, relation, child, disassociate=True)
                for child in added:
                    self.associate(obj_or_url, relation, child)
            return added, removed
        if not check_mode:
            for child in added:
                self.associate(obj_or_url, relation, child)
            for child in removed:
                self.associate(obj_or_url, relation, child, disassociate=True)
        return added, removed

    # -- jobs -----------------------------------------------------------------------------
    def wait(self, url, timeout=None, interval=1.0):
        """Poll a job-like object until it is terminal (and its events are stored)."""
        deadline = None if not timeout else time.time() + timeout
        while True:
            job = self.get(url)
            done = job.get("status") in TERMINAL
            if done and job.get("event_processing_finished", True) is not False:
                return job
            if deadline is not None and time.time() > deadline:
                raise ControllerError("timed out after %ss waiting for %s (status %s)"
                                      % (timeout, _path(url), job.get("status")), body=job)
            time.sleep(interval)


def _url_of(obj_or_url):
    return obj_or_url["url"] if isinstance(obj_or_url, dict) else obj_or_url


def _path(url):
    parts = url.split("://", 1)
    return "/" + parts[1].split("/", 1)[1] if len(parts) == 2 and "/" in parts[1] else url


def _decode(raw):
    if not raw:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        return json.loads(raw)
    except ValueError:
        return raw

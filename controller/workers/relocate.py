"""Part of a worker's ``localize``: the controller's interpreter in a run's inventory, and the
controller's bundled collection path in its ``ANSIBLE_COLLECTIONS_PATH``, become this worker's.

Contract: the controller gives a local-connection host that names no interpreter its own
``sys.executable`` (pyenv shims break discovery); on a worker installed elsewhere that file
does not exist.  The transmit header's ``python`` entry (``executor.controller_python``) names
the inventory file and the hosts whose value is Turret's; :func:`relocate_python` rewrites
exactly those values, inside the stream's archive, to this worker's interpreter.  A value a
user set is never touched, nor is any other file of the archive.

Likewise a job's ``ANSIBLE_COLLECTIONS_PATH`` ends with the controller's own
``collections_path()`` (the ``turret.controller`` collection inside its installed package),
which a worker installed elsewhere does not have: the header's ``collections`` entry names it
and :func:`relocate_collections` replaces exactly that last entry with the worker's own path of
the same bundled collection (a worker runs the controller's Turret version).
"""
from __future__ import annotations

import base64
import io
import json
import os
import zipfile


def _rewrite_inventory(text: bytes, info: dict, python: str) -> bytes:
    inventory = json.loads(text)
    hosts = ((inventory.get("all") or {}).get("hosts") or {}) if isinstance(inventory, dict) else {}
    for name in info.get("hosts") or []:
        hv = hosts.get(name)
        if isinstance(hv, dict) and hv.get("ansible_python_interpreter") == info["value"]:
            hv["ansible_python_interpreter"] = python
    return json.dumps(inventory).encode()


def relocate_python(archive: bytes, info: dict, python: str) -> bytes:
    """``archive`` (the transmit stream after runner's kwargs line: the ``zipfile`` frame, its
    base64 data, the rest) with the hosts of ``info`` run by ``python``; unchanged when
    ``info`` is empty, names no inventory, or the stream carries no archive."""
    if not info or not info.get("inventory") or not info.get("hosts") or info.get("value") == python:
        return archive
    first, _, rest = archive.partition(b"\n")
    try:
        size = int(json.loads(first)["zipfile"])
    except (ValueError, KeyError, TypeError):
        return archive
    encoded = -(-size // 3) * 4
    data, tail = base64.b64decode(rest[:encoded]), rest[encoded:]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == info["inventory"]:
                content = _rewrite_inventory(content, info, python)
            dst.writestr(item, content)     # the same ZipInfo: modes and symlinks survive
    rebuilt = out.getvalue()
    return json.dumps({"zipfile": len(rebuilt)}).encode() + b"\n" + base64.b64encode(rebuilt) + tail


def relocate_collections(kwargs_line: bytes, controller_path: str, worker_path: str) -> bytes:
    """Runner's kwargs line (``{"kwargs": {...}}``) with the last entry of its
    ``envvars["ANSIBLE_COLLECTIONS_PATH"]`` replaced by ``worker_path`` when that entry is
    ``controller_path`` (where Turret puts its bundled collection path); any other entry, and
    a value without it (one a user set in full), is left as it is.  Unchanged when
    ``controller_path`` is empty or equals ``worker_path``."""
    if not controller_path or controller_path == worker_path:
        return kwargs_line
    line = json.loads(kwargs_line)
    envvars = (line.get("kwargs") or {}).get("envvars") or {}
    value = envvars.get("ANSIBLE_COLLECTIONS_PATH")
    if not isinstance(value, str):
        return kwargs_line
    entries = value.split(os.pathsep)
    if entries[-1] != controller_path:
        return kwargs_line
    envvars["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([*entries[:-1], worker_path])
    return json.dumps(line).encode()

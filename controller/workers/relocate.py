"""Part of a worker's ``localize``: the controller's bundled collection path in a run's
``ANSIBLE_COLLECTIONS_PATH`` becomes this worker's.

Contract: a job's ``ANSIBLE_COLLECTIONS_PATH`` ends with the controller's own
``collections_path()`` (the ``turret.controller`` collection inside its installed package),
which a worker installed elsewhere does not have: the header's ``collections`` entry names it
and :func:`relocate_collections` replaces exactly that last entry with the worker's own path of
the same bundled collection (a worker runs the controller's Turret version).
"""
from __future__ import annotations

import json
import os


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

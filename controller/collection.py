"""Where the turret.controller collection is: the repository root in a checkout, or the copy
shipped inside the installed package (``ansible_collections/turret/controller``)."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def collection_root() -> Path:
    checkout = _PKG.parent
    if (checkout / "galaxy.yml").is_file() and (checkout / "playbooks").is_dir():
        return checkout
    for entry in sys.path:
        candidate = Path(entry) / "ansible_collections" / "turret" / "controller"
        if (candidate / "playbooks").is_dir():
            return candidate
    raise RuntimeError("the turret.controller collection was not found next to the controller package")


def collections_path() -> str:
    """A value for ANSIBLE_COLLECTIONS_PATH under which turret.controller resolves."""
    root = collection_root()
    if root.parent.name == "turret" and root.parent.parent.name == "ansible_collections":
        return str(root.parent.parent.parent)
    return str(root)   # a checkout: <root>/ansible_collections/turret/controller -> <root>


def playbooks_dir() -> Path:
    return collection_root() / "playbooks"
